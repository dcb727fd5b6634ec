// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan lifetimes: DESTROY removes the name at once while handles and
 * mappings keep the memory; channels outlive their creators; transient
 * channels vanish after the last handle and mapping, even after SIGKILL,
 * and remap_file_pages() cannot bring one back without its name.
 */
#include "shmchan_test.h"

FIXTURE(life) {
	const char *name;
	size_t page;
};

FIXTURE_SETUP(life)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->name = sc_newname("life");
}

FIXTURE_TEARDOWN(life)
{
	sc_cleanup();
}

/* ---- DESTROY ------------------------------------------------------------------------ */

/*
 * After DESTROY the name is free: CREATE makes a new channel whose memory
 * is not the old one's, while the old mapping still has the old data.
 */
TEST_F(life, destroy_then_create_makes_new_channel)
{
	int old_fd = sc_new(self->name, 2 * self->page, 0600, SHMCHAN_CREATE_EXCL);
	volatile char *old_map, *new_map, *m;
	struct shmchan_create c;
	struct shmchan_stat st;
	int new_fd, ro;

	ASSERT_LE(0, old_fd);
	old_map = sc_map(old_fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(old_map));
	old_map[0] = 'O';
	old_map[self->page] = 'P';

	ASSERT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, sc_exists(self->name));

	new_fd = sc_dev();
	ASSERT_LE(0, new_fd);
	ASSERT_EQ(0, sc_create(new_fd, self->name, self->page, 0600, 0, &c));
	EXPECT_EQ(SHMCHAN_CREATED, c.result);
	EXPECT_EQ((__u64)self->page, c.length);	/* not the old length */
	new_map = sc_map(new_fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(new_map));
	EXPECT_EQ(0, new_map[0]);
	new_map[0] = 'N';
	EXPECT_EQ('O', old_map[0]);
	EXPECT_EQ('P', old_map[self->page]);

	ASSERT_EQ(0, sc_stat(old_fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED, st.state & SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ((__u64)(2 * self->page), st.length);
	EXPECT_EQ(1ULL, st.nhandles);
	ASSERT_EQ(0, sc_stat(new_fd, &st));
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ(1ULL, st.nhandles);

	/* OPEN finds the new one. */
	ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	m = sc_map(ro, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(m));
	EXPECT_EQ('N', m[0]);
	munmap((void *)m, self->page);
	close(ro);
	munmap((void *)old_map, 2 * self->page);
	munmap((void *)new_map, self->page);
	close(old_fd);
	close(new_fd);
}

/* The habit of removing a channel right after attaching works. */
TEST_F(life, destroyed_channel_shared_by_processes)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct sc_pipe ready, go;
	volatile __u32 *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&go));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_attach(self->name, 0);
		volatile __u32 *q;

		CHILD_TRUE(cfd >= 0);
		sc_send(&ready, 'r');
		/* Parent destroys the name now. */
		CHILD_EQ('g', sc_recv(&go, 20000));
		CHILD_EQ(-ENOENT, sc_attach(self->name, 0));
		q = sc_map(cfd, self->page, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		close(cfd);
		CHILD_EQ(0xfeedU, q[0]);
		q[1] = 0xbeefU;
		_exit(0);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	ASSERT_EQ(0, sc_rm(self->name, 0));
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 0xfeedU;
	sc_send(&go, 'g');
	ASSERT_EQ(0, sc_reap(pid, 20000));
	EXPECT_EQ(0xbeefU, p[1]);
	munmap((void *)p, self->page);
	close(fd);
}

/* A mapping keeps a destroyed channel's memory after its handle is closed. */
TEST_F(life, destroyed_mapping_survives_close)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	volatile char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'd';
	ASSERT_EQ(0, sc_rm(self->name, 0));
	close(fd);
	EXPECT_EQ('d', p[0]);
	p[1] = 'e';
	EXPECT_EQ('e', p[1]);
	/* In a forked child too. */
	EXPECT_EQ(0, sc_probe(p + 2, 1));
	EXPECT_EQ(1, p[2]);
	EXPECT_EQ(0, munmap((void *)p, self->page));
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(life, destroy_state_bits)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	int ro = -1;
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_WRITABLE, st.state);
	ASSERT_EQ(0, sc_rm(self->name, 0));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_WRITABLE, st.state);
	ASSERT_EQ(0, sc_stat(ro, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED, st.state);
	EXPECT_EQ(2ULL, st.nhandles);
	close(ro);
	close(fd);
}

/* ---- channels outlive processes ---------------------------------------------------- */

TEST_F(life, outlives_creator)
{
	struct shmchan_stat st;
	volatile char *p;
	pid_t pid;
	int fd;

	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, self->page, 0644, SHMCHAN_CREATE_EXCL);
		volatile char *q;

		CHILD_TRUE(cfd >= 0);
		q = sc_map(cfd, self->page, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		q[0] = 'c';
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	fd = sc_attach(self->name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ((__s32)pid, st.cpid);
	EXPECT_EQ(0644U, st.mode);
	EXPECT_EQ(1ULL, st.nhandles);
	EXPECT_EQ(0ULL, st.nmaps);
	p = sc_map(fd, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ('c', p[0]);
	munmap((void *)p, self->page);
	close(fd);
}

/* ---- transient channels ------------------------------------------------------------ */

TEST_F(life, transient_state_bit)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_TRANSIENT);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_TRANSIENT | SHMCHAN_STATE_WRITABLE, st.state);
	close(fd);
}

TEST_F(life, transient_gone_after_close)
{
	int fd = sc_new(self->name, self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);

	ASSERT_LE(0, fd);
	EXPECT_EQ(1, sc_exists(self->name));
	close(fd);
	EXPECT_EQ(0, sc_exists(self->name));
	/* The name can be used again. */
	fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	EXPECT_LE(0, fd);
	close(fd);
}

/* A mapping keeps a transient channel alive after close; munmap ends it. */
TEST_F(life, transient_stays_while_mapped)
{
	int fd = sc_new(self->name, 2 * self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
	volatile char *p, *q;
	struct shmchan_stat st;
	int fd2;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 't';
	close(fd);
	/* Still there, with its data. */
	fd2 = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd2);
	q = sc_map(fd2, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(q));
	EXPECT_EQ('t', q[0]);
	munmap((void *)q, self->page);
	ASSERT_EQ(0, sc_stat(fd2, &st));
	EXPECT_EQ(1ULL, st.nmaps);
	EXPECT_EQ(1ULL, st.nhandles);
	close(fd2);
	EXPECT_EQ(1, sc_exists(self->name));
	/* Splitting and unmapping piece by piece: gone with the last piece. */
	ASSERT_EQ(0, munmap((void *)p, self->page));
	EXPECT_EQ(1, sc_exists(self->name));
	ASSERT_EQ(0, munmap((void *)(p + self->page), self->page));
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(life, transient_stays_while_other_handle)
{
	int fd = sc_new(self->name, self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
	int fd2;

	ASSERT_LE(0, fd);
	fd2 = sc_attach(self->name, 0);
	ASSERT_LE(0, fd2);
	close(fd);
	EXPECT_EQ(1, sc_exists(self->name));
	close(fd2);
	EXPECT_EQ(0, sc_exists(self->name));
}

/* The last user is SIGKILLed with a handle and a mapping: nothing is left. */
TEST_F(life, transient_gone_after_sigkill)
{
	struct sc_pipe ready;
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_new(self->name, 4 * self->page, 0600,
				SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
		volatile char *p;

		CHILD_TRUE(fd >= 0);
		p = sc_map(fd, 4 * self->page, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(p != MAP_FAILED);
		p[0] = 1;
		sc_send(&ready, 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	EXPECT_EQ(1, sc_exists(self->name));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_poll_exists(self->name, 0, 3000));
}

/* Same while the victim sleeps in WAIT with only a mapping left (no handle). */
TEST_F(life, transient_gone_after_sigkill_of_waiter)
{
	struct sc_pipe ready;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, self->page, 0600,
				 SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		CHILD_TRUE(sc_map(cfd, self->page, PROT_READ, 0) != MAP_FAILED);
		sc_send(&ready, 'r');
		sc_wait(cfd, 0, 0, 0);
		_exit(3);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	/* Watch it from a handle of our own, then let go of that handle. */
	fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1LL, sc_poll_nwaiters(fd, 1, 10000));
	close(fd);
	EXPECT_EQ(1, sc_exists(self->name));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_poll_exists(self->name, 0, 3000));
}

/* A forked child keeps the inherited handle and mapping alive. */
TEST_F(life, transient_kept_by_forked_child)
{
	int fd = sc_new(self->name, self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
	struct sc_pipe go;
	void *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_pipe_init(&go));
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ('g', sc_recv(&go, 20000));
		((volatile char *)p)[0] = 'k';
		_exit(0);
	}
	close(fd);
	munmap(p, self->page);
	EXPECT_EQ(1, sc_exists(self->name));
	sc_send(&go, 'g');
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_poll_exists(self->name, 0, 3000));
}

/* DESTROY works on a transient channel like on any other. */
TEST_F(life, transient_destroyed_explicitly)
{
	int fd = sc_new(self->name, self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;
	int fd2;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, sc_exists(self->name));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_TRANSIENT |
		  SHMCHAN_STATE_WRITABLE, st.state);
	/* A new channel of that name is not touched when the old one dies. */
	fd2 = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd2);
	close(fd);
	EXPECT_EQ(1, sc_exists(self->name));
	close(fd2);
	EXPECT_EQ(1, sc_exists(self->name));
}

/* Opening without TRANSIENT does not change a transient channel. */
TEST_F(life, transient_opened_by_create_stays_transient)
{
	int fd = sc_new(self->name, self->page, 0600,
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_EXCL);
	struct shmchan_create c;
	struct shmchan_stat st;
	int fd2 = sc_dev();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sc_create(fd2, self->name, self->page, 0600, 0, &c));
	EXPECT_EQ(0U, c.result);
	ASSERT_EQ(0, sc_stat(fd2, &st));
	EXPECT_EQ(SHMCHAN_STATE_TRANSIENT, st.state & SHMCHAN_STATE_TRANSIENT);
	close(fd);
	close(fd2);
	EXPECT_EQ(0, sc_exists(self->name));
}

/* ---- memory is freed with the last user ---------------------------------------- */

#define MEM_LEN (16ULL << 20)
#define MEM_KIB ((int)(MEM_LEN >> 10))

static int shmem_grown(long long base)
{
	return (int)(sc_shmem_kib() - base);
}

/* Destroyed while mapped: the pages stay until the last munmap, then go. */
TEST_F(life, destroyed_memory_freed_after_last_unmap)
{
	long long base = sc_shmem_kib();
	int fd = sc_new(self->name, MEM_LEN, 0600,
			SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE);
	volatile char *p;
	int grown;

	ASSERT_LE(0, (int)base);
	ASSERT_LE(0, fd);
	p = sc_map(fd, MEM_LEN, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[MEM_LEN - 1] = 'x';
	ASSERT_EQ(0, sc_rm(self->name, 0));
	close(fd);
	grown = shmem_grown(base);
	EXPECT_LE(MEM_KIB - 1024, grown) TH_LOG("freed while still mapped");
	EXPECT_EQ('x', p[MEM_LEN - 1]);
	ASSERT_EQ(0, munmap((void *)p, MEM_LEN));
	grown = (int)(sc_poll_shmem_below(base + 1024, 3000) - base);
	EXPECT_GT(1024, grown) TH_LOG("Shmem still %d KiB up", grown);
}

/* ---- remap_file_pages() ------------------------------------------------------------ */

/* Is @name a line of /proc/shmchan? 1, 0, or -errno. */
static int listed(const char *name)
{
	char line[1024];
	size_t n = strlen(name);
	FILE *f = fopen("/proc/shmchan", "re");
	int found = 0;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");

		found = len > n && line[len - n - 1] == ' ' &&
			!strncmp(line + len - n, name, n);
	}
	fclose(f);
	return found;
}

/*
 * remap_file_pages() over the whole of the only mapping of a transient
 * channel that has no handle left: the mm core unmaps the old VMA (the
 * last user: the name goes) before it maps the file anew. It must not
 * bring the nameless channel back to life: the call fails with EIDRM, the
 * range is left unmapped, the channel and its pages are gone, and the
 * name is free.
 */
TEST_F(life, transient_remap_of_last_mapping_eidrm)
{
	const size_t half = MEM_LEN / 2;
	long long base = sc_shmem_kib();
	int fd = sc_new(self->name, MEM_LEN, 0600, SHMCHAN_CREATE_EXCL |
			SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_POPULATE);
	unsigned char vec;
	char *p;

	ASSERT_LE(0, (int)base);
	ASSERT_LE(0, fd);
	p = sc_map(fd, half, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	close(fd);
	ASSERT_EQ(1, sc_exists(self->name));

	EXPECT_EQ(-1, remap_file_pages(p, half, 0, half / self->page, 0));
	EXPECT_EQ(EIDRM, errno);
	/* no stale state: no name, no channel in the listing, no mapping */
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(0, listed(self->name));
	EXPECT_EQ(-1, mincore(p, self->page, &vec));
	EXPECT_EQ(ENOMEM, errno);
	munmap(p, half);
	EXPECT_GT(1024, (int)(sc_poll_shmem_below(base + 1024, 3000) - base));
	/* the name makes a new channel */
	fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd);
	close(fd);
}

/*
 * Remapping part of the only mapping splits it first: the rest is still a
 * user, so the name stays and the call works.
 */
TEST_F(life, transient_remap_of_part_of_last_mapping)
{
	int fd = sc_new(self->name, 2 * self->page, 0600,
			SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[self->page] = 's';
	close(fd);
	ASSERT_EQ(0, remap_file_pages(p, self->page, 0, 1, 0));
	EXPECT_EQ('s', p[0]);
	EXPECT_EQ(1, sc_exists(self->name));
	EXPECT_EQ(1, listed(self->name));
	munmap(p, 2 * self->page);
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(0, listed(self->name));
}

/* While a handle is open, remapping the only mapping is fine. */
TEST_F(life, transient_remap_with_handle_open)
{
	int fd = sc_new(self->name, 2 * self->page, 0600,
			SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	struct shmchan_stat st;
	char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[self->page] = 'h';
	ASSERT_EQ(0, remap_file_pages(p, self->page, 0, 1, 0));
	EXPECT_EQ('h', p[0]);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(2ULL, st.nmaps);
	EXPECT_EQ(1, sc_exists(self->name));
	munmap(p, 2 * self->page);
	close(fd);
	EXPECT_EQ(0, sc_exists(self->name));
}

/*
 * A channel that is not transient keeps its name without users, so its
 * only mapping may be remapped once every handle is closed.
 */
TEST_F(life, persistent_remap_of_last_mapping)
{
	int fd = sc_new(self->name, 2 * self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;
	char *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, 2 * self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[self->page] = 'p';
	close(fd);
	ASSERT_EQ(0, remap_file_pages(p, 2 * self->page, 0, 0, 0));
	ASSERT_EQ(0, remap_file_pages(p, self->page, 0, 1, 0));
	EXPECT_EQ('p', p[0]);
	fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(2ULL, st.nmaps);
	munmap(p, 2 * self->page);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(0ULL, st.nmaps);
	close(fd);
	EXPECT_EQ(1, sc_exists(self->name));
}

/* A transient channel's pages go with its last user, after SIGKILL too. */
TEST_F(life, transient_memory_freed_after_sigkill)
{
	long long base = sc_shmem_kib();
	struct sc_pipe ready;
	pid_t pid;
	int grown;

	ASSERT_LE(0, (int)base);
	ASSERT_EQ(0, sc_pipe_init(&ready));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_new(self->name, MEM_LEN, 0600, SHMCHAN_CREATE_EXCL |
				SHMCHAN_CREATE_TRANSIENT | SHMCHAN_CREATE_POPULATE);

		CHILD_TRUE(fd >= 0);
		CHILD_TRUE(sc_map(fd, MEM_LEN, PROT_READ, 0) != MAP_FAILED);
		sc_send(&ready, 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	EXPECT_LE(MEM_KIB - 1024, shmem_grown(base));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, sc_reap(pid, 10000));
	grown = (int)(sc_poll_shmem_below(base + 1024, 3000) - base);
	EXPECT_GT(1024, grown) TH_LOG("Shmem still %d KiB up", grown);
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_HARNESS_MAIN
