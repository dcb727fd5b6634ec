// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Records in the ring, under the side's lock: room for a record, its pad,
 * publishing it and committing it (producers); passing over a record and
 * the next round of a message (consumers; the next message is q_next(),
 * inlined in queue.h).
 */
#include "queue.h"

/* ------------------------------------------------------------ producing */

/*
 * Under prod_lock: find room for a record of @size at the head (after a
 * pad if it would run past the ring's end). Sleeps while there is none.
 */
int q_room_slow(struct shmchan_queue *q, uint32_t size,
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

/*
 * Under prod_lock, when the record at @start does not begin at prod_head
 * (it wrapped to the ring's start; q_write_head() looks): a READY pad
 * fills the ring's end. Relaxed: published by the caller's release of
 * prod_head.
 */
void q_write_pad(struct shmchan_queue *q)
{
	uint64_t p = atomic_load_explicit(&q->h->prod_head, memory_order_relaxed);
	struct q_rec *r;

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
void q_publish(struct shmchan_queue *q, uint64_t start, uint32_t size,
		      uint32_t len, uint64_t total, uint64_t flags)
{
	struct q_hdr *h = q->h;
	struct q_rec *r = q_write_head(q, start, size, len, total);

	/* relaxed: published with the header, by the release of the head */
	if (flags & ST_PROG)
		atomic_store_explicit(&r->done, 0, memory_order_relaxed);
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
int q_commit_rec(struct shmchan_queue *q, uint64_t pos, uint32_t len,
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
	/* The end of a message is news to a receiver in it. The state's
	 * CAS is the fence: the slot's note above may pass the loads,
	 * and nobody sleeps on it. */
	q_kick_after_rmw(q, false, abort || (old & ST_LAST));
	return ok ? 0 : -EPROTO;
}

/* ------------------------------------------------------------ consuming */

/*
 * Under cons_lock: pass over the record at cons_head. DONE first, then
 * the head: a receiver killed in between leaves a DONE record at the head,
 * which the next one passes over (q_head()); the other way round would
 * leave a READY record below the head that nobody would ever free.
 */
void q_skip(struct shmchan_queue *q, uint64_t pos, uint64_t st)
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
 * Under cons_lock, in the middle of the message that began at @first: the
 * next round. -ECANCELED when the message ended without its LAST round.
 * Waits without a deadline: the sender is alive and has room.
 */
int q_next_round(struct shmchan_queue *q, uint64_t first,
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
