// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan limits: the module parameters under /sys/module/shmchan/parameters
 * changed at run time (max_channel_size → EFBIG, max_channels and
 * max_total_size → ENOSPC for everyone, max_user_channels and max_user_size
 * → EDQUOT per creating user, CAP_SYS_RESOURCE exempt), accounting that
 * follows the channel's memory (a destroyed channel still mapped still
 * counts; a change of owner does not move it; uids mapped into a user
 * namespace count against its owner too), parameter writes that are
 * not numbers, and a channel larger than memory (ENOMEM at create).
 *
 * Needs root; every test restores the parameters it changed.
 */
#include "hard.h"

#include <sched.h>

static const char *const params[] = {
	"max_channels", "max_total_size", "max_user_channels", "max_user_size",
	"max_channel_size",
};

#define USER	1000
#define USER2	1001

FIXTURE(lim) {
	unsigned long long saved[ARRAY_SIZE(params)];
	size_t page;
};

FIXTURE_SETUP(lim)
{
	unsigned int i;

	SC_REQUIRE_DEVICE();
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root to change module parameters");
	for (i = 0; i < ARRAY_SIZE(params); i++)
		ASSERT_EQ(0, sc_param_get(params[i], &self->saved[i]))
			TH_LOG("cannot read parameter %u of " SC_PARAMS, i);
	self->page = SC_PAGE;
}

FIXTURE_TEARDOWN(lim)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(params); i++)
		sc_param_set(params[i], self->saved[i]);
	sc_cleanup();
}

/* The number of channels and their bytes, as root sees them in the listing. */
static long existing(unsigned long long *bytes)
{
	return hard_listing_count(bytes);
}

/* ---- the parameters themselves ------------------------------------------- */

static int write_as_user(void *arg)
{
	CHILD_EQ(-EACCES, sc_param_write(arg, "1"));
	return 0;
}

TEST_F(lim, params_world_readable_root_writable)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		char path[128];
		struct stat sb;

		snprintf(path, sizeof(path), SC_PARAMS "%s", params[i]);
		ASSERT_EQ(0, stat(path, &sb));
		EXPECT_EQ(0644U, sb.st_mode & 07777) TH_LOG("parameter %u", i);
		EXPECT_EQ(0, hard_as(USER, USER, write_as_user, (void *)params[i]));
	}
}

/* Not a number, negative, too large: refused, the value stays. */
TEST_F(lim, params_reject_garbage)
{
	static const char *const bad[] = {
		"abc", "-1", "1x", "0x", "99999999999999999999999",
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		unsigned long long v;

		ASSERT_EQ(0, sc_param_set(params[i], 12345 * self->page));
		for (j = 0; j < ARRAY_SIZE(bad); j++)
			EXPECT_GT(0, sc_param_write(params[i], bad[j]))
				TH_LOG("parameter %u accepted garbage %u", i, j);
		ASSERT_EQ(0, sc_param_get(params[i], &v));
		EXPECT_EQ(12345 * self->page, v) TH_LOG("parameter %u", i);
	}
}

/* ---- one channel's size: EFBIG --------------------------------------------------- */

TEST_F(lim, max_channel_size_efbig)
{
	const char *name = sc_newname("csize");
	int fd = sc_dev();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_param_set("max_channel_size", 4 * self->page));
	/* rounded up to pages first: one byte more is a fifth page */
	EXPECT_EQ(-EFBIG, sc_create(fd, name, 4 * self->page + 1, 0600, 0, NULL));
	EXPECT_EQ(-EFBIG, sc_create(fd, name, 5 * self->page, 0600,
				    SHMCHAN_CREATE_POPULATE, NULL));
	EXPECT_EQ(0, sc_exists(name));
	EXPECT_EQ(0, sc_create(fd, name, 4 * self->page, 0600, 0, NULL));
	close(fd);
	/* lowering the limit leaves the channel; opening it still works */
	ASSERT_EQ(0, sc_param_set("max_channel_size", self->page));
	fd = sc_attach(name, 0);
	EXPECT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, sc_param_set("max_channel_size", 0));
	EXPECT_EQ(0, sc_rm(name, 0));
}

/* ---- all channels: ENOSPC, root included ------------------------------------------- */

TEST_F(lim, max_channels_enospc)
{
	const char *a = sc_newname("nch"), *b = sc_newname("nch"), *c = sc_newname("nch");
	long n = existing(NULL);
	int fa, fb, fc;
	char *p;

	ASSERT_LE(0, n);
	ASSERT_EQ(0, sc_param_set("max_channels", n + 2));
	fa = sc_new(a, self->page, 0600, 0);
	fb = sc_new(b, self->page, 0600, 0);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	EXPECT_EQ(-ENOSPC, sc_new(c, self->page, 0600, 0));
	EXPECT_EQ(0, sc_exists(c));

	/* Destroyed but still mapped: still counted until its memory goes */
	p = sc_map(fb, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	close(fb);
	EXPECT_EQ(0, sc_rm(b, 0));
	EXPECT_EQ(-ENOSPC, sc_new(c, self->page, 0600, 0));
	munmap(p, self->page);
	fc = sc_new(c, self->page, 0600, 0);
	EXPECT_LE(0, fc);

	/* Lowered below what exists: nothing goes, nothing new comes */
	ASSERT_EQ(0, sc_param_set("max_channels", 1));
	EXPECT_EQ(1, sc_exists(a));
	EXPECT_EQ(-ENOSPC, sc_new(b, self->page, 0600, 0));
	ASSERT_EQ(0, sc_param_set("max_channels", 0));	/* no limit */
	fb = sc_new(b, self->page, 0600, 0);
	EXPECT_LE(0, fb);
	close(fa);
	close(fb);
	close(fc);
}

TEST_F(lim, max_total_size_enospc)
{
	const char *a = sc_newname("tsz"), *b = sc_newname("tsz");
	unsigned long long bytes;
	int fa, fb;

	ASSERT_LE(0, existing(&bytes));
	ASSERT_EQ(0, sc_param_set("max_total_size", bytes + 3 * self->page));
	fa = sc_new(a, 2 * self->page, 0600, 0);
	ASSERT_LE(0, fa);
	EXPECT_EQ(-ENOSPC, sc_new(b, 2 * self->page, 0600, 0));
	/* the rounded-up length counts */
	EXPECT_EQ(-ENOSPC, sc_new(b, self->page + 1, 0600, 0));
	fb = sc_new(b, self->page, 0600, 0);
	EXPECT_LE(0, fb);
	close(fb);
	EXPECT_EQ(0, sc_rm(b, 0));
	/* freed: the room is back */
	fb = sc_new(b, self->page, 0600, SHMCHAN_CREATE_POPULATE);
	EXPECT_LE(0, fb);
	close(fa);
	close(fb);
}

/* ---- per user: EDQUOT, CAP_SYS_RESOURCE exempt ------------------------------------------ */

struct user_try {
	const char *names[3];
	__u64 len;
	int expect[3];		/* result of creating each name, in order */
};

static int user_creates(void *arg)
{
	const struct user_try *t = arg;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		int fd = sc_new(t->names[i], t->len, 0600, 0);

		CHILD_EQ(t->expect[i], fd < 0 ? fd : 0);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int user_destroys(void *arg)
{
	CHILD_EQ(0, sc_rm(arg, 0));
	return 0;
}

TEST_F(lim, max_user_channels_edquot)
{
	struct user_try t = {
		.names = { sc_newname("uch"), sc_newname("uch"), sc_newname("uch") },
		.len = self->page,
		.expect = { 0, 0, -EDQUOT },
	};
	struct user_try other = {
		.names = { sc_newname("uch2"), sc_newname("uch2"), sc_newname("uch2") },
		.len = self->page,
		.expect = { 0, 0, -EDQUOT },
	};
	const char *rootname = sc_newname("uchroot");
	const char *moved = t.names[0];
	int fd;

	ASSERT_EQ(0, sc_param_set("max_user_channels", 2));
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
	EXPECT_EQ(0, sc_exists(t.names[2]));
	/* another user has a quota of their own */
	EXPECT_EQ(0, hard_as(USER2, USER2, user_creates, &other));
	/* root (CAP_SYS_RESOURCE) is exempt */
	fd = sc_new(rootname, self->page, 0600, 0);
	EXPECT_LE(0, fd);
	close(fd);

	/* Handing a channel to another owner does not move its charge */
	fd = sc_attach(moved, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, USER2, 0));
	close(fd);
	t = (struct user_try){
		.names = { sc_newname("uch"), sc_newname("uch"), sc_newname("uch") },
		.len = self->page,
		.expect = { -EDQUOT, -EDQUOT, -EDQUOT },
	};
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
	/* ... until its memory is freed: the new owner destroys it */
	EXPECT_EQ(0, hard_as(USER2, USER2, user_destroys, (void *)moved));
	t.expect[0] = 0;
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
}

TEST_F(lim, max_user_size_edquot)
{
	struct user_try t = {
		.names = { sc_newname("usz"), sc_newname("usz"), sc_newname("usz") },
		.len = 2 * self->page,
		.expect = { 0, 0, -EDQUOT },
	};

	ASSERT_EQ(0, sc_param_set("max_user_size", 5 * self->page));
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
	/* one page is left: two do not fit, one does */
	t.names[0] = sc_newname("usz");
	t.names[1] = sc_newname("usz");
	t.names[2] = sc_newname("usz");
	t.len = self->page + 1;
	t.expect[0] = -EDQUOT;
	t.expect[1] = -EDQUOT;
	t.expect[2] = -EDQUOT;
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
	t.len = self->page;
	t.expect[0] = 0;
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &t));
}

/*
 * Fork a child that becomes USER, enters a user namespace of its own in
 * which root is @subuid (mapped by the real root, as newuidmap maps
 * subordinate ids), and tries the creates of @t there.
 */
static int subuid_creates(uid_t subuid, const struct user_try *t)
{
	int ready[2], go[2], ret;
	char path[64], map[64];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	pid = sc_fork();
	if (pid == 0) {
		char c;

		if (sc_become(USER, USER))
			CHILD_FAIL("cannot become %d: %s", USER, strerror(errno));
		CHILD_EQ(0, unshare(CLONE_NEWUSER));
		CHILD_EQ(1, write(ready[1], "r", 1));
		CHILD_EQ(1, read(go[0], &c, 1));
		CHILD_EQ(0, setresgid(0, 0, 0));
		CHILD_EQ(0, setresuid(0, 0, 0));
		_exit(user_creates((void *)t));
	}
	close(ready[1]);
	close(go[0]);
	ret = -1;
	if (pid > 0 && read(ready[0], path, 1) == 1) {
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)subuid);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		ret = sc_write_file(path, map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		ret = ret ?: sc_write_file(path, map);
	}
	close(ready[0]);
	if (!ret && write(go[1], "g", 1) != 1)
		ret = -errno;
	close(go[1]);
	if (pid > 0) {
		int status = sc_reap(pid, 30000);

		ret = ret ?: status;
	}
	return ret;
}

/*
 * Uids a user maps into a namespace of its own are users too, and what
 * they make counts against the namespace's owner as well: subordinate
 * ids do not multiply anyone's quota.
 */
TEST_F(lim, subuids_count_against_owner)
{
	struct user_try a = {
		.names = { sc_newname("sub"), sc_newname("sub"), sc_newname("sub") },
		.len = self->page,
		.expect = { 0, 0, -EDQUOT },
	};
	struct user_try b = {
		.names = { sc_newname("sub"), sc_newname("sub"), sc_newname("sub") },
		.len = self->page,
		.expect = { -EDQUOT, -EDQUOT, -EDQUOT },
	};
	struct hard_entry e = { 0 };

	ASSERT_EQ(0, sc_param_set("max_user_channels", 2));
	EXPECT_EQ(0, subuid_creates(200000, &a));
	ASSERT_EQ(1, hard_listing_find(a.names[0], &e));
	EXPECT_EQ(200000U, e.cuid);
	/* USER's quota went to what root in its namespace made */
	EXPECT_EQ(0, subuid_creates(300000, &b));
	EXPECT_EQ(0, hard_as(USER, USER, user_creates, &b));
	/* ... until one of those is freed */
	ASSERT_EQ(0, sc_rm(a.names[0], 0));
	b.expect[0] = 0;
	EXPECT_EQ(0, subuid_creates(300000, &b));
}

/* The global limits bind root as well (a limit of 0 means none: one first). */
TEST_F(lim, global_limits_bind_root)
{
	const char *name = sc_newname("groot");
	unsigned long long bytes;
	int fd = sc_new(sc_newname("groot"), self->page, 0600, 0);
	long n = existing(&bytes);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, sc_param_set("max_channels", n));
	EXPECT_EQ(-ENOSPC, sc_new(name, self->page, 0600, 0));
	ASSERT_EQ(0, sc_param_set("max_channels", 0));
	ASSERT_EQ(0, sc_param_set("max_total_size", bytes));
	EXPECT_EQ(-ENOSPC, sc_new(name, self->page, 0600, 0));
	EXPECT_EQ(0, sc_exists(name));
	close(fd);
}

/* ---- memory ---------------------------------------------------------------------------- */

/*
 * Twice the machine's memory cannot be committed (unless overcommit is
 * "always"): ENOMEM at create, with or without populate, nothing left.
 */
TEST_F(lim, larger_than_memory_enomem)
{
	const char *name = sc_newname("huge");
	long total_kb = hard_meminfo_kb("MemTotal");
	unsigned long long mode = 0;
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
	long shmem = hard_meminfo_kb("Shmem");

	if (f) {
		if (fscanf(f, "%llu", &mode) != 1)
			mode = 0;
		fclose(f);
	}
	if (mode == 1)
		SKIP(return, "vm.overcommit_memory is 1: everything can be committed");
	ASSERT_LT(0, total_kb);
	/* the module's own byte limits would say ENOSPC first */
	ASSERT_EQ(0, sc_param_set("max_total_size", 0));
	ASSERT_EQ(0, sc_param_set("max_channel_size", 0));
	EXPECT_EQ(-ENOMEM, sc_new(name, 2048ULL * total_kb, 0600, 0));
	EXPECT_EQ(-ENOMEM, sc_new(name, 2048ULL * total_kb, 0600, SHMCHAN_CREATE_POPULATE));
	EXPECT_EQ(0, sc_exists(name));
	EXPECT_GE(shmem + 256, hard_shmem_settle(shmem, 256, 2000));
}

TEST_HARNESS_MAIN
