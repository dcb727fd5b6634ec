// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Semaphores and events for event loops: shmchan_sem_watch(),
 * shmchan_event_watch() and shmchan_sync_unwatch().
 *
 * A watch (watch.c, SHMCHAN_IOC_WATCH_ADD/ARM) is a WAIT that does not
 * block: armed on the object's value word with the value the watcher read,
 * it fires (the context's descriptor polls readable) when a WAKE reaches
 * it, or at once if the word had moved. But the wakers of sync.c call
 * WAKE only when a sleeper counted itself in the waiters word, so a bare
 * watch would never hear a post; and a post wakes one sleeper, which a
 * watch queued behind it would not be. So a watcher marks itself in the
 * waiters word with P_WATCHED, a bit that only a waker clears, and a waker
 * that finds it clears it and wakes all (pair_wake() in sync.c). The
 * protocol is the queue's (queue/poll.c), with one difference: the queue
 * arms on a sequence that only grows, while these objects' values come
 * back (a sem posted and taken again, an event set and reset: A-B-A), so
 * an arm may be queued on a value that went away and came back, with the
 * waker's WAKE gone by; the P_EPOCH count of clears tells the watcher.
 *
 * The watcher (pair_watch()), after a plain look that returns 1 when the
 * object is ready already (nothing armed, no bit set: safe, as readiness
 * needs no protection, and cheaper for the poster):
 *   1. fetch_or(P_WATCHED), keeping the epoch it found, e0;
 *   2. seq_cst fence (pairs with pair_wake()'s);
 *   3. load the value v: not 0 (a unit, the event set) -> 1, ready now;
 *   4. arm the watch on the value word with v (the module compares under
 *      the lock WAKE takes; a moved word fires it at once -> 1);
 *   5. seq_cst fence, load the waiters word: P_WATCHED clear or another
 *      epoch -> 1 (a waker went by; spurious readiness is allowed); else
 *      0, armed.
 * The waker: change the value; seq_cst fence; load the waiters word; while
 * P_WATCHED is in it, clear it with the epoch bumped (seq_cst CAS); if it
 * cleared it, WAKE all, else WAKE the sleepers' count if any.
 *
 * Races this must not lose (a ready change the watcher misses and no wake
 * reaching its armed watch):
 *  - a post against the arm: steps 1-3 against the waker's change, fence
 *    and load form the store-buffer pattern with a seq_cst fence on each
 *    side: either step 3 sees the change (ready: 1), or the waker's load
 *    sees our bit (or a later value of the word). If the waker then clears
 *    the bit: its WAKE comes after its clear; if the WAKE's lock comes
 *    after our arm's, it finds the watch queued and fires it (or the arm
 *    saw the moved word and fired); if it came before, our arm came after
 *    the clear, and step 5 sees the clear (the lock orders the two calls,
 *    the fences our step 5 and its CAS): 1.
 *  - the bit cleared by another waker between our step 1 and the waker's
 *    load: that other waker wakes all after its clear, and the argument
 *    above holds for it instead: either its WAKE is after our arm, or
 *    step 5 sees its epoch. The waker that found the bit clear wakes only
 *    sleepers, and may: our watch is covered by the clear it read.
 *  - a unit taken between our read and our arm (a sem_wait() of another
 *    thread, or shmchan_event_reset()): the word goes back to v, so the
 *    arm is queued on it though a post went by (A-B-A). That post's waker
 *    saw our bit (as above) and cleared it, bumping the epoch before its
 *    WAKE, which came before our arm: step 5 sees another epoch. Only the
 *    clear counts here, never the bit alone:
 *  - two watchers: another watcher may set the bit again between that
 *    clear and our step 5, so "the bit is set" says nothing of whether it
 *    stayed set; the epoch does. (It wraps after 512 clears, each of them
 *    after a watcher set the bit again, all between our step 1 and step 5
 *    while our arm holds: a watcher preempted that long, with the value
 *    back to v each time at our arm, is the only way to lose; accepted.)
 *    A watcher that finds the bit already set gets nothing from it but
 *    the epoch: every waker after it sees a set bit or a clear that
 *    covers it.
 *
 * Who takes a wake: an armed watch is one waiter of its word for WAKE's
 * count (<linux/shmchan.h>, "WAKE's count"). A watch stays queued after
 * step 5 said 1, and after shmchan_watch_read() re-arms a fired one with
 * its old value, without the bit; a post's single wake may then go to it
 * instead of a sleeper. Like a woken sleeper, the watcher then owes a
 * look: the caller's shmchan_sem_wait() with timeout 0 takes the unit
 * (the contract: after readiness, take until -EAGAIN, then watch again).
 * A caller that drops the watch instead (shmchan_sync_unwatch(),
 * shmchan_sync_free()) passes a wake on to a sleeper when a unit is there
 * and a sleeper is counted (pass_on()): the wake it may have taken is not
 * lost. An event's set wakes all, so no watch takes one from a sleeper.
 *
 * fork(): the child shares the descriptor, and so the watches and their
 * readiness, with its parent (one open file); they stay the parent's.
 * The child forgets the context's table (shmchan__sync_forget(), from the
 * fork handler in sync.c), as a queue's child forgets its watches: its
 * first watch call adds a watch of its own on the shared descriptor, and
 * shmchan_sync_free() in the child leaves the parent's alone. A child that
 * polls should open its own handle and context.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "sync.h"

static struct shmchan__sync_watch *find(struct shmchan_sync *s, uint64_t off)
{
	unsigned int i;

	for (i = 0; i < s->nwatches; i++)
		if (s->watches[i].off == off)
			return &s->watches[i];
	return NULL;
}

/*
 * A semaphore's watch is going: it may have taken a post's one wake
 * meant for a sleeper (it is one waiter of the word); if a unit is there
 * and a sleeper counted, hand a wake on. At worst a wake for nobody.
 */
static void pass_on(struct shmchan_sync *s, uint64_t off)
{
	struct pair *p = (struct pair *)(s->base + off);

	/* Pairs with the sleeper's fence, as pair_wake() does. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&p->val, memory_order_relaxed) &&
	    atomic_load_explicit(&p->waiters, memory_order_relaxed) & P_COUNT)
		shmchan_wake(s->ch, off, 1);
}

/* Delete watch @w and its entry. Under s->wlock. */
static int drop(struct shmchan_sync *s, struct shmchan__sync_watch *w)
{
	int ret = shmchan_watch_del(s->ch, w->id);

	if (w->sem)
		pass_on(s, w->off);
	*w = s->watches[--s->nwatches];
	return ret;
}

/* Room for one more entry. Under s->wlock. */
static int reserve(struct shmchan_sync *s)
{
	struct shmchan__sync_watch *n;
	unsigned int cap;

	if (s->nwatches < s->capwatches)
		return 0;
	cap = s->capwatches ? s->capwatches * 2 : 8;
	n = realloc(s->watches, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->watches = n;
	s->capwatches = cap;
	return 0;
}

/* Step 4: ADD the first time, else ARM. Returns 0 armed, 1 fired, -errno. */
static int arm(struct shmchan_sync *s, uint64_t off, uint32_t v, bool sem,
	       uint64_t data)
{
	struct shmchan__sync_watch *w = find(s, off);
	uint32_t id;
	int ret;

	/* The data is the ADD's: other data, another watch. */
	if (w && w->data != data) {
		ret = drop(s, w);
		if (ret)
			return ret;
		w = NULL;
	}
	if (w)
		ret = shmchan_watch_arm(s->ch, w->id, v, 0, 0);
	else {
		ret = reserve(s);
		if (ret)
			return ret;
		ret = shmchan_watch_add(s->ch, off, v, 0, 0, data, &id);
		if (ret >= 0)
			s->watches[s->nwatches++] = (struct shmchan__sync_watch){
				.off = off, .data = data, .id = id, .sem = sem,
			};
	}
	if (ret < 0)
		return ret;
	return ret ? 1 : 0;
}

/* The file's comment, steps 1 to 5. */
static int pair_watch(struct shmchan_sync *s, void *obj, bool sem,
		      uint64_t data)
{
	struct pair *p = obj;
	uint32_t w0, w1;
	uint64_t off;
	int ret;

	ret = shmchan__sync_off(s, obj, sizeof(*p), 4, &off);
	if (ret)
		return ret;
	if (!(shmchan__features() & SHMCHAN_FEATURE_WATCH))
		return -EOPNOTSUPP;
	/* Ready already: no bit, so the next post makes no system call for
	 * a watch that is not armed (a loop draining a busy semaphore). */
	if (atomic_load_explicit(&p->val, memory_order_relaxed))
		return 1;
	pthread_mutex_lock(&s->wlock);
	w0 = atomic_fetch_or_explicit(&p->waiters, P_WATCHED,
				      memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	/* relaxed: the caller's shmchan_sem_wait() or _event_wait() acquires */
	ret = 1;
	if (atomic_load_explicit(&p->val, memory_order_relaxed) == 0) {
		ret = arm(s, off, 0, sem, data);
		if (ret == 0) {
			atomic_thread_fence(memory_order_seq_cst);
			w1 = atomic_load_explicit(&p->waiters,
						  memory_order_relaxed);
			if (!(w1 & P_WATCHED) ||
			    (w1 & P_EPOCH) != (w0 & P_EPOCH))
				ret = 1;
		}
	}
	pthread_mutex_unlock(&s->wlock);
	return ret;
}

SHMCHAN_EXPORT
int shmchan_sem_watch(struct shmchan_sync *s, struct shmchan_sem *sem,
		      uint64_t data)
{
	return pair_watch(s, sem, true, data);
}

SHMCHAN_EXPORT
int shmchan_event_watch(struct shmchan_sync *s, struct shmchan_event *e,
			uint64_t data)
{
	return pair_watch(s, e, false, data);
}

SHMCHAN_EXPORT
int shmchan_sync_unwatch(struct shmchan_sync *s, const void *obj)
{
	struct shmchan__sync_watch *w;
	uint64_t off;
	int ret;

	ret = shmchan__sync_off(s, obj, sizeof(struct pair), 4, &off);
	if (ret)
		return ret;
	pthread_mutex_lock(&s->wlock);
	w = find(s, off);
	ret = w ? drop(s, w) : -ENOENT;
	pthread_mutex_unlock(&s->wlock);
	return ret;
}

void shmchan__sync_unwatch_all(struct shmchan_sync *s)
{
	pthread_mutex_lock(&s->wlock);
	while (s->nwatches)
		drop(s, &s->watches[s->nwatches - 1]);
	free(s->watches);
	s->watches = NULL;
	s->capwatches = 0;
	pthread_mutex_unlock(&s->wlock);
}

/* In a forked child, under the fork handlers' locks: see the file's comment. */
void shmchan__sync_forget(struct shmchan_sync *s)
{
	free(s->watches);
	s->watches = NULL;
	s->nwatches = 0;
	s->capwatches = 0;
}
