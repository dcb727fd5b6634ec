/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libshmchan internals shared by the layers above the thin one (queue.c,
 * sync.c, alloc.c, pool.c): deadlines, telling whether a peer process is
 * alive, the channel's death count, and spinning. Nothing here is
 * exported; names with external linkage are shmchan__*.
 */
#ifndef LIBSHMCHAN_PEERS_H
#define LIBSHMCHAN_PEERS_H

#include <errno.h>
#include <pthread.h>
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

/* The channel's death count (shmchan_stat().deaths). */
int shmchan__deaths(struct shmchan *ch, uint32_t *deaths);

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
 * struct shmchan_sync - see shmchan.h
 * @ch: the handle (wait/wake)
 * @base: where the caller mapped the whole channel
 * @len: the channel's length
 * @death_notice: the module has SHMCHAN_FEATURE_DEATH_NOTICE
 * @lock: guards the rest (slow paths only)
 * @deaths: the death count the cache below was made at
 * @verified: mutex owners (start << 32 | tid) seen alive at @deaths
 */
struct shmchan_sync {
	struct shmchan *ch;
	uint8_t *base;
	uint64_t len;
	bool death_notice;
	pthread_mutex_t lock;
	uint32_t deaths;
	uint64_t verified[SHMCHAN__VERIFIED];
	unsigned int nverified;
	unsigned int next_verified;
};

#endif
