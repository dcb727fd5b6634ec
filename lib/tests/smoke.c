// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libshmchan against the real module: every function once, with the
 * errors the header promises. Needs /dev/shmchan (run it in the VM); on a
 * machine without it, it says so and passes with everything skipped.
 *
 * Every wait has a deadline and the whole run an alarm, so a broken module
 * fails this test instead of hanging it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmchan.h>

#include "check.h"

static char name[64], name2[64];
static long page;

static struct timespec in_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Wait until @ch has @n waiters, for at most 5 s. */
static int await_waiters(struct shmchan *ch, uint64_t n)
{
	struct shmchan_stat st;
	int i;

	for (i = 0; i < 5000; i++) {
		if (shmchan_stat(ch, &st) == 0 && st.nwaiters >= n)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* Fork a child that waits on the word at @off while it is @val. */
static pid_t spawn_waiter(struct shmchan *ch, uint64_t off, uint32_t val,
			  int want)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = in_ms(10000);

		_exit(shmchan_wait(ch, off, val, &dl) == want ? 0 : 1);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n++;
	closedir(dir);
	return n;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void features(struct shmchan_features *feat)
{
	CHECK(shmchan_features(feat), 0);
	CHECK(feat->size, sizeof(*feat));
	CHECK(feat->abi_version, SHMCHAN_ABI_VERSION);
	CHECK(feat->name_max, SHMCHAN_NAME_MAX);
	CHECK_TRUE(feat->features & SHMCHAN_FEATURE_SHMEM);
	/* Other sizes of the struct, as older and newer programs have it. */
	{
		union {
			struct shmchan_features f;
			unsigned char b[256];
		} u;
		size_t i, nonzero = 0;

		memset(&u, 0xff, sizeof(u));
		CHECK(shmchan_features_sized(&u.f, SHMCHAN_FEATURES_SIZE_VER0), 0);
		CHECK(u.f.abi_version, SHMCHAN_ABI_VERSION);
		CHECK(u.f.features, feat->features);
		for (i = SHMCHAN_FEATURES_SIZE_VER0; i < sizeof(u.b); i++)
			nonzero += u.b[i] != 0xff;
		CHECK(nonzero, 0);	/* nothing written past the size */

		memset(&u, 0xff, sizeof(u));
		CHECK(shmchan_features_sized(&u.f, sizeof(u.b)), 0);
		CHECK(u.f.abi_version, SHMCHAN_ABI_VERSION);
		for (i = sizeof(*feat); i < sizeof(u.b); i++)
			nonzero += u.b[i] != 0;
		CHECK(nonzero, 0);	/* tail the module does not know: 0 */
	}
	printf("features: abi %u, create %#x open %#x destroy %#x stat %#x "
	       "wait %#x wake %#x, features %#llx\n", feat->abi_version,
	       feat->create_flags, feat->open_flags, feat->destroy_flags,
	       feat->stat_flags, feat->wait_flags, feat->wake_flags,
	       (unsigned long long)feat->features);
}

static void names(void)
{
	char longname[SHMCHAN_NAME_MAX + 2];
	struct shmchan *ch = NULL;
	int fds = count_fds();

	CHECK(shmchan_open(name, 0, &ch), -ENOENT);
	CHECK(shmchan_open("a/b", 0, &ch), -EINVAL);
	CHECK(shmchan_open("", 0, &ch), -EINVAL);
	CHECK(shmchan_create("sp ace", page, 0600, 0, &ch), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(shmchan_open(longname, 0, &ch), -ENAMETOOLONG);
	CHECK(shmchan_destroy(name, 0), -ENOENT);
	CHECK(ch == NULL, 1);
	/* Failed binds close the device file they opened. */
	CHECK(count_fds(), fds);
}

static void create_open(struct shmchan **rw, struct shmchan **ro)
{
	struct shmchan *ch = NULL, *again = NULL;

	CHECK(shmchan_create(name, 0, 0600, SHMCHAN_CREATE_EXCL, &ch), -EINVAL);
	CHECK(shmchan_create(name, page, 01000, SHMCHAN_CREATE_EXCL, &ch),
	      -EINVAL);
	CHECK(shmchan_create(name, page, 0600, 1U << 31, &ch), -EINVAL);
	CHECK(ch == NULL, 1);

	CHECK(shmchan_create(name, page + 1, 0600, SHMCHAN_CREATE_EXCL, rw), 0);
	if (!*rw)
		return;
	CHECK(shmchan_length(*rw), 2 * page);
	CHECK(shmchan_was_created(*rw), 1);
	CHECK(shmchan_is_writable(*rw), 1);
	CHECK(strcmp(shmchan_name(*rw), name), 0);
	CHECK(fcntl(shmchan_fd(*rw), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	CHECK(shmchan_create(name, page, 0600, SHMCHAN_CREATE_EXCL, &again),
	      -EEXIST);
	CHECK(shmchan_create(name, 3 * page, 0600, 0, &again), -EINVAL);
	CHECK(shmchan_create(name, page, 0644, 0, &again), 0);
	CHECK(shmchan_was_created(again), 0);
	CHECK(shmchan_length(again), 2 * page);
	shmchan_close(again);

	CHECK(shmchan_open(name, 1U << 31, ro), -EINVAL);
	CHECK(shmchan_open(name, SHMCHAN_OPEN_RDONLY, ro), 0);
	CHECK(shmchan_is_writable(*ro), 0);
	CHECK(shmchan_was_created(*ro), 0);
	CHECK(shmchan_length(*ro), 2 * page);
}

static void stat_handles(struct shmchan *rw, struct shmchan *ro)
{
	struct shmchan_stat st;

	CHECK(shmchan_stat(rw, &st), 0);
	CHECK(st.size, sizeof(st));
	CHECK(st.length, 2 * page);
	CHECK(st.mode, 0600);
	CHECK(st.uid, getuid());
	CHECK(st.cuid, getuid());
	CHECK(st.cpid, getpid());
	CHECK(st.nhandles, 2);
	CHECK(st.nwaiters, 0);
	CHECK(st.state, SHMCHAN_STATE_WRITABLE);

	CHECK(shmchan_stat(ro, &st), 0);
	CHECK(st.state, 0);

	/* Mode changes; existing handles keep their access. */
	CHECK(shmchan_setattr(rw, SHMCHAN_SETATTR_MODE, 0640, 0, 0), 0);
	CHECK(shmchan_stat(ro, &st), 0);
	CHECK(st.mode, 0640);
	CHECK(shmchan_setattr(rw, SHMCHAN_SETATTR_MODE, 01000, 0, 0), -EINVAL);
	CHECK(shmchan_setattr(rw, 1U << 31, 0600, 0, 0), -EINVAL);
	CHECK(shmchan_setattr(ro, SHMCHAN_SETATTR_MODE, 0600, 0, 0), 0);
	CHECK(shmchan_stat(rw, &st), 0);
	CHECK(st.mode, 0600);

	/* A program built against the first layout. */
	memset(&st, 0xff, sizeof(st));
	CHECK(shmchan_stat_sized(rw, &st, SHMCHAN_STAT_SIZE_VER0), 0);
	CHECK(st.length, 2 * page);
	CHECK(st.nwaiters, 0);
}

static void mapping(struct shmchan *rw, struct shmchan *ro,
		    uint32_t **wr, const uint32_t **rd)
{
	void *a = NULL, *b = NULL;

	CHECK(shmchan_map(ro, PROT_READ | PROT_WRITE, &a), -EACCES);
	CHECK(shmchan_map(rw, PROT_READ | PROT_EXEC, &a), -EPERM);
	CHECK(shmchan_map_range(rw, page, 2 * page, PROT_READ, &a), -ENXIO);
	CHECK(shmchan_map_range(rw, 1, page, PROT_READ, &a), -EINVAL);
	CHECK(a == NULL, 1);

	CHECK(shmchan_map(rw, PROT_READ | PROT_WRITE, &a), 0);
	CHECK(shmchan_map(ro, PROT_READ, &b), 0);
	*wr = a;
	*rd = b;
	if (!a || !b)
		return;

	(*wr)[0] = 0xfeedf00d;
	(*wr)[page / 4] = 42;
	CHECK((*rd)[0], 0xfeedf00d);

	CHECK(shmchan_map_range(ro, page, page, PROT_READ, &a), 0);
	if (a) {
		CHECK(*(uint32_t *)a, 42);
		CHECK(shmchan_unmap(a, page), 0);
	}
}

static void wait_wake(struct shmchan *rw, struct shmchan *ro, uint32_t *word)
{
	struct timespec past = { 0, 0 }, soon = in_ms(20);
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t pid;

	word[1] = 7;
	CHECK(shmchan_wait(rw, 4, 8, NULL), -EAGAIN);
	CHECK(shmchan_wait(rw, 4, 7, &past), -ETIMEDOUT);
	CHECK(shmchan_wait(rw, 4, 7, &soon), -ETIMEDOUT);
	CHECK(shmchan_wait(rw, 2, 7, &soon), -EINVAL);
	CHECK(shmchan_wait(rw, 2 * page, 0, &soon), -EINVAL);
	CHECK(shmchan_wake(rw, 4, 1), 0);
	CHECK(shmchan_wake(rw, 6, 1), -EINVAL);
	CHECK(shmchan_wake(rw, 2 * page, 1), -EINVAL);

	/* A read-only handle may wait and wake too. */
	pid = spawn_waiter(ro, 4, 7, 0);
	CHECK(await_waiters(rw, 1), 0);
	word[1] = 8;
	CHECK(shmchan_wake(rw, 4, SHMCHAN_WAKE_ALL), 1);
	CHECK(reap(pid), 0);

	/* Only waiters of that word. */
	pid = spawn_waiter(rw, 8, 0, 0);
	CHECK(await_waiters(rw, 1), 0);
	CHECK(shmchan_wake(rw, 4, SHMCHAN_WAKE_ALL), 0);
	CHECK(shmchan_wake(ro, 8, 1), 1);
	CHECK(reap(pid), 0);

	/* No SA_RESTART: the library hands EINTR back. */
	sigaction(SIGUSR1, &sa, NULL);
	pid = spawn_waiter(rw, 12, 0, -EINTR);
	CHECK(await_waiters(rw, 1), 0);
	kill(pid, SIGUSR1);
	CHECK(reap(pid), 0);

	/* SA_RESTART: the kernel restarts, the wait goes on until woken. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pid = spawn_waiter(rw, 12, 0, 0);
	CHECK(await_waiters(rw, 1), 0);
	kill(pid, SIGUSR1);
	usleep(20000);
	CHECK(await_waiters(rw, 1), 0);
	CHECK(shmchan_wake(rw, 12, 1), 1);
	CHECK(reap(pid), 0);
}

/*
 * The death notice: a process that used the channel exits, and a
 * death-aware waiter hears of it; a stale death count fails a wait at once.
 */
static void check_deaths(const struct shmchan_features *feat,
			 struct shmchan *rw)
{
	struct timespec soon = in_ms(20);
	struct shmchan_stat st;
	uint32_t deaths;
	pid_t pid, quitter;

	if (!(feat->features & SHMCHAN_FEATURE_DEATH_NOTICE)) {
		skip("no SHMCHAN_FEATURE_DEATH_NOTICE");
		return;
	}
	CHECK(shmchan_stat(rw, &st), 0);
	deaths = st.deaths;
	CHECK(shmchan_wait_deaths(rw, 16, 0, deaths + 1, &soon), -EOWNERDEAD);
	CHECK(shmchan_wait_deaths(rw, 16, 0, deaths, &soon), -ETIMEDOUT);
	CHECK(shmchan_wait_deaths(rw, 16, 1, deaths, &soon), -EAGAIN);

	/* Only a death-aware wait hears of it; shmchan_wait() would not. */
	pid = fork();
	if (pid == 0) {
		struct timespec dl = in_ms(10000);

		_exit(shmchan_wait_deaths(rw, 16, 0, deaths, &dl) == -EOWNERDEAD ? 0 : 1);
	}
	CHECK(await_waiters(rw, 1), 0);
	quitter = fork();
	if (quitter == 0) {
		/* Uses the inherited handle: a participant, its exit a death */
		_exit(shmchan_stat(rw, &st) != 0);
	}
	CHECK(reap(quitter), 0);
	CHECK(reap(pid), 0);
	CHECK(shmchan_stat(rw, &st), 0);
	CHECK_TRUE(st.deaths - deaths >= 1);
}

/*
 * As root, from a child that became nobody: the mode bits and the owner
 * rules reach the caller as -EACCES and -EPERM.
 */
static void permissions(struct shmchan *rw)
{
	struct shmchan_features feat;
	struct shmchan *ch = NULL;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		skip("not root: permission cases not run");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (shmchan_features(&feat) == -EACCES)
			_exit(3);
		bad |= shmchan_open(name, SHMCHAN_OPEN_RDONLY, &ch) != -EACCES;
		bad |= shmchan_open(name, 0, &ch) != -EACCES;
		bad |= shmchan_create(name, page, 0666, 0, &ch) != -EACCES;
		bad |= shmchan_destroy(name, 0) != -EPERM;
		/* The inherited handle still works, but cannot change owners. */
		bad |= shmchan_wake(rw, 0, 1) != 0;
		bad |= shmchan_setattr(rw, SHMCHAN_SETATTR_MODE, 0666, 0, 0)
			!= -EPERM;
		_exit(bad);
	}
	status = reap(pid);
	if (status == 3)
		skip("nobody may not open " SHMCHAN_DEVICE);
	else
		CHECK(status, 0);
}

static void destroy(struct shmchan *rw, struct shmchan *ro,
		    const uint32_t *rd)
{
	struct shmchan *ch = NULL;
	struct shmchan_stat st;

	CHECK(shmchan_destroy(name, 1U << 31), -EINVAL);
	CHECK(shmchan_destroy(name, 0), 0);
	CHECK(shmchan_destroy(name, 0), -ENOENT);
	CHECK(shmchan_open(name, 0, &ch), -ENOENT);

	/* The old channel still works through what is left of it. */
	CHECK(shmchan_stat(ro, &st), 0);
	CHECK(st.state & SHMCHAN_STATE_DESTROYED, SHMCHAN_STATE_DESTROYED);
	CHECK(shmchan_wake(rw, 0, 1), 0);
	CHECK(rd[0], 0xfeedf00d);

	/* A new channel of the same name is a different one. */
	CHECK(shmchan_create(name, page, 0600, SHMCHAN_CREATE_EXCL, &ch), 0);
	CHECK(shmchan_was_created(ch), 1);
	shmchan_close(ch);
	CHECK(shmchan_destroy(name, 0), 0);
}

static void check_revoke(const struct shmchan_features *feat)
{
	struct shmchan *ch = NULL;
	pid_t pid;

	if (!(feat->features & SHMCHAN_FEATURE_REVOKE)) {
		skip("no SHMCHAN_FEATURE_REVOKE");
		return;
	}
	CHECK(shmchan_create(name2, page, 0600, SHMCHAN_CREATE_EXCL, &ch), 0);
	if (!ch)
		return;
	pid = spawn_waiter(ch, 0, 0, -EIDRM);
	CHECK(await_waiters(ch, 1), 0);
	CHECK(shmchan_destroy(name2, SHMCHAN_DESTROY_REVOKE), 0);
	CHECK(reap(pid), 0);
	CHECK(shmchan_wait(ch, 0, 0, NULL), -EIDRM);
	CHECK(shmchan_wake(ch, 0, 1), -EIDRM);
	shmchan_close(ch);
}

static void check_transient(const struct shmchan_features *feat)
{
	struct shmchan *ch = NULL, *other = NULL;
	void *addr = NULL;

	if (!(feat->features & SHMCHAN_FEATURE_TRANSIENT)) {
		skip("no SHMCHAN_FEATURE_TRANSIENT");
		return;
	}
	CHECK(shmchan_create(name2, page, 0600,
			     SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT,
			     &ch), 0);
	if (!ch)
		return;
	CHECK(shmchan_map(ch, PROT_READ, &addr), 0);
	shmchan_close(ch);
	/* The mapping keeps it alive. */
	CHECK(shmchan_open(name2, 0, &other), 0);
	shmchan_close(other);
	CHECK(shmchan_unmap(addr, page), 0);
	CHECK(shmchan_open(name2, 0, &other), -ENOENT);
}

int main(void)
{
	struct shmchan_features feat;
	struct shmchan *rw = NULL, *ro = NULL;
	uint32_t *wr = NULL;
	const uint32_t *rd = NULL;

	if (access(SHMCHAN_DEVICE, F_OK) != 0) {
		skip(SHMCHAN_DEVICE " absent: run this in the VM");
		return checks_done("smoke");
	}
	alarm(120);
	page = sysconf(_SC_PAGESIZE);
	snprintf(name, sizeof(name), "libshmchan-smoke-%d", (int)getpid());
	snprintf(name2, sizeof(name2), "libshmchan-smoke2-%d", (int)getpid());

	features(&feat);
	names();
	create_open(&rw, &ro);
	if (!rw || !ro)
		return checks_done("smoke");
	stat_handles(rw, ro);
	mapping(rw, ro, &wr, &rd);
	if (!wr || !rd)
		return checks_done("smoke");
	wait_wake(rw, ro, wr);
	permissions(rw);
	check_deaths(&feat, rw);

	/* Mappings outlive the handle. */
	shmchan_close(ro);
	CHECK(rd[0], 0xfeedf00d);
	ro = NULL;
	CHECK(shmchan_open(name, SHMCHAN_OPEN_RDONLY, &ro), 0);

	destroy(rw, ro, rd);
	CHECK(shmchan_unmap(wr, 2 * page), 0);
	CHECK(shmchan_unmap((void *)rd, 2 * page), 0);
	shmchan_close(ro);
	shmchan_close(rw);

	check_revoke(&feat);
	check_transient(&feat);
	return checks_done("smoke");
}
