// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The pollable queue: shmchan_queue_pollfd() and the watches behind it.
 *
 * A polling handle never sleeps in the module. Where a call with timeout 0
 * would otherwise return -EAGAIN (no message, no room, the side's lock
 * held), it does what a sleeper does up to the sleep, and instead of WAIT
 * arms a watch (SHMCHAN_IOC_WATCH_ADD/ARM) on the word it would have slept
 * on, with the value it read: the handle's descriptor (shmchan_fd() of
 * its channel) then polls readable once the word is woken, or at once if
 * it had moved. The fast path is untouched: a call that finds a message
 * or room makes no system call, and neither does the peer's kick unless
 * it finds a watcher counted.
 *
 * The protocol is the sleepers' (wake.c), with one difference: a watcher
 * counts itself with Q_WATCHING in the side's sleepers word, not
 * Q_SLEEPING, because it does not hold the side's lock while it waits and
 * nobody clears the bit but a waker. A waker that finds the bit on the
 * data side wakes (bump, WAKE_ALL) at the first news, whatever the wants
 * say; on the space side the sender's want (half a ring) batches the
 * wakes as for a sleeping sender (q_kick_slow()).
 *
 * Races this must not lose:
 *  - a kick against the arm: the bit is set, then a fence (the one of
 *    q_kick()'s pair), then the sequence is read and the ring looked at
 *    (fired()); the watch is armed with that sequence value and the module
 *    compares it under the lock WAKE takes. So either the kicker saw the
 *    bit and bumps the sequence (after our read: the arm fires, or the
 *    WAKE finds the watch queued), or we see its change and do not arm.
 *  - an unlock against a watch on the lock: the waiters bit is set before
 *    the watch is armed with the value that has it (as a sleeper does),
 *    and the module compares that value.
 *  - an unlock's wake spent on our watch: an armed watch counts as one
 *    waiter for WAKE's count, so the one wake of an unlock may be ours
 *    while a thread sleeps on the lock. Like a woken sleeper, the handle
 *    then takes the lock keeping the waiters bit (q_poll_locked()), or
 *    passes the wake on when it drops the watch without taking the lock.
 */
#include <unistd.h>

#include "queue.h"

/* 0: data (receivers), 1: space (senders) */
static struct q_pollw *side_watch(struct shmchan_queue *q, bool space)
{
	return &q->pw[space ? 1 : 0];
}

/*
 * A watch dropped without the lock it was on having been taken since: an
 * unlock's wake it took would be lost; hand one on to whoever sleeps.
 */
static void pass_on(struct shmchan_queue *q, uint64_t off)
{
	_Atomic uint32_t *lock = (_Atomic uint32_t *)((uint8_t *)q->h + off);

	if (atomic_load_explicit(lock, memory_order_relaxed) & LOCK_WAITERS)
		shmchan_wake(q->ch, off, 1);
}

static bool is_lock(const struct shmchan_queue *q, uint64_t off)
{
	return off == word_off(q, &q->h->prod_lock) ||
	       off == word_off(q, &q->h->cons_lock);
}

static void update_lock_watched(struct shmchan_queue *q)
{
	q->lock_watched = (q->pw[0].id >= 0 && is_lock(q, q->pw[0].off)) ||
			  (q->pw[1].id >= 0 && is_lock(q, q->pw[1].off));
}

/*
 * Arm @pw on the word at @off with @val. Returns 0 when armed, 1 when it
 * fired at once (the word moved, or a death since q->deaths: look again),
 * or an error.
 */
static int pw_arm(struct shmchan_queue *q, struct q_pollw *pw, uint64_t off,
		  uint32_t val)
{
	unsigned int flags = q->death_notice ? SHMCHAN_WATCH_DEATHS : 0;
	uint32_t deaths = q->death_notice ? q->deaths : 0, id;
	int ret;

	if (pw->id >= 0 && pw->off != off) {
		/* a watch keeps its word: a new one for the other word */
		ret = shmchan_watch_del(q->ch, (uint32_t)pw->id);
		if (ret)
			return ret;
		if (is_lock(q, pw->off))
			pass_on(q, pw->off);
		pw->id = -1;
		update_lock_watched(q);
	}
	if (pw->id < 0) {
		ret = shmchan_watch_add(q->ch, off, val, flags, deaths,
					(uint64_t)(pw - q->pw), &id);
		if (ret >= 0) {
			pw->id = id;
			pw->off = off;
			update_lock_watched(q);
		}
	} else {
		ret = shmchan_watch_arm(q->ch, (uint32_t)pw->id, val, flags,
					deaths);
	}
	if (ret < 0)
		return ret;
	if (ret & SHMCHAN_WATCH_EV_DIED) {
		/* The count first, then the scan, as in q_sleep() */
		ret = q_refresh_deaths(q);
		if (ret)
			return ret;
		q_scan(q);
		return 1;
	}
	return ret ? 1 : 0;
}

/*
 * Under the side's lock, timeout 0, nothing to do: count ourselves a
 * watcher, and arm the side's watch on its sequence. Returns -EAGAIN when
 * armed, 0 to look again (something changed), or an error.
 */
int q_poll_arm(struct shmchan_queue *q, struct q_watch *w)
{
	struct q_hdr *h = q->h;
	_Atomic uint32_t *seq = w->space ? &h->space_seq : &h->data_seq;
	uint32_t val;
	int ret;

	/*
	 * The wants, as a sleeper's: a sender waits for half a ring (or
	 * what is published), a receiver for any news (and any news wakes a
	 * counted receiver anyway, q_kick_slow()). We hold the side's lock,
	 * so no sleeper of our side stores its own now.
	 */
	/*
	 * The sequence before we count ourselves a watcher, as in q_wait()
	 * and for the same race: a waker takes the count to 0, then bumps;
	 * a value read after our count could be that bump's, and an armed
	 * watch on it, with the count gone, would never fire.
	 * acquire: as in q_wait().
	 */
	val = atomic_load_explicit(seq, memory_order_acquire);
	q_count_sleeper(q, w, Q_WATCHING, w->want);
	/* relaxed loads: the caller looks again with ordering */
	if (w->space ? ld(&h->cons_tail) != w->head || receivers_gone(q) :
	    ld(&h->prod_head) != w->head ||
	    (w->pos != POS_NONE &&
	     atomic_load_explicit(&rec_at(q, w->pos)->state,
				  memory_order_relaxed) != w->st) ||
	    atomic_load_explicit(&h->rounds, memory_order_relaxed) !=
	    w->rounds || (w->pos == POS_NONE && senders_gone(q)))
		return 0;
	ret = pw_arm(q, side_watch(q, w->space), word_off(q, seq), val);
	if (ret < 0)
		return ret;
	return ret ? 0 : -EAGAIN;
}

/*
 * Timeout 0, the side's lock held by another, LOCK_WAITERS set in @v:
 * arm the side's watch on the lock word. -EAGAIN when armed, 0 to try the
 * lock again, or an error.
 */
int q_poll_arm_lock(struct shmchan_queue *q, _Atomic uint32_t *lock,
		    uint32_t v)
{
	bool space = lock == &q->h->prod_lock;
	int ret;

	ret = pw_arm(q, side_watch(q, space), word_off(q, lock), v);
	if (ret < 0)
		return ret;
	return ret ? 0 : -EAGAIN;
}

/*
 * We took @lock while our watch was on it: the watch may have taken the
 * unlock's wake meant for a sleeper, so keep the waiters bit as a woken
 * sleeper does (q_lock_slow()): our unlock wakes the next one. At worst a
 * wake for nobody.
 */
void q_poll_locked(struct shmchan_queue *q, _Atomic uint32_t *lock)
{
	struct q_pollw *pw = side_watch(q, lock == &q->h->prod_lock);

	if (pw->id < 0 || pw->off != word_off(q, lock))
		return;
	atomic_fetch_or_explicit(lock, LOCK_WAITERS, memory_order_relaxed);
	/* Done with the lock: the next arm moves the watch to a sequence
	 * (until then it is on a word we hold, and the bit passes it on). */
	pw->off = UINT64_MAX;
	update_lock_watched(q);
}

/* Closing: a watch on a lock may hold an unlock's wake; pass it on. */
void q_poll_close(struct shmchan_queue *q)
{
	int i;

	for (i = 0; i < 2; i++)
		if (q->pw[i].id >= 0 && is_lock(q, q->pw[i].off))
			pass_on(q, q->pw[i].off);
}

/*
 * In a forked child, at its first call: the descriptor and its watches
 * are shared with the parent (one open file), whose they are. The child
 * polls only if it asks (and shares the descriptor's readiness then).
 */
void q_poll_forget(struct shmchan_queue *q)
{
	q->polling = false;
	q->lock_watched = false;
	q->pw[0].id = -1;
	q->pw[1].id = -1;
}

SHMCHAN_EXPORT
int shmchan_queue_pollfd(struct shmchan_queue *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (!(shmchan__features() & SHMCHAN_FEATURE_WATCH))
		return -EOPNOTSUPP;
	ret = q_enter(q);
	if (ret)
		return ret;
	q->polling = true;
	return shmchan_fd(q->ch);
}
