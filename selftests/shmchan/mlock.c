// SPDX-License-Identifier: GPL-2.0
/*
 * Locked channel memory (SHMCHAN_FEATURE_MLOCK): mlock(), munlock(),
 * mlockall() with MCL_FUTURE before the mapping, MAP_LOCKED, VmLck of
 * /proc/self/status, RLIMIT_MEMLOCK's usual errnos for an unprivileged
 * caller; and mremap() now that channel mappings may grow: inside the
 * channel the pages are its own, past its end every access is SIGBUS,
 * never another page. remap_file_pages() of a mapping onto itself keeps
 * the mapping count exact (the mm may merge the new VMA away).
 */
#include "shmchan_test.h"
#include <sys/resource.h>

#define NPAGES 16

FIXTURE(lock) {
	int fd;
	const char *name;
	size_t page, len;
};

FIXTURE_SETUP(lock)
{
	struct shmchan_features f;

	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->len = NPAGES * self->page;
	self->name = sc_newname("lock");
	self->fd = sc_new(self->name, self->len, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, sc_features(self->fd, &f));
	ASSERT_TRUE(!!(f.features & SHMCHAN_FEATURE_MLOCK));
}

FIXTURE_TEARDOWN(lock)
{
	munlockall();
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/* VmLck of /proc/self/status in KiB, or -1. */
static long vmlck_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- mlock -------------------------------------------------------------------- */

TEST_F(lock, mlock_munlock)
{
	long before = vmlck_kib();
	long kib = (long)(self->len / 1024);
	char *p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);

	ASSERT_LE(0, before);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, mlock(p, self->len));
	EXPECT_EQ(before + kib, vmlck_kib());
	/* Locked pages are the channel's: written here, seen by another mapping */
	p[3 * self->page] = 'L';
	EXPECT_EQ(0, munlock(p, self->page));
	EXPECT_EQ(before + kib - (long)(self->page / 1024), vmlck_kib());
	EXPECT_EQ(0, munlock(p, self->len));
	EXPECT_EQ(before, vmlck_kib());
	/* mlock() splits and munlock() rejoins flags: the count stays exact */
	ASSERT_EQ(0, mlock(p + self->page, self->page));
	EXPECT_EQ(3ULL, sc_nmaps(self->fd));
	EXPECT_EQ(0, munmap(p, self->len));
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
	EXPECT_EQ(before, vmlck_kib());
}

/* mlockall(MCL_CURRENT | MCL_FUTURE) first: a later channel mapping is locked. */
TEST_F(lock, mlockall_future)
{
	long before;
	char *p;

	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
	before = vmlck_kib();
	p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(before + (long)(self->len / 1024), vmlck_kib());
	p[0] = 'F';
	EXPECT_EQ(0, munlockall());
	EXPECT_EQ(0L, vmlck_kib());
	EXPECT_EQ('F', p[0]);
	EXPECT_EQ(0, munmap(p, self->len));
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* MAP_LOCKED locks at mmap(). */
TEST_F(lock, map_locked)
{
	long before = vmlck_kib();
	char *p = mmap(NULL, self->len, PROT_READ, MAP_SHARED | MAP_LOCKED, self->fd, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(before + (long)(self->len / 1024), vmlck_kib());
	EXPECT_EQ(0, munmap(p, self->len));
	EXPECT_EQ(before, vmlck_kib());
}

/*
 * RLIMIT_MEMLOCK binds an unprivileged caller as for any memory: mlock()
 * past it is ENOMEM, with a limit of 0 EPERM, and a mapping under
 * MCL_FUTURE that would pass it is EAGAIN.
 */
TEST_F(lock, rlimit_memlock)
{
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 4 * self->page, 4 * self->page };
		char *p;

		/* The handle stays bound and read-write across the switch */
		CHILD_EQ(0, sc_become(SC_NOBODY, SC_NOBODY));
		CHILD_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
		p = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(p != MAP_FAILED);
		CHILD_EQ(-1, mlock(p, self->len));
		CHILD_EQ(ENOMEM, errno);
		CHILD_EQ(0, vmlck_kib());
		CHILD_EQ(0, mlock(p, 4 * self->page));
		CHILD_EQ((long)(4 * self->page / 1024), vmlck_kib());
		CHILD_EQ(0, munlock(p, self->len));
		CHILD_TRUE(mmap(NULL, self->len, PROT_READ, MAP_SHARED | MAP_LOCKED,
				self->fd, 0) == MAP_FAILED);
		CHILD_EQ(EAGAIN, errno);
		CHILD_EQ(0, mlockall(MCL_FUTURE));
		CHILD_TRUE(sc_map(self->fd, self->len, PROT_READ, 0) == MAP_FAILED);
		CHILD_EQ(EAGAIN, errno);
		CHILD_EQ(0, munlockall());
		rl.rlim_cur = rl.rlim_max = 0;
		CHILD_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
		CHILD_EQ(-1, mlock(p, self->page));
		CHILD_EQ(EPERM, errno);
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 30000));
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* ---- mremap -------------------------------------------------------------------- */

/* Grown inside the channel, in place or moved: the channel's pages. */
TEST_F(lock, mremap_grow_inside)
{
	char *p = sc_map(self->fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	char *q, *all = sc_map(self->fd, self->len, PROT_READ | PROT_WRITE, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(all));
	all[5 * self->page] = 'x';
	q = mremap(p, 2 * self->page, 8 * self->page, MREMAP_MAYMOVE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('x', q[5 * self->page]);
	q[7 * self->page] = 'y';
	EXPECT_EQ('y', all[7 * self->page]);
	EXPECT_EQ(2ULL, sc_nmaps(self->fd));
	munmap(q, 8 * self->page);
	munmap(all, self->len);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/*
 * Grown past the channel's end (in place where there is room, else
 * moved): every page past the end is SIGBUS for reads and writes, as past
 * a file's EOF, and mlock() of it fails as populating it does (ENOMEM);
 * the channel's own pages stay as they were.
 */
TEST_F(lock, mremap_grow_past_end_sigbus)
{
	const size_t extra = 4 * self->page;
	char *room = mmap(NULL, self->len + extra, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p, *q;
	size_t i;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(room));
	munmap(room + self->len, extra);
	p = mmap(room, self->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 self->fd, 0);
	ASSERT_EQ(SC_P(room), SC_P(p));
	p[self->len - 1] = 'e';
	/* In place: the room after it is free */
	q = mremap(p, self->len, self->len + extra, 0);
	ASSERT_EQ(SC_P(p), SC_P(q));
	EXPECT_EQ('e', q[self->len - 1]);
	for (i = 0; i < extra; i += self->page) {
		EXPECT_EQ(SIGBUS, sc_probe(q + self->len + i, 0));
		EXPECT_EQ(SIGBUS, sc_probe(q + self->len + i, 1));
	}
	EXPECT_EQ(-1, mlock(q, self->len + extra));
	EXPECT_EQ(ENOMEM, errno);
	munlock(q, self->len + extra);
	EXPECT_EQ(1ULL, sc_nmaps(self->fd));
	/* Moved and grown further */
	p = mremap(q, self->len + extra, self->len + 4 * extra, MREMAP_MAYMOVE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ('e', p[self->len - 1]);
	EXPECT_EQ(SIGBUS, sc_probe(p + self->len, 1));
	EXPECT_EQ(SIGBUS, sc_probe(p + self->len + 4 * extra - 1, 0));
	EXPECT_EQ(1ULL, sc_nmaps(self->fd));
	munmap(p, self->len + 4 * extra);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* MREMAP_DONTUNMAP: two mappings of the same pages, both counted. */
TEST_F(lock, mremap_dontunmap)
{
	char *p = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);
	char *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'a';
	q = mremap(p, self->page, self->page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('a', q[0]);
	/* The old range maps the channel still: its pages fault back in */
	EXPECT_EQ('a', p[0]);
	q[0] = 'b';
	EXPECT_EQ('b', p[0]);
	EXPECT_EQ(2ULL, sc_nmaps(self->fd));
	munmap(p, self->page);
	munmap(q, self->page);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/*
 * remap_file_pages() of a page onto itself: the new VMA may be merged
 * into its neighbour by the mm (6.12 does so when ->mmap changed its
 * flags) and freed without ->close; the count must not keep it.
 */
TEST_F(lock, remap_onto_itself_counts)
{
	char *p = sc_map(self->fd, 4 * self->page, PROT_READ | PROT_WRITE, 0);
	int i;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[self->page] = 'r';
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, remap_file_pages(p + self->page, self->page, 0, 1, 0));
	EXPECT_EQ('r', p[self->page]);
	EXPECT_EQ(0, munmap(p, 4 * self->page));
	EXPECT_EQ(0LL, sc_poll_nmaps(self->fd, 0, 5000));
}

/* A transient channel's name goes with its last mapping, remapped or not. */
TEST_F(lock, remap_transient_name_goes)
{
	const char *name = sc_newname("rmt");
	int fd = sc_new(name, 4 * SC_PAGE, 0600, SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 4 * SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, remap_file_pages(p + SC_PAGE, SC_PAGE, 0, 1, 0));
	close(fd);
	EXPECT_EQ(1, sc_exists(name));
	munmap(p, 4 * SC_PAGE);
	EXPECT_EQ(0, sc_poll_exists(name, 0, 5000));

}

TEST_HARNESS_MAIN
