// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Semaphores and events from an event loop, against the real module (run
 * it in the VM; needs SHMCHAN_FEATURE_WATCH, no skip without it):
 * shmchan_sem_watch(), shmchan_event_watch() and shmchan_sync_unwatch():
 * a post or set by another process makes the context's descriptor poll
 * readable; "ready now"; level- and edge-triggered epoll; unwatch and
 * free; a wake a watch took from a sleeper handed on; a forked child;
 * revoke; every errno of shmchan_sem_watch(3); and lost-wake races across
 * both vCPUs (a poster against the arm; with a sleeping competitor taking
 * units; with two watchers; an event ping-pong), and the same orders made
 * to happen for certain by running code inside the arm's ioctl(). Every
 * wait is bounded, so a lost wake fails instead of hanging.
 */
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/epoll.h>

#include "util.h"

#define SEM(a)	((struct shmchan_sem *)((a)->base + 64))
#define EV(a)	((struct shmchan_event *)((a)->base + 128))
#define EV2(a)	((struct shmchan_event *)((a)->base + 192))

/* Shared counters of the races, in the channel (past the objects). */
struct race {
	_Atomic uint64_t posted;
	_Atomic uint64_t taken;
	_Atomic uint64_t arms;
	_Atomic uint64_t lost;
};

#define RACE(a)	((struct race *)((a)->base + 4096))

static int sem_watch(struct sync_area *a, uint64_t data)
{
	int ret = shmchan_sem_watch(a->s, SEM(a), data);

	if (ret == -EOPNOTSUPP) {
		diag("the module has no SHMCHAN_FEATURE_WATCH");
		_exit(1);
	}
	return ret;
}

/*
 * Take the fired watches (one READ: it re-arms each with its old value,
 * so a watch whose object is still ready fires again at once, and a loop
 * of READs would never end); returns how many, and the last one's data.
 */
static int consume(struct sync_area *a, uint64_t *data)
{
	struct shmchan_watch_event ev[8];
	int n = shmchan_watch_read(a->ch, 0, ev, 8);

	ASSERT_TRUE(n >= 0);
	if (data && n > 0)
		*data = ev[n - 1].data;
	return n;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ------------------------------------------------------------ behaviour */

TEST(errors, 60)
{
	const char *n = chan_name("serr");
	struct shmchan_watch_event ev[2];
	struct shmchan_sem outside;
	struct sync_area a;
	uint32_t id, i;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	shmchan_event_init(EV(&a), 0);
	ASSERT_EQ(shmchan_sem_watch(NULL, SEM(&a), 0), -EINVAL);
	ASSERT_EQ(shmchan_sem_watch(a.s, NULL, 0), -EINVAL);
	ASSERT_EQ(shmchan_sem_watch(a.s, &outside, 0), -EINVAL);
	ASSERT_EQ(shmchan_sem_watch(a.s, (void *)(a.base + 66), 0), -EINVAL);
	ASSERT_EQ(shmchan_sem_watch(a.s, (void *)(a.base + SYNC_AREA_LEN - 4), 0),
		  -EINVAL);
	ASSERT_EQ(shmchan_event_watch(NULL, EV(&a), 0), -EINVAL);
	ASSERT_EQ(shmchan_event_watch(a.s, NULL, 0), -EINVAL);
	ASSERT_EQ(shmchan_sync_unwatch(NULL, SEM(&a)), -EINVAL);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, NULL), -EINVAL);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, &outside), -EINVAL);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), -ENOENT);
	/* the handle's limit: the other watches of the handle count too */
	for (i = 1; i < SHMCHAN_WATCH_MAX; i++)
		ASSERT_EQ(shmchan_watch_add(a.ch, 8, 0, 0, 0, 0, &id), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);
	ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 2), -ENOSPC);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), 0);
	ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 2), 0);
	ASSERT_EQ(shmchan_sem_watch(a.s, SEM(&a), 1), -ENOSPC);
	/* revoked: no arm, and the descriptor says so */
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_sem_watch(a.s, SEM(&a), 1), -EIDRM);
	ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 2), -EIDRM);
	{
		struct pollfd p = { .fd = a.fd, .events = POLLIN };

		ASSERT_EQ(poll(&p, 1, 5000), 1);
		ASSERT_TRUE(p.revents & POLLERR);
	}
	ASSERT_EQ(shmchan_watch_read(a.ch, 0, ev, 2), -EIDRM);
	/* what is ready is still ready; unwatching still works */
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(shmchan_sem_watch(a.s, SEM(&a), 1), 1);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, EV(&a)), 0);
	sync_area_close(&a);
}

/* Another process posts (or sets) while we poll. */
static void post_later(struct sync_area *a, bool event)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		struct sync_area b;

		sync_area_open(&b, shmchan_name(a->ch), false);
		usleep(100000);
		if (event)
			ASSERT_EQ(shmchan_event_set(b.s, EV(&b)), 0);
		else
			ASSERT_EQ(shmchan_sem_post(b.s, SEM(&b)), 0);
		_exit(0);
	}
	ASSERT_TRUE(ready_within(a->fd, 10000));
	ASSERT_EQ(reap(pid), 0);
}

TEST(sem_posted_by_another, 60)
{
	const char *n = chan_name("ssem");
	struct sync_area a;
	uint64_t data = 0;
	int i;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(sem_watch(&a, 77), 0);
		ASSERT_EQ(ready_within(a.fd, 0), 0);
		post_later(&a, false);
		ASSERT_EQ(consume(&a, &data), 1);
		ASSERT_EQ(data, 77);
		ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
		ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), -EAGAIN);
	}
	/* ready now: a unit there, no arm needed */
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(sem_watch(&a, 77), 1);
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
	ASSERT_EQ(sem_watch(&a, 77), 0);
	/* other data: the watch is made again with it */
	ASSERT_EQ(sem_watch(&a, 78), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_TRUE(ready_within(a.fd, 5000));
	ASSERT_EQ(consume(&a, &data), 1);
	ASSERT_EQ(data, 78);
	sync_area_close(&a);
}

TEST(event_set_by_another, 60)
{
	const char *n = chan_name("sev");
	struct sync_area a;
	uint64_t data = 0;
	int i;

	sync_area_open(&a, n, true);
	shmchan_event_init(EV(&a), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 5), 0);
		ASSERT_EQ(ready_within(a.fd, 0), 0);
		post_later(&a, true);
		ASSERT_EQ(consume(&a, &data), 1);
		ASSERT_EQ(data, 5);
		ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), 0);
		/* set: ready now, however often asked */
		ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 5), 1);
		ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 5), 1);
		shmchan_event_reset(EV(&a));
	}
	sync_area_close(&a);
}

/* A sem and an event on one descriptor, in epoll, both triggers. */
TEST(epoll_level_and_edge, 60)
{
	const char *n = chan_name("sep");
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[2];
	struct sync_area a;
	int ep = epoll_create1(EPOLL_CLOEXEC), i;

	ASSERT_TRUE(ep >= 0);
	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	shmchan_event_init(EV(&a), 0);
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, a.fd, &ev), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(sem_watch(&a, 1), 0);
		ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 2), 0);
		ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
		ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
		ASSERT_EQ(epoll_wait(ep, out, 2, 5000), 1);
		/* edge: once per firing */
		ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
		ASSERT_EQ(shmchan_event_set(a.s, EV(&a)), 0);
		ASSERT_EQ(epoll_wait(ep, out, 2, 5000), 1);
		ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
		ASSERT_EQ(consume(&a, NULL), 2);
		ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
		shmchan_event_reset(EV(&a));
	}
	/* READ re-fired the event's watch (set then): not armed since */
	ASSERT_EQ(shmchan_sync_unwatch(a.s, EV(&a)), 0);
	ev.events = EPOLLIN;
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, a.fd, &ev), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(epoll_wait(ep, out, 2, 5000), 1);
	/* level: again and again until taken */
	ASSERT_EQ(epoll_wait(ep, out, 2, 0), 1);
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);	/* re-armed: the firing dropped */
	ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
	close(ep);
	sync_area_close(&a);
}

TEST(unwatch_and_free, 60)
{
	const char *n = chan_name("sunw");
	struct shmchan_watch_event ev[4];
	struct sync_area a;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	shmchan_event_init(EV(&a), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);
	ASSERT_EQ(shmchan_event_watch(a.s, EV(&a), 2), 0);
	ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST, ev, 4), 2);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), 0);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), -ENOENT);
	ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST, ev, 4), 1);
	/* no watch on the sem: its post leaves the descriptor quiet */
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(ready_within(a.fd, 100), 0);
	/* the context's free removes the rest, the handle's own stay */
	{
		struct shmchan_sync *s2;
		uint32_t id;

		ASSERT_EQ(shmchan_watch_add(a.ch, 0, 0, 0, 0, 9, &id), 0);
		ASSERT_EQ(shmchan_sync_new(a.ch, a.base, &s2), 0);
		ASSERT_EQ(shmchan_event_watch(s2, EV2(&a), 3), 0);
		ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST,
					     ev, 4), 3);
		shmchan_sync_free(s2);
		ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST,
					     ev, 4), 2);
		shmchan_sync_free(a.s);
		ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST,
					     ev, 4), 1);
		ASSERT_EQ(ev[0].data, 9);
		ASSERT_EQ(shmchan_sync_new(a.ch, a.base, &a.s), 0);
	}
	sync_area_close(&a);
}

struct sleeper {
	struct sync_area *a;
	int ret;
};

static void *sleep_on_sem(void *arg)
{
	struct sleeper *sl = arg;

	sl->ret = shmchan_sem_wait(sl->a->s, SEM(sl->a), SHMCHAN_MSEC(20000));
	return NULL;
}

/*
 * A watch re-armed by READ, without the watcher's bit, is queued before a
 * sleeper: a post's one wake goes to it. Unwatching hands it on, and the
 * sleeper gets the unit.
 */
TEST(unwatch_passes_wake_on, 60)
{
	const char *n = chan_name("spass");
	struct sleeper sl;
	struct sync_area a;
	pthread_t t;

	sync_area_open(&a, n, true);
	sl.a = &a;
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_TRUE(ready_within(a.fd, 5000));
	/* another took the unit; READ re-arms the watch with 0: queued */
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
	ASSERT_EQ(consume(&a, NULL), 1);
	ASSERT_EQ(pthread_create(&t, NULL, sleep_on_sem, &sl), 0);
	ASSERT_EQ(await_waiters(a.ch, 2), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	/* the watch took the one wake; the sleeper still sleeps */
	ASSERT_TRUE(ready_within(a.fd, 5000));
	ASSERT_EQ(await_waiters(a.ch, 1), 0);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 1);
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(sl.ret, 0);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 0);
	sync_area_close(&a);
}

/* The child forgets the watches, which stay the parent's. */
TEST(fork_child_forgets, 60)
{
	const char *n = chan_name("sfork");
	struct shmchan_watch_event ev[4];
	struct sync_area a;
	pid_t pid;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	ASSERT_EQ(sem_watch(&a, 1), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), -ENOENT);
		shmchan_sync_free(a.s);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_watch_read(a.ch, SHMCHAN_WATCH_READ_LIST, ev, 4), 1);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_TRUE(ready_within(a.fd, 5000));
	ASSERT_EQ(shmchan_sync_unwatch(a.s, SEM(&a)), 0);
	sync_area_close(&a);
}

/* ------------------------------------------------------------ orders */

/*
 * Code run just before or just after the next SHMCHAN_IOC_WATCH_ADD or
 * _ARM the library makes: this ioctl() comes before libc's for the
 * library's calls, so a test can put a post (and a take) exactly between
 * a watcher's look at the value and its arm, which the races above hit
 * only now and then.
 */
static void (*hook_before)(void);
static void (*hook_after)(void);

int ioctl(int fd, unsigned long request, ...)
{
	static int (*next)(int, unsigned long, void *);
	void (*before)(void) = NULL, (*after)(void) = NULL;
	va_list ap;
	void *arg;
	int ret, err;

	if (!next)
		next = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == SHMCHAN_IOC_WATCH_ADD || request == SHMCHAN_IOC_WATCH_ARM) {
		/* once, and not for the hooks' own calls */
		before = hook_before;
		after = hook_after;
		hook_before = NULL;
		hook_after = NULL;
	}
	if (before)
		before();
	ret = next(fd, request, arg);
	err = errno;
	if (after)
		after();
	errno = err;
	return ret;
}

/* The other process's side, on a handle and context of its own. */
static struct sync_area other;

/* A post and a take between the watcher's look and its arm: the value
 * is back to what the watch expects, the post's wake gone by. */
static void post_and_take(void)
{
	ASSERT_EQ(shmchan_sem_post(other.s, SEM(&other)), 0);
	ASSERT_EQ(shmchan_sem_wait(other.s, SEM(&other), 0), 0);
}

/*
 * After the arm: a post, which finds no watcher's bit (the post above
 * cleared it) and wakes nobody, then a second watcher's first step, the
 * bit set again (what shmchan_sem_watch() does first, lib/sync_watch.c;
 * done by hand, since the second watcher's own look would see the unit
 * and stop before it).
 */
static void post_then_bit(void)
{
	_Atomic uint32_t *waiters = (_Atomic uint32_t *)SEM(&other) + 1;

	ASSERT_EQ(shmchan_sem_post(other.s, SEM(&other)), 0);
	atomic_fetch_or(waiters, 0x80000000U);
}

/*
 * What the watcher saw must hold: either it says "ready" (1), or its
 * watch is armed, and then the unit the next post gives (or the one
 * already there) makes the descriptor readable.
 */
static void watch_holds(struct sync_area *a, bool post)
{
	int ret = sem_watch(a, 1);

	ASSERT_TRUE(ret == 0 || ret == 1);
	if (ret == 0) {
		if (post)
			ASSERT_EQ(shmchan_sem_post(other.s, SEM(&other)), 0);
		if (!ready_within(a->fd, 5000)) {
			diag("armed, and no wake: value %u",
			     shmchan_sem_value(SEM(a)));
			ASSERT_TRUE(0);
		}
	}
	/* and the next round works as usual */
	while (shmchan_sem_wait(a->s, SEM(a), 0) == 0)
		;
	ASSERT_EQ(sem_watch(a, 1), 0);
	ASSERT_EQ(shmchan_sem_post(other.s, SEM(&other)), 0);
	ASSERT_TRUE(ready_within(a->fd, 5000));
}

/* A unit posted and taken between the look and the arm (A-B-A). */
TEST(order_post_take_before_arm, 30)
{
	const char *n = chan_name("soaba");
	struct sync_area a;

	sync_area_open(&a, n, true);
	sync_area_open(&other, n, false);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	hook_before = post_and_take;
	watch_holds(&a, true);
	/* the same on a watch that exists already (ARM, not ADD) */
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
	hook_before = post_and_take;
	watch_holds(&a, true);
	sync_area_close(&other);
	sync_area_close(&a);
}

/* ... and then a post the bit did not see, and the bit set again. */
TEST(order_bit_set_again, 30)
{
	const char *n = chan_name("sobit");
	struct sync_area a;

	sync_area_open(&a, n, true);
	sync_area_open(&other, n, false);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	hook_before = post_and_take;
	hook_after = post_then_bit;
	watch_holds(&a, false);
	sync_area_close(&other);
	sync_area_close(&a);
}

/* ------------------------------------------------------------ races */

/*
 * The poster: waits (bounded) until every unit was taken, then after a
 * random gap posts the next, so that each post falls on some part of a
 * watcher's arm.
 */
static void poster(struct sync_area *a, uint64_t total, int cpu)
{
	struct race *r = RACE(a);
	uint64_t seed = 11, i, until;
	uint32_t gap;

	pin(cpu);
	for (i = 0; i < total; i++) {
		until = now_ns() + 20000000000ULL;
		while (atomic_load(&r->taken) < i) {
			if (now_ns() > until || atomic_load(&r->lost))
				_exit(3);
			sched_yield();
		}
		for (gap = (uint32_t)(mix64(&seed) % 30000); gap; gap--)
			__asm__ volatile("" ::: "memory");
		if (shmchan_sem_post(a->s, SEM(a)))
			_exit(2);
		atomic_fetch_add(&r->posted, 1);
	}
}

/*
 * A watcher: watch; on 0, poll; take until -EAGAIN. A post that began
 * after our arm (the second one counted after it) must fire the watch:
 * 5 s without readiness after that is a lost wake.
 */
static void watcher(struct sync_area *a, uint64_t total, int cpu)
{
	struct race *r = RACE(a);
	uint64_t c0, until;
	int ret, spins;

	pin(cpu);
	while (atomic_load(&r->taken) < total && !atomic_load(&r->lost)) {
		ret = shmchan_sem_watch(a->s, SEM(a), 1);
		if (ret < 0)
			_exit(4);
		if (ret == 0) {
			atomic_fetch_add(&r->arms, 1);
			c0 = atomic_load(&r->posted);
			until = 0;
			/* a while busy (a sleeping vCPU is slow to wake on TCG),
			 * then asleep */
			for (spins = 0; spins < 50; spins++)
				if (ready_within(a->fd, 0))
					break;
			while (spins == 50 && !ready_within(a->fd, 100)) {
				if (atomic_load(&r->taken) >= total ||
				    atomic_load(&r->lost))
					break;
				if (atomic_load(&r->posted) < c0 + 2)
					continue;
				if (!until)
					until = now_ns() + 5000000000ULL;
				else if (now_ns() > until) {
					diag("lost: %llu posted, %llu taken, value %u",
					     (unsigned long long)atomic_load(&r->posted),
					     (unsigned long long)atomic_load(&r->taken),
					     shmchan_sem_value(SEM(a)));
					atomic_store(&r->lost, 1);
					_exit(5);
				}
			}
			consume(a, NULL);
		}
		while (shmchan_sem_wait(a->s, SEM(a), 0) == 0)
			atomic_fetch_add(&r->taken, 1);
	}
}

/*
 * A competitor until the last 100 posts: asleep in shmchan_sem_wait()
 * (a sleeper queued before or after the watch), or taking with timeout 0
 * on the other vCPU as fast as it can (a unit taken between the
 * watcher's read and its arm: the value back to what the watch expects).
 */
static void taker(struct sync_area *a, uint64_t total, bool spin)
{
	struct race *r = RACE(a);
	uint64_t seed = 3;
	uint32_t gap;
	int ret;

	if (spin)
		pin(1);
	while (atomic_load(&r->posted) + 100 < total &&
	       !atomic_load(&r->lost)) {
		ret = shmchan_sem_wait(a->s, SEM(a), spin ? 0 : SHMCHAN_MSEC(20));
		if (ret == 0)
			atomic_fetch_add(&r->taken, 1);
		else if (ret != (spin ? -EAGAIN : -ETIMEDOUT))
			_exit(6);
		for (gap = spin ? (uint32_t)(mix64(&seed) % 2000) : 0; gap; gap--)
			__asm__ volatile("" ::: "memory");
	}
}

static pid_t fork_role(const char *name, int role, uint64_t total, int cpu)
{
	pid_t pid = fork();
	struct sync_area b;

	ASSERT_TRUE(pid >= 0);
	if (pid)
		return pid;
	sync_area_open(&b, name, false);
	if (role == 0)
		poster(&b, total, cpu);
	else if (role == 1)
		watcher(&b, total, cpu);
	else
		taker(&b, total, role == 3);
	_exit(0);
}

/* @taker: 0 none, 2 sleeping, 3 spinning */
static void sem_race(const char *tag, uint64_t total, int watchers,
		     int taker)
{
	const char *n = chan_name(tag);
	pid_t pids[4];
	struct sync_area a;
	uint64_t start = now_ns();
	int np = 0, i, bad = 0;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);
	memset(RACE(&a), 0, sizeof(struct race));
	/* watchers on CPU 0 (and 1), the poster on CPU 1 */
	for (i = 0; i < watchers; i++)
		pids[np++] = fork_role(n, 1, total, i);
	if (taker)
		pids[np++] = fork_role(n, taker, total, 0);
	pids[np++] = fork_role(n, 0, total, 1);
	for (i = 0; i < np; i++)
		if (reap(pids[i]))
			bad++;
	diag("%llu posts, %llu arms, %.1f s",
	     (unsigned long long)atomic_load(&RACE(&a)->posted),
	     (unsigned long long)atomic_load(&RACE(&a)->arms),
	     secs_since(start));
	ASSERT_EQ(atomic_load(&RACE(&a)->lost), 0);
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(atomic_load(&RACE(&a)->taken), total);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 0);
	sync_area_close(&a);
}

TEST(race_post_arm, 240)
{
	sem_race("srace", scaled(10000), 1, 0);
}

TEST(race_with_sleeping_taker, 240)
{
	sem_race("srtake", scaled(10000), 1, 2);
}

TEST(race_with_spinning_taker, 240)
{
	sem_race("srspin", scaled(6000), 1, 3);
}

TEST(race_two_watchers, 240)
{
	sem_race("sr2w", scaled(15000), 2, 0);
}

/* Two watchers and the fast taker: the bit set again by the other
 * watcher after a waker's clear must not hide that clear. */
TEST(race_two_watchers_spinning_taker, 240)
{
	sem_race("sr2ws", scaled(6000), 2, 3);
}

/*
 * An event ping-pong: the setter sets E and waits for the watcher's
 * answer on E2; the watcher arms on E, and on readiness resets E and sets
 * E2. Each set races an arm; a lost one leaves both waiting (bounded).
 */
TEST(race_event_ping_pong, 240)
{
	const char *n = chan_name("sepp");
	uint64_t total = scaled(10000), i, start = now_ns(), arms = 0;
	struct sync_area a;
	pid_t pid;
	int ret;

	sync_area_open(&a, n, true);
	shmchan_event_init(EV(&a), 0);
	shmchan_event_init(EV2(&a), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		struct sync_area b;
		uint64_t seed = 5;
		uint32_t gap;

		sync_area_open(&b, n, false);
		pin(1);
		for (i = 0; i < total; i++) {
			for (gap = (uint32_t)(mix64(&seed) % 100000); gap; gap--)
				__asm__ volatile("" ::: "memory");
			if (shmchan_event_set(b.s, EV(&b)))
				_exit(2);
			if (shmchan_event_wait(b.s, EV2(&b), SHMCHAN_MSEC(10000)))
				_exit(3);
			shmchan_event_reset(EV2(&b));
		}
		_exit(0);
	}
	pin(0);
	for (i = 0; i < total;) {
		ret = shmchan_event_watch(a.s, EV(&a), 1);
		ASSERT_TRUE(ret == 0 || ret == 1);
		if (ret == 0) {
			arms++;
			if (!ready_within(a.fd, 5000)) {
				diag("no wake after set %llu",
				     (unsigned long long)i);
				ASSERT_TRUE(0);
			}
			consume(&a, NULL);
		}
		if (shmchan_event_wait(a.s, EV(&a), 0) == 0) {
			shmchan_event_reset(EV(&a));
			ASSERT_EQ(shmchan_event_set(a.s, EV2(&a)), 0);
			i++;
		}
	}
	ASSERT_EQ(reap(pid), 0);
	diag("%llu sets, %llu arms, %.1f s", (unsigned long long)total,
	     (unsigned long long)arms, secs_since(start));
	sync_area_close(&a);
}

TAP_MAIN
