// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan bad input not covered by selftests/shmchan: SETATTR's argument
 * checks, structs between their first and current version, lengths at the
 * limit of what shmem can hold, mmap/mremap/madvise odd cases, handles of
 * destroyed and revoked channels, read/write on the device, a wait with a
 * deadline past KTIME_MAX, two threads binding one handle at once, a
 * stopped and continued waiter, SIGKILL of a CREATE or OPEN waiting for a
 * handle busy populating, a wait on a word inside a huge shmem
 * folio, part of a mapping moved, MAP_FIXED over a live mapping, and
 * forced writes into a read-only mapping.
 * Every call must fail with the errno uapi/linux/shmchan.h documents and
 * change nothing; the VM runner checks that the kernel logged nothing.
 */
#include "hard.h"

#include <pthread.h>
#include <sys/time.h>
#include <sys/uio.h>

FIXTURE(bad) {
	int dev;		/* an unbound handle */
	int fd;			/* bound read-write to @name */
	const char *name;	/* 4 pages, mode 0600 */
	size_t page;
	char *area;		/* two read-write pages, then a PROT_NONE page */
};

FIXTURE_SETUP(bad)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->name = sc_newname("bad");
	self->fd = sc_new(self->name, 4 * self->page, 0600, 0);
	ASSERT_LE(0, self->fd);
	self->dev = sc_dev();
	ASSERT_LE(0, self->dev);
	self->area = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->area));
	ASSERT_EQ(0, mprotect(self->area + 2 * self->page, self->page, PROT_NONE));
}

FIXTURE_TEARDOWN(bad)
{
	if (self->dev > 0)
		close(self->dev);
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

static __u32 mode_of(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? ~0U : st.mode;
}

/* ---- SETATTR ------------------------------------------------------------------ */

TEST_F(bad, setattr_unbound_ebadfd)
{
	EXPECT_EQ(-EBADFD, sc_chmod(self->dev, 0644));
}

/* Every size rule of the extensible structs, for SETATTR. */
TEST_F(bad, setattr_sizes)
{
	struct shmchan_setattr *s = (void *)(self->area + self->page);
	const __u32 ksize = sizeof(*s);

	memset(self->area, 0, 2 * self->page);
	s->flags = SHMCHAN_SETATTR_MODE;
	s->mode = 0640;
	s->size = 0;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	s->size = SHMCHAN_SETATTR_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	s->size = self->page + 1;
	EXPECT_EQ(-E2BIG, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	s->size = ksize + 8;
	((char *)s)[ksize + 7] = 1;
	EXPECT_EQ(-E2BIG, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	EXPECT_EQ(0600U, mode_of(self->fd)) TH_LOG("a rejected SETATTR changed the mode");
	((char *)s)[ksize + 7] = 0;
	EXPECT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	EXPECT_EQ(0640U, mode_of(self->fd));
	s->size = ksize;
	s->mode = 0600;
	EXPECT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
	EXPECT_EQ(0600U, mode_of(self->fd));

	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, NULL));
	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR,
				    self->area + 2 * self->page));
	/* size readable, the rest in the PROT_NONE page */
	s = (void *)(self->area + 2 * self->page - 4);
	s->size = ksize;
	EXPECT_EQ(-EFAULT, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, s));
}

TEST_F(bad, setattr_unknown_flags_einval)
{
	unsigned int bit;

	for (bit = 3; bit < 32; bit++)
		EXPECT_EQ(-EINVAL, sc_setattr(self->fd, SHMCHAN_SETATTR_MODE | 1U << bit,
					      0644, 0, 0)) TH_LOG("flag bit %u", bit);
	EXPECT_EQ(0600U, mode_of(self->fd));
}

TEST_F(bad, setattr_reserved_einval)
{
	struct shmchan_setattr s = {
		.size = sizeof(s), .flags = SHMCHAN_SETATTR_MODE, .mode = 0644,
		.__reserved = 1,
	};

	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, &s));
	s.__reserved = 0x80000000U;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_SETATTR, &s));
	EXPECT_EQ(0600U, mode_of(self->fd));
}

TEST_F(bad, setattr_mode_above_0777_einval)
{
	static const __u32 modes[] = { 01000, 02000, 04000, 07777, 010000, ~0U };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		EXPECT_EQ(-EINVAL, sc_chmod(self->fd, modes[i]))
			TH_LOG("mode %#o", modes[i]);
	EXPECT_EQ(0600U, mode_of(self->fd));
}

/* (uid_t)-1 maps to no kernel id: EINVAL, and the mode given with it stays. */
TEST_F(bad, setattr_invalid_ids_einval)
{
	struct shmchan_stat st;

	EXPECT_EQ(-EINVAL, sc_setattr(self->fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_MODE,
				      0644, ~0U, 0));
	EXPECT_EQ(-EINVAL, sc_setattr(self->fd, SHMCHAN_SETATTR_GID | SHMCHAN_SETATTR_MODE,
				      0644, 0, ~0U));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0600U, st.mode);
	EXPECT_EQ(geteuid(), st.uid);
	EXPECT_EQ(getegid(), st.gid);
}

TEST_F(bad, setattr_no_flags_changes_nothing)
{
	struct shmchan_stat before, after;

	ASSERT_EQ(0, sc_stat(self->fd, &before));
	EXPECT_EQ(0, sc_setattr(self->fd, 0, 0777, 1234, 1234));
	ASSERT_EQ(0, sc_stat(self->fd, &after));
	EXPECT_EQ(before.mode, after.mode);
	EXPECT_EQ(before.uid, after.uid);
	EXPECT_EQ(before.gid, after.gid);
}

/* ---- structs between their first and current version ------------------------ */

/* FEATURES at its first size: accepted, nothing written past it. */
TEST_F(bad, features_ver0_size)
{
	struct shmchan_features *f = (void *)self->area;
	__u32 i;

	memset(self->area, 0xa5, 2 * self->page);
	memset(f, 0, SHMCHAN_FEATURES_SIZE_VER0);
	f->size = SHMCHAN_FEATURES_SIZE_VER0;
	ASSERT_EQ(0, sc_ioctl(self->dev, SHMCHAN_IOC_FEATURES, f));
	EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION, f->abi_version);
	for (i = SHMCHAN_FEATURES_SIZE_VER0; i < sizeof(*f) + 16; i++)
		EXPECT_EQ((char)0xa5, self->area[i]) TH_LOG("byte %u written", i);
}

/* STAT at its first size: accepted, lpid and deaths not written. */
TEST_F(bad, stat_ver0_size)
{
	struct shmchan_stat *st = (void *)self->area;
	__u32 i;

	memset(self->area, 0xa5, 2 * self->page);
	memset(st, 0, SHMCHAN_STAT_SIZE_VER0);
	st->size = SHMCHAN_STAT_SIZE_VER0;
	ASSERT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_STAT, st));
	EXPECT_EQ((__u64)(4 * self->page), st->length);
	EXPECT_EQ(0600U, st->mode);
	for (i = SHMCHAN_STAT_SIZE_VER0; i < sizeof(*st) + 16; i++)
		EXPECT_EQ((char)0xa5, self->area[i]) TH_LOG("byte %u written", i);
}

/*
 * WAIT at its first size: the missing @deaths is taken as zero. With
 * SHMCHAN_WAIT_DEATHS that means "no death seen yet": EAGAIN while the
 * channel's count is 0, EOWNERDEAD once a process that had it open exits.
 */
TEST_F(bad, wait_ver0_size_deaths_taken_as_zero)
{
	struct shmchan_wait *w = (void *)self->area;
	pid_t pid;

	memset(self->area, 0, 2 * self->page);
	w->size = SHMCHAN_WAIT_SIZE_VER0;
	w->flags = SHMCHAN_WAIT_DEATHS | SHMCHAN_WAIT_DEADLINE;
	w->expected = 1;		/* the word is 0: no sleep */
	w->deadline_ns = sc_now_ns() + SC_NSEC;
	((char *)w)[SHMCHAN_WAIT_SIZE_VER0] = 7;	/* "deaths" of a VER1 struct */
	EXPECT_EQ(-EAGAIN, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, w));

	pid = sc_fork();
	if (pid == 0) {
		int fd = sc_attach(self->name, 0);

		_exit(fd < 0);	/* exits with the handle open: one death */
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	w->deadline_ns = sc_now_ns() + SC_NSEC;
	EXPECT_EQ(-EOWNERDEAD, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, w));
}

/* ---- lengths at the edge of what a channel can be ---------------------------------- */

/*
 * SHMCHAN_STATUS_OFFSET (2^43) is the longest channel: one byte more is
 * EFBIG, before any limit, and so are 2^62 and what shmem could hold
 * (MAX_LFS_FILESIZE, 2^63 - 1). 2^43 itself is refused later, by the
 * module's byte limits (ENOSPC, EDQUOT) or by shmem's accounting
 * (ENOMEM). None of them leaves a channel or binds the handle.
 */
static bool refused_for_size(int r)
{
	return r == -ENOMEM || r == -ENOSPC || r == -EDQUOT;
}

TEST_F(bad, create_length_at_channel_limit)
{
	const __u64 max_lfs = (1ULL << 63) - 1;
	const char *name = sc_newname("huge");
	int r;

	EXPECT_EQ(-EFBIG, sc_create(self->dev, name, max_lfs - self->page + 1,
				    0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(self->dev, name, max_lfs - self->page,
				    0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(self->dev, name, 1ULL << 62, 0600,
				    SHMCHAN_CREATE_POPULATE, NULL));
	EXPECT_EQ(-EFBIG, sc_create(self->dev, name, SHMCHAN_STATUS_OFFSET + 1,
				    0600, 0, NULL));
	r = sc_create(self->dev, name, SHMCHAN_STATUS_OFFSET, 0600,
		      SHMCHAN_CREATE_POPULATE, NULL);
	EXPECT_TRUE(refused_for_size(r)) TH_LOG("2^43: %d", r);
	EXPECT_EQ(0, sc_exists(name));
	EXPECT_EQ(-EBADFD, sc_wake(self->dev, 0, 1)) TH_LOG("a failed CREATE bound the handle");
}

/*
 * Signals during CREATE with POPULATE: a handled signal (SA_RESTART) is no
 * reason to fail; the header allows EINTR for a fatal signal only.
 */
static void on_tick(int sig)
{
	(void)sig;
}

TEST_F(bad, create_populate_under_signals)
{
	struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART };
	struct itimerval tick = { { 0, 500 }, { 0, 500 } };
	const struct itimerval off = { { 0, 0 }, { 0, 0 } };
	size_t len = hard_scaled(64) << 20;
	unsigned int i, eintr = 0;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &tick, NULL));
	for (i = 0; i < 8; i++) {
		const char *name = sc_newname("popsig");
		int fd = sc_dev(), r;

		ASSERT_LE(0, fd);
		r = sc_create(fd, name, len, 0600,
			      SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE, NULL);
		if (r == -EINTR)
			eintr++;
		else
			EXPECT_EQ(0, r);
		sc_destroy(fd, name, 0);
		close(fd);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	EXPECT_EQ(0U, eintr) TH_LOG("%u of 8 populating CREATEs failed with EINTR"
				   " on a handled SIGALRM", eintr);
}

/* ---- mmap, mremap, madvise ---------------------------------------------------------- */

TEST_F(bad, mmap_length_zero_einval)
{
	void *p = mmap(NULL, 0, PROT_READ, MAP_SHARED, self->fd, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* Offsets far past the end, and offset + length wrapping around. */
TEST_F(bad, mmap_huge_offsets)
{
	const off_t offs[] = {
		(off_t)1 << 40, (off_t)1 << 62,
		(off_t)(((__u64)1 << 63) - 1) & ~(off_t)(self->page - 1),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		void *p = sc_map(self->fd, 2 * self->page, PROT_READ, offs[i]);

		EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p)) TH_LOG("offset %#llx",
							  (unsigned long long)offs[i]);
		EXPECT_TRUE(errno == ENXIO || errno == EOVERFLOW || errno == EINVAL)
			TH_LOG("offset %#llx: errno %d", (unsigned long long)offs[i], errno);
	}
	/* a negative offset */
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(sc_map(self->fd, self->page, PROT_READ,
						(off_t)-(off_t)self->page)));
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

TEST_F(bad, mmap_huge_length_enomem)
{
	void *p = sc_map(self->fd, SIZE_MAX - self->page + 1, PROT_READ, 0);

	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_TRUE(errno == ENOMEM || errno == ENXIO) TH_LOG("errno %d", errno);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* MAP_SHARED_VALIDATE is MAP_SHARED; MAP_SYNC is not supported. */
TEST_F(bad, mmap_shared_validate)
{
	void *p = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		       MAP_SHARED_VALIDATE, self->fd, 0);

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(0, munmap(p, self->page));
	p = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		 MAP_SHARED_VALIDATE | MAP_SYNC, self->fd, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/*
 * /dev/shmchan opened O_RDONLY: it may not CREATE nor bind read-write (a
 * read-write binding could never be mapped writable: the mm core refuses
 * writable shared mappings of a file not open for writing, EACCES), but a
 * read-only binding maps read-only, which is what such a descriptor is
 * for. (The mm core keeps VM_MAYSHARE but clears VM_SHARED on mappings of
 * files not open for writing.)
 */
TEST_F(bad, rdonly_file_maps_read_only)
{
	int fd = open(SHMCHAN_DEVICE, O_RDONLY | O_CLOEXEC);
	char *p;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, sc_create(fd, sc_newname("rofile"), self->page, 0600, 0, NULL));
	EXPECT_EQ(-EBADF, sc_open(fd, self->name, 0, NULL));
	ASSERT_EQ(0, sc_open(fd, self->name, SHMCHAN_OPEN_RDONLY, NULL));
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ(EACCES, errno);
	p = sc_map(fd, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p))
		TH_LOG("MAP_SHARED, PROT_READ of an O_RDONLY descriptor: errno %d", errno);
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, self->page);
	close(fd);
}

/*
 * MREMAP_DONTUNMAP copies a channel mapping as it would a file's: both
 * ranges map the channel, and each counts (SHMCHAN_FEATURE_MLOCK).
 */
TEST_F(bad, mremap_dontunmap_copies)
{
	char *p = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);
	char *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'a';
	q = mremap(p, self->page, self->page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('a', q[0]);
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ(2ULL, sc_nmaps(self->fd));
	munmap(p, self->page);
	munmap(q, self->page);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/* Moved to a fixed address: still one mapping, same memory. */
TEST_F(bad, mremap_fixed_move)
{
	char *p = sc_map(self->fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	char *dst = mmap(NULL, 2 * self->page, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(dst));
	p[self->page] = 'm';
	q = mremap(p, 2 * self->page, 2 * self->page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(SC_P(dst), SC_P(q));
	EXPECT_EQ('m', q[self->page]);
	EXPECT_EQ(1ULL, sc_nmaps(self->fd));
	munmap(q, 2 * self->page);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/*
 * MADV_REMOVE frees the pages of the channel (as on SysV shm): everyone
 * sees zeros afterwards and the channel keeps working. On a mapping of a
 * read-only handle it is refused (EACCES) and nothing is lost.
 */
TEST_F(bad, madvise_remove)
{
	int rofd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	char *rw = sc_map(self->fd, 4 * self->page, PROT_READ | PROT_WRITE, 0);
	char *ro = sc_map(rofd, 4 * self->page, PROT_READ, 0);
	struct shmchan_stat st;

	ASSERT_LE(0, rofd);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(rw));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(ro));
	memset(rw, 'z', 4 * self->page);
	EXPECT_EQ(-1, madvise(ro, 4 * self->page, MADV_REMOVE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ('z', ro[3 * self->page]);

	EXPECT_EQ(0, madvise(rw + self->page, 2 * self->page, MADV_REMOVE));
	EXPECT_EQ('z', ro[0]);
	EXPECT_EQ(0, ro[self->page]);
	EXPECT_EQ(0, ro[3 * self->page - 1]);
	EXPECT_EQ('z', ro[3 * self->page]);
	rw[self->page] = 'y';
	EXPECT_EQ('y', ro[self->page]);
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u64)(4 * self->page), st.length);
	EXPECT_EQ(2ULL, st.nmaps);
	munmap(rw, 4 * self->page);
	munmap(ro, 4 * self->page);
	close(rofd);
}

/*
 * Moving the middle of a mapping away leaves three VMAs of the channel,
 * each counted, all on the same memory; unmapping them all counts down
 * to zero.
 */
TEST_F(bad, mremap_move_middle_part)
{
	const size_t pg = self->page;
	char *p = sc_map(self->fd, 4 * pg, PROT_READ | PROT_WRITE, 0);
	char *dst = mmap(NULL, 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(dst));
	q = mremap(p + pg, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(SC_P(dst), SC_P(q));
	EXPECT_EQ(3ULL, sc_nmaps(self->fd));
	q[pg] = 'm';
	p[3 * pg] = 'e';
	EXPECT_EQ('m', ((volatile char *)q)[pg]);
	munmap(q, 2 * pg);
	EXPECT_EQ(2ULL, sc_nmaps(self->fd));
	/* the pages moved were the channel's: a new mapping sees them */
	q = sc_map(self->fd, 4 * pg, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('m', q[2 * pg]);
	EXPECT_EQ('e', q[3 * pg]);
	munmap(q, 4 * pg);
	munmap(p, 4 * pg);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
}

/*
 * MAP_FIXED over part of a live read-only mapping: a read-write one
 * (through the read-write handle) replaces that part, a PROT_WRITE one
 * through the read-only handle is refused. The counts follow every VMA.
 */
TEST_F(bad, map_fixed_over_live_mapping)
{
	const size_t pg = self->page;
	int rofd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	char *p, *q;

	ASSERT_LE(0, rofd);
	p = sc_map(rofd, 4 * pg, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	q = mmap(p + pg, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 self->fd, 3 * pg);
	ASSERT_EQ(SC_P(p + pg), SC_P(q));
	EXPECT_EQ(3ULL, sc_nmaps(self->fd));
	q[0] = 'w';
	EXPECT_EQ('w', p[pg]);
	EXPECT_EQ('w', p[3 * pg]);
	q = mmap(p, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, rofd, 0);
	EXPECT_EQ(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ(EACCES, errno);
	munmap(p, 4 * pg);
	EXPECT_EQ(0ULL, sc_nmaps(self->fd));
	close(rofd);
}

/*
 * A read-only handle's mapping stays read-only for the debugger paths
 * too: a forced write through /proc/self/mem and process_vm_writev()
 * are refused and change nothing.
 */
TEST_F(bad, rdonly_map_forced_write_refused)
{
	int rofd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	char *w = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);
	char buf[8] = "forced!", *p;
	struct iovec local = { buf, sizeof(buf) }, remote;
	int mem;

	ASSERT_LE(0, rofd);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(w));
	p = sc_map(rofd, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	strcpy(w, "channel");
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite(mem, buf, sizeof(buf), (off_t)(uintptr_t)p));
	EXPECT_EQ(8, pread(mem, buf, sizeof(buf), (off_t)(uintptr_t)p));
	EXPECT_EQ(0, memcmp(buf, "channel", 8));
	remote.iov_base = p;
	remote.iov_len = sizeof(buf);
	/* ENOSYS without CONFIG_CROSS_MEMORY_ATTACH (the debug kernel) */
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_TRUE(errno == EFAULT || errno == ENOSYS) TH_LOG("errno %d", errno);
	EXPECT_STREQ("channel", w);
	close(mem);
	munmap(p, self->page);
	munmap(w, self->page);
	close(rofd);
}

/* ---- handles of destroyed and revoked channels ---------------------------------------- */

/* After DESTROY, the handle's channel still takes STAT, SETATTR and mmap. */
TEST_F(bad, destroyed_handle_keeps_working)
{
	struct shmchan_stat st;
	char *p;

	ASSERT_EQ(0, sc_destroy(self->dev, self->name, 0));
	EXPECT_EQ(-ENOENT, sc_destroy(self->dev, self->name, 0));
	EXPECT_EQ(0, sc_chmod(self->fd, 0640));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0640U, st.mode);
	EXPECT_NE(0U, st.state & SHMCHAN_STATE_DESTROYED);
	p = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 1;
	EXPECT_EQ(0, sc_wake(self->fd, 0, 1));
	munmap(p, self->page);
}

/* After a revoke: memory, STAT and SETATTR still work; WAIT and WAKE do not. */
TEST_F(bad, revoked_handle)
{
	struct shmchan_stat st;
	char *p;

	ASSERT_EQ(0, sc_destroy(self->dev, self->name, SHMCHAN_DESTROY_REVOKE));
	p = sc_map(self->fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 1;
	EXPECT_EQ(0, sc_chmod(self->fd, 0400));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED | SHMCHAN_STATE_WRITABLE,
		  st.state);
	EXPECT_EQ(-EIDRM, sc_wait(self->fd, 0, 1, sc_now_ns() + SC_NSEC));
	EXPECT_EQ(-EIDRM, sc_wake(self->fd, 0, 1));
	/* bad arguments are still reported as such */
	EXPECT_EQ(-EINVAL, sc_wake(self->fd, 3, 1));
	munmap(p, self->page);
}

/* ---- the device itself --------------------------------------------------------------- */

TEST_F(bad, read_write_einval)
{
	char buf[16] = "x";

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->dev, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

/* ---- a deadline past KTIME_MAX ------------------------------------------------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

/* Taken as "never"; a signal (no SA_RESTART) still ends the wait: EINTR. */
TEST_F(bad, wait_deadline_beyond_ktime_max)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 0, 200000 } };
	struct shmchan_wait w = {
		.size = sizeof(w), .flags = SHMCHAN_WAIT_DEADLINE,
		.expected = 0, .deadline_ns = ~0ULL,
	};

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.deadline_ns = 1ULL << 63;
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
}

/* ---- nwaiters and wakes ----------------------------------------------------------------- */

/*
 * STAT's nwaiters counts "tasks blocked in WAIT": once it shows a waiter, a
 * WAKE must find it. Each round waits on a page never touched before (the
 * WAIT allocates it first, which widens any window between being counted
 * and being queued).
 */
TEST_F_TIMEOUT(bad, counted_waiter_is_wakeable, 120)
{
	unsigned int i, rounds = hard_scaled(40), missed = 0;
	const size_t len = 64 * self->page;
	const char *name = sc_newname("nwait");
	int fd = sc_new(name, len, 0600, 0);

	ASSERT_LE(0, fd);
	for (i = 0; i < rounds; i++) {
		__u64 off = (i % 64) * self->page;
		pid_t pid;
		int woken;

		if (i % 64 == 0 && i) {		/* fresh pages again */
			char *p = sc_map(fd, len, PROT_READ | PROT_WRITE, 0);

			ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
			ASSERT_EQ(0, madvise(p, len, MADV_REMOVE));
			munmap(p, len);
		}
		pid = sc_fork();
		if (pid == 0)
			_exit(sc_wait(fd, off, 0, sc_now_ns() + 20 * SC_NSEC) ? 1 : 0);
		ASSERT_EQ(1, sc_poll_nwaiters(fd, 1, 10000));
		woken = sc_wake(fd, off, 1);
		if (woken != 1) {
			missed++;
			/* the waiter was counted but not yet queued: wake it now */
			while (sc_wake(fd, off, 1) != 1 && !sc_finished(pid, NULL))
				usleep(1000);
		}
		sc_reap(pid, 30000);
	}
	EXPECT_EQ(0U, missed) TH_LOG("%u of %u WAKEs after STAT showed the waiter found nobody",
				    missed, rounds);
	close(fd);
}

/* ---- two threads binding one handle --------------------------------------------------- */

struct bind_race {
	int fd;
	const char *name;
	pthread_barrier_t *go;
	int result;
};

static void *bind_thread(void *arg)
{
	struct bind_race *b = arg;

	pthread_barrier_wait(b->go);
	b->result = sc_create(b->fd, b->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL, NULL);
	return NULL;
}

/* Exactly one CREATE wins; the loser gets EBUSY and makes no channel. */
TEST_F(bad, bind_race_two_threads)
{
	unsigned int i, rounds = hard_scaled(100);

	for (i = 0; i < rounds; i++) {
		char names[2][64];
		pthread_barrier_t go;
		struct bind_race b[2];
		pthread_t t[2];
		int fd = sc_dev(), k, wins = 0;

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
		for (k = 0; k < 2; k++) {
			/* not sc_newname(): removed right here, not tracked */
			snprintf(names[k], sizeof(names[k]), "kst.race.%d.%u.%d",
				 (int)getpid(), i, k);
			b[k] = (struct bind_race){ .fd = fd, .name = names[k], .go = &go };
			ASSERT_EQ(0, pthread_create(&t[k], NULL, bind_thread, &b[k]));
		}
		for (k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		for (k = 0; k < 2; k++) {
			if (b[k].result == 0) {
				wins++;
				EXPECT_EQ(1, sc_exists(b[k].name));
			} else {
				EXPECT_EQ(-EBUSY, b[k].result);
				EXPECT_EQ(0, sc_exists(b[k].name));
			}
			sc_rm(b[k].name, 0);
		}
		EXPECT_EQ(1, wins);
		pthread_barrier_destroy(&go);
		close(fd);
		if (wins != 1)
			break;
	}
}

/* The state letter of /proc/PID/stat ('R', 'S', 'D', ...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait up to @ms for @pid to sleep in 'D' (killable or not); 1 if it does. */
static int wait_state_d(pid_t pid, int ms)
{
	__u64 end = sc_now_ns() + (__u64)ms * 1000000ULL;

	while (sc_now_ns() < end) {
		if (proc_state(pid) == 'D')
			return 1;
		usleep(1000);
	}
	return 0;
}

/*
 * One round of bind_wait_killable: 1 if the victim died while the
 * populating process still ran, 0 if the populate ended too soon to tell,
 * -1 if the victim did not die in time.
 */
static int kill_waiting_binder(struct __test_metadata *_metadata,
			       const char *existing, size_t len, bool create)
{
	const char *big = sc_newname("popbig");
	long base_kb = hard_meminfo_kb("Shmem");
	int fd = sc_dev(), code, verdict;
	__u64 t0, end;
	pid_t pop, victim;

	if (fd < 0)
		return -1;
	pop = sc_fork();
	if (pop == 0)
		_exit(sc_create(fd, big, len, 0600, SHMCHAN_CREATE_POPULATE, NULL) ? 1 : 0);
	/* the populate is under way (and holds the handle) once Shmem grows */
	end = sc_now_ns() + 20 * SC_NSEC;
	while (hard_meminfo_kb("Shmem") < base_kb + 8192 && sc_now_ns() < end &&
	       !sc_finished(pop, NULL))
		usleep(1000);

	victim = sc_fork();
	if (victim == 0) {
		/* both must wait for the handle, as the populate has it */
		if (create)
			_exit(sc_create(fd, sc_newname("popv"), SC_PAGE, 0600, 0, NULL) == 0);
		_exit(sc_open(fd, existing, 0, NULL) == 0);
	}
	verdict = 0;
	if (wait_state_d(victim, 5000) && !sc_finished(pop, NULL)) {
		ASSERT_EQ(0, kill(victim, SIGKILL));
		t0 = sc_now_ns();
		code = sc_reap(victim, 3000);
		/* the populate must still be running: it did not free the victim */
		if (code == 1000 + SIGKILL && !sc_finished(pop, NULL)) {
			verdict = 1;
		} else if (code != 1000 + SIGKILL) {
			TH_LOG("SIGKILLed %s waiting for the handle: status %d after %llu ms",
			       create ? "CREATE" : "OPEN", code,
			       (unsigned long long)((sc_now_ns() - t0) / 1000000));
			verdict = -1;
		}
		victim = 0;
	}
	if (victim) {
		kill(victim, SIGKILL);
		sc_reap(victim, 60000);
	}
	kill(pop, SIGKILL);
	/* neither a killed populate nor the killed victim bound the handle */
	if (sc_reap(pop, 60000) == 1000 + SIGKILL && verdict == 1)
		EXPECT_EQ(-EBADFD, sc_wake(fd, 0, 1));
	close(fd);
	sc_rm(big, 0);
	return verdict;
}

/*
 * A second CREATE or OPEN on a handle whose CREATE_POPULATE is filling a
 * large channel waits for it; SIGKILL must end that wait at once, not
 * after the populate. The populate runs in another process sharing the
 * handle, so the kill does not stop it. A populate that ends before the
 * victim is seen waiting is tried again larger.
 */
TEST_F_TIMEOUT(bad, bind_wait_killable, 300)
{
	long avail_kb = hard_meminfo_kb("MemAvailable");
	size_t len = 256UL << 20, max;
	int k, r;

	ASSERT_LT(0, avail_kb);
	max = (size_t)avail_kb / 2 * 1024;
	for (k = 0; k < 2; k++) {
		for (len = 256UL << 20; len <= max; len *= 2) {
			r = kill_waiting_binder(_metadata, self->name, len, k);
			ASSERT_LE(0, r) TH_LOG("%s, populating %zu MiB",
					       k ? "CREATE" : "OPEN", len >> 20);
			if (r == 1)
				break;
		}
		if (len > max)
			SKIP(return, "populating %zu MiB ends too fast to tell", max >> 20);
	}
}

/*
 * A waiter stopped (SIGSTOP) and continued goes on waiting: the wait is
 * restarted, not failed, and ends at its deadline.
 */
TEST_F(bad, wait_survives_sigstop)
{
	__u64 deadline = sc_now_ns() + 2 * SC_NSEC;
	pid_t pid = sc_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-ETIMEDOUT, sc_wait(self->fd, 0, 0, deadline));
		CHILD_TRUE(sc_now_ns() >= deadline);
		_exit(0);
	}
	ASSERT_EQ(1, sc_poll_nwaiters(self->fd, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	sc_msleep(200);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	EXPECT_EQ(1, sc_poll_nwaiters(self->fd, 1, 10000));
	EXPECT_EQ(0, sc_reap(pid, 20000));
	EXPECT_EQ(0, sc_poll_nwaiters(self->fd, 0, 1000));
}

/* ---- huge shmem folios --------------------------------------------------------- */

#define THP_PMD		(2UL << 20)

/*
 * With huge shmem pages allowed (shmem_enabled=advise, then MADV_HUGEPAGE
 * by any user who may map the channel), words past the first page of a
 * huge folio sit in tail pages. WAIT once checked the tail page's own
 * ->mapping, which a huge folio does not set, took it for a punched hole
 * and retried forever: the caller spun in the kernel, unkillable.
 */
TEST_F(bad, wait_in_huge_folio)
{
	const size_t len = 2 * THP_PMD;
	const __u64 word = 2 * SC_PAGE + 4;
	char saved[32];
	const char *name;
	long huge_before;
	volatile __u32 *w;
	int fd, r, i, code = -1;
	struct sc_pipe ready;
	char *p, *space;
	pid_t pid;

	SC_REQUIRE_DEVICE();
	if (geteuid() != 0 || sc_thp_shmem_get(saved, sizeof(saved)))
		SKIP(return, "needs root and " SC_THP_SHMEM);
	ASSERT_EQ(0, sc_write_file(SC_THP_SHMEM, "advise"));
	name = sc_newname("thp");
	fd = sc_new(name, len, 0600, 0);
	ASSERT_LE(0, fd);
	/*
	 * At a huge-page-aligned address: newer kernels (6.12) give a
	 * mapping huge folios only where they can be mapped whole.
	 */
	space = mmap(NULL, len + THP_PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(space));
	p = (char *)(((uintptr_t)space + THP_PMD - 1) & ~(uintptr_t)(THP_PMD - 1));
	ASSERT_EQ(SC_P(p), SC_P(mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				    fd, 0)));
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	huge_before = hard_meminfo_kb("ShmemHugePages");
	p[0] = 1;
	if (hard_meminfo_kb("ShmemHugePages") <= huge_before) {
		sc_write_file(SC_THP_SHMEM, saved);
		SKIP(return, "no huge page could be allocated");
	}
	w = (volatile __u32 *)(p + word);

	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-ETIMEDOUT, sc_wait(fd, word, 0, 1));
		CHILD_EQ(-EAGAIN, sc_wait(fd, word, 1, 0));
		CHILD_EQ(0, sc_send(&ready, 'r'));
		CHILD_EQ(0, sc_wait(fd, word, 0, sc_now_ns() + 30 * SC_NSEC));
		_exit(0);
	}
	r = sc_recv(&ready, 10000) == 'r' ? sc_poll_nwaiters(fd, 1, 10000) : -1;
	*w = 1;
	sc_wake(fd, word, 1);
	EXPECT_EQ(1, r);
	/* Not sc_reap(): a child spinning in the kernel can't be reaped. */
	for (i = 0; i < 1000 && !sc_finished(pid, &code); i++)
		sc_msleep(10);
	EXPECT_EQ(0, code) TH_LOG("the waiter is stuck in WAIT");
	if (code == -1)
		kill(pid, SIGKILL);
	close(ready.rd);
	close(ready.wr);
	munmap(space, len + THP_PMD);
	close(fd);
	EXPECT_EQ(0, sc_write_file(SC_THP_SHMEM, saved));
}

TEST_HARNESS_MAIN
