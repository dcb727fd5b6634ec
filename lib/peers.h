/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libshmchan internals shared by the layers above the thin one (queue/,
 * sync.c, alloc.c, pool.c): deadlines, telling whether a peer process is
 * alive, the channel's death count, and spinning. Nothing here is
 * exported; names with external linkage are shmchan__*.
 */
#ifndef LIBSHMCHAN_PEERS_H
#define LIBSHMCHAN_PEERS_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------------------ deadlines */

/*
 * struct shmchan__deadline - a caller's timeout, fixed when the call began
 * @nowait: timeout 0: never sleep
 * @forever: no deadline
 * @at: the absolute CLOCK_MONOTONIC deadline otherwise
 */
struct shmchan__deadline {
	bool nowait;
	bool forever;
	struct timespec at;
};

void shmchan__deadline_after(struct shmchan__deadline *d, int64_t timeout_ns);

/* Inline: no clock for 0 (do not wait) and negative (forever), the calls
 * on every send and receive that must cost nothing. */
static inline void shmchan__deadline_init(struct shmchan__deadline *d,
					  int64_t timeout_ns)
{
	if (timeout_ns > 0) {
		shmchan__deadline_after(d, timeout_ns);
		return;
	}
	d->nowait = timeout_ns == 0;
	d->forever = timeout_ns < 0;
	d->at.tv_sec = 0;
	d->at.tv_nsec = 0;
}

/* What to hand shmchan_wait(): NULL for no deadline. */
static inline const struct timespec *
shmchan__deadline_ts(const struct shmchan__deadline *d)
{
	return d->forever ? NULL : &d->at;
}

/* The error of a wait that ran out: -EAGAIN for timeout 0, else -ETIMEDOUT. */
static inline int shmchan__deadline_err(const struct shmchan__deadline *d)
{
	return d->nowait ? -EAGAIN : -ETIMEDOUT;
}

bool shmchan__deadline_passed(const struct shmchan__deadline *d);
uint64_t shmchan__now_ns(void);

/* ------------------------------------------------------------ identity */

/*
 * A process (or thread) is named by its id and its start time, in clock
 * ticks after boot (field 22 of /proc/PID/stat), so that a reused id is
 * not taken for the one that died.
 */
int shmchan__proc_start(pid_t pid, uint64_t *start);

/* The calling process: pid and start time, read once per process. */
int shmchan__self(pid_t *pid, uint64_t *start);

/* The calling thread: tid and start time, cached per thread (fork-safe). */
int shmchan__thread_self(pid_t *tid, uint64_t *start);

/*
 * shmchan__alive - is the process (or, with @thread, the thread) @id that
 * started at @start still running?
 * @start_mask: which bits of the start time to compare (a caller that
 *	kept only 32 bits passes UINT32_MAX); @start 0 compares nothing
 *
 * Dead means: no such id, another start time (the id was reused), a
 * zombie, or exiting (PF_EXITING): the module's death notice comes while
 * the process is still in do_exit(), so "exiting" must count as dead. A
 * process whose main thread exited while others run is alive. When /proc
 * cannot tell (not mounted, out of memory), the answer is "alive", which
 * errs on the side of waiting.
 */
bool shmchan__alive(pid_t id, uint64_t start, uint64_t start_mask,
		    bool thread);

/* ------------------------------------------------------------ deaths */

/* The module's SHMCHAN_FEATURE_* bits; 0 when it cannot tell. */
uint64_t shmchan__features(void);

/* The channel's death count (shmchan_stat().deaths). */
int shmchan__deaths(struct shmchan *ch, uint32_t *deaths);

/* ------------------------------------------------------------ status page */

/*
 * struct shmchan__status - a handle's view of the channel's status page
 * @word: the page's first 64 bits, deaths and state (struct shmchan_status),
 *	read in one load; or, when the module has no status page or the
 *	mapping failed, a word of the library's that stays 0 for ever, so
 *	that callers behave as before the page existed
 * @page: the mapping, or NULL
 *
 * The one place the layers above the thin one (queue, pool, sync) map the
 * page: what they do when it changes is theirs.
 */
struct shmchan__status {
	const _Atomic uint64_t *word;
	void *page;
};

/* Map @ch's status page if @features has it; never fails (falls back). */
void shmchan__status_map(struct shmchan *ch, uint64_t features,
			 struct shmchan__status *st);
void shmchan__status_unmap(struct shmchan__status *st);

/*
 * The word, in one load. Acquire: the module changes a field before it
 * wakes the waits the change ends, and what a caller does on seeing it
 * (a scan of /proc, say) must come after.
 */
static inline uint64_t shmchan__status_read(const struct shmchan__status *st)
{
	return atomic_load_explicit(st->word, memory_order_acquire);
}

/* The halves of the word: struct shmchan_status puts deaths first. */
static inline uint32_t shmchan__status_deaths(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)w;
#else
	return (uint32_t)(w >> 32);
#endif
}

static inline uint32_t shmchan__status_state(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)(w >> 32);
#else
	return (uint32_t)w;
#endif
}

static inline bool shmchan__status_revoked(uint64_t w)
{
	return shmchan__status_state(w) & SHMCHAN_STATE_REVOKED;
}

/* ------------------------------------------------------------ fork */

/*
 * The fork generation: a counter the child side of pthread_atfork() bumps,
 * so that a handle made before a fork() tells, with one load, that it is
 * now in a child. Handles record it when made; shmchan__fork_init() must
 * have run first (it registers the handler, once per process). Only fork()
 * runs the handlers: a child made by a raw clone() or vfork() is not told.
 */
extern unsigned int shmchan__fork_gen __attribute__((visibility("hidden")));

void shmchan__fork_init(void);

static inline unsigned int shmchan__fork_generation(void)
{
	return __atomic_load_n(&shmchan__fork_gen, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ spinning */

static inline void shmchan__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * struct shmchan__spin - a bounded, adaptive spin budget
 * @max_ns: the caller's limit; 0 disables spinning
 * @cur_ns: the budget now, between @max_ns / 10 and @max_ns: halved when a
 *	spin ended in sleep anyway, grown by an eighth when it paid off
 */
struct shmchan__spin {
	uint32_t max_ns;
	uint32_t cur_ns;
};

/* Rounds of a spin without a pause, and between two clock reads. */
#define SHMCHAN__SPIN_TIGHT	128
#define SHMCHAN__SPIN_CLOCK	128

/*
 * shmchan__spin_until - spin while @fired(@arg) is false, for at most the
 * budget (and never past @d). Returns whether it fired; adapts the budget.
 * Inline, so that @fired is inlined too: under emulation a call costs.
 */
static inline bool shmchan__spin_until(struct shmchan__spin *s,
				       const struct shmchan__deadline *d,
				       bool (*fired)(void *arg), void *arg)
{
	uint64_t start = 0, now, limit, budget;
	unsigned int i;

	if (!s->max_ns || d->nowait)
		return false;
	budget = s->cur_ns ? s->cur_ns : s->max_ns;
	limit = d->forever ? UINT64_MAX :
		(uint64_t)d->at.tv_sec * 1000000000ULL + (uint64_t)d->at.tv_nsec;
	for (i = 1;; i++) {
		if (fired(arg))
			break;
		/*
		 * The first rounds poll without a pause: a hand-off between
		 * two running processes usually lands within them, and a
		 * pause can cost far more than a round (under QEMU's TCG it
		 * leaves the translated code: 0.2 to 0.3 us a time).
		 */
		if (i > SHMCHAN__SPIN_TIGHT)
			shmchan__cpu_relax();
		/*
		 * The clock every SHMCHAN__SPIN_CLOCK rounds only, and not at all in
		 * the first ones: where the vDSO cannot read the TSC (a VM
		 * on HPET) a clock read is a system call, 1.3 us under TCG,
		 * more than many a whole wait. The budget counts from the
		 * first read, so it is that many rounds longer.
		 */
		if (i % SHMCHAN__SPIN_CLOCK)
			continue;
		now = shmchan__now_ns();
		if (!start)
			start = now;
		if (now - start >= budget || now >= limit) {
			budget /= 2;
			s->cur_ns = budget < s->max_ns / 10 ? s->max_ns / 10 :
							    (uint32_t)budget;
			return false;
		}
	}
	budget += budget / 8 + 1;
	s->cur_ns = budget > s->max_ns ? s->max_ns : (uint32_t)budget;
	return true;
}

/* ------------------------------------------------------------ sync */

#define SHMCHAN__VERIFIED 8

/*
 * struct shmchan__sync_watch - one watch of a sync context
 * @off: the offset of the object's value word (the watched word)
 * @data: the caller's data, given to the module at ADD
 * @id: the module's watch id on the context's handle
 * @sem: a semaphore's (a wake it took is passed on when it goes)
 */
struct shmchan__sync_watch {
	uint64_t off;
	uint64_t data;
	uint32_t id;
	bool sem;
};

/*
 * struct shmchan_sync - see shmchan.h
 * @ch: the handle (wait/wake)
 * @base: where the caller mapped the whole channel
 * @len: the channel's length
 * @death_notice: the module has SHMCHAN_FEATURE_DEATH_NOTICE
 * @lock: guards the rest (slow paths only); taken by the pthread_atfork()
 *	handlers of sync.c around a fork(), so that no child inherits it held
 * @next, @prev: the process's list of contexts, for those handlers
 * @deaths: the death count the cache below was made at
 * @verified: mutex owners (start << 32 | tid) seen alive at @deaths
 * @wlock: guards @watches, @nwatches and @capwatches, held across the
 *	watch calls to the module (sync_watch.c); taken before @lock, and
 *	by the fork handlers too
 * @watches: the watches of shmchan_sem_watch() and shmchan_event_watch()
 */
struct shmchan_sync {
	struct shmchan *ch;
	uint8_t *base;
	uint64_t len;
	bool death_notice;
	pthread_mutex_t wlock;
	struct shmchan__sync_watch *watches;
	unsigned int nwatches;
	unsigned int capwatches;
	pthread_mutex_t lock;
	uint32_t deaths;
	uint64_t verified[SHMCHAN__VERIFIED];
	unsigned int nverified;
	unsigned int next_verified;
	struct shmchan_sync *next;
	struct shmchan_sync *prev;
};

#endif
