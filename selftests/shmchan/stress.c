// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan concurrency storms: several processes create, open, map, wait,
 * wake and destroy the same few names at once, for a fixed number of
 * iterations. Only the errnos the races allow may appear (ENOENT, EEXIST,
 * EAGAIN, ETIMEDOUT, EIDRM after a revoke), every worker finishes, and at
 * the end no channel is left and the counters are back where they started.
 */
#include "shmchan_test.h"

#define NNAMES		3
#define NWORKERS	4
#define CHAN_LEN	(2 * 4096)

FIXTURE(storm) {
	const char *names[NNAMES];
};

FIXTURE_SETUP(storm)
{
	int i;

	SC_REQUIRE_DEVICE();
	for (i = 0; i < NNAMES; i++)
		self->names[i] = sc_newname("storm");
}

FIXTURE_TEARDOWN(storm)
{
	sc_cleanup();
}

struct tally {
	unsigned long ops, unexpected;
};

/* Note an unexpected result; print the first few. */
static void bad(struct tally *t, const char *what, int r)
{
	if (t->unexpected++ < 5)
		fprintf(stderr, "# worker %d: %s: unexpected %d (%s)\n", (int)getpid(),
			what, r, r < 0 ? strerror(-r) : "positive");
}

#define OK_IF(t, what, r, cond) do { if (!(cond)) bad(t, what, r); } while (0)

/*
 * Use a bound handle a little: map, write, wait (deadline passed), wake,
 * stat. Closes @fd.
 */
static void use_channel(struct tally *t, int fd, unsigned int *seed)
{
	struct shmchan_stat st;
	volatile __u32 *p;
	int r;

	r = sc_stat(fd, &st);
	OK_IF(t, "stat", r, r == 0 && st.length == CHAN_LEN && st.nhandles >= 1);
	p = sc_map(fd, CHAN_LEN, PROT_READ | PROT_WRITE, 0);
	if (p == MAP_FAILED) {
		bad(t, "mmap", -errno);
		close(fd);
		return;
	}
	p[1 + rand_r(seed) % 100] += 1;
	/*
	 * The deadline has passed, but a wake from another worker may still
	 * land between queueing and giving up: 0 is fine too.
	 */
	r = sc_wait(fd, 0, p[0], sc_now_ns() - 1);
	OK_IF(t, "wait (past deadline)", r,
	      r == -ETIMEDOUT || r == -EAGAIN || r == -EIDRM || r == 0);
	r = sc_wake(fd, 0, SHMCHAN_WAKE_ALL);
	OK_IF(t, "wake", r, r >= 0 || r == -EIDRM);
	if (rand_r(seed) % 2) {
		if (munmap((void *)p, CHAN_LEN))
			bad(t, "munmap", -errno);
		close(fd);
	} else {
		/* Close first, unmap later. */
		close(fd);
		if (munmap((void *)p, CHAN_LEN))
			bad(t, "munmap", -errno);
	}
}

static int mixed_worker(const char *const *names, unsigned int seed, int iters)
{
	struct tally t = { 0, 0 };
	int i;

	for (i = 0; i < iters; i++) {
		const char *name = names[rand_r(&seed) % NNAMES];
		int op = rand_r(&seed) % 8;
		struct shmchan_create c;
		int fd, r;

		t.ops++;
		switch (op) {
		case 0:	/* create or open */
		case 1:
			fd = sc_dev();
			r = sc_create(fd, name, CHAN_LEN, 0600,
				      op == 1 ? SHMCHAN_CREATE_TRANSIENT : 0, &c);
			OK_IF(&t, "create", r, r == 0 && c.length == CHAN_LEN);
			if (r == 0 && rand_r(&seed) % 2) {
				use_channel(&t, fd, &seed);
				fd = -1;
			}
			close(fd);
			break;
		case 2:	/* exclusive create */
			fd = sc_dev();
			r = sc_create(fd, name, CHAN_LEN, 0600, SHMCHAN_CREATE_EXCL, &c);
			OK_IF(&t, "create excl", r, r == 0 || r == -EEXIST);
			if (r == 0)
				OK_IF(&t, "create excl result", (int)c.result,
				      c.result == SHMCHAN_CREATED);
			close(fd);
			break;
		case 3:	/* open and use */
		case 4:
			fd = sc_dev();
			r = sc_open(fd, name, op == 4 ? SHMCHAN_OPEN_RDONLY : 0, NULL);
			OK_IF(&t, "open", r, r == 0 || r == -ENOENT);
			if (r == 0 && op == 3) {
				use_channel(&t, fd, &seed);
				fd = -1;
			} else if (r == 0) {
				r = sc_wait(fd, 4, 0xffffffffU, 0);
				OK_IF(&t, "wait ro", r, r == -EAGAIN || r == -EIDRM);
			}
			close(fd);
			break;
		case 5:	/* destroy */
			r = sc_rm(name, 0);
			OK_IF(&t, "destroy", r, r == 0 || r == -ENOENT);
			break;
		case 6:	/* destroy with revoke */
			r = sc_rm(name, SHMCHAN_DESTROY_REVOKE);
			OK_IF(&t, "revoke", r, r == 0 || r == -ENOENT);
			break;
		case 7:	/* a short real wait, woken by someone's wake or the deadline */
			fd = sc_attach(name, 0);
			OK_IF(&t, "attach", fd, fd >= 0 || fd == -ENOENT);
			if (fd >= 0) {
				r = sc_wait(fd, 0, 0, sc_now_ns() + 2000000ULL);
				OK_IF(&t, "wait", r, r == 0 || r == -ETIMEDOUT ||
				      r == -EAGAIN || r == -EIDRM);
				close(fd);
			}
			break;
		}
	}
	return t.unexpected ? 1 : 0;
}

static void run_workers(struct __test_metadata *_metadata,
			int (*fn)(const char *const *, unsigned int, int),
			const char *const *names, int iters)
{
	pid_t pids[NWORKERS];
	int i;

	for (i = 0; i < NWORKERS; i++) {
		pids[i] = sc_fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(fn(names, 0x9e3779b9U * (unsigned int)(i + 1) ^
				 (unsigned int)getpid(), iters));
	}
	for (i = 0; i < NWORKERS; i++) {
		EXPECT_EQ(0, sc_reap(pids[i], 200000)) TH_LOG("worker %d", i);
	}
}

TEST_F_TIMEOUT(storm, mixed_create_open_destroy, 240)
{
	int i;

	run_workers(_metadata, mixed_worker, self->names, 1500);
	/* Whatever is left goes now; then nothing is there. */
	for (i = 0; i < NNAMES; i++) {
		int r = sc_rm(self->names[i], 0);

		EXPECT_TRUE(r == 0 || r == -ENOENT) TH_LOG("destroy: %d", r);
		EXPECT_EQ(0, sc_exists(self->names[i]));
	}
}

/* Transient channels only: they must all be gone at the end, by themselves. */
static int transient_worker(const char *const *names, unsigned int seed, int iters)
{
	struct tally t = { 0, 0 };
	void *held = NULL;
	int i;

	for (i = 0; i < iters; i++) {
		const char *name = names[rand_r(&seed) % NNAMES];
		struct shmchan_create c;
		volatile __u32 *p;
		int fd = sc_dev();
		int r;

		t.ops++;
		r = sc_create(fd, name, CHAN_LEN, 0600, SHMCHAN_CREATE_TRANSIENT, &c);
		OK_IF(&t, "create", r, r == 0);
		if (r == 0 && rand_r(&seed) % 3) {
			p = sc_map(fd, CHAN_LEN, PROT_READ | PROT_WRITE, 0);
			if (p == MAP_FAILED) {
				bad(&t, "mmap", -errno);
			} else {
				p[2] += 1;
				/* Sometimes keep one mapping across iterations. */
				if (!held && rand_r(&seed) % 4 == 0) {
					held = (void *)p;
				} else if (munmap((void *)p, CHAN_LEN)) {
					bad(&t, "munmap", -errno);
				}
			}
		}
		close(fd);
		if (held && rand_r(&seed) % 8 == 0) {
			munmap(held, CHAN_LEN);
			held = NULL;
		}
	}
	if (held)
		munmap(held, CHAN_LEN);
	return t.unexpected ? 1 : 0;
}

TEST_F_TIMEOUT(storm, transient_churn, 240)
{
	int i;

	run_workers(_metadata, transient_worker, self->names, 800);
	for (i = 0; i < NNAMES; i++) {
		EXPECT_EQ(0, sc_poll_exists(self->names[i], 0, 3000))
			TH_LOG("transient %s left behind", self->names[i]);
	}
}

/*
 * One channel held open by the test; the workers attach, map, wait, wake,
 * unmap and detach. Afterwards nhandles, nmaps and nwaiters are back to
 * the test's own 1, 0, 0.
 */
static const char *counted_name;

static int counting_worker(const char *const *names, unsigned int seed, int iters)
{
	struct tally t = { 0, 0 };
	int i;

	(void)names;
	for (i = 0; i < iters; i++) {
		int fd = sc_attach(counted_name, rand_r(&seed) % 4 ? 0 : SHMCHAN_OPEN_RDONLY);
		volatile __u32 *p;
		int r;

		t.ops++;
		if (fd < 0) {
			bad(&t, "attach", fd);
			continue;
		}
		p = sc_map(fd, CHAN_LEN, PROT_READ, 0);
		if (p == MAP_FAILED) {
			bad(&t, "mmap", -errno);
		} else {
			r = sc_wait(fd, 8, p[2], sc_now_ns() + 1000000ULL);
			OK_IF(&t, "wait", r, r == 0 || r == -ETIMEDOUT || r == -EAGAIN);
			r = sc_wake(fd, 8, 1);
			OK_IF(&t, "wake", r, r >= 0);
			if (rand_r(&seed) % 2) {
				close(fd);
				fd = -1;
			}
			munmap((void *)p, CHAN_LEN);
		}
		close(fd);
	}
	return t.unexpected ? 1 : 0;
}

TEST_F_TIMEOUT(storm, counters_return_to_baseline, 240)
{
	int fd = sc_new(self->names[0], CHAN_LEN, 0600, SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;

	ASSERT_LE(0, fd);
	counted_name = self->names[0];
	run_workers(_metadata, counting_worker, self->names, 800);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(1ULL, st.nhandles);
	EXPECT_EQ(0ULL, st.nmaps);
	EXPECT_EQ(0ULL, st.nwaiters);
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ(0, sc_destroy(fd, self->names[0], 0));
	close(fd);
}

/*
 * Waiters block for real while another process revokes and re-creates the
 * channel underneath them: each wait ends with 0, ETIMEDOUT, EAGAIN or
 * EIDRM, and nothing hangs.
 */
static int revoke_waiter(const char *const *names, unsigned int seed, int iters)
{
	struct tally t = { 0, 0 };
	int i;

	(void)seed;
	for (i = 0; i < iters; i++) {
		int fd = sc_attach(names[0], 0);
		int r;

		t.ops++;
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			bad(&t, "attach", fd);
			continue;
		}
		r = sc_wait(fd, 0, 0, sc_now_ns() + 20000000ULL);
		OK_IF(&t, "wait", r, r == 0 || r == -ETIMEDOUT || r == -EAGAIN || r == -EIDRM);
		close(fd);
	}
	return t.unexpected ? 1 : 0;
}

TEST_F_TIMEOUT(storm, revoke_under_waiters, 240)
{
	pid_t waiters[3];
	int i, j;

	for (i = 0; i < 3; i++) {
		waiters[i] = sc_fork();
		ASSERT_LE(0, waiters[i]);
		if (waiters[i] == 0)
			_exit(revoke_waiter(self->names, 0, 300));
	}
	for (j = 0; j < 200; j++) {
		int fd = sc_new(self->names[0], CHAN_LEN, 0600, 0);
		int r;

		ASSERT_LE(0, fd);
		/* Let some waiters block, then wake or revoke under them. */
		sc_poll_nwaiters(fd, 2, 20);
		r = sc_wake(fd, 0, 1);
		EXPECT_TRUE(r >= 0) TH_LOG("wake: %d", r);
		r = sc_rm(self->names[0], j % 2 ? SHMCHAN_DESTROY_REVOKE : 0);
		EXPECT_EQ(0, r);
		if (j % 2 == 0) {
			/* Not revoked: wake whoever still waits on the old one. */
			r = sc_wake(fd, 0, SHMCHAN_WAKE_ALL);
			EXPECT_TRUE(r >= 0) TH_LOG("wake all: %d", r);
		}
		close(fd);
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, sc_reap(waiters[i], 100000));
	}
	EXPECT_EQ(0, sc_exists(self->names[0]));
}

TEST_HARNESS_MAIN
