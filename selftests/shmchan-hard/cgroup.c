// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan and memory cgroups: pages are charged to the cgroup of the task
 * that touches them, as for shmem. A process in a cgroup with memory.max
 * 64 MiB touching a 256 MiB channel is contained there (the cgroup's OOM
 * killer acts, nothing else is hurt); POPULATE charges every page to the
 * creator at create time, so a channel its cgroup cannot back fails with
 * ENOMEM then; destroying the channel gives everything back (the cgroup's
 * memory.current and Shmem in /proc/meminfo return to where they were).
 *
 * Needs root and cgroup v2 with the memory controller (mounted on
 * /sys/fs/cgroup here if nothing is); skips otherwise. Sizes are divided by
 * SHMCHAN_TEST_SCALE. Declares the OOM report it provokes to the VM runner.
 */
#include "hard.h"

#include <sys/mount.h>
#include <sys/statfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

#define CG_ROOT		"/sys/fs/cgroup"
#define MiB		(1024UL * 1024)

FIXTURE(cg) {
	char dir[128];		/* our cgroup */
	unsigned long limit;	/* its memory.max */
	long shmem_base;	/* kB */
};

static int cg_write(const char *dir, const char *file, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return sc_write_file(path, text);
}

/* A number in a cgroup file, or of a "key value" line in it; -1 if absent. */
static long long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t klen = key ? strlen(key) : 0;

		if (!key) {
			v = strtoll(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Mount cgroup2 if needed and enable the memory controller for children. */
static int cg_prepare(void)
{
	struct statfs sfs;

	if (statfs(CG_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
			return -errno;
	}
	return cg_write(CG_ROOT, "cgroup.subtree_control", "+memory");
}

FIXTURE_SETUP(cg)
{
	char text[32];
	int r;

	SC_REQUIRE_DEVICE();
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root to make memory cgroups");
	r = cg_prepare();
	if (r)
		SKIP(_exit(255), "no cgroup v2 memory controller (%s)", strerror(-r));
	snprintf(self->dir, sizeof(self->dir), CG_ROOT "/shmchan-test.%d", (int)getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	self->limit = hard_scaled(64) * MiB;
	snprintf(text, sizeof(text), "%lu", self->limit);
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", text));
	/* no swap in the VM; where there is some, keep it out of the picture */
	cg_write(self->dir, "memory.swap.max", "0");
	self->shmem_base = hard_meminfo_kb("Shmem");
}

FIXTURE_TEARDOWN(cg)
{
	sc_cleanup();
	rmdir(self->dir);
}

/* Fork a child that joins the cgroup, then runs @fn(@arg); its status. */
static int in_cgroup(const char *dir, int (*fn)(void *), void *arg)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		char me[16];

		snprintf(me, sizeof(me), "%d", (int)getpid());
		CHILD_EQ(0, cg_write(dir, "cgroup.procs", me));
		_exit(fn(arg));
	}
	if (pid < 0)
		return -1;
	return sc_reap(pid, 120000);
}

struct touch {
	const char *name;
	size_t len;
};

static int touch_all(void *arg)
{
	const struct touch *t = arg;
	int fd = sc_attach(t->name, 0);
	char *p;
	size_t off;

	CHILD_TRUE(fd >= 0);
	p = sc_map(fd, t->len, PROT_READ | PROT_WRITE, 0);
	CHILD_TRUE(p != MAP_FAILED);
	for (off = 0; off < t->len; off += SC_PAGE)
		p[off] = 1;
	return 0;	/* not expected: the cgroup is smaller */
}

/*
 * A child in a 64 MiB cgroup touches a 256 MiB channel: the cgroup's OOM
 * killer ends it. The channel's other users are unaffected: the parent,
 * outside, still reads what was written and fills the rest. Destroying the
 * channel uncharges the cgroup and gives the memory back.
 */
TEST_F_TIMEOUT(cg, touch_beyond_limit_contained, 240)
{
	struct touch t = { .name = sc_newname("cgtouch"), .len = 4 * self->limit };
	long long ooms, usage;
	size_t off, touched = 0;
	int status, fd;
	char *p;

	hard_allow_dmesg("cgroup-oom",
			 "invoked oom-killer|Memory cgroup out of memory|oom-kill:|"
			 "Memory cgroup stats for|memory: usage|swap: usage|"
			 "Tasks state|Killed process");
	fd = sc_new(t.name, t.len, 0600, 0);
	ASSERT_LE(0, fd);

	status = in_cgroup(self->dir, touch_all, &t);
	EXPECT_EQ(1000 + SIGKILL, status) TH_LOG("the child was not OOM-killed");
	ooms = cg_read(self->dir, "memory.events", "oom_kill");
	EXPECT_LE(1, ooms);
	usage = cg_read(self->dir, "memory.current", NULL);
	EXPECT_GE((long long)self->limit, usage);

	/* The parent is not in that cgroup: the whole channel is usable */
	p = sc_map(fd, t.len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	for (off = 0; off < t.len; off += SC_PAGE) {
		touched += p[off] == 1;
		p[off] = 2;
	}
	EXPECT_LT(0UL, touched) TH_LOG("nothing the child wrote is there");
	EXPECT_GE(self->limit / SC_PAGE, touched);
	munmap(p, t.len);
	close(fd);

	EXPECT_EQ(0, sc_rm(t.name, 0));
	usage = cg_read(self->dir, "memory.current", NULL);
	EXPECT_GT((long long)MiB, usage) TH_LOG("still charged after destroy");
	EXPECT_GE(self->shmem_base + 1024,
		  hard_shmem_settle(self->shmem_base, 1024, 5000));
}

struct populate {
	const char *name;
	size_t len;
	int expect;
};

static int create_populated(void *arg)
{
	const struct populate *t = arg;
	int fd = sc_new(t->name, t->len, 0600, SHMCHAN_CREATE_POPULATE);

	CHILD_EQ(t->expect, fd < 0 ? fd : 0);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* POPULATE of more than the cgroup may have: ENOMEM, nothing left. */
TEST_F_TIMEOUT(cg, populate_unbackable_enomem, 120)
{
	struct populate t = {
		.name = sc_newname("cgpop"), .len = 2 * self->limit, .expect = -ENOMEM,
	};

	/* the cgroup may OOM-kill the creator instead: declared, then refused */
	hard_allow_dmesg("cgroup-oom-populate",
			 "invoked oom-killer|Memory cgroup out of memory|oom-kill:|"
			 "Memory cgroup stats for|memory: usage|swap: usage|"
			 "Tasks state|Killed process");
	EXPECT_EQ(0, in_cgroup(self->dir, create_populated, &t))
		TH_LOG("POPULATE beyond memory.max must fail with ENOMEM at create");
	EXPECT_EQ(0, sc_exists(t.name));
	EXPECT_GT((long long)MiB, cg_read(self->dir, "memory.current", NULL));
	EXPECT_GE(self->shmem_base + 1024,
		  hard_shmem_settle(self->shmem_base, 1024, 5000));
}

/* POPULATE charges every page to the creator's cgroup at once. */
TEST_F_TIMEOUT(cg, populate_charged_to_creator, 120)
{
	struct populate t = {
		.name = sc_newname("cgpop"), .len = self->limit / 4, .expect = 0,
	};
	long long usage;

	EXPECT_EQ(0, in_cgroup(self->dir, create_populated, &t));
	usage = cg_read(self->dir, "memory.current", NULL);
	EXPECT_LE((long long)t.len, usage);
	/* System-wide Shmem also moves with others' tmpfs use: 1 MiB slack */
	EXPECT_LE(self->shmem_base + (long)(t.len / 1024) - 1024,
		  hard_meminfo_kb("Shmem"));
	EXPECT_EQ(0, sc_rm(t.name, 0));
	EXPECT_GT((long long)MiB, cg_read(self->dir, "memory.current", NULL));
	EXPECT_GE(self->shmem_base + 1024,
		  hard_shmem_settle(self->shmem_base, 1024, 5000));
}

TEST_HARNESS_MAIN
