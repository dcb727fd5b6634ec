// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan module unload: refused (as rmmod sees it: delete_module with
 * O_NONBLOCK) while any handle is open or any mapping exists, even after
 * every handle is closed; allowed once all are gone, also when channels
 * without users still exist (unload frees them). Each test leaves the
 * module loaded again (finit_module of $SHMCHAN_KO), so this binary runs
 * last and needs root and SHMCHAN_KO.
 */
#include "shmchan_test.h"

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

TEST_HARNESS_MAIN
