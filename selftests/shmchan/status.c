// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan status page: mmap() of a bound handle at SHMCHAN_STATUS_OFFSET
 * maps the channel's struct shmchan_status read-only. It shows what STAT
 * shows (deaths, the destroyed/revoked/transient bits), changes before
 * the waits a death or a revoke ends are woken, refuses every other kind
 * of mapping with the header's errnos, is not one of the channel's
 * mappings (nmaps, transient names), and outlives the handle, DESTROY and
 * the channel itself. Also CREATE's EFBIG bound, which keeps channels
 * below that offset.
 *
 * Built as a 32-bit program too (M32=1): the offset needs a 64-bit off_t.
 */
#define _FILE_OFFSET_BITS 64
#include "shmchan_test.h"

FIXTURE(status) {
	int fd;			/* bound read-write */
	const char *name;
	size_t page;
};

FIXTURE_SETUP(status)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->name = sc_newname("status");
	self->fd = sc_new(self->name, 2 * self->page, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(status)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

static const volatile struct shmchan_status *map_status(int fd)
{
	void *p = mmap(NULL, SC_PAGE, PROT_READ, MAP_SHARED, fd,
		       (off_t)SHMCHAN_STATUS_OFFSET);

	return p == MAP_FAILED ? NULL : p;
}

/* mmap() of the status page with these arguments: 0 or -errno. */
static int try_map(int fd, size_t len, int prot, int flags, __u64 off)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/* One 64-bit load, as the header promises a library may do. */
static void load_status(const volatile struct shmchan_status *s, __u32 *deaths,
			__u32 *state)
{
	__u64 w = __atomic_load_n((const __u64 *)s, __ATOMIC_ACQUIRE);
	struct shmchan_status copy;

	memcpy(&copy, &w, sizeof(w));
	*deaths = copy.deaths;
	*state = copy.state;
}

static int wait_deaths(int fd, __u32 seen, __u64 deadline)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = SHMCHAN_WAIT_DEATHS | SHMCHAN_WAIT_DEADLINE,
		.offset = 0,
		.expected = 0,
		.deadline_ns = deadline,
		.deaths = seen,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WAIT, &w);
}

/*
 * A child that binds a handle (a use) and exits with it: one death. It
 * closes the handle it inherited first (@inherited, -1 for none).
 */
static void one_death(struct __test_metadata *_metadata, const char *name,
		      int inherited)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (inherited >= 0)
			close(inherited);
		fd = sc_attach(name, 0);

		_exit(fd < 0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
}

/*
 * What ends a page_reader()'s wait: a death (the page's deaths count is
 * read) or a revoke (its state is read).
 */
enum woken_by { BY_DEATH, BY_REVOKE };

/*
 * A child asleep in a WAIT on @fd (death-aware for BY_DEATH) that reads
 * the page @s the moment it is woken and sends what it saw through @res:
 * the page must have changed before the wake, not after. It exits 0 if
 * the wait ended with -EOWNERDEAD (BY_DEATH) or -EIDRM (BY_REVOKE).
 * Returns once the child is counted as a waiter (a bounded poll), so the
 * death or revoke that follows cannot come before the sleep.
 */
static pid_t page_reader(struct __test_metadata *_metadata, int fd,
			 const volatile struct shmchan_status *s,
			 enum woken_by by, struct sc_pipe *res)
{
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(res));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 end = sc_now_ns() + 30 * SC_NSEC;
		int r = by == BY_DEATH ? wait_deaths(fd, 0, end) : sc_wait(fd, 0, 0, end);
		__u32 seen = by == BY_DEATH ? s->deaths : s->state;

		CHILD_EQ(0, sc_send_buf(res, &seen, sizeof(seen)));
		_exit(r == (by == BY_DEATH ? -EOWNERDEAD : -EIDRM) ? 0 : 2);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(fd, 1, 10000));
	return pid;
}

/* Reaps a page_reader() (it must exit 0) and gives what it saw. */
static __u32 page_reader_saw(struct __test_metadata *_metadata, pid_t pid,
			     struct sc_pipe *res)
{
	__u32 seen = 0;

	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_recv_buf(res, &seen, sizeof(seen), 5000));
	return seen;
}

TEST_F(status, feature_advertised)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ(SHMCHAN_FEATURE_STATUS_PAGE,
		  f.features & SHMCHAN_FEATURE_STATUS_PAGE);
	EXPECT_EQ((size_t)64, sizeof(struct shmchan_status));
	EXPECT_EQ((size_t)SHMCHAN_STATUS_SIZE_VER0, sizeof(struct shmchan_status));
}

/* A fresh channel: zeroes, and what STAT says. */
TEST_F(status, matches_stat)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_stat st;
	__u32 deaths, state;
	int i;

	ASSERT_NE(SC_P(NULL), SC_P(s)) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	load_status(s, &deaths, &state);
	EXPECT_EQ(st.deaths, deaths);
	EXPECT_EQ(st.state & ~SHMCHAN_STATE_WRITABLE, state);
	EXPECT_EQ(0U, deaths);
	EXPECT_EQ(0U, state);
	/* Growing's words: the length as STAT has it, no resize yet */
	EXPECT_EQ(st.length, s->length);
	EXPECT_EQ(0U, s->generation);
	EXPECT_EQ(0U, s->__reserved0);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0ULL, s->__reserved[i]);
	/* The rest of the page is zero too. */
	for (i = (int)sizeof(*s); i < (int)self->page; i++)
		if (((const volatile char *)s)[i])
			break;
	EXPECT_EQ((int)self->page, i);
	munmap((void *)s, self->page);
}

TEST_F(status, transient_bit)
{
	const char *name = sc_newname("status-t");
	int fd = sc_new(name, self->page, 0600,
			SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	const volatile struct shmchan_status *s;
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	s = map_status(fd);
	ASSERT_NE(SC_P(NULL), SC_P(s));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ((__u32)SHMCHAN_STATE_TRANSIENT, s->state);
	EXPECT_EQ(st.state & ~SHMCHAN_STATE_WRITABLE, s->state);
	munmap((void *)s, self->page);
	close(fd);
}

/* A death raises the page's count, before a death-aware waiter wakes. */
TEST_F(status, death_counted_on_page)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_stat st;
	struct sc_pipe res;
	pid_t waiter;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	waiter = page_reader(_metadata, self->fd, s, BY_DEATH, &res);
	one_death(_metadata, self->name, self->fd);
	/* Woken with EOWNERDEAD: the page already said so. */
	EXPECT_EQ(1U, page_reader_saw(_metadata, waiter, &res));
	/* The waiter used the handle: its own exit counted as well. */
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(st.deaths, s->deaths);
	EXPECT_LE(1U, s->deaths);
	/* A stale count ends the wait at once; the page's is current. */
	EXPECT_EQ(-EOWNERDEAD, wait_deaths(self->fd, 0, sc_now_ns() + 20 * SC_NSEC));
	EXPECT_EQ(-ETIMEDOUT, wait_deaths(self->fd, s->deaths, sc_now_ns() + 20000000ULL));
	munmap((void *)s, self->page);
}

TEST_F(status, destroy_sets_destroyed)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_stat st;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	ASSERT_EQ(0, sc_destroy(self->fd, self->name, 0));
	EXPECT_EQ((__u32)SHMCHAN_STATE_DESTROYED, s->state);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(st.state & ~SHMCHAN_STATE_WRITABLE, s->state);
	munmap((void *)s, self->page);
}

/* Revoke sets the bit before the waits it ends are woken. */
TEST_F(status, revoke_sets_revoked_before_wake)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_stat st;
	struct sc_pipe res;
	pid_t waiter;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	waiter = page_reader(_metadata, self->fd, s, BY_REVOKE, &res);
	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ((__u32)(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED),
		  page_reader_saw(_metadata, waiter, &res));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(st.state & ~SHMCHAN_STATE_WRITABLE, s->state);
	munmap((void *)s, self->page);
}

/* ---- the mapping's rules ---------------------------------------------------- */

TEST_F(status, prot_write_eacces)
{
	int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

	ASSERT_LE(0, ro);
	/* Read-only for every handle, a read-write one too. */
	EXPECT_EQ(-EACCES, try_map(self->fd, self->page, PROT_READ | PROT_WRITE,
				   MAP_SHARED, SHMCHAN_STATUS_OFFSET));
	EXPECT_EQ(-EACCES, try_map(ro, self->page, PROT_WRITE, MAP_SHARED,
				   SHMCHAN_STATUS_OFFSET));
	EXPECT_EQ(0, try_map(ro, self->page, PROT_READ, MAP_SHARED,
			     SHMCHAN_STATUS_OFFSET));
	close(ro);
}

TEST_F(status, prot_exec_eperm)
{
	EXPECT_EQ(-EPERM, try_map(self->fd, self->page, PROT_READ | PROT_EXEC,
				  MAP_SHARED, SHMCHAN_STATUS_OFFSET));
}

TEST_F(status, map_private_einval)
{
	EXPECT_EQ(-EINVAL, try_map(self->fd, self->page, PROT_READ, MAP_PRIVATE,
				   SHMCHAN_STATUS_OFFSET));
}

TEST_F(status, more_than_a_page_enxio)
{
	EXPECT_EQ(-ENXIO, try_map(self->fd, 2 * self->page, PROT_READ, MAP_SHARED,
				  SHMCHAN_STATUS_OFFSET));
	/* Past the status page, and between the channel's end and it. */
	EXPECT_EQ(-ENXIO, try_map(self->fd, self->page, PROT_READ, MAP_SHARED,
				  SHMCHAN_STATUS_OFFSET + self->page));
	EXPECT_EQ(-ENXIO, try_map(self->fd, self->page, PROT_READ, MAP_SHARED,
				  SHMCHAN_STATUS_OFFSET - self->page));
	EXPECT_EQ(-ENXIO, try_map(self->fd, self->page, PROT_READ, MAP_SHARED,
				  4 * (__u64)self->page));
}

TEST_F(status, unbound_ebadfd)
{
	int fd = sc_dev();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, try_map(fd, self->page, PROT_READ, MAP_SHARED,
				   SHMCHAN_STATUS_OFFSET));
	close(fd);
}

/* Never writable later: mprotect() refuses, writes fault. */
TEST_F(status, stays_read_only)
{
	const volatile struct shmchan_status *s = map_status(self->fd);

	ASSERT_NE(SC_P(NULL), SC_P(s));
	EXPECT_EQ(-1, mprotect((void *)s, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect((void *)s, self->page, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(SIGSEGV, sc_probe((volatile char *)s, 1));
	EXPECT_EQ(0, sc_probe((volatile char *)s, 0));
	/* mremap() cannot grow it. */
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(mremap((void *)s, self->page,
						2 * self->page, 0)));
	munmap((void *)s, self->page);
}

/* Zapped (MADV_DONTNEED), it comes back on the next read, still live. */
TEST_F(status, refaults_after_dontneed)
{
	const volatile struct shmchan_status *s = map_status(self->fd);

	ASSERT_NE(SC_P(NULL), SC_P(s));
	EXPECT_EQ(0, madvise((void *)s, self->page, MADV_DONTNEED));
	EXPECT_EQ(0U, s->deaths);
	one_death(_metadata, self->name, self->fd);
	EXPECT_EQ(1U, s->deaths);
	munmap((void *)s, self->page);
}

/* ---- lifetime ---------------------------------------------------------------- */

/* Not one of the channel's mappings, and no user of it. */
TEST_F(status, not_counted_in_nmaps)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_stat st;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0ULL, st.nmaps);
	EXPECT_EQ(1ULL, st.nhandles);
	munmap((void *)s, self->page);
}

TEST_F(status, keeps_no_transient_name)
{
	const char *name = sc_newname("status-t");
	int fd = sc_new(name, self->page, 0600,
			SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	const volatile struct shmchan_status *s;

	ASSERT_LE(0, fd);
	s = map_status(fd);
	ASSERT_NE(SC_P(NULL), SC_P(s));
	close(fd);
	EXPECT_EQ(0, sc_poll_exists(name, 0, 5000));
	/* The page is the last thing left of the channel: still readable. */
	EXPECT_EQ((__u32)(SHMCHAN_STATE_TRANSIENT | SHMCHAN_STATE_DESTROYED), s->state);
	munmap((void *)s, self->page);
}

/* Outlives close() of the handle, DESTROY and the channel's memory. */
TEST_F(status, survives_close_and_destroy)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	int fd;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	one_death(_metadata, self->name, self->fd);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(1U, s->deaths);
	/* Another handle revokes; the channel is then freed with it. */
	fd = sc_attach(self->name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_destroy(fd, self->name, SHMCHAN_DESTROY_REVOKE));
	close(fd);
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(1U, s->deaths);
	EXPECT_EQ((__u32)(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED), s->state);
	munmap((void *)s, self->page);
}

/* A fork()ed child reads the same page, and sees what happens after. */
TEST_F(status, shared_across_fork)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct sc_pipe go;
	pid_t pid;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	ASSERT_EQ(0, sc_pipe_init(&go));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0U, s->deaths);
		CHILD_EQ('g', sc_recv(&go, 20000));
		CHILD_EQ((__u32)SHMCHAN_STATE_DESTROYED, s->state);
		_exit(0);
	}
	ASSERT_EQ(0, sc_destroy(self->fd, self->name, 0));
	ASSERT_EQ(0, sc_send(&go, 'g'));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ((__u32)SHMCHAN_STATE_DESTROYED, s->state);
	munmap((void *)s, self->page);
}

/* ---- channels end below the status page: CREATE's EFBIG --------------------- */

/* What the limits or shmem's accounting say: anything but EFBIG. */
static int refused_by_limits(int r)
{
	return r == -ENOSPC || r == -EDQUOT || r == -ENOMEM;
}

TEST_F(status, create_length_bound_efbig)
{
	const char *name = sc_newname("status-big");
	int dev = sc_dev();
	int r;

	ASSERT_LE(0, dev);
	EXPECT_EQ(-EFBIG, sc_create(dev, name, SHMCHAN_STATUS_OFFSET + 1, 0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(dev, name, SHMCHAN_STATUS_OFFSET + self->page,
				    0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(dev, name, 1ULL << 62, 0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(dev, name, 1ULL << 62, 0600,
				    SHMCHAN_CREATE_POPULATE, NULL));
	/* The bound itself is a length a channel may have. */
	r = sc_create(dev, name, SHMCHAN_STATUS_OFFSET, 0600, 0, NULL);
	EXPECT_TRUE(refused_by_limits(r)) TH_LOG("2^43 bytes: %d", r);
	r = sc_create(dev, name, SHMCHAN_STATUS_OFFSET - self->page + 1, 0600, 0, NULL);
	EXPECT_TRUE(refused_by_limits(r)) TH_LOG("2^43 - page + 1 bytes: %d", r);
	EXPECT_EQ(0, sc_exists(name));
	EXPECT_EQ(-EBADFD, sc_wake(dev, 0, 1));
	close(dev);
}

TEST_HARNESS_MAIN
