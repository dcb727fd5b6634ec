// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan death notices: STAT's death count (an exiting participant counts
 * once per handle it used and per mapping it made or touched; close() and
 * munmap() are not deaths), who is a participant (helpers made by
 * system(), popen(), posix_spawn(), fork()+exec or fork()+_exit that never
 * touched the channel are not; a SIGKILLed participant and a forked child
 * that used the handle or touched the mapping are), WAIT with
 * SHMCHAN_WAIT_DEATHS (EOWNERDEAD at once for a stale count, or when a
 * participant exits during the wait; waits without the flag are not
 * disturbed), and STAT's lpid.
 *
 * Forked children first let go of what they inherited (close and munmap
 * are not deaths), so that each exit counts exactly what the test says.
 */
#include "shmchan_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <spawn.h>

extern char **environ;

FIXTURE(death) {
	int fd;			/* bound read-write */
	const char *name;
	size_t len;
	void *map;		/* the channel, mapped */
};

FIXTURE_SETUP(death)
{
	SC_REQUIRE_DEVICE();
	self->len = 2 * SC_PAGE;
	self->name = sc_newname("death");
	self->fd = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
	self->map = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->map));
}

FIXTURE_TEARDOWN(death)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/* In a forked child: drop the inherited handle and mapping (no death). */
static void child_detach(FIXTURE_DATA(death) *self)
{
	close(self->fd);
	munmap(self->map, self->len);
}

static __u32 deaths(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? 0xdeadU : st.deaths;
}

static int wait_deaths(int fd, __u64 off, __u32 expected, __u32 seen, __u64 deadline)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = SHMCHAN_WAIT_DEATHS | (deadline ? SHMCHAN_WAIT_DEADLINE : 0),
		.offset = off,
		.expected = expected,
		.deadline_ns = deadline,
		.deaths = seen,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WAIT, &w);
}

/*
 * A child that binds @handles handles and maps @maps times, then exits
 * (or waits to be killed if @hold). Returns its pid once it is set up.
 */
static pid_t spawn_user(FIXTURE_DATA(death) *self, const char *name, int handles,
			int maps, int hold)
{
	struct sc_pipe ready;
	pid_t pid;
	int i;

	if (sc_pipe_init(&ready))
		return -1;
	pid = sc_fork();
	if (pid == 0) {
		int fd = -1;

		child_detach(self);
		for (i = 0; i < handles || (i == 0 && maps); i++) {
			fd = sc_attach(name, 0);
			CHILD_TRUE(fd >= 0);
		}
		for (i = 0; i < maps; i++)
			CHILD_TRUE(sc_map(fd, SC_PAGE, PROT_READ, 0) != MAP_FAILED);
		if (!handles && fd >= 0)
			close(fd);
		sc_send(&ready, 'r');
		if (hold)
			for (;;)
				pause();
		_exit(0);
	}
	if (pid > 0 && sc_recv(&ready, 20000) != 'r')
		return -1;
	close(ready.rd);
	close(ready.wr);
	return pid;
}

TEST_F(death, count_starts_at_zero)
{
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.deaths);
}

/* close() and munmap() before exit are not deaths. */
TEST_F(death, close_and_munmap_are_not_deaths)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;
		void *p;

		child_detach(self);
		fd = sc_attach(self->name, 0);
		CHILD_TRUE(fd >= 0);
		p = sc_map(fd, self->len, PROT_READ, 0);
		CHILD_TRUE(p != MAP_FAILED);
		CHILD_EQ(0, munmap(p, self->len));
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0U, deaths(self->fd));
	/* Nor are our own. */
	close(sc_attach(self->name, SHMCHAN_OPEN_RDONLY));
	EXPECT_EQ(0U, deaths(self->fd));
}

TEST_F(death, exit_with_handle_counts)
{
	pid_t pid = spawn_user(self, self->name, 1, 0, 0);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

TEST_F(death, exit_with_mapping_counts)
{
	pid_t pid = spawn_user(self, self->name, 0, 1, 0);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/* Once per handle and per mapping; SIGKILL counts like exit. */
TEST_F(death, counts_per_handle_and_mapping)
{
	pid_t pid = spawn_user(self, self->name, 2, 3, 1);

	ASSERT_LT(0, pid);
	EXPECT_EQ(0U, deaths(self->fd));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(5U, deaths(self->fd));
}

/* ---- who is a participant ------------------------------------------------- */

/*
 * A death-aware waiter on @self's channel, which must sleep through what
 * the test does; it leaves the channel by close() and munmap() before it
 * exits, which are no deaths. Returns its pid once it is asleep.
 */
static pid_t start_sleeper(struct __test_metadata *_metadata,
			   FIXTURE_DATA(death) *self)
{
	__u32 seen = deaths(self->fd);
	pid_t pid = sc_fork();

	if (pid == 0) {
		CHILD_EQ(0, wait_deaths(self->fd, 4, 0, seen,
					sc_now_ns() + 60 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	EXPECT_LT(0, pid);
	EXPECT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	return pid;
}

/*
 * The helper has been reaped: no death was counted, and the sleeper is
 * still asleep. Death notices are counted, and their waiters dequeued,
 * by the dying process itself before its parent can reap it, so this
 * needs no waiting.
 */
static void expect_no_death(struct __test_metadata *_metadata,
			    FIXTURE_DATA(death) *self, pid_t sleeper)
{
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.deaths);
	EXPECT_EQ(1ULL, st.nwaiters);
	EXPECT_EQ(1, sc_wake(self->fd, 4, 1));
	EXPECT_EQ(0, sc_reap(sleeper, 10000));
	EXPECT_EQ(0U, deaths(self->fd));
}

/* The handle inherited by helpers that exec (it is O_CLOEXEC otherwise). */
static void inheritable(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(0, fcntl(fd, F_SETFD, 0));
}

/* We used the handle and touched the mapping: we are a participant. */
static void participate(struct __test_metadata *_metadata,
			FIXTURE_DATA(death) *self)
{
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_stat(self->fd, &st));
	((volatile char *)self->map)[0] = 1;
	((volatile char *)self->map)[SC_PAGE] = 1;
}

TEST_F(death, system_helper_not_a_death)
{
	pid_t sleeper;

	participate(_metadata, self);
	sleeper = start_sleeper(_metadata, self);
	EXPECT_EQ(0, system("exit 0"));
	inheritable(_metadata, self->fd);
	EXPECT_EQ(0, system("exit 0"));
	expect_no_death(_metadata, self, sleeper);
}

TEST_F(death, popen_helper_not_a_death)
{
	pid_t sleeper;
	FILE *f;

	participate(_metadata, self);
	sleeper = start_sleeper(_metadata, self);
	inheritable(_metadata, self->fd);
	f = popen("cat >/dev/null", "w");
	ASSERT_NE(SC_P(NULL), SC_P(f));
	EXPECT_LT(0, fputs("data\n", f));
	EXPECT_EQ(0, pclose(f));
	expect_no_death(_metadata, self, sleeper);
}

TEST_F(death, posix_spawn_helper_not_a_death)
{
	char *argv[] = { "sh", "-c", "exit 0", NULL };
	int i, status;
	pid_t sleeper, pid;

	participate(_metadata, self);
	sleeper = start_sleeper(_metadata, self);
	for (i = 0; i < 2; i++) {
		if (i)
			inheritable(_metadata, self->fd);
		ASSERT_EQ(0, posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	expect_no_death(_metadata, self, sleeper);
}

/* fork() then exec: neither the close-on-exec handle nor the mapping. */
TEST_F(death, fork_exec_helper_not_a_death)
{
	pid_t sleeper, pid;
	int i;

	participate(_metadata, self);
	sleeper = start_sleeper(_metadata, self);
	for (i = 0; i < 2; i++) {
		if (i)
			inheritable(_metadata, self->fd);
		pid = sc_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
			_exit(127);
		}
		EXPECT_EQ(0, sc_reap(pid, 10000));
	}
	expect_no_death(_metadata, self, sleeper);
}

/* A forked child that exits (or is killed) without using anything. */
TEST_F(death, forked_child_unused_not_a_death)
{
	pid_t sleeper, pid;

	participate(_metadata, self);
	sleeper = start_sleeper(_metadata, self);
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);	/* with the inherited handle and mapping */
	EXPECT_EQ(0, sc_reap(pid, 10000));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		for (;;)
			pause();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	expect_no_death(_metadata, self, sleeper);
}

/* A forked child that used the inherited handle: one death. */
TEST_F(death, forked_child_used_handle_counts)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_wake(self->fd, 0, 1));
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/* A forked child that touched the inherited mapping: one death. */
TEST_F(death, forked_child_touched_mapping_counts)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		(void)((volatile char *)self->map)[0];
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/*
 * A participant killed by SIGKILL: counted, and already so when
 * waitpid() returns. What it used decides how often: @use_handle (an
 * ioctl on the inherited handle), @use_map (a write to the inherited
 * mapping).
 */
static void killed_participant(struct __test_metadata *_metadata,
			       FIXTURE_DATA(death) *self, int use_handle,
			       int use_map)
{
	struct sc_pipe ready;
	pid_t waiter, pid;
	int status;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	waiter = sc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		CHILD_EQ(-EOWNERDEAD, wait_deaths(self->fd, 8, 0, 0,
						  sc_now_ns() + 60 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (use_handle)
			CHILD_EQ(1, sc_wake(self->fd, 0, 0) + 1);
		else
			close(self->fd);
		if (use_map)
			((volatile char *)self->map)[SC_PAGE] = 7;
		sc_send(&ready, 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* No polling: counted before waitpid() could return. */
	EXPECT_EQ((__u32)(!!use_handle + !!use_map), deaths(self->fd));
	EXPECT_EQ(0, sc_reap(waiter, 10000));
}

TEST_F(death, sigkill_handle_only_counts)
{
	killed_participant(_metadata, self, 1, 0);
}

TEST_F(death, sigkill_mapping_only_counts)
{
	killed_participant(_metadata, self, 0, 1);
}

TEST_F(death, sigkill_handle_and_mapping_count)
{
	killed_participant(_metadata, self, 1, 1);
}

struct user_thread {
	FIXTURE_DATA(death) *self;
	struct sc_pipe *ready;
};

/* Uses the handle and touches the mapping, then sleeps for good. */
static void *user_thread(void *arg)
{
	struct user_thread *t = arg;

	if (sc_wake(t->self->fd, 0, 1) == 0)
		((volatile char *)t->self->map)[0] = 1;
	sc_send(t->ready, 'r');
	for (;;)
		pause();
	return NULL;
}

/*
 * A multi-threaded participant whose threads all used the handle and the
 * mapping, and whose main thread left first (pthread_exit): SIGKILLed, it
 * counts once for the handle and once for the mapping, by the time
 * waitpid() returns.
 */
TEST_F(death, threaded_participant_counts_once_each)
{
	struct user_thread t = { .self = self };
	struct sc_pipe ready;
	pid_t pid;
	int i;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	t.ready = &ready;
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t th;

		for (i = 0; i < 4; i++)
			CHILD_EQ(0, pthread_create(&th, NULL, user_thread, &t));
		pthread_exit(NULL);
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ('r', sc_recv(&ready, 20000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(2U, deaths(self->fd));
}

/* Unshares its descriptor table, then exits; returns its tid. */
static void *unshared_files_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES))
		return NULL;
	return (void *)(long)syscall(SYS_gettid);
}

/*
 * A thread that unshared its descriptor table (a copy holding the handle)
 * exits: no death of its process, which stays a participant and counts
 * once it is SIGKILLed.
 */
TEST_F(death, thread_with_own_files_exit_not_a_death)
{
	struct sc_pipe ready;
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char path[64];
		pthread_t th;
		void *tid;
		int i;

		CHILD_TRUE(sc_wake(self->fd, 0, 1) >= 0);
		CHILD_EQ(0, pthread_create(&th, NULL, unshared_files_thread, NULL));
		CHILD_EQ(0, pthread_join(th, &tid));
		CHILD_TRUE(tid != NULL);
		/* Gone from /proc only after exit_files() of its exit */
		snprintf(path, sizeof(path), "/proc/self/task/%ld", (long)tid);
		for (i = 0; i < 10000 && access(path, F_OK) == 0; i++)
			usleep(1000);
		CHILD_TRUE(access(path, F_OK) != 0);
		sc_send(&ready, 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	EXPECT_EQ(0U, deaths(self->fd));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/* A participant with its handle in several descriptors: one death. */
TEST_F(death, dup_descriptors_count_once)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd2;

		munmap(self->map, self->len);
		CHILD_EQ(0, sc_wake(self->fd, 0, 1));
		fd2 = dup(self->fd);
		CHILD_TRUE(fd2 >= 0 && dup(self->fd) >= 0);
		/* Closing one of them is no leaving: it still holds the handle */
		close(self->fd);
		CHILD_EQ(0, sc_wake(fd2, 0, 1));
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/*
 * A participant that closes its handle has left: its exit is no death
 * through it, though it used it.
 */
TEST_F(death, used_then_closed_not_a_death)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_wake(self->fd, 0, 1));
		close(self->fd);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0U, deaths(self->fd));
}

/*
 * exec() by a participant: the close-on-exec handle is closed (no death),
 * the mapping it touched goes with its address space (a death).
 */
TEST_F(death, exec_drops_used_mapping_counts)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_wake(self->fd, 0, 1));
		((volatile char *)self->map)[0] = 1;
		execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1U, deaths(self->fd));
}

/* A child's own mmap() of the handle is a use of both. */
TEST_F(death, child_mmap_counts)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		munmap(self->map, self->len);
		CHILD_TRUE(sc_map(self->fd, SC_PAGE, PROT_READ, 0) != MAP_FAILED);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(2U, deaths(self->fd));
}

/* Users of another channel do not count here. */
TEST_F(death, other_channel_not_counted)
{
	const char *other = sc_newname("death2");
	int fd2 = sc_new(other, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	pid_t pid;

	ASSERT_LE(0, fd2);
	close(fd2);	/* not to be inherited by the child */
	pid = spawn_user(self, other, 1, 1, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0U, deaths(self->fd));
	fd2 = sc_attach(other, 0);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(2U, deaths(fd2));
	close(fd2);
}

/* ---- WAIT with SHMCHAN_WAIT_DEATHS --------------------------------------- */

/* A stale count ends the wait at once; the current one lets it sleep. */
TEST_F(death, stale_count_eownerdead_at_once)
{
	__u32 d0 = deaths(self->fd);
	pid_t pid = spawn_user(self, self->name, 1, 0, 0);
	__u64 t0;

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(d0 + 1, deaths(self->fd));
	t0 = sc_now_ns();
	EXPECT_EQ(-EOWNERDEAD, wait_deaths(self->fd, 0, 0, d0, sc_now_ns() + 20 * SC_NSEC));
	EXPECT_EQ(-EOWNERDEAD, wait_deaths(self->fd, 0, 0, d0, 0));
	EXPECT_GT(5 * SC_NSEC, sc_now_ns() - t0);
	EXPECT_EQ(-ETIMEDOUT, wait_deaths(self->fd, 0, 0, d0 + 1,
					  sc_now_ns() + 20000000ULL));
	EXPECT_EQ(-EAGAIN, wait_deaths(self->fd, 0, 1, d0 + 1, 0));
}

/* A user exiting during the wait ends it with EOWNERDEAD. */
TEST_F(death, exit_during_wait_eownerdead)
{
	pid_t user, waiter;

	user = spawn_user(self, self->name, 1, 1, 1);
	ASSERT_LT(0, user);
	waiter = sc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		CHILD_EQ(-EOWNERDEAD, wait_deaths(self->fd, 8, 0, deaths(self->fd),
						  sc_now_ns() + 30 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(user, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(user, 10000));
	EXPECT_EQ(0, sc_reap(waiter, 10000));
	EXPECT_EQ(0LL, sc_poll_nwaiters(self->fd, 0, 5000));
}

/* Every death-aware waiter of the channel hears of it, whatever its word. */
TEST_F(death, all_death_aware_waiters_notified)
{
	pid_t user, waiters[3];
	int i;

	user = spawn_user(self, self->name, 1, 0, 1);
	ASSERT_LT(0, user);
	for (i = 0; i < 3; i++) {
		waiters[i] = sc_fork();
		ASSERT_LE(0, waiters[i]);
		if (waiters[i] == 0) {
			CHILD_EQ(-EOWNERDEAD,
				 wait_deaths(self->fd, 4 * (__u64)i, 0, 0,
					     sc_now_ns() + 30 * SC_NSEC));
			child_detach(self);
			_exit(0);
		}
	}
	ASSERT_EQ(3LL, sc_poll_nwaiters(self->fd, 3, 10000));
	ASSERT_EQ(0, kill(user, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(user, 10000));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, sc_reap(waiters[i], 10000));
	}
}

/* Waits without the flag are not disturbed by deaths. */
TEST_F(death, plain_wait_not_disturbed)
{
	pid_t user, waiter;
	int code;

	user = spawn_user(self, self->name, 1, 1, 1);
	ASSERT_LT(0, user);
	waiter = sc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		CHILD_EQ(0, sc_wait(self->fd, 0, 0, sc_now_ns() + 30 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(user, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(user, 10000));
	EXPECT_EQ(2U, deaths(self->fd));
	usleep(100000);
	EXPECT_FALSE(sc_finished(waiter, &code));
	EXPECT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 1000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(waiter, 10000));
}

/* A death-aware waiter is still woken by WAKE normally. */
TEST_F(death, death_aware_wait_woken)
{
	pid_t waiter = sc_fork();

	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		CHILD_EQ(0, wait_deaths(self->fd, 0, 0, deaths(self->fd),
					sc_now_ns() + 30 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(waiter, 10000));
}

/* Deaths on another channel do not end a death-aware wait here. */
TEST_F(death, other_channel_death_ignored)
{
	const char *other = sc_newname("death2");
	int fd2 = sc_new(other, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	pid_t user, waiter;
	int code;

	ASSERT_LE(0, fd2);
	user = spawn_user(self, other, 1, 1, 1);
	ASSERT_LT(0, user);
	waiter = sc_fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		CHILD_EQ(0, wait_deaths(self->fd, 0, 0, deaths(self->fd),
					sc_now_ns() + 30 * SC_NSEC));
		child_detach(self);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(user, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(user, 10000));
	usleep(100000);
	EXPECT_FALSE(sc_finished(waiter, &code));
	EXPECT_EQ(1, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(0, sc_reap(waiter, 10000));
	close(fd2);
}

/* ---- lpid ---------------------------------------------------------------- */

/* lpid: the process that last bound a handle to the channel or mapped it. */
TEST_F(death, lpid_follows_bind_and_map)
{
	struct shmchan_stat st;
	pid_t pid;
	void *p;

	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__s32)getpid(), st.lpid);

	pid = spawn_user(self, self->name, 1, 0, 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__s32)pid, st.lpid);
	EXPECT_EQ((__s32)getpid(), st.cpid);

	/* STAT, WAIT and WAKE do not change it; mmap does. */
	EXPECT_EQ(0, sc_wake(self->fd, 0, 1));
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 0, 1, 0));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__s32)pid, st.lpid);
	p = sc_map(self->fd, SC_PAGE, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__s32)getpid(), st.lpid);
	munmap(p, SC_PAGE);
}

TEST_HARNESS_MAIN
