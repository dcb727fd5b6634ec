/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the shmchan selftests: raw ioctl wrappers (no library),
 * unique channel names with cleanup, fork/reap helpers, small sync tools.
 *
 * Conventions:
 *   - sc_* wrappers return the ioctl's result (>= 0) or -errno.
 *   - Names come from sc_newname(), which also remembers them so that
 *     sc_cleanup() (called by every fixture's teardown) destroys them.
 *   - Forked children never use the harness's ASSERT/EXPECT macros (those
 *     longjmp into the harness); they use CHILD_* checks and _exit().
 */
#ifndef SHMCHAN_TEST_H
#define SHMCHAN_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/shmchan.h>

/*
 * The 6.1 harness itself has an unused parameter (its SIGALRM handler);
 * -Wextra -Werror stays on for everything else.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/* Pointers in ASSERT/EXPECT: compare as integers (clean with -m32 too). */
#define SC_P(p)		((uintptr_t)(p))

#define SC_PAGE		((size_t)sysconf(_SC_PAGESIZE))
#define SC_NSEC		1000000000ULL

/* ---- raw ioctls ------------------------------------------------------- */

static inline int sc_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static inline __u64 sc_ptr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/* A fresh, unbound handle, or -errno. */
static inline int sc_dev(void)
{
	int fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int sc_features(int fd, struct shmchan_features *f)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	return sc_ioctl(fd, SHMCHAN_IOC_FEATURES, f);
}

/* @out may be NULL. */
static inline int sc_create(int fd, const char *name, __u64 length,
			    __u32 mode, __u32 flags,
			    struct shmchan_create *out)
{
	struct shmchan_create c = {
		.size = sizeof(c),
		.flags = flags,
		.name = sc_ptr(name),
		.length = length,
		.mode = mode,
	};
	int r = sc_ioctl(fd, SHMCHAN_IOC_CREATE, &c);

	if (out)
		*out = c;
	return r;
}

/* @length may be NULL. */
static inline int sc_open(int fd, const char *name, __u32 flags, __u64 *length)
{
	struct shmchan_open o = {
		.size = sizeof(o),
		.flags = flags,
		.name = sc_ptr(name),
	};
	int r = sc_ioctl(fd, SHMCHAN_IOC_OPEN, &o);

	if (length)
		*length = o.length;
	return r;
}

static inline int sc_destroy(int fd, const char *name, __u32 flags)
{
	struct shmchan_destroy d = {
		.size = sizeof(d),
		.flags = flags,
		.name = sc_ptr(name),
	};

	return sc_ioctl(fd, SHMCHAN_IOC_DESTROY, &d);
}

static inline int sc_stat(int fd, struct shmchan_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return sc_ioctl(fd, SHMCHAN_IOC_STAT, st);
}

/* @deadline_ns: absolute CLOCK_MONOTONIC, or 0 for none. */
static inline int sc_wait(int fd, __u64 offset, __u32 expected, __u64 deadline_ns)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = deadline_ns ? SHMCHAN_WAIT_DEADLINE : 0,
		.offset = offset,
		.expected = expected,
		.deadline_ns = deadline_ns,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WAIT, &w);
}

static inline int sc_wake(int fd, __u64 offset, __u32 count)
{
	struct shmchan_wake w = {
		.size = sizeof(w),
		.offset = offset,
		.count = count,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_WAKE, &w);
}

/* ---- composite helpers -------------------------------------------------- */

/* A new handle bound by CREATE; returns fd or -errno. */
static inline int sc_new(const char *name, __u64 length, __u32 mode, __u32 flags)
{
	int fd = sc_dev();
	int r;

	if (fd < 0)
		return fd;
	r = sc_create(fd, name, length, mode, flags, NULL);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A new handle bound by OPEN; returns fd or -errno. */
static inline int sc_attach(const char *name, __u32 flags)
{
	int fd = sc_dev();
	int r;

	if (fd < 0)
		return fd;
	r = sc_open(fd, name, flags, NULL);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Does @name exist? 1, 0 (ENOENT), or -errno for other failures. */
static inline int sc_exists(const char *name)
{
	int fd = sc_attach(name, SHMCHAN_OPEN_RDONLY);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -ENOENT ? 0 : fd;
}

/* DESTROY through a fresh handle. */
static inline int sc_rm(const char *name, __u32 flags)
{
	int fd = sc_dev();
	int r;

	if (fd < 0)
		return fd;
	r = sc_destroy(fd, name, flags);
	close(fd);
	return r;
}

static inline void *sc_map(int fd, size_t len, int prot, off_t off)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, off);
}

/* ---- names ---------------------------------------------------------------- */

#define SC_MAX_TRACKED 64
static char *sc_tracked[SC_MAX_TRACKED];
static int sc_ntracked;

/*
 * A name unique to this test process: "kst.TAG.PID.SEQ.NONCE". Remembered
 * for sc_cleanup(). Never freed (tests are short-lived processes).
 */
static inline const char *sc_newname(const char *tag)
{
	static unsigned int seq;
	struct timespec ts;
	char *buf = malloc(SHMCHAN_NAME_MAX + 1);

	if (!buf)
		abort();
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, SHMCHAN_NAME_MAX + 1, "kst.%s.%d.%u.%lx", tag,
		 (int)getpid(), seq++,
		 (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 20)));
	if (sc_ntracked < SC_MAX_TRACKED)
		sc_tracked[sc_ntracked++] = buf;
	return buf;
}

/* Remember an externally built name for cleanup. */
static inline void sc_track(const char *name)
{
	if (sc_ntracked < SC_MAX_TRACKED)
		sc_tracked[sc_ntracked++] = strdup(name);
}

/* Destroy every remembered name (ENOENT is fine: the test did it). */
static inline void sc_cleanup(void)
{
	int fd = sc_dev();
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < sc_ntracked; i++)
		sc_destroy(fd, sc_tracked[i], 0);
	close(fd);
	sc_ntracked = 0;
}

/*
 * Is the module there? Without /dev/shmchan the suite skips, unless
 * SHMCHAN_KO is set (the VM runner sets it after loading the module),
 * in which case a missing device is a failure. For use in FIXTURE_SETUP:
 * the 6.1 harness would run the test body after a plain SKIP(return) in
 * setup, so the skip ends the test process itself (255 = skipped).
 */
#define SC_REQUIRE_DEVICE() do {					\
	if (access(SHMCHAN_DEVICE, F_OK) != 0) {			\
		if (getenv("SHMCHAN_KO"))				\
			ASSERT_EQ(0, access(SHMCHAN_DEVICE, F_OK))	\
				TH_LOG("%s missing although SHMCHAN_KO is set", \
				       SHMCHAN_DEVICE);			\
		SKIP(_exit(255), "%s not present (shmchan.ko not loaded)", \
		     SHMCHAN_DEVICE);					\
	}								\
} while (0)

/* ---- time ------------------------------------------------------------------- */

static inline __u64 sc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * SC_NSEC + (__u64)ts.tv_nsec;
}

static inline void sc_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- processes ------------------------------------------------------------- */

/*
 * fork() whose child dies with its parent (no strays if a test is killed
 * by its timeout).
 */
static inline pid_t sc_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

/*
 * Wait up to @timeout_ms for @pid. Returns 0 for exit(0), the exit code
 * for another exit, 1000 + signal number for death by a signal, or -1 if
 * it did not finish in time (it is then SIGKILLed and reaped).
 */
static inline int sc_reap(pid_t pid, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -2;
		if (sc_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return -3;
}

/* Has @pid finished? (non-blocking; reaps it if so). 1 yes, 0 no. */
static inline int sc_finished(pid_t pid, int *code)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return 0;
	if (code)
		*code = WIFEXITED(status) ? WEXITSTATUS(status) :
			WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : -3;
	return 1;
}

/* Checks for forked children: report and _exit(1). */
#define CHILD_FAIL(fmt, ...) do {					\
	fprintf(stderr, "# child %d: %s:%d: " fmt "\n", (int)getpid(),	\
		__FILE__, __LINE__, ##__VA_ARGS__);			\
	_exit(1);							\
} while (0)

#define CHILD_EQ(expected, seen) do {					\
	long long __e = (long long)(expected);				\
	long long __s = (long long)(seen);				\
	if (__e != __s)							\
		CHILD_FAIL("expected %s (%lld) == %s (%lld)",		\
			   #expected, __e, #seen, __s);			\
} while (0)

#define CHILD_TRUE(cond) do {						\
	if (!(cond))							\
		CHILD_FAIL("check failed: %s (errno %d)", #cond, errno);\
} while (0)

/* ---- files ------------------------------------------------------------------ */

/*
 * One write(2) of @text to the file at @path (a parameter, a cgroup file,
 * a uid_map): 0, -errno of the open or the write (whose error may be the
 * point), or -EIO if the write was short.
 */
static inline int sc_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : n == (ssize_t)strlen(text) ? 0 : -EIO;
	close(fd);
	return (int)n;
}

#define SC_THP_SHMEM	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/* The [selected] word of SC_THP_SHMEM into @buf, or -1. */
static inline int sc_thp_shmem_get(char *buf, size_t len)
{
	char line[256], *a, *b;
	FILE *f = fopen(SC_THP_SHMEM, "re");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	a = strchr(line, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!b || (size_t)(b - a) > len)
		return -1;
	*b = '\0';
	snprintf(buf, len, "%s", a + 1);
	return 0;
}

/* ---- module parameters ------------------------------------------------------ */

#define SC_PARAMS	"/sys/module/shmchan/parameters/"

static inline int sc_param_get(const char *name, unsigned long long *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), SC_PARAMS "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", val) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

/* Write @text into parameter @name; returns 0 or -errno of the write. */
static inline int sc_param_write(const char *name, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), SC_PARAMS "%s", name);
	return sc_write_file(path, text);
}

static inline int sc_param_set(const char *name, unsigned long long val)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", val);
	return sc_param_write(name, text);
}

/* ---- signals --------------------------------------------------------------- */

/*
 * A handler that counts the signals it gets and, with sc_signal_flag set
 * (a word in shared memory), stores the count there for the parent.
 */
static volatile sig_atomic_t sc_got_signals;
static volatile __u32 *sc_signal_flag;

static inline void sc_on_signal(int sig)
{
	(void)sig;
	sc_got_signals++;
	if (sc_signal_flag)
		*sc_signal_flag = (__u32)sc_got_signals;
}

static inline int sc_set_handler(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sc_on_signal;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* Poll until the child's handler has run @n times (it stores the count). */
static inline __u32 sc_wait_flag(volatile __u32 *flag, __u32 n)
{
	__u64 end = sc_now_ns() + 10 * SC_NSEC;

	while (*flag != n && sc_now_ns() < end)
		usleep(500);
	return *flag;
}

/* ---- pipes as one-shot events ---------------------------------------------- */

struct sc_pipe {
	int rd, wr;
};

static inline int sc_pipe_init(struct sc_pipe *p)
{
	int fds[2];

	p->rd = p->wr = -1;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	p->rd = fds[0];
	p->wr = fds[1];
	return 0;
}

static inline int sc_send(struct sc_pipe *p, char c)
{
	return write(p->wr, &c, 1) == 1 ? 0 : -errno;
}

/* Receive one byte within @timeout_ms; returns the byte or -errno. */
static inline int sc_recv(struct sc_pipe *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->rd, .events = POLLIN };
	unsigned char c;
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	r = read(p->rd, &c, 1);
	if (r == 1)
		return c;
	return r == 0 ? -EPIPE : -errno;
}

static inline int sc_send_buf(struct sc_pipe *p, const void *buf, size_t len)
{
	return write(p->wr, buf, len) == (ssize_t)len ? 0 : -EIO;
}

static inline int sc_recv_buf(struct sc_pipe *p, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->rd, .events = POLLIN };
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		n = read(p->rd, (char *)buf + got, len - got);
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		got += (size_t)n;
	}
	return 0;
}

/* ---- STAT polling -------------------------------------------------------------- */

/* One count from STAT on @fd, all ones if STAT fails. */
static inline __u64 sc_nwaiters(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? ~0ULL : st.nwaiters;
}

static inline __u64 sc_nmaps(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? ~0ULL : st.nmaps;
}

static inline __u32 sc_deaths(int fd)
{
	struct shmchan_stat st;

	return sc_stat(fd, &st) ? ~0U : st.deaths;
}

/*
 * Poll STAT until nwaiters == @want or @timeout_ms passes; returns the last
 * nwaiters seen (or a negative errno cast) so tests can ASSERT_EQ on it.
 */
static inline long long sc_poll_nwaiters(int fd, __u64 want, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	struct shmchan_stat st;

	for (;;) {
		int r = sc_stat(fd, &st);

		if (r < 0)
			return r;
		if (st.nwaiters == want || sc_now_ns() > end)
			return (long long)st.nwaiters;
		usleep(500);
	}
}

/* Same for nmaps. */
static inline long long sc_poll_nmaps(int fd, __u64 want, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	struct shmchan_stat st;

	for (;;) {
		int r = sc_stat(fd, &st);

		if (r < 0)
			return r;
		if (st.nmaps == want || sc_now_ns() > end)
			return (long long)st.nmaps;
		usleep(500);
	}
}

/* Poll until sc_exists(@name) == @want; returns the last result. */
static inline int sc_poll_exists(const char *name, int want, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;

	for (;;) {
		int r = sc_exists(name);

		if (r == want || r < 0 || sc_now_ns() > end)
			return r;
		usleep(1000);
	}
}

/* ---- memory ------------------------------------------------------------------------- */

/* Shmem of /proc/meminfo in KiB, or -1. Channels' pages are counted there. */
static inline long long sc_shmem_kib(void)
{
	char line[128];
	long long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Shmem: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Poll until Shmem is below @kib or @timeout_ms passes (freeing may lag
 * a little behind the last close); returns the last value read.
 */
static inline long long sc_poll_shmem_below(long long kib, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;

	for (;;) {
		long long now = sc_shmem_kib();

		if (now < kib || sc_now_ns() > end)
			return now;
		usleep(2000);
	}
}

/* ---- users ------------------------------------------------------------------------ */

#define SC_NOBODY	65534
#define SC_OTHER	65533

/*
 * Become @uid/@gid for good (all ids, no supplementary groups): the
 * capabilities are dropped by the kernel. Returns 0 or -errno.
 */
static inline int sc_become(uid_t uid, gid_t gid)
{
	if (syscall(SYS_setgroups, 0, NULL))
		return -errno;
	if (setresgid(gid, gid, gid))
		return -errno;
	if (setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

/* In sc_probe_code()'s child: a SIGBUS exits with 100 + its si_code. */
static inline void sc_probe_on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	_exit(100 + si->si_code);
}

/*
 * Touch the byte at @p (read, or write if @wr) in a child: returns 0 if
 * that worked, else the signal that killed the child (SIGSEGV, SIGBUS).
 * With @bus_code, a SIGBUS also gives its si_code there (BUS_ADRERR...).
 */
static inline int sc_probe_code(volatile char *p, int wr, int *bus_code)
{
	pid_t pid = sc_fork();
	int r;

	if (pid == 0) {
		if (bus_code) {
			struct sigaction sa = {
				.sa_sigaction = sc_probe_on_bus,
				.sa_flags = SA_SIGINFO,
			};

			sigaction(SIGBUS, &sa, NULL);
		}
		if (wr)
			*p = 1;
		else
			(void)*p;
		_exit(0);
	}
	if (pid < 0)
		return -1;
	r = sc_reap(pid, 10000);
	if (bus_code && r >= 100 && r < 1000) {
		*bus_code = r - 100;
		return SIGBUS;
	}
	return r >= 1000 ? r - 1000 : r;
}

static inline int sc_probe(volatile char *p, int wr)
{
	return sc_probe_code(p, wr, NULL);
}

#endif /* SHMCHAN_TEST_H */
