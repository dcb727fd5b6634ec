// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The queue's sleep/wake protocol: a side that must wait counts itself a
 * sleeper and sleeps on its side's sequence (q_wait()); the other side
 * bumps it and wakes only when it sees a sleeper whose want is met
 * (q_kick()). Sleeps are death-aware (q_sleep()). See queue.h.
 */
#include "queue.h"

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
 * that is slow to run is not woken again and again. Once the flag is 0
 * no other waker calls: the sleeper must see our bump, which it does
 * because it read the sequence before it set the flag (q_wait()).
 */
void q_wake_side(struct shmchan_queue *q, _Atomic uint32_t *sleeping,
		 _Atomic uint32_t *seq)
{
	if (atomic_exchange_explicit(sleeping, 0, memory_order_relaxed))
		q_bump(q, seq);
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
 * So both cannot sleep while either could go on. @force wakes regardless,
 * and so does a polling receiver (Q_WATCHING in data_sleepers): it is
 * woken once per arm, by whatever is news to it. A polling sender waits
 * for its want like a sleeping one: woken for every record freed, a
 * sender that fills the ring would pay a loop's wake-up per message.
 */
void q_kick_slow(struct shmchan_queue *q, bool space, bool force)
{
	struct q_hdr *h = q->h;

	if (!space) {
		if (ld32(&h->data_sleepers) &&
		    (force || ld32(&h->data_sleepers) & Q_WATCHING ||
		     ld(&h->prod_head) >= ld(&h->data_want) ||
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

/*
 * The peer maps changed: wake whoever waits for a peer to join
 * (shmchan_queue_wait_peer(), or a poller of the word). Unconditional, as
 * a poller is counted nowhere; opening and closing are slow anyway.
 */
void q_peers_changed(struct shmchan_queue *q)
{
	q_bump(q, &q->h->peer_seq);
}

/* Peers came or went: everyone re-evaluates. Rare, so unconditional. */
void q_kick_all(struct shmchan_queue *q)
{
	q_bump(q, &q->h->data_seq);
	q_bump(q, &q->h->space_seq);
	q_peers_changed(q);
}

/* ------------------------------------------------------------ sleeping */

/*
 * The death count now, after a wait ended with -EOWNERDEAD: from the
 * status page if there is one (the module changes it before it wakes the
 * wait), else from STAT.
 */
int q_refresh_deaths(struct shmchan_queue *q)
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
int q_sleep(struct shmchan_queue *q, _Atomic uint32_t *word,
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

/* ------------------------------------------------------------ waiting */

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
	/* Progress is news to a spinning receiver that copies: a sleeper
	 * waits for the commit (nobody wakes it for progress) */
	if (w->part && !sleeping &&
	    atomic_load_explicit(&rec_at(q, w->pos)->done,
				 memory_order_relaxed) != w->prog)
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
 * About to wait on @w's side: store the wants (@space_want for a sender),
 * count ourselves in the side's sleepers with @bit (an RMW: a sleeper's
 * Q_SLEEPING and a watcher's Q_WATCHING may both be there), make the fence
 * that pairs with q_kick()'s, and wake the other side if it waits for us
 * (see q_kick_slow()). The caller then reads the sequence and looks again
 * before it sleeps or arms.
 */
void q_count_sleeper(struct shmchan_queue *q, const struct q_watch *w,
		     uint32_t bit, uint64_t space_want)
{
	struct q_hdr *h = q->h;

	/* relaxed: ordered before the wakers' reads by the fence below */
	if (w->space) {
		atomic_store_explicit(&h->space_want, space_want,
				      memory_order_relaxed);
		atomic_store_explicit(&h->space_needed, w->needed,
				      memory_order_relaxed);
	} else {
		atomic_store_explicit(&h->data_want, w->kick, memory_order_relaxed);
		atomic_store_explicit(&h->data_head, w->head, memory_order_relaxed);
	}
	atomic_fetch_or_explicit(w->space ? &h->space_sleepers :
					    &h->data_sleepers,
				 bit, memory_order_relaxed);
	/* Pairs with the fence in q_kick(); see there. */
	atomic_thread_fence(memory_order_seq_cst);
	/* We stop: the other side must not wait for us (see q_kick()) */
	if (w->space && ld32(&h->data_sleepers))
		q_wake_side(q, &h->data_sleepers, &h->data_seq);
	if (!w->space && ld32(&h->space_sleepers) &&
	    ld(&h->cons_tail) >= ld(&h->space_needed))
		q_wake_side(q, &h->space_sleepers, &h->space_seq);
}

/*
 * Wait until @w fires: spin (if enabled) without system calls, then count
 * ourselves a sleeper and sleep in the module. Returns 0 to re-evaluate.
 */
int q_wait(struct shmchan_queue *q, struct q_watch *w,
		  const struct shmchan__deadline *d)
{
	struct q_hdr *h = q->h;
	_Atomic uint32_t *seq = w->space ? &h->space_seq : &h->data_seq;
	_Atomic uint32_t *sleepers = w->space ? &h->space_sleepers :
						&h->data_sleepers;
	_Atomic uint32_t *lock = w->space ? &h->prod_lock : &h->cons_lock;
	uint32_t val;
	int ret;

	/* timeout 0: a polling handle arms its descriptor instead (poll.c) */
	if (d->nowait)
		return q->polling ? q_poll_arm(q, w) : -EAGAIN;
	if (shmchan__spin_until(&q->spin, d, spin_fired, w))
		return 0;
	/* We hold our side's lock and are about to sleep: contenders should
	 * not spin for it. Not before: a spin that pays off costs no RMW. */
	q_lock_blocked(lock, true);
	/*
	 * The sequence before we count ourselves a sleeper: the race this
	 * must not lose. A waker takes the count to 0, then bumps the
	 * sequence (q_wake_side()). Were the sequence read after the count,
	 * that bump could fall between the two: we would sleep on the new
	 * value with the count already 0, and every later waker, seeing no
	 * sleeper, would leave us asleep, however much changes. It happens
	 * whenever the wake-up is for nothing fired() sees: the other side
	 * going to sleep wakes us on its way (q_count_sleeper(), in its own
	 * q_wait()): a sender for room while the ring is full of records
	 * claimed by other receivers, just as we go to sleep at an empty
	 * head; then it sleeps too, and neither wakes (the stall mpmc_4x4
	 * and full_ring_both_sleep caught). Or a waker that saw the count of
	 * our previous wait acts late. Read first, the sequence is older
	 * than any bump that follows the count's reset: the module's compare
	 * fails, and we re-evaluate and count ourselves again.
	 * acquire: pairs with the release bump, so that a new sequence
	 * comes with the change that caused it.
	 */
	val = atomic_load_explicit(seq, memory_order_acquire);
	q_count_sleeper(q, w, Q_SLEEPING, w->want);
	ret = fired(w, true) ? 0 : q_sleep(q, seq, val, d);
	atomic_fetch_and_explicit(sleepers, ~Q_SLEEPING, memory_order_relaxed);
	q_lock_blocked(lock, false);
	return ret;
}
