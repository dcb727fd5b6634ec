// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan growing while mapped (SHMCHAN_FEATURE_RESIZE): CREATE's reserve
 * (max_length), SHMCHAN_IOC_RESIZE with every errno the header lists, the
 * pages past the length (SIGBUS, then visible after a grow in every
 * mapping of two processes, without a remap), shrink (EBUSY while mapped
 * or waited on past the new end, contents gone), the generation (status
 * page, STAT) and SHMCHAN_IOC_RESIZE_WAIT (no lost wake against a racing
 * resize, across both CPUs, every wait bounded), the limits (EFBIG,
 * ENOSPC, EDQUOT, RLIMIT_FSIZE), concurrent resizes, transient and
 * destroyed or revoked channels.
 *
 * Built as a 32-bit program too (M32=1): the offsets need a 64-bit off_t.
 */
#define _FILE_OFFSET_BITS 64
#include "shmchan_test.h"
#include <sched.h>
#include <sys/resource.h>

/* Lengths are __u64, constants int: the harness compares them as given */
#pragma GCC diagnostic ignored "-Wsign-compare"

static int resize(int fd, __u64 length, __u32 flags, struct shmchan_resize *out)
{
	struct shmchan_resize r = {
		.size = sizeof(r),
		.flags = flags,
		.length = length,
	};
	int ret = sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r);

	if (out)
		*out = r;
	return ret;
}

/* @deadline_ns absolute CLOCK_MONOTONIC, 0 for none */
static int resize_wait(int fd, __u32 gen, __u64 deadline_ns,
		       struct shmchan_resize_wait *out)
{
	struct shmchan_resize_wait w = {
		.size = sizeof(w),
		.flags = deadline_ns ? SHMCHAN_WAIT_DEADLINE : 0,
		.generation = gen,
		.deadline_ns = deadline_ns,
	};
	int ret = sc_ioctl(fd, SHMCHAN_IOC_RESIZE_WAIT, &w);

	if (out)
		*out = w;
	return ret;
}

/* CREATE with a reserve; fd or -errno */
static int new_max(const char *name, __u64 length, __u64 max, __u32 flags,
		   struct shmchan_create *out)
{
	struct shmchan_create c = {
		.size = sizeof(c),
		.flags = flags,
		.name = sc_ptr(name),
		.length = length,
		.mode = 0666,
		.max_length = max,
	};
	int fd = sc_dev();
	int ret;

	if (fd < 0)
		return fd;
	ret = sc_ioctl(fd, SHMCHAN_IOC_CREATE, &c);
	if (out)
		*out = c;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

static const volatile struct shmchan_status *map_status(int fd)
{
	void *p = mmap(NULL, SC_PAGE, PROT_READ, MAP_SHARED, fd,
		       (off_t)SHMCHAN_STATUS_OFFSET);

	return p == MAP_FAILED ? NULL : p;
}

static __u64 stat_length(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? 0 : st.length;
}

static void on_usr1(int sig)
{
	(void)sig;
}

FIXTURE(grow) {
	const char *name;
	size_t page;
	int fd;			/* bound read-write, 1 page, reserve 8 */
	unsigned long long saved[4];
};

static const char *const params[] = {
	"max_total_size", "max_user_size", "max_channel_size", "max_user_channels",
};

FIXTURE_SETUP(grow)
{
	unsigned int i;

	SC_REQUIRE_DEVICE();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, sc_param_get(params[i], &self->saved[i]));
	self->page = SC_PAGE;
	self->name = sc_newname("grow");
	self->fd = new_max(self->name, self->page, 8 * self->page,
			   SHMCHAN_CREATE_EXCL, NULL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(grow)
{
	unsigned int i;

	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
	for (i = 0; i < 4; i++)
		sc_param_set(params[i], self->saved[i]);
}

TEST_F(grow, features)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_TRUE(f.features & SHMCHAN_FEATURE_RESIZE);
	EXPECT_EQ(SHMCHAN_RESIZE_FLAGS, f.resize_flags);
	EXPECT_EQ(0, f.__reserved3);
	EXPECT_EQ(SHMCHAN_FEATURES_SIZE_VER2, sizeof(f));
	EXPECT_EQ(SHMCHAN_CREATE_SIZE_VER1, sizeof(struct shmchan_create));
	EXPECT_EQ(SHMCHAN_STAT_SIZE_VER3, sizeof(struct shmchan_stat));
	EXPECT_EQ(SHMCHAN_RESIZE_SIZE_VER0, sizeof(struct shmchan_resize));
	EXPECT_EQ(SHMCHAN_RESIZE_WAIT_SIZE_VER0, sizeof(struct shmchan_resize_wait));
}

/* CREATE's reserve: defaults, rounding, EINVAL, EFBIG, the old struct. */
TEST_F(grow, create_reserve)
{
	const char *name = sc_newname("reserve");
	struct shmchan_create c;
	struct shmchan_stat st;
	int fd;

	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(self->page, st.length);
	EXPECT_EQ(8 * self->page, st.max_length);
	EXPECT_EQ(0, st.generation);

	/* Rounded up; out: the length and the reserve */
	fd = new_max(name, 1, self->page + 1, SHMCHAN_CREATE_EXCL, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->page, c.length);
	EXPECT_EQ(2 * self->page, c.max_length);
	close(fd);
	/* Opening by CREATE: a reserve no larger is fine, 0 too, larger not */
	fd = new_max(name, 1, 2 * self->page, 0, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, c.result);
	EXPECT_EQ(2 * self->page, c.max_length);
	close(fd);
	EXPECT_EQ(-EINVAL, new_max(name, 1, 3 * self->page, 0, NULL));
	fd = new_max(name, 1, 0, 0, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2 * self->page, c.max_length);
	close(fd);

	/* Below the length: EINVAL; past the cap: EFBIG, before the name */
	EXPECT_EQ(-EINVAL, new_max(sc_newname("r2"), 2 * self->page, self->page,
				   0, NULL));
	EXPECT_EQ(-EFBIG, new_max(sc_newname("r3"), self->page,
				  SHMCHAN_STATUS_OFFSET + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, new_max(name, self->page, ~0ULL, 0, NULL));
	fd = new_max(sc_newname("r4"), self->page, SHMCHAN_STATUS_OFFSET, 0, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(SHMCHAN_STATUS_OFFSET, c.max_length);
	close(fd);

	/* The first struct version (32 bytes): reserve = length */
	fd = sc_dev();
	ASSERT_LE(0, fd);
	memset(&c, 0, sizeof(c));
	c.size = SHMCHAN_CREATE_SIZE_VER0;
	c.name = sc_ptr(sc_newname("old"));
	c.length = 3 * self->page;
	c.mode = 0600;
	c.max_length = 0xdeadbeef;	/* beyond its size: never read */
	ASSERT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_CREATE, &c));
	EXPECT_EQ(0xdeadbeef, c.max_length);	/* nor written */
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(3 * self->page, st.max_length);
	EXPECT_EQ(-EFBIG, resize(fd, 4 * self->page, 0, NULL));
	/* The old STAT sizes still work */
	memset(&st, 0, sizeof(st));
	st.size = SHMCHAN_STAT_SIZE_VER1;
	EXPECT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_STAT, &st));
	EXPECT_EQ(0, st.max_length);
	close(fd);
}

/* Every errno of RESIZE, and what a no-op leaves alone. */
TEST_F(grow, resize_errors)
{
	struct shmchan_resize r;
	struct shmchan_stat st;
	const char *name;
	int fd, ro;

	fd = sc_dev();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, resize(fd, self->page, 0, NULL));
	close(fd);
	ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, resize(ro, 2 * self->page, 0, NULL));
	/* On a handle of a read-only device file, too */
	fd = open(SHMCHAN_DEVICE, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_open(fd, self->name, SHMCHAN_OPEN_RDONLY, NULL));
	EXPECT_EQ(-EBADF, resize(fd, 2 * self->page, 0, NULL));
	close(fd);

	EXPECT_EQ(-EINVAL, resize(self->fd, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, resize(self->fd, self->page, 2, NULL));
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.length = self->page;
	r.__reserved = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_RESIZE, &r));
	r.size = SHMCHAN_RESIZE_SIZE_VER0 - 1;
	r.__reserved = 0;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_RESIZE, &r));
	EXPECT_EQ(-EFBIG, resize(self->fd, 8 * self->page + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, resize(self->fd, SHMCHAN_STATUS_OFFSET + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, resize(self->fd, ~0ULL, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(self->page, st.length);
	EXPECT_EQ(0, st.generation);

	/* Same length (rounded): nothing changes */
	ASSERT_EQ(0, resize(self->fd, 1, 0, &r));
	EXPECT_EQ(self->page, r.length);
	EXPECT_EQ(8 * self->page, r.max_length);
	EXPECT_EQ(0, r.generation);
	/* To the whole reserve, through the read-only handle's eyes */
	ASSERT_EQ(0, resize(self->fd, 8 * self->page, 0, &r));
	EXPECT_EQ(8 * self->page, r.length);
	EXPECT_EQ(1, r.generation);
	EXPECT_EQ(8 * self->page, stat_length(ro));
	/* GROW: a smaller length is a no-op */
	ASSERT_EQ(0, resize(self->fd, self->page, SHMCHAN_RESIZE_GROW, &r));
	EXPECT_EQ(8 * self->page, r.length);
	EXPECT_EQ(1, r.generation);
	/* Without it, a shrink (nothing mapped) */
	ASSERT_EQ(0, resize(self->fd, 2 * self->page, 0, &r));
	EXPECT_EQ(2 * self->page, r.length);
	EXPECT_EQ(2, r.generation);
	close(ro);

	/* Destroyed: still resized through its handle; revoked: EIDRM */
	ASSERT_EQ(0, sc_rm(self->name, 0));
	ASSERT_EQ(0, resize(self->fd, 3 * self->page, 0, &r));
	EXPECT_EQ(3, r.generation);
	name = sc_newname("revoked");
	fd = new_max(name, self->page, 2 * self->page, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_destroy(fd, name, SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ(-EIDRM, resize(fd, 2 * self->page, 0, NULL));
	EXPECT_EQ(-EIDRM, resize_wait(fd, 0, 0, NULL));
	close(fd);
}

/*
 * The heart of it: two processes map the whole reserve; past the length
 * every access is SIGBUS (BUS_ADRERR) and maps nothing; after one of them
 * grows the channel, both see the new pages through the same mappings,
 * and each other's writes in them.
 */
TEST_F(grow, sigbus_then_visible)
{
	size_t len = 8 * self->page;
	struct sc_pipe to_child, to_parent;
	volatile char *p;
	pid_t pid;
	int code, bus_code = 0;

	/* Past the reserve: ENXIO, as past a channel's end */
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(sc_map(self->fd, len + self->page,
						  PROT_READ, 0)));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(sc_map(self->fd, self->page, PROT_READ,
						  (off_t)len)));
	EXPECT_EQ(ENXIO, errno);

	p = sc_map(self->fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'a';
	EXPECT_EQ(SIGBUS, sc_probe_code(p + self->page, 0, &bus_code));
	EXPECT_EQ(BUS_ADRERR, bus_code);
	EXPECT_EQ(SIGBUS, sc_probe(p + len - 1, 1));
	/* WAIT and WAKE past the length: EINVAL, as past an end */
	EXPECT_EQ(-EINVAL, sc_wait(self->fd, self->page, 0, 0));
	EXPECT_EQ(-EINVAL, sc_wake(self->fd, self->page, 1));

	ASSERT_EQ(0, sc_pipe_init(&to_child));
	ASSERT_EQ(0, sc_pipe_init(&to_parent));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, 0);
		volatile char *q;

		CHILD_TRUE(fd >= 0);
		q = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		CHILD_EQ('a', q[0]);
		CHILD_EQ(SIGBUS, sc_probe(q + 3 * self->page, 0));
		/* Grow from here, write into the new pages */
		CHILD_EQ(0, resize(fd, len, 0, NULL));
		CHILD_EQ(0, q[3 * self->page]);
		q[3 * self->page] = 'c';
		q[len - 1] = 'z';
		CHILD_EQ(0, sc_send(&to_parent, 'g'));
		/* ... and see the parent's writes through the old mapping */
		CHILD_EQ('p', sc_recv(&to_child, 20000));
		CHILD_EQ('P', q[5 * self->page]);
		_exit(0);
	}
	ASSERT_EQ('g', sc_recv(&to_parent, 20000));
	/* No remap: the same mapping, which faulted SIGBUS before */
	EXPECT_EQ('c', p[3 * self->page]);
	EXPECT_EQ('z', p[len - 1]);
	EXPECT_EQ(0, sc_probe(p + self->page, 1));
	p[5 * self->page] = 'P';
	ASSERT_EQ(0, sc_send(&to_child, 'p'));
	code = sc_reap(pid, 30000);
	EXPECT_EQ(0, code);
	/* Words in the new pages wait and wake */
	EXPECT_EQ(-EAGAIN, sc_wait(self->fd, 3 * self->page, 0, 0));
	EXPECT_EQ(0, sc_wake(self->fd, len - 4, 1));
	munmap((void *)p, len);
}

/* A shrink: EBUSY while mapped or waited on past the new end. */
TEST_F(grow, shrink)
{
	size_t len = 8 * self->page;
	volatile char *p, *q;
	struct shmchan_stat st;
	struct sc_pipe ready;
	pid_t pid;
	int code;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, resize(self->fd, len, 0, NULL));
	p = sc_map(self->fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 1;
	p[4 * self->page] = 4;
	p[7 * self->page] = 7;
	/* A mapping of the reserve blocks every shrink, touched or not */
	EXPECT_EQ(-EBUSY, resize(self->fd, 7 * self->page, 0, NULL));
	munmap((void *)p, len);
	/* A mapping of the first four pages does not block a shrink to 4 */
	q = sc_map(self->fd, 4 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ(-EBUSY, resize(self->fd, 3 * self->page, 0, NULL));
	/* A one-page mapping of page 6, in another process, read-only */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		void *r;

		CHILD_TRUE(fd >= 0);
		r = mmap(NULL, self->page, PROT_READ, MAP_SHARED, fd,
			 (off_t)(6 * self->page));
		CHILD_TRUE(r != MAP_FAILED);
		/* The writer's shrink below 7 pages must fail while it exists */
		CHILD_EQ(0, sc_send(&ready, 'm'));
		pause();
		_exit(0);
	}
	/* Once mmap() returned: nmaps rises before the VMA is linked */
	ASSERT_EQ('m', sc_recv(&ready, 20000));
	EXPECT_EQ(-EBUSY, resize(self->fd, 4 * self->page, 0, NULL));
	EXPECT_EQ(-EBUSY, resize(self->fd, 6 * self->page, 0, NULL));
	kill(pid, SIGKILL);
	code = sc_reap(pid, 20000);
	EXPECT_EQ(1000 + SIGKILL, code);
	ASSERT_EQ(0, resize(self->fd, 4 * self->page, 0, NULL));
	EXPECT_EQ(4 * self->page, stat_length(self->fd));
	/* What was past it is gone: zero after a regrow */
	EXPECT_EQ(0, resize(self->fd, len, 0, NULL));
	p = sc_map(self->fd, len, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(0, p[4 * self->page]);
	EXPECT_EQ(0, p[7 * self->page]);
	munmap((void *)p, len);
	munmap((void *)q, 4 * self->page);

	/* A WAIT on a word past the new end blocks it too */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, sc_wait(fd, 6 * self->page, 0, sc_now_ns() + 30 * SC_NSEC));
		_exit(0);
	}
	ASSERT_EQ(1, sc_poll_nwaiters(self->fd, 1, 20000));
	EXPECT_EQ(-EBUSY, resize(self->fd, 6 * self->page, 0, NULL));
	EXPECT_EQ(0, resize(self->fd, 7 * self->page, 0, NULL));
	EXPECT_EQ(1, sc_wake(self->fd, 6 * self->page, 1));
	EXPECT_EQ(0, sc_reap(pid, 20000));
	ASSERT_EQ(0, resize(self->fd, self->page, 0, NULL));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(self->page, st.length);
	EXPECT_EQ(5, st.generation);
}

/*
 * The generation on the status page and in STAT, and RESIZE_WAIT: at once
 * on a stale generation, ETIMEDOUT, EINVAL, EIDRM when revoked meanwhile.
 */
TEST_F(grow, generation)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	struct shmchan_resize_wait w;
	struct shmchan_stat st;
	struct sc_pipe ready;
	int code = -1, i;
	__u64 t0;
	pid_t pid;
	int fd;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	EXPECT_EQ(0, s->generation);
	EXPECT_EQ(self->page, s->length);
	ASSERT_EQ(0, resize(self->fd, 3 * self->page, 0, NULL));
	EXPECT_EQ(1, s->generation);
	EXPECT_EQ(3 * self->page, s->length);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(1, st.generation);

	/* Stale: at once, with what is now */
	ASSERT_EQ(0, resize_wait(self->fd, 0, 0, &w));
	EXPECT_EQ(1, w.generation);
	EXPECT_EQ(3 * self->page, w.length);
	/* Current: sleeps to the deadline */
	t0 = sc_now_ns();
	EXPECT_EQ(-ETIMEDOUT, resize_wait(self->fd, 1, t0 + SC_NSEC / 20, NULL));
	EXPECT_LE(t0 + SC_NSEC / 20, sc_now_ns());
	EXPECT_EQ(-ETIMEDOUT, resize_wait(self->fd, 1, 1, NULL));
	/* Flags and reserved fields */
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.flags = SHMCHAN_WAIT_DEATHS;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_RESIZE_WAIT, &w));
	w.flags = 0;
	w.deadline_ns = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_RESIZE_WAIT, &w));
	w.deadline_ns = 0;
	w.__reserved = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_RESIZE_WAIT, &w));
	fd = sc_dev();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, resize_wait(fd, 0, 0, NULL));
	close(fd);

	/* A signal without SA_RESTART: EINTR (sent until the wait saw one) */
	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		CHILD_EQ(0, sigaction(SIGUSR1, &sa, NULL));
		CHILD_EQ(0, sc_send(&ready, 'r'));
		CHILD_EQ(-EINTR, resize_wait(self->fd, 1, sc_now_ns() + 30 * SC_NSEC,
					     NULL));
		_exit(0);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	for (i = 0; i < 300 && !sc_finished(pid, &code); i++) {
		kill(pid, SIGUSR1);
		sc_msleep(50);
	}
	if (code == -1)
		code = sc_reap(pid, 20000);
	EXPECT_EQ(0, code);

	/* A revoke ends a wait, read-only handle, in another process */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		CHILD_TRUE(ro >= 0);
		CHILD_EQ(-EIDRM, resize_wait(ro, 1, sc_now_ns() + 30 * SC_NSEC, NULL));
		_exit(0);
	}
	sc_msleep(100);
	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	EXPECT_EQ(0, sc_reap(pid, 20000));
	munmap((void *)s, SC_PAGE);
}

/*
 * No lost wake: a waiter reads the generation off the status page, tells
 * the writer, and arms RESIZE_WAIT on it while, on the other CPU, the
 * writer resizes at that very moment. Either the wait sees the new generation at once or
 * it is woken; a lost wake ends in ETIMEDOUT and fails. Many rounds, each
 * bounded.
 */
TEST_F(grow, no_lost_wake)
{
	struct sc_pipe go, armed, done;
	int rounds = 300, i;
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&go));
	ASSERT_EQ(0, sc_pipe_init(&done));
	ASSERT_EQ(0, sc_pipe_init(&armed));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		const volatile struct shmchan_status *s;

		CHILD_TRUE(ro >= 0);
		s = map_status(ro);
		CHILD_TRUE(s != NULL);
		for (i = 0; i < rounds; i++) {
			struct shmchan_resize_wait w;
			__u32 gen;

			CHILD_EQ('g', sc_recv(&go, 20000));
			gen = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
			if (gen != (__u32)i)
				CHILD_FAIL("round %d: generation %u", i, gen);
			/* The writer resizes as we arm on the old generation */
			CHILD_EQ(0, sc_send(&armed, 'a'));
			CHILD_EQ(0, resize_wait(ro, gen, sc_now_ns() + 10 * SC_NSEC, &w));
			CHILD_EQ((__u32)i + 1, w.generation);
			CHILD_EQ((__u64)(i % 2 ? 1 : 2) * self->page, w.length);
			CHILD_EQ(0, sc_send(&done, 'd'));
		}
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		/* Let the child go, and resize as it arms */
		ASSERT_EQ(0, sc_send(&go, 'g'));
		ASSERT_EQ('a', sc_recv(&armed, 20000));
		if (i % 3 == 1)
			sched_yield();
		ASSERT_EQ(0, resize(self->fd, (i % 2 ? 1 : 2) * self->page, 0, NULL));
		ASSERT_EQ('d', sc_recv(&done, 20000)) TH_LOG("round %d", i);
	}
	EXPECT_EQ(0, sc_reap(pid, 20000));
}

/* Concurrent growers: serialized, none lost, the largest wins. */
TEST_F(grow, concurrent)
{
	const volatile struct shmchan_status *s = map_status(self->fd);
	pid_t pids[2];
	struct shmchan_stat st;
	int k;

	ASSERT_NE(SC_P(NULL), SC_P(s));
	for (k = 0; k < 2; k++) {
		pids[k] = sc_fork();
		ASSERT_LE(0, pids[k]);
		if (pids[k] == 0) {
			int fd = sc_attach(self->name, 0);
			int i;

			CHILD_TRUE(fd >= 0);
			for (i = 0; i < 2000; i++) {
				__u64 want = (1 + (i + k) % 8) * self->page;
				struct shmchan_resize r;

				CHILD_EQ(0, resize(fd, want, SHMCHAN_RESIZE_GROW, &r));
				CHILD_TRUE(r.length >= want);
				/* shrinks, racing the other's grows */
				if (i % 50 == 49)
					CHILD_EQ(0, resize(fd, self->page, 0, NULL));
			}
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++)
		EXPECT_EQ(0, sc_reap(pids[k], 120000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(st.length, s->length);
	EXPECT_EQ(st.generation, s->generation);
	EXPECT_LT(0, st.generation);
	munmap((void *)s, SC_PAGE);
}

/* Transient channels grow like any; the name still goes with the last user. */
TEST_F(grow, transient)
{
	const char *name = sc_newname("trans");
	volatile char *p;
	int fd;

	fd = new_max(name, self->page, 4 * self->page,
		     SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT, NULL);
	ASSERT_LE(0, fd);
	p = sc_map(fd, 4 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(SIGBUS, sc_probe(p + 2 * self->page, 0));
	ASSERT_EQ(0, resize(fd, 4 * self->page, 0, NULL));
	p[3 * self->page] = 3;
	close(fd);
	EXPECT_EQ(1, sc_exists(name));
	EXPECT_EQ(3, p[3 * self->page]);
	munmap((void *)p, 4 * self->page);
	EXPECT_EQ(0, sc_exists(name));
}

/* The module's limits and RLIMIT_FSIZE apply to a grow; the reserve is free. */
TEST_F(grow, limits)
{
	unsigned long long total;
	struct shmchan_stat st;
	int fd;

	/* max_channel_size: a reserve above it is fine, a grow past it not */
	ASSERT_EQ(0, sc_param_set("max_channel_size", 4 * self->page));
	fd = new_max(sc_newname("big"), self->page, 64 * self->page, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, resize(fd, 4 * self->page, 0, NULL));
	EXPECT_EQ(-EFBIG, resize(fd, 5 * self->page, 0, NULL));
	ASSERT_EQ(0, sc_param_set("max_channel_size", 0));

	/* max_total_size: ENOSPC for the bytes added */
	ASSERT_EQ(0, sc_param_get("max_total_size", &total));
	ASSERT_EQ(0, sc_param_set("max_total_size", 1));
	EXPECT_EQ(-ENOSPC, resize(fd, 5 * self->page, 0, NULL));
	/* A shrink is always allowed, and gives the bytes back */
	EXPECT_EQ(0, resize(fd, 2 * self->page, 0, NULL));
	ASSERT_EQ(0, sc_param_set("max_total_size", total));
	EXPECT_EQ(0, resize(fd, 5 * self->page, 0, NULL));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(5 * self->page, st.length);
	close(fd);

	/*
	 * The kernel's overcommit accounting of shmem, as for SysV shm: even
	 * the default heuristic refuses more than RAM and swap at once.
	 */
	{
		__u64 ram = (__u64)sysconf(_SC_PHYS_PAGES) * self->page;
		__u64 huge = 4 * ram + 64 * self->page;

		ASSERT_EQ(0, sc_param_set("max_total_size", 0));
		fd = new_max(sc_newname("commit"), self->page, huge, 0, NULL);
		ASSERT_LE(0, fd);
		EXPECT_EQ(-ENOMEM, resize(fd, huge, 0, NULL));
		ASSERT_EQ(0, sc_stat(fd, &st));
		EXPECT_EQ(self->page, st.length);
		EXPECT_EQ(0, st.generation);
		close(fd);
	}
}

/* EDQUOT and RLIMIT_FSIZE, as an unprivileged user. */
TEST_F(grow, user_limits)
{
	pid_t pid;

	ASSERT_EQ(0, sc_param_set("max_user_size", 4 * self->page));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char name[64];
		struct rlimit rl;
		int fd, shrunk, grown;

		snprintf(name, sizeof(name), "grow-quota-%d", (int)getpid());
		CHILD_EQ(0, sc_become(SC_NOBODY, SC_NOBODY));
		fd = new_max(name, self->page, 64 * self->page,
			     SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT, NULL);
		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, resize(fd, 4 * self->page, 0, NULL));
		CHILD_EQ(-EDQUOT, resize(fd, 5 * self->page, 0, NULL));
		CHILD_EQ(0, resize(fd, 2 * self->page, 0, NULL));
		CHILD_EQ(0, resize(fd, 4 * self->page, 0, NULL));
		/*
		 * RLIMIT_FSIZE: EFBIG, and no SIGXFSZ (it would kill us). The
		 * limit is lifted again before anything is checked: a failure
		 * message written to a log larger than it would raise SIGXFSZ.
		 */
		CHILD_EQ(0, getrlimit(RLIMIT_FSIZE, &rl));
		rl.rlim_cur = 3 * self->page;
		CHILD_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
		shrunk = resize(fd, 2 * self->page, 0, NULL);
		grown = resize(fd, 4 * self->page, 0, NULL);
		rl.rlim_cur = rl.rlim_max;
		CHILD_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
		CHILD_EQ(0, shrunk);
		CHILD_EQ(-EFBIG, grown);
		close(fd);
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 20000));
}

TEST_HARNESS_MAIN
