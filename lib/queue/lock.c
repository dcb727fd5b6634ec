// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The queue's two side locks (prod_lock, cons_lock): the futex protocol
 * with a waiters bit, a short spin while the holder runs, and the takeover
 * of a dead holder's lock. The fast paths are inlined (queue.h).
 */
#include "queue.h"

int q_lock_slow(struct shmchan_queue *q, _Atomic uint32_t *lock,
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
		if (d->nowait && !q->polling)
			return -EAGAIN;
		if (!(v & LOCK_WAITERS) &&
		    !atomic_compare_exchange_weak_explicit(
				lock, &v, v | LOCK_WAITERS,
				memory_order_relaxed, memory_order_relaxed))
			continue;
		/* timeout 0, polling: a watch waits on the lock instead */
		ret = d->nowait ? q_poll_arm_lock(q, lock, v | LOCK_WAITERS) :
				  q_sleep(q, lock, v | LOCK_WAITERS, d);
		if (ret == -EAGAIN && d->nowait)
			return ret;
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

/* The holder is about to sleep (or woke): contenders should not spin. */
void q_lock_blocked(_Atomic uint32_t *lock, bool blocked)
{
	if (blocked)
		atomic_fetch_or_explicit(lock, LOCK_BLOCKED,
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(lock, ~LOCK_BLOCKED,
					  memory_order_relaxed);
}

/* Take over @lock from dead slot @slot. Returns whether we hold it. */
bool q_steal(struct shmchan_queue *q, _Atomic uint32_t *lock,
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
