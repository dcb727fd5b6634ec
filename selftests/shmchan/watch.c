// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan watches (SHMCHAN_IOC_WATCH_*) and poll/epoll on a handle: arming
 * (armed, or fired at once when the word differs), WAKE's count (a watch
 * is one waiter, in queue order with WAIT), READ (reports and re-arms),
 * LIST, ARM, DEL, death notices, revoke and destroy, every errno, epoll
 * level- and edge-triggered, EPOLLONESHOT, two epoll sets, close while
 * registered, fork, 1000 handles on one word, a lost-wakeup race of arm
 * against WAKE, and close racing WAKE.
 *
 * Every wait is bounded: a lost wake fails a test, it never hangs it.
 * SHMCHAN_TEST_SCALE=n divides the race's cycles by n^2 (debug kernel);
 * WATCH_RACE_CYCLES=n sets them (10^6 for the full run).
 */
#include "shmchan_test.h"
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define LEN		(2 * 4096)
#define READY_MS	10000	/* how long a test waits for a readiness */

/* ---- raw wrappers ---------------------------------------------------------- */

/* ADD; returns the result (>= 0) or -errno, the id in *@id. */
static int w_add(int fd, __u64 off, __u32 expected, __u32 flags, __u32 deaths,
		 __u64 data, __u32 *id)
{
	struct shmchan_watch a = {
		.size = sizeof(a), .flags = flags, .offset = off,
		.expected = expected, .deaths = deaths, .data = data,
		.id = 0xdeadbeef, .result = 0xdeadbeef,
	};
	int r = sc_ioctl(fd, SHMCHAN_IOC_WATCH_ADD, &a);

	if (r >= 0 && (__u32)r != a.result)
		return -1000;	/* return value and @result disagree */
	if (id)
		*id = a.id;
	return r;
}

static int w_arm(int fd, __u32 id, __u32 expected, __u32 flags, __u32 deaths)
{
	struct shmchan_watch a = {
		.size = sizeof(a), .flags = flags, .id = id,
		.expected = expected, .deaths = deaths, .result = 0xdeadbeef,
	};
	int r = sc_ioctl(fd, SHMCHAN_IOC_WATCH_ARM, &a);

	if (r >= 0 && (__u32)r != a.result)
		return -1000;
	return r;
}

static int w_del(int fd, __u32 id)
{
	struct shmchan_watch a = { .size = sizeof(a), .id = id };

	return sc_ioctl(fd, SHMCHAN_IOC_WATCH_DEL, &a);
}

static int w_read_sized(int fd, __u32 flags, void *ev, __u32 count, __u32 esize)
{
	struct shmchan_watch_read r = {
		.size = sizeof(r), .flags = flags, .events = sc_ptr(ev),
		.count = count, .event_size = esize,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WATCH_READ, &r);
}

static int w_read(int fd, struct shmchan_watch_event *ev, __u32 count)
{
	return w_read_sized(fd, 0, ev, count, sizeof(*ev));
}

/* poll() for @ms; returns revents, 0 on timeout, or -errno. */
static int w_poll(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r ? p.revents : 0;
}

static int epoll_add(int ep, int fd, __u32 events, __u64 data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

/* epoll_wait for one event within @ms: its events, 0 for none, -errno. */
static int epoll_one(int ep, int ms, __u64 *data)
{
	struct epoll_event e;
	int r;

	do {
		r = epoll_wait(ep, &e, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r < 0 ? -errno : 0;
	if (data)
		*data = e.data.u64;
	return (int)e.events;
}

FIXTURE(wa) {
	int fd;			/* bound read-write, the watcher */
	int waker;		/* a second handle on the channel */
	const char *name;
	volatile __u32 *w;	/* the channel, mapped */
};

FIXTURE_SETUP(wa)
{
	SC_REQUIRE_DEVICE();
	self->name = sc_newname("wa");
	self->fd = sc_new(self->name, LEN, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
	self->waker = sc_attach(self->name, 0);
	ASSERT_LE(0, self->waker);
	self->w = sc_map(self->fd, LEN, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->w));
}

FIXTURE_TEARDOWN(wa)
{
	if (self->w && self->w != MAP_FAILED)
		munmap((void *)self->w, LEN);
	if (self->fd > 0)
		close(self->fd);
	if (self->waker > 0)
		close(self->waker);
	sc_cleanup();
}

/* ---- basics ------------------------------------------------------------------ */

TEST_F(wa, features)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_TRUE(!!(f.features & SHMCHAN_FEATURE_WATCH));
	EXPECT_EQ(SHMCHAN_WATCH_DEATHS | SHMCHAN_WATCH_READ_LIST, f.watch_flags);
	EXPECT_EQ(0U, f.__reserved3);
}

/* Armed while the word holds the value: not ready, counted as a waiter. */
TEST_F(wa, add_armed)
{
	__u32 id = 99;

	self->w[1] = 7;
	EXPECT_EQ(0, w_add(self->fd, 4, 7, 0, 0, 0, &id));
	EXPECT_EQ(0U, id);
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	/* The word changed without a WAKE: a watch, like WAIT, is not told */
	self->w[1] = 8;
	EXPECT_EQ(0, w_poll(self->fd, 50));
	EXPECT_EQ(1, sc_wake(self->waker, 4, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

/* A word that differs at arm fires at once; READ re-arms with the old value. */
TEST_F(wa, add_changed_fires_at_once)
{
	struct shmchan_watch_event ev[4];
	__u32 id;

	self->w[0] = 5;
	EXPECT_EQ((int)SHMCHAN_WATCH_EV_CHANGED, w_add(self->fd, 0, 4, 0, 0, 0x1234567890ULL, &id));
	EXPECT_EQ(POLLIN, w_poll(self->fd, 0));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
	memset(ev, 0xff, sizeof(ev));
	ASSERT_EQ(1, w_read(self->fd, ev, 4));
	EXPECT_EQ(id, ev[0].id);
	EXPECT_EQ(SHMCHAN_WATCH_EV_CHANGED, ev[0].events);
	EXPECT_EQ(0x1234567890ULL, ev[0].data);
	EXPECT_EQ(0ULL, ev[0].offset);
	EXPECT_EQ(4U, ev[0].expected);
	EXPECT_EQ(0U, ev[0].__reserved);
	/* Re-armed with 4, the word is still 5: fired again */
	EXPECT_EQ(POLLIN, w_poll(self->fd, 0));
	EXPECT_EQ(1, w_read(self->fd, ev, 4));
	/* ARM with the value seen: armed, nothing pending */
	EXPECT_EQ(0, w_arm(self->fd, id, 5, 0, 0));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_read(self->fd, ev, 4));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
}

TEST_F(wa, wake_fires_and_read_rearms)
{
	struct shmchan_watch_event ev[2];
	__u32 id;

	ASSERT_EQ(0, w_add(self->fd, 8, 0, 0, 0, 42, &id));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(1, sc_wake(self->waker, 8, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	/* Fired and not re-armed: no longer queued, takes no wake */
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(0, sc_wake(self->waker, 8, 1));
	ASSERT_EQ(1, w_read(self->fd, ev, 2));
	EXPECT_EQ(id, ev[0].id);
	EXPECT_EQ(SHMCHAN_WATCH_EV_WOKEN, ev[0].events);
	EXPECT_EQ(42ULL, ev[0].data);
	/* Re-armed with 0, the word is 0: queued again */
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->waker, 8, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
}

/* Only the watched word of the watched channel fires it. */
TEST_F(wa, other_words_do_not_fire)
{
	const char *n2 = sc_newname("wa2");
	int other = sc_new(n2, LEN, 0600, SHMCHAN_CREATE_EXCL);
	__u32 id;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, w_add(self->fd, 16, 0, 0, 0, 0, &id));
	EXPECT_EQ(0, sc_wake(self->waker, 20, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_wake(self->waker, 12, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_wake(other, 16, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, w_poll(self->fd, 50));
	EXPECT_EQ(1, sc_wake(self->waker, 16, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	close(other);
}

/* A child blocked in WAIT on @off; exits 0 when WAIT returns 0. */
static pid_t spawn_waiter(int fd, __u64 off)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		int r = sc_wait(fd, off, 0, sc_now_ns() + 30 * SC_NSEC);

		CHILD_EQ(0, r);
		_exit(0);
	}
	return pid;
}

/* WAKE's count: a watch is one waiter, oldest first with WAIT's tasks. */
TEST_F(wa, wake_count_fifo_waiter_first)
{
	pid_t pid;
	int code;
	__u32 id;

	pid = spawn_waiter(self->waker, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	EXPECT_EQ(2ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, w_poll(self->fd, 50));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	(void)code;
}

TEST_F(wa, wake_count_fifo_watch_first)
{
	pid_t pid;
	int code;
	__u32 id;

	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	pid = spawn_waiter(self->waker, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd, 2, 10000));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	usleep(50000);
	EXPECT_FALSE(sc_finished(pid, &code));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	/* WAKE_ALL counts watches too */
	ASSERT_EQ(0, w_arm(self->fd, id, 0, 0, 0));
	pid = spawn_waiter(self->waker, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd, 2, 10000));
	EXPECT_EQ(2, sc_wake(self->waker, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
}

/* ARM discards pending events and re-queues; DEL frees the id. */
TEST_F(wa, arm_discards_del_frees)
{
	struct shmchan_watch_event ev[2];
	__u32 a, b, c;

	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &a));
	ASSERT_EQ(0, w_add(self->fd, 4, 0, 0, 0, 0, &b));
	EXPECT_EQ(0U, a);
	EXPECT_EQ(1U, b);
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	EXPECT_EQ(0, w_arm(self->fd, a, 0, 0, 0));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_read(self->fd, ev, 2));
	EXPECT_EQ(2ULL, sc_nwaiters(self->fd));
	/* An armed watch re-armed stays one waiter */
	EXPECT_EQ(0, w_arm(self->fd, a, 0, 0, 0));
	EXPECT_EQ(2ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(0, w_del(self->fd, a));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(-ENOENT, w_del(self->fd, a));
	EXPECT_EQ(-ENOENT, w_arm(self->fd, a, 0, 0, 0));
	ASSERT_EQ(0, w_add(self->fd, 8, 0, 0, 0, 0, &c));
	EXPECT_EQ(0U, c);	/* the smallest free id */
	/* DEL of a fired watch drops its events */
	EXPECT_EQ(1, sc_wake(self->waker, 4, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	EXPECT_EQ(0, w_del(self->fd, b));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_read(self->fd, ev, 2));
}

/* READ takes at most @count, oldest firing first; LIST changes nothing. */
TEST_F(wa, read_count_and_list)
{
	struct shmchan_watch_event ev[4];
	unsigned char big[3][48];
	__u32 id[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, w_add(self->fd, 4 * i, 0, 0, 0, 100 + i, &id[i]));
	EXPECT_EQ(1, sc_wake(self->waker, 8, 1));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	/* LIST: all three, in id order, states; returns the total */
	memset(ev, 0xff, sizeof(ev));
	ASSERT_EQ(3, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, ev, 4, sizeof(ev[0])));
	EXPECT_EQ(id[0], ev[0].id);
	EXPECT_EQ(SHMCHAN_WATCH_EV_WOKEN, ev[0].events);
	EXPECT_EQ(SHMCHAN_WATCH_EV_ARMED, ev[1].events);
	EXPECT_EQ(4ULL, ev[1].offset);
	EXPECT_EQ(101ULL, ev[1].data);
	EXPECT_EQ(SHMCHAN_WATCH_EV_WOKEN, ev[2].events);
	EXPECT_EQ(~0U, ev[3].id);	/* not written */
	EXPECT_EQ(3, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, ev, 1, sizeof(ev[0])));
	EXPECT_EQ(3, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, NULL, 0, sizeof(ev[0])));
	/* A larger entry: the tail is zeroed */
	memset(big, 0xff, sizeof(big));
	ASSERT_EQ(3, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, big, 3, 48));
	for (i = 0; i < 3; i++) {
		struct shmchan_watch_event e;

		memcpy(&e, big[i], sizeof(e));
		EXPECT_EQ(id[i], e.id);
		EXPECT_EQ(0, big[i][32] | big[i][40] | big[i][47]);
	}
	/* READ one: the oldest firing (offset 8) */
	ASSERT_EQ(1, w_read(self->fd, ev, 1));
	EXPECT_EQ(id[2], ev[0].id);
	EXPECT_EQ(102ULL, ev[0].data);
	ASSERT_EQ(1, w_read(self->fd, ev, 4));
	EXPECT_EQ(id[0], ev[0].id);
	EXPECT_EQ(0, w_read(self->fd, ev, 4));
	EXPECT_EQ(0, w_read(self->fd, NULL, 0));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(3ULL, sc_nwaiters(self->fd));
}

/* ---- deaths, destroy, revoke ----------------------------------------------------- */

TEST_F(wa, deaths)
{
	struct shmchan_watch_event ev[2];
	__u32 id, plain, d0 = sc_deaths(self->fd);
	pid_t pid;

	/* A stale count fires at once, with EPOLLPRI */
	EXPECT_EQ((int)SHMCHAN_WATCH_EV_DIED,
		  w_add(self->fd, 0, 0, SHMCHAN_WATCH_DEATHS, d0 + 1, 0, &id));
	EXPECT_EQ(POLLIN | POLLPRI, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_arm(self->fd, id, 0, SHMCHAN_WATCH_DEATHS, d0));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &plain));
	/* A participant dies: the death watch fires, the plain one does not */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmchan_stat st;

		CHILD_EQ(0, sc_stat(self->waker, &st));	/* a use */
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(POLLIN | POLLPRI, w_poll(self->fd, READY_MS));
	ASSERT_EQ(1, w_read(self->fd, ev, 2));
	EXPECT_EQ(id, ev[0].id);
	EXPECT_EQ(SHMCHAN_WATCH_EV_DIED, ev[0].events);
	/* Re-armed with the old count: fires again; ARM with the new one */
	EXPECT_EQ(POLLIN | POLLPRI, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_arm(self->fd, id, 0, SHMCHAN_WATCH_DEATHS, sc_deaths(self->fd)));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	/* ARM without the flag: deaths no longer fire it */
	EXPECT_EQ(0, w_arm(self->fd, id, 0, 0, 0));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmchan_stat st;

		CHILD_EQ(0, sc_stat(self->waker, &st));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, w_poll(self->fd, 100));
	EXPECT_EQ(2ULL, sc_nwaiters(self->fd));
}

/* DESTROY without revoke: watches go on working. */
TEST_F(wa, destroyed_channel)
{
	__u32 id;

	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, w_poll(self->fd, 0));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	EXPECT_EQ(0, w_arm(self->fd, id, 0, 0, 0));
	ASSERT_EQ(0, w_add(self->fd, 4, 0, 0, 0, 0, &id));
	EXPECT_EQ(2ULL, sc_nwaiters(self->fd));
}

/* Revoke: pollers woken with ERR|HUP, calls but DEL fail with EIDRM. */
TEST_F(wa, revoked_channel)
{
	struct shmchan_watch_event ev[2];
	__u32 armed, fired;
	pid_t pid;
	int r;

	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &armed));
	ASSERT_EQ(0, w_add(self->fd, 4, 0, 0, 0, 0, &fired));
	EXPECT_EQ(1, sc_wake(self->waker, 4, 1));
	/* Both armed again; a child revokes while we sleep in poll() */
	ASSERT_EQ(1, w_read(self->fd, ev, 2));
	ASSERT_EQ(0, w_poll(self->fd, 0));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sc_msleep(200);
		CHILD_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
		_exit(0);
	}
	r = w_poll(self->fd, READY_MS);
	EXPECT_EQ(POLLIN | POLLERR | POLLHUP, r);
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(-EIDRM, w_add(self->fd, 8, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EIDRM, w_arm(self->fd, armed, 0, 0, 0));
	EXPECT_EQ(-EIDRM, w_read(self->fd, ev, 2));
	EXPECT_EQ(-EIDRM, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, ev, 2, sizeof(ev[0])));
	EXPECT_EQ(POLLIN | POLLERR | POLLHUP, w_poll(self->fd, 0));
	EXPECT_EQ(0, w_del(self->fd, armed));
	EXPECT_EQ(0, w_del(self->fd, fired));
	EXPECT_EQ(-ENOENT, w_del(self->fd, fired));
}

/* ---- errnos ------------------------------------------------------------------------ */

TEST_F(wa, einval)
{
	struct shmchan_watch a = { .size = sizeof(a) };
	struct shmchan_watch_event ev;
	__u32 id;

	EXPECT_EQ(-EINVAL, w_add(self->fd, 2, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, w_add(self->fd, LEN, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, w_add(self->fd, ~0ULL & ~3ULL, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, w_add(self->fd, 0, 0, 1U << 5, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, w_add(self->fd, 0, 0, SHMCHAN_WATCH_READ_LIST, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, w_add(self->fd, 0, 0, 0, 1, 0, NULL));
	ASSERT_EQ(0, w_add(self->fd, LEN - 4, 0, 0, 0, 0, &id));
	EXPECT_EQ(-EINVAL, w_arm(self->fd, id, 0, 0, 3));
	EXPECT_EQ(-EINVAL, w_arm(self->fd, id, 0, 1U << 7, 0));
	a.id = id;
	a.offset = 4;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_ARM, &a));
	a.offset = 0;
	a.data = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_ARM, &a));
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_DEL, &a));
	a.data = 0;
	a.expected = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_DEL, &a));
	a.expected = 0;
	a.flags = SHMCHAN_WATCH_DEATHS;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_DEL, &a));
	a.flags = 0;
	a.offset = 4;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_DEL, &a));
	a.offset = 0;
	a.size = SHMCHAN_WATCH_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_ADD, &a));
	EXPECT_EQ(-EINVAL, w_read_sized(self->fd, 1U << 0, &ev, 1, sizeof(ev)));
	EXPECT_EQ(-EINVAL, w_read_sized(self->fd, 0, &ev, 1, SHMCHAN_WATCH_EVENT_SIZE_VER0 - 1));
	EXPECT_EQ(-EINVAL, w_read_sized(self->fd, 0, &ev, 1, 0));
	EXPECT_EQ(-E2BIG, w_read_sized(self->fd, 0, &ev, 1, SC_PAGE + 1));
	/* Still one watch, untouched */
	EXPECT_EQ(0, w_del(self->fd, id));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

TEST_F(wa, enoent_ebadfd)
{
	struct shmchan_watch_event ev;
	int unbound = sc_dev();

	ASSERT_LE(0, unbound);
	EXPECT_EQ(-ENOENT, w_arm(self->fd, 0, 0, 0, 0));
	EXPECT_EQ(-ENOENT, w_del(self->fd, 0));
	EXPECT_EQ(-ENOENT, w_arm(self->fd, SHMCHAN_WATCH_MAX, 0, 0, 0));
	EXPECT_EQ(-ENOENT, w_del(self->fd, ~0U));
	EXPECT_EQ(-EBADFD, w_add(unbound, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EBADFD, w_arm(unbound, 0, 0, 0, 0));
	EXPECT_EQ(-EBADFD, w_del(unbound, 0));
	EXPECT_EQ(-EBADFD, w_read(unbound, &ev, 1));
	/* An unbound handle is never ready; neither is read(2) supported */
	EXPECT_EQ(0, w_poll(unbound, 0));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EINVAL, errno);
	close(unbound);
}

/* EFAULT: nothing is consumed. */
TEST_F(wa, efault_consumes_nothing)
{
	struct shmchan_watch_event ev[2];
	void *ro = mmap(NULL, SC_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 id;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(ro));
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 7, &id));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(POLLIN, w_poll(self->fd, READY_MS));
	EXPECT_EQ(-EFAULT, w_read(self->fd, ro, 1));
	EXPECT_EQ(-EFAULT, w_read(self->fd, (void *)8, 1));
	EXPECT_EQ(-EFAULT, w_read_sized(self->fd, SHMCHAN_WATCH_READ_LIST, ro, 1, sizeof(ev[0])));
	EXPECT_EQ(POLLIN, w_poll(self->fd, 0));
	ASSERT_EQ(1, w_read(self->fd, ev, 2));
	EXPECT_EQ(SHMCHAN_WATCH_EV_WOKEN, ev[0].events);
	EXPECT_EQ(7ULL, ev[0].data);
	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_WATCH_ADD, (void *)8));
	munmap(ro, SC_PAGE);
}

/* SHMCHAN_WATCH_MAX per handle, then ENOSPC; another handle has its own. */
TEST_F(wa, enospc)
{
	static struct shmchan_watch_event ev[SHMCHAN_WATCH_MAX];
	__u32 id;
	int i, r = 0;

	for (i = 0; i < SHMCHAN_WATCH_MAX && r == 0; i++) {
		r = w_add(self->fd, 0, 0, 0, 0, 0, &id);
	}
	ASSERT_EQ(0, r);
	EXPECT_EQ((__u32)SHMCHAN_WATCH_MAX - 1, id);
	EXPECT_EQ(-ENOSPC, w_add(self->fd, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, w_add(self->waker, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ((__u64)SHMCHAN_WATCH_MAX + 1, sc_nwaiters(self->fd));
	EXPECT_EQ(SHMCHAN_WATCH_MAX + 1, sc_wake(self->waker, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, w_del(self->fd, 17));
	EXPECT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	EXPECT_EQ(17U, id);
	/* READ's count past the limit is fine */
	EXPECT_EQ(SHMCHAN_WATCH_MAX - 1, w_read_sized(self->fd, 0, ev, ~0U, sizeof(ev[0])));
}

/* ---- epoll ---------------------------------------------------------------------------- */

TEST_F(wa, epoll_level_triggered)
{
	struct shmchan_watch_event ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	__u64 data = 0;
	__u32 id;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, epoll_add(ep, self->fd, EPOLLIN, 77));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, &data));
	EXPECT_EQ(77ULL, data);
	EXPECT_EQ(EPOLLIN, epoll_one(ep, 0, NULL));	/* again: level */
	EXPECT_EQ(1, w_read(self->fd, ev, 2));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	close(ep);
}

TEST_F(wa, epoll_edge_triggered)
{
	struct shmchan_watch_event ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	__u32 a, b;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &a));
	ASSERT_EQ(0, w_add(self->fd, 4, 0, 0, 0, 0, &b));
	ASSERT_EQ(0, epoll_add(ep, self->fd, EPOLLIN | EPOLLET, 1));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));		/* one edge */
	/* Another firing while the first is pending: a new edge */
	EXPECT_EQ(1, sc_wake(self->waker, 4, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	EXPECT_EQ(2, w_read(self->fd, ev, 2));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	/* A firing at arm is an edge too */
	self->w[0] = 1;
	EXPECT_EQ((int)SHMCHAN_WATCH_EV_CHANGED, w_arm(self->fd, a, 0, 0, 0));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	close(ep);
}

TEST_F(wa, epoll_oneshot)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	__u32 a, b;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &a));
	ASSERT_EQ(0, w_add(self->fd, 4, 0, 0, 0, 0, &b));
	ASSERT_EQ(0, epoll_add(ep, self->fd, EPOLLIN | EPOLLONESHOT, 1));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	EXPECT_EQ(1, sc_wake(self->waker, 4, 1));
	EXPECT_EQ(0, epoll_one(ep, 100, NULL));		/* disabled */
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &e));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	close(ep);
}

/* Two epoll sets and poll() at once: each one is told. */
TEST_F(wa, epoll_two_sets)
{
	int ep1 = epoll_create1(EPOLL_CLOEXEC), ep2 = epoll_create1(EPOLL_CLOEXEC);
	__u32 id;

	ASSERT_LE(0, ep1);
	ASSERT_LE(0, ep2);
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, epoll_add(ep1, self->fd, EPOLLIN | EPOLLET, 1));
	ASSERT_EQ(0, epoll_add(ep2, self->fd, EPOLLIN | EPOLLET, 2));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep1, READY_MS, NULL));
	EXPECT_EQ(EPOLLIN, epoll_one(ep2, READY_MS, NULL));
	EXPECT_EQ(POLLIN, w_poll(self->fd, 0));
	close(ep1);
	close(ep2);
}

/* A blocked epoll_wait() in another thread is woken by the firing. */
struct blocked {
	int ep;
	int r;
};

static void *blocked_epoll(void *arg)
{
	struct blocked *b = arg;

	b->r = epoll_one(b->ep, READY_MS, NULL);
	return NULL;
}

TEST_F(wa, epoll_wakes_sleeper)
{
	struct blocked b = { .ep = epoll_create1(EPOLL_CLOEXEC) };
	pthread_t t;
	__u32 id;

	ASSERT_LE(0, b.ep);
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, epoll_add(b.ep, self->fd, EPOLLIN, 1));
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_epoll, &b));
	sc_msleep(100);
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	pthread_join(t, NULL);
	EXPECT_EQ(EPOLLIN, b.r);
	close(b.ep);
}

/* close() while registered: gone with the last descriptor, kept by a dup. */
TEST_F(wa, epoll_close_registered)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int fd2 = sc_attach(self->name, 0);
	int dup2fd;
	__u32 id;

	ASSERT_LE(0, ep);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, w_add(fd2, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, epoll_add(ep, fd2, EPOLLIN, 5));
	dup2fd = dup(fd2);
	ASSERT_LE(0, dup2fd);
	close(fd2);
	/* Still open through the dup: registered, its watch still armed */
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	EXPECT_EQ(0, w_arm(dup2fd, id, 0, 0, 0));
	close(dup2fd);
	/* The last descriptor: epoll drops it, the watch is freed */
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(0, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(0, epoll_one(ep, 100, NULL));
	close(ep);
}

/* fork(): the child shares the handle, its watches and the epoll set. */
TEST_F(wa, fork_shares_handle)
{
	struct shmchan_watch_event ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct sc_pipe go;
	pid_t pid;
	__u32 id;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, sc_pipe_init(&go));
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, epoll_add(ep, self->fd, EPOLLIN, 9));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmchan_watch_event cev[2];

		/* The child sees the firing through the inherited epoll set */
		CHILD_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
		CHILD_EQ(1, w_read(self->fd, cev, 2));
		CHILD_EQ(SHMCHAN_WATCH_EV_WOKEN, cev[0].events);
		CHILD_EQ(0, sc_send(&go, 'r'));
		_exit(0);
	}
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ('r', sc_recv(&go, READY_MS));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	/* The child's READ consumed it for both, and re-armed it */
	EXPECT_EQ(0, w_read(self->fd, ev, 2));
	EXPECT_EQ(0, epoll_one(ep, 0, NULL));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	/* The child's exit closed its copy: the handle lives on in us */
	EXPECT_EQ(1, sc_wake(self->waker, 0, 1));
	EXPECT_EQ(EPOLLIN, epoll_one(ep, READY_MS, NULL));
	close(ep);
}

/* ---- many handles ------------------------------------------------------------------------- */

#define MANY 1000

TEST_F_TIMEOUT(wa, thousand_handles_one_wake_all, 240)
{
	struct rlimit rl = { MANY + 64, MANY + 64 };
	struct rlimit old;
	struct pollfd *p = calloc(MANY, sizeof(*p));
	int i, n, ready = 0;
	__u64 end;

	ASSERT_NE(SC_P(NULL), SC_P(p));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	if (old.rlim_cur < rl.rlim_cur)
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < MANY; i++) {
		p[i].fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		ASSERT_LE(0, p[i].fd);
		p[i].events = POLLIN;
		ASSERT_EQ(0, w_add(p[i].fd, 64, 0, 0, 0, i, NULL));
	}
	EXPECT_EQ((__u64)MANY, sc_nwaiters(self->fd));
	EXPECT_EQ(0, poll(p, MANY, 0));
	EXPECT_EQ(MANY, sc_wake(self->waker, 64, SHMCHAN_WAKE_ALL));
	end = sc_now_ns() + READY_MS * 1000000ULL;
	do {
		n = poll(p, MANY, READY_MS);
	} while (n >= 0 && n < MANY && sc_now_ns() < end);
	for (i = 0; i < MANY; i++)
		ready += p[i].revents == POLLIN;
	EXPECT_EQ(MANY, ready);
	for (i = 0; i < MANY; i++)
		close(p[i].fd);
	free(p);
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

/* ---- races ---------------------------------------------------------------------------------- */

/*
 * The debug kernel (SHMCHAN_TEST_SCALE=4) runs on one vCPU with KASAN and
 * lockdep, some 50 times slower per cycle: there it runs 1/16.
 */
static long race_cycles(void)
{
	const char *c = getenv("WATCH_RACE_CYCLES");
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	long n = c ? atol(c) : 100000;
	long scale = s ? atol(s) : 1;

	return n / (scale >= 1 ? scale * scale : 1);
}

struct pinger {
	int fd;
	volatile __u32 *w;
	long cycles;
	long fails;
};

/*
 * Word 0 is the ping, word 1 the pong. The pinger bumps the ping and
 * WAKEs it, then WAITs for the pong to catch up. The watcher (the test's
 * thread) keeps a watch on the ping: it arms it with the last value it
 * saw and polls only if the arm did not fire at once; then answers.
 * A WAKE that fell between the watcher's load of the ping and its arm
 * would leave poll() to time out: a lost wake. The pinger waits a random
 * 0-20 us before each ping, so that its store and WAKE fall before,
 * between and after the watcher's load and arm. On TCG a cycle takes
 * ~300 us: make check runs 10^5 cycles (~30 s); WATCH_RACE_CYCLES=1000000
 * runs the 10^6 (~5 min, by hand: past make check's 300 s per
 * program, hence this test's own limit of 900 s). The log line counts the arms that were woken
 * (polls) and those that saw the word move between load and arm.
 */
static void *pinger(void *arg)
{
	struct pinger *p = arg;
	unsigned int seed = 1;
	long i;

	for (i = 1; i <= p->cycles; i++) {
		/* Land the store and WAKE anywhere in the watcher's load-to-arm */
		__u64 until = sc_now_ns() + rand_r(&seed) % 20000;

		while (sc_now_ns() < until)
			;
		__atomic_store_n(&p->w[0], (__u32)i, __ATOMIC_SEQ_CST);
		sc_wake(p->fd, 0, 1);
		while (__atomic_load_n(&p->w[1], __ATOMIC_SEQ_CST) != (__u32)i) {
			int r = sc_wait(p->fd, 4, (__u32)(i - 1), sc_now_ns() + 10 * SC_NSEC);

			if (r && r != -EAGAIN) {
				p->fails++;
				return NULL;
			}
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(wa, lost_wakeup_race, 900)
{
	struct pinger p = { .fd = self->waker, .w = self->w, .cycles = race_cycles() };
	struct shmchan_watch_event ev[1];
	__u64 t0 = sc_now_ns();
	long seen = 0, polls = 0, at_once = 0, lost = 0;
	pthread_t t;
	__u32 id;

	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, w_del(self->fd, id));
	ASSERT_EQ(0, w_add(self->fd, 0, 0, 0, 0, 0, &id));
	ASSERT_EQ(0, pthread_create(&t, NULL, pinger, &p));
	while (seen < p.cycles && !lost) {
		__u32 v = __atomic_load_n(&self->w[0], __ATOMIC_SEQ_CST);
		int r;

		if (v == (__u32)seen) {
			r = w_arm(self->fd, id, v, 0, 0);
			if (r < 0)
				break;
			if (r == 0) {
				polls++;
				if (!(w_poll(self->fd, 10000) & POLLIN)) {
					lost++;
					break;
				}
			} else {
				at_once++;
			}
			continue;
		}
		seen = v;
		__atomic_store_n(&self->w[1], v, __ATOMIC_SEQ_CST);
		sc_wake(self->fd, 4, 1);
	}
	if (lost)
		TH_LOG("lost wake at cycle %ld (word %u)", seen, self->w[0]);
	/* Let a failed pinger go */
	__atomic_store_n(&self->w[1], (__u32)p.cycles, __ATOMIC_SEQ_CST);
	sc_wake(self->fd, 4, SHMCHAN_WAKE_ALL);
	pthread_join(t, NULL);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, p.fails);
	EXPECT_EQ(p.cycles, seen);
	TH_LOG("%ld cycles in %.1f s: %ld polls, %ld fired at arm", seen,
	       (sc_now_ns() - t0) / 1e9, polls, at_once);
	(void)ev;
}

/* close() of a handle with armed watches racing WAKE_ALL on their word. */
struct waker_loop {
	int fd;
	volatile int stop;
	long wakes;
};

static void *wake_loop(void *arg)
{
	struct waker_loop *wl = arg;

	while (!wl->stop)
		wl->wakes += sc_wake(wl->fd, 0, SHMCHAN_WAKE_ALL) > 0;
	return NULL;
}

TEST_F_TIMEOUT(wa, close_races_wake, 240)
{
	struct waker_loop wl = { .fd = self->waker };
	long rounds = race_cycles() / 50, i;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, wake_loop, &wl));
	for (i = 0; i < rounds; i++) {
		int fd = sc_attach(self->name, 0);
		int j;

		ASSERT_LE(0, fd);
		for (j = 0; j < 4; j++)
			w_add(fd, 0, 0, 0, 0, 0, NULL);
		close(fd);
	}
	wl.stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
	TH_LOG("%ld rounds, %ld wakes that found a watch", rounds, wl.wakes);
}

TEST_HARNESS_MAIN
