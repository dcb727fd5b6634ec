// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Sync helpers in channel memory, on the module's wait/wake: a robust
 * mutex, a counting semaphore, a condition variable and an event.
 *
 * Every object is named by its address in the caller's mapping of the
 * channel; the module sees the offset of its 32-bit wait word. Sleepers
 * count themselves in a waiters word, and wakers call the module only
 * when that count is not zero: a fence on each side (seq_cst) makes sure
 * that either the waker sees the count or the sleeper sees the change.
 *
 * The mutex word (64 bits) holds its owner's identity, the thread id in
 * the low half with three flag bits, and the low 32 bits of the thread's
 * start time in the high half, so that a reused thread id is not taken
 * for the owner. Waiters sleep on the low half, death-aware; when a
 * process that had the channel mapped exits, they check whether the owner
 * is alive (/proc), and one of them takes the mutex over with
 * -EOWNERDEAD. A context caches the owners it found alive at the current
 * death count, so a contended lock reads /proc only once per owner and
 * death.
 *
 * A revoke (SHMCHAN_DESTROY_REVOKE) ends every sleep with -EIDRM, and
 * makes every later one fail at once: a call that sleeps, or would have
 * to, returns -EIDRM. The rest go on working on the memory, which stays
 * mapped; a waker then has nobody to wake and returns 0.
 *
 * A semaphore or an event can also be watched from an event loop
 * (shmchan_sem_watch(), shmchan_event_watch(): sync_watch.c): a watcher
 * marks itself in the waiters word with a bit of its own, and a waker that
 * sees it wakes every watch on the word.
 *
 * Memory ordering: taking a mutex or a semaphore unit is an acquire, giving
 * it back a release; setting an event and bumping a condition's sequence
 * are releases seen by acquire loads. The waiters counts and the waiters
 * bit are relaxed: they are only ever read after a seq_cst fence that pairs
 * with the other side's (pair_wake() and pair_sleep()), or compared by the
 * module under its own lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync.h"

#define M_TID		0x003fffffU	/* thread id: pid_max is at most 2^22 */
#define M_NOTREC	0x20000000U	/* not recoverable: unusable for good */
#define M_DIED		0x40000000U	/* taken over from a dead owner */
#define M_WAITERS	0x80000000U	/* someone sleeps on it */
#define M_FLAGS		(M_NOTREC | M_DIED | M_WAITERS)

struct mtx {
	_Alignas(8) _Atomic uint64_t word;
	_Alignas(8) uint64_t __reserved;
};

_Static_assert(sizeof(struct mtx) == sizeof(struct shmchan_mutex), "mutex");
_Static_assert(sizeof(struct pair) == sizeof(struct shmchan_sem), "sem");
_Static_assert(sizeof(struct pair) == sizeof(struct shmchan_cond), "cond");
_Static_assert(sizeof(struct pair) == sizeof(struct shmchan_event), "event");

/* The mutex word's low half: the one the module compares. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LOW_HALF 0
#else
#define LOW_HALF 4
#endif

/* ------------------------------------------------------------ context */

/*
 * fork(): a context's lock is a pthread mutex, held for a few loads and
 * stores by whichever thread looks at the cache. A fork() while another
 * thread held it would leave it held for good in the child, and the
 * child's first death check would hang. So every context is on a list,
 * and around fork() the handlers take the list's lock and each context's
 * (in that order, the order of shmchan_sync_free() too), and let them go
 * after in both processes. The parent's identity cache stays right in the
 * child: the owners it names are the same threads. Each context's watch
 * lock is taken too, before its lock (the order of sync_watch.c), and the
 * child forgets the context's watches: they are the parent's, on the
 * descriptor both share (see shmchan__sync_forget()).
 */
static pthread_mutex_t contexts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shmchan_sync *contexts;
static pthread_once_t contexts_once = PTHREAD_ONCE_INIT;

static void contexts_prepare(void)
{
	struct shmchan_sync *s;

	pthread_mutex_lock(&contexts_lock);
	for (s = contexts; s; s = s->next) {
		pthread_mutex_lock(&s->wlock);
		pthread_mutex_lock(&s->lock);
	}
}

static void contexts_after(void)
{
	struct shmchan_sync *s;

	for (s = contexts; s; s = s->next) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&s->wlock);
	}
	pthread_mutex_unlock(&contexts_lock);
}

static void contexts_child(void)
{
	struct shmchan_sync *s;

	for (s = contexts; s; s = s->next)
		shmchan__sync_forget(s);
	contexts_after();
}

static void contexts_register(void)
{
	pthread_atfork(contexts_prepare, contexts_after, contexts_child);
}

SHMCHAN_EXPORT
int shmchan_sync_new(struct shmchan *ch, void *base, struct shmchan_sync **out)
{
	struct shmchan_sync *s;
	int ret;

	if (!ch || !base || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ch = ch;
	s->base = base;
	s->len = shmchan_length(ch);
	s->death_notice = shmchan__features() & SHMCHAN_FEATURE_DEATH_NOTICE;
	if (s->death_notice) {
		ret = shmchan__deaths(ch, &s->deaths);
		if (ret) {
			free(s);
			return ret;
		}
	}
	pthread_mutex_init(&s->wlock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	shmchan__fork_init();
	pthread_once(&contexts_once, contexts_register);
	pthread_mutex_lock(&contexts_lock);
	s->next = contexts;
	if (contexts)
		contexts->prev = s;
	contexts = s;
	pthread_mutex_unlock(&contexts_lock);
	*out = s;
	return 0;
}

SHMCHAN_EXPORT
void shmchan_sync_free(struct shmchan_sync *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&contexts_lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		contexts = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&contexts_lock);
	shmchan__sync_unwatch_all(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->wlock);
	free(s);
}

int shmchan__sync_off(const struct shmchan_sync *s, const void *obj,
		      size_t size, size_t align, uint64_t *off)
{
	const uint8_t *p = obj;

	if (!s || !obj || p < s->base || (uintptr_t)p % align)
		return -EINVAL;
	if ((uint64_t)(p - s->base) > s->len - size)
		return -EINVAL;
	*off = (uint64_t)(p - s->base);
	return 0;
}

/*
 * Sleep on the word at @off while it holds @val, death-aware. -EOWNERDEAD:
 * a process exited since our last look; the caller checks and comes back.
 */
static int sync_sleep(struct shmchan_sync *s, uint64_t off, uint32_t val,
		      const struct shmchan__deadline *d, bool deaths)
{
	uint32_t seen;
	int ret;

	if (!deaths || !s->death_notice)
		return shmchan_wait(s->ch, off, val, shmchan__deadline_ts(d));
	pthread_mutex_lock(&s->lock);
	seen = s->deaths;
	pthread_mutex_unlock(&s->lock);
	ret = shmchan_wait_deaths(s->ch, off, val, seen, shmchan__deadline_ts(d));
	if (ret != -EOWNERDEAD)
		return ret;
	/* The count first: a death after it fails the next wait at once;
	 * the owners seen alive before it must be looked at again. */
	pthread_mutex_lock(&s->lock);
	if (s->deaths == seen) {
		ret = shmchan__deaths(s->ch, &s->deaths);
		s->nverified = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret ? ret : -EOWNERDEAD;
}

/*
 * Wake sleepers of @p if any (after the caller changed p->val), and every
 * watch on p->val if a watcher is marked (P_WATCHED; see sync_watch.c).
 *
 * With no sleeper and no watcher this is a fence and a load, as it was
 * before watches: no system call, no atomic read-modify-write. A waker
 * that finds P_WATCHED clears it (and counts the clear in P_EPOCH) and
 * wakes all: a count of 1 could reach a sleeper queued before the watch,
 * and the watcher would never hear (a sem's sleepers, woken all, look
 * again and sleep again). Whoever clears the bit wakes after the clear;
 * a watcher that armed after that WAKE sees the clear in P_EPOCH and
 * reports readiness itself. A failed clear looks again at a later value,
 * which comes after our fence as the first did: see sync_watch.c for why
 * any such value will do.
 *
 * -EIDRM is no failure of the caller's: its change is made, and the revoke
 * has woken every sleeper already (with -EIDRM), so there is nobody left
 * to wake. The race this must not lose: a sleeper counted in p->waiters
 * before the revoke, not yet back to uncount itself (or stopped inside its
 * wait), makes this call WAKE on a revoked channel; reporting that as an
 * error would make a caller that trusts "error: nothing happened" post or
 * signal twice.
 */
static int pair_wake(struct shmchan_sync *s, struct pair *p, uint64_t off,
		     uint32_t count)
{
	bool all = false;
	uint32_t w;
	int ret;

	/* Pairs with the fence of the sleeper: see the file's comment. */
	atomic_thread_fence(memory_order_seq_cst);
	w = atomic_load_explicit(&p->waiters, memory_order_relaxed);
	if (!(w & (P_COUNT | P_WATCHED)))
		return 0;
	while (w & P_WATCHED) {
		/* seq_cst: a watcher's look after its arm sees the clear,
		 * or our WAKE comes after that arm */
		if (atomic_compare_exchange_weak_explicit(
				&p->waiters, &w,
				(w & P_COUNT) | ((w + P_EPOCH_ONE) & P_EPOCH),
				memory_order_seq_cst, memory_order_relaxed)) {
			all = true;
			break;
		}
	}
	if (!all && !(w & P_COUNT))
		return 0;
	ret = shmchan_wake(s->ch, off, all ? SHMCHAN_WAKE_ALL : count);
	return ret < 0 && ret != -EIDRM ? ret : 0;
}

/*
 * Sleep while p->val is @val: count ourselves, fence, look again, sleep.
 * Returns 0 to look again, or -ETIMEDOUT / -EINTR / another error.
 */
static int pair_sleep(struct shmchan_sync *s, struct pair *p, uint64_t off,
		      uint32_t val, const struct shmchan__deadline *d)
{
	int ret = 0;

	atomic_fetch_add_explicit(&p->waiters, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&p->val, memory_order_relaxed) == val)
		ret = sync_sleep(s, off, val, d, false);
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
	return ret == -EAGAIN ? 0 : ret;
}

/* ------------------------------------------------------------ mutex */

static int thread_ident(uint64_t *me)
{
	uint64_t start;
	pid_t tid;
	int ret;

	ret = shmchan__thread_self(&tid, &start);
	if (ret)
		return ret;
	*me = (start & UINT32_MAX) << 32 | ((uint32_t)tid & M_TID);
	return 0;
}

static inline uint64_t ident(uint64_t w)
{
	return w & ~(uint64_t)M_FLAGS;
}

/* Is the owner @who alive? Cached per death count. */
static bool owner_alive(struct shmchan_sync *s, uint64_t who)
{
	unsigned int i;
	bool alive;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nverified; i++) {
		if (s->verified[i] == who) {
			pthread_mutex_unlock(&s->lock);
			return true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	alive = shmchan__alive((pid_t)(who & M_TID), who >> 32, UINT32_MAX, true);
	if (!alive)
		return false;
	pthread_mutex_lock(&s->lock);
	if (s->nverified < SHMCHAN__VERIFIED)
		s->verified[s->nverified++] = who;
	else
		s->verified[s->next_verified++ % SHMCHAN__VERIFIED] = who;
	pthread_mutex_unlock(&s->lock);
	return true;
}

/* With a deadline of "now", a look at the death count first. */
static void refresh_deaths(struct shmchan_sync *s)
{
	uint32_t deaths;

	if (!s->death_notice || shmchan__deaths(s->ch, &deaths))
		return;
	pthread_mutex_lock(&s->lock);
	if (deaths != s->deaths) {
		s->deaths = deaths;
		s->nverified = 0;
	}
	pthread_mutex_unlock(&s->lock);
}

SHMCHAN_EXPORT
void shmchan_mutex_init(struct shmchan_mutex *m)
{
	if (m)
		memset(m, 0, sizeof(*m));
}

SHMCHAN_EXPORT
int shmchan_mutex_lock(struct shmchan_sync *s, struct shmchan_mutex *m,
		       int64_t timeout_ns)
{
	struct mtx *x = (struct mtx *)m;
	struct shmchan__deadline d;
	uint64_t off, me, v = 0;
	int ret;

	ret = shmchan__sync_off(s, m, sizeof(*m), 8, &off);
	if (!ret)
		ret = thread_ident(&me);
	if (ret)
		return ret;
	/* acquire: the section sees what the last owner released */
	if (atomic_compare_exchange_strong_explicit(&x->word, &v, me,
						    memory_order_acquire,
						    memory_order_relaxed))
		return 0;
	shmchan__deadline_init(&d, timeout_ns);
	if (d.nowait)
		refresh_deaths(s);
	for (;;) {
		v = atomic_load_explicit(&x->word, memory_order_relaxed);
		if (!v) {
			/* Others may sleep: keep the bit so we wake one. */
			if (atomic_compare_exchange_weak_explicit(
					&x->word, &v, me | M_WAITERS,
					memory_order_acquire,
					memory_order_relaxed))
				return 0;
			continue;
		}
		if (v & M_NOTREC)
			return -ENOTRECOVERABLE;
		if (ident(v) == me)
			return -EDEADLK;
		if (!owner_alive(s, ident(v))) {
			/* acquire, as above; the data is the caller's to repair */
			if (atomic_compare_exchange_strong_explicit(
					&x->word, &v,
					me | M_DIED | (v & M_WAITERS),
					memory_order_acquire,
					memory_order_relaxed))
				return -EOWNERDEAD;
			continue;
		}
		if (d.nowait)
			return -EAGAIN;
		if (!(v & M_WAITERS) &&
		    !atomic_compare_exchange_weak_explicit(
				&x->word, &v, v | M_WAITERS,
				memory_order_relaxed, memory_order_relaxed))
			continue;
		ret = sync_sleep(s, off + LOW_HALF,
				 (uint32_t)(v | M_WAITERS), &d, true);
		if (ret && ret != -EAGAIN && ret != -EOWNERDEAD)
			return ret;
	}
}

SHMCHAN_EXPORT
int shmchan_mutex_unlock(struct shmchan_sync *s, struct shmchan_mutex *m)
{
	struct mtx *x = (struct mtx *)m;
	uint64_t off, me, v;
	int ret;

	ret = shmchan__sync_off(s, m, sizeof(*m), 8, &off);
	if (!ret)
		ret = thread_ident(&me);
	if (ret)
		return ret;
	v = atomic_load_explicit(&x->word, memory_order_relaxed);
	if (ident(v) != me || v & M_NOTREC)
		return -EPERM;
	/* Taken over and not repaired: nobody may trust it again. */
	if (v & M_DIED) {
		atomic_store_explicit(&x->word, M_NOTREC, memory_order_release);
		shmchan_wake(s->ch, off + LOW_HALF, SHMCHAN_WAKE_ALL);
		return 0;
	}
	/* release: publishes the section to the next owner */
	v = atomic_exchange_explicit(&x->word, 0, memory_order_release);
	if (v & M_WAITERS)
		shmchan_wake(s->ch, off + LOW_HALF, 1);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_mutex_consistent(struct shmchan_sync *s, struct shmchan_mutex *m)
{
	struct mtx *x = (struct mtx *)m;
	uint64_t off, me, v;
	int ret;

	ret = shmchan__sync_off(s, m, sizeof(*m), 8, &off);
	if (!ret)
		ret = thread_ident(&me);
	if (ret)
		return ret;
	v = atomic_load_explicit(&x->word, memory_order_relaxed);
	do {
		if (ident(v) != me || v & M_NOTREC)
			return -EPERM;
		if (!(v & M_DIED))
			return -EINVAL;
	} while (!atomic_compare_exchange_weak_explicit(
			&x->word, &v, v & ~(uint64_t)M_DIED,
			memory_order_relaxed, memory_order_relaxed));
	return 0;
}

/* ------------------------------------------------------------ semaphore */

SHMCHAN_EXPORT
int shmchan_sem_init(struct shmchan_sem *sem, uint32_t value)
{
	struct pair *p = (struct pair *)sem;

	if (!sem || value > SHMCHAN_SEM_MAX)
		return -EINVAL;
	atomic_store_explicit(&p->val, value, memory_order_relaxed);
	atomic_store_explicit(&p->waiters, 0, memory_order_relaxed);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_sem_wait(struct shmchan_sync *s, struct shmchan_sem *sem,
		     int64_t timeout_ns)
{
	struct pair *p = (struct pair *)sem;
	struct shmchan__deadline d;
	uint64_t off;
	uint32_t v;
	int ret;

	ret = shmchan__sync_off(s, sem, sizeof(*sem), 4, &off);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	for (;;) {
		v = atomic_load_explicit(&p->val, memory_order_relaxed);
		while (v) {
			/* acquire: what the poster did before posting */
			if (atomic_compare_exchange_weak_explicit(
					&p->val, &v, v - 1,
					memory_order_acquire,
					memory_order_relaxed))
				return 0;
		}
		if (d.nowait)
			return -EAGAIN;
		ret = pair_sleep(s, p, off, 0, &d);
		if (ret)
			return ret;
	}
}

SHMCHAN_EXPORT
int shmchan_sem_post(struct shmchan_sync *s, struct shmchan_sem *sem)
{
	struct pair *p = (struct pair *)sem;
	uint64_t off;
	uint32_t v;
	int ret;

	ret = shmchan__sync_off(s, sem, sizeof(*sem), 4, &off);
	if (ret)
		return ret;
	v = atomic_load_explicit(&p->val, memory_order_relaxed);
	do {
		if (v >= SHMCHAN_SEM_MAX)
			return -EOVERFLOW;
		/* release: pairs with the acquire in shmchan_sem_wait() */
	} while (!atomic_compare_exchange_weak_explicit(
			&p->val, &v, v + 1, memory_order_release,
			memory_order_relaxed));
	return pair_wake(s, p, off, 1);
}

SHMCHAN_EXPORT
uint32_t shmchan_sem_value(const struct shmchan_sem *sem)
{
	struct pair *p = (struct pair *)sem;

	return sem ? atomic_load_explicit(&p->val, memory_order_relaxed) : 0;
}

/* ------------------------------------------------------------ condition */

SHMCHAN_EXPORT
void shmchan_cond_init(struct shmchan_cond *c)
{
	if (c)
		memset(c, 0, sizeof(*c));
}

/*
 * Lock @m again at the end of a condition wait, whatever ended it: the
 * caller gets @m back in every case but a mutex that is unusable for good.
 * A signal while the relock sleeps only makes it sleep again. The race
 * this must not lose: a revoke before or during the relock. On a revoked
 * channel every wait fails at once with -EIDRM, so a contended lock cannot
 * sleep; it looks again every millisecond instead. The holder lets go in
 * time: its own waits fail the same way, and a holder that dies is taken
 * over (-EOWNERDEAD), as in any lock.
 */
static int cond_relock(struct shmchan_sync *s, struct shmchan_mutex *m)
{
	static const struct timespec pause = { 0, 1000000 };
	bool revoked = false;
	int ret;

	for (;;) {
		ret = shmchan_mutex_lock(s, m, revoked ? 0 : SHMCHAN_FOREVER);
		if (ret == -EIDRM)
			revoked = true;
		else if (ret != -EINTR && ret != -EAGAIN)
			return ret;
		if (revoked)
			nanosleep(&pause, NULL);
	}
}

SHMCHAN_EXPORT
int shmchan_cond_wait(struct shmchan_sync *s, struct shmchan_cond *c,
		      struct shmchan_mutex *m, int64_t timeout_ns)
{
	struct pair *p = (struct pair *)c;
	struct shmchan__deadline d;
	uint64_t off;
	uint32_t seq;
	int ret, relock;

	ret = shmchan__sync_off(s, c, sizeof(*c), 4, &off);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	/* Read under the mutex: a signal after it changes the sequence. */
	seq = atomic_load_explicit(&p->val, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->waiters, 1, memory_order_relaxed);
	/* Pairs with the fence in pair_wake(). */
	atomic_thread_fence(memory_order_seq_cst);
	ret = shmchan_mutex_unlock(s, m);
	if (ret) {
		atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
		return ret;
	}
	ret = d.nowait ? -ETIMEDOUT : sync_sleep(s, off, seq, &d, false);
	atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
	relock = cond_relock(s, m);
	if (relock)
		return relock;
	return ret == -ETIMEDOUT || ret == -EINTR || ret == -EIDRM ? ret : 0;
}

static int cond_wake(struct shmchan_sync *s, struct shmchan_cond *c,
		     uint32_t count)
{
	struct pair *p = (struct pair *)c;
	uint64_t off;
	int ret;

	ret = shmchan__sync_off(s, c, sizeof(*c), 4, &off);
	if (ret)
		return ret;
	/* release: a waiter that sees the new sequence sees our change */
	atomic_fetch_add_explicit(&p->val, 1, memory_order_release);
	return pair_wake(s, p, off, count);
}

SHMCHAN_EXPORT
int shmchan_cond_signal(struct shmchan_sync *s, struct shmchan_cond *c)
{
	return cond_wake(s, c, 1);
}

SHMCHAN_EXPORT
int shmchan_cond_broadcast(struct shmchan_sync *s, struct shmchan_cond *c)
{
	return cond_wake(s, c, SHMCHAN_WAKE_ALL);
}

/* ------------------------------------------------------------ event */

SHMCHAN_EXPORT
void shmchan_event_init(struct shmchan_event *e, int set)
{
	struct pair *p = (struct pair *)e;

	if (!e)
		return;
	atomic_store_explicit(&p->val, set ? 1 : 0, memory_order_relaxed);
	atomic_store_explicit(&p->waiters, 0, memory_order_relaxed);
}

SHMCHAN_EXPORT
int shmchan_event_set(struct shmchan_sync *s, struct shmchan_event *e)
{
	struct pair *p = (struct pair *)e;
	uint64_t off;
	int ret;

	ret = shmchan__sync_off(s, e, sizeof(*e), 4, &off);
	if (ret)
		return ret;
	/* release: a waiter that sees it set sees what came before */
	atomic_store_explicit(&p->val, 1, memory_order_release);
	return pair_wake(s, p, off, SHMCHAN_WAKE_ALL);
}

SHMCHAN_EXPORT
void shmchan_event_reset(struct shmchan_event *e)
{
	struct pair *p = (struct pair *)e;

	if (e)
		atomic_store_explicit(&p->val, 0, memory_order_relaxed);
}

SHMCHAN_EXPORT
int shmchan_event_wait(struct shmchan_sync *s, struct shmchan_event *e,
		       int64_t timeout_ns)
{
	struct pair *p = (struct pair *)e;
	struct shmchan__deadline d;
	uint64_t off;
	int ret;

	ret = shmchan__sync_off(s, e, sizeof(*e), 4, &off);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	for (;;) {
		/* acquire: pairs with the release in shmchan_event_set() */
		if (atomic_load_explicit(&p->val, memory_order_acquire))
			return 0;
		if (d.nowait)
			return -EAGAIN;
		ret = pair_sleep(s, p, off, 0, &d);
		if (ret)
			return ret;
	}
}
