// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan under failed allocations: for open(2) of the device, CREATE (new,
 * POPULATE, TRANSIENT, of an existing name), OPEN, mmap, a munmap that
 * splits a mapping, fork with a mapping, STAT, WAIT, WAKE, SETATTR and
 * DESTROY, make the 1st, 2nd, ... allocation of the call fail (through
 * /proc/thread-self/fail-nth, with failslab and fail_page_alloc set to
 * include sleeping allocations and to print nothing) until the call runs
 * without reaching the injected failure. Every failure must come back as
 * an errno the call may give (ENOMEM, mostly) and leave nothing behind: no
 * channel, no bound handle, no mapping, no page (Shmem in /proc/meminfo).
 * A failure the call survives (a fallback) is fine. The VM runner checks
 * that nothing was logged; the suite's last program checks that the
 * module still unloads and that kmemleak found nothing.
 *
 * Needs root, CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC
 * and CONFIG_FAULT_INJECTION_DEBUG_FS (the debug kernel of `make
 * check-debug`); skips without them.
 */
#include "hard.h"

#include <sys/mount.h>

#define DEBUGFS		"/sys/kernel/debug"
/* More allocations than any of these calls makes */
#define FI_MAX		400

/* The fault-injection knobs we set, and what they were. */
static const struct {
	const char *path;
	const char *value;
} knobs[] = {
	{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "/failslab/verbose", "0" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ DEBUGFS "/fail_page_alloc/min-order", "0" },
	{ DEBUGFS "/fail_page_alloc/verbose", "0" },
};

FIXTURE(fi) {
	int nth;			/* /proc/thread-self/fail-nth */
	char saved[ARRAY_SIZE(knobs)][16];
	const char *name;		/* 4 pages, mode 0666 */
	int fd;				/* bound to @name */
	long shmem_base;
	long channels_base;
};

static int knob_rw(const char *path, char *buf, size_t len, const char *set)
{
	int fd = open(path, set ? O_WRONLY | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (set) {
		n = write(fd, set, strlen(set));
	} else {
		n = read(fd, buf, len - 1);
		if (n >= 0)
			buf[n] = '\0';
	}
	close(fd);
	return n < 0 ? -errno : 0;
}

FIXTURE_SETUP(fi)
{
	unsigned int i;

	SC_REQUIRE_DEVICE();
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root for the fault-injection knobs");
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(_exit(255), "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	if (access(DEBUGFS "/failslab", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (access(DEBUGFS "/failslab", F_OK) || access(DEBUGFS "/fail_page_alloc", F_OK))
		SKIP(_exit(255), "no failslab or fail_page_alloc in " DEBUGFS
		     " (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		ASSERT_EQ(0, knob_rw(knobs[i].path, self->saved[i], sizeof(self->saved[i]), NULL));
		ASSERT_EQ(0, knob_rw(knobs[i].path, NULL, 0, knobs[i].value))
			TH_LOG("cannot set knob %u", i);
	}
	self->name = sc_newname("fi");
	self->fd = sc_new(self->name, 4 * SC_PAGE, 0666, 0);
	ASSERT_LE(0, self->fd);
	self->shmem_base = hard_meminfo_kb("Shmem");
	self->channels_base = hard_listing_count(NULL);
}

FIXTURE_TEARDOWN(fi)
{
	unsigned int i;

	if (self->nth >= 0) {
		if (pwrite(self->nth, "0", 1, 0) < 0)
			TH_LOG("cannot disarm fail-nth");
		for (i = 0; i < ARRAY_SIZE(knobs); i++)
			knob_rw(knobs[i].path, NULL, 0, self->saved[i]);
	}
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/* ---- the driver ------------------------------------------------------------ */

/*
 * What one call under test needs. @ctx is the test's; every function but
 * @call may be NULL.
 */
struct fi_ops {
	const char *what;
	void (*prep)(void *ctx);		/* before arming */
	int (*call)(void *ctx);			/* 0 done, or -errno */
	void (*undo)(void *ctx);		/* after a success */
	/* after a failure: NULL if nothing was left behind, else what */
	const char *(*leftover)(void *ctx);
	const int *errnos;			/* acceptable, 0-terminated */
};

static const int enomem[] = { ENOMEM, 0 };

static void fi_arm(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(nth, buf, len, 0) != len)
		abort();
}

/* Disarm; was the armed allocation reached (and failed)? */
static bool fi_disarm(int nth)
{
	char buf[16] = "";
	ssize_t len = pread(nth, buf, sizeof(buf) - 1, 0);

	if (len <= 0 || pwrite(nth, "0", 1, 0) != 1)
		abort();
	return strtoul(buf, NULL, 10) == 0;
}

static bool fi_errno_ok(const int *errnos, int err)
{
	for (; *errnos; errnos++)
		if (*errnos == err)
			return true;
	return false;
}

/*
 * Fail allocation 1, 2, ... of ops->call until a run does not reach the
 * armed allocation; that run must succeed. Returns how many allocations
 * were failed.
 */
static unsigned int fi_run(struct __test_metadata *_metadata, int nth,
			   const struct fi_ops *ops, void *ctx)
{
	unsigned int n, survived = 0;

	for (n = 1; n <= FI_MAX; n++) {
		const char *left;
		bool reached;
		int r;

		if (ops->prep)
			ops->prep(ctx);
		fi_arm(nth, n);
		r = ops->call(ctx);
		reached = fi_disarm(nth);
		if (!reached) {
			EXPECT_EQ(0, r) TH_LOG("%s: failed with no allocation failed", ops->what);
			if (ops->undo)
				ops->undo(ctx);
			TH_LOG("%s: %u allocations failed in turn, %u survived",
			       ops->what, n - 1, survived);
			return n - 1;
		}
		if (r == 0) {
			survived++;
			if (ops->undo)
				ops->undo(ctx);
			continue;
		}
		EXPECT_TRUE(fi_errno_ok(ops->errnos, -r))
			TH_LOG("%s: allocation %u failed it with errno %d (%s)",
			       ops->what, n, -r, strerror(-r));
		left = ops->leftover ? ops->leftover(ctx) : NULL;
		EXPECT_TRUE(!left)
			TH_LOG("%s: allocation %u failed it, and it left %s behind",
			       ops->what, n, left);
		if (left)
			break;
	}
	EXPECT_GT((unsigned int)FI_MAX, n) TH_LOG("%s: still failing after %u allocations",
				      ops->what, FI_MAX);
	return n;
}

/* After each test: no channel and no page more than before. */
static void fi_nothing_left(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fi) *self)
{
	EXPECT_EQ(self->channels_base, hard_listing_count(NULL));
	EXPECT_GE(self->shmem_base + 256, hard_shmem_settle(self->shmem_base, 256, 3000))
		TH_LOG("Shmem grew (kB)");
}

/* ---- the calls ---------------------------------------------------------------- */

struct ctx {
	FIXTURE_DATA(fi) *self;
	const char *name;	/* the channel a call makes, if it makes one */
	__u32 flags;
	size_t len;
	int fd;			/* a handle the call works on */
	char *map;
	pid_t child;
	unsigned int bad;	/* checks an undo function found failing */
};

static __u64 stat_field(int fd, size_t offset)
{
	struct shmchan_stat st;

	if (sc_stat(fd, &st))
		return ~0ULL;
	return *(__u64 *)((char *)&st + offset);
}

#define NMAPS(fd)	stat_field(fd, offsetof(struct shmchan_stat, nmaps))
#define NHANDLES(fd)	stat_field(fd, offsetof(struct shmchan_stat, nhandles))

/* open(2) of the device */
static int call_open_dev(void *p)
{
	struct ctx *c = p;

	c->fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -errno : 0;
}

static void undo_close(void *p)
{
	struct ctx *c = p;

	close(c->fd);
	c->fd = -1;
}

TEST_F(fi, open_device)
{
	static const int errs[] = { ENOMEM, ENFILE, 0 };
	struct fi_ops ops = {
		.what = "open(/dev/shmchan)", .call = call_open_dev,
		.undo = undo_close, .errnos = errs,
	};
	struct ctx c = { .self = self };

	fi_run(_metadata, self->nth, &ops, &c);
	fi_nothing_left(_metadata, self);
}

/* CREATE on a fresh unbound handle */
static void prep_handle(void *p)
{
	struct ctx *c = p;

	c->fd = sc_dev();
}

static int call_create(void *p)
{
	struct ctx *c = p;

	return sc_create(c->fd, c->name, c->len, 0600, c->flags, NULL);
}

static void undo_create(void *p)
{
	struct ctx *c = p;

	if (c->name != c->self->name)
		sc_destroy(c->fd, c->name, 0);
	close(c->fd);
}

static const char *left_by_create(void *p)
{
	struct ctx *c = p;
	struct shmchan_stat st;
	const char *left = NULL;

	if (sc_stat(c->fd, &st) != -EBADFD)
		left = "a bound handle";
	else if (c->name != c->self->name && sc_exists(c->name) != 0)
		left = "a channel";
	else if (NHANDLES(c->self->fd) != 1)
		left = "a handle counted on the existing channel";
	close(c->fd);
	return left;
}

static void run_create(struct __test_metadata *_metadata, FIXTURE_DATA(fi) *self,
		       const char *what, const char *name, __u32 flags, size_t len)
{
	struct fi_ops ops = {
		.what = what, .prep = prep_handle, .call = call_create,
		.undo = undo_create, .leftover = left_by_create, .errnos = enomem,
	};
	struct ctx c = { .self = self, .name = name, .flags = flags, .len = len };

	fi_run(_metadata, self->nth, &ops, &c);
	fi_nothing_left(_metadata, self);
}

TEST_F(fi, create)
{
	run_create(_metadata, self, "CREATE", sc_newname("fic"), SHMCHAN_CREATE_EXCL,
		   4 * SC_PAGE);
}

TEST_F(fi, create_populate)
{
	run_create(_metadata, self, "CREATE with POPULATE", sc_newname("fip"),
		   SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE, 16 * SC_PAGE);
}

TEST_F(fi, create_transient)
{
	run_create(_metadata, self, "CREATE transient", sc_newname("fit"),
		   SHMCHAN_CREATE_TRANSIENT, SC_PAGE);
}

TEST_F(fi, create_of_existing_name)
{
	run_create(_metadata, self, "CREATE of an existing name", self->name, 0, SC_PAGE);
}

/* OPEN of the existing channel, read-only */
static int call_open(void *p)
{
	struct ctx *c = p;

	return sc_open(c->fd, c->self->name, SHMCHAN_OPEN_RDONLY, NULL);
}

TEST_F(fi, open)
{
	struct fi_ops ops = {
		.what = "OPEN", .prep = prep_handle, .call = call_open,
		.undo = undo_close, .leftover = left_by_create, .errnos = enomem,
	};
	struct ctx c = { .self = self, .name = self->name };

	fi_run(_metadata, self->nth, &ops, &c);
	fi_nothing_left(_metadata, self);
}

/* mmap of the bound handle */
static int call_mmap(void *p)
{
	struct ctx *c = p;

	c->map = sc_map(c->self->fd, 2 * SC_PAGE, PROT_READ | PROT_WRITE, SC_PAGE);
	return c->map == MAP_FAILED ? -errno : 0;
}

static void undo_mmap(void *p)
{
	struct ctx *c = p;

	c->map[0] = 1;	/* the mapping works */
	munmap(c->map, 2 * SC_PAGE);
}

static const char *left_by_mmap(void *p)
{
	struct ctx *c = p;

	return NMAPS(c->self->fd) ? "a mapping counted" : NULL;
}

TEST_F(fi, mmap)
{
	struct fi_ops ops = {
		.what = "mmap", .call = call_mmap, .undo = undo_mmap,
		.leftover = left_by_mmap, .errnos = enomem,
	};
	struct ctx c = { .self = self };

	fi_run(_metadata, self->nth, &ops, &c);
	EXPECT_EQ(0ULL, NMAPS(self->fd));
	fi_nothing_left(_metadata, self);
}

/* munmap of the middle page of three: the VMA splits (vm_ops->open) */
static void prep_three_pages(void *p)
{
	struct ctx *c = p;

	c->map = sc_map(c->self->fd, 3 * SC_PAGE, PROT_READ | PROT_WRITE, 0);
}

static int call_munmap_middle(void *p)
{
	struct ctx *c = p;

	if (c->map == MAP_FAILED)
		return -ENOSYS;		/* prep failed: reported as a bad errno */
	return munmap(c->map + SC_PAGE, SC_PAGE) ? -errno : 0;
}

/* VMAs of /proc/self/maps that start in [@addr, @addr + @len) */
static unsigned long long vmas_in(const char *addr, size_t len)
{
	unsigned long long n = 0;
	unsigned long start;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return ~0ULL;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-", &start) == 1 && start >= (unsigned long)addr &&
		    start < (unsigned long)addr + len)
			n++;
	fclose(f);
	return n;
}

static void undo_munmap_middle(void *p)
{
	struct ctx *c = p;

	if (NMAPS(c->self->fd) != 2 || vmas_in(c->map, 3 * SC_PAGE) != 2)
		c->bad++;
	munmap(c->map, 3 * SC_PAGE);
}

/*
 * A failed munmap may leave the mapping split (the mm core does not merge
 * back a split it made before the failure): what matters is that every
 * page is still mapped and the module counts the VMAs that exist.
 */
static const char *left_by_munmap(void *p)
{
	struct ctx *c = p;
	const char *left = NULL;

	if (NMAPS(c->self->fd) != vmas_in(c->map, 3 * SC_PAGE))
		left = "a VMA count that differs from the VMAs in /proc/self/maps";
	c->map[0] = c->map[SC_PAGE] = c->map[2 * SC_PAGE] = 1;	/* all mapped */
	munmap(c->map, 3 * SC_PAGE);
	return left;
}

TEST_F(fi, munmap_split)
{
	struct fi_ops ops = {
		.what = "munmap splitting a mapping", .prep = prep_three_pages,
		.call = call_munmap_middle, .undo = undo_munmap_middle,
		.leftover = left_by_munmap, .errnos = enomem,
	};
	struct ctx c = { .self = self };

	fi_run(_metadata, self->nth, &ops, &c);
	EXPECT_EQ(0U, c.bad) TH_LOG("a split left other than two VMAs counted");
	EXPECT_EQ(0ULL, NMAPS(self->fd));
	fi_nothing_left(_metadata, self);
}

/*
 * fork() of a process with a mapping: dup_mmap copies the VMA and calls
 * vm_ops->open. Done by a prober child with its own fail-nth: once fork()
 * makes fewer allocations than the armed one, the armed failure lands in
 * the prober's own copy-on-write faults after fork() returned, which can
 * kill it (SIGSEGV: a stack that cannot grow) and also means fork() itself
 * ran clean. Prober exit codes: 0 clean success, 1 survived an injected
 * failure, 2 failed with ENOMEM or EAGAIN, 10 and up: a broken test.
 */
static int fork_prober(int fd, unsigned int n)
{
	int nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	char *p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
	bool reached;
	pid_t kid;
	int err;

	if (nth < 0 || p == MAP_FAILED)
		return 10;
	p[0] = 1;
	fi_arm(nth, n);
	kid = fork();
	err = errno;
	if (kid == 0)
		_exit(0);
	reached = fi_disarm(nth);
	if (kid > 0)
		waitpid(kid, NULL, 0);
	if (!reached)
		return kid > 0 ? 0 : 11;
	if (kid > 0)
		return 1;
	return err == ENOMEM || err == EAGAIN ? 2 : 12;
}

TEST_F(fi, fork_with_mapping)
{
	unsigned int n, i;
	int status = -1;

	for (n = 1; n <= FI_MAX; n++) {
		pid_t pid = sc_fork();

		if (pid == 0)
			_exit(fork_prober(self->fd, n));
		ASSERT_LT(0, pid);
		status = sc_reap(pid, 30000);
		/*
		 * The prober's VMAs, and its child's, are gone with them. A
		 * prober killed before it reaped its child leaves that child
		 * to init, still exiting: give it a moment.
		 */
		for (i = 0; i < 500 && NMAPS(self->fd); i++)
			sc_msleep(10);
		EXPECT_EQ(0ULL, NMAPS(self->fd)) TH_LOG("fork: allocation %u", n);
		if (status == 0 || status == 1000 + SIGSEGV)
			break;
		EXPECT_TRUE(status == 1 || status == 2)
			TH_LOG("fork: allocation %u: prober status %d", n, status);
		if (status != 1 && status != 2)
			break;
	}
	TH_LOG("fork with a mapping: %u allocations failed in turn", n - 1);
	EXPECT_GT((unsigned int)FI_MAX, n);
	fi_nothing_left(_metadata, self);
}

/* WAIT on a page never touched: it is allocated to read the word */
static void prep_fresh_channel(void *p)
{
	struct ctx *c = p;

	c->name = sc_newname("fiw");
	c->fd = sc_new(c->name, 4 * SC_PAGE, 0600, 0);
}

static int call_wait(void *p)
{
	struct ctx *c = p;
	int r = sc_wait(c->fd, 2 * SC_PAGE + 8, 1, sc_now_ns() + 1000000);

	return r == -EAGAIN ? 0 : r;	/* the word is 0, not 1 */
}

static void undo_fresh_channel(void *p)
{
	struct ctx *c = p;

	sc_destroy(c->fd, c->name, 0);
	close(c->fd);
	sc_ntracked--;		/* destroyed: do not track it */
}

static const char *left_by_wait(void *p)
{
	struct ctx *c = p;
	struct shmchan_stat st;
	const char *left = NULL;

	if (sc_stat(c->fd, &st) || st.nwaiters)
		left = "a waiter counted";
	undo_fresh_channel(c);
	return left;
}

TEST_F(fi, wait_on_untouched_page)
{
	struct fi_ops ops = {
		.what = "WAIT", .prep = prep_fresh_channel, .call = call_wait,
		.undo = undo_fresh_channel, .leftover = left_by_wait, .errnos = enomem,
	};
	struct ctx c = { .self = self };

	fi_run(_metadata, self->nth, &ops, &c);
	fi_nothing_left(_metadata, self);
}

/* A WAIT that sleeps until its deadline */
static int call_wait_sleep(void *p)
{
	struct ctx *c = p;
	int r = sc_wait(c->self->fd, 0, 0, sc_now_ns() + 2000000);

	return r == -ETIMEDOUT ? 0 : r;
}

/* The commands that should not allocate at all: run once each. */
static int call_stat(void *p)
{
	struct ctx *c = p;
	struct shmchan_stat st;

	return sc_stat(c->self->fd, &st);
}

static int call_wake(void *p)
{
	struct ctx *c = p;
	int r = sc_wake(c->self->fd, 0, SHMCHAN_WAKE_ALL);

	return r > 0 ? 0 : r;
}

static int call_setattr(void *p)
{
	struct ctx *c = p;

	return sc_chmod(c->self->fd, 0666);
}

static int call_features(void *p)
{
	struct ctx *c = p;
	struct shmchan_features f;

	return sc_features(c->self->fd, &f);
}

TEST_F(fi, stat_wait_wake_setattr_features)
{
	const struct fi_ops ops[] = {
		{ .what = "STAT", .call = call_stat, .errnos = enomem },
		{ .what = "WAIT until the deadline", .call = call_wait_sleep,
		  .errnos = enomem },
		{ .what = "WAKE", .call = call_wake, .errnos = enomem },
		{ .what = "SETATTR", .call = call_setattr, .errnos = enomem },
		{ .what = "FEATURES", .call = call_features, .errnos = enomem },
	};
	struct ctx c = { .self = self };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		fi_run(_metadata, self->nth, &ops[i], &c);
	fi_nothing_left(_metadata, self);
}

/* DESTROY of a channel with no users: its memory goes at once */
static int call_destroy(void *p)
{
	struct ctx *c = p;

	return sc_rm(c->name, SHMCHAN_DESTROY_REVOKE);
}

static void prep_idle_channel(void *p)
{
	struct ctx *c = p;
	int fd;

	c->name = sc_newname("fid");
	fd = sc_new(c->name, 2 * SC_PAGE, 0600, SHMCHAN_CREATE_POPULATE);
	if (fd >= 0)
		close(fd);
}

static const char *left_by_destroy(void *p)
{
	struct ctx *c = p;

	/* a failed DESTROY must leave the channel as it was */
	return sc_exists(c->name) == 1 && sc_rm(c->name, 0) == 0 ? NULL : "a half-destroyed channel";
}

TEST_F(fi, destroy)
{
	static const int errs[] = { ENOMEM, 0 };
	struct fi_ops ops = {
		.what = "DESTROY", .prep = prep_idle_channel, .call = call_destroy,
		.leftover = left_by_destroy, .errnos = errs,
	};
	struct ctx c = { .self = self };

	fi_run(_metadata, self->nth, &ops, &c);
	fi_nothing_left(_metadata, self);
}

TEST_HARNESS_MAIN
