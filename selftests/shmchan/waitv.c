// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan WAITV: waiting on several words of several channels at once.
 * Feature bits, every errno, which index is returned and which are set in
 * &shmchan_waitv.woken, entries across channels, deadlines, signals,
 * revoke and deaths in one entry, 128 entries, and two races across both
 * CPUs: a ping-pong that must never lose a wakeup, and wakes of two
 * entries at once whose every consumed WAKE must be reported.
 *
 * To know that a child is blocked in WAITV the tests poll STAT's nwaiters
 * of an entry's channel; they never sleep a fixed time for that.
 */
#include "shmchan_test.h"

#define LEN_PAGES 2
#define LONG_WAIT (30 * SC_NSEC)	/* a waiter's safety deadline */

FIXTURE(wv) {
	int fd[2];			/* channels A and B, bound read-write */
	const char *name[2];
	size_t len;
	volatile __u32 *w[2];		/* their words, mapped */
};

FIXTURE_SETUP(wv)
{
	int i;

	SC_REQUIRE_DEVICE();
	self->len = LEN_PAGES * SC_PAGE;
	for (i = 0; i < 2; i++) {
		self->name[i] = sc_newname(i ? "wvB" : "wvA");
		self->fd[i] = sc_new(self->name[i], self->len, 0600,
				     SHMCHAN_CREATE_EXCL);
		ASSERT_LE(0, self->fd[i]);
		self->w[i] = sc_map(self->fd[i], self->len,
				    PROT_READ | PROT_WRITE, 0);
		ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->w[i]));
	}
}

FIXTURE_TEARDOWN(wv)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->w[i] && self->w[i] != MAP_FAILED)
			munmap((void *)self->w[i], self->len);
		if (self->fd[i] > 0)
			close(self->fd[i]);
	}
	sc_cleanup();
}

static struct shmchan_waitv_entry ent(int fd, __u64 off, __u32 expected)
{
	struct shmchan_waitv_entry e = {
		.fd = fd,
		.offset = off,
		.expected = expected,
	};

	return e;
}

/*
 * WAITV through handle @via on @n entries; @deadline_ns 0 for none. The
 * woken bitmap goes to @woken if not NULL. Returns the index or -errno.
 */
static int waitv(int via, const struct shmchan_waitv_entry *e, unsigned int n,
		 __u64 deadline_ns, __u64 *woken)
{
	struct shmchan_waitv v = {
		.size = sizeof(v),
		.flags = deadline_ns ? SHMCHAN_WAITV_DEADLINE : 0,
		.entries = sc_ptr(e),
		.count = n,
		.deadline_ns = deadline_ns,
		.woken = { ~0ULL, ~0ULL },	/* out: ignored on input */
	};
	int r = sc_ioctl(via, SHMCHAN_IOC_WAITV, &v);

	if (woken) {
		woken[0] = v.woken[0];
		woken[1] = v.woken[1];
	}
	return r;
}

/*
 * A child that WAITVs on @n entries (safety deadline) and exits 0 if the
 * result is @want and, when @want >= 0, the woken bitmap is exactly @bits.
 */
static pid_t spawn_waitv(const struct shmchan_waitv_entry *e, unsigned int n,
			 int want, __u64 bits0, __u64 bits1)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		__u64 woken[2];
		int r = waitv(e[0].fd, e, n, sc_now_ns() + LONG_WAIT, woken);

		CHILD_EQ(want, r);
		if (want >= 0) {
			CHILD_EQ(bits0, woken[0]);
			CHILD_EQ(bits1, woken[1]);
		}
		_exit(0);
	}
	return pid;
}

/* ---- features and struct versions ------------------------------------------- */

TEST_F(wv, features)
{
	struct shmchan_features f;
	struct shmchan_features old;

	ASSERT_EQ(0, sc_features(self->fd[0], &f));
	EXPECT_TRUE(!!(f.features & SHMCHAN_FEATURE_WAITV));
	EXPECT_EQ(SHMCHAN_WAITV_FLAGS, f.waitv_flags);
	EXPECT_EQ(0U, f.__reserved3);
	EXPECT_EQ(72U, (unsigned int)sizeof(f));
	/* An older program's struct is still served, its tail untouched */
	memset(&old, 0xa5, sizeof(old));
	old.size = SHMCHAN_FEATURES_SIZE_VER1;
	ASSERT_EQ(0, sc_ioctl(self->fd[0], SHMCHAN_IOC_FEATURES, &old));
	EXPECT_TRUE(!!(old.features & SHMCHAN_FEATURE_WAITV));
	EXPECT_EQ(0xa5a5a5a5U, old.waitv_flags);
	/* 32-bit and 64-bit programs share the layouts (compat_ioctl) */
	EXPECT_EQ(24U, (unsigned int)sizeof(struct shmchan_waitv_entry));
	EXPECT_EQ(48U, (unsigned int)sizeof(struct shmchan_waitv));
}

/* ---- errors before anything is queued ----------------------------------------- */

TEST_F(wv, einval)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	struct shmchan_waitv v = {
		.size = sizeof(v),
		.entries = sc_ptr(e),
		.count = 2,
	};
	struct shmchan_waitv_entry many[SHMCHAN_WAITV_MAX + 1];
	unsigned int i;

	/* count 0 and above the maximum */
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 0, 0, NULL));
	for (i = 0; i < SHMCHAN_WAITV_MAX + 1; i++)
		many[i] = ent(self->fd[0], 4 * i, 0);
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], many, SHMCHAN_WAITV_MAX + 1, 1, NULL));
	/* call flags: unknown, the entries' flag, deadline without its flag */
	v.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	v.flags = SHMCHAN_WAITV_DEATHS;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	v.flags = 0;
	v.deadline_ns = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	v.deadline_ns = 0;
	v.__reserved = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	v.__reserved = 0;
	/* size below the first version */
	v.size = SHMCHAN_WAITV_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	v.size = sizeof(v);
	/* the second entry's flags: unknown, the call's, deaths without flag */
	e[1].flags = 1U << 7;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].flags = SHMCHAN_WAITV_DEADLINE;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].flags = 0;
	e[1].deaths = 1;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].deaths = 0;
	/* offsets: unaligned, past the end of the entry's channel */
	e[1].offset = 2;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].offset = self->len;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].offset = self->len - 4;
	/* Nothing was queued on the way; the checks came first even past EAGAIN */
	self->w[0][0] = 9;
	e[1].offset = 1;
	EXPECT_EQ(-EINVAL, waitv(self->fd[0], e, 2, 1, NULL));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
	/* with everything right, the deadline in the past */
	self->w[0][0] = 0;
	e[1].offset = self->len - 4;
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 2, 1, NULL));
}

TEST_F(wv, e2big)
{
	struct shmchan_waitv_entry e = ent(self->fd[0], 0, 0);
	char *buf = calloc(1, SC_PAGE + 8);
	struct shmchan_waitv *v = (struct shmchan_waitv *)buf;

	ASSERT_NE(0U, SC_P(buf));
	v->entries = sc_ptr(&e);
	v->count = 1;
	v->flags = SHMCHAN_WAITV_DEADLINE;
	v->deadline_ns = 1;
	/* a longer struct with a zero tail is fine */
	v->size = sizeof(*v) + 8;
	EXPECT_EQ(-ETIMEDOUT, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, v));
	buf[sizeof(*v) + 4] = 1;
	EXPECT_EQ(-E2BIG, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, v));
	v->size = SC_PAGE + 8;
	EXPECT_EQ(-E2BIG, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, v));
	free(buf);
}

TEST_F(wv, ebadf)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(-1, 0, 0) };
	int p[2];
	int closed;

	EXPECT_EQ(-EBADF, waitv(self->fd[0], e, 2, 1, NULL));
	e[1].fd = 1 << 30;
	EXPECT_EQ(-EBADF, waitv(self->fd[0], e, 2, 1, NULL));
	/* an open descriptor of something else */
	ASSERT_EQ(0, pipe(p));
	e[1].fd = p[0];
	EXPECT_EQ(-EBADF, waitv(self->fd[0], e, 2, 1, NULL));
	close(p[0]);
	close(p[1]);
	/* a closed one */
	closed = sc_attach(self->name[1], 0);
	ASSERT_LE(0, closed);
	close(closed);
	e[1].fd = closed;
	EXPECT_EQ(-EBADF, waitv(self->fd[0], e, 2, 1, NULL));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
}

TEST_F(wv, ebadfd_unbound_entry)
{
	int unbound = sc_dev();
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(unbound, 0, 0) };

	ASSERT_LE(0, unbound);
	EXPECT_EQ(-EBADFD, waitv(self->fd[0], e, 2, 1, NULL));
	/* but an unbound handle may carry the call */
	e[1] = ent(self->fd[1], 0, 0);
	EXPECT_EQ(-ETIMEDOUT, waitv(unbound, e, 2, 1, NULL));
	close(unbound);
}

TEST_F(wv, efault)
{
	struct shmchan_waitv_entry *two;
	struct shmchan_waitv v = { .size = sizeof(v), .count = 1 };

	/* no entries at all */
	v.entries = 0;
	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, &v));
	/* the struct itself */
	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd[0], SHMCHAN_IOC_WAITV, (void *)16));
	/* the second entry runs into an unmapped page */
	two = mmap(NULL, 2 * SC_PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(two));
	ASSERT_EQ(0, munmap((char *)two + SC_PAGE, SC_PAGE));
	two = (struct shmchan_waitv_entry *)((char *)two + SC_PAGE) - 1;
	*two = ent(self->fd[0], 0, 0);
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], two, 1, 1, NULL));
	EXPECT_EQ(-EFAULT, waitv(self->fd[0], two, 2, 1, NULL));
	munmap((char *)(two + 1) - SC_PAGE, SC_PAGE);
}

/* ---- values, indexes, channels -------------------------------------------------- */

TEST_F(wv, eagain_any_entry)
{
	struct shmchan_waitv_entry e[3] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 4, 0),
					    ent(self->fd[0], 8, 0) };

	self->w[0][2] = 3;
	EXPECT_EQ(-EAGAIN, waitv(self->fd[0], e, 3, sc_now_ns() + LONG_WAIT, NULL));
	/* the two queued before it were taken off */
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[1]));
	self->w[0][2] = 0;
	self->w[1][1] = 1;
	EXPECT_EQ(-EAGAIN, waitv(self->fd[0], e, 3, sc_now_ns() + LONG_WAIT, NULL));
	e[1].expected = 1;
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 3, sc_now_ns() + SC_NSEC / 20, NULL));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
}

/* The woken entry's index is returned, across channels; others stay unwoken. */
TEST_F(wv, index_across_channels)
{
	struct shmchan_waitv_entry e[4] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 4, 0),
					    ent(self->fd[0], 8, 0),
					    ent(self->fd[1], 0, 0) };
	int k;

	for (k = 0; k < 4; k++) {
		int fd = e[k].fd;
		pid_t pid = spawn_waitv(e, 4, k, 1ULL << k, 0);

		ASSERT_LE(0, pid);
		ASSERT_EQ(2LL, sc_poll_nwaiters(fd, 2, 10000));
		/* another word of the same channel: no one */
		EXPECT_EQ(0, sc_wake(fd, 12, SHMCHAN_WAKE_ALL));
		EXPECT_EQ(1, sc_wake(fd, e[k].offset, SHMCHAN_WAKE_ALL));
		EXPECT_EQ(0, sc_reap(pid, 10000));
		EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
		EXPECT_EQ(0ULL, sc_nwaiters(self->fd[1]));
	}
}

/* A read-only handle (O_RDONLY descriptor, read-only binding) will do. */
TEST_F(wv, rdonly_handle)
{
	int ro = open(SHMCHAN_DEVICE, O_RDONLY | O_CLOEXEC);
	struct shmchan_waitv_entry e[2];
	pid_t pid;

	ASSERT_LE(0, ro);
	ASSERT_EQ(0, sc_open(ro, self->name[1], SHMCHAN_OPEN_RDONLY, NULL));
	e[0] = ent(ro, 0, 0);
	e[1] = ent(self->fd[0], 0, 0);
	pid = spawn_waitv(e, 2, 0, 1, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(ro, 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd[1], 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(ro);
}

/* The same word twice: WAKE_ALL reaches both, both bits are set. */
TEST_F(wv, same_word_twice)
{
	struct shmchan_waitv_entry e[3] = { ent(self->fd[1], 0, 0),
					    ent(self->fd[0], 4, 0),
					    ent(self->fd[0], 4, 0) };
	pid_t pid = spawn_waitv(e, 3, 1, 6, 0);

	ASSERT_LE(0, pid);
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd[0], 2, 10000));
	EXPECT_EQ(2, sc_wake(self->fd[0], 4, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* 128 entries on 128 words of two channels: the last one is woken. */
TEST_F(wv, max_entries)
{
	struct shmchan_waitv_entry e[SHMCHAN_WAITV_MAX];
	unsigned int i;
	pid_t pid;

	for (i = 0; i < SHMCHAN_WAITV_MAX; i++)
		e[i] = ent(self->fd[i % 2], 4 * i, 0);
	pid = spawn_waitv(e, SHMCHAN_WAITV_MAX, SHMCHAN_WAITV_MAX - 1, 0, 1ULL << 63);
	ASSERT_LE(0, pid);
	ASSERT_EQ(64LL, sc_poll_nwaiters(self->fd[1], 64, 10000));
	ASSERT_EQ(64LL, sc_poll_nwaiters(self->fd[0], 64, 10000));
	EXPECT_EQ(1, sc_wake(self->fd[1], 4 * (SHMCHAN_WAITV_MAX - 1), 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[1]));
}

/*
 * 128 entries on one word: one WAKE_ALL wakes all of them under one lock,
 * so all 128 are reported and index 0 is returned.
 */
TEST_F(wv, max_entries_one_word)
{
	struct shmchan_waitv_entry e[SHMCHAN_WAITV_MAX];
	unsigned int i;
	pid_t pid;

	for (i = 0; i < SHMCHAN_WAITV_MAX; i++)
		e[i] = ent(self->fd[0], 8, 0);
	pid = spawn_waitv(e, SHMCHAN_WAITV_MAX, 0, ~0ULL, ~0ULL);
	ASSERT_LE(0, pid);
	ASSERT_EQ(128LL, sc_poll_nwaiters(self->fd[0], 128, 10000));
	EXPECT_EQ(128, sc_wake(self->fd[0], 8, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* ---- deadlines and signals ---------------------------------------------------- */

TEST_F(wv, deadline)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	__u64 t0 = sc_now_ns();

	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 2, t0 + SC_NSEC / 10, NULL));
	EXPECT_LE(t0 + SC_NSEC / 10, sc_now_ns());
	/* in the past: at once; the values are checked first */
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 2, 1, NULL));
	self->w[1][0] = 1;
	EXPECT_EQ(-EAGAIN, waitv(self->fd[0], e, 2, 1, NULL));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
}

TEST_F(wv, signal_eintr)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_set_handler(SIGUSR1, 0));
		CHILD_EQ(-EINTR, waitv(e[0].fd, e, 2, sc_now_ns() + LONG_WAIT, NULL));
		CHILD_EQ(1, sc_got_signals);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[1], 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0LL, sc_poll_nwaiters(self->fd[0], 0, 5000));
	EXPECT_EQ(0LL, sc_poll_nwaiters(self->fd[1], 0, 5000));
}

/* Under SA_RESTART the call is restarted and still gets the later wake. */
TEST_F(wv, signal_sa_restart)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 woken[2];

		sc_signal_flag = &self->w[0][5];
		CHILD_EQ(0, sc_set_handler(SIGUSR1, SA_RESTART));
		CHILD_EQ(1, waitv(e[0].fd, e, 2, sc_now_ns() + LONG_WAIT, woken));
		CHILD_EQ(1, sc_got_signals);
		CHILD_EQ(2, woken[0]);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[1], 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	/* once its handler ran, it is back asleep: wake it there */
	ASSERT_EQ(1U, sc_wait_flag(&self->w[0][5], 1));
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[1], 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd[1], 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* ---- revoke and deaths in one entry --------------------------------------------- */

TEST_F(wv, revoke_one_entry)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	pid_t pid = spawn_waitv(e, 2, -EIDRM, 0, 0);

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[1], 1, 10000));
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[0], 1, 10000));
	ASSERT_EQ(0, sc_rm(self->name[1], SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	/* the other channel's entry was taken off too */
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
	/* and a revoked channel in any entry fails at once */
	EXPECT_EQ(-EIDRM, waitv(self->fd[0], e, 2, sc_now_ns() + LONG_WAIT, NULL));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
}

/* A participant of B dies: only B's death-aware entry ends the call. */
TEST_F(wv, death_one_entry)
{
	struct shmchan_waitv_entry e[2] = { ent(self->fd[0], 0, 0),
					    ent(self->fd[1], 0, 0) };
	__u32 seen = sc_deaths(self->fd[1]);
	pid_t pid, peer;

	e[1].flags = SHMCHAN_WAITV_DEATHS;
	e[1].deaths = seen;
	pid = spawn_waitv(e, 2, -EOWNERDEAD, 0, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd[1], 1, 10000));
	peer = sc_fork();
	ASSERT_LE(0, peer);
	if (peer == 0) {
		/* uses its own handle of B: its exit is a death of B */
		int fd = sc_attach(self->name[1], 0);

		_exit(fd < 0);
	}
	EXPECT_EQ(0, sc_reap(peer, 10000));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_NE(seen, sc_deaths(self->fd[1]));
	/* a stale count fails at once; the right one waits */
	EXPECT_EQ(-EOWNERDEAD, waitv(self->fd[0], e, 2, sc_now_ns() + LONG_WAIT, NULL));
	e[1].deaths = sc_deaths(self->fd[1]);
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 2, sc_now_ns() + SC_NSEC / 20, NULL));
	/* without the flag, the stale count is no matter */
	e[1].flags = 0;
	e[1].deaths = 0;
	EXPECT_EQ(-ETIMEDOUT, waitv(self->fd[0], e, 2, sc_now_ns() + SC_NSEC / 20, NULL));
}

/*
 * A wake always wins: a WAKE that reached an entry (returned 1) makes the
 * call return that entry's index, even when another entry's channel was
 * revoked before the waiter could take it off; the call fails with EIDRM
 * only if no wake reached it. The wake and the revoke race the waiter's
 * wakeup from the other CPU, in both orders.
 */
TEST_F_TIMEOUT(wv, wake_beats_revoke, 120)
{
	int i;

	for (i = 0; i < 60; i++) {
		const char *nm = sc_newname("wvR");
		int fdr = sc_new(nm, self->len, 0600, SHMCHAN_CREATE_EXCL);
		struct shmchan_waitv_entry e[2];
		int r, woke, code;
		pid_t pid;

		ASSERT_LE(0, fdr);
		e[0] = ent(self->fd[0], 0, 0);
		e[1] = ent(fdr, 0, 0);
		pid = sc_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			r = waitv(e[0].fd, e, 2, sc_now_ns() + LONG_WAIT, NULL);
			_exit(r == 0 ? 0 : r == -EIDRM ? 1 : 2);
		}
		ASSERT_EQ(1LL, sc_poll_nwaiters(fdr, 1, 10000));
		if (i % 2) {
			woke = sc_wake(self->fd[0], 0, 1);
			ASSERT_EQ(0, sc_rm(nm, SHMCHAN_DESTROY_REVOKE));
		} else {
			ASSERT_EQ(0, sc_rm(nm, SHMCHAN_DESTROY_REVOKE));
			woke = sc_wake(self->fd[0], 0, 1);
		}
		code = sc_reap(pid, 10000);
		ASSERT_TRUE(woke == 0 || woke == 1);
		ASSERT_EQ(woke ? 0 : 1, code) TH_LOG("round %d: woke %d, child %d", i, woke, code);
		close(fdr);
	}
}

/* ---- races across both CPUs ----------------------------------------------------- */

/* Rounds of a race, fewer on the debug kernel (SHMCHAN_TEST_SCALE). */
static __u32 race_rounds(__u32 rounds)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	int scale = s ? atoi(s) : 1;

	return rounds / (scale >= 1 ? scale : 1);
}

/*
 * Ping-pong over word 0 of A between two processes, each waiting with
 * WAITV on that word among a word of B that no one wakes, at a rotating
 * place in the array. Every wait is bounded: a lost wake is ETIMEDOUT.
 */
static int pingpong(int fda, int fdb, volatile __u32 *word, __u32 parity,
		    __u32 rounds)
{
	__u32 k;

	for (k = 0; k < rounds; k++) {
		__u32 want = 2 * k + parity;
		unsigned int at = k % 3;
		struct shmchan_waitv_entry e[3];
		unsigned int i;
		__u32 v;
		int r;

		for (i = 0; i < 3; i++)
			e[i] = ent(fdb, 4 * (parity + 2 * i), 0);
		while ((v = __atomic_load_n(word, __ATOMIC_SEQ_CST)) != want) {
			e[at] = ent(fda, 0, v);
			r = waitv(fda, e, 3, sc_now_ns() + 10 * SC_NSEC, NULL);
			if (r != (int)at && r != -EAGAIN) {
				fprintf(stderr, "# pingpong side %u round %u: waitv %d (%u)\n",
					parity, k, r, v);
				return r < 0 ? r : -EPROTO;
			}
		}
		__atomic_store_n(word, want + 1, __ATOMIC_SEQ_CST);
		r = sc_wake(fda, 0, 1);
		if (r < 0 || r > 1)
			return r < 0 ? r : -EPROTO;
	}
	return 0;
}

TEST_F_TIMEOUT(wv, pingpong_no_lost_wakeup, 240)
{
	const __u32 rounds = race_rounds(3000);
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* own handles and mapping, as an unrelated process would */
		int fda = sc_attach(self->name[0], 0);
		int fdb = sc_attach(self->name[1], 0);
		volatile __u32 *w;

		CHILD_TRUE(fda >= 0 && fdb >= 0);
		w = sc_map(fda, self->len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(w != MAP_FAILED);
		CHILD_EQ(0, pingpong(fda, fdb, w, 1, rounds));
		_exit(0);
	}
	EXPECT_EQ(0, pingpong(self->fd[0], self->fd[1], self->w[0], 0, rounds));
	EXPECT_EQ(0, sc_reap(pid, 60000));
	EXPECT_EQ(2 * rounds, self->w[0][0]);
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[0]));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd[1]));
}

/*
 * Every WAKE that reached an entry is reported. A waiter WAITVs on word 1
 * of A and of B; the waker moves both words on and wakes each with count
 * 1, so the waiter is often woken on one entry while it takes the other
 * off. The WAKEs' returns, summed, must equal the bits set in woken,
 * summed: a wake consumed but not reported would make them differ. Then
 * the waiter acknowledges the round on word 2 of A (WAIT, bounded; longer
 * than the waiter's bound, so that a lost wake shows as the waiter's
 * ETIMEDOUT).
 */
#define ACK_OFF 8

static int two_wakes_waiter(int fda, int fdb, volatile __u32 *a,
			    volatile __u32 *b, __u32 rounds, __u64 *bits)
{
	__u32 k;

	*bits = 0;
	for (k = 0; k < rounds; k++) {
		struct shmchan_waitv_entry e[2] = { ent(fda, 4, k), ent(fdb, 4, k) };

		/*
		 * Until both words moved on. A wake may come late, from the
		 * round before (the waker preempted between its two WAKEs):
		 * it is counted all the same, and the words tell the rounds.
		 */
		while (__atomic_load_n(&a[1], __ATOMIC_SEQ_CST) == k ||
		       __atomic_load_n(&b[1], __ATOMIC_SEQ_CST) == k) {
			__u64 woken[2];
			int r;

			r = waitv(fda, e, 2, sc_now_ns() + 10 * SC_NSEC, woken);
			if (r >= 0) {
				if (r > 1 || !(woken[0] & (1ULL << r)) ||
				    woken[0] > 3 || woken[1]) {
					fprintf(stderr, "# two_wakes round %u: waitv %d, woken %llx %llx\n",
						k, r, (unsigned long long)woken[0],
						(unsigned long long)woken[1]);
					return -EPROTO;
				}
				*bits += __builtin_popcountll(woken[0]);
			} else if (r != -EAGAIN) {
				fprintf(stderr, "# two_wakes round %u: waitv %d\n", k, r);
				return r;
			}
		}
		__atomic_store_n(&a[ACK_OFF / 4], k + 1, __ATOMIC_SEQ_CST);
		if (sc_wake(fda, ACK_OFF, 1) < 0)
			return -EPROTO;
	}
	return 0;
}

TEST_F_TIMEOUT(wv, two_wakes_all_reported, 240)
{
	const __u32 rounds = race_rounds(3000);
	volatile __u32 *shared;
	__u64 wakes = 0, bits = 0;
	__u32 k;
	pid_t pid;

	shared = mmap(NULL, SC_PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(shared));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fda = sc_attach(self->name[0], 0);
		int fdb = sc_attach(self->name[1], 0);
		__u64 n;
		volatile __u32 *a, *b;

		CHILD_TRUE(fda >= 0 && fdb >= 0);
		a = sc_map(fda, self->len, PROT_READ | PROT_WRITE, 0);
		b = sc_map(fdb, self->len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(a != MAP_FAILED && b != MAP_FAILED);
		CHILD_EQ(0, two_wakes_waiter(fda, fdb, a, b, rounds, &n));
		memcpy((void *)shared, &n, sizeof(n));
		_exit(0);
	}
	for (k = 0; k < rounds; k++) {
		__u32 ack;
		int r1, r2;

		__atomic_store_n(&self->w[0][1], k + 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&self->w[1][1], k + 1, __ATOMIC_SEQ_CST);
		r1 = sc_wake(self->fd[0], 4, 1);
		r2 = sc_wake(self->fd[1], 4, 1);
		ASSERT_LE(0, r1);
		ASSERT_LE(0, r2);
		wakes += r1 + r2;
		while ((ack = __atomic_load_n(&self->w[0][ACK_OFF / 4],
					      __ATOMIC_SEQ_CST)) != k + 1) {
			/* longer than the waiter's bound: its failure shows first */
			int r = sc_wait(self->fd[0], ACK_OFF, ack,
					sc_now_ns() + 20 * SC_NSEC);

			ASSERT_TRUE(r == 0 || r == -EAGAIN) TH_LOG("round %u: wait %d", k, r);
		}
	}
	ASSERT_EQ(0, sc_reap(pid, 60000));
	memcpy(&bits, (void *)shared, sizeof(bits));
	TH_LOG("%llu wakes reached an entry; %llu entries reported woken",
	       (unsigned long long)wakes, (unsigned long long)bits);
	EXPECT_EQ(wakes, bits);
	EXPECT_LT(0ULL, wakes);
	munmap((void *)shared, SC_PAGE);
}

TEST_HARNESS_MAIN
