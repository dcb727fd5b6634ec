/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The message queue: a ring of records in one channel, shared by any
 * number of senders and receivers, each a peer with a place in the
 * queue's header.
 *
 * Private to lib/queue/: the layout in shared memory, the handle, the
 * helpers inlined on every send and receive, and what the files export to
 * each other. One file a job:
 *
 *   layout.c  the header's layout: format, check, attach; create, open,
 *             close, info
 *   ring.c    records in the ring: room, publish, commit; passing over
 *             a record, the next round for a receiver (the next message,
 *             q_next(), is inlined here)
 *   copy.c    send and receive by copy (messages in rounds included)
 *   loan.c    zero-copy: reserve, commit, cancel; peek, release
 *   wake.c    the sleep/wake protocol: q_wait(), q_kick(), q_sleep()
 *   lock.c    the two side locks (futex protocol) and their takeover
 *   peers.c   slots, peer maps, death and reaping, fork, wait_peer
 *
 * Layout (offsets in the channel; all positions are offsets, never
 * pointers):
 *
 *   0      struct q_hdr, one page: identity (magic, layout version,
 *          capacities), then the producers' line, the consumers' lines,
 *          the two wait lines and the peer maps, 128 bytes apart so that
 *          the two sides never write the same cache line (pair of lines,
 *          for the adjacent-line prefetcher), then Q_MAX_PEERS slots.
 *   4096   the ring: cap bytes of records.
 *
 * Records are 32-byte aligned and never wrap: a record that would run past
 * the end of the ring is preceded by a pad record up to the end, and
 * starts the next lap at offset 0. Positions count bytes in a virtual
 * space where each lap is vcap (cap rounded up to a power of two) long, so
 * a position's offset is pos & (vcap - 1) and positions only grow.
 *
 *   prod_head   end of the published records (producers, under prod_lock)
 *   cons_head   end of the claimed records (consumers, under cons_lock)
 *   cons_tail   end of the freed records (any consumer, by CAS)
 *
 * A record's header holds a 64-bit state: its position's tag (so that a
 * header left from an earlier lap is never taken for this one), the
 * producer's slot while it is written, a phase (BUSY, READY, DONE) and
 * flags (FIRST and LAST rounds of a message, PAD, ABORT).
 *
 * Sending. Under prod_lock a sender waits for room, writes the header as
 * BUSY, notes the position in its slot and publishes prod_head; then it
 * drops the lock, copies the payload, and turns BUSY into READY. The lock
 * covers a few stores only, so senders copy in parallel; receivers take
 * records in ring order, waiting at a BUSY one. A small message (up to
 * SEND_INLINE_MAX) is copied under the lock and published READY. One
 * from Q_PROG_MIN (copy.c) is published BUSY with ST_PROG, and its sender
 * tells in the header's `done` how much of the payload it has copied, a
 * part at a time: a receiver that spins at it copies that out, keeping
 * cons_lock, and claims the message once READY (q_next()), so the two
 * copies overlap.
 *
 * Receiving. Under cons_lock a receiver looks at the record at cons_head:
 * pads, aborted records and rounds of a message whose receiver died are
 * skipped; a READY message start is claimed (noted in the slot, cons_head
 * advanced) and the lock dropped; the receiver copies it out (or hands it
 * out, for peek) and marks it DONE. Freeing is in ring order: whoever
 * finds DONE records at cons_tail moves it past them by CAS. A small
 * message (up to SEND_INLINE_MAX) with cons_tail at it is copied out
 * under cons_lock and freed at once: marked DONE, then the head and the
 * tail moved past it (q_take_small(); each state between is one that any
 * library version's reaper and receivers mend).
 *
 * Rounds. A message longer than max_msg goes as FIRST, middle and LAST
 * records of round_rec bytes. Its sender keeps prod_lock (and `rounds`
 * names the FIRST record) until the LAST is published, so its rounds are
 * consecutive; other senders wait for the lock meanwhile (or get -EAGAIN
 * with timeout 0). Its receiver keeps cons_lock from FIRST to LAST, so no
 * other receiver takes a round of it. A sender that gives up half-way
 * (timeout, signal) or dies ends the message: the receiver sees `rounds`
 * change with nothing more to read, or an ABORT, or a new FIRST, drops
 * what it has and goes on with the next message.
 *
 * Waiting. No system call on the fast path: a side that must wait reads
 * data_seq or space_seq, counts itself in data_sleepers or space_sleepers,
 * then sleeps in the module on the sequence as read; the other side takes
 * the count to 0, bumps the word and calls shmchan_wake() only when the
 * count was non-zero. (The sequence is read before the count is set: a
 * waker that takes the count then always changes the word the sleeper
 * sleeps on; see q_wait().) Locks use the futex protocol with a waiters
 * bit.
 *
 * Peer death. Every wait is death-aware (shmchan_wait_deaths() with the
 * death count of the handle's last scan). When a process that had the
 * channel mapped exits, waiters wake with -EOWNERDEAD and scan the slots:
 * a peer whose pid is gone, reused (start time differs), a zombie or
 * exiting is reaped by whoever wins a CAS on its slot: its locks are taken
 * over and released, its half-written record is marked ABORT, its claimed
 * record freed, and it leaves the peer maps, which is how -EPIPE is told.
 *
 * Memory ordering (C11 atomics; every access to shared words is atomic).
 * What hands data from one process to another is written with release
 * and read with acquire: prod_head (the headers below it), a record's
 * state (its payload), cons_tail (the room freed: the receivers' reads are
 * done), `rounds`, the locks (their sections), the peer maps (what a peer
 * did before leaving), `seen` (the map bit set before it, q_register()),
 * a record's `done` (the payload below it).
 * Marking a record DONE and moving cons_tail past DONE records are
 * seq_cst, so that neither can miss the other (q_done(), q_reclaim()).
 * Going to sleep and waking pair seq_cst fences, Dekker style (q_wait(),
 * q_kick()). Everything else is relaxed, being one of: a
 * word only its writer changes (prod_head read by the prod_lock holder,
 * cons_head by the cons_lock holder), a field published by a later
 * release (headers and slot notes before a head), or a hint that is read
 * again with ordering before anything is done on it (spinning, the cached
 * seen_head and seen_tail, LOCK_BLOCKED, the wants read after a fence).
 */
#ifndef LIBSHMCHAN_QUEUE_H
#define LIBSHMCHAN_QUEUE_H

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../peers.h"

#define Q_MAGIC		0x51434853U	/* "SHCQ", the queue is ready */
#define Q_INITIALIZING	0x494e4954U	/* its creator is laying it out */
#define Q_HDR_SIZE	4096U
#define Q_LINE		128
#define Q_MAX_PEERS	48
#define Q_MIN_LENGTH	(2 * Q_HDR_SIZE)

#define REC_HDR		32U
#define REC_ALIGN	32U
#define REC_MAX		(1U << 30)
#define POS_NONE	UINT64_MAX

/* Record state: tag << 16 | producer slot << 8 | flags | phase */
#define ST_PHASE	0x07ULL
#define ST_BUSY		0x01ULL
#define ST_READY	0x02ULL
#define ST_DONE		0x03ULL
#define ST_ABORT	0x08ULL
#define ST_FIRST	0x10ULL
#define ST_LAST		0x20ULL
#define ST_PAD		0x40ULL
#define ST_PROG		0x80ULL	/* BUSY: its sender keeps `done` current */
#define ST_KIND		(ST_ABORT | ST_FIRST | ST_LAST | ST_PAD)
#define ST_SLOT_SHIFT	8
#define ST_TAG_SHIFT	16

/* Lock word: owner slot + 1, and two bits */
#define LOCK_OWNER	0x000000ffU
#define LOCK_BLOCKED	0x40000000U	/* the holder sleeps: do not spin */
#define LOCK_WAITERS	0x80000000U	/* someone sleeps on the word */
#define LOCK_SPIN	128		/* pauses while the holder runs */

/* Slot state: pid << 8 | roles << 4 | phase */
#define SLOT_SETUP	1U
#define SLOT_LIVE	2U
#define SLOT_REAPING	3U
#define SLOT_PHASE	3U

#define SEEN_SENDER	SHMCHAN_QUEUE_SEND
#define SEEN_RECEIVER	SHMCHAN_QUEUE_RECV

#define ROLES		(SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV)
#define CREATE_FLAGS	(SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT | \
			 SHMCHAN_QUEUE_POPULATE)
/*
 * data_sleepers and space_sleepers: who waits on the side's sequence. A
 * waker takes the word to 0 and wakes all (q_wake_side()).
 */
#define Q_SLEEPING	1U	/* the side's lock holder, in q_wait() */
#define Q_WATCHING	2U	/* a handle polling (poll.c): wake at any news */

#define SPIN_MAX_NS	10000000U
#define SEND_INLINE_MAX	512U	/* copied under prod_lock, q_send_one() */

/*
 * The few helpers on every send and receive are inlined: a call and its
 * return cost little natively, but under emulation (QEMU's TCG) every
 * return is a lookup of translated code, and the fast path was mostly
 * calls.
 */
#define HOT		inline __attribute__((always_inline))

/*
 * struct q_slot - one peer's place
 * @state: 0 when free, else pid << 8 | roles << 4 | SLOT_*
 * @start: the peer's start time (with the pid, its identity)
 * @busy: position of its published, uncommitted record, or POS_NONE
 * @claim: position of its claimed, unreleased record, or POS_NONE
 *
 * Written by its peer (and by the reaper once the peer is dead); one
 * cache line each.
 */
struct q_slot {
	_Atomic uint32_t state;
	uint32_t __pad0;
	_Alignas(8) _Atomic uint64_t start;
	_Alignas(8) _Atomic uint64_t busy;
	_Alignas(8) _Atomic uint64_t claim;
	uint8_t __pad1[32];
};

struct q_hdr {
	/* Identity: written by the creator before magic, then read-only. */
	_Alignas(Q_LINE) _Atomic uint32_t magic;
	uint32_t layout;
	uint32_t hdr_size;
	uint32_t max_peers;
	_Alignas(8) uint64_t chan_len;
	_Alignas(8) uint64_t cap;
	_Alignas(8) uint64_t vcap;
	uint32_t max_rec;
	uint32_t round_rec;
	_Atomic int32_t init_pid;

	/* Producers: written under prod_lock, read by consumers. */
	_Alignas(Q_LINE) _Atomic uint32_t prod_lock;
	_Alignas(8) _Atomic uint64_t prod_head;
	_Alignas(8) _Atomic uint64_t rounds;

	/* Consumers: written under cons_lock. */
	_Alignas(Q_LINE) _Atomic uint32_t cons_lock;
	_Alignas(8) _Atomic uint64_t cons_head;

	/* Freeing: any consumer, read by producers. */
	_Alignas(Q_LINE) _Atomic uint64_t cons_tail;

	/*
	 * Wait lines: written only when someone sleeps. Only the holder of
	 * a side's lock sleeps on its side's sequence, so one want each:
	 * data_want, the prod_head a receiver waits for (data_head: the one
	 * it saw), and space_want, the cons_tail a sender waits for
	 * (space_needed: the one that makes room for its record).
	 */
	_Alignas(Q_LINE) _Atomic uint32_t data_seq;
	_Atomic uint32_t data_sleepers;
	_Alignas(8) _Atomic uint64_t data_want;
	_Alignas(8) _Atomic uint64_t data_head;
	_Alignas(Q_LINE) _Atomic uint32_t space_seq;
	_Atomic uint32_t space_sleepers;
	_Alignas(8) _Atomic uint64_t space_want;
	_Alignas(8) _Atomic uint64_t space_needed;

	/*
	 * Peers: written at open, close and reaping. peer_seq is bumped
	 * (and woken) after every change of the maps: what
	 * shmchan_queue_wait_peer() sleeps on (layout 2).
	 */
	_Alignas(Q_LINE) _Atomic uint32_t seen;
	_Atomic uint32_t senders[2];
	_Atomic uint32_t receivers[2];
	_Atomic uint32_t peer_seq;

	_Alignas(1024) struct q_slot slots[Q_MAX_PEERS];
};

/* The layout is the contract between processes: 32-bit ones included. */
_Static_assert(sizeof(struct q_slot) == 64, "slot size");
_Static_assert(__builtin_offsetof(struct q_hdr, chan_len) == 16, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, max_rec) == 40, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, prod_lock) == 128, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, prod_head) == 136, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, rounds) == 144, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, cons_head) == 264, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, cons_tail) == 384, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, data_seq) == 512, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, data_want) == 520, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, data_head) == 528, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, space_seq) == 640, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, space_needed) == 656, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, space_want) == 648, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, seen) == 768, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, receivers) == 780, "layout");
/* shmchan(7) names this offset: the word to poll for peers joining */
_Static_assert(__builtin_offsetof(struct q_hdr, peer_seq) ==
	       SHMCHAN_QUEUE_PEER_WORD, "layout");
_Static_assert(__builtin_offsetof(struct q_hdr, slots) == 1024, "layout");
_Static_assert(sizeof(struct q_hdr) == Q_HDR_SIZE, "header is one page");

/*
 * struct q_rec - a record's header, followed by its payload
 * @state: see ST_*
 * @size: bytes the record occupies (header included, 32-byte multiple)
 * @len: payload bytes in this record
 * @total: length of the whole message (FIRST records)
 * @done: while the record is BUSY with ST_PROG, the payload bytes its
 *	sender has written (release), so that a receiver copies them out
 *	while it writes the rest (q_next()); read only under that flag
 */
struct q_rec {
	_Alignas(8) _Atomic uint64_t state;
	uint32_t size;
	uint32_t len;
	_Alignas(8) uint64_t total;
	_Alignas(8) _Atomic uint64_t done;
};

_Static_assert(sizeof(struct q_rec) == REC_HDR, "record header");

/*
 * struct q_pollw - the watch a polling handle has for one side (poll.c)
 * @id: its id on the handle, or -1 before the first arm
 * @off: the word it watches: the side's sequence, or its lock when the
 *	lock was held
 */
struct q_pollw {
	int64_t id;
	uint64_t off;
};

struct shmchan_queue {
	struct shmchan *ch;
	struct q_hdr *h;
	uint8_t *ring;
	size_t map_len;
	uint64_t cap;
	uint64_t vcap;
	uint64_t mask;
	uint32_t max_rec;
	uint32_t round_rec;
	unsigned int roles;
	uint32_t slot;		/* our slot, or Q_MAX_PEERS before we have one */
	uint32_t me;		/* our lock owner value: slot + 1 */
	pid_t pid;
	uint64_t start;
	bool death_notice;
	uint32_t deaths;	/* the death count at our last scan */
	struct shmchan__status status;
	uint64_t status_seen;	/* the status word as last acted on */
	unsigned int gen;	/* the fork generation our slot belongs to */
	uint64_t seen_tail;	/* producers: a cons_tail seen (a lower bound) */
	uint64_t seen_head;	/* consumers: a prod_head seen (a lower bound) */
	uint64_t rsv_pos;	/* open reservation, or POS_NONE */
	uint32_t rsv_len;
	uint64_t peek_pos;	/* peeked message, or POS_NONE */
	uint64_t peek_st;
	uint64_t peek_end;	/* where it ends (q_claim()) */
	struct shmchan__spin spin;
	bool polling;		/* shmchan_queue_pollfd() was called */
	bool lock_watched;	/* a side's watch is on its lock word */
	struct q_pollw pw[2];	/* the watch of each side: data, space */
};

/* ------------------------------------------------------------ helpers */

static inline struct q_rec *rec_at(const struct shmchan_queue *q,
				   uint64_t pos)
{
	return (struct q_rec *)(q->ring + (pos & q->mask));
}

static inline uint8_t *payload(const struct shmchan_queue *q, uint64_t pos)
{
	return (uint8_t *)rec_at(q, pos) + REC_HDR;
}

static inline uint64_t tag_of(uint64_t pos)
{
	return (pos / REC_ALIGN) << ST_TAG_SHIFT;
}

static inline uint64_t st_tag(uint64_t st)
{
	return st & ~((1ULL << ST_TAG_SHIFT) - 1);
}

static inline uint32_t st_slot(uint64_t st)
{
	return (uint32_t)(st >> ST_SLOT_SHIFT) & 0xff;
}

static inline uint32_t rec_size(uint64_t len)
{
	return (uint32_t)((REC_HDR + len + REC_ALIGN - 1) & ~(uint64_t)(REC_ALIGN - 1));
}

/* The position after a record: a record ending at the ring's end is
 * followed by the next lap's start. */
static inline uint64_t next_pos(const struct shmchan_queue *q, uint64_t pos,
				uint32_t size)
{
	uint64_t end = pos + size;
	uint64_t off = end & q->mask;

	return off >= q->cap ? end + (q->vcap - off) : end;
}

static inline uint64_t word_off(const struct shmchan_queue *q,
				const _Atomic uint32_t *word)
{
	return (uint64_t)((const uint8_t *)word - (const uint8_t *)q->h);
}

/* A header read from shared memory is checked before it is used. */
static HOT bool rec_ok(const struct shmchan_queue *q, uint64_t pos,
		   const struct q_rec *r, uint64_t st)
{
	uint64_t off = pos & q->mask;
	uint32_t size = r->size;

	if (size % REC_ALIGN || size < REC_HDR || off + size > q->cap)
		return false;
	if (st & ST_PAD)
		return off + size == q->cap;
	return size <= q->max_rec && REC_HDR + (uint64_t)r->len <= size;
}

static HOT bool mask_has_any(_Atomic uint32_t map[2])
{
	/* acquire: a side that sees the peer gone sees what it did before
	 * leaving (its last records published; see q_leave()) */
	return atomic_load_explicit(&map[0], memory_order_acquire) |
	       atomic_load_explicit(&map[1], memory_order_acquire);
}

/*
 * Every sender has left or died (and there was one). acquire on `seen`,
 * before the maps: a joiner sets its map bit before `seen` (release, in
 * q_register()), so seeing it seen we see its bit, or its leaving.
 */
static HOT bool senders_gone(const struct shmchan_queue *q)
{
	return (atomic_load_explicit(&q->h->seen, memory_order_acquire) &
		SEEN_SENDER) && !mask_has_any(q->h->senders);
}

static HOT bool receivers_gone(const struct shmchan_queue *q)
{
	return (atomic_load_explicit(&q->h->seen, memory_order_acquire) &
		SEEN_RECEIVER) && !mask_has_any(q->h->receivers);
}

static inline uint64_t ld(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline uint32_t ld32(_Atomic uint32_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* ------------------------------------------------------------ waiting */

/*
 * struct q_watch - what a waiter waits for
 * @space: a sender waiting for room (else a receiver waiting for data)
 * @head: cons_tail (space) or prod_head (data) as last seen
 * @pos: a BUSY record waited on, or POS_NONE; @st its state as seen
 * @rounds: `rounds` as seen, for a receiver in the middle of a message
 * @needed: (space) the cons_tail that makes room for the record
 * @want: asleep (not while spinning), wait until cons_tail (space) or
 *	prod_head (data) reaches it, to wake less often; see q_kick()
 * @kick: (data) the want wakers compare with: 0 at a BUSY record
 *	outside a message, for any commit wakes us then
 * @part: (data) at a BUSY record with ST_PROG: its `done` as seen, @prog,
 *	is news too (while spinning: senders wake nobody for progress)
 */
struct q_watch {
	struct shmchan_queue *q;
	bool space;
	uint64_t head;
	uint64_t pos;
	uint64_t st;
	uint64_t rounds;
	uint64_t needed;
	uint64_t want;
	uint64_t kick;
	bool part;
	uint64_t prog;
};

/*
 * struct q_part - a receiver that copies a message out while its sender
 * still writes it (shmchan_queue_recv(), q_next())
 * @cap: the receiver's buffer: longer messages are not begun
 * @pos: the record begun, or POS_NONE
 * @got: bytes of it copied out
 * @avail: bytes of it written (q_next()'s answer)
 */
struct q_part {
	uint64_t cap;
	uint64_t pos;
	uint64_t got;
	uint64_t avail;
};

/* ------------------------------------------------------------ exported */

/*
 * What the files of lib/queue/ call in each other. Names with external
 * linkage are shmchan__* (internal.h): the short names stand for them.
 */
#define q_kick_slow      shmchan__q_kick_slow
#define q_peers_changed  shmchan__q_peers_changed
#define q_kick_all       shmchan__q_kick_all
#define q_sleep          shmchan__q_sleep
#define q_wait           shmchan__q_wait
#define q_lock_slow      shmchan__q_lock_slow
#define q_lock_blocked   shmchan__q_lock_blocked
#define q_steal          shmchan__q_steal
#define q_room_slow      shmchan__q_room_slow
#define q_write_pad      shmchan__q_write_pad
#define q_skip           shmchan__q_skip
#define q_publish        shmchan__q_publish
#define q_commit_rec     shmchan__q_commit_rec
#define q_next_round     shmchan__q_next_round
#define q_scan           shmchan__q_scan
#define q_register       shmchan__q_register
#define q_leave          shmchan__q_leave
#define q_enter_slow     shmchan__q_enter_slow
#define q_poll_arm       shmchan__q_poll_arm
#define q_poll_arm_lock  shmchan__q_poll_arm_lock
#define q_poll_locked    shmchan__q_poll_locked
#define q_poll_close     shmchan__q_poll_close
#define q_poll_forget    shmchan__q_poll_forget
#define q_refresh_deaths shmchan__q_refresh_deaths
#define q_wake_side      shmchan__q_wake_side
#define q_count_sleeper  shmchan__q_count_sleeper

/* wake.c */
void q_kick_slow(struct shmchan_queue *q, bool space, bool force);
void q_peers_changed(struct shmchan_queue *q);
void q_kick_all(struct shmchan_queue *q);
int q_sleep(struct shmchan_queue *q, _Atomic uint32_t *word, uint32_t val,
	    const struct shmchan__deadline *d);
int q_wait(struct shmchan_queue *q, struct q_watch *w,
	   const struct shmchan__deadline *d);
void q_wake_side(struct shmchan_queue *q, _Atomic uint32_t *sleeping,
		 _Atomic uint32_t *seq);
void q_count_sleeper(struct shmchan_queue *q, const struct q_watch *w,
		     uint32_t bit, uint64_t space_want);
int q_refresh_deaths(struct shmchan_queue *q);

/* lock.c */
int q_lock_slow(struct shmchan_queue *q, _Atomic uint32_t *lock,
		const struct shmchan__deadline *d, uint32_t v);
void q_lock_blocked(_Atomic uint32_t *lock, bool blocked);
bool q_steal(struct shmchan_queue *q, _Atomic uint32_t *lock, uint32_t slot);

/* ring.c */
int q_room_slow(struct shmchan_queue *q, uint32_t size,
		const struct shmchan__deadline *d, uint64_t *start);
void q_write_pad(struct shmchan_queue *q);
void q_skip(struct shmchan_queue *q, uint64_t pos, uint64_t st);
void q_publish(struct shmchan_queue *q, uint64_t start, uint32_t size,
	       uint32_t len, uint64_t total, uint64_t flags);
int q_commit_rec(struct shmchan_queue *q, uint64_t pos, uint32_t len,
		 bool abort);
int q_next_round(struct shmchan_queue *q, uint64_t first, uint64_t *pos,
		 uint64_t *stp);

/* poll.c */
int q_poll_arm(struct shmchan_queue *q, struct q_watch *w);
int q_poll_arm_lock(struct shmchan_queue *q, _Atomic uint32_t *lock,
		    uint32_t v);
void q_poll_locked(struct shmchan_queue *q, _Atomic uint32_t *lock);
void q_poll_close(struct shmchan_queue *q);
void q_poll_forget(struct shmchan_queue *q);

/* peers.c */
void q_scan(struct shmchan_queue *q);
int q_register(struct shmchan_queue *q, unsigned int roles);
void q_leave(struct shmchan_queue *q);
int q_enter_slow(struct shmchan_queue *q, uint64_t w);

/* ------------------------------------------------------------ inlined */

/*
 * Under prod_lock, with room found at @start: the pad before it (if any)
 * and the record's header. The caller stores the state.
 */
static HOT struct q_rec *q_write_head(struct shmchan_queue *q, uint64_t start,
				      uint32_t size, uint32_t len,
				      uint64_t total)
{
	struct q_rec *r;

	/* relaxed: only the prod_lock holder writes prod_head */
	if (start != atomic_load_explicit(&q->h->prod_head,
					  memory_order_relaxed))
		q_write_pad(q);
	r = rec_at(q, start);
	r->size = size;
	r->len = len;
	r->total = total;
	return r;
}

/*
 * Tell the sleepers of a side (if any) of what we just did; the fence
 * pairs with q_wait()'s (see q_kick_slow()).
 */
static HOT void q_kick(struct shmchan_queue *q, bool space, bool force)
{
	_Atomic uint32_t *sleepers = space ? &q->h->space_sleepers :
					     &q->h->data_sleepers;

	atomic_thread_fence(memory_order_seq_cst);
	/* nobody asleep on that side: the common case, no more to do */
	if (ld32(sleepers))
		q_kick_slow(q, space, force);
}

/*
 * q_kick() right after an atomic read-modify-write, the last of the
 * writes it tells of (the unlock after a small message, a record's
 * commit, cons_tail's CAS). On x86 every RMW is a locked instruction, a
 * full barrier itself: no store before it is still buffered when the
 * loads after it run, which is all the fence gives. So only the compiler
 * is kept from moving those loads above it (as Linux's
 * smp_mb__after_atomic()). Elsewhere, the fence. Under QEMU's TCG a fence
 * is a call of a helper: one fewer on every send and every receive.
 */
static HOT void q_kick_after_rmw(struct shmchan_queue *q, bool space,
				 bool force)
{
#if defined(__x86_64__) || defined(__i386__)
	_Atomic uint32_t *sleepers = space ? &q->h->space_sleepers :
					     &q->h->data_sleepers;

	__asm__ __volatile__("" : : : "memory");
	if (ld32(sleepers))
		q_kick_slow(q, space, force);
#else
	q_kick(q, space, force);
#endif
}

static HOT int q_lock(struct shmchan_queue *q, _Atomic uint32_t *lock,
			 const struct shmchan__deadline *d)
{
	uint32_t v = 0;

	/* acquire: the section sees what the last holder wrote before its
	 * release in q_unlock() */
	int ret = 0;

	if (!atomic_compare_exchange_strong_explicit(lock, &v, q->me,
						     memory_order_acquire,
						     memory_order_relaxed))
		ret = q_lock_slow(q, lock, d, v);
	/* A watch of ours on the lock may have taken an unlock's wake:
	 * pass it on, as a woken sleeper does (poll.c) */
	if (__builtin_expect(q->lock_watched, 0) && !ret)
		q_poll_locked(q, lock);
	return ret;
}

static HOT void q_unlock(struct shmchan_queue *q, _Atomic uint32_t *lock)
{
	/* release: publishes the section to the next holder */
	uint32_t v = atomic_exchange_explicit(lock, 0, memory_order_release);

	if (v & LOCK_WAITERS)
		shmchan_wake(q->ch, word_off(q, lock), 1);
}

/* The common case inline: room below the cons_tail seen last time. */
static HOT int q_room(struct shmchan_queue *q, uint32_t size,
		      const struct shmchan__deadline *d, uint64_t *start)
{
	uint64_t p, s;

	if (receivers_gone(q))
		return -EPIPE;
	p = atomic_load_explicit(&q->h->prod_head, memory_order_relaxed);
	s = (p & q->mask) + size > q->cap ? (p | q->mask) + 1 : p;
	if (s + size > q->seen_tail + q->vcap)
		return q_room_slow(q, size, d, start);
	*start = s;
	return 0;
}

/*
 * Move cons_tail past the DONE records at it, and wake senders. @mine,
 * unless POS_NONE, is a record the caller has just marked DONE itself,
 * which its claim ended at @mine_end (q_claim()): at cons_tail it need
 * not be looked at again. It is below cons_head (we moved the head past
 * it), still DONE (a DONE record changes only once freed, and it is not
 * while cons_tail is at it), and its size is the one its claim used.
 */
static HOT void q_reclaim_from(struct shmchan_queue *q, uint64_t mine,
			       uint64_t mine_end)
{
	struct q_hdr *h = q->h;
	uint64_t t, head, st, end;
	struct q_rec *r;
	bool freed = false;

	t = atomic_load_explicit(&h->cons_tail, memory_order_seq_cst);
	for (;;) {
		if (t == mine) {
			end = mine_end;
		} else {
			head = atomic_load_explicit(&h->cons_head,
						    memory_order_acquire);
			if (t >= head)
				break;
			r = rec_at(q, t);
			st = atomic_load_explicit(&r->state,
						  memory_order_seq_cst);
			if (st_tag(st) != tag_of(t) ||
			    (st & ST_PHASE) != ST_DONE || !rec_ok(q, t, r, st))
				break;
			end = next_pos(q, t, r->size);
		}
		/* seq_cst, and a release of the room to producers; fails
		 * (reloading t) when another reclaimer moved it first */
		if (atomic_compare_exchange_strong_explicit(
				&h->cons_tail, &t, end,
				memory_order_seq_cst, memory_order_seq_cst)) {
			t = end;
			freed = true;
		}
	}
	/* cons_tail's CAS (the last RMW above) is the fence */
	if (freed)
		q_kick_after_rmw(q, true, false);
}

static HOT void q_reclaim(struct shmchan_queue *q)
{
	q_reclaim_from(q, POS_NONE, 0);
}

/*
 * READY to DONE, then free what can be freed. seq_cst: pairs with the
 * loads in q_reclaim(): either a reclaimer that moved cons_tail up to this
 * record sees DONE, or our reclaim sees its cons_tail. @end: where the
 * record ends, as our claim of it said (q_claim()), or POS_NONE.
 */
static HOT void q_done_from(struct shmchan_queue *q, uint64_t pos,
			    uint64_t st, uint64_t end)
{
	uint64_t expect = st_tag(st) | (st & ST_KIND) | ST_READY;

	if (atomic_compare_exchange_strong_explicit(
			&rec_at(q, pos)->state, &expect,
			st_tag(st) | (st & ST_KIND) | ST_DONE,
			memory_order_seq_cst, memory_order_relaxed))
		q_reclaim_from(q, end == POS_NONE ? POS_NONE : pos, end);
}

/* The same for a record whose end we do not know (a reaper's). */
static HOT void q_done(struct shmchan_queue *q, uint64_t pos, uint64_t st)
{
	q_done_from(q, pos, st, POS_NONE);
}

/*
 * Under cons_lock: take the record at cons_head as ours. Returns where
 * it ends, the new cons_head (for q_release_rec()).
 */
static HOT uint64_t q_claim(struct shmchan_queue *q, uint64_t pos,
			    uint32_t size)
{
	struct q_hdr *h = q->h;
	uint64_t end = next_pos(q, pos, size);

	/* relaxed: ordered before the head by the release below, which is
	 * what a reaper reads (acquire) before it looks at the note */
	atomic_store_explicit(&h->slots[q->slot].claim, pos,
			      memory_order_relaxed);
	atomic_store_explicit(&h->cons_head, end, memory_order_release);
	return end;
}

/* Done with the record claimed at @pos, which ends at @end (q_claim()). */
static HOT void q_release_rec(struct shmchan_queue *q, uint64_t pos,
			      uint64_t st, uint64_t end)
{
	q_done_from(q, pos, st, end);
	atomic_store_explicit(&q->h->slots[q->slot].claim, POS_NONE,
			      memory_order_relaxed);
}

/* ------------------------------------------------------------ receiving */

/*
 * Under cons_lock: look at the record at cons_head. Returns 0 with a
 * position and its state, or -ENODATA (nothing published), -EINPROGRESS
 * (a BUSY record), with @w set up to wait for a change, or -EAGAIN (it
 * passed over a record a dead receiver left DONE: look again).
 */
static HOT int q_head(struct shmchan_queue *q, uint64_t *pos, uint64_t *stp,
		      struct q_watch *w)
{
	struct q_hdr *h = q->h;
	uint64_t c, p, st;
	struct q_rec *r;

	/* relaxed: only the lock holder writes cons_head */
	c = atomic_load_explicit(&h->cons_head, memory_order_relaxed);
	p = q->seen_head;
	/* A head seen beyond cons_head proves a record there; else look. */
	if (p <= c) {
		/* acquire: the headers published before the head */
		p = atomic_load_explicit(&h->prod_head, memory_order_acquire);
		q->seen_head = p;
	}
	w->q = q;
	w->space = false;
	w->head = p;
	w->pos = POS_NONE;
	w->part = false;
	if (c == p)
		return -ENODATA;
	r = rec_at(q, c);
	/* acquire: the payload written before READY (q_commit_rec()) */
	st = atomic_load_explicit(&r->state, memory_order_acquire);
	if (st_tag(st) != tag_of(c) || !rec_ok(q, c, r, st))
		return -EPROTO;
	*pos = c;
	*stp = st;
	switch (st & ST_PHASE) {
	case ST_DONE:
		/* left by a receiver killed passing over it or taking it
		 * small (q_take_small()): the head moves on */
		atomic_store_explicit(&h->cons_head, next_pos(q, c, r->size),
				      memory_order_release);
		q_reclaim(q);
		return -EAGAIN;
	case ST_READY:
		return 0;
	case ST_BUSY:
		if (st_slot(st) == q->slot && q->rsv_pos == c)
			return -EDEADLK;	/* our own reservation */
		w->pos = c;
		w->st = st;
		return -EINPROGRESS;
	default:
		return -EPROTO;
	}
}

/*
 * At a BUSY record: is it a message in one record, that fits @part->cap,
 * whose sender says how much of it it has written (ST_PROG)? Then @done
 * is that word and @avail what may be copied. acquire: pairs with the
 * sender's release of `done` (q_send_one()), so the bytes below it are
 * there. The header's length, read again here, bounds it (words in
 * shared memory, from a peer).
 */
static HOT bool q_avail(struct shmchan_queue *q, uint64_t pos, uint64_t st,
			const struct q_part *part, uint64_t *done,
			uint64_t *avail)
{
	struct q_rec *r = rec_at(q, pos);
	uint64_t len;

	if ((st & (ST_PROG | ST_FIRST | ST_LAST)) !=
	    (ST_PROG | ST_FIRST | ST_LAST))
		return false;
	len = r->len;
	if (len > part->cap || REC_HDR + len > q->max_rec)
		return false;
	*done = atomic_load_explicit(&r->done, memory_order_acquire);
	*avail = *done < len ? *done : len;
	return true;
}

/*
 * Under cons_lock: the start of the next message, waiting for one.
 * Skips pads, aborted records and rounds left over by a dead receiver.
 *
 * With @part (a receiver that copies, and may wait), a message whose
 * sender still writes it and says how far it is (ST_PROG) is news as soon
 * as more of it is written than @part has copied: -EINPROGRESS, with
 * @part->avail the bytes there. The caller copies them out, still under
 * cons_lock (so no other receiver takes the message, and it is claimed
 * only once READY, as any other), and calls again. Nothing is delivered
 * before READY: an aborted record is passed over as ever, and what was
 * copied of it is overwritten by the next message.
 */
static HOT int q_next(struct shmchan_queue *q,
		      const struct shmchan__deadline *d, uint64_t *pos,
		      uint64_t *stp, struct q_part *part)
{
	struct q_watch w;
	uint64_t done = 0, avail;
	bool gone = false;
	int ret;

	for (;;) {
		ret = q_head(q, pos, stp, &w);
		if (ret == -EAGAIN)
			continue;
		if (ret == 0) {
			if (*stp & (ST_PAD | ST_ABORT) || !(*stp & ST_FIRST)) {
				q_skip(q, *pos, *stp);
				continue;
			}
			return 0;
		}
		if (ret == -ENODATA && gone)
			return -EPIPE;
		/*
		 * Nothing there: are all senders gone? Read before we look
		 * at the ring again (see q_leave()), so that a ring empty
		 * after that is empty for good. Only then: a receiver that
		 * finds a message needs no look at the peer maps.
		 */
		if (ret == -ENODATA && senders_gone(q)) {
			gone = true;
			continue;
		}
		if (ret != -ENODATA && ret != -EINPROGRESS)
			return ret;
		if (ret == -EINPROGRESS && part) {
			if (part->pos != *pos) {
				part->pos = *pos;
				part->got = 0;
			}
			w.part = q_avail(q, *pos, *stp, part, &done, &avail);
			if (w.part && avail > part->got) {
				part->avail = avail;
				return -EINPROGRESS;
			}
			w.prog = done;
		}
		w.rounds = atomic_load_explicit(&q->h->rounds,
						memory_order_relaxed);
		w.want = w.head + 1;	/* anything */
		w.kick = ret == -EINPROGRESS ? 0 : w.want;
		ret = q_wait(q, &w, d);
		if (ret)
			return ret;
		/* a sender may have come while we waited: look again */
		gone = false;
	}
}

/* The length of the message that starts at @pos (state @st). */
static inline uint64_t msg_len(const struct shmchan_queue *q, uint64_t pos,
			       uint64_t st)
{
	const struct q_rec *r = rec_at(q, pos);

	return st & ST_LAST ? r->len : r->total;
}

/*
 * At the start of every call that sends or receives: has the channel been
 * revoked, a process died, or are we in a forked child? One load of the
 * status page and one of the fork generation, no system call.
 */
static HOT int q_enter(struct shmchan_queue *q)
{
	uint64_t w = shmchan__status_read(&q->status);

	if (__builtin_expect(w != q->status_seen ||
			     q->gen != shmchan__fork_generation(), 0))
		return q_enter_slow(q, w);
	return 0;
}

/* The checks every sending call starts with (send, reserve) */
static HOT int send_check(struct shmchan_queue *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (!(q->roles & SHMCHAN_QUEUE_SEND))
		return -EBADF;
	ret = q_enter(q);
	if (ret)
		return ret;
	if (q->rsv_pos != POS_NONE)
		return -EBUSY;
	return 0;
}

/* The checks every receiving call starts with (recv, peek) */
static HOT int recv_check(struct shmchan_queue *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (!(q->roles & SHMCHAN_QUEUE_RECV))
		return -EBADF;
	ret = q_enter(q);
	if (ret)
		return ret;
	if (q->peek_pos != POS_NONE)
		return -EBUSY;
	return 0;
}

#endif /* LIBSHMCHAN_QUEUE_H */
