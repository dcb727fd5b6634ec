/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libshmchan: the thin layer over /dev/shmchan.
 *
 * One function per ioctl of <linux/shmchan.h>, plus mmap helpers, around
 * an opaque handle. The argument structs, flags and constants are those of
 * the uapi header, which this header includes rather than repeats.
 *
 * Conventions
 *   - Every function that can fail returns 0 (or a non-negative value where
 *     it says so) on success and a negative errno value on failure. None
 *     of them sets errno as its result, and none of them prints.
 *   - On failure, output arguments are left as they were.
 *   - A NULL pointer where a pointer is required is -EINVAL; everything
 *     else (flags, names, lengths, offsets, modes) is checked by the module.
 *   - The device is opened with O_CLOEXEC. If it does not exist (module not
 *     loaded), the functions that open it return -ENOENT; call
 *     shmchan_features() to tell that apart from a missing channel.
 *   - EINTR is retried inside the library for every call that does not
 *     block, and returned for shmchan_wait(), which does (see there).
 *
 * Threads and processes
 *   A handle does not change after shmchan_create()/shmchan_open() return,
 *   so any number of threads may use one handle at once. Only
 *   shmchan_close() must not race with another call on the same handle.
 *   After fork() the child has its own copy of the handle (and of its file
 *   descriptor); each process closes its own.
 */
#ifndef LIBSHMCHAN_SHMCHAN_H
#define LIBSHMCHAN_SHMCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <linux/shmchan.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct shmchan - a handle: an open file of the device bound to a channel */
struct shmchan;

/* Declared here too: strict C99 <time.h> does not define it. */
struct timespec;

/*
 * shmchan_features - ask the loaded module what it supports
 * @out: filled on success
 *
 * Opens the device itself; needs no handle. Returns 0, or -ENOENT when the
 * device does not exist (module not loaded).
 *
 * An inline over shmchan_features_sized(), so that the struct's size is
 * the one this program was compiled with: a program built against an
 * older or newer <linux/shmchan.h> than the library gets its own layout
 * filled, by the module's rules for extensible structs.
 */
int shmchan_features_sized(struct shmchan_features *out, size_t size);

static inline int shmchan_features(struct shmchan_features *out)
{
	return shmchan_features_sized(out, sizeof(*out));
}

/*
 * shmchan_create - make a channel, or open an existing one, read-write
 * @name: channel name
 * @length: wanted length in bytes; the module rounds it up to whole pages
 * @mode: permission bits (0 to 0777) for a new channel; no umask is applied
 * @flags: SHMCHAN_CREATE_* flags
 * @out: receives the new handle
 *
 * Without SHMCHAN_CREATE_EXCL an existing channel is opened;
 * shmchan_was_created() tells which happened.
 */
int shmchan_create(const char *name, uint64_t length, mode_t mode,
		   unsigned int flags, struct shmchan **out);

/*
 * shmchan_create_max - shmchan_create() with a reserve to grow into
 * @max_length: the most the channel may be grown to with shmchan_resize(),
 *	and may be mapped (rounded up to pages); 0 is @length
 *
 * Needs SHMCHAN_FEATURE_RESIZE; an older module gives -E2BIG for a
 * @max_length other than 0.
 */
int shmchan_create_max(const char *name, uint64_t length, uint64_t max_length,
		       mode_t mode, unsigned int flags, struct shmchan **out);

/*
 * shmchan_open - open an existing channel
 * @name: channel name
 * @flags: SHMCHAN_OPEN_* flags (SHMCHAN_OPEN_RDONLY for a read-only handle)
 * @out: receives the new handle
 */
int shmchan_open(const char *name, unsigned int flags, struct shmchan **out);

/*
 * shmchan_close - close a handle and free it
 *
 * Mappings made through it stay valid. NULL is allowed and does nothing.
 */
void shmchan_close(struct shmchan *ch);

/*
 * shmchan_destroy - remove a channel's name
 * @name: channel name
 * @flags: SHMCHAN_DESTROY_* flags
 *
 * Opens the device itself; needs no handle. Existing handles and mappings
 * keep working (unless SHMCHAN_DESTROY_REVOKE ends their wait/wake).
 */
int shmchan_destroy(const char *name, unsigned int flags);

/*
 * shmchan_stat - read the bound channel's attributes
 * @out: filled on success
 *
 * An inline over shmchan_stat_sized(), for the reason given at
 * shmchan_features().
 */
int shmchan_stat_sized(struct shmchan *ch, struct shmchan_stat *out,
		       size_t size);

static inline int shmchan_stat(struct shmchan *ch, struct shmchan_stat *out)
{
	return shmchan_stat_sized(ch, out, sizeof(*out));
}

/*
 * shmchan_wait - sleep while the 32-bit word at @offset equals @expected
 * @offset: byte offset of the word in the channel, a multiple of 4
 * @expected: value the word must hold for the caller to sleep
 * @abs_deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL to
 *	wait without a deadline
 *
 * Returns 0 when woken by shmchan_wake(), -EAGAIN if the word did not hold
 * @expected, -ETIMEDOUT at the deadline, -EIDRM once the channel is
 * revoked, and -EINTR when a signal handler installed without SA_RESTART
 * ran: the library does not retry, so that such a handler can interrupt
 * the wait. Deaths of peers do not disturb it: only shmchan_wait_deaths()
 * hears of them. The caller rechecks the word in every case.
 */
int shmchan_wait(struct shmchan *ch, uint64_t offset, uint32_t expected,
		 const struct timespec *abs_deadline);

/*
 * shmchan_wait_deaths - shmchan_wait(), unless a death was missed
 * @deaths: the channel's death count (shmchan_stat().deaths) the caller
 *	last saw
 *
 * Fails with -EOWNERDEAD at once if the channel's death count is no longer
 * @deaths, so that an exit between reading the count and sleeping is not
 * missed, and ends with -EOWNERDEAD when the death of a participant of the
 * channel (a process that used it: see "Death notices" in
 * <linux/shmchan.h>) is counted during the wait. Needs
 * SHMCHAN_FEATURE_DEATH_NOTICE: an older module refuses the request
 * (-EINVAL or -E2BIG).
 */
int shmchan_wait_deaths(struct shmchan *ch, uint64_t offset,
			uint32_t expected, uint32_t deaths,
			const struct timespec *abs_deadline);

/*
 * struct shmchan_waitv_word - one word shmchan_waitv() waits on
 * @ch: a handle bound to the word's channel
 * @offset: byte offset of the word in that channel, a multiple of 4
 * @expected: value the word must hold for the caller to sleep
 * @flags: 0, or SHMCHAN_WAITV_DEATHS to hear of the channel's deaths as
 *	shmchan_wait_deaths() does
 * @deaths: with SHMCHAN_WAITV_DEATHS, the death count last seen; else 0
 */
struct shmchan_waitv_word {
	struct shmchan *ch;
	uint64_t offset;
	uint32_t expected;
	uint32_t flags;
	uint32_t deaths;
};

/*
 * shmchan_waitv - sleep until any of @count words is woken (since 1.2)
 * @words: the words, of one channel or several; 1 to SHMCHAN_WAITV_MAX
 * @abs_deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL
 * @woken: if not NULL, bit i % 64 of @woken[i / 64] is set on success for
 *	each word i a wake reached
 *
 * Returns the index of the woken word (the lowest, if several were woken),
 * or the errors of shmchan_wait() for any word, -EINVAL for a bad array
 * and -ENOTTY from a module without SHMCHAN_FEATURE_WAITV. As with
 * shmchan_wait(), -EINTR is not retried.
 */
int shmchan_waitv(const struct shmchan_waitv_word *words, unsigned int count,
		  const struct timespec *abs_deadline, uint64_t woken[2]);

/*
 * shmchan_wake - wake tasks waiting on the 32-bit word at @offset
 * @count: most tasks to wake, oldest first; SHMCHAN_WAKE_ALL for all
 *
 * Returns the number of tasks woken.
 */
int shmchan_wake(struct shmchan *ch, uint64_t offset, uint32_t count);

/*
 * Watches (SHMCHAN_FEATURE_WATCH): a WAIT that does not block, for event
 * loops. A watch on a word of the channel, armed with the value the caller
 * read, makes shmchan_fd(@ch) poll readable (POLLIN) once a shmchan_wake()
 * reached it, or at once if the word no longer held that value when it was
 * armed; with SHMCHAN_WATCH_DEATHS also when a participant of the channel
 * dies. An armed watch counts as one waiter of its word for the count of
 * shmchan_wake(). See shmchan_watch_add(3) and <linux/shmchan.h>.
 *
 * shmchan_watch_add - watch the word at @offset while it holds @expected
 * @flags: 0 or SHMCHAN_WATCH_DEATHS (then @deaths is the death count the
 *	caller last saw; else it must be 0)
 * @data: handed back by shmchan_watch_read() with the watch's events
 * @id: receives the watch's id
 *
 * Returns 0 when armed, or the SHMCHAN_WATCH_EV_CHANGED / _DIED bits the
 * watch fired with at once (it is then pending: the descriptor polls
 * readable).
 */
int shmchan_watch_add(struct shmchan *ch, uint64_t offset, uint32_t expected,
		      unsigned int flags, uint32_t deaths, uint64_t data,
		      uint32_t *id);

/* shmchan_watch_arm - re-arm watch @id with a new value; its pending
 * events are dropped. Returns as shmchan_watch_add(). */
int shmchan_watch_arm(struct shmchan *ch, uint32_t id, uint32_t expected,
		      unsigned int flags, uint32_t deaths);

/* shmchan_watch_del - remove watch @id with its pending events */
int shmchan_watch_del(struct shmchan *ch, uint32_t id);

/*
 * shmchan_watch_read - which watches fired; never blocks
 * @flags: 0, or SHMCHAN_WATCH_READ_LIST to list every watch and change
 *	nothing
 * @events: room for @count entries
 *
 * Returns how many entries it wrote (0: none fired). Each watch reported
 * is re-armed with the value of its last arm. An inline over
 * shmchan_watch_read_sized(), for the reason given at shmchan_features().
 */
int shmchan_watch_read_sized(struct shmchan *ch, unsigned int flags,
			     struct shmchan_watch_event *events,
			     unsigned int count, size_t event_size);

static inline int shmchan_watch_read(struct shmchan *ch, unsigned int flags,
				     struct shmchan_watch_event *events,
				     unsigned int count)
{
	return shmchan_watch_read_sized(ch, flags, events, count,
					sizeof(*events));
}

/*
 * shmchan_setattr - change the bound channel's mode and owner, like IPC_SET
 * @flags: SHMCHAN_SETATTR_MODE, _UID, _GID: which of the others to apply
 * @mode: permission bits (0 to 0777)
 * @uid: new owner, @gid: new group, in the caller's user namespace
 *
 * Allowed to the owner, the creator, or CAP_SYS_ADMIN. Existing handles
 * and mappings keep their access; later opens are checked anew.
 */
int shmchan_setattr(struct shmchan *ch, unsigned int flags, mode_t mode,
		    uid_t uid, gid_t gid);

/*
 * shmchan_map - map the whole channel, MAP_SHARED
 * @prot: PROT_READ, optionally | PROT_WRITE (read-write handle only)
 * @addr: receives the address; unmap with shmchan_unmap(addr,
 *	shmchan_length(ch))
 */
int shmchan_map(struct shmchan *ch, int prot, void **addr);

/*
 * shmchan_map_range - map part of the channel, MAP_SHARED
 * @offset: byte offset in the channel, a multiple of the page size
 * @length: bytes to map
 */
int shmchan_map_range(struct shmchan *ch, uint64_t offset, size_t length,
		      int prot, void **addr);

/*
 * shmchan_resize - grow (or shrink) the channel within its reserve
 * @length: the new length, rounded up to pages
 * @flags: SHMCHAN_RESIZE_* (SHMCHAN_RESIZE_GROW: never shrink)
 * @new_length: receives the length after the call, or NULL
 *
 * On a read-write handle. Mappings of the reserve see the new pages with
 * no remap; see "Growing" in <linux/shmchan.h>.
 */
int shmchan_resize(struct shmchan *ch, uint64_t length, unsigned int flags,
		   uint64_t *new_length);

/*
 * shmchan_resize_wait - sleep until the channel's generation is no longer
 * @generation (shmchan_stat().generation, the status page, or an earlier
 * call), or until @abs_deadline (CLOCK_MONOTONIC; NULL: none)
 * @new_generation, @new_length: receive the generation and length, or NULL
 *
 * Returns at once if the generation differs already; -EINTR on a signal,
 * as shmchan_wait().
 */
int shmchan_resize_wait(struct shmchan *ch, uint32_t generation,
			const struct timespec *abs_deadline,
			uint32_t *new_generation, uint64_t *new_length);

/*
 * shmchan_unmap - undo shmchan_map() or shmchan_map_range()
 *
 * Needs no handle: a mapping outlives the handle it was made through.
 */
int shmchan_unmap(void *addr, size_t length);

/*
 * Accessors. They make no system call and cannot fail but for a NULL
 * handle, which gives -EINVAL (0 for shmchan_length(), NULL for
 * shmchan_name()).
 */

/* shmchan_fd - the handle's file descriptor; the handle owns it */
int shmchan_fd(const struct shmchan *ch);

/*
 * shmchan_length - the channel's length in bytes, as this handle last
 * learned it: at create/open, or from shmchan_resize() or
 * shmchan_resize_wait() on it (shmchan_stat() asks the module)
 */
uint64_t shmchan_length(const struct shmchan *ch);

/* shmchan_was_created - 1 if shmchan_create() made the channel, else 0 */
int shmchan_was_created(const struct shmchan *ch);

/* shmchan_is_writable - 1 if the handle is bound read-write, else 0 */
int shmchan_is_writable(const struct shmchan *ch);

/* shmchan_name - the name the handle was bound by, valid until close */
const char *shmchan_name(const struct shmchan *ch);

/* ======================================================================
 * Above the thin layer: message queue, sync helpers, segment managers.
 *
 * Everything below keeps the conventions above (negative errno values,
 * no printing, opaque handles) and adds these:
 *
 *   Timeouts   are relative, in nanoseconds, as int64_t: 0 means "do not
 *              block" (-EAGAIN when the call would have to),
 *              SHMCHAN_FOREVER (any negative value) means no limit, and a
 *              positive value gives up with -ETIMEDOUT. Internally the
 *              timeout becomes an absolute CLOCK_MONOTONIC deadline taken
 *              when the call starts, so a call that sleeps several times
 *              never waits longer in total. SHMCHAN_MSEC() converts.
 *   Peers      Processes are told apart by pid and start time (field 22 of
 *              /proc/PID/stat), so a reused pid is not mistaken for the
 *              process that died. Death detection needs /proc and the
 *              module's SHMCHAN_FEATURE_DEATH_NOTICE; all processes using
 *              one structure must share a pid namespace.
 *   Threads    A struct shmchan_queue is used by one thread at a time
 *              (open one per thread: each is a peer of its own). A struct
 *              shmchan_sync, shmchan_heap or shmchan_pool may be shared by
 *              the threads of a process.
 *   fork()     A child of fork() may use the handles it inherits
 *              (the thin handle is simply shared). A queue handle becomes
 *              a peer of its own at its first call in the child, in a new
 *              place with the same roles; the parent's reservation and
 *              peeked message stay the parent's, and closing it in a
 *              child that never used it leaves the parent's place alone.
 *              A pool handle owns blocks as the child from its first
 *              call there; blocks the parent owned stay the parent's. A
 *              shmchan_sync (and a heap, built on one) works in the child
 *              as in the parent; mutexes the parent holds stay its. A
 *              child that used a queue or owns pool blocks and dies is
 *              treated like any dead peer. Only fork() is noticed (its
 *              pthread_atfork() handlers), not a raw clone().
 *   Revoke     After shmchan_destroy() with SHMCHAN_DESTROY_REVOKE, every
 *              call that waits, sends or receives fails with -EIDRM.
 *
 * The layouts these objects keep in channel memory are versioned; an
 * opener that finds a layout it does not know gets -EPROTO. shmchan(7)
 * describes the queue protocol.
 * ====================================================================== */

/* SHMCHAN_FOREVER - a timeout that never expires */
#define SHMCHAN_FOREVER		((int64_t)-1)
/* SHMCHAN_MSEC - milliseconds as a timeout in nanoseconds */
#define SHMCHAN_MSEC(ms)	((int64_t)(ms) * 1000000)

/* ------------------------------------------------------- message queue */

/** struct shmchan_queue - one peer's handle on a queue channel */
struct shmchan_queue;

/* Roles, for shmchan_queue_create() and shmchan_queue_open(): at least one. */
#define SHMCHAN_QUEUE_SEND	(1U << 0)
#define SHMCHAN_QUEUE_RECV	(1U << 1)
/* Creation, for shmchan_queue_create() only; as SHMCHAN_CREATE_*. */
#define SHMCHAN_QUEUE_EXCL	(1U << 8)
#define SHMCHAN_QUEUE_TRANSIENT	(1U << 9)
#define SHMCHAN_QUEUE_POPULATE	(1U << 10)

/* SHMCHAN_QUEUE_LAYOUT - version of the queue layout this library writes */
#define SHMCHAN_QUEUE_LAYOUT	2

/*
 * struct shmchan_queue_info - a queue's capacities and peers
 * @capacity: bytes in the ring (records, headers included)
 * @max_msg: largest message carried in one record: reserve/peek (zero
 *	copy) work up to this size; send/recv carry larger ones in rounds
 * @round_size: payload bytes per round of a larger message
 * @max_peers: how many handles may have the queue open at once
 * @senders: handles open with SHMCHAN_QUEUE_SEND now
 * @receivers: handles open with SHMCHAN_QUEUE_RECV now
 * @used: bytes of the ring in use now (a snapshot)
 * @layout: layout version found in the channel
 */
struct shmchan_queue_info {
	uint64_t capacity;
	uint64_t max_msg;
	uint64_t round_size;
	uint32_t max_peers;
	uint32_t senders;
	uint32_t receivers;
	uint32_t layout;
	uint64_t used;
	uint64_t __reserved[4];
};

/*
 * shmchan_queue_create - make a queue channel, or open an existing one
 * @name: channel name
 * @length: channel length in bytes: at least 8192 as given, whatever the
 *	page size (-EINVAL), then rounded up to pages; the first 4096 bytes
 *	hold the queue's header, the rest is the ring
 * @mode: permission bits for a new channel
 * @flags: SHMCHAN_QUEUE_SEND and/or _RECV, optionally _EXCL, _TRANSIENT,
 *	_POPULATE
 * @out: receives the handle
 *
 * The process that makes the channel lays out the queue in it; others
 * that open it meanwhile wait for that to finish. -EPROTO: the channel
 * exists but does not hold a queue of SHMCHAN_QUEUE_LAYOUT (another
 * version, or not a queue); -EUSERS: all max_peers places are taken.
 */
int shmchan_queue_create(const char *name, uint64_t length, mode_t mode,
			 unsigned int flags, struct shmchan_queue **out);

/*
 * shmchan_queue_open - open an existing queue channel
 * @flags: SHMCHAN_QUEUE_SEND and/or SHMCHAN_QUEUE_RECV
 *
 * Errors as shmchan_queue_create(), plus -ENOENT for no such channel.
 */
int shmchan_queue_open(const char *name, unsigned int flags,
		       struct shmchan_queue **out);

/*
 * shmchan_queue_close - leave the queue and free the handle
 *
 * An open reservation is cancelled and a peeked message released. When the
 * last sender (receiver) leaves, blocked receivers (senders) get -EPIPE.
 * NULL is allowed. In a forked child that has not used the handle, only
 * the child's copy is freed: the parent stays a peer.
 */
void shmchan_queue_close(struct shmchan_queue *q);

/*
 * shmchan_queue_send - send one message
 * @msg: @len bytes; @len may be 0 and may exceed the ring (then the
 *	message goes in rounds; see shmchan(7))
 * @timeout_ns: see above; it bounds the whole message
 *
 * Returns 0 once the whole message is in the queue. Errors: -EAGAIN
 * (timeout 0 and no room, or another sender's message in rounds holds
 * the queue), -ETIMEDOUT, -EINTR (a signal handler without SA_RESTART;
 * nothing of the message was delivered), -EPIPE (every receiver has left
 * or died), -EIDRM (the channel was destroyed with
 * SHMCHAN_DESTROY_REVOKE; room or not), -EBADF (not opened with
 * SHMCHAN_QUEUE_SEND), -EBUSY (a reservation is open on this handle),
 * -EPROTO (the ring is corrupt). A message in rounds that fails half-way
 * is discarded by the receiver, never delivered in part.
 *
 * What counts as a death: a peer killed (SIGKILL included) is known dead
 * once the module counted its exit, which is before its parent's
 * waitpid() returns; so after that the next send (reserve, pool send)
 * gets -EPIPE if it was the last receiver, and no message is accepted.
 * With a module that has SHMCHAN_FEATURE_STATUS_PAGE this costs no system
 * call while peers live (one load); without it, a death is seen when a
 * call has to wait.
 */
int shmchan_queue_send(struct shmchan_queue *q, const void *msg, size_t len,
		       int64_t timeout_ns);

/*
 * shmchan_queue_recv - receive one message
 * @buf: receives the message, @cap bytes of room
 * @timeout_ns: bounds the wait for a message to begin; a message in rounds
 *	that has begun is then received to its end (or to its sender's end)
 *
 * Returns the message's length. -EMSGSIZE: the next message is longer
 * than @cap; it stays in the queue, and shmchan_queue_peek_len() tells its
 * length. -EPIPE: the queue is empty and every sender has left or died
 * (with timeout 0 too: what was sent is received first, then -EPIPE, not
 * -EAGAIN). Other errors as shmchan_queue_send() (-EBADF without _RECV,
 * -EBUSY with a peeked message open, -EIDRM after a revoke, messages left
 * or not).
 */
ssize_t shmchan_queue_recv(struct shmchan_queue *q, void *buf, size_t cap,
			   int64_t timeout_ns);

/*
 * shmchan_queue_peek_len - length of the next message, left in the queue
 *
 * Waits as shmchan_queue_recv() does. Another receiver may take the
 * message before this one calls shmchan_queue_recv().
 */
int64_t shmchan_queue_peek_len(struct shmchan_queue *q, int64_t timeout_ns);

/*
 * shmchan_queue_reserve - zero copy: room for a message, in the ring
 * @len: at most shmchan_queue_info().max_msg (else -EMSGSIZE)
 * @ptr: receives where to write it, in this process's mapping
 *
 * Write the message at *@ptr, then shmchan_queue_commit() (or _cancel()).
 * Receivers wait at this message until then; other senders may reserve
 * after it. One reservation per handle at a time (-EBUSY). Other errors
 * as shmchan_queue_send() (-EPIPE, -EIDRM, ...).
 */
int shmchan_queue_reserve(struct shmchan_queue *q, size_t len, void **ptr,
			  int64_t timeout_ns);

/*
 * shmchan_queue_commit - send the reserved message
 * @len: its final length, at most the length reserved (-EINVAL)
 *
 * -EPIPE: every receiver left or died since the reservation; -EIDRM: the
 * channel was revoked. Either way the message is dropped and the
 * reservation ends.
 */
int shmchan_queue_commit(struct shmchan_queue *q, size_t len);

/* shmchan_queue_cancel - drop the reservation; no message is sent */
int shmchan_queue_cancel(struct shmchan_queue *q);

/*
 * shmchan_queue_peek - zero copy: the next message, in the ring
 * @ptr: receives its address in this process's mapping
 *
 * Returns its length; the message is this receiver's (no other receives
 * it) and stays in place until shmchan_queue_release(). -EMSGSIZE: the
 * message was sent in rounds and is not in one piece: use
 * shmchan_queue_recv(). Other errors as shmchan_queue_recv().
 */
ssize_t shmchan_queue_peek(struct shmchan_queue *q, const void **ptr,
			   int64_t timeout_ns);

/* shmchan_queue_release - done with the peeked message: free its room */
int shmchan_queue_release(struct shmchan_queue *q);

/*
 * shmchan_queue_set_spin - adaptive spinning before sleeping
 * @spin_ns: longest spin, in nanoseconds, before a call sleeps in the
 *	module; 0 (the default) never spins. At most 10 ms (-EINVAL).
 *
 * While spinning, the handle polls the ring without system calls, and a
 * peer that finds it spinning needs none to wake it. The handle adapts:
 * spins that end in sleep anyway shorten the next ones, down to a tenth.
 */
int shmchan_queue_set_spin(struct shmchan_queue *q, uint32_t spin_ns);

/*
 * shmchan_queue_wait_peer - wait until the queue has a peer to talk to
 * @roles: SHMCHAN_QUEUE_RECV (wait for a receiver), SHMCHAN_QUEUE_SEND (a
 *	sender), or both (one of each); handles other than @q count, other
 *	handles of this process included
 * @timeout_ns: as for the other calls
 *
 * Returns 0 at once if there is one. Errors: -EAGAIN (timeout 0),
 * -ETIMEDOUT, -EINTR, -EIDRM (revoked), -EINVAL (no role or an unknown
 * bit). A producer of a transient queue calls it before it fills the
 * queue: the queue vanishes if it closes before a consumer opened it.
 * Pollable: the 32-bit word at offset SHMCHAN_QUEUE_PEER_WORD of the
 * channel changes (and is woken) whenever a peer joins or leaves.
 */
int shmchan_queue_wait_peer(struct shmchan_queue *q, unsigned int roles,
			    int64_t timeout_ns);

/*
 * shmchan_queue_pollfd - a descriptor for poll(2), epoll(7) or an event loop
 *
 * Returns a descriptor (owned by @q: valid until shmchan_queue_close(),
 * never to be closed by the caller) that polls readable (POLLIN, for a
 * sender as for a receiver) when a call on @q that returned -EAGAIN could
 * go on: a message to receive, room to send, a peer gone, a revoke.
 * From this call on, every call on @q with timeout 0 that finds it must
 * wait (no message, no room) arms the descriptor and returns -EAGAIN; a
 * call that does not have to wait makes no system call. So: after the
 * descriptor polls readable, call shmchan_queue_recv() (or _send()) with
 * timeout 0 until -EAGAIN, then poll again. Readiness may be spurious
 * (another receiver took the message): the call then returns -EAGAIN and
 * re-arms. Level- and edge-triggered epoll both work. Errors: -EINVAL
 * (NULL), -EOPNOTSUPP (the module has no SHMCHAN_FEATURE_WATCH), -EIDRM
 * (revoked). See shmchan_queue_pollfd(3) and shmchan(7).
 */
int shmchan_queue_pollfd(struct shmchan_queue *q);

/* SHMCHAN_QUEUE_PEER_WORD - offset of the queue's peer sequence word */
#define SHMCHAN_QUEUE_PEER_WORD	788

/* shmchan_queue_info - capacities and peers; 0 or -EINVAL */
int shmchan_queue_info(struct shmchan_queue *q,
		       struct shmchan_queue_info *out);

/* shmchan_queue_channel - the thin-layer handle underneath, owned by @q */
struct shmchan *shmchan_queue_channel(struct shmchan_queue *q);

/* ------------------------------------------------------- sync helpers */

/*
 * struct shmchan_sync - one process's context for the sync helpers on a
 * channel: the handle (for wait/wake), the address where the caller mapped
 * the whole channel, and what the helpers know of dead peers. Objects are
 * named by address; their offset in the channel is what the module sees.
 */
struct shmchan_sync;

/*
 * shmchan_sync_new - make a context
 * @ch: bound handle; must outlive the context
 * @base: where the caller mapped the whole channel (shmchan_map()),
 *	read-write
 */
int shmchan_sync_new(struct shmchan *ch, void *base,
		     struct shmchan_sync **out);

/* shmchan_sync_free - free a context; NULL is allowed */
void shmchan_sync_free(struct shmchan_sync *s);

/*
 * The objects live in channel memory, 8-byte aligned, and start zeroed
 * (or from the _init call). Their contents are private to the library.
 */

/*
 * struct shmchan_mutex - a robust process-shared mutex
 *
 * Owned by a thread. When the owner's process dies (SIGKILL included) the
 * next locker gets the lock with -EOWNERDEAD, repairs the data, and calls
 * shmchan_mutex_consistent(); unlocking without that makes the mutex
 * unusable (-ENOTRECOVERABLE), as with pthread robust mutexes.
 */
struct shmchan_mutex {
	uint64_t __opaque[2];
};

void shmchan_mutex_init(struct shmchan_mutex *m);
/* 0, -EOWNERDEAD (locked; repair), -ENOTRECOVERABLE, -EDEADLK,
 * -EAGAIN (timeout 0), -ETIMEDOUT, -EINTR, -EIDRM (revoked: a lock that
 * sleeps or would have to), -EINVAL */
int shmchan_mutex_lock(struct shmchan_sync *s, struct shmchan_mutex *m,
		       int64_t timeout_ns);
/* 0, or -EPERM if the caller does not own it */
int shmchan_mutex_unlock(struct shmchan_sync *s, struct shmchan_mutex *m);
/* after -EOWNERDEAD: the data is repaired. 0, -EINVAL, -EPERM */
int shmchan_mutex_consistent(struct shmchan_sync *s, struct shmchan_mutex *m);

/* struct shmchan_sem - a counting semaphore */
struct shmchan_sem {
	uint32_t __opaque[2];
};

/* @value: at most SHMCHAN_SEM_MAX (-EINVAL) */
#define SHMCHAN_SEM_MAX		0x7fffffffU
int shmchan_sem_init(struct shmchan_sem *sem, uint32_t value);
/* take one: 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EIDRM (revoked: a wait that
 * sleeps or would have to), -EINVAL */
int shmchan_sem_wait(struct shmchan_sync *s, struct shmchan_sem *sem,
		     int64_t timeout_ns);
/* give one: 0, -EOVERFLOW, -EINVAL (revoked: 0, it wakes nobody) */
int shmchan_sem_post(struct shmchan_sync *s, struct shmchan_sem *sem);
/* the current value (a snapshot) */
uint32_t shmchan_sem_value(const struct shmchan_sem *sem);

/* struct shmchan_cond - a condition variable, used with a shmchan_mutex */
struct shmchan_cond {
	uint32_t __opaque[2];
};

void shmchan_cond_init(struct shmchan_cond *c);
/*
 * Unlocks @m, sleeps until signalled (or spuriously), relocks @m. Returns
 * what relocking returned (0 or -EOWNERDEAD, with @m held;
 * -ENOTRECOVERABLE without), or -ETIMEDOUT / -EINTR / -EIDRM (revoked: a
 * wait that sleeps or would have to), also with @m held, or -EPERM if @m
 * was not the caller's. Signal and broadcast return 0 on a revoked channel.
 */
int shmchan_cond_wait(struct shmchan_sync *s, struct shmchan_cond *c,
		      struct shmchan_mutex *m, int64_t timeout_ns);
int shmchan_cond_signal(struct shmchan_sync *s, struct shmchan_cond *c);
int shmchan_cond_broadcast(struct shmchan_sync *s, struct shmchan_cond *c);

/* struct shmchan_event - a manual-reset event: set, waited for, reset */
struct shmchan_event {
	uint32_t __opaque[2];
};

void shmchan_event_init(struct shmchan_event *e, int set);
/* set it and wake every waiter (revoked: 0, it wakes nobody) */
int shmchan_event_set(struct shmchan_sync *s, struct shmchan_event *e);
void shmchan_event_reset(struct shmchan_event *e);
/* wait until set: 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EIDRM (revoked: a wait
 * that sleeps or would have to), -EINVAL */
int shmchan_event_wait(struct shmchan_sync *s, struct shmchan_event *e,
		       int64_t timeout_ns);

/*
 * Semaphores and events from an event loop (SHMCHAN_FEATURE_WATCH): the
 * context's descriptor, shmchan_fd() of its handle, polls readable when a
 * watched object may be ready. See shmchan_sem_watch(3).
 *
 * shmchan_sem_watch - arm a watch for a unit of @sem
 * shmchan_event_watch - arm a watch for @e being set
 * @data: handed back by shmchan_watch_read() when the watch fires
 *
 * Returns 0 when armed (the descriptor polls readable once a post or set
 * may have made the object ready), 1 when it is ready now (or may be:
 * take with timeout 0 until -EAGAIN, then watch again), or -EINVAL,
 * -EOPNOTSUPP (no SHMCHAN_FEATURE_WATCH), -EIDRM (revoked), -ENOSPC (the
 * handle has SHMCHAN_WATCH_MAX watches), -ENOMEM. The context keeps one
 * watch per object (its id is the context's business); a call for the
 * same object re-arms it. An armed watch on a semaphore may take a post's
 * wake from a sleeper: after readiness, take the unit, or unwatch (which
 * passes the wake on). Posters and setters must use libshmchan 1.3 or
 * later. In a child of fork() the context has no watches.
 */
int shmchan_sem_watch(struct shmchan_sync *s, struct shmchan_sem *sem,
		      uint64_t data);
int shmchan_event_watch(struct shmchan_sync *s, struct shmchan_event *e,
			uint64_t data);
/* shmchan_sync_unwatch - remove the watch on the semaphore or event @obj:
 * 0, -EINVAL, -ENOENT (none); shmchan_sync_free() removes every one */
int shmchan_sync_unwatch(struct shmchan_sync *s, const void *obj);

/* -------------------------------------------- one channel, one manager */

/*
 * struct shmchan_heap - a variable-size allocator inside part of a channel
 *
 * Any process with a context on the channel may allocate and free; the
 * heap's lock is a robust shmchan_mutex, so a process killed inside an
 * allocation leaves a heap the next caller repairs. Blocks are named by
 * their offset in the channel; free space is coalesced.
 */
struct shmchan_heap;

/*
 * struct shmchan_heap_stats - usage
 * @size: bytes managed (after the heap's own header)
 * @used: bytes in allocated blocks, their headers included
 * @free: bytes in free blocks
 * @largest_free: the largest size shmchan_heap_alloc() can grant now
 * @allocs: blocks allocated now
 * @free_blocks: free blocks now (fragmentation)
 */
struct shmchan_heap_stats {
	uint64_t size;
	uint64_t used;
	uint64_t free;
	uint64_t largest_free;
	uint64_t allocs;
	uint64_t free_blocks;
	uint64_t __reserved[2];
};

/* SHMCHAN_HEAP_ALIGN - alignment of every block's offset */
#define SHMCHAN_HEAP_ALIGN	16

/*
 * shmchan_heap_create - format [@offset, @offset + @length) of the channel
 * as a heap, and attach. @offset is a multiple of 64; @length at least
 * 4096. Any heap there before is forgotten.
 */
int shmchan_heap_create(struct shmchan_sync *s, uint64_t offset,
			uint64_t length, struct shmchan_heap **out);
/*
 * SHMCHAN_HEAP_GROW - shmchan_heap_alloc() grows the channel
 * (shmchan_resize()) and the heap with it when no free block is large
 * enough, up to the channel's reserve. The heap must end where the
 * channel ends, and every process using it must have mapped the whole
 * reserve at its context's base (checked at create and open).
 */
#define SHMCHAN_HEAP_GROW	(1U << 0)

/* shmchan_heap_create_flags - shmchan_heap_create() with SHMCHAN_HEAP_* */
int shmchan_heap_create_flags(struct shmchan_sync *s, uint64_t offset,
			      uint64_t length, unsigned int flags,
			      struct shmchan_heap **out);
/* shmchan_heap_open - attach to the heap at @offset; -EPROTO if none */
int shmchan_heap_open(struct shmchan_sync *s, uint64_t offset,
		      struct shmchan_heap **out);
/* shmchan_heap_close - detach; the heap stays. NULL is allowed. */
void shmchan_heap_close(struct shmchan_heap *h);
/*
 * shmchan_heap_alloc - @size bytes (0 is taken as 1); *@offset receives
 * the block's offset in the channel. -ENOMEM when no free block is large
 * enough (shmchan_heap_stats() tells what is left).
 */
int shmchan_heap_alloc(struct shmchan_heap *h, uint64_t size,
		       uint64_t *offset);
/* shmchan_heap_free - 0, or -EINVAL for an offset that is not a block */
int shmchan_heap_free(struct shmchan_heap *h, uint64_t offset);
int shmchan_heap_stats(struct shmchan_heap *h,
		       struct shmchan_heap_stats *out);

/* ------------------------------------------ a pool of fixed-size blocks */

/*
 * struct shmchan_pool - a channel of fixed-size blocks named by index
 *
 * A block is owned by the process that allocated it. To hand it to
 * another process, pass its index, e.g. through a queue: the giver
 * detaches it (then it belongs to no process, and is safe from recovery
 * while in transit), the taker attaches it. shmchan_pool_send() and
 * shmchan_pool_recv() do both around a queue message. Blocks owned by
 * processes that died are recovered: by shmchan_pool_recover(), and by
 * shmchan_pool_alloc() when it finds none free.
 */
struct shmchan_pool;

#define SHMCHAN_POOL_EXCL	(1U << 0)
#define SHMCHAN_POOL_TRANSIENT	(1U << 1)

/* shmchan_pool_recover(): also free detached blocks (none in transit) */
#define SHMCHAN_POOL_RECOVER_DETACHED	(1U << 0)

/* SHMCHAN_POOL_LAYOUT - version of the pool layout this library writes */
#define SHMCHAN_POOL_LAYOUT	1

struct shmchan_pool_stats {
	uint32_t block_size;
	uint32_t nblocks;
	uint32_t free;
	uint32_t owned;
	uint32_t detached;
	uint32_t owned_by_dead;
	uint32_t __reserved[2];
};

/*
 * shmchan_pool_create - make (or open) a pool channel
 * @block_size: bytes per block, rounded up to 64
 * @nblocks: number of blocks, 1 to 2^24
 *
 * Without SHMCHAN_POOL_EXCL an existing pool is opened with its own
 * geometry (shmchan_pool_stats() tells it). -EPROTO: the channel exists
 * but holds no pool of SHMCHAN_POOL_LAYOUT.
 */
int shmchan_pool_create(const char *name, uint32_t block_size,
			uint32_t nblocks, mode_t mode, unsigned int flags,
			struct shmchan_pool **out);
int shmchan_pool_open(const char *name, struct shmchan_pool **out);
void shmchan_pool_close(struct shmchan_pool *p);
/* a free block, now the caller's: -EAGAIN (timeout 0), -ETIMEDOUT,
 * -EIDRM (the pool's channel was revoked) */
int shmchan_pool_alloc(struct shmchan_pool *p, int64_t timeout_ns,
		       uint32_t *index);
/* give a block back: the caller's, or detached; else -EPERM / -EINVAL */
int shmchan_pool_free(struct shmchan_pool *p, uint32_t index);
/* the block's address in this process, or NULL for a bad index */
void *shmchan_pool_block(struct shmchan_pool *p, uint32_t index);
/* the caller's block now belongs to no process (-EPERM if not its) */
int shmchan_pool_detach(struct shmchan_pool *p, uint32_t index);
/* a detached block now belongs to the caller (-EPERM if not detached) */
int shmchan_pool_attach(struct shmchan_pool *p, uint32_t index);
/* free the blocks of dead owners; returns how many were freed */
int shmchan_pool_recover(struct shmchan_pool *p, unsigned int flags);
int shmchan_pool_stats(struct shmchan_pool *p,
		       struct shmchan_pool_stats *out);
/* detach @index and send it as a message on @q (a sender); on failure
 * the block stays the caller's: errors of shmchan_queue_send() (-EPIPE
 * once @q's last receiver left or died), -EIDRM if the pool's channel
 * or @q's was revoked */
int shmchan_pool_send(struct shmchan_pool *p, struct shmchan_queue *q,
		      uint32_t index, int64_t timeout_ns);
/* receive an index from @q (a receiver) and attach the block; errors of
 * shmchan_queue_recv(), -EIDRM if the pool's channel was revoked */
int shmchan_pool_recv(struct shmchan_pool *p, struct shmchan_queue *q,
		      uint32_t *index, int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif /* LIBSHMCHAN_SHMCHAN_H */
