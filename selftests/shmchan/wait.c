// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan WAIT and WAKE: values, counts, words and channels, deadlines,
 * signals, offsets, waits that outlive DESTROY, revoke (EIDRM), a long
 * ping-pong between two processes that must never lose a wakeup, and
 * revokes and deaths racing waiters as they go to sleep.
 *
 * To know that a child is blocked in WAIT the tests poll STAT's nwaiters;
 * they never sleep a fixed time for that.
 */
#include "shmchan_test.h"
#include <pthread.h>
#include <sched.h>

#define LEN_PAGES 2
#define LONG_WAIT (30 * SC_NSEC)	/* a waiter's safety deadline */

FIXTURE(wt) {
	int fd;			/* bound read-write */
	const char *name;
	size_t len;
	volatile __u32 *w;	/* the channel, mapped */
};

FIXTURE_SETUP(wt)
{
	SC_REQUIRE_DEVICE();
	self->len = LEN_PAGES * SC_PAGE;
	self->name = sc_newname("wt");
	self->fd = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
	self->w = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->w));
}

FIXTURE_TEARDOWN(wt)
{
	if (self->w && self->w != MAP_FAILED)
		munmap((void *)self->w, self->len);
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/*
 * A child that waits on (@fd, @off) for @expected, with a safety deadline,
 * and exits 0 if WAIT returned @want.
 */
static pid_t spawn_waiter(int fd, __u64 off, __u32 expected, int want)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		int r = sc_wait(fd, off, expected, sc_now_ns() + LONG_WAIT);

		if (r != want)
			CHILD_FAIL("WAIT at %llu returned %d, wanted %d",
				   (unsigned long long)off, r, want);
		_exit(0);
	}
	return pid;
}

/* ---- values and counts -------------------------------------------------------- */

TEST_F(wt, eagain_on_mismatch)
{
	__u64 t0 = sc_now_ns();

	self->w[0] = 5;
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 0, 4, 0));
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 0, 6, sc_now_ns() + LONG_WAIT));
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 4, 1, 0));
	EXPECT_GT(5 * SC_NSEC, sc_now_ns() - t0);
}

/* WAIT reads the word that was written through a mapping. */
TEST_F(wt, reads_mapped_word)
{
	self->w[1] = 0xdeadbeefU;
	self->w[self->len / 4 - 1] = 77;
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 4, 0, 0));
	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, 4, 0xdeadbeefU, sc_now_ns() + 50000000ULL));
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, self->len - 4, 0, 0));
	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, self->len - 4, 77,
				      sc_now_ns() + 50000000ULL));
}

TEST_F(wt, woken_returns_zero)
{
	pid_t pid = spawn_waiter(self->fd, 0, 0, 0);

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

TEST_F(wt, wake_returns_number_woken)
{
	pid_t pids[4];
	int i;

	for (i = 0; i < 4; i++) {
		pids[i] = spawn_waiter(self->fd, 8, 0, 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_EQ(4LL, sc_poll_nwaiters(self->fd, 4, 10000));
	EXPECT_EQ(4, sc_wake(self->fd, 8, SHMCHAN_WAKE_ALL));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, sc_reap(pids[i], 10000));
	}
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

TEST_F(wt, wake_without_waiters_returns_zero)
{
	EXPECT_EQ(0, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_wake(self->fd, self->len - 4, SHMCHAN_WAKE_ALL));
}

/* Three waiters, wake 2: exactly two return, one stays blocked. */
TEST_F(wt, wake_count_limit)
{
	pid_t pids[3];
	int done[3] = { 0 }, ndone = 0, i, code;
	__u64 end;

	for (i = 0; i < 3; i++) {
		pids[i] = spawn_waiter(self->fd, 0, 0, 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_EQ(3LL, sc_poll_nwaiters(self->fd, 3, 10000));
	EXPECT_EQ(2, sc_wake(self->fd, 0, 2));
	end = sc_now_ns() + 10 * SC_NSEC;
	while (ndone < 2 && sc_now_ns() < end) {
		for (i = 0; i < 3; i++) {
			if (!done[i] && sc_finished(pids[i], &code)) {
				EXPECT_EQ(0, code);
				done[i] = 1;
				ndone++;
			}
		}
		usleep(1000);
	}
	EXPECT_EQ(2, ndone);
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	/* Give a wrongly woken third waiter a moment to show up. */
	usleep(100000);
	for (i = 0; i < 3; i++)
		if (!done[i]) {
			EXPECT_FALSE(sc_finished(pids[i], &code));
		}
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	for (i = 0; i < 3; i++)
		if (!done[i]) {
			EXPECT_EQ(0, sc_reap(pids[i], 10000));
		}
}

TEST_F(wt, wake_count_zero_wakes_none)
{
	pid_t pid = spawn_waiter(self->fd, 0, 0, 0);

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(0, sc_wake(self->fd, 0, 0));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* Oldest waiter first. */
TEST_F(wt, wake_oldest_first)
{
	pid_t first, second;
	int code;

	first = spawn_waiter(self->fd, 0, 0, 0);
	ASSERT_LE(0, first);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	second = spawn_waiter(self->fd, 0, 0, 0);
	ASSERT_LE(0, second);
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd, 2, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(first, 10000));
	EXPECT_FALSE(sc_finished(second, &code));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(second, 10000));
}

/* A wake on one word never wakes a waiter of another. */
TEST_F(wt, wake_other_word)
{
	pid_t pid = spawn_waiter(self->fd, 4, 0, 0);
	int code;

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(0, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_wake(self->fd, 8, SHMCHAN_WAKE_ALL));
	/* Same word index in the next page. */
	EXPECT_EQ(0, sc_wake(self->fd, SC_PAGE + 4, SHMCHAN_WAKE_ALL));
	usleep(100000);
	EXPECT_FALSE(sc_finished(pid, &code));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 4, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* ... nor a waiter of the same offset in another channel. */
TEST_F(wt, wake_other_channel)
{
	const char *other = sc_newname("wt2");
	int fd2 = sc_new(other, self->len, 0600, SHMCHAN_CREATE_EXCL);
	pid_t pid;
	int code;

	ASSERT_LE(0, fd2);
	pid = spawn_waiter(self->fd, 0, 0, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(fd2));
	EXPECT_EQ(0, sc_wake(fd2, 0, SHMCHAN_WAKE_ALL));
	usleep(100000);
	EXPECT_FALSE(sc_finished(pid, &code));
	EXPECT_EQ(1, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd2);
}

/* nwaiters counts waiters of every handle, in every process. */
TEST_F(wt, nwaiters_counts_all_handles)
{
	pid_t a, b;

	a = spawn_waiter(self->fd, 0, 0, 0);
	ASSERT_LE(0, a);
	b = sc_fork();
	ASSERT_LE(0, b);
	if (b == 0) {
		int fd = sc_attach(self->name, 0);

		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, sc_wait(fd, 12, 0, sc_now_ns() + LONG_WAIT));
		_exit(0);
	}
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd, 2, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 12, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(b, 10000));
	EXPECT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(a, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

/* WAIT needs no mapping, and a read-only handle may wait. */
TEST_F(wt, rdonly_handle_without_mapping_waits)
{
	int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	pid_t pid;

	ASSERT_LE(0, ro);
	self->w[3] = 3;
	EXPECT_EQ(-EAGAIN, sc_wait(ro, 12, 2, 0));
	EXPECT_EQ(-ETIMEDOUT, sc_wait(ro, 12, 3, sc_now_ns() + 20000000ULL));
	pid = spawn_waiter(ro, 12, 3, 0);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	self->w[3] = 4;
	EXPECT_EQ(1, sc_wake(self->fd, 12, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(ro);
}

/* ---- deadlines ------------------------------------------------------------------- */

TEST_F(wt, deadline_times_out)
{
	__u64 deadline = sc_now_ns() + 300000000ULL;	/* 300 ms */
	__u64 after;

	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, 0, 0, deadline));
	after = sc_now_ns();
	EXPECT_LE(deadline, after);
	EXPECT_GT(deadline + 10 * SC_NSEC, after);
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

TEST_F(wt, deadline_in_past_times_out_at_once)
{
	__u64 t0 = sc_now_ns();

	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, 0, 0, t0 - SC_NSEC / 2));
	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, 0, 0, 1));
	EXPECT_GT(2 * SC_NSEC, sc_now_ns() - t0);
	/* The value is checked first. */
	self->w[0] = 1;
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 0, 0, 1));
}

/* ---- signals ----------------------------------------------------------------------- */

/* Without SA_RESTART a signal ends the wait with EINTR. */
TEST_F(wt, signal_interrupts_eintr)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_set_handler(SIGUSR1, 0));
		CHILD_EQ(-EINTR, sc_wait(self->fd, 0, 0, sc_now_ns() + LONG_WAIT));
		CHILD_EQ(1, sc_got_signals);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0LL, sc_poll_nwaiters(self->fd, 0, 5000));
}

/* Under SA_RESTART the wait goes on and still gets the later wake. */
TEST_F(wt, signal_sa_restart_continues)
{
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sc_signal_flag = &self->w[100];
		CHILD_EQ(0, sc_set_handler(SIGUSR1, SA_RESTART));
		CHILD_EQ(0, sc_wait(self->fd, 0, 0, sc_now_ns() + LONG_WAIT));
		CHILD_EQ(1, sc_got_signals);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	/* The handler ran... */
	ASSERT_EQ(1U, sc_wait_flag(&self->w[100], 1));
	/* ...and the child is back in WAIT. */
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* A restarted wait keeps its absolute deadline. */
TEST_F(wt, signal_sa_restart_keeps_deadline)
{
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 deadline = sc_now_ns() + 3 * SC_NSEC;
		__u64 after;
		int r;

		sc_signal_flag = &self->w[100];
		CHILD_EQ(0, sc_set_handler(SIGUSR1, SA_RESTART));
		r = sc_wait(self->fd, 0, 0, deadline);
		after = sc_now_ns();
		CHILD_EQ(-ETIMEDOUT, r);
		CHILD_TRUE(after >= deadline);
		CHILD_TRUE(after < deadline + 10 * SC_NSEC);
		CHILD_EQ(2, sc_got_signals);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(1U, sc_wait_flag(&self->w[100], 1));
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(2U, sc_wait_flag(&self->w[100], 2));
	EXPECT_EQ(0, sc_reap(pid, 20000));
}

/* A waiter without a deadline can always be killed. */
TEST_F(wt, sigkill_waiter)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		sc_wait(self->fd, 0, 0, 0);
		_exit(3);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(0LL, sc_poll_nwaiters(self->fd, 0, 5000));
	/* The channel is fine afterwards. */
	EXPECT_EQ(0, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
}

/* ---- offsets ------------------------------------------------------------------------ */

TEST_F(wt, unaligned_offset_einval)
{
	static const __u64 offs[] = { 1, 2, 3, 5, 6, 7, 4094 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		EXPECT_EQ(-EINVAL, sc_wait(self->fd, offs[i], 0, 0))
			TH_LOG("wait offset %llu", (unsigned long long)offs[i]);
		EXPECT_EQ(-EINVAL, sc_wake(self->fd, offs[i], 1))
			TH_LOG("wake offset %llu", (unsigned long long)offs[i]);
	}
}

TEST_F(wt, offset_out_of_range_einval)
{
	const __u64 offs[] = {
		self->len, self->len + 4, self->len + SC_PAGE, 1ULL << 32,
		1ULL << 62, ~3ULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		EXPECT_EQ(-EINVAL, sc_wait(self->fd, offs[i], 0, 0))
			TH_LOG("wait offset %#llx", (unsigned long long)offs[i]);
		EXPECT_EQ(-EINVAL, sc_wake(self->fd, offs[i], 1))
			TH_LOG("wake offset %#llx", (unsigned long long)offs[i]);
	}
	/* The last word is in range. */
	self->w[self->len / 4 - 1] = 9;
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, self->len - 4, 0, 0));
	EXPECT_EQ(0, sc_wake(self->fd, self->len - 4, 1));
}

/* ---- DESTROY and revoke --------------------------------------------------------------- */

/* Without revoke, waits and wakes go on after DESTROY. */
TEST_F(wt, destroy_while_waiting)
{
	struct shmchan_stat st;
	pid_t pid = spawn_waiter(self->fd, 0, 0, 0);
	int code;

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, sc_exists(self->name));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_WRITABLE, st.state);
	EXPECT_EQ(1ULL, st.nwaiters);
	usleep(50000);
	EXPECT_FALSE(sc_finished(pid, &code));
	self->w[0] = 1;
	EXPECT_EQ(1, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	/* And new waits behave as before. */
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 0, 0, 0));
	EXPECT_EQ(-ETIMEDOUT, sc_wait(self->fd, 0, 1, sc_now_ns() + 20000000ULL));
	EXPECT_EQ(0, sc_wake(self->fd, 0, 1));
}

/* Revoke wakes every waiter with EIDRM. */
TEST_F(wt, revoke_wakes_waiters_eidrm)
{
	struct shmchan_stat st;
	pid_t a, b;

	a = spawn_waiter(self->fd, 0, 0, -EIDRM);
	ASSERT_LE(0, a);
	b = spawn_waiter(self->fd, 16, 0, -EIDRM);
	ASSERT_LE(0, b);
	ASSERT_EQ(2LL, sc_poll_nwaiters(self->fd, 2, 10000));
	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ(0, sc_reap(a, 10000));
	EXPECT_EQ(0, sc_reap(b, 10000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0ULL, st.nwaiters);
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED |
		  SHMCHAN_STATE_WRITABLE, st.state);
	EXPECT_EQ(0, sc_exists(self->name));
}

/* After revoke every WAIT and WAKE fails with EIDRM; memory still works. */
TEST_F(wt, revoke_then_wait_wake_eidrm)
{
	int other = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ(-EIDRM, sc_wait(self->fd, 0, 0, sc_now_ns() + SC_NSEC));
	EXPECT_EQ(-EIDRM, sc_wait(self->fd, 0, 0, 0));
	EXPECT_EQ(-EIDRM, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(-EIDRM, sc_wait(other, 4, 0, sc_now_ns() + SC_NSEC));
	EXPECT_EQ(-EIDRM, sc_wake(other, 4, SHMCHAN_WAKE_ALL));
	self->w[5] = 55;
	EXPECT_EQ(55U, self->w[5]);
	close(other);
}

/* A new channel of the revoked one's name is not revoked. */
TEST_F(wt, revoke_spares_new_channel)
{
	struct shmchan_stat st;
	int fd2;

	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	fd2 = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sc_stat(fd2, &st));
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);
	EXPECT_EQ(-ETIMEDOUT, sc_wait(fd2, 0, 0, sc_now_ns() + 10000000ULL));
	EXPECT_EQ(0, sc_wake(fd2, 0, 1));
	EXPECT_EQ(-EIDRM, sc_wake(self->fd, 0, 1));
	close(fd2);
}

/* ---- identity and handle lifetime --------------------------------------------------- */

/* Waits belong to the channel, not to its name. */
TEST_F(wt, new_channel_of_same_name_is_another)
{
	pid_t pid = spawn_waiter(self->fd, 0, 0, 0);
	int fd2, code;

	ASSERT_LE(0, pid);
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, sc_rm(self->name, 0));
	fd2 = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0ULL, sc_nwaiters(fd2));
	EXPECT_EQ(0, sc_wake(fd2, 0, SHMCHAN_WAKE_ALL));
	usleep(50000);
	EXPECT_FALSE(sc_finished(pid, &code));
	EXPECT_EQ(1, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd2);
}

struct closer_arg {
	int fd;
	__u64 off;
};

static void *wait_thread(void *p)
{
	struct closer_arg *a = p;

	return (void *)(intptr_t)sc_wait(a->fd, a->off, 0, sc_now_ns() + LONG_WAIT);
}

/*
 * One thread sleeps in WAIT on a handle that another thread closes: the
 * wait goes on (the handle lives until the call returns) and is woken
 * through another handle; the handle count drops once it is done.
 */
TEST_F(wt, close_during_wait)
{
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct closer_arg a = { .fd = sc_attach(self->name, 0), .off = 4 };
		pthread_t t;
		void *ret;

		CHILD_TRUE(a.fd >= 0);
		CHILD_EQ(0, pthread_create(&t, NULL, wait_thread, &a));
		CHILD_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
		CHILD_EQ(0, close(a.fd));
		CHILD_EQ(0, pthread_join(t, &ret));
		CHILD_EQ(0, (int)(intptr_t)ret);
		_exit(0);
	}
	/* Waiting, and the child's handle closed while it waits. */
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	usleep(100000);
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 4, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

/* Threads of one process wait and wake each other like processes do. */
TEST_F(wt, threads_wait_and_wake)
{
	struct closer_arg a = { .fd = self->fd, .off = 16 };
	pthread_t t[3];
	void *ret;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, wait_thread, &a));
	ASSERT_EQ(3LL, sc_poll_nwaiters(self->fd, 3, 10000));
	EXPECT_EQ(3, sc_wake(self->fd, 16, SHMCHAN_WAKE_ALL));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(0, (int)(intptr_t)ret);
	}
}

/* ---- no lost wakeup ------------------------------------------------------------------- */

/*
 * Take turns on word 0: side @parity waits until the word is 2k + parity,
 * then stores 2k + parity + 1 and wakes one waiter. A lost wakeup leaves
 * the other side asleep until its safety deadline: ETIMEDOUT.
 */
static int pingpong(int fd, volatile __u32 *word, __u32 parity, __u32 rounds)
{
	__u32 k;

	for (k = 0; k < rounds; k++) {
		__u32 want = 2 * k + parity;
		__u32 v;
		int r;

		while ((v = __atomic_load_n(word, __ATOMIC_SEQ_CST)) != want) {
			r = sc_wait(fd, 0, v, sc_now_ns() + 20 * SC_NSEC);
			if (r != 0 && r != -EAGAIN) {
				fprintf(stderr, "# pingpong side %u round %u: wait %d (word %u)\n",
					parity, k, r, v);
				return r;
			}
		}
		__atomic_store_n(word, want + 1, __ATOMIC_SEQ_CST);
		r = sc_wake(fd, 0, 1);
		if (r < 0 || r > 1) {
			fprintf(stderr, "# pingpong side %u round %u: wake %d\n", parity, k, r);
			return r < 0 ? r : -EPROTO;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(wt, pingpong_no_lost_wakeup, 240)
{
	const __u32 rounds = 10000;
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Own handle and mapping, as an unrelated process would. */
		int fd = sc_attach(self->name, 0);
		volatile __u32 *w;

		CHILD_TRUE(fd >= 0);
		w = sc_map(fd, self->len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(w != MAP_FAILED);
		CHILD_EQ(0, pingpong(fd, w, 1, rounds));
		_exit(0);
	}
	EXPECT_EQ(0, pingpong(self->fd, self->w, 0, rounds));
	EXPECT_EQ(0, sc_reap(pid, 60000));
	EXPECT_EQ(2 * rounds, self->w[0]);
	EXPECT_EQ(0ULL, sc_nwaiters(self->fd));
}

/*
 * Several waiters follow a counter that a waker bumps and broadcasts; each
 * waiter must see every value up to the last (no waiter left behind).
 */
TEST_F_TIMEOUT(wt, broadcast_counter, 120)
{
	const __u32 last = 2000;
	pid_t pids[3];
	__u32 v;
	int i;

	for (i = 0; i < 3; i++) {
		pids[i] = sc_fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			__u32 seen = 0;

			while (seen < last) {
				int r = sc_wait(self->fd, 0, seen, sc_now_ns() + 20 * SC_NSEC);

				if (r != 0 && r != -EAGAIN)
					CHILD_FAIL("wait %d at %u", r, seen);
				seen = __atomic_load_n(&self->w[0], __ATOMIC_SEQ_CST);
			}
			_exit(0);
		}
	}
	for (v = 1; v <= last; v++) {
		__atomic_store_n(&self->w[0], v, __ATOMIC_SEQ_CST);
		ASSERT_LE(0, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
		if (v % 64 == 0)
			sched_yield();
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, sc_reap(pids[i], 60000));
	}
}

/* ---- revokes and deaths racing waiters going to sleep ----------------------- */

#define SWEEP_ROUNDS	300
#define SWEEP_WAITERS	2

static int sweep_rounds(void)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	int scale = s ? atoi(s) : 1;

	return SWEEP_ROUNDS / (scale >= 1 ? scale : 1);
}

/* Spin for up to @max_ns, to land anywhere in a waiter's way to sleep. */
static void spin_random(__u64 max_ns)
{
	__u64 end = sc_now_ns() + (__u64)rand() % max_ns;

	while (sc_now_ns() < end)
		;
}

static void pipe_close(struct sc_pipe *p)
{
	close(p->rd);
	close(p->wr);
}

static int wait_deaths(int fd, __u64 off, __u32 seen, __u64 deadline)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = SHMCHAN_WAIT_DEATHS | SHMCHAN_WAIT_DEADLINE,
		.offset = off,
		.expected = 0,
		.deadline_ns = deadline,
		.deaths = seen,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WAIT, &w);
}

/*
 * A waiter of the race tests: reports on @ready, then waits on its own word
 * of @fd (a death-aware wait if @seen is not ~0, knowing @seen deaths)
 * with a LONG_WAIT deadline; sends 'k' on @done if the wait ended with
 * @want, 'x' if not (ETIMEDOUT: the revoke or death was lost), then stays
 * until 'q' on @quit, so that its own exit is no death the others see.
 */
static void race_waiter(int fd, int id, __u32 seen, int want,
			struct sc_pipe *ready, struct sc_pipe *done,
			struct sc_pipe *quit)
{
	__u64 off = 64 * (__u64)id;
	int r;

	sc_send(ready, 'r');
	if (seen != ~0U)
		r = wait_deaths(fd, off, seen, sc_now_ns() + LONG_WAIT);
	else
		r = sc_wait(fd, off, 0, sc_now_ns() + LONG_WAIT);
	if (r != want)
		fprintf(stderr, "# waiter %d: WAIT returned %d, wanted %d\n",
			id, r, want);
	sc_send(done, r == want ? 'k' : 'x');
	sc_recv(quit, 60000);
	_exit(0);
}

/*
 * A revoke racing waiters on their way to sleep ends every wait with
 * EIDRM, whether the waiter sees the revoked state before it queues or the
 * revoke's sweep finds it queued: none sleeps to its deadline. Many
 * rounds, the waiters and the revoker on both vCPUs.
 */
TEST_F_TIMEOUT(wt, revoke_races_waiters, 600)
{
	int rounds = sweep_rounds(), i, w;

	srand(getpid());
	for (i = 0; i < rounds; i++) {
		struct sc_pipe ready, done, quit;
		pid_t pids[SWEEP_WAITERS];
		const char *name = sc_newname("wtrev");
		int fd = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, sc_pipe_init(&ready));
		ASSERT_EQ(0, sc_pipe_init(&done));
		ASSERT_EQ(0, sc_pipe_init(&quit));
		for (w = 0; w < SWEEP_WAITERS; w++) {
			pids[w] = sc_fork();
			ASSERT_LE(0, pids[w]);
			if (pids[w] == 0)
				race_waiter(fd, w, ~0U, -EIDRM, &ready, &done,
					    &quit);
		}
		for (w = 0; w < SWEEP_WAITERS; w++)
			ASSERT_EQ('r', sc_recv(&ready, 30000));
		spin_random(400000);
		ASSERT_EQ(0, sc_destroy(fd, name, SHMCHAN_DESTROY_REVOKE));
		for (w = 0; w < SWEEP_WAITERS; w++)
			EXPECT_EQ('k', sc_recv(&done, 2 * LONG_WAIT / 1000000))
				TH_LOG("round %d: a waiter missed the revoke", i);
		for (w = 0; w < SWEEP_WAITERS; w++)
			sc_send(&quit, 'q');
		for (w = 0; w < SWEEP_WAITERS; w++)
			EXPECT_EQ(0, sc_reap(pids[w], 10000));
		close(fd);
		pipe_close(&ready);
		pipe_close(&done);
		pipe_close(&quit);
		if (_metadata->passed == 0)
			break;
	}
}

/*
 * The same with a death: a participant (its own handle and mapping) is
 * SIGKILLed while death-aware waiters, which saw the count before, go to
 * sleep. Every such wait ends with EOWNERDEAD.
 */
TEST_F_TIMEOUT(wt, death_races_waiters, 600)
{
	int rounds = sweep_rounds(), i, w;

	srand(getpid());
	for (i = 0; i < rounds; i++) {
		struct sc_pipe ready, done, quit, vready;
		pid_t pids[SWEEP_WAITERS], victim;
		struct shmchan_stat st;

		ASSERT_EQ(0, sc_pipe_init(&ready));
		ASSERT_EQ(0, sc_pipe_init(&done));
		ASSERT_EQ(0, sc_pipe_init(&quit));
		ASSERT_EQ(0, sc_pipe_init(&vready));
		victim = sc_fork();
		ASSERT_LE(0, victim);
		if (victim == 0) {
			int vfd = sc_attach(self->name, 0);
			volatile __u32 *p;

			if (vfd < 0)
				_exit(1);
			p = sc_map(vfd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
			if (p == MAP_FAILED)
				_exit(1);
			p[1000] = 1;
			sc_send(&vready, 'r');
			for (;;)
				pause();
		}
		ASSERT_EQ('r', sc_recv(&vready, 30000));
		ASSERT_EQ(0, sc_stat(self->fd, &st));
		for (w = 0; w < SWEEP_WAITERS; w++) {
			pids[w] = sc_fork();
			ASSERT_LE(0, pids[w]);
			if (pids[w] == 0)
				race_waiter(self->fd, w, st.deaths, -EOWNERDEAD,
					    &ready, &done, &quit);
		}
		for (w = 0; w < SWEEP_WAITERS; w++)
			ASSERT_EQ('r', sc_recv(&ready, 30000));
		spin_random(400000);
		ASSERT_EQ(0, kill(victim, SIGKILL));
		for (w = 0; w < SWEEP_WAITERS; w++)
			EXPECT_EQ('k', sc_recv(&done, 2 * LONG_WAIT / 1000000))
				TH_LOG("round %d: a waiter missed the death", i);
		EXPECT_EQ(1000 + SIGKILL, sc_reap(victim, 10000));
		for (w = 0; w < SWEEP_WAITERS; w++)
			sc_send(&quit, 'q');
		for (w = 0; w < SWEEP_WAITERS; w++)
			EXPECT_EQ(0, sc_reap(pids[w], 10000));
		pipe_close(&ready);
		pipe_close(&done);
		pipe_close(&quit);
		pipe_close(&vready);
		if (_metadata->passed == 0)
			break;
	}
}

/*
 * Revokes and deaths of one channel end no wait of another: a death-aware
 * waiter of channel A sleeps on through both on channel B, and is then
 * woken by a WAKE of A.
 */
TEST_F(wt, sweeps_spare_other_channels)
{
	const char *name_b = sc_newname("wtb");
	int fd_b = sc_new(name_b, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	struct sc_pipe ready, done, quit, vready;
	struct shmchan_stat st;
	pid_t waiter, victim;

	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&done));
	ASSERT_EQ(0, sc_pipe_init(&quit));
	ASSERT_EQ(0, sc_pipe_init(&vready));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	waiter = sc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		close(fd_b);
		race_waiter(self->fd, 0, st.deaths, 0, &ready, &done, &quit);
	}
	ASSERT_EQ('r', sc_recv(&ready, 30000));
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));

	/* A participant of B dies, then B is revoked */
	victim = sc_fork();
	ASSERT_LE(0, victim);
	if (victim == 0) {
		int vfd;

		/* only B's participant: its death must be no death of A */
		close(self->fd);
		munmap((void *)self->w, self->len);
		vfd = sc_attach(name_b, 0);

		sc_send(&vready, vfd < 0 ? 'x' : 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', sc_recv(&vready, 30000));
	ASSERT_EQ(0, kill(victim, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(victim, 10000));
	ASSERT_EQ(0, sc_destroy(fd_b, name_b, SHMCHAN_DESTROY_REVOKE));

	EXPECT_EQ(-ETIMEDOUT, sc_recv(&done, 200));
	EXPECT_EQ(1ULL, sc_nwaiters(self->fd));
	EXPECT_EQ(1, sc_wake(self->fd, 0, SHMCHAN_WAKE_ALL));
	EXPECT_EQ('k', sc_recv(&done, 30000));
	sc_send(&quit, 'q');
	EXPECT_EQ(0, sc_reap(waiter, 10000));
	close(fd_b);
}

TEST_HARNESS_MAIN
