// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan module unload: refused (as rmmod sees it: delete_module with
 * O_NONBLOCK) while any handle is open or any mapping exists, even after
 * every handle is closed; allowed once all are gone, also when channels
 * without users still exist (unload frees them), in any IPC namespace.
 * Each test leaves the module loaded again (finit_module of $SHMCHAN_KO),
 * so this binary runs last and needs root and SHMCHAN_KO.
 *
 * races_openers_and_waiters: unloads while processes keep opening handles,
 * binding them, waiting and mapping, 1,000 rounds (divided by
 * SHMCHAN_TEST_SCALE); every unload must be done or refused within 1 s.
 */
#include "shmchan_test.h"

#include <sched.h>

#define MODNAME "shmchan"

static int mod_delete(void)
{
	return syscall(SYS_delete_module, MODNAME, O_NONBLOCK) ? -errno : 0;
}

static int mod_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

static int mod_loaded(void)
{
	return access("/sys/module/" MODNAME, F_OK) == 0;
}

/* Poll until /dev/shmchan exists (@want 1) or not (0); returns the state. */
static int dev_poll(int want, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;

	for (;;) {
		int there = access(SHMCHAN_DEVICE, F_OK) == 0;

		if (there == want || sc_now_ns() > end)
			return there;
		usleep(2000);
	}
}

/* Refused the way rmmod reports a module in use. */
static int refused(int r)
{
	return r == -EWOULDBLOCK || r == -EBUSY;
}

/*
 * Unload, allowing a short while for references dropped by the last
 * munmap/close to settle. Returns 0 or the last error.
 */
static int mod_delete_settled(int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	int r;

	for (;;) {
		r = mod_delete();
		if (!refused(r) || sc_now_ns() > end)
			return r;
		usleep(10000);
	}
}

FIXTURE(unload) {
	const char *ko;
	const char *name;
};

FIXTURE_SETUP(unload)
{
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root (delete_module, finit_module)");
	self->ko = getenv("SHMCHAN_KO");
	if (!self->ko || !*self->ko)
		SKIP(_exit(255), "set SHMCHAN_KO=<path of shmchan.ko> to test unloading");
	/* A failed earlier test may have left the module out. */
	if (!mod_loaded())
		ASSERT_EQ(0, mod_load(self->ko));
	ASSERT_EQ(1, dev_poll(1, 5000));
	self->name = sc_newname("unload");
}

FIXTURE_TEARDOWN(unload)
{
	if (!mod_loaded())
		mod_load(self->ko);
	dev_poll(1, 5000);
	sc_cleanup();
}

/* Load the module again and check that it works. */
static void reload(struct __test_metadata *_metadata, const char *ko)
{
	struct shmchan_features f;
	int fd;

	ASSERT_FALSE(mod_loaded());
	ASSERT_EQ(0, dev_poll(0, 5000));
	ASSERT_EQ(0, mod_load(ko));
	ASSERT_TRUE(mod_loaded());
	ASSERT_EQ(1, dev_poll(1, 5000)) TH_LOG("devtmpfs did not bring back " SHMCHAN_DEVICE);
	fd = sc_dev();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, sc_features(fd, &f));
	EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION, f.abi_version);
	close(fd);
}

TEST_F(unload, refused_with_unbound_handle)
{
	int fd = sc_dev();
	int r;

	ASSERT_LE(0, fd);
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module: %d", r);
	EXPECT_TRUE(mod_loaded());
	close(fd);
}

TEST_F(unload, refused_with_bound_handle)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_TRANSIENT);
	int r;

	ASSERT_LE(0, fd);
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module: %d", r);
	EXPECT_TRUE(mod_loaded());
	EXPECT_EQ(1, sc_exists(self->name));
	close(fd);
}

/* A blocked waiter holds the module too (through its handle). */
TEST_F(unload, refused_with_waiter)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_TRANSIENT);
	pid_t pid;
	int r;

	ASSERT_LE(0, fd);
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sc_wait(fd, 0, 0, sc_now_ns() + 30 * SC_NSEC);
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(fd, 1, 10000));
	close(fd);		/* the child still has it */
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module: %d", r);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_TRUE(mod_loaded());
}

/*
 * The handle is closed, only a mapping remains: still refused. After
 * munmap the unload goes through, and the module loads again.
 */
TEST_F_TIMEOUT(unload, refused_with_only_mapping, 60)
{
	int fd = sc_new(self->name, 2 * SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	volatile char *p;
	int r;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 2 * SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	close(fd);
	p[0] = 'm';
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module with a mapping: %d", r);
	ASSERT_TRUE(mod_loaded());
	/* Still refused a moment later, and the mapping still works. */
	usleep(100000);
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module with a mapping: %d", r);
	ASSERT_TRUE(mod_loaded());
	EXPECT_EQ('m', p[0]);
	p[SC_PAGE] = 'n';
	EXPECT_EQ('n', p[SC_PAGE]);

	ASSERT_EQ(0, munmap((void *)p, 2 * SC_PAGE));
	r = mod_delete_settled(3000);
	ASSERT_EQ(0, r) TH_LOG("delete_module after the last munmap: %d", r);
	reload(_metadata, self->ko);
	/* The channel went with the module. */
	EXPECT_EQ(0, sc_exists(self->name));
}

/* A mapping inherited by a child holds the module after the parent let go. */
TEST_F_TIMEOUT(unload, refused_with_mapping_in_child, 60)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_TRANSIENT);
	struct sc_pipe go;
	void *p;
	pid_t pid;
	int r;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_pipe_init(&go));
	p = sc_map(fd, SC_PAGE, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	close(fd);
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		sc_recv(&go, 30000);
		_exit(0);
	}
	munmap(p, SC_PAGE);
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module: %d", r);
	ASSERT_TRUE(mod_loaded());
	sc_send(&go, 'g');
	EXPECT_EQ(0, sc_reap(pid, 10000));
	r = mod_delete_settled(3000);
	ASSERT_EQ(0, r) TH_LOG("delete_module after the child exited: %d", r);
	reload(_metadata, self->ko);
}

/* Channels nobody uses do not block unloading; unloading frees them. */
TEST_F_TIMEOUT(unload, idle_channels_do_not_block, 60)
{
	const char *second = sc_newname("unload2");
	int fd = sc_new(self->name, 4 * SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	volatile char *p;
	int r;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 4 * SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	memset((void *)p, 0x33, 4 * SC_PAGE);	/* pages to free */
	munmap((void *)p, 4 * SC_PAGE);
	close(fd);
	fd = sc_new(second, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(1, sc_exists(self->name));

	r = mod_delete_settled(3000);
	ASSERT_EQ(0, r) TH_LOG("delete_module with idle channels: %d", r);
	reload(_metadata, self->ko);
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(0, sc_exists(second));
}

/*
 * Idle channels of a live IPC namespace other than ours (a container's)
 * do not block unload either: the module lets go of the namespace, which
 * lives on with its process, then dies normally (a leaked or doubly
 * dropped reference to it would show in the debug kernel's checks). The
 * reloaded module starts empty there too, and scoped.
 */
TEST_F_TIMEOUT(unload, idle_channels_in_other_namespace, 60)
{
	struct sc_pipe up, down;
	pid_t pid;
	int r;

	ASSERT_EQ(0, sc_pipe_init(&up));
	ASSERT_EQ(0, sc_pipe_init(&down));
	pid = sc_fork();
	if (pid == 0) {
		int fd;

		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		fd = sc_new(self->name, SC_PAGE, 0600,
			    SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE);
		CHILD_TRUE(fd >= 0);
		close(fd);
		CHILD_EQ(0, sc_send(&up, 'c'));
		/* The module is reloaded meanwhile */
		CHILD_EQ('r', sc_recv(&down, 30000));
		CHILD_EQ(0, sc_exists(self->name));
		fd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(fd >= 0);
		close(fd);
		CHILD_EQ(0, sc_send(&up, 'd'));
		_exit(0);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ('c', sc_recv(&up, 20000));
	ASSERT_EQ(0, sc_exists(self->name));

	r = mod_delete_settled(3000);
	ASSERT_EQ(0, r) TH_LOG("delete_module with another namespace's channel: %d", r);
	reload(_metadata, self->ko);
	ASSERT_EQ(0, sc_send(&down, 'r'));
	EXPECT_EQ('d', sc_recv(&up, 20000));
	EXPECT_EQ(0, sc_reap(pid, 20000));
	/* Its channel was the child's namespace's, never ours */
	EXPECT_EQ(0, sc_exists(self->name));
}

/* A destroyed channel whose last mapping went away does not hold it either. */
TEST_F_TIMEOUT(unload, after_destroy_and_unmap, 60)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	void *p;
	int r;

	ASSERT_LE(0, fd);
	p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, sc_destroy(fd, self->name, SHMCHAN_DESTROY_REVOKE));
	close(fd);
	r = mod_delete();
	EXPECT_TRUE(refused(r)) TH_LOG("delete_module: %d", r);
	munmap(p, SC_PAGE);
	r = mod_delete_settled(3000);
	ASSERT_EQ(0, r) TH_LOG("delete_module: %d", r);
	reload(_metadata, self->ko);
}

/* ---- unload against openers and waiters ----------------------------------- */

#define RACE_ROUNDS	1000
#define RACE_WORKERS	3
/* How long one unload may take, done or refused */
#define RACE_UNLOAD_MS	1000
/* and a load (it reads the module file, from 9p in the VM) */
#define RACE_LOAD_MS	10000

static int test_scale(void)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	int n = s ? atoi(s) : 1;

	return n >= 1 ? n : 1;
}

/* What the workers and the test share (an anonymous shared page) */
struct race_shared {
	volatile unsigned long binds, waits, maps, opens_failed;
	volatile int bad_errno;		/* an errno no race allows, or 0 */
};

/*
 * One handle's life: open /dev/shmchan, make or open a transient channel,
 * wait on it (a short deadline, or a longer one, as `shmchan wait` in the
 * background does), sometimes map it, close. The module may be going or
 * gone at any point: opening then fails with ENOENT (no device node),
 * ENXIO or ENODEV (the node of a module going away). Every wait has a
 * deadline, so a worker always finishes.
 */
static void race_cycle(struct race_shared *sh, const char *name, unsigned int i)
{
	int fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);
	__u64 wait_ns = (i % 4 == 0 ? 5 : 1) * 1000000ULL;
	void *p;
	int r;

	if (fd < 0) {
		if (errno != ENOENT && errno != ENXIO && errno != ENODEV)
			sh->bad_errno = errno;
		sh->opens_failed++;
		return;
	}
	r = sc_create(fd, name, SC_PAGE, 0600, SHMCHAN_CREATE_TRANSIENT, NULL);
	if (r) {
		sh->bad_errno = -r;
		close(fd);
		return;
	}
	sh->binds++;
	r = sc_wait(fd, 0, 0, sc_now_ns() + wait_ns);
	if (r != -ETIMEDOUT)
		sh->bad_errno = r ? -r : 9999;
	sh->waits++;
	if (i % 3 == 0) {
		p = sc_map(fd, SC_PAGE, PROT_READ, 0);
		if (p != MAP_FAILED) {
			sh->maps++;
			munmap(p, SC_PAGE);
		}
	}
	close(fd);
}

/*
 * A worker: for each 'g' on @go, after a random delay of up to 2 ms, one
 * or two handle lives, then a 'd' on @done; 'q' ends it.
 */
static void race_worker(struct race_shared *sh, struct sc_pipe *go,
			struct sc_pipe *done, int id)
{
	char name[64];
	unsigned int i;

	srand(getpid());
	snprintf(name, sizeof(name), "unload-race-%d-%d", (int)getpid(), id);
	for (i = 0;; i++) {
		int c = sc_recv(go, 60000);

		if (c != 'g')
			_exit(c == 'q' ? 0 : 1);
		usleep(rand() % 2000);
		race_cycle(sh, name, i);
		if (i % 2)
			race_cycle(sh, name, i + 1);
		sc_send(done, 'd');
	}
}

/*
 * Run delete_module (@load 0) or finit_module of @ko (@load 1) in a child
 * and wait for it at most @limit_ms. Returns 0 or -errno, or -ETIME if
 * it took longer (the child is left behind: it may be stuck in the kernel,
 * and waiting for it would hang the test). *@ms: how long it took.
 */
static int mod_op_bounded(const char *ko, int load, int limit_ms, long *ms)
{
	__u64 start = sc_now_ns(), end = start + limit_ms * 1000000ULL;
	int status;
	pid_t pid;

	pid = sc_fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r = load ? mod_load(ko) : mod_delete();

		_exit(-r);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		*ms = (long)((sc_now_ns() - start) / 1000000ULL);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -ECHILD;
		if (sc_now_ns() > end)
			return -ETIME;
		usleep(500);
	}
	if (!WIFEXITED(status))
		return -EINTR;
	return -WEXITSTATUS(status);
}

/*
 * Each round the workers open, bind, wait on and close handles after
 * random delays of up to 2 ms, and the test unloads after a random delay
 * of up to 3 ms: before, amid or after their opens. Each unload must be
 * done or refused within RACE_UNLOAD_MS; a done one is followed by a
 * load, which the workers' opens race too in the next round.
 */
TEST_F_TIMEOUT(unload, races_openers_and_waiters, 900)
{
	int rounds = RACE_ROUNDS / test_scale();
	int done = 0, refused_n = 0, r, i, w;
	struct sc_pipe go[RACE_WORKERS], fin[RACE_WORKERS];
	pid_t workers[RACE_WORKERS];
	long ms, slowest = 0;
	struct race_shared *sh;
	__u64 start = sc_now_ns();

	srand(getpid());
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(sh));
	for (w = 0; w < RACE_WORKERS; w++) {
		ASSERT_EQ(0, sc_pipe_init(&go[w]));
		ASSERT_EQ(0, sc_pipe_init(&fin[w]));
		workers[w] = sc_fork();
		ASSERT_LE(0, workers[w]);
		if (workers[w] == 0)
			race_worker(sh, &go[w], &fin[w], w);
	}

	for (i = 0; i < rounds; i++) {
		for (w = 0; w < RACE_WORKERS; w++)
			sc_send(&go[w], 'g');
		usleep(rand() % 3000);
		r = mod_op_bounded(NULL, 0, RACE_UNLOAD_MS, &ms);
		slowest = ms > slowest ? ms : slowest;
		ASSERT_NE(-ETIME, r)
			TH_LOG("round %d: delete_module did not return within %d ms",
			       i, RACE_UNLOAD_MS);
		ASSERT_TRUE(r == 0 || refused(r))
			TH_LOG("round %d: delete_module: %d", i, r);
		for (w = 0; w < RACE_WORKERS; w++)
			ASSERT_EQ('d', sc_recv(&fin[w], 30000))
				TH_LOG("round %d: worker %d did not finish", i, w);
		if (r) {
			refused_n++;
			ASSERT_TRUE(mod_loaded());
			continue;
		}
		done++;
		r = mod_op_bounded(self->ko, 1, RACE_LOAD_MS, &ms);
		ASSERT_NE(-ETIME, r)
			TH_LOG("round %d: finit_module did not return within %d ms",
			       i, RACE_LOAD_MS);
		ASSERT_EQ(0, r) TH_LOG("round %d: finit_module: %d", i, r);
	}

	for (w = 0; w < RACE_WORKERS; w++) {
		sc_send(&go[w], 'q');
		EXPECT_EQ(0, sc_reap(workers[w], 10000)) TH_LOG("worker %d", w);
	}
	EXPECT_EQ(0, sh->bad_errno);
	TH_LOG("%d rounds in %llu s: %d unloads done, %d refused, slowest %ld ms; workers: %lu binds, %lu waits, %lu maps, %lu failed opens",
	       rounds, (sc_now_ns() - start) / SC_NSEC, done, refused_n,
	       slowest, sh->binds, sh->waits, sh->maps, sh->opens_failed);
	/* Both outcomes happened: the unloads did race the workers. */
	EXPECT_LT(0, refused_n);
	EXPECT_LT(0, done);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
