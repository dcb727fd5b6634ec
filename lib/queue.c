// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The message queue: a ring of records in one channel, shared by any
 * number of senders and receivers, each a peer with a place in the
 * queue's header.
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
 * SEND_INLINE_MAX) is copied under the lock and published READY.
 *
 * Receiving. Under cons_lock a receiver looks at the record at cons_head:
 * pads, aborted records and rounds of a message whose receiver died are
 * skipped; a READY message start is claimed (noted in the slot, cons_head
 * advanced) and the lock dropped; the receiver copies it out (or hands it
 * out, for peek) and marks it DONE. Freeing is in ring order: whoever
 * finds DONE records at cons_tail moves it past them by CAS.
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
 * Waiting. No system call on the fast path: a side that must wait counts
 * itself in data_sleepers or space_sleepers, then sleeps in the module on
 * data_seq or space_seq; the other side bumps the word and calls
 * shmchan_wake() only when the count is non-zero. Locks use the futex
 * protocol with a waiters bit.
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
 * did before leaving), `seen` (the map bit set before it, q_register()).
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
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "peers.h"

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
 */
struct q_rec {
	_Alignas(8) _Atomic uint64_t state;
	uint32_t size;
	uint32_t len;
	_Alignas(8) uint64_t total;
	_Alignas(8) uint64_t __reserved;
};

_Static_assert(sizeof(struct q_rec) == REC_HDR, "record header");

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
	struct shmchan__spin spin;
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

/* ------------------------------------------------------------ waking */

static void q_bump(struct shmchan_queue *q, _Atomic uint32_t *seq)
{
	/* release: a sleeper that reads the new sequence sees the change */
	atomic_fetch_add_explicit(seq, 1, memory_order_release);
	shmchan_wake(q->ch, word_off(q, seq), SHMCHAN_WAKE_ALL);
}

/*
 * Wake the side's sleeper, if it still sleeps. At most one thread sleeps
 * per side (the holder of its lock), so its flag is 0 or 1, and the waker
 * that takes it to 0 is the one that makes the system call: a sleeper
 * that is slow to run is not woken again and again.
 */
static void q_wake_side(struct shmchan_queue *q, _Atomic uint32_t *sleeping,
			_Atomic uint32_t *seq)
{
	if (atomic_exchange_explicit(sleeping, 0, memory_order_relaxed))
		q_bump(q, seq);
}

static inline uint64_t ld(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline uint32_t ld32(_Atomic uint32_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/*
 * Tell sleepers of one side that something changed: room (@space) or data.
 * The fence pairs with the one in q_wait(): either the sleeper, after
 * counting itself and storing its wants, sees our change, or we see its
 * count and wants, and wake it (or both).
 *
 * Wake-ups are batched in streams, never at the price of progress:
 *
 * - A sender asleep for room waits until cons_tail reaches its want (half
 *   a ring free; at most what is published, which receivers free without
 *   its help), or only for the room it needs if receivers sleep too.
 * - A receiver asleep in the middle of a message in rounds waits until
 *   half a ring more of it is published, or for anything new if the
 *   sender sleeps too. Elsewhere (a message to begin, a record being
 *   written) any commit wakes it.
 * - A sender going to sleep wakes a sleeping receiver; a receiver going
 *   to sleep wakes a sleeping sender whose room is there (q_wait()).
 *
 * So both cannot sleep while either could go on. @force wakes regardless.
 */
static void q_kick_slow(struct shmchan_queue *q, bool space, bool force)
{
	struct q_hdr *h = q->h;

	if (!space) {
		if (ld32(&h->data_sleepers) &&
		    (force || ld(&h->prod_head) >= ld(&h->data_want) ||
		     ld32(&h->space_sleepers)))
			q_wake_side(q, &h->data_sleepers, &h->data_seq);
		return;
	}
	if (ld32(&h->space_sleepers) &&
	    (force || ld(&h->cons_tail) >= ld(&h->space_want) ||
	     (ld32(&h->data_sleepers) &&
	      ld(&h->cons_tail) >= ld(&h->space_needed))))
		q_wake_side(q, &h->space_sleepers, &h->space_seq);
}

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
 * The peer maps changed: wake whoever waits for a peer to join
 * (shmchan_queue_wait_peer(), or a poller of the word). Unconditional, as
 * a poller is counted nowhere; opening and closing are slow anyway.
 */
static void q_peers_changed(struct shmchan_queue *q)
{
	q_bump(q, &q->h->peer_seq);
}

/* Peers came or went: everyone re-evaluates. Rare, so unconditional. */
static void q_kick_all(struct shmchan_queue *q)
{
	q_bump(q, &q->h->data_seq);
	q_bump(q, &q->h->space_seq);
	q_peers_changed(q);
}

/* ------------------------------------------------------------ peer death */

static void q_scan(struct shmchan_queue *q);

/*
 * The death count now, after a wait ended with -EOWNERDEAD: from the
 * status page if there is one (the module changes it before it wakes the
 * wait), else from STAT.
 */
static int q_refresh_deaths(struct shmchan_queue *q)
{
	uint64_t w;

	if (!q->status.page)
		return shmchan__deaths(q->ch, &q->deaths);
	w = shmchan__status_read(&q->status);
	if (shmchan__status_revoked(w))
		return -EIDRM;
	q->deaths = shmchan__status_deaths(w);
	q->status_seen = w;
	return 0;
}

/*
 * Sleep on @word while it holds @val. A death since our last scan ends
 * the wait at once (the module compares the count), and we scan; the
 * caller re-evaluates in every case but an error.
 */
static int q_sleep(struct shmchan_queue *q, _Atomic uint32_t *word,
		   uint32_t val, const struct shmchan__deadline *d)
{
	int ret;

	if (q->death_notice)
		ret = shmchan_wait_deaths(q->ch, word_off(q, word), val,
					  q->deaths, shmchan__deadline_ts(d));
	else
		ret = shmchan_wait(q->ch, word_off(q, word), val,
				   shmchan__deadline_ts(d));
	if (ret == -EOWNERDEAD) {
		/* The count first: a death after it fails the next wait. */
		ret = q_refresh_deaths(q);
		if (ret)
			return ret;
		q_scan(q);
		return 0;
	}
	return ret == -EAGAIN ? 0 : ret;
}

/* ------------------------------------------------------------ locks */

static int q_lock_slow(struct shmchan_queue *q, _Atomic uint32_t *lock,
		       const struct shmchan__deadline *d, uint32_t v)
{
	int i, ret;

	/* The holder runs a few stores: a short spin beats a sleep. */
	for (i = 0; i < LOCK_SPIN && !(v & LOCK_BLOCKED); i++) {
		shmchan__cpu_relax();
		v = atomic_load_explicit(lock, memory_order_relaxed);
		if (!v && atomic_compare_exchange_weak_explicit(
				lock, &v, q->me, memory_order_acquire,
				memory_order_relaxed))
			return 0;
	}
	for (;;) {
		v = atomic_load_explicit(lock, memory_order_relaxed);
		if (!v) {
			/* Others may sleep: keep the bit so we wake one. */
			if (atomic_compare_exchange_weak_explicit(
					lock, &v, q->me | LOCK_WAITERS,
					memory_order_acquire,
					memory_order_relaxed))
				return 0;
			continue;
		}
		if (d->nowait)
			return -EAGAIN;
		if (!(v & LOCK_WAITERS) &&
		    !atomic_compare_exchange_weak_explicit(
				lock, &v, v | LOCK_WAITERS,
				memory_order_relaxed, memory_order_relaxed))
			continue;
		ret = q_sleep(q, lock, v | LOCK_WAITERS, d);
		if (ret) {
			/* An unlock may have woken us just as we give up:
			 * pass its wake-up on, or another sleeper keeps
			 * sleeping on a free lock. */
			if (atomic_load_explicit(lock, memory_order_relaxed) &
			    LOCK_WAITERS)
				shmchan_wake(q->ch, word_off(q, lock), 1);
			return ret;
		}
	}
}

static HOT int q_lock(struct shmchan_queue *q, _Atomic uint32_t *lock,
			 const struct shmchan__deadline *d)
{
	uint32_t v = 0;

	/* acquire: the section sees what the last holder wrote before its
	 * release in q_unlock() */
	if (atomic_compare_exchange_strong_explicit(lock, &v, q->me,
						    memory_order_acquire,
						    memory_order_relaxed))
		return 0;
	return q_lock_slow(q, lock, d, v);
}

static HOT void q_unlock(struct shmchan_queue *q, _Atomic uint32_t *lock)
{
	/* release: publishes the section to the next holder */
	uint32_t v = atomic_exchange_explicit(lock, 0, memory_order_release);

	if (v & LOCK_WAITERS)
		shmchan_wake(q->ch, word_off(q, lock), 1);
}

/* The holder is about to sleep (or woke): contenders should not spin. */
static void q_lock_blocked(_Atomic uint32_t *lock, bool blocked)
{
	if (blocked)
		atomic_fetch_or_explicit(lock, LOCK_BLOCKED,
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(lock, ~LOCK_BLOCKED,
					  memory_order_relaxed);
}

/* Take over @lock from dead slot @slot. Returns whether we hold it. */
static bool q_steal(struct shmchan_queue *q, _Atomic uint32_t *lock,
		    uint32_t slot)
{
	uint32_t v = atomic_load_explicit(lock, memory_order_relaxed);

	while ((v & LOCK_OWNER) == slot + 1) {
		/* acquire: as in q_lock() (the dead holder's stores were
		 * released by the exit that made it dead, if at all; the
		 * repairs below only rely on positions read by acquire) */
		if (atomic_compare_exchange_weak_explicit(
				lock, &v, q->me | (v & LOCK_WAITERS),
				memory_order_acquire, memory_order_relaxed))
			return true;
	}
	return false;
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
};

/* Relaxed loads: the caller reads again, with ordering, once it fired. */
static HOT bool fired(const struct q_watch *w, bool sleeping)
{
	const struct shmchan_queue *q = w->q;
	struct q_hdr *h = q->h;
	uint64_t v;

	if (w->space) {
		v = ld(&h->cons_tail);
		if (!sleeping)
			return v != w->head || receivers_gone(q);
		return v >= w->want || receivers_gone(q) ||
		       (v >= w->needed && ld32(&h->data_sleepers));
	}
	v = ld(&h->prod_head);
	if (!sleeping ? v != w->head :
	    v >= w->want || (v != w->head && ld32(&h->space_sleepers)))
		return true;
	if (w->pos != POS_NONE &&
	    atomic_load_explicit(&rec_at(q, w->pos)->state,
				 memory_order_relaxed) != w->st)
		return true;
	if (atomic_load_explicit(&h->rounds, memory_order_relaxed) != w->rounds)
		return true;
	/* At a BUSY record only its commit (or abort) is news. */
	return w->pos == POS_NONE && senders_gone(q);
}

static inline bool spin_fired(void *arg)
{
	return fired(arg, false);
}

/*
 * Wait until @w fires: spin (if enabled) without system calls, then count
 * ourselves a sleeper and sleep in the module. Returns 0 to re-evaluate.
 */
static int q_wait(struct shmchan_queue *q, struct q_watch *w,
		  const struct shmchan__deadline *d)
{
	struct q_hdr *h = q->h;
	_Atomic uint32_t *seq = w->space ? &h->space_seq : &h->data_seq;
	_Atomic uint32_t *sleepers = w->space ? &h->space_sleepers :
						&h->data_sleepers;
	_Atomic uint32_t *lock = w->space ? &h->prod_lock : &h->cons_lock;
	uint32_t val;
	int ret;

	if (d->nowait)
		return -EAGAIN;
	if (shmchan__spin_until(&q->spin, d, spin_fired, w))
		return 0;
	/* We hold our side's lock and are about to sleep: contenders should
	 * not spin for it. Not before: a spin that pays off costs no RMW. */
	q_lock_blocked(lock, true);
	/* relaxed: ordered before the wakers' reads by the fence below */
	if (w->space) {
		atomic_store_explicit(&h->space_want, w->want, memory_order_relaxed);
		atomic_store_explicit(&h->space_needed, w->needed,
				      memory_order_relaxed);
	} else {
		atomic_store_explicit(&h->data_want, w->kick, memory_order_relaxed);
		atomic_store_explicit(&h->data_head, w->head, memory_order_relaxed);
	}
	atomic_store_explicit(sleepers, 1, memory_order_relaxed);
	/* Pairs with the fence in q_kick(); see there. */
	atomic_thread_fence(memory_order_seq_cst);
	/* We stop: the other side must not wait for us (see q_kick()) */
	if (w->space && ld32(&h->data_sleepers))
		q_wake_side(q, &h->data_sleepers, &h->data_seq);
	if (!w->space && ld32(&h->space_sleepers) &&
	    ld(&h->cons_tail) >= ld(&h->space_needed))
		q_wake_side(q, &h->space_sleepers, &h->space_seq);
	/* acquire: pairs with the release bump, so that a new sequence
	 * comes with the change that caused it */
	val = atomic_load_explicit(seq, memory_order_acquire);
	ret = fired(w, true) ? 0 : q_sleep(q, seq, val, d);
	atomic_store_explicit(sleepers, 0, memory_order_relaxed);
	q_lock_blocked(lock, false);
	return ret;
}

/* ------------------------------------------------------------ producing */

/*
 * Under prod_lock: find room for a record of @size at the head (after a
 * pad if it would run past the ring's end). Sleeps while there is none.
 */
static int q_room_slow(struct shmchan_queue *q, uint32_t size,
		       const struct shmchan__deadline *d, uint64_t *start)
{
	struct q_hdr *h = q->h;
	struct q_watch w = { .q = q, .space = true, .pos = POS_NONE };
	uint64_t p, s;
	int ret;

	for (;;) {
		if (receivers_gone(q))
			return -EPIPE;
		/* relaxed: only the lock holder writes prod_head */
		p = atomic_load_explicit(&h->prod_head, memory_order_relaxed);
		s = (p & q->mask) + size > q->cap ? (p | q->mask) + 1 : p;
		if (s + size <= q->seen_tail + q->vcap)
			break;
		/* acquire: the receivers' reads of the room they freed
		 * happen before we write into it */
		q->seen_tail = atomic_load_explicit(&h->cons_tail,
						    memory_order_acquire);
		if (s + size <= q->seen_tail + q->vcap)
			break;
		/* Asleep, wait for half the ring: fewer, fuller wake-ups. But
		 * never for more than receivers can free without us (what is
		 * published). */
		w.head = q->seen_tail;
		w.needed = s + size - q->vcap;
		w.want = w.needed + q->cap / 2;
		if (w.want > p)
			w.want = p;
		ret = q_wait(q, &w, d);
		if (ret)
			return ret;
	}
	*start = s;
	return 0;
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
 * Under prod_lock: if the record at @start does not begin at prod_head (it
 * wrapped to the ring's start), a READY pad fills the ring's end. Relaxed:
 * published by the caller's release of prod_head.
 */
static void q_write_pad(struct shmchan_queue *q, uint64_t start)
{
	uint64_t p = atomic_load_explicit(&q->h->prod_head, memory_order_relaxed);
	struct q_rec *r;

	if (start == p)
		return;
	r = rec_at(q, p);
	r->size = (uint32_t)(q->cap - (p & q->mask));
	r->len = 0;
	r->total = 0;
	atomic_store_explicit(&r->state, tag_of(p) | ST_READY | ST_PAD,
			      memory_order_relaxed);
}

/*
 * Under prod_lock, with room found at @start: write the pad (if any) and
 * the record's header as BUSY, note it in our slot, and publish.
 */
static void q_publish(struct shmchan_queue *q, uint64_t start, uint32_t size,
		      uint32_t len, uint64_t total, uint64_t flags)
{
	struct q_hdr *h = q->h;
	struct q_rec *r;

	q_write_pad(q, start);
	r = rec_at(q, start);
	r->size = size;
	r->len = len;
	r->total = total;
	atomic_store_explicit(&r->state,
			      tag_of(start) | (uint64_t)q->slot << ST_SLOT_SHIFT |
			      ST_BUSY | flags, memory_order_relaxed);
	atomic_store_explicit(&h->slots[q->slot].busy, start,
			      memory_order_relaxed);
	/* release: a receiver that sees this message's start in `rounds`
	 * (acquire, q_next_round()) sees the last round of the one before,
	 * published before our lock was ours */
	if ((flags & (ST_FIRST | ST_LAST)) == ST_FIRST)
		atomic_store_explicit(&h->rounds, start, memory_order_release);
	/* release: whoever sees the new head (acquire) sees the headers,
	 * the slot's note and `rounds` above */
	atomic_store_explicit(&h->prod_head, next_pos(q, start, size),
			      memory_order_release);
}

/*
 * BUSY to READY (or ABORT), after the payload is written. Fails only if a
 * reaper took us for dead and aborted the record already.
 */
static int q_commit_rec(struct shmchan_queue *q, uint64_t pos, uint32_t len,
			bool abort)
{
	struct q_rec *r = rec_at(q, pos);
	uint64_t old = atomic_load_explicit(&r->state, memory_order_relaxed);
	uint64_t new;
	bool ok;

	if (st_tag(old) != tag_of(pos) || (old & ST_PHASE) != ST_BUSY)
		return -EPROTO;
	if (!abort) {
		r->len = len;
		if (old & ST_LAST && old & ST_FIRST)
			r->total = len;
	}
	new = st_tag(old) | (old & ST_KIND) | ST_READY | (abort ? ST_ABORT : 0);
	/* release: the payload and header before the state */
	ok = atomic_compare_exchange_strong_explicit(&r->state, &old, new,
						     memory_order_release,
						     memory_order_relaxed);
	atomic_store_explicit(&q->h->slots[q->slot].busy, POS_NONE,
			      memory_order_relaxed);
	/* The end of a message is news to a receiver in it. */
	q_kick(q, false, abort || (old & ST_LAST));
	return ok ? 0 : -EPROTO;
}

/*
 * A small message is copied under prod_lock and published READY: no BUSY
 * record for a receiver to find and wait at again, no commit (one RMW and
 * a cache line's round trip less). Copying a few hundred bytes holds the
 * lock no longer than the stores around it; bigger ones are copied
 * outside it, in parallel with other senders.
 */
static void q_publish_small(struct shmchan_queue *q, uint64_t start,
			    uint32_t size, const void *msg, uint32_t len)
{
	struct q_hdr *h = q->h;
	struct q_rec *r;

	q_write_pad(q, start);
	r = rec_at(q, start);
	r->size = size;
	r->len = len;
	r->total = len;
	if (len)
		memcpy(payload(q, start), msg, len);
	/* relaxed: the payload, header and state are published by the
	 * release of prod_head. No slot: READY states carry none (as after
	 * q_commit_rec(); q_done() expects them so). */
	atomic_store_explicit(&r->state,
			      tag_of(start) | ST_READY | ST_FIRST | ST_LAST,
			      memory_order_relaxed);
	atomic_store_explicit(&h->prod_head, next_pos(q, start, size),
			      memory_order_release);
}

static int q_send_one(struct shmchan_queue *q, const void *msg, size_t len,
		      const struct shmchan__deadline *d)
{
	uint32_t size = rec_size(len);
	uint64_t start;
	int ret;

	ret = q_lock(q, &q->h->prod_lock, d);
	if (ret)
		return ret;
	ret = q_room(q, size, d, &start);
	if (ret) {
		q_unlock(q, &q->h->prod_lock);
		return ret;
	}
	if (len <= SEND_INLINE_MAX) {
		q_publish_small(q, start, size, msg, (uint32_t)len);
		q_unlock(q, &q->h->prod_lock);
		q_kick(q, false, true);
		return 0;
	}
	q_publish(q, start, size, (uint32_t)len, len, ST_FIRST | ST_LAST);
	q_unlock(q, &q->h->prod_lock);
	memcpy(payload(q, start), msg, len);
	return q_commit_rec(q, start, (uint32_t)len, false);
}

/* A message longer than max_msg: rounds, all under prod_lock. */
static int q_send_rounds(struct shmchan_queue *q, const uint8_t *msg,
			 uint64_t len, const struct shmchan__deadline *d)
{
	struct q_hdr *h = q->h;
	uint64_t per = q->round_rec - REC_HDR, off, n, start, flags;
	bool begun = false;
	int ret;

	ret = q_lock(q, &h->prod_lock, d);
	if (ret)
		return ret;
	for (off = 0; off < len; off += n) {
		n = len - off < per ? len - off : per;
		flags = (off ? 0 : ST_FIRST) | (off + n == len ? ST_LAST : 0);
		ret = q_room(q, rec_size(n), d, &start);
		if (ret)
			break;
		q_publish(q, start, rec_size(n), (uint32_t)n, len, flags);
		begun = true;
		memcpy(payload(q, start), msg + off, n);
		ret = q_commit_rec(q, start, (uint32_t)n, false);
		if (ret)
			break;
	}
	if (begun) {
		/* release: a receiver that sees the message over sees its
		 * last round published (or knows there is none to come) */
		atomic_store_explicit(&h->rounds, POS_NONE,
				      memory_order_release);
		if (ret)
			q_kick(q, false, true);
	}
	q_unlock(q, &h->prod_lock);
	return ret;
}

/* ------------------------------------------------------------ consuming */

static HOT void q_reclaim(struct shmchan_queue *q);

/*
 * READY to DONE, then free what can be freed. seq_cst: pairs with the
 * loads in q_reclaim(): either a reclaimer that moved cons_tail up to this
 * record sees DONE, or our reclaim sees its cons_tail.
 */
static HOT void q_done(struct shmchan_queue *q, uint64_t pos, uint64_t st)
{
	uint64_t expect = st_tag(st) | (st & ST_KIND) | ST_READY;

	if (atomic_compare_exchange_strong_explicit(
			&rec_at(q, pos)->state, &expect,
			st_tag(st) | (st & ST_KIND) | ST_DONE,
			memory_order_seq_cst, memory_order_relaxed))
		q_reclaim(q);
}

/* Move cons_tail past the DONE records at it, and wake senders. */
static HOT void q_reclaim(struct shmchan_queue *q)
{
	struct q_hdr *h = q->h;
	uint64_t t, head, st;
	struct q_rec *r;
	bool freed = false;

	t = atomic_load_explicit(&h->cons_tail, memory_order_seq_cst);
	for (;;) {
		head = atomic_load_explicit(&h->cons_head, memory_order_acquire);
		if (t >= head)
			break;
		r = rec_at(q, t);
		st = atomic_load_explicit(&r->state, memory_order_seq_cst);
		if (st_tag(st) != tag_of(t) || (st & ST_PHASE) != ST_DONE ||
		    !rec_ok(q, t, r, st))
			break;
		/* seq_cst, and a release of the room to producers; fails
		 * (reloading t) when another reclaimer moved it first */
		if (atomic_compare_exchange_strong_explicit(
				&h->cons_tail, &t, next_pos(q, t, r->size),
				memory_order_seq_cst, memory_order_seq_cst)) {
			t = next_pos(q, t, r->size);
			freed = true;
		}
	}
	if (freed)
		q_kick(q, true, false);
}

/* Under cons_lock: take the record at cons_head as ours. */
static HOT void q_claim(struct shmchan_queue *q, uint64_t pos, uint32_t size)
{
	struct q_hdr *h = q->h;

	/* relaxed: ordered before the head by the release below, which is
	 * what a reaper reads (acquire) before it looks at the note */
	atomic_store_explicit(&h->slots[q->slot].claim, pos,
			      memory_order_relaxed);
	atomic_store_explicit(&h->cons_head, next_pos(q, pos, size),
			      memory_order_release);
}

static HOT void q_release_rec(struct shmchan_queue *q, uint64_t pos, uint64_t st)
{
	q_done(q, pos, st);
	atomic_store_explicit(&q->h->slots[q->slot].claim, POS_NONE,
			      memory_order_relaxed);
}

/*
 * Under cons_lock: pass over the record at cons_head. DONE first, then
 * the head: a receiver killed in between leaves a DONE record at the head,
 * which the next one passes over (q_head()); the other way round would
 * leave a READY record below the head that nobody would ever free.
 */
static void q_skip(struct shmchan_queue *q, uint64_t pos, uint64_t st)
{
	struct q_rec *r = rec_at(q, pos);
	uint64_t expect = st_tag(st) | (st & ST_KIND) | ST_READY;

	/* seq_cst: as in q_done() */
	atomic_compare_exchange_strong_explicit(
		&r->state, &expect, st_tag(st) | (st & ST_KIND) | ST_DONE,
		memory_order_seq_cst, memory_order_relaxed);
	atomic_store_explicit(&q->h->cons_head, next_pos(q, pos, r->size),
			      memory_order_release);
	q_reclaim(q);
}

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
		/* left by a receiver killed while passing over it */
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
 * Under cons_lock: the start of the next message, waiting for one.
 * Skips pads, aborted records and rounds left over by a dead receiver.
 */
static int q_next(struct shmchan_queue *q, const struct shmchan__deadline *d,
		  uint64_t *pos, uint64_t *stp)
{
	struct q_watch w;
	bool gone;
	int ret;

	for (;;) {
		/* before looking at the ring: see q_leave() */
		gone = senders_gone(q);
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
		if (ret != -ENODATA && ret != -EINPROGRESS)
			return ret;
		w.rounds = atomic_load_explicit(&q->h->rounds,
						memory_order_relaxed);
		w.want = w.head + 1;	/* anything */
		w.kick = ret == -EINPROGRESS ? 0 : w.want;
		ret = q_wait(q, &w, d);
		if (ret)
			return ret;
	}
}

/*
 * Under cons_lock, in the middle of the message that began at @first: the
 * next round. -ECANCELED when the message ended without its LAST round.
 * Waits without a deadline: the sender is alive and has room.
 */
static int q_next_round(struct shmchan_queue *q, uint64_t first,
			uint64_t *pos, uint64_t *stp)
{
	struct shmchan__deadline forever = { .forever = true };
	struct q_watch w;
	uint64_t rounds;
	int ret;

	for (;;) {
		/* acquire, before the head: if the message is over, its
		 * last round is published (q_send_rounds()) */
		rounds = atomic_load_explicit(&q->h->rounds,
					      memory_order_acquire);
		ret = q_head(q, pos, stp, &w);
		if (ret == -EAGAIN)
			continue;
		if (ret == 0) {
			if (*stp & ST_PAD) {
				q_skip(q, *pos, *stp);
				continue;
			}
			if (*stp & ST_ABORT) {
				q_skip(q, *pos, *stp);
				return -ECANCELED;
			}
			return *stp & ST_FIRST ? -ECANCELED : 0;
		}
		if (ret == -ENODATA && rounds != first)
			return -ECANCELED;
		if (ret != -ENODATA && ret != -EINPROGRESS)
			return ret;
		w.rounds = rounds;
		/* in a message: half a ring more of it (or its end) */
		w.want = w.head + q->cap / 2;
		w.kick = w.want;
		ret = q_wait(q, &w, &forever);
		if (ret && ret != -EINTR)
			return ret;
	}
}

/* Under cons_lock: receive a message in rounds, starting at @pos. */
static ssize_t q_recv_rounds(struct shmchan_queue *q, uint8_t *buf,
			     uint64_t pos, uint64_t st, uint64_t total)
{
	uint64_t got = 0, first = pos;
	struct q_rec *r;
	int ret;

	for (;;) {
		r = rec_at(q, pos);
		if (r->len > total - got || (st & ST_FIRST && r->total != total))
			return -EPROTO;
		q_claim(q, pos, r->size);
		memcpy(buf + got, payload(q, pos), r->len);
		got += r->len;
		q_release_rec(q, pos, st);
		if (st & ST_LAST)
			return got == total ? (ssize_t)total : -EPROTO;
		ret = q_next_round(q, first, &pos, &st);
		if (ret)
			return ret;
	}
}

/* The length of the message that starts at @pos (state @st). */
static uint64_t msg_len(const struct shmchan_queue *q, uint64_t pos,
			uint64_t st)
{
	const struct q_rec *r = rec_at(q, pos);

	return st & ST_LAST ? r->len : r->total;
}

/* ------------------------------------------------------------ slots */

static void map_set(_Atomic uint32_t map[2], uint32_t slot, bool on)
{
	uint32_t bit = 1U << (slot % 32);

	/* release: a peer that sees us gone sees what we did before */
	if (on)
		atomic_fetch_or_explicit(&map[slot / 32], bit,
					 memory_order_release);
	else
		atomic_fetch_and_explicit(&map[slot / 32], ~bit,
					  memory_order_release);
}

/* Dead producer @i: release its lock, abort its half-written record. */
static void q_recover_prod(struct shmchan_queue *q, uint32_t i)
{
	struct q_hdr *h = q->h;
	bool held = q_steal(q, &h->prod_lock, i);
	uint64_t b, st, expect;
	struct q_rec *r;

	b = atomic_load_explicit(&h->slots[i].busy, memory_order_relaxed);
	if (b != POS_NONE &&
	    b < atomic_load_explicit(&h->prod_head, memory_order_acquire)) {
		r = rec_at(q, b);
		st = atomic_load_explicit(&r->state, memory_order_relaxed);
		expect = st;
		if (st_tag(st) == tag_of(b) && (st & ST_PHASE) == ST_BUSY &&
		    st_slot(st) == i &&
		    atomic_compare_exchange_strong_explicit(
				&r->state, &expect,
				st_tag(st) | (st & ST_KIND) | ST_READY | ST_ABORT,
				memory_order_release, memory_order_relaxed))
			q_kick(q, false, true);
	}
	if (held) {
		/* Only the holder sets `rounds`: the dead one was half-way. */
		if (atomic_load_explicit(&h->rounds, memory_order_relaxed) != POS_NONE)
			atomic_store_explicit(&h->rounds, POS_NONE,
					      memory_order_release);
		q_unlock(q, &h->prod_lock);
	}
}

/* Dead consumer @i: release its lock, free the record it had claimed. */
static void q_recover_cons(struct shmchan_queue *q, uint32_t i)
{
	struct q_hdr *h = q->h;
	bool held = q_steal(q, &h->cons_lock, i);
	uint64_t c, st;

	c = atomic_load_explicit(&h->slots[i].claim, memory_order_relaxed);
	if (c != POS_NONE &&
	    c < atomic_load_explicit(&h->cons_head, memory_order_acquire)) {
		st = atomic_load_explicit(&rec_at(q, c)->state,
					  memory_order_relaxed);
		if (st_tag(st) == tag_of(c) && (st & ST_PHASE) == ST_READY)
			q_done(q, c, st);
	}
	if (held)
		q_unlock(q, &h->cons_lock);
	/* it may have died freeing, with nobody left to free after it */
	q_reclaim(q);
}

/* Slot @i held state @st of a dead peer: repair what it left, free it. */
static void q_reap(struct shmchan_queue *q, uint32_t i, uint32_t st)
{
	struct q_slot *s = &q->h->slots[i];
	uint32_t roles = (st >> 4) & ROLES;

	/* acq_rel: one reaper wins; it sees the slot as its peer left it */
	if (!atomic_compare_exchange_strong_explicit(
			&s->state, &st, (st & ~SLOT_PHASE) | SLOT_REAPING,
			memory_order_acq_rel, memory_order_relaxed))
		return;
	map_set(q->h->senders, i, false);
	map_set(q->h->receivers, i, false);
	if (roles & SHMCHAN_QUEUE_SEND)
		q_recover_prod(q, i);
	if (roles & SHMCHAN_QUEUE_RECV)
		q_recover_cons(q, i);
	atomic_store_explicit(&s->busy, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&s->claim, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&s->start, 0, memory_order_relaxed);
	/* release: the slot's next owner sees it clean */
	atomic_store_explicit(&s->state, 0, memory_order_release);
	q_kick_all(q);
}

static void q_scan(struct shmchan_queue *q)
{
	struct q_slot *s;
	uint64_t start;
	uint32_t i, st;
	pid_t pid;

	for (i = 0; i < Q_MAX_PEERS; i++) {
		if (i == q->slot)
			continue;
		s = &q->h->slots[i];
		st = atomic_load_explicit(&s->state, memory_order_acquire);
		if ((st & SLOT_PHASE) != SLOT_SETUP &&
		    (st & SLOT_PHASE) != SLOT_LIVE)
			continue;
		pid = (pid_t)(st >> 8);
		start = atomic_load_explicit(&s->start, memory_order_relaxed);
		if (pid == q->pid && (!start || start == q->start))
			continue;	/* another handle of this process */
		if (!shmchan__alive(pid, start, UINT64_MAX, false))
			q_reap(q, i, st);
	}
}

static int q_register(struct shmchan_queue *q, unsigned int roles)
{
	struct q_hdr *h = q->h;
	uint32_t i, v, setup = (uint32_t)q->pid << 8 | SLOT_SETUP;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < Q_MAX_PEERS; i++) {
			v = 0;
			/* acquire: see the slot as its reaper left it */
			if (atomic_compare_exchange_strong_explicit(
					&h->slots[i].state, &v, setup,
					memory_order_acquire,
					memory_order_relaxed))
				goto found;
		}
		/* Full: the dead may hold places; look once more. */
		q_scan(q);
	}
	return -EUSERS;
found:
	atomic_store_explicit(&h->slots[i].start, q->start, memory_order_relaxed);
	atomic_store_explicit(&h->slots[i].busy, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&h->slots[i].claim, POS_NONE, memory_order_relaxed);
	/* release: a scanner that sees LIVE sees our start time */
	atomic_store_explicit(&h->slots[i].state,
			      (uint32_t)q->pid << 8 | roles << 4 | SLOT_LIVE,
			      memory_order_release);
	q->slot = i;
	q->me = i + 1;
	/* The map bit before `seen`: a peer that sees us seen (acquire, in
	 * senders_gone()) sees the bit too, so never "seen, none left"
	 * while we join. */
	if (roles & SHMCHAN_QUEUE_SEND)
		map_set(h->senders, i, true);
	if (roles & SHMCHAN_QUEUE_RECV)
		map_set(h->receivers, i, true);
	/* release: publishes the map bits above */
	atomic_fetch_or_explicit(&h->seen, roles, memory_order_release);
	q_peers_changed(q);
	return 0;
}

/* Leave: out of the maps (release: after our last record), slot freed. */
static void q_leave(struct shmchan_queue *q)
{
	struct q_slot *s = &q->h->slots[q->slot];

	map_set(q->h->senders, q->slot, false);
	map_set(q->h->receivers, q->slot, false);
	atomic_store_explicit(&s->start, 0, memory_order_relaxed);
	atomic_store_explicit(&s->state, 0, memory_order_release);
	q_kick_all(q);
}

/*
 * A handle made before a fork(), used in the child: the slot, the
 * reservation and the peeked message are the parent's, who goes on with
 * them. The child becomes a peer of its own, in a new slot with the same
 * roles, so that what it publishes and claims is noted as its own, and if
 * it dies it is reaped like any peer. Until this succeeds the handle has
 * no slot (and the parent's is never touched: see shmchan_queue_close()).
 */
static void q_disown(struct shmchan_queue *q)
{
	q->rsv_pos = POS_NONE;
	q->peek_pos = POS_NONE;
	q->slot = Q_MAX_PEERS;
	q->me = 0;
}

static int q_forked(struct shmchan_queue *q)
{
	int ret;

	ret = shmchan__self(&q->pid, &q->start);
	if (ret)
		return ret;
	ret = q_register(q, q->roles);
	if (ret)
		return ret;
	q->gen = shmchan__fork_generation();
	return 0;
}

static int q_enter_slow(struct shmchan_queue *q, uint64_t w)
{
	bool forked = q->gen != shmchan__fork_generation();
	int ret;

	if (forked)
		q_disown(q);
	/* The module never clears REVOKED: every call fails from now on. */
	if (shmchan__status_revoked(w))
		return -EIDRM;
	if (forked) {
		ret = q_forked(q);
		if (ret)
			return ret;
	}
	if (shmchan__status_deaths(w) != shmchan__status_deaths(q->status_seen)) {
		/*
		 * The count first, then the scan, as in q_sleep(): a death
		 * after the load fails our next wait and changes the word
		 * again. A peer whose death the count shows is PF_EXITING at
		 * least, which shmchan__alive() takes for dead: so a peer
		 * reaped by its parent (waitpid() returned) before this call
		 * is reaped here, and the caller sees -EPIPE if it was the
		 * last of its side.
		 */
		q->deaths = shmchan__status_deaths(w);
		q_scan(q);
	}
	q->status_seen = w;
	return 0;
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

/* ------------------------------------------------------------ layout */

static void geometry(uint64_t chan_len, uint64_t *cap, uint64_t *vcap,
		     uint32_t *max_rec, uint32_t *round_rec)
{
	uint64_t c = (chan_len - Q_HDR_SIZE) & ~(uint64_t)(REC_ALIGN - 1);
	uint64_t v = 1;

	while (v < c)
		v <<= 1;
	*cap = c;
	*vcap = v;
	*max_rec = (uint32_t)((c / 2 < REC_MAX ? c / 2 : REC_MAX) &
			      ~(uint64_t)(REC_ALIGN - 1));
	*round_rec = (uint32_t)((c / 4 < REC_MAX ? c / 4 : REC_MAX) &
				~(uint64_t)(REC_ALIGN - 1));
}

static void q_format(struct shmchan_queue *q, uint64_t len)
{
	struct q_hdr *h = q->h;

	atomic_store_explicit(&h->init_pid, q->pid, memory_order_relaxed);
	atomic_store_explicit(&h->magic, Q_INITIALIZING, memory_order_relaxed);
	h->layout = SHMCHAN_QUEUE_LAYOUT;
	h->hdr_size = Q_HDR_SIZE;
	h->max_peers = Q_MAX_PEERS;
	h->chan_len = len;
	geometry(len, &h->cap, &h->vcap, &h->max_rec, &h->round_rec);
	atomic_store_explicit(&h->rounds, POS_NONE, memory_order_relaxed);
	/* release: an opener that sees the magic sees the layout */
	atomic_store_explicit(&h->magic, Q_MAGIC, memory_order_release);
	shmchan_wake(q->ch, word_off(q, &h->magic), SHMCHAN_WAKE_ALL);
}

/* An opener that came before the creator finished: wait for the magic. */
static int q_await(struct shmchan_queue *q)
{
	struct q_hdr *h = q->h;
	uint64_t blank_until = shmchan__now_ns() + 200000000ULL;
	struct shmchan__deadline d;
	uint32_t v;

	for (;;) {
		/* acquire: pairs with the release in q_format() */
		v = atomic_load_explicit(&h->magic, memory_order_acquire);
		if (v == Q_MAGIC)
			return 0;
		if (v == 0 && shmchan__now_ns() >= blank_until)
			return -EPROTO;		/* not a queue */
		if (v != 0 && v != Q_INITIALIZING)
			return -EPROTO;
		if (v == Q_INITIALIZING &&
		    !shmchan__alive(atomic_load_explicit(&h->init_pid,
							 memory_order_relaxed),
				    0, 0, false))
			return -EPROTO;		/* its creator died */
		shmchan__deadline_init(&d, 20000000);
		(void)shmchan_wait(q->ch, word_off(q, &h->magic), v,
				   shmchan__deadline_ts(&d));
	}
}

static int q_check(struct shmchan_queue *q, uint64_t len)
{
	struct q_hdr *h = q->h;
	uint64_t cap, vcap;
	uint32_t max_rec, round_rec;

	if (h->layout != SHMCHAN_QUEUE_LAYOUT || h->hdr_size != Q_HDR_SIZE ||
	    h->max_peers != Q_MAX_PEERS || h->chan_len != len)
		return -EPROTO;
	geometry(len, &cap, &vcap, &max_rec, &round_rec);
	if (h->cap != cap || h->vcap != vcap || h->max_rec != max_rec ||
	    h->round_rec != round_rec)
		return -EPROTO;
	q->cap = cap;
	q->vcap = vcap;
	q->mask = vcap - 1;
	q->max_rec = max_rec;
	q->round_rec = round_rec;
	return 0;
}

/* Make @ch (which the queue now owns) a queue handle. */
static int q_attach(struct shmchan *ch, unsigned int roles,
		    struct shmchan_queue **out)
{
	uint64_t feat, len = shmchan_length(ch);
	struct shmchan_queue *q;
	void *base;
	int ret;

	if (len < Q_MIN_LENGTH || (size_t)len != len) {
		shmchan_close(ch);
		return len < Q_MIN_LENGTH ? -EPROTO : -EFBIG;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		shmchan_close(ch);
		return -ENOMEM;
	}
	q->ch = ch;
	q->slot = Q_MAX_PEERS;
	q->rsv_pos = POS_NONE;
	q->peek_pos = POS_NONE;
	q->roles = roles;
	ret = shmchan_map(ch, PROT_READ | PROT_WRITE, &base);
	if (ret)
		goto fail;
	q->h = base;
	q->map_len = (size_t)len;
	q->ring = (uint8_t *)base + Q_HDR_SIZE;
	feat = shmchan__features();
	q->death_notice = feat & SHMCHAN_FEATURE_DEATH_NOTICE;
	shmchan__status_map(ch, feat, &q->status);
	shmchan__fork_init();
	q->gen = shmchan__fork_generation();
	ret = shmchan__self(&q->pid, &q->start);
	if (ret)
		goto fail;
	if (shmchan_was_created(ch))
		q_format(q, len);
	else if ((ret = q_await(q)))
		goto fail;
	ret = q_check(q, len);
	if (ret)
		goto fail;
	/* The death count before the scan: a death after it fails our
	 * next wait at once, and changes the status word. */
	q->status_seen = shmchan__status_read(&q->status);
	if (shmchan__status_revoked(q->status_seen)) {
		ret = -EIDRM;
		goto fail;
	}
	if (q->status.page)
		q->deaths = shmchan__status_deaths(q->status_seen);
	else if (q->death_notice && (ret = shmchan__deaths(ch, &q->deaths)))
		goto fail;
	q_scan(q);
	ret = q_register(q, roles);
	if (ret)
		goto fail;
	*out = q;
	return 0;
fail:
	if (q->h)
		shmchan_unmap(q->h, q->map_len);
	shmchan__status_unmap(&q->status);
	shmchan_close(ch);
	free(q);
	return ret;
}

/* ------------------------------------------------------------ API */

SHMCHAN_EXPORT
int shmchan_queue_create(const char *name, uint64_t length, mode_t mode,
			 unsigned int flags, struct shmchan_queue **out)
{
	unsigned int cflags = 0;
	struct shmchan *ch;
	int ret;

	if (!name || !out || !(flags & ROLES) || flags & ~(ROLES | CREATE_FLAGS))
		return -EINVAL;
	if (length < Q_MIN_LENGTH)
		return -EINVAL;
	if (flags & SHMCHAN_QUEUE_EXCL)
		cflags |= SHMCHAN_CREATE_EXCL;
	if (flags & SHMCHAN_QUEUE_TRANSIENT)
		cflags |= SHMCHAN_CREATE_TRANSIENT;
	if (flags & SHMCHAN_QUEUE_POPULATE)
		cflags |= SHMCHAN_CREATE_POPULATE;
	ret = shmchan_create(name, length, mode, cflags, &ch);
	if (ret)
		return ret;
	return q_attach(ch, flags & ROLES, out);
}

SHMCHAN_EXPORT
int shmchan_queue_open(const char *name, unsigned int flags,
		       struct shmchan_queue **out)
{
	struct shmchan *ch;
	int ret;

	if (!name || !out || !(flags & ROLES) || flags & ~ROLES)
		return -EINVAL;
	ret = shmchan_open(name, 0, &ch);
	if (ret)
		return ret;
	return q_attach(ch, flags, out);
}

SHMCHAN_EXPORT
void shmchan_queue_close(struct shmchan_queue *q)
{
	if (!q)
		return;
	/* In a forked child that has no slot of its own yet, the slot,
	 * reservation and peeked message are the parent's: leave them be. */
	if (q->gen == shmchan__fork_generation() && q->slot < Q_MAX_PEERS) {
		if (q->rsv_pos != POS_NONE)
			shmchan_queue_cancel(q);
		if (q->peek_pos != POS_NONE)
			shmchan_queue_release(q);
		q_leave(q);
	}
	shmchan_unmap(q->h, q->map_len);
	shmchan__status_unmap(&q->status);
	shmchan_close(q->ch);
	free(q);
}

SHMCHAN_EXPORT
int shmchan_queue_send(struct shmchan_queue *q, const void *msg, size_t len,
		       int64_t timeout_ns)
{
	struct shmchan__deadline d;
	int ret;

	if (!q || (!msg && len))
		return -EINVAL;
	if (!(q->roles & SHMCHAN_QUEUE_SEND))
		return -EBADF;
	ret = q_enter(q);
	if (ret)
		return ret;
	if (q->rsv_pos != POS_NONE)
		return -EBUSY;
	shmchan__deadline_init(&d, timeout_ns);
	if (len <= q->max_rec - REC_HDR)
		return q_send_one(q, msg, len, &d);
	return q_send_rounds(q, msg, len, &d);
}

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

SHMCHAN_EXPORT
ssize_t shmchan_queue_recv(struct shmchan_queue *q, void *buf, size_t cap,
			   int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st, len;
	ssize_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	if (!buf && cap)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	for (;;) {
		ret = q_next(q, &d, &pos, &st);
		if (ret)
			break;
		len = msg_len(q, pos, st);
		if (len > cap || len > SSIZE_MAX) {
			ret = -EMSGSIZE;
			break;
		}
		if (st & ST_LAST) {
			q_claim(q, pos, rec_at(q, pos)->size);
			q_unlock(q, &q->h->cons_lock);
			memcpy(buf, payload(q, pos), len);
			q_release_rec(q, pos, st);
			return (ssize_t)len;
		}
		ret = q_recv_rounds(q, buf, pos, st, len);
		if (ret != -ECANCELED)
			break;
	}
	q_unlock(q, &q->h->cons_lock);
	return ret;
}

SHMCHAN_EXPORT
int64_t shmchan_queue_peek_len(struct shmchan_queue *q, int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st;
	int64_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	ret = q_next(q, &d, &pos, &st);
	if (!ret)
		ret = (int64_t)msg_len(q, pos, st);
	q_unlock(q, &q->h->cons_lock);
	return ret;
}

SHMCHAN_EXPORT
ssize_t shmchan_queue_peek(struct shmchan_queue *q, const void **ptr,
			   int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st;
	ssize_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	if (!ptr)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	ret = q_next(q, &d, &pos, &st);
	if (!ret && !(st & ST_LAST))
		ret = -EMSGSIZE;	/* in rounds: not in one piece */
	if (!ret) {
		q_claim(q, pos, rec_at(q, pos)->size);
		q->peek_pos = pos;
		q->peek_st = st;
		ret = (ssize_t)rec_at(q, pos)->len;
		*ptr = payload(q, pos);
	}
	q_unlock(q, &q->h->cons_lock);
	return ret;
}

SHMCHAN_EXPORT
int shmchan_queue_release(struct shmchan_queue *q)
{
	if (!q)
		return -EINVAL;
	/* in a forked child, the peeked message is the parent's */
	if (q->gen != shmchan__fork_generation())
		(void)q_enter(q);
	if (q->peek_pos == POS_NONE)
		return -EINVAL;
	q_release_rec(q, q->peek_pos, q->peek_st);
	q->peek_pos = POS_NONE;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_queue_reserve(struct shmchan_queue *q, size_t len, void **ptr,
			  int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t start;
	uint32_t size;
	int ret;

	if (!q || !ptr)
		return -EINVAL;
	if (!(q->roles & SHMCHAN_QUEUE_SEND))
		return -EBADF;
	ret = q_enter(q);
	if (ret)
		return ret;
	if (q->rsv_pos != POS_NONE)
		return -EBUSY;
	if (len > q->max_rec - REC_HDR)
		return -EMSGSIZE;
	size = rec_size(len);
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->prod_lock, &d);
	if (ret)
		return ret;
	ret = q_room(q, size, &d, &start);
	if (!ret)
		q_publish(q, start, size, (uint32_t)len, len,
			  ST_FIRST | ST_LAST);
	q_unlock(q, &q->h->prod_lock);
	if (ret)
		return ret;
	q->rsv_pos = start;
	q->rsv_len = (uint32_t)len;
	*ptr = payload(q, start);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_queue_commit(struct shmchan_queue *q, size_t len)
{
	bool abort;
	int ret;

	if (!q)
		return -EINVAL;
	/* in a forked child the reservation is the parent's: none here */
	ret = q_enter(q);
	if (q->rsv_pos == POS_NONE || len > q->rsv_len)
		return ret && ret != -EIDRM ? ret : -EINVAL;
	/*
	 * Revoked, or every receiver gone since the reservation: nobody
	 * will read it, and the sender must hear so, as from a send. The
	 * record is aborted (a receiver that joins later passes over it).
	 */
	if (!ret && receivers_gone(q))
		ret = -EPIPE;
	abort = ret != 0;
	if (q_commit_rec(q, q->rsv_pos, (uint32_t)len, abort) && !ret)
		ret = -EPROTO;
	q->rsv_pos = POS_NONE;
	return ret;
}

SHMCHAN_EXPORT
int shmchan_queue_cancel(struct shmchan_queue *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (q->gen != shmchan__fork_generation())
		(void)q_enter(q);
	if (q->rsv_pos == POS_NONE)
		return -EINVAL;
	ret = q_commit_rec(q, q->rsv_pos, 0, true);
	q->rsv_pos = POS_NONE;
	return ret;
}

/* Has the queue a peer of each of @roles, other than this handle? */
static bool q_has_peers(const struct shmchan_queue *q, unsigned int roles)
{
	uint32_t mine[2] = { 0, 0 };
	_Atomic uint32_t *map;

	if (q->slot < Q_MAX_PEERS)
		mine[q->slot / 32] = 1U << (q->slot % 32);
	if (roles & SHMCHAN_QUEUE_SEND) {
		map = q->h->senders;
		if (!((atomic_load_explicit(&map[0], memory_order_relaxed) & ~mine[0]) |
		      (atomic_load_explicit(&map[1], memory_order_relaxed) & ~mine[1])))
			return false;
	}
	if (roles & SHMCHAN_QUEUE_RECV) {
		map = q->h->receivers;
		if (!((atomic_load_explicit(&map[0], memory_order_relaxed) & ~mine[0]) |
		      (atomic_load_explicit(&map[1], memory_order_relaxed) & ~mine[1])))
			return false;
	}
	return true;
}

SHMCHAN_EXPORT
int shmchan_queue_wait_peer(struct shmchan_queue *q, unsigned int roles,
			    int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint32_t v;
	int ret;

	if (!q || !roles || roles & ~ROLES)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_enter(q);
	if (ret)
		return ret;
	/* Without a status page no load tells of deaths: look once, so that
	 * a peer dead before the call is not counted. */
	if (!q->status.page)
		q_scan(q);
	for (;;) {
		/*
		 * The sequence before the maps (acquire: pairs with the
		 * release of the bump in q_peers_changed(), which follows
		 * the joiner's map bit). A peer that joins after this load
		 * changes the word before it wakes, so the module's compare
		 * fails or the wake finds us asleep: the race a lost wake-up
		 * would lose.
		 */
		v = atomic_load_explicit(&q->h->peer_seq, memory_order_acquire);
		if (q_has_peers(q, roles))
			return 0;
		if (d.nowait)
			return -EAGAIN;
		ret = q_sleep(q, &q->h->peer_seq, v, &d);
		if (ret)
			return ret;
		ret = q_enter(q);
		if (ret)
			return ret;
	}
}

SHMCHAN_EXPORT
int shmchan_queue_set_spin(struct shmchan_queue *q, uint32_t spin_ns)
{
	if (!q || spin_ns > SPIN_MAX_NS)
		return -EINVAL;
	q->spin.max_ns = spin_ns;
	q->spin.cur_ns = spin_ns;
	return 0;
}

static uint32_t popcount2(_Atomic uint32_t map[2])
{
	return (uint32_t)__builtin_popcount(
		       atomic_load_explicit(&map[0], memory_order_relaxed)) +
	       (uint32_t)__builtin_popcount(
		       atomic_load_explicit(&map[1], memory_order_relaxed));
}

SHMCHAN_EXPORT
int shmchan_queue_info(struct shmchan_queue *q,
		       struct shmchan_queue_info *out)
{
	uint64_t t, p, used;

	if (!q || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->capacity = q->cap;
	out->max_msg = q->max_rec - REC_HDR;
	out->round_size = q->round_rec - REC_HDR;
	out->max_peers = Q_MAX_PEERS;
	out->senders = popcount2(q->h->senders);
	out->receivers = popcount2(q->h->receivers);
	out->layout = q->h->layout;
	t = atomic_load_explicit(&q->h->cons_tail, memory_order_relaxed);
	p = atomic_load_explicit(&q->h->prod_head, memory_order_relaxed);
	used = 0;
	if (p > t) {
		if ((p & ~q->mask) == (t & ~q->mask))
			used = p - t;
		else
			used = q->cap - (t & q->mask) + (p & q->mask);
	}
	out->used = used > q->cap ? q->cap : used;
	return 0;
}

SHMCHAN_EXPORT
struct shmchan *shmchan_queue_channel(struct shmchan_queue *q)
{
	return q ? q->ch : NULL;
}
