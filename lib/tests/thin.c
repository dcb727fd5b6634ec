// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The thin layer's errors against the real module (run it in the VM, as
 * root): every errno that shmchan_create(3), shmchan_open(3),
 * shmchan_destroy(3), shmchan_features(3), shmchan_stat(3),
 * shmchan_wait(3), shmchan_wake(3), shmchan_setattr(3), shmchan_map(3) and
 * shmchan_resize(3)
 * list, got through the library's own calls, as a program would get them.
 * The errno coverage check of `make check` (tools/errno-cov) counts these.
 * Some need another user (nobody, 65534), a module limit lowered for the
 * test (restored), or a private mount namespace in which /dev/shmchan is
 * missing or not for everyone.
 */
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <grp.h>

#include "util.h"

#define NOBODY	65534
#define PARAMS	"/sys/module/shmchan/parameters/"

/* In a child: become the user nobody, no groups, no capabilities. */
static void become_nobody(void)
{
	ASSERT_EQ(setgroups(0, NULL), 0);
	ASSERT_EQ(setgid(NOBODY), 0);
	ASSERT_EQ(setuid(NOBODY), 0);
}

static unsigned long long param_get(const char *name)
{
	char path[128];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "re");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

static void param_set(const char *name, unsigned long long v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "we");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fprintf(f, "%llu\n", v) > 0);
	ASSERT_EQ(fclose(f), 0);
}

/* Run @fn in a child and expect it to exit 0. */
static void in_child(void (*fn)(void *), void *arg)
{
	ASSERT_EQ(reap(spawn(fn, arg)), 0);
}

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root");
}

/* ------------------------------------------------------------ create */

TEST(create_errors, 60)
{
	const char *n = chan_name("create");
	char longname[SHMCHAN_NAME_MAX + 2];
	struct shmchan *ch, *ch2;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_EQ(shmchan_create(NULL, 4096, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_create("", 4096, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create("a/b", 4096, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create(n, 0, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create(n, 4096, 01000, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 1U << 31, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create(longname, 4096, 0600, 0, &ch), -ENAMETOOLONG);
	/* More than a shmem file can hold. */
	ASSERT_EQ(shmchan_create(n, UINT64_MAX, 0600, 0, &ch), -EFBIG);

	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_create(n, 4096, 0600, SHMCHAN_CREATE_EXCL, &ch2), -EEXIST);
	ASSERT_EQ(shmchan_create(n, 8192, 0600, 0, &ch2), -EINVAL);
	shmchan_close(ch);
}

static void create_as_nobody(void *arg)
{
	const char *n = arg;
	struct shmchan *ch;

	become_nobody();
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), -EACCES);
	ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ch), -EACCES);
	ASSERT_EQ(shmchan_destroy(n, 0), -EPERM);
}

/* root's 0600 channel, to nobody: no access, no removal */
TEST(create_open_destroy_other_user, 60)
{
	const char *n = chan_name("other");
	struct shmchan *ch;

	need_root();
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	in_child(create_as_nobody, (void *)n);
	shmchan_close(ch);
}

static void create_over_quota(void *arg)
{
	const char *n = arg;
	char n2[80];
	struct shmchan *ch, *ch2;

	become_nobody();
	snprintf(n2, sizeof(n2), "%s-2", n);
	shmchan_destroy(n2, 0);
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_create(n2, 4096, 0600, 0, &ch2), -EDQUOT);
	shmchan_close(ch);
	ASSERT_EQ(shmchan_destroy(n, 0), 0);
}

/* max_channels for everyone (ENOSPC), max_user_channels for nobody (EDQUOT) */
TEST(create_limits, 60)
{
	const char *n = chan_name("lim"), *n2 = chan_name("lim2");
	unsigned long long all, user;
	struct shmchan *ch, *ch2;

	need_root();
	all = param_get("max_channels");
	user = param_get("max_user_channels");
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	param_set("max_channels", 1);
	ASSERT_EQ(shmchan_create(n2, 4096, 0600, 0, &ch2), -ENOSPC);
	param_set("max_channels", all);
	shmchan_close(ch);
	param_set("max_user_channels", 1);
	in_child(create_over_quota, (void *)chan_name("quota"));
	param_set("max_user_channels", user);
}

/*
 * With the module's size limits off, the longest channel there may be
 * (SHMCHAN_STATUS_OFFSET, 8 TiB; one page more is EFBIG) is more memory
 * than the VM can commit: ENOMEM.
 */
TEST(create_out_of_memory, 60)
{
	unsigned long long total, one;
	struct shmchan *ch;
	int ret;

	need_root();
	total = param_get("max_total_size");
	one = param_get("max_channel_size");
	param_set("max_total_size", 0);
	param_set("max_channel_size", 0);
	ret = shmchan_create(chan_name("nomem"), SHMCHAN_STATUS_OFFSET, 0600, 0, &ch);
	param_set("max_total_size", total);
	param_set("max_channel_size", one);
	ASSERT_EQ(ret, -ENOMEM);
}

/* In a mount namespace of its own: /dev without the device. */
static void without_device(void *arg)
{
	struct shmchan_features f;
	struct shmchan *ch;

	(void)arg;
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("none", "/dev", "tmpfs", 0, "mode=0755"), 0);
	ASSERT_EQ(shmchan_create("libtest-nodev", 4096, 0600, 0, &ch), -ENOENT);
	ASSERT_EQ(shmchan_open("libtest-nodev", 0, &ch), -ENOENT);
	ASSERT_EQ(shmchan_destroy("libtest-nodev", 0), -ENOENT);
	ASSERT_EQ(shmchan_features(&f), -ENOENT);
}

/* ... and with a /dev/shmchan that only root may open, as nobody. */
static void device_for_root(void *arg)
{
	struct shmchan_features f;
	struct shmchan *ch;
	struct stat st;

	(void)arg;
	ASSERT_EQ(stat("/dev/shmchan", &st), 0);
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("none", "/dev", "tmpfs", 0, "mode=0755"), 0);
	ASSERT_EQ(mknod("/dev/shmchan", S_IFCHR | 0600, st.st_rdev), 0);
	become_nobody();
	ASSERT_EQ(shmchan_create("libtest-rootdev", 4096, 0600, 0, &ch), -EACCES);
	ASSERT_EQ(shmchan_open("libtest-rootdev", 0, &ch), -EACCES);
	ASSERT_EQ(shmchan_destroy("libtest-rootdev", 0), -EACCES);
	ASSERT_EQ(shmchan_features(&f), -EACCES);
}

TEST(device_missing_or_denied, 60)
{
	need_root();
	in_child(without_device, NULL);
	in_child(device_for_root, NULL);
}

/*
 * ... and with a /dev/shmchan nobody may open only for reading (0644): the
 * library falls back to O_RDONLY, and the module refuses whatever changes
 * channels on such a descriptor (EBADF), but a read-only open. Done in a
 * private mount namespace rather than by chmod of the real device, so that
 * a failed assertion cannot leave the device's mode changed for the tests
 * that follow.
 */
static void device_read_only(void *arg)
{
	const char *n = arg;
	char fresh[80];
	struct shmchan *ch;
	struct stat st;

	snprintf(fresh, sizeof(fresh), "%s-new", n);
	ASSERT_EQ(stat("/dev/shmchan", &st), 0);
	ASSERT_EQ(unshare(CLONE_NEWNS), 0);
	ASSERT_EQ(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ASSERT_EQ(mount("none", "/dev", "tmpfs", 0, "mode=0755"), 0);
	ASSERT_EQ(mknod("/dev/shmchan", S_IFCHR | 0644, st.st_rdev), 0);
	become_nobody();
	ASSERT_EQ(shmchan_create(fresh, 4096, 0666, 0, &ch), -EBADF);
	ASSERT_EQ(shmchan_create(n, 4096, 0666, 0, &ch), -EBADF);
	ASSERT_EQ(shmchan_open(n, 0, &ch), -EBADF);
	ASSERT_EQ(shmchan_destroy(n, 0), -EBADF);
	/* Reading is still allowed; changing the channel through it is not. */
	ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ch), 0);
	ASSERT_EQ(shmchan_setattr(ch, SHMCHAN_SETATTR_MODE, 0600, 0, 0), -EBADF);
	shmchan_close(ch);
}

TEST(device_read_only, 60)
{
	const char *n = chan_name("rodev");
	struct shmchan *ch;
	struct shmchan_stat st;

	need_root();
	ASSERT_EQ(shmchan_create(n, 4096, 0666, 0, &ch), 0);
	in_child(device_read_only, (void *)n);
	/* Neither the destroy nor the setattr took effect. */
	ASSERT_EQ(shmchan_stat(ch, &st), 0);
	ASSERT_EQ(st.mode & 0777, 0666);
	shmchan_close(ch);
	ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ch), 0);
	shmchan_close(ch);
}

/* No descriptor left for the device: EMFILE from every call that opens it. */
static void out_of_descriptors(void *arg)
{
	const char *n = arg;
	struct shmchan_features f;
	struct shmchan *ch;
	struct rlimit rl;

	/* The soft limit: the hard one stays, as for a program. */
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ASSERT_TRUE(rl.rlim_max > 64);
	rl.rlim_cur = 64;
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
		;
	ASSERT_EQ(errno, EMFILE);
	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), -EMFILE);
	ASSERT_EQ(shmchan_open(n, 0, &ch), -EMFILE);
	ASSERT_EQ(shmchan_destroy(n, 0), -EMFILE);
	ASSERT_EQ(shmchan_features(&f), -EMFILE);
}

TEST(no_descriptor_left, 60)
{
	const char *n = chan_name("emfile");
	struct shmchan *ch;

	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	in_child(out_of_descriptors, (void *)n);
	shmchan_close(ch);
}

/* ------------------------------------------------- open, destroy, features */

TEST(open_destroy_features_errors, 60)
{
	const char *n = chan_name("odf");
	char longname[SHMCHAN_NAME_MAX + 2];
	unsigned char big[8192];
	struct shmchan *ch;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_EQ(shmchan_open(n, 0, &ch), -ENOENT);
	ASSERT_EQ(shmchan_open(NULL, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_open(n, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_open(n, 1U << 31, &ch), -EINVAL);
	ASSERT_EQ(shmchan_open("", 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_open(longname, 0, &ch), -ENAMETOOLONG);

	ASSERT_EQ(shmchan_destroy(n, 0), -ENOENT);
	ASSERT_EQ(shmchan_destroy(NULL, 0), -EINVAL);
	ASSERT_EQ(shmchan_destroy(n, 1U << 31), -EINVAL);
	ASSERT_EQ(shmchan_destroy("a b", 0), -EINVAL);
	ASSERT_EQ(shmchan_destroy(longname, 0), -ENAMETOOLONG);

	ASSERT_EQ(shmchan_features_sized(NULL, sizeof(struct shmchan_features)), -EINVAL);
	ASSERT_EQ(shmchan_features_sized((struct shmchan_features *)big, 4), -EINVAL);
	/* Larger than a page (a non-zero tail the library never passes). */
	memset(big, 0, sizeof(big));
	ASSERT_EQ(shmchan_features_sized((struct shmchan_features *)big, sizeof(big)),
		  -E2BIG);
}

/* ------------------------------------------------------------- stat */

TEST(stat_errors, 30)
{
	const char *n = chan_name("stat");
	unsigned char big[8192];
	struct shmchan_stat st;
	struct shmchan *ch;

	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_stat(NULL, &st), -EINVAL);
	ASSERT_EQ(shmchan_stat(ch, NULL), -EINVAL);
	ASSERT_EQ(shmchan_stat_sized(ch, &st, 4), -EINVAL);
	memset(big, 0, sizeof(big));
	ASSERT_EQ(shmchan_stat_sized(ch, (struct shmchan_stat *)big, sizeof(big)), -E2BIG);
	shmchan_close(ch);
}

/* ------------------------------------------------------- wait, wake */

static struct timespec deadline_in(uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	return ts;
}

TEST(wait_wake_errors, 60)
{
	const char *n = chan_name("wait");
	struct timespec bad = { 0, 1000000000L }, dl;
	struct shmchan_stat st;
	struct shmchan *ch;

	ASSERT_EQ(shmchan_create(n, 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_wait(NULL, 0, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_wait(ch, 2, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_wait(ch, 4096, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_wait(ch, 0, 0, &bad), -EINVAL);
	ASSERT_EQ(shmchan_wait_deaths(NULL, 0, 0, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_wait_deaths(ch, 2, 0, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_wake(NULL, 0, 1), -EINVAL);
	ASSERT_EQ(shmchan_wake(ch, 2, 1), -EINVAL);
	ASSERT_EQ(shmchan_wake(ch, 4096, 1), -EINVAL);

	/* The word is 0. */
	ASSERT_EQ(shmchan_wait(ch, 0, 1, NULL), -EAGAIN);
	dl = deadline_in(20000000);
	ASSERT_EQ(shmchan_wait(ch, 0, 0, &dl), -ETIMEDOUT);
	/* A death count that is not the channel's: at once. */
	ASSERT_EQ(shmchan_stat(ch, &st), 0);
	ASSERT_EQ(shmchan_wait_deaths(ch, 0, 0, st.deaths + 1, NULL), -EOWNERDEAD);

	start_alarms();
	dl = deadline_in(30ULL * 1000000000ULL);
	ASSERT_EQ(shmchan_wait(ch, 0, 0, &dl), -EINTR);
	dl = deadline_in(30ULL * 1000000000ULL);
	ASSERT_EQ(shmchan_wait_deaths(ch, 0, 0, st.deaths, &dl), -EINTR);
	stop_alarms();

	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_wait(ch, 0, 0, NULL), -EIDRM);
	ASSERT_EQ(shmchan_wait_deaths(ch, 0, 0, st.deaths, NULL), -EIDRM);
	ASSERT_EQ(shmchan_wake(ch, 0, 1), -EIDRM);
	shmchan_close(ch);
}

/* Every errno shmchan_waitv(3) lists but ENOTTY and ENOMEM, and its index. */
TEST(waitv_errors, 60)
{
	const char *n1 = chan_name("waitv1"), *n2 = chan_name("waitv2");
	struct timespec bad = { 0, 1000000000L }, dl;
	struct shmchan_waitv_word w[2], many[SHMCHAN_WAITV_MAX + 1];
	struct shmchan_stat st;
	struct shmchan *a, *b;
	uint64_t woken[2];
	volatile uint32_t *wa;
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(shmchan_create(n1, 4096, 0600, 0, &a), 0);
	ASSERT_EQ(shmchan_create(n2, 4096, 0600, 0, &b), 0);
	ASSERT_EQ(shmchan_map(a, PROT_READ | PROT_WRITE, (void **)&wa), 0);
	memset(w, 0, sizeof(w));
	w[0].ch = a;
	w[1].ch = b;
	w[1].offset = 8;

	ASSERT_EQ(shmchan_waitv(NULL, 1, NULL, NULL), -EINVAL);
	ASSERT_EQ(shmchan_waitv(w, 0, NULL, NULL), -EINVAL);
	for (i = 0; i <= SHMCHAN_WAITV_MAX; i++)
		many[i] = w[0];
	ASSERT_EQ(shmchan_waitv(many, SHMCHAN_WAITV_MAX + 1, NULL, NULL), -EINVAL);
	ASSERT_EQ(shmchan_waitv(w, 2, &bad, NULL), -EINVAL);
	w[1].ch = NULL;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EINVAL);
	w[1].ch = b;
	w[1].offset = 4096;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EINVAL);
	w[1].offset = 8;
	w[1].flags = 1U << 20;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EINVAL);
	w[1].flags = 0;
	w[1].deaths = 1;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EINVAL);
	w[1].deaths = 0;

	/* The words are 0. */
	w[1].expected = 1;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EAGAIN);
	w[1].expected = 0;
	dl = deadline_in(20000000);
	ASSERT_EQ(shmchan_waitv(w, 2, &dl, NULL), -ETIMEDOUT);
	ASSERT_EQ(shmchan_stat(b, &st), 0);
	w[1].flags = SHMCHAN_WAITV_DEATHS;
	w[1].deaths = st.deaths + 1;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EOWNERDEAD);
	w[1].deaths = st.deaths;

	start_alarms();
	dl = deadline_in(30ULL * 1000000000ULL);
	ASSERT_EQ(shmchan_waitv(w, 2, &dl, NULL), -EINTR);
	stop_alarms();

	/* Woken on the first word, by another process. */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct shmchan_stat s2;

		do {
			usleep(1000);
			if (shmchan_stat(a, &s2))
				_exit(1);
		} while (s2.nwaiters != 1);
		wa[0] = 1;
		_exit(shmchan_wake(a, 0, 1) == 1 ? 0 : 1);
	}
	dl = deadline_in(30ULL * 1000000000ULL);
	ASSERT_EQ(shmchan_waitv(w, 2, &dl, woken), 0);
	ASSERT_EQ(woken[0], 1);
	ASSERT_EQ(woken[1], 0);
	ASSERT_EQ(reap(pid), 0);

	ASSERT_EQ(shmchan_destroy(n2, SHMCHAN_DESTROY_REVOKE), 0);
	w[0].expected = 1;
	ASSERT_EQ(shmchan_waitv(w, 2, NULL, NULL), -EIDRM);
	shmchan_unmap((void *)wa, 4096);
	shmchan_close(a);
	shmchan_close(b);
}

/* ----------------------------------------------------------- setattr */

static void setattr_as_nobody(void *arg)
{
	struct shmchan *ch;

	become_nobody();
	ASSERT_EQ(shmchan_open(arg, 0, &ch), 0);
	ASSERT_EQ(shmchan_setattr(ch, SHMCHAN_SETATTR_MODE, 0600, 0, 0), -EPERM);
	shmchan_close(ch);
}

TEST(setattr_errors, 60)
{
	const char *n = chan_name("setattr");
	struct shmchan *ch;

	need_root();
	ASSERT_EQ(shmchan_create(n, 4096, 0666, 0, &ch), 0);
	ASSERT_EQ(shmchan_setattr(NULL, SHMCHAN_SETATTR_MODE, 0600, 0, 0), -EINVAL);
	ASSERT_EQ(shmchan_setattr(ch, 1U << 31, 0600, 0, 0), -EINVAL);
	ASSERT_EQ(shmchan_setattr(ch, SHMCHAN_SETATTR_MODE, 01000, 0, 0), -EINVAL);
	ASSERT_EQ(shmchan_setattr(ch, SHMCHAN_SETATTR_UID, 0, (uid_t)-1, 0), -EINVAL);
	in_child(setattr_as_nobody, (void *)n);
	shmchan_close(ch);
}

/* --------------------------------------------------------------- map */

/* Too little address space for the channel. */
static void map_without_room(void *arg)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	void *addr;

	ASSERT_EQ(setrlimit(RLIMIT_AS, &rl), 0);
	ASSERT_EQ(shmchan_map(arg, PROT_READ, &addr), -ENOMEM);
}

TEST(map_errors, 60)
{
	const char *n = chan_name("map");
	struct shmchan *ch, *ro, *big;
	void *addr;

	ASSERT_EQ(shmchan_create(n, 8192, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ro), 0);
	ASSERT_EQ(shmchan_map(NULL, PROT_READ, &addr), -EINVAL);
	ASSERT_EQ(shmchan_map(ch, PROT_READ, NULL), -EINVAL);
	ASSERT_EQ(shmchan_map_range(ch, 1, 4096, PROT_READ, &addr), -EINVAL);
	ASSERT_EQ(shmchan_map_range(ch, 0, 0, PROT_READ, &addr), -EINVAL);
	ASSERT_EQ(shmchan_map_range(ch, 4096, 8192, PROT_READ, &addr), -ENXIO);
	ASSERT_EQ(shmchan_map(ro, PROT_READ | PROT_WRITE, &addr), -EACCES);
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_EXEC, &addr), -EPERM);
	ASSERT_EQ(shmchan_map(ch, PROT_READ, &addr), 0);
	ASSERT_EQ(shmchan_unmap((char *)addr + 1, 4096), -EINVAL);
	ASSERT_EQ(shmchan_unmap(addr, 8192), 0);
	ASSERT_EQ(shmchan_create(chan_name("mapbig"), 256 << 20, 0600, 0, &big), 0);
	in_child(map_without_room, big);
	shmchan_close(big);
	shmchan_close(ro);
	shmchan_close(ch);
}

/* ------------------------------------------------------------ resize */

/* As nobody, with max_user_size lowered by the parent: EDQUOT */
static void resize_over_quota(void *arg)
{
	const char *n = arg;
	struct shmchan *ch;

	become_nobody();
	ASSERT_EQ(shmchan_create_max(n, 4096, 1 << 20, 0600,
				     SHMCHAN_CREATE_TRANSIENT, &ch), 0);
	ASSERT_EQ(shmchan_resize(ch, 2 * 4096, 0, NULL), 0);
	ASSERT_EQ(shmchan_resize(ch, 8 * 4096, 0, NULL), -EDQUOT);
	shmchan_close(ch);
}

TEST(resize_errors, 60)
{
	const char *n = chan_name("resize");
	unsigned long long total, user;
	struct shmchan *ch, *ro, *big;
	struct sigaction sa;
	struct timespec ts;
	uint64_t len = 0;
	uint32_t gen = 99;
	void *addr;

	need_root();
	ASSERT_EQ(shmchan_create_max(n, 4096, 4096, 0600, 0, &ch), 0);
	shmchan_close(ch);
	ASSERT_EQ(shmchan_create_max(n, 4096, 8192, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_destroy(n, 0), 0);
	ASSERT_EQ(shmchan_create_max(n, 8192, 4096, 0600, 0, &ch), -EINVAL);
	ASSERT_EQ(shmchan_create_max(n, 4096, UINT64_MAX, 0600, 0, &ch), -EFBIG);
	ASSERT_EQ(shmchan_create_max(n, 4096, 8 * 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_length(ch), 4096);
	ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ro), 0);

	ASSERT_EQ(shmchan_resize(NULL, 4096, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_resize(ch, 0, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_resize(ch, 4096, 1U << 31, NULL), -EINVAL);
	ASSERT_EQ(shmchan_resize(ro, 8192, 0, NULL), -EBADF);
	ASSERT_EQ(shmchan_resize(ch, 9 * 4096, 0, NULL), -EFBIG);
	ASSERT_EQ(shmchan_resize(ch, 8 * 4096, 0, &len), 0);
	ASSERT_EQ(len, 8 * 4096);
	ASSERT_EQ(shmchan_length(ch), 8 * 4096);
	/* The reserve mapped: no shrink */
	ASSERT_EQ(shmchan_map_range(ch, 0, 8 * 4096, PROT_READ, &addr), 0);
	ASSERT_EQ(shmchan_resize(ch, 4096, 0, NULL), -EBUSY);
	ASSERT_EQ(shmchan_resize(ch, 4096, SHMCHAN_RESIZE_GROW, &len), 0);
	ASSERT_EQ(len, 8 * 4096);
	ASSERT_EQ(shmchan_unmap(addr, 8 * 4096), 0);
	ASSERT_EQ(shmchan_resize(ch, 4096, 0, NULL), 0);

	/* The generation: at once when stale, else to the deadline */
	ASSERT_EQ(shmchan_resize_wait(ro, 0, NULL, &gen, &len), 0);
	ASSERT_EQ(gen, 2);
	ASSERT_EQ(len, 4096);
	ASSERT_EQ(shmchan_length(ro), 4096);
	ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	ASSERT_EQ(shmchan_resize_wait(ro, gen, &ts, NULL, NULL), -ETIMEDOUT);
	ts.tv_nsec = -1;
	ASSERT_EQ(shmchan_resize_wait(ro, gen, &ts, NULL, NULL), -EINVAL);
	ASSERT_EQ(shmchan_resize_wait(NULL, gen, NULL, NULL, NULL), -EINVAL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	ts.tv_sec += 30;
	alarm(1);
	ASSERT_EQ(shmchan_resize_wait(ro, gen, &ts, NULL, NULL), -EINTR);

	/* Limits: ENOSPC, ENOMEM (overcommit), EDQUOT (another user) */
	total = param_get("max_total_size");
	user = param_get("max_user_size");
	param_set("max_total_size", 1);
	ASSERT_EQ(shmchan_resize(ch, 2 * 4096, 0, NULL), -ENOSPC);
	param_set("max_total_size", 0);
	ASSERT_EQ(shmchan_create_max(chan_name("resizebig"), 4096,
				     SHMCHAN_STATUS_OFFSET, 0600, 0, &big), 0);
	ASSERT_EQ(shmchan_resize(big, SHMCHAN_STATUS_OFFSET, 0, NULL), -ENOMEM);
	shmchan_close(big);
	param_set("max_total_size", total);
	param_set("max_user_size", 4 * 4096);
	in_child(resize_over_quota, (void *)chan_name("resizequota"));
	param_set("max_user_size", user);

	/* Revoked: both fail */
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_resize(ch, 2 * 4096, 0, NULL), -EIDRM);
	ASSERT_EQ(shmchan_resize_wait(ro, gen, NULL, NULL, NULL), -EIDRM);
	shmchan_close(ro);
	shmchan_close(ch);
}

TAP_MAIN
