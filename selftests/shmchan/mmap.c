// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan mappings: mmap rules and errnos, read-only handles, sharing
 * between processes (at different addresses, across fork, after close),
 * VMA counting, /proc/PID/maps, a 256 MiB channel, and process-shared
 * pthread objects and futexes living in a channel.
 */
#include "shmchan_test.h"
#include <pthread.h>
#include <linux/futex.h>

#define NPAGES 4

FIXTURE(map) {
	int fd;			/* bound read-write to @name */
	const char *name;
	size_t page, len;
};

FIXTURE_SETUP(map)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->len = NPAGES * self->page;
	self->name = sc_newname("map");
	self->fd = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(map)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

static __u64 map_nmaps(int fd)
{
	struct shmchan_stat st;

	if (sc_stat(fd, &st))
		return ~0ULL;
	return st.nmaps;
}

/* ---- rules ------------------------------------------------------------------------ */

TEST_F(map, shared_rw)
{
	volatile __u32 *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	size_t i;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	/* New channels read as zero. */
	for (i = 0; i < self->len / 4; i++) {
		ASSERT_EQ(0U, p[i]);
	}
	for (i = 0; i < self->len / 4; i++)
		p[i] = (__u32)i * 2654435761U;
	for (i = 0; i < self->len / 4; i++) {
		ASSERT_EQ((__u32)i * 2654435761U, p[i]);
	}
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	EXPECT_EQ(0, munmap((void *)p, self->len));
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

TEST_F(map, private_einval)
{
	void *p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

TEST_F(map, offset_beyond_end_enxio)
{
	void *p = sc_map(self->fd, self->page, PROT_READ, (off_t)self->len);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(ENXIO, errno);
	p = sc_map(self->fd, self->page, PROT_READ, (off_t)(100 * self->page));
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

TEST_F(map, length_beyond_end_enxio)
{
	void *p = sc_map(self->fd, self->len + self->page, PROT_READ, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(ENXIO, errno);
	p = sc_map(self->fd, 2 * self->page, PROT_READ, (off_t)(self->len - self->page));
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

/* A mapping at an offset shows that part of the channel. */
TEST_F(map, offset_within)
{
	volatile char *all = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	volatile char *last;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(all));
	last = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE,
		      (off_t)(self->len - self->page));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(last));
	all[self->len - self->page + 5] = 'x';
	EXPECT_EQ('x', last[5]);
	last[self->page - 1] = 'y';
	EXPECT_EQ('y', all[self->len - 1]);
	EXPECT_EQ(2ULL, map_nmaps(self->fd));
	munmap((void *)all, self->len);
	munmap((void *)last, self->page);
}

TEST_F(map, exec_eperm)
{
	void *p = sc_map(self->fd, self->page, PROT_READ | PROT_EXEC, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EPERM, errno);
	p = sc_map(self->fd, self->page, PROT_EXEC, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

TEST_F(map, mprotect_cannot_add_exec)
{
	void *p = sc_map(self->fd, self->page, PROT_READ, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	munmap(p, self->page);
}

/*
 * mremap() grows a mapping as a file's: inside the channel its pages,
 * past the end SIGBUS (more in mlock.c).
 */
TEST_F(map, mremap_grow_like_file)
{
	char *p = sc_map(self->fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	char *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'g';
	q = mremap(p, 2 * self->page, 3 * self->page, MREMAP_MAYMOVE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('g', q[0]);
	q[2 * self->page] = 'h';
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	munmap(q, 3 * self->page);

	/* Past the end. */
	p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	q = mremap(p, self->len, self->len + 16 * self->page, MREMAP_MAYMOVE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('h', q[2 * self->page]);
	EXPECT_EQ(SIGBUS, sc_probe(q + self->len, 0));
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	munmap(q, self->len + 16 * self->page);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

/* Moving or shrinking a mapping is fine, and the count follows. */
TEST_F(map, mremap_move_and_shrink)
{
	char *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	char *dst, *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[self->page] = 'm';
	dst = mmap(NULL, self->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(dst));
	q = mremap(p, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(SC_P(dst), SC_P(q));
	EXPECT_EQ('m', q[self->page]);
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	p = mremap(q, self->len, 2 * self->page, 0);
	ASSERT_EQ(SC_P(q), SC_P(p));
	EXPECT_EQ('m', p[self->page]);
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	munmap(p, 2 * self->page);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

/* shmem pages: dropping the PTEs does not drop the data. */
TEST_F(map, madvise_dontneed_keeps_data)
{
	volatile char *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[3 * self->page + 9] = 'k';
	ASSERT_EQ(0, madvise((void *)p, self->len, MADV_DONTNEED));
	EXPECT_EQ('k', p[3 * self->page + 9]);
	munmap((void *)p, self->len);
}

/* ---- read-only handles ------------------------------------------------------ */

TEST_F(map, rdonly_handle_maps_read)
{
	volatile char *w = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	volatile char *r;
	int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(w));
	ASSERT_LE(0, ro);
	r = sc_map(ro, self->len, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(r));
	w[42] = 'r';
	EXPECT_EQ('r', r[42]);
	/* Writing through it faults. */
	EXPECT_EQ(SIGSEGV, sc_probe(r + 42, 1));
	EXPECT_EQ('r', w[42]);
	munmap((void *)w, self->len);
	munmap((void *)r, self->len);
	close(ro);
}

TEST_F(map, rdonly_handle_prot_write_eacces)
{
	int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	void *p;

	ASSERT_LE(0, ro);
	p = sc_map(ro, self->page, PROT_READ | PROT_WRITE, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EACCES, errno);
	p = sc_map(ro, self->page, PROT_WRITE, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
	close(ro);
}

TEST_F(map, rdonly_handle_mprotect_cannot_add_write)
{
	int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	void *p;

	ASSERT_LE(0, ro);
	p = sc_map(ro, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* Also after the handle is closed. */
	close(ro);
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(SIGSEGV, sc_probe(p, 1));
	munmap(p, self->page);
}

/* A read-write mapping may drop write and take it back. */
TEST_F(map, rdwr_mprotect_roundtrip)
{
	volatile char *p = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, mprotect((void *)p, self->page, PROT_READ));
	EXPECT_EQ(SIGSEGV, sc_probe(p, 1));
	ASSERT_EQ(0, mprotect((void *)p, self->page, PROT_READ | PROT_WRITE));
	p[0] = 1;
	EXPECT_EQ(1, p[0]);
	munmap((void *)p, self->page);
}

/* ---- sharing ------------------------------------------------------------------- */

/*
 * Parent and child map the channel each through its own handle, at
 * different virtual addresses, and see each other's writes.
 */
TEST_F(map, two_processes_different_addresses)
{
	volatile __u32 *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	struct sc_pipe to_child, to_parent;
	uintptr_t child_addr = 0;
	pid_t pid;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, sc_pipe_init(&to_child));
	ASSERT_EQ(0, sc_pipe_init(&to_parent));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, 0);
		volatile __u32 *q;

		CHILD_TRUE(fd >= 0);
		/* The inherited mapping still occupies p: q lands elsewhere. */
		q = sc_map(fd, self->len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		CHILD_TRUE(munmap((void *)p, self->len) == 0);
		close(fd);
		child_addr = (uintptr_t)q;
		sc_send_buf(&to_parent, &child_addr, sizeof(child_addr));
		/* Parent wrote its pattern. */
		CHILD_EQ('1', sc_recv(&to_child, 20000));
		CHILD_EQ(0xabcd0001U, q[0]);
		CHILD_EQ(0xabcd0002U, q[self->len / 4 - 1]);
		q[1] = 0x1234beefU;
		q[self->page / 4] = 0x5678U;
		sc_send(&to_parent, '2');
		_exit(0);
	}
	ASSERT_EQ(0, sc_recv_buf(&to_parent, &child_addr, sizeof(child_addr), 20000));
	EXPECT_NE((uintptr_t)p, child_addr);
	p[0] = 0xabcd0001U;
	p[self->len / 4 - 1] = 0xabcd0002U;
	sc_send(&to_child, '1');
	ASSERT_EQ('2', sc_recv(&to_parent, 20000));
	EXPECT_EQ(0x1234beefU, p[1]);
	EXPECT_EQ(0x5678U, p[self->page / 4]);
	ASSERT_EQ(0, sc_reap(pid, 10000));
	munmap((void *)p, self->len);
}

/* A forked child shares the parent's mapping. */
TEST_F(map, fork_shares_mapping)
{
	volatile __u32 *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	struct sc_pipe go;
	pid_t pid;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, sc_pipe_init(&go));
	p[0] = 7;
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(7, p[0]);
		p[1] = 8;
		CHILD_EQ('g', sc_recv(&go, 20000));
		CHILD_EQ(9, p[2]);
		_exit(0);
	}
	/* Until the child is done both have the VMA. */
	EXPECT_EQ(2LL, sc_poll_nmaps(self->fd, 2, 5000));
	p[2] = 9;
	sc_send(&go, 'g');
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(8U, p[1]);
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	munmap((void *)p, self->len);
}

/* A mapping outlives close() of its handle. */
TEST_F(map, survives_close)
{
	volatile char *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	volatile char *q;
	struct shmchan_stat st;
	int fd2;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[10] = 'a';
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ('a', p[10]);
	p[self->len - 1] = 'z';

	fd2 = sc_attach(self->name, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sc_stat(fd2, &st));
	EXPECT_EQ(1ULL, st.nhandles);
	EXPECT_EQ(1ULL, st.nmaps);
	q = sc_map(fd2, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('a', q[10]);
	EXPECT_EQ('z', q[self->len - 1]);
	q[11] = 'b';
	EXPECT_EQ('b', p[11]);
	munmap((void *)p, self->len);
	munmap((void *)q, self->len);
	close(fd2);
}

TEST_F(map, partial_munmap)
{
	volatile char *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	volatile char *q;
	size_t i;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	for (i = 0; i < NPAGES; i++)
		p[i * self->page] = (char)('A' + i);
	ASSERT_EQ(0, munmap((void *)(p + self->page), self->page));
	/* Two VMAs are left. */
	EXPECT_EQ(2ULL, map_nmaps(self->fd));
	EXPECT_EQ('A', p[0]);
	EXPECT_EQ('C', p[2 * self->page]);
	EXPECT_EQ('D', p[3 * self->page]);
	EXPECT_EQ(SIGSEGV, sc_probe(p + self->page, 0));
	/* The unmapped part of the channel still holds its data. */
	q = sc_map(self->fd, self->page, PROT_READ, (off_t)self->page);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('B', q[0]);
	munmap((void *)q, self->page);
	ASSERT_EQ(0, munmap((void *)p, self->len));
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

/* nmaps counts VMAs in every process; fork copies them. */
TEST_F(map, nmaps_across_processes)
{
	void *a = sc_map(self->fd, self->page, PROT_READ, 0);
	void *b = sc_map(self->fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	struct sc_pipe ready, done;
	pid_t pid;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(a));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(b));
	EXPECT_EQ(2ULL, map_nmaps(self->fd));
	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&done));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		CHILD_TRUE(fd >= 0);
		CHILD_TRUE(sc_map(fd, self->len, PROT_READ, 0) != MAP_FAILED);
		close(fd);
		sc_send(&ready, 'r');
		CHILD_EQ('d', sc_recv(&done, 20000));
		_exit(0);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	/* 2 here, 2 inherited by the child, 1 of the child's own. */
	EXPECT_EQ(5ULL, map_nmaps(self->fd));
	sc_send(&done, 'd');
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(2LL, sc_poll_nmaps(self->fd, 2, 5000));
	munmap(a, self->page);
	EXPECT_EQ(1ULL, map_nmaps(self->fd));
	munmap(b, 2 * self->page);
	EXPECT_EQ(0ULL, map_nmaps(self->fd));
}

/* /proc/PID/maps names the mapping "/shmchan:NAME (deleted)". */
TEST_F(map, proc_maps_name)
{
	char *p = sc_map(self->fd, self->page, PROT_READ, 0);
	char want[SHMCHAN_NAME_MAX + 64], line[1024];
	int found = 0;
	FILE *f;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	snprintf(want, sizeof(want), "/shmchan:%s (deleted)", self->name);
	f = fopen("/proc/self/maps", "r");
	ASSERT_NE(SC_P(NULL), SC_P(f));
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end,
			   perms, &pos) < 3 || !pos)
			continue;
		if (start != (unsigned long)(uintptr_t)p)
			continue;
		found = 1;
		line[strcspn(line, "\n")] = '\0';
		EXPECT_STREQ(want, line + pos);
		EXPECT_STREQ("r--s", perms);
	}
	fclose(f);
	EXPECT_TRUE(found);
	munmap(p, self->page);
}

/* ---- a channel far larger than any contiguous allocation ------------------------ */

#define BIG_LEN (256ULL << 20)

FIXTURE(big) {
	const char *name;
};

FIXTURE_SETUP(big)
{
	SC_REQUIRE_DEVICE();
	self->name = sc_newname("big");
}

FIXTURE_TEARDOWN(big)
{
	sc_cleanup();
}

TEST_F_TIMEOUT(big, touch_256mib, 180)
{
	size_t page = SC_PAGE, npages = BIG_LEN / page, i;
	int fd = sc_new(self->name, BIG_LEN, 0600, SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;
	volatile __u32 *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &st));
	ASSERT_EQ(BIG_LEN, st.length);
	p = sc_map(fd, BIG_LEN, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	for (i = 0; i < npages; i++) {
		p[i * (page / 4)] = (__u32)i ^ 0x5a5a0000U;
		p[i * (page / 4) + page / 4 - 1] = ~(__u32)i;
	}
	/* Another process, its own handle and address, reads it all back. */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd2 = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		volatile __u32 *q;

		CHILD_TRUE(fd2 >= 0);
		q = sc_map(fd2, BIG_LEN, PROT_READ, 0);
		CHILD_TRUE(q != MAP_FAILED);
		CHILD_TRUE(q != p);
		for (i = 0; i < npages; i++) {
			if (q[i * (page / 4)] != ((__u32)i ^ 0x5a5a0000U) ||
			    q[i * (page / 4) + page / 4 - 1] != ~(__u32)i)
				CHILD_FAIL("page %zu differs", i);
		}
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 150000));
	EXPECT_EQ(0, munmap((void *)p, BIG_LEN));
	EXPECT_EQ(0, sc_destroy(fd, self->name, 0));
	close(fd);
}

/* ---- process-shared pthread objects and futexes --------------------------------- */

struct psync {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int ready;
	int go;
	long counter;
	__u32 futex_word;
};

static int psync_init(struct psync *s)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	if (pthread_mutexattr_init(&ma) ||
	    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutex_init(&s->mutex, &ma))
		return -1;
	if (pthread_condattr_init(&ca) ||
	    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&s->cond, &ca))
		return -1;
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_destroy(&ca);
	return 0;
}

/* In a child: map the channel through a new handle, away from @inherited. */
static struct psync *psync_child_map(const char *name, void *inherited, size_t len)
{
	int fd = sc_attach(name, 0);
	void *q;

	if (fd < 0)
		return NULL;
	q = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	close(fd);
	if (q == MAP_FAILED || q == inherited)
		return NULL;
	if (munmap(inherited, len))
		return NULL;
	return q;
}

/* The child blocks on the condvar; the parent signals it. */
TEST_F_TIMEOUT(map, pthread_mutex_condvar, 60)
{
	struct psync *s = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	__u64 end;
	pid_t pid;
	int seen = 0;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(s));
	ASSERT_EQ(0, psync_init(s));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct psync *c = psync_child_map(self->name, s, self->len);
		struct timespec dl;

		CHILD_TRUE(c != NULL);
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += 30;
		CHILD_EQ(0, pthread_mutex_lock(&c->mutex));
		c->ready = 1;
		while (!c->go)
			CHILD_EQ(0, pthread_cond_timedwait(&c->cond, &c->mutex, &dl));
		c->go = 2;
		CHILD_EQ(0, pthread_mutex_unlock(&c->mutex));
		_exit(0);
	}
	/* Once "ready" is seen under the mutex the child sleeps in the condvar. */
	end = sc_now_ns() + 30 * SC_NSEC;
	while (!seen && sc_now_ns() < end) {
		ASSERT_EQ(0, pthread_mutex_lock(&s->mutex));
		seen = s->ready;
		if (seen) {
			s->go = 1;
			ASSERT_EQ(0, pthread_cond_signal(&s->cond));
		}
		ASSERT_EQ(0, pthread_mutex_unlock(&s->mutex));
		if (!seen)
			usleep(1000);
	}
	ASSERT_TRUE(seen);
	EXPECT_EQ(0, sc_reap(pid, 30000));
	EXPECT_EQ(2, s->go);
	munmap(s, self->len);
}

/* Heavy contention on a shared mutex between two processes. */
TEST_F_TIMEOUT(map, pthread_mutex_contention, 90)
{
	struct psync *s = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	const long rounds = 20000;
	pid_t pid;
	long i;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(s));
	ASSERT_EQ(0, psync_init(s));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct psync *c = psync_child_map(self->name, s, self->len);

		CHILD_TRUE(c != NULL);
		for (i = 0; i < rounds; i++) {
			CHILD_EQ(0, pthread_mutex_lock(&c->mutex));
			c->counter++;
			CHILD_EQ(0, pthread_mutex_unlock(&c->mutex));
		}
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, pthread_mutex_lock(&s->mutex));
		s->counter++;
		ASSERT_EQ(0, pthread_mutex_unlock(&s->mutex));
	}
	ASSERT_EQ(0, sc_reap(pid, 80000));
	EXPECT_EQ(2 * rounds, s->counter);
	munmap(s, self->len);
}

static long sc_futex(volatile __u32 *uaddr, int op, __u32 val, const struct timespec *ts)
{
	long r = syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);

	return r < 0 ? -errno : r;
}

/* Shared (not private) futexes work on channel pages. */
TEST_F(map, raw_futex)
{
	struct psync *s = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	__u64 end;
	long woken = 0;
	pid_t pid;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(s));
	s->futex_word = 5;
	EXPECT_EQ(-EAGAIN, sc_futex(&s->futex_word, FUTEX_WAIT, 4, NULL));
	EXPECT_EQ(-ETIMEDOUT, sc_futex(&s->futex_word, FUTEX_WAIT, 5, &ts));
	EXPECT_EQ(0, sc_futex(&s->futex_word, FUTEX_WAKE, 1, NULL));

	/* Across processes and addresses. */
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct psync *c = psync_child_map(self->name, s, self->len);
		struct timespec t30 = { 30, 0 };

		CHILD_TRUE(c != NULL);
		CHILD_EQ(0, sc_futex(&c->futex_word, FUTEX_WAIT, 5, &t30));
		_exit(0);
	}
	/* Only a wake keyed by the page, not the address, reaches the child. */
	end = sc_now_ns() + 20 * SC_NSEC;
	while (woken == 0 && sc_now_ns() < end) {
		woken = sc_futex(&s->futex_word, FUTEX_WAKE, 1, NULL);
		if (woken == 0)
			usleep(1000);
	}
	EXPECT_EQ(1, woken);
	EXPECT_EQ(0, sc_reap(pid, 10000));
	munmap(s, self->len);
}

TEST_HARNESS_MAIN
