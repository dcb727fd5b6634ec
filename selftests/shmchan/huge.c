// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan and huge pages (SHMCHAN_FEATURE_HUGE): PMD-aligned addresses
 * for large mappings (mmap and mremap), SHMCHAN_CREATE_HUGE channels in
 * huge folios whatever shmem_enabled says (but "deny"), mapped by PMDs,
 * counted by STAT; content and mappings intact when the folios are split
 * (a punched hole, debugfs split_huge_pages, a munmap of half a PMD);
 * WAIT/WAKE on words inside them.
 *
 * Needs a kernel with transparent huge pages (selftests/shmchan/config):
 * without SHMCHAN_FEATURE_HUGE every test fails, none skips. Tests that
 * change shmem_enabled restore it; they run as root (the VM's runner).
 */
#include "shmchan_test.h"
#include <sys/mount.h>

#define PMD		(2UL << 20)
#define SPLIT_FILE	"/sys/kernel/debug/split_huge_pages"

FIXTURE(huge) {
	char saved[32];		/* shmem_enabled as it was, or "" */
};

FIXTURE_SETUP(huge)
{
	struct shmchan_features f;
	int fd;

	SC_REQUIRE_DEVICE();
	fd = sc_dev();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_features(fd, &f));
	close(fd);
	/* Every CI kernel has THP: a missing feature is a failure */
	ASSERT_TRUE(!!(f.features & SHMCHAN_FEATURE_HUGE));
	ASSERT_TRUE(!!(f.create_flags & SHMCHAN_CREATE_HUGE));
	ASSERT_EQ(0, sc_thp_shmem_get(self->saved, sizeof(self->saved)));
}

FIXTURE_TEARDOWN(huge)
{
	if (self->saved[0])
		sc_write_file(SC_THP_SHMEM, self->saved);
	sc_cleanup();
}

static struct shmchan_stat huge_stat(int fd)
{
	struct shmchan_stat st;

	if (sc_stat(fd, &st))
		st.huge_folios = ~0ULL;
	return st;
}

/* A channel of @len bytes with @flags, a fresh name (in *@namep if not NULL). */
static int huge_new_named(const char *tag, size_t len, __u32 flags, const char **namep)
{
	const char *name = sc_newname(tag);

	if (namep)
		*namep = name;
	return sc_new(name, len, 0600, SHMCHAN_CREATE_EXCL | flags);
}

static int huge_new(const char *tag, size_t len, __u32 flags)
{
	return huge_new_named(tag, len, flags, NULL);
}

/* Touch one byte per page, writing @seed-derived values. */
static void fill(volatile char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i + (i / 4096) % 4000] = (char)(seed + i / 4096);
}

/* Pages of [@from, @to) of what fill(@p, ..., @seed) wrote that differ. */
static size_t check_range(volatile char *p, size_t from, size_t to, unsigned int seed)
{
	size_t i, bad = 0;

	for (i = from; i < to; i += 4096)
		if (p[i + (i / 4096) % 4000] != (char)(seed + i / 4096))
			bad++;
	return bad;
}

static size_t check(volatile char *p, size_t len, unsigned int seed)
{
	return check_range(p, 0, len, seed);
}

/* ShmemPmdMapped of the VMA at @addr in /proc/self/smaps, in KiB; -1 if none. */
static long pmd_mapped_kib(const void *addr)
{
	char line[256];
	unsigned long lo, hi;
	int in = 0;
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && sscanf(line, "ShmemPmdMapped: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* ---- addresses ------------------------------------------------------------------ */

/* Large mappings start at an address congruent to their offset mod 2 MiB. */
TEST_F(huge, addresses_aligned)
{
	int fd = huge_new("align", 8 * PMD, 0);
	char *p, *q, *guard, *r;
	int i;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 4 * PMD, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(0UL, SC_P(p) % PMD);
	/* Offset one page: the address is one page past a boundary */
	q = sc_map(fd, 2 * PMD, PROT_READ, SC_PAGE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ(SC_PAGE, SC_P(q) % PMD);
	/* Small mappings are placed as usual: several of them, none aligned needed */
	for (i = 0; i < 4; i++) {
		r = sc_map(fd, SC_PAGE, PROT_READ, 0);
		ASSERT_NE(SC_P(MAP_FAILED), SC_P(r));
		munmap(r, SC_PAGE);
	}
	/* Growing where it cannot in place: mremap() moves it, aligned */
	p[5] = 'g';
	guard = mmap(p + 4 * PMD, SC_PAGE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(SC_P(p + 4 * PMD), SC_P(guard));
	r = mremap(p, 4 * PMD, 6 * PMD, MREMAP_MAYMOVE);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(r));
	EXPECT_NE(SC_P(p), SC_P(r));
	EXPECT_EQ(0UL, SC_P(r) % PMD);
	EXPECT_EQ('g', r[5]);
	EXPECT_EQ(2ULL, huge_stat(fd).nmaps);
	munmap(guard, SC_PAGE);
	munmap(r, 6 * PMD);
	munmap(q, 2 * PMD);
	EXPECT_EQ(0ULL, huge_stat(fd).nmaps);
	close(fd);
}

/* ---- huge channels -------------------------------------------------------------- */

/*
 * SHMCHAN_CREATE_HUGE with shmem_enabled "never": huge folios anyway,
 * mapped by PMDs, counted by STAT; a channel without it gets none.
 */
TEST_F(huge, create_huge_never)
{
	const size_t len = 4 * PMD;
	int fd, plain;
	volatile char *p, *q;
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_write_file(SC_THP_SHMEM, "never"));
	fd = huge_new("huge", len, SHMCHAN_CREATE_HUGE);
	ASSERT_LE(0, fd);
	plain = huge_new("plain", len, 0);
	ASSERT_LE(0, plain);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	q = sc_map(plain, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	fill(p, len, 1);
	fill(q, len, 2);
	st = huge_stat(fd);
	EXPECT_TRUE(!!(st.state & SHMCHAN_STATE_HUGE));
	EXPECT_EQ(4ULL, st.huge_folios);
	EXPECT_EQ(4L * 2048, pmd_mapped_kib((void *)p));
	st = huge_stat(plain);
	EXPECT_FALSE(!!(st.state & SHMCHAN_STATE_HUGE));
	EXPECT_EQ(0ULL, st.huge_folios);
	EXPECT_EQ(0L, pmd_mapped_kib((void *)q));
	EXPECT_EQ(0UL, check(p, len, 1));
	munmap((void *)p, len);
	munmap((void *)q, len);
	close(fd);
	close(plain);
}

/* within_size: the tail shorter than 2 MiB has small pages; POPULATE fills. */
TEST_F(huge, populate_and_tail)
{
	const size_t len = 3 * PMD + 5 * 4096;
	int fd = huge_new("tail", len, SHMCHAN_CREATE_HUGE | SHMCHAN_CREATE_POPULATE);
	volatile char *p;

	ASSERT_LE(0, fd);
	/* Allocated at CREATE, before any mapping */
	EXPECT_EQ(3ULL, huge_stat(fd).huge_folios);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 3);
	EXPECT_EQ(0UL, check(p, len, 3));
	EXPECT_EQ(3ULL, huge_stat(fd).huge_folios);
	munmap((void *)p, len);
	close(fd);
}

/* shmem_enabled "deny" wins over the flag; "force" gives any channel some. */
TEST_F(huge, deny_and_force)
{
	const size_t len = 2 * PMD;
	int fd;
	volatile char *p;

	ASSERT_EQ(0, sc_write_file(SC_THP_SHMEM, "deny"));
	fd = huge_new("deny", len, SHMCHAN_CREATE_HUGE);
	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 4);
	EXPECT_EQ(0ULL, huge_stat(fd).huge_folios);
	munmap((void *)p, len);
	close(fd);

	ASSERT_EQ(0, sc_write_file(SC_THP_SHMEM, "force"));
	fd = huge_new("force", len, 0);
	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 5);
	EXPECT_EQ(2ULL, huge_stat(fd).huge_folios);
	munmap((void *)p, len);
	close(fd);
}

/* MADV_NOHUGEPAGE on the mapping: its faults allocate small pages. */
TEST_F(huge, nohugepage_mapping)
{
	const size_t len = 2 * PMD;
	int fd = huge_new("nohuge", len, SHMCHAN_CREATE_HUGE);
	volatile char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, madvise((void *)p, len, MADV_NOHUGEPAGE));
	fill(p, len, 6);
	EXPECT_EQ(0ULL, huge_stat(fd).huge_folios);
	EXPECT_EQ(0UL, check(p, len, 6));
	munmap((void *)p, len);
	close(fd);
}

/* ---- splits --------------------------------------------------------------------- */

/*
 * A hole punched into a huge folio (MADV_REMOVE) splits it: the punched
 * page reads zero, every other byte is as it was, in this mapping and in
 * another process's, and the folio no longer counts.
 */
TEST_F(huge, split_by_hole)
{
	const size_t len = 2 * PMD;
	const char *name;
	int fd = huge_new_named("hole", len, SHMCHAN_CREATE_HUGE, &name);
	volatile char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 7);
	ASSERT_EQ(2ULL, huge_stat(fd).huge_folios);
	ASSERT_EQ(0, madvise((void *)(p + 4096 * 9), 4096, MADV_REMOVE));
	EXPECT_EQ(1ULL, huge_stat(fd).huge_folios);
	EXPECT_EQ(0, p[4096 * 9 + 9]);
	p[4096 * 9 + 9] = (char)(7 + 9);
	EXPECT_EQ(0UL, check(p, len, 7));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_attach(name, 0);
		volatile char *c;

		CHILD_TRUE(cfd >= 0);
		c = sc_map(cfd, len, PROT_READ, 0);
		CHILD_TRUE(c != MAP_FAILED);
		CHILD_EQ(0, check(c, len, 7));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 30000));
	munmap((void *)p, len);
	close(fd);
}

/* debugfs split_huge_pages splits the PMD-mapped folios of a range. */
TEST_F(huge, split_by_debugfs)
{
	const size_t len = 2 * PMD;
	int fd = huge_new("dbgsplit", len, SHMCHAN_CREATE_HUGE);
	volatile char *p;
	char cmd[128];

	ASSERT_LE(0, fd);
	if (access(SPLIT_FILE, W_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	ASSERT_EQ(0, access(SPLIT_FILE, W_OK));
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 8);
	ASSERT_EQ(2ULL, huge_stat(fd).huge_folios);
	snprintf(cmd, sizeof(cmd), "%d,0x%lx,0x%lx", (int)getpid(),
		 (unsigned long)SC_P(p), (unsigned long)SC_P(p + len));
	ASSERT_EQ(0, sc_write_file(SPLIT_FILE, cmd));
	EXPECT_EQ(0ULL, huge_stat(fd).huge_folios);
	EXPECT_EQ(0L, pmd_mapped_kib((void *)p));
	EXPECT_EQ(0UL, check(p, len, 8));
	fill(p, len, 9);
	EXPECT_EQ(0UL, check(p, len, 9));
	munmap((void *)p, len);
	close(fd);
}

/* munmap() of half a PMD splits the mapping, not the data. */
TEST_F(huge, unmap_half_pmd)
{
	const size_t len = 2 * PMD;
	int fd = huge_new("halfpmd", len, SHMCHAN_CREATE_HUGE);
	volatile char *p, *q;

	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 10);
	ASSERT_EQ(0, munmap((void *)(p + PMD / 2), PMD / 2));
	EXPECT_EQ(0UL, check(p, PMD / 2, 10));
	EXPECT_EQ(0UL, check_range(p, PMD, 2 * PMD, 10));
	EXPECT_EQ(SIGSEGV, sc_probe(p + PMD / 2, 0));
	/* The folio is whole in the page cache; a new mapping sees all of it */
	q = sc_map(fd, len, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ(0UL, check(q, len, 10));
	EXPECT_EQ(2ULL, huge_stat(fd).huge_folios);
	/* The two halves of the first mapping, and the new one */
	EXPECT_EQ(3ULL, huge_stat(fd).nmaps);
	munmap((void *)p, PMD / 2);
	munmap((void *)(p + PMD), PMD);
	munmap((void *)q, len);
	EXPECT_EQ(0ULL, huge_stat(fd).nmaps);
	close(fd);
}

/* ---- wait/wake ------------------------------------------------------------------ */

/* WAIT on a word inside a huge folio (not at its head page), woken by WAKE. */
/*
 * A HUGE channel shrinks by whole huge folios only (EINVAL else): a folio
 * cut in two whose split failed would stay mapped past the length.
 */
TEST_F(huge, shrink_by_whole_folios)
{
	struct shmchan_create c = {
		.size = sizeof(c), .flags = SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_HUGE,
		.name = sc_ptr(sc_newname("hshrink")), .length = 2 * PMD,
		.mode = 0600, .max_length = 4 * PMD,
	};
	struct shmchan_resize r = { .size = sizeof(r) };
	int fd = sc_dev();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_CREATE, &c));
	r.length = 4 * PMD;
	EXPECT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r));
	/* A shrink that would cut the last folio, or the second, in two */
	r.length = 4 * PMD - 4096;
	EXPECT_EQ(-EINVAL, sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r));
	r.length = PMD + 4096;
	EXPECT_EQ(-EINVAL, sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r));
	r.length = PMD;
	EXPECT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r));
	EXPECT_EQ((__u64)PMD, r.length);
	/* A grow need not end on a folio: the tail gets 4 KiB pages */
	r.length = PMD + 4096;
	EXPECT_EQ(0, sc_ioctl(fd, SHMCHAN_IOC_RESIZE, &r));
	close(fd);
}

TEST_F(huge, wait_in_huge_channel)
{
	const size_t len = 2 * PMD;
	const __u64 off = PMD + 5 * 4096 + 12;
	int fd = huge_new("hwait", len, SHMCHAN_CREATE_HUGE);
	volatile __u32 *w;
	char *p;
	pid_t pid;
	int woken, i;

	ASSERT_LE(0, fd);
	p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	fill(p, len, 11);
	ASSERT_EQ(2ULL, huge_stat(fd).huge_folios);
	w = (volatile __u32 *)(p + off);
	*w = 0;
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Bounded: a lost wake fails with ETIMEDOUT, never hangs */
		CHILD_EQ(0, sc_wait(fd, off, 0, sc_now_ns() + 60 * SC_NSEC));
		CHILD_EQ(1, *w);
		_exit(0);
	}
	ASSERT_LE(0, sc_poll_nwaiters(fd, 1, 30000));
	*w = 1;
	woken = 0;
	for (i = 0; i < 100 && !woken; i++) {
		woken = sc_wake(fd, off, 1);
		if (!woken)
			usleep(10000);
	}
	EXPECT_EQ(1, woken);
	EXPECT_EQ(0, sc_reap(pid, 70000));
	munmap(p, len);
	close(fd);
}

TEST_HARNESS_MAIN
