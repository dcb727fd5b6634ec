/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan internals shared by the module's files.
 *
 * Objects
 *   struct shmchan_channel  one named channel: a shmem file plus attributes.
 *   struct shmchan_handle   one open file of /dev/shmchan, bound to at most
 *                           one channel, with the set of processes that
 *                           used it (main.c): their exits are deaths.
 *   struct shmchan_view     one mmap() call: the VMAs' file (map.c); it
 *                           keeps the module loaded while they exist.
 *                           Each VMA's ->vm_private_data marks whether
 *                           its process made or touched it (its exit is
 *                           then a death).
 *   the status page         one page per channel (status.c) holding its
 *                           death count and state bits as atomics (no
 *                           lock); each status mmap() makes a small file
 *                           that holds the page and the module, not the
 *                           channel, so the page may outlive it.
 *
 * References to a channel (chan->ref)
 *   - the registry, while the name is published;
 *   - each bound handle;
 *   - each view file (dropped when it is released, after the last VMA
 *     made from that mmap() is gone).
 *   The memory (the shmem file) is freed with the last reference.
 *
 * Users of a channel (chan->users = bound handles + VMAs)
 *   Counted apart from references so that a transient channel loses its
 *   name when the last user goes. A 0 -> 1 transition happens only under
 *   shmchan_registry_lock (binding by name); 1 -> 0 takes it through
 *   atomic_dec_and_mutex_lock(). A new VMA is made from a bound handle or
 *   from an existing VMA (fork, split), which is a user already, or by
 *   remap_file_pages(), which unmaps the old VMA first: that may have been
 *   the last user. So the view's ->mmap takes its user with
 *   shmchan_chan_map_new(), which raises users from 0 only under the
 *   registry lock and never for a transient channel (its name went with
 *   that user; the call fails with EIDRM).
 *
 * Lock order, outermost first
 *   shmchan_handle.bind_lock        (main.c: one handle's CREATE/OPEN)
 *     shmchan_registry_lock         (chan.c: names, the list of channels,
 *                                    accounting, publish/unpublish)
 *       shmchan_channel.lock        (chan.c: spinlock, mutable attributes)
 *   shmchan_setattr_lock            (chan.c: serializes SETATTR, so that
 *     shmchan_channel.lock           the owner it is judged against stays;
 *                                    never held with the registry lock)
 *   mm->mmap_lock                   (held by the mm core around ->mmap and
 *     shmchan_registry_lock          vm_ops->open/close; close may unpublish)
 *   shmchan_watches.lock            (watch.c: mutex, a handle's watch
 *     shmchan_channel.wait_lock      commands and release; held across
 *                                    page lookups and both locks below)
 *   shmchan_channel.wait_lock       (wait.c: spinlock; the channel's list
 *     shmchan_wait_bucket.lock       of waiters, for revoke and death
 *       shmchan_watches.ready_lock   sweeps; a bucket lock, only a watch's
 *       poll waitqueue lock          ready_lock, its poll waitqueue's lock
 *                                    (and epoll's, under that) and the
 *                                    scheduler's locks are taken under it;
 *                                    ready_lock is also taken alone by
 *                                    poll and READ)
 *   shmchan_limits_lock             (limits.c: accounting; a leaf, never
 *                                    held with any other shmchan lock)
 *   mm->mmap_lock                   (->mmap of a handle records its
 *     shmchan_handle.users_lock      caller as a user: main.c, a leaf but
 *                                    for the xarray's own lock and memory
 *                                    allocation)
 *   Nothing takes mmap_lock or bind_lock under shmchan_registry_lock, and
 *   no channel or bucket lock is held across another lock but a bucket
 *   lock inside the wait_lock of the same channel (one of each at most)
 *   and, under a bucket lock, one watch's ready_lock or poll waitqueue.
 */
#ifndef SHMCHAN_INTERNAL_H
#define SHMCHAN_INTERNAL_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <uapi/linux/shmchan.h>

struct file;
struct pid;
struct pid_namespace;
struct seq_file;
struct user_namespace;
struct vm_area_struct;

struct page;
struct poll_table_struct;
struct shmchan_charge;

/**
 * struct shmchan_status_words - the module's view of struct shmchan_status
 * @deaths: &shmchan_stat.deaths: raised by shmchan_chan_note_death()
 * @state: SHMCHAN_STATE_DESTROYED, _REVOKED and _TRANSIENT bits; set with
 *	shmchan_status_set() (DESTROYED under shmchan_registry_lock), never
 *	cleared
 *
 * The start of a channel's status page (status.c), which every status
 * mapping shows: these words are the one copy of the count and the state.
 */
struct shmchan_status_words {
	atomic_t deaths;
	atomic_t state;
};

/**
 * struct shmchan_channel - one channel
 * @ref: references, see the top of this file
 * @node: link in the name table, under shmchan_registry_lock
 * @all_node: link in the list of all live channels, under
 *	shmchan_registry_lock
 * @charge: the users it is accounted to (limits.c); set once at creation
 * @published: @node is in the name table, under shmchan_registry_lock
 * @transient: the name goes with the last user; constant
 * @status_page: the status page (status.c); constant, holds a reference
 * @status: its words: the death count and the state bits; constant
 * @users: bound handles plus VMAs, see the top of this file
 * @nhandles: bound handles, for STAT
 * @nmaps: VMAs in all processes, for STAT
 * @nwaiters: tasks queued in SHMCHAN_IOC_WAIT (so wakeable), for STAT
 * @ndeathwaiters: tasks inside SHMCHAN_IOC_WAIT with SHMCHAN_WAIT_DEATHS
 * @lock: protects @mode, @uid, @gid and @lpid
 * @wait_lock: protects @waiters; outside the wait buckets' locks (wait.c)
 * @waiters: struct shmchan_waiter of the tasks in SHMCHAN_IOC_WAIT on this
 *	channel, whatever their word, so that a revoke or a death notice
 *	ends only this channel's waits (wait.c)
 * @shm_file: the shmem file holding the pages; constant
 * @length: size in bytes, a multiple of PAGE_SIZE; constant
 * @mode: permission bits; under @lock
 * @uid: owner; under @lock
 * @gid: owner's group; under @lock
 * @lpid: the process that last bound or mapped the channel; under @lock
 * @cuid: creator; constant
 * @cgid: creator's group; constant
 * @cpid: creating process (thread group); constant
 * @user_ns: the creator's user namespace, where CAP_CHOWN over the
 *	channel counts (SETATTR); holds a reference; constant
 * @ctime: creation time (CLOCK_REALTIME); constant
 * @name: NUL-terminated name; constant
 */
struct shmchan_channel {
	struct kref ref;
	struct hlist_node node;
	struct list_head all_node;
	struct shmchan_charge *charge;
	bool published;
	bool transient;
	struct page *status_page;
	struct shmchan_status_words *status;
	atomic_t users;
	atomic_t nhandles;
	atomic_t nmaps;
	atomic_t nwaiters;
	atomic_t ndeathwaiters;
	spinlock_t lock; /* inside shmchan_registry_lock; see above */
	spinlock_t wait_lock; /* outside the bucket locks; see above */
	struct list_head waiters;
	struct file *shm_file;
	u64 length;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	struct pid *lpid;
	kuid_t cuid;
	kgid_t cgid;
	struct pid *cpid;
	struct user_namespace *user_ns;
	struct timespec64 ctime;
	char name[];
};

/* The channel's death count, as STAT and the status page show it */
static inline u32 shmchan_chan_deaths(const struct shmchan_channel *chan)
{
	return atomic_read(&chan->status->deaths);
}

/* Revoked: waits and wakes fail with -EIDRM */
static inline bool shmchan_chan_revoked(const struct shmchan_channel *chan)
{
	return atomic_read(&chan->status->state) & SHMCHAN_STATE_REVOKED;
}

/* chan.c: names, registry and lifetime */
int shmchan_name_from_user(char *name, u64 uptr);
int shmchan_chan_create(const char *name, const struct shmchan_create *args,
			struct shmchan_channel **chanp, bool *created);
int shmchan_chan_open(const char *name, bool writable,
		      struct shmchan_channel **chanp);
int shmchan_chan_destroy(const char *name, u32 flags);
void shmchan_chan_unbind(struct shmchan_channel *chan);
void shmchan_chan_map_get(struct shmchan_channel *chan);
int shmchan_chan_map_new(struct shmchan_channel *chan);
void shmchan_chan_map_put(struct shmchan_channel *chan);
void shmchan_chan_get(struct shmchan_channel *chan);
void shmchan_chan_put(struct shmchan_channel *chan);
void shmchan_chan_note_attach(struct shmchan_channel *chan);
void shmchan_chan_note_death(struct shmchan_channel *chan);
void shmchan_chan_fill_stat(struct shmchan_channel *chan,
			    struct shmchan_stat *st);
void shmchan_chan_fill_stat_ns(struct shmchan_channel *chan,
			       struct shmchan_stat *st,
			       struct user_namespace *ns,
			       struct pid_namespace *pid_ns);
bool shmchan_chan_may_list(struct shmchan_channel *chan);
int shmchan_chan_setattr(struct shmchan_channel *chan,
			 const struct shmchan_setattr *args);
void *shmchan_registry_seq_start(struct seq_file *m, loff_t *pos);
void *shmchan_registry_seq_next(struct seq_file *m, void *v, loff_t *pos);
void shmchan_registry_seq_stop(struct seq_file *m, void *v);
struct shmchan_channel *shmchan_registry_seq_chan(void *v);
void shmchan_registry_init(void);
void shmchan_registry_exit(void);

/* limits.c: module parameters and per-user accounting */
void shmchan_limits_init(void);
int shmchan_limits_charge(struct shmchan_channel *chan);
void shmchan_limits_uncharge(struct shmchan_channel *chan);
int shmchan_limits_check_length(u64 length);

/* proc.c: /proc/shmchan */
int shmchan_proc_init(void);
void shmchan_proc_exit(void);

/* map.c: mmap onto the channel's shmem file */
int shmchan_mmap_channel(struct shmchan_channel *chan, bool writable,
			 struct vm_area_struct *vma);

/* status.c: the status page */
int shmchan_status_init(struct shmchan_channel *chan);
void shmchan_status_put(struct shmchan_channel *chan);
void shmchan_status_set(struct shmchan_channel *chan, u32 bits);
int shmchan_status_mmap(struct shmchan_channel *chan,
			struct vm_area_struct *vma);

enum shmchan_waiter_state {
	SHMCHAN_WAITER_QUEUED,
	SHMCHAN_WAITER_WOKEN,
	SHMCHAN_WAITER_REVOKED,
	SHMCHAN_WAITER_PEER_DIED,
};

/**
 * struct shmchan_waiter - a task inside SHMCHAN_IOC_WAIT, on its stack, or
 *	an armed watch (allocated, see wait.c)
 * @node: link in the bucket's list while queued
 * @chan_node: link in @chan->waiters, under @chan->wait_lock; from queueing
 *	until the waiter leaves, or a sweep ends its wait
 * @chan: the channel waited on
 * @offset: the word's offset in @chan
 * @task: the waiting task
 * @state: enum shmchan_waiter_state; written under the bucket lock, last
 *	of all by the waker (release), read by the waiter (acquire)
 * @deaths: the waiter asked for death notices (%SHMCHAN_WAIT_DEATHS)
 * @watch: the entry is a watch's (watch.c), not a task's: @task is NULL,
 *	the entry is allocated, and ending its wait fires the watch
 */
struct shmchan_waiter {
	struct list_head node;
	struct list_head chan_node;
	struct shmchan_channel *chan;
	u64 offset;
	struct task_struct *task;
	int state;
	bool deaths;
	bool watch;
};

/* wait.c: wait/wake keyed by (channel, offset) */
void shmchan_wait_init(void);
int shmchan_wait(struct shmchan_channel *chan, const struct shmchan_wait *args);
int shmchan_wake(struct shmchan_channel *chan, const struct shmchan_wake *args);
void shmchan_wait_revoke(struct shmchan_channel *chan);
void shmchan_wait_notify_death(struct shmchan_channel *chan);
int shmchan_waiter_arm(struct shmchan_waiter *w, u32 expected, u32 deaths);
bool shmchan_waiter_disarm(struct shmchan_waiter *w);

/**
 * struct shmchan_watches - a handle's watches (watch.c)
 * @lock: serializes the WATCH commands and the handle's release, the
 *	owner's side of every watch; may sleep; see the lock order above
 * @ready_lock: protects @ready, @ndied and each watch's pending events;
 *	taken inside a bucket lock by WAKE
 * @ready: the fired watches, oldest firing first
 * @ndied: fired watches whose events include a death (EPOLLPRI)
 * @ids: the watches by id, under @lock (readers too)
 * @wq: poll's waitqueue, woken at every firing
 */
struct shmchan_watches {
	struct mutex lock; /* outside wait_lock and the bucket locks */
	spinlock_t ready_lock; /* inside the bucket locks; see above */
	struct list_head ready;
	unsigned int ndied;
	struct xarray ids;
	wait_queue_head_t wq;
};

/* watch.c: watches and poll */
void shmchan_watches_init(struct shmchan_watches *ws);
void shmchan_watches_release(struct shmchan_watches *ws);
void shmchan_watch_fire(struct shmchan_waiter *w, int state);
int shmchan_watch_add(struct shmchan_watches *ws, struct shmchan_channel *chan,
		      struct shmchan_watch *args);
int shmchan_watch_arm(struct shmchan_watches *ws, struct shmchan_channel *chan,
		      struct shmchan_watch *args);
int shmchan_watch_del(struct shmchan_watches *ws,
		      const struct shmchan_watch *args);
int shmchan_watch_read(struct shmchan_watches *ws, struct shmchan_channel *chan,
		       const struct shmchan_watch_read *args);
__poll_t shmchan_watch_poll(struct shmchan_watches *ws,
			    struct shmchan_channel *chan, struct file *file,
			    struct poll_table_struct *pt);

#endif /* SHMCHAN_INTERNAL_H */
