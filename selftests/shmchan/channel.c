// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan channels: CREATE, OPEN, DESTROY, binding rules, unbound handles,
 * names, and the STAT fields that do not need mappings or waiters.
 */
#include "shmchan_test.h"

FIXTURE(chan) {
	int fd;			/* an unbound handle */
	const char *name;	/* a fresh name */
	size_t page;
};

FIXTURE_SETUP(chan)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->fd = sc_dev();
	ASSERT_LE(0, self->fd);
	self->name = sc_newname("ch");
}

FIXTURE_TEARDOWN(chan)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/* ---- CREATE ------------------------------------------------------------------- */

TEST_F(chan, create_new)
{
	struct shmchan_create c;
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_create(self->fd, self->name, 3 * self->page, 0640,
			       0, &c));
	EXPECT_EQ(SHMCHAN_CREATED, c.result);
	EXPECT_EQ((__u64)(3 * self->page), c.length);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u64)(3 * self->page), st.length);
	EXPECT_EQ(0640U, st.mode);
	EXPECT_EQ((__u32)geteuid(), st.uid);
	EXPECT_EQ((__u32)getegid(), st.gid);
	EXPECT_EQ((__u32)geteuid(), st.cuid);
	EXPECT_EQ((__u32)getegid(), st.cgid);
	EXPECT_EQ((__s32)getpid(), st.cpid);
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);
	EXPECT_EQ(0ULL, st.nmaps);
	EXPECT_EQ(1ULL, st.nhandles);
	EXPECT_EQ(0ULL, st.nwaiters);
	EXPECT_EQ(1, sc_exists(self->name));
}

TEST_F(chan, create_excl_new)
{
	struct shmchan_create c;

	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600,
			       SHMCHAN_CREATE_EXCL, &c));
	EXPECT_EQ(SHMCHAN_CREATED, c.result);
}

TEST_F(chan, create_excl_exists_eexist)
{
	int fd = sc_new(self->name, self->page, 0600, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EEXIST, sc_create(self->fd, self->name, self->page, 0600,
				     SHMCHAN_CREATE_EXCL, NULL));
	/* The failed call left the handle unbound. */
	EXPECT_EQ(-EBADFD, sc_stat(self->fd, &st));
	close(fd);
}

/* Without EXCL an existing channel is opened, as it is. */
TEST_F(chan, create_opens_existing)
{
	int fd = sc_new(self->name, 2 * self->page, 0640, 0);
	struct shmchan_create c;
	struct shmchan_stat st;
	volatile char *a, *b;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, 2 * self->page, 0666, 0, &c));
	EXPECT_EQ(0U, c.result);
	EXPECT_EQ((__u64)(2 * self->page), c.length);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0640U, st.mode);	/* the existing mode stays */
	EXPECT_EQ(2ULL, st.nhandles);
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);

	/* Same memory. */
	a = sc_map(fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(a));
	b = sc_map(self->fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(b));
	a[self->page + 7] = 0x5c;
	EXPECT_EQ(0x5c, b[self->page + 7]);
	munmap((void *)a, 2 * self->page);
	munmap((void *)b, 2 * self->page);
	close(fd);
}

TEST_F(chan, create_existing_smaller_length_ok)
{
	int fd = sc_new(self->name, 4 * self->page, 0600, 0);
	struct shmchan_create c;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, 1, 0600, 0, &c));
	EXPECT_EQ(0U, c.result);
	EXPECT_EQ((__u64)(4 * self->page), c.length);
	close(fd);
}

TEST_F(chan, create_existing_larger_length_einval)
{
	int fd = sc_new(self->name, 2 * self->page, 0600, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, 2 * self->page + 1,
				     0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, 3 * self->page,
				     0600, 0, NULL));
	EXPECT_EQ(-EBADFD, sc_stat(self->fd, &st));
	/* Still the old size. */
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ((__u64)(2 * self->page), st.length);
	close(fd);
}

TEST_F(chan, create_length_zero_einval)
{
	EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, 0, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, 0, 0600,
				     SHMCHAN_CREATE_EXCL, NULL));
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(chan, create_rounds_up_to_pages)
{
	static const struct { size_t in_pages, in_extra, out_pages; } cases[] = {
		{ 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 2 }, { 2, 100, 3 }, { 0, 4095, 1 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *name = sc_newname("round");
		size_t len = cases[i].in_pages * self->page + cases[i].in_extra;
		struct shmchan_create c;
		struct shmchan_stat st;
		int fd = sc_dev();

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, sc_create(fd, name, len, 0600, 0, &c));
		EXPECT_EQ((__u64)(cases[i].out_pages * self->page), c.length)
			TH_LOG("asked %zu bytes", len);
		ASSERT_EQ(0, sc_stat(fd, &st));
		EXPECT_EQ((__u64)(cases[i].out_pages * self->page), st.length);
		EXPECT_EQ(0, sc_destroy(fd, name, 0));
		close(fd);
	}
}

TEST_F(chan, create_huge_length_efbig)
{
	EXPECT_EQ(-EFBIG, sc_create(self->fd, self->name, ~0ULL, 0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(self->fd, self->name, 1ULL << 63, 0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(self->fd, self->name, ~0ULL - self->page + 2,
				    0600, 0, NULL));
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(chan, create_mode_above_0777_einval)
{
	static const __u32 modes[] = { 01000, 02000, 04000, 04777, 0xffffffffU, 010000 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, self->page,
					     modes[i], 0, NULL))
			TH_LOG("mode %#o", modes[i]);
	}
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(chan, create_mode_kept)
{
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0777, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0777U, st.mode);
}

/* TRANSIENT applies only when the call makes the channel. */
TEST_F(chan, create_transient_on_existing_ignored)
{
	int fd = sc_new(self->name, self->page, 0600, 0);
	struct shmchan_create c;
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600,
			       SHMCHAN_CREATE_TRANSIENT, &c));
	EXPECT_EQ(0U, c.result);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_TRANSIENT);
	close(fd);
	close(self->fd);
	self->fd = -1;
	/* Not transient: it stays after every handle is gone. */
	EXPECT_EQ(1, sc_exists(self->name));
}

/* A failed bind leaves the handle usable. */
TEST_F(chan, bind_after_failed_bind)
{
	EXPECT_EQ(-ENOENT, sc_open(self->fd, self->name, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, 0, 0600, 0, NULL));
	EXPECT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
}

/* ---- OPEN ---------------------------------------------------------------------- */

TEST_F(chan, open_missing_enoent)
{
	EXPECT_EQ(-ENOENT, sc_open(self->fd, self->name, 0, NULL));
	EXPECT_EQ(-ENOENT, sc_open(self->fd, self->name, SHMCHAN_OPEN_RDONLY, NULL));
}

TEST_F(chan, open_rdwr)
{
	int fd = sc_new(self->name, 5 * self->page, 0600, 0);
	struct shmchan_stat st;
	__u64 len = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_open(self->fd, self->name, 0, &len));
	EXPECT_EQ((__u64)(5 * self->page), len);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);
	EXPECT_EQ(2ULL, st.nhandles);
	close(fd);
}

TEST_F(chan, open_rdonly)
{
	int fd = sc_new(self->name, self->page, 0600, 0);
	struct shmchan_stat st;
	__u64 len = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_open(self->fd, self->name, SHMCHAN_OPEN_RDONLY, &len));
	EXPECT_EQ((__u64)self->page, len);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_WRITABLE);
	EXPECT_EQ(0U, st.state);
	/* The writer's handle is still writable. */
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);
	close(fd);
}

/* ---- binding twice ----------------------------------------------------------- */

TEST_F(chan, create_on_created_handle_ebusy)
{
	const char *other = sc_newname("other");
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_create(self->fd, other, 2 * self->page, 0600, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	EXPECT_EQ(0, sc_exists(other));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u64)self->page, st.length);
}

TEST_F(chan, open_on_created_handle_ebusy)
{
	const char *other = sc_newname("other");
	int fd = sc_new(other, 2 * self->page, 0600, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_open(self->fd, other, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u64)self->page, st.length);
	close(fd);
}

TEST_F(chan, open_on_opened_handle_ebusy)
{
	const char *other = sc_newname("other");
	int fd = sc_new(self->name, self->page, 0600, 0);
	int fd2 = sc_new(other, 2 * self->page, 0600, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sc_open(self->fd, self->name, SHMCHAN_OPEN_RDONLY, NULL));
	EXPECT_EQ(-EBUSY, sc_open(self->fd, other, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_open(self->fd, self->name, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u64)self->page, st.length);
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_WRITABLE);
	close(fd);
	close(fd2);
}

TEST_F(chan, create_on_opened_handle_ebusy)
{
	const char *other = sc_newname("other");
	int fd = sc_new(self->name, self->page, 0600, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_open(self->fd, self->name, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_create(self->fd, other, self->page, 0600, 0, NULL));
	EXPECT_EQ(-EBUSY, sc_create(self->fd, other, self->page, 0600,
				    SHMCHAN_CREATE_EXCL, NULL));
	EXPECT_EQ(0, sc_exists(other));
	close(fd);
}

/* ---- unbound handles ---------------------------------------------------------- */

TEST_F(chan, unbound_stat_ebadfd)
{
	struct shmchan_stat st;

	EXPECT_EQ(-EBADFD, sc_stat(self->fd, &st));
}

TEST_F(chan, unbound_wait_ebadfd)
{
	EXPECT_EQ(-EBADFD, sc_wait(self->fd, 0, 0, sc_now_ns() + SC_NSEC));
	EXPECT_EQ(-EBADFD, sc_wait(self->fd, 0, 0, 0));
}

TEST_F(chan, unbound_wake_ebadfd)
{
	EXPECT_EQ(-EBADFD, sc_wake(self->fd, 0, 1));
}

TEST_F(chan, unbound_mmap_ebadfd)
{
	void *p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EBADFD, errno);
}

TEST_F(chan, unbound_features_and_destroy_work)
{
	struct shmchan_features f;
	int fd = sc_new(self->name, self->page, 0600, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ(0, sc_destroy(self->fd, self->name, 0));
	EXPECT_EQ(0, sc_exists(self->name));
	close(fd);
}

/* ---- DESTROY -------------------------------------------------------------------- */

TEST_F(chan, destroy_missing_enoent)
{
	EXPECT_EQ(-ENOENT, sc_destroy(self->fd, self->name, 0));
	EXPECT_EQ(-ENOENT, sc_destroy(self->fd, self->name, SHMCHAN_DESTROY_REVOKE));
}

TEST_F(chan, destroy_removes_name)
{
	int fd = sc_new(self->name, self->page, 0600, 0);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, sc_destroy(self->fd, self->name, 0));
	EXPECT_EQ(-ENOENT, sc_open(self->fd, self->name, 0, NULL));
	EXPECT_EQ(-ENOENT, sc_open(self->fd, self->name, SHMCHAN_OPEN_RDONLY, NULL));
	EXPECT_EQ(-ENOENT, sc_destroy(self->fd, self->name, 0));
}

/* A bound handle can destroy its own channel, or another one. */
TEST_F(chan, destroy_through_bound_handle)
{
	const char *other = sc_newname("other");
	int fd = sc_new(other, self->page, 0600, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	EXPECT_EQ(0, sc_destroy(self->fd, other, 0));
	EXPECT_EQ(0, sc_exists(other));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ(0, sc_destroy(self->fd, self->name, 0));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_WRITABLE, st.state);
}

/* ---- STAT ---------------------------------------------------------------------- */

TEST_F(chan, stat_cpid_is_creator)
{
	struct shmchan_stat st;
	pid_t pid;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_new(self->name, self->page, 0600, 0);

		CHILD_TRUE(fd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_open(self->fd, self->name, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__s32)pid, st.cpid);
	EXPECT_NE((__s32)getpid(), st.cpid);
}

TEST_F(chan, stat_ctime_is_now)
{
	struct timespec before, after;
	struct shmchan_stat st;

	clock_gettime(CLOCK_REALTIME, &before);
	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	clock_gettime(CLOCK_REALTIME, &after);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_GT(SC_NSEC, (__u64)st.ctime_nsec);
	/* Within [before, after], allowing coarse clocks a second. */
	EXPECT_LE((__s64)before.tv_sec - 1, st.ctime_sec);
	EXPECT_GE((__s64)after.tv_sec + 1, st.ctime_sec);
}

/* ctime does not change when the channel is opened later. */
TEST_F(chan, stat_ctime_stable)
{
	struct shmchan_stat a, b;
	int fd;

	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &a));
	usleep(20000);
	fd = sc_attach(self->name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &b));
	EXPECT_EQ(a.ctime_sec, b.ctime_sec);
	EXPECT_EQ(a.ctime_nsec, b.ctime_nsec);
	EXPECT_EQ(a.cpid, b.cpid);
	close(fd);
}

TEST_F(chan, stat_nhandles)
{
	struct shmchan_stat st;
	int fd2, fd3, dupfd;

	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(1ULL, st.nhandles);

	fd2 = sc_attach(self->name, 0);
	ASSERT_LE(0, fd2);
	fd3 = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(3ULL, st.nhandles);

	/* dup() shares the open file: still the same handle. */
	dupfd = dup(fd2);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(3ULL, st.nhandles);
	close(fd2);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(3ULL, st.nhandles);
	close(dupfd);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(2ULL, st.nhandles);
	close(fd3);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(1ULL, st.nhandles);

	/* Unbound handles and failed binds do not count. */
	fd2 = sc_dev();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-EEXIST, sc_create(fd2, self->name, self->page, 0600,
				     SHMCHAN_CREATE_EXCL, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(1ULL, st.nhandles);
	close(fd2);
}

/* A handle bound in another process counts too. */
TEST_F(chan, stat_nhandles_across_processes)
{
	struct sc_pipe ready, done;
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&done));
	ASSERT_EQ(0, sc_create(self->fd, self->name, self->page, 0600, 0, NULL));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		CHILD_TRUE(fd >= 0);
		sc_send(&ready, 'r');
		CHILD_EQ('d', sc_recv(&done, 20000));
		_exit(0);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(2ULL, st.nhandles);
	sc_send(&done, 'd');
	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(1ULL, st.nhandles);
}

/* ---- names ------------------------------------------------------------------------ */

enum name_op { OP_CREATE, OP_OPEN, OP_DESTROY };

FIXTURE(names) {
	int fd;
	char *area;	/* one read-write page followed by a PROT_NONE page */
	size_t page;
};

FIXTURE_VARIANT(names) {
	enum name_op op;
};

FIXTURE_VARIANT_ADD(names, create) { .op = OP_CREATE };
FIXTURE_VARIANT_ADD(names, open) { .op = OP_OPEN };
FIXTURE_VARIANT_ADD(names, destroy) { .op = OP_DESTROY };

FIXTURE_SETUP(names)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->fd = sc_dev();
	ASSERT_LE(0, self->fd);
	self->area = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->area));
	ASSERT_EQ(0, mprotect(self->area + self->page, self->page, PROT_NONE));
}

FIXTURE_TEARDOWN(names)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

static int name_op(FIXTURE_DATA(names) *self, const FIXTURE_VARIANT(names) *variant,
		   const char *name)
{
	switch (variant->op) {
	case OP_CREATE:
		return sc_create(self->fd, name, self->page, 0600,
				 SHMCHAN_CREATE_EXCL, NULL);
	case OP_OPEN:
		return sc_open(self->fd, name, 0, NULL);
	case OP_DESTROY:
		return sc_destroy(self->fd, name, 0);
	}
	return -1;
}

/* For OPEN and DESTROY a valid name must exist first. */
static int name_prepare(FIXTURE_DATA(names) *self,
			const FIXTURE_VARIANT(names) *variant, const char *name)
{
	int fd;

	sc_track(name);
	if (variant->op == OP_CREATE)
		return 0;
	fd = sc_new(name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

TEST_F(names, empty_einval)
{
	EXPECT_EQ(-EINVAL, name_op(self, variant, ""));
}

TEST_F(names, slash_einval)
{
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kst/slash"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, "/kstslash"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, "/"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kstslash/"));
}

TEST_F(names, space_einval)
{
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kst space"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, " "));
}

TEST_F(names, control_chars_einval)
{
	char name[] = "kst.ctl.X";
	int c;

	for (c = 1; c < 0x20; c++) {
		name[8] = (char)c;
		EXPECT_EQ(-EINVAL, name_op(self, variant, name)) TH_LOG("byte %#x", c);
	}
}

TEST_F(names, del_einval)
{
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kst.del\x7f"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, "\x7f"));
}

TEST_F(names, high_bytes_einval)
{
	char name[] = "kst.hi.X";
	int c;

	for (c = 0x80; c <= 0xff; c += 0x11) {
		name[7] = (char)c;
		EXPECT_EQ(-EINVAL, name_op(self, variant, name)) TH_LOG("byte %#x", c);
	}
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kst.hi.\xff"));
	EXPECT_EQ(-EINVAL, name_op(self, variant, "kst.\xc3\xa9t\xc3\xa9"));
}

TEST_F(names, len_256_enametoolong)
{
	char name[SHMCHAN_NAME_MAX + 2];

	memset(name, 'n', SHMCHAN_NAME_MAX + 1);
	name[SHMCHAN_NAME_MAX + 1] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, name_op(self, variant, name));
}

TEST_F(names, len_4000_enametoolong)
{
	char *name = self->area;

	memset(name, 'n', 4000);
	name[4000] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, name_op(self, variant, name));
}

/* 256 valid bytes with no NUL, right before an unmapped page. */
TEST_F(names, len_256_at_page_end_enametoolong)
{
	char *name = self->area + self->page - (SHMCHAN_NAME_MAX + 1);

	memset(name, 'n', SHMCHAN_NAME_MAX + 1);
	EXPECT_EQ(-ENAMETOOLONG, name_op(self, variant, name));
}

TEST_F(names, len_255_ok)
{
	char name[SHMCHAN_NAME_MAX + 1];
	const char *base = sc_newname("long");
	size_t n = strlen(base);

	memcpy(name, base, n);
	memset(name + n, 'L', SHMCHAN_NAME_MAX - n);
	name[SHMCHAN_NAME_MAX] = '\0';
	ASSERT_EQ(0, name_prepare(self, variant, name));
	EXPECT_EQ(0, name_op(self, variant, name));
}

/* A 255-byte name whose NUL is the last byte of a readable page. */
TEST_F(names, len_255_at_page_end_ok)
{
	char *name = self->area + self->page - (SHMCHAN_NAME_MAX + 1);
	const char *base = sc_newname("edge");
	size_t n = strlen(base);

	memcpy(name, base, n);
	memset(name + n, 'E', SHMCHAN_NAME_MAX - n);
	name[SHMCHAN_NAME_MAX] = '\0';
	ASSERT_EQ(0, name_prepare(self, variant, name));
	EXPECT_EQ(0, name_op(self, variant, name));
}

/* Every graphic ASCII character but '/' is allowed. */
TEST_F(names, all_graphic_chars_ok)
{
	char name[SHMCHAN_NAME_MAX + 1];
	const char *base = sc_newname("g");
	size_t n = strlen(base);
	int c;

	memcpy(name, base, n);
	for (c = 0x21; c <= 0x7e; c++)
		if (c != '/')
			name[n++] = (char)c;
	name[n] = '\0';
	ASSERT_EQ(0, name_prepare(self, variant, name));
	EXPECT_EQ(0, name_op(self, variant, name));
}

/* Names are compared as bytes: case matters. */
TEST_F(names, case_sensitive)
{
	char upper[64];
	const char *name = sc_newname("case");
	size_t i;

	for (i = 0; name[i]; i++)
		upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i];
	upper[i] = '\0';
	ASSERT_EQ(0, name_prepare(self, variant, name));
	sc_track(upper);
	EXPECT_EQ(0, sc_exists(upper));
	if (variant->op == OP_CREATE) {
		/* Two different names: both can be made, exclusively. */
		EXPECT_EQ(0, name_op(self, variant, name));
		close(self->fd);
		self->fd = sc_dev();
		ASSERT_LE(0, self->fd);
		EXPECT_EQ(0, name_op(self, variant, upper));
	} else {
		EXPECT_EQ(-ENOENT, name_op(self, variant, upper));
		EXPECT_EQ(1, sc_exists(name));
	}
}

TEST_F(names, null_pointer_efault)
{
	EXPECT_EQ(-EFAULT, name_op(self, variant, NULL));
}

TEST_F(names, unmapped_pointer_efault)
{
	EXPECT_EQ(-EFAULT, name_op(self, variant, self->area + self->page));
	EXPECT_EQ(-EFAULT, name_op(self, variant, (const char *)(uintptr_t)8));
}

/* A short name whose NUL would be in the unmapped page. */
TEST_F(names, runs_into_unmapped_efault)
{
	char *name = self->area + self->page - 3;

	memcpy(name, "kst", 3);
	EXPECT_EQ(-EFAULT, name_op(self, variant, name));
}

/* A non-canonical / kernel address is EFAULT, never an oops. */
TEST_F(names, kernel_pointer_efault)
{
	struct shmchan_open o = { .size = sizeof(o), .name = 0xffffffff81000000ULL };
	struct shmchan_destroy d = { .size = sizeof(d), .name = 0xffff888000000000ULL };
	struct shmchan_create c = { .size = sizeof(c), .name = 0x8000000000000000ULL,
				    .length = 4096, .mode = 0600 };

	switch (variant->op) {
	case OP_CREATE:
		EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_CREATE, &c));
		break;
	case OP_OPEN:
		EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_OPEN, &o));
		break;
	case OP_DESTROY:
		EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_DESTROY, &d));
		break;
	}
}

/* ---- POPULATE ------------------------------------------------------------------ */

#define POP_LEN (16ULL << 20)
#define POP_KIB ((int)(POP_LEN >> 10))

/* Growth of Shmem since @base, in KiB (ints keep -m32 builds simple). */
static int shmem_grown(long long base)
{
	return (int)(sc_shmem_kib() - base);
}

/* POPULATE allocates every page at CREATE; DESTROY of an unused one frees them. */
TEST_F(chan, create_populate_allocates_now)
{
	long long base = sc_shmem_kib();
	struct shmchan_create c;
	volatile char *p;
	int grown;

	ASSERT_LE(0, (int)base);
	ASSERT_EQ(0, sc_create(self->fd, self->name, POP_LEN, 0600,
			       SHMCHAN_CREATE_POPULATE, &c));
	EXPECT_EQ(SHMCHAN_CREATED, c.result);
	grown = shmem_grown(base);
	EXPECT_LE(POP_KIB - 1024, grown) TH_LOG("Shmem grew by %d KiB only", grown);
	p = sc_map(self->fd, POP_LEN, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, p[POP_LEN - 1]);
	munmap((void *)p, POP_LEN);
	EXPECT_EQ(0, sc_destroy(self->fd, self->name, 0));
	close(self->fd);
	self->fd = -1;
	grown = (int)(sc_poll_shmem_below(base + 1024, 3000) - base);
	EXPECT_GT(1024, grown) TH_LOG("Shmem still %d KiB up after the last user", grown);
}

/* Without POPULATE nothing is allocated until touched. */
TEST_F(chan, create_without_populate_allocates_nothing)
{
	long long base = sc_shmem_kib();

	ASSERT_LE(0, (int)base);
	ASSERT_EQ(0, sc_create(self->fd, self->name, POP_LEN, 0600, 0, NULL));
	EXPECT_GT(1024, shmem_grown(base));
}

/* POPULATE applies only when the call makes the channel. */
TEST_F(chan, create_populate_on_existing_ignored)
{
	int fd = sc_new(self->name, POP_LEN, 0600, SHMCHAN_CREATE_EXCL);
	long long base = sc_shmem_kib();
	struct shmchan_create c;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_create(self->fd, self->name, POP_LEN, 0600,
			       SHMCHAN_CREATE_POPULATE, &c));
	EXPECT_EQ(0U, c.result);
	EXPECT_GT(1024, shmem_grown(base));
	close(fd);
}

TEST_HARNESS_MAIN
