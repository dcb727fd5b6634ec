// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: time, payloads, statistics, CPU placement, and the
 * runner process that isolates each figure.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int ncpus = 1;
int cpu_of[2] = { -1, -1 };

double tick_sec = 1e-9;

void ticks_calibrate(void)
{
	struct timespec d = { 0, 20 * 1000 * 1000 };
	double t0 = now();
	uint64_t k0 = ticks(), k1;

	nanosleep(&d, NULL);
	k1 = ticks();
	if (k1 > k0)
		tick_sec = (now() - t0) / (double)(k1 - k0);
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The payload: 64-bit word i of a message is seed + i. Its sum has a
 * closed form, so a receiver checks every byte in one pass and a stale
 * buffer (an earlier seed) never passes.
 */
/*
 * Two 64-bit words at a time (SSE2, in every x86-64): fill and sum touch
 * every byte as before, in half the instructions, which counts for much
 * under emulation (and is what memcpy does too).
 */
typedef uint64_t u64x2 __attribute__((vector_size(16), aligned(8)));

void fill(void *buf, size_t len, uint64_t first)
{
	const u64x2 step = { 2, 2 };
	u64x2 v = { first, first + 1 }, *p = buf;
	size_t n = len / 8, i;

	for (i = 0; i + 2 <= n; i += 2) {
		*p++ = v;
		v += step;
	}
	if (i < n)
		((uint64_t *)buf)[i] = first + i;
}

uint64_t sum(const void *buf, size_t len)
{
	const u64x2 *p = buf;
	u64x2 a = { 0, 0 }, b = { 0, 0 };
	size_t n = len / 8, i;
	uint64_t s;

	for (i = 0; i + 4 <= n; i += 4, p += 2) {
		a += p[0];
		b += p[1];
	}
	a += b;
	s = a[0] + a[1];
	for (; i < n; i++)
		s += ((const uint64_t *)buf)[i];
	return s;
}

uint64_t expect_sum(size_t len, uint64_t seed)
{
	uint64_t n = len / 8;

	return n * seed + (n * (n - 1)) / 2;
}

int msg_check(const void *buf, size_t len, uint64_t *seed)
{
	*seed = *(const uint64_t *)buf;
	return sum(buf, len) == expect_sum(len, *seed) ? 0 : -EBADMSG;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

void *xmalloc(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("out of memory (%zu bytes)", len);
	memset(p, 0, len);
	return p;
}

void *shared_anon(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("out of memory (%zu shared bytes)", len);
	memset(p, 0, len);
	return p;
}

void pin(int side)
{
	cpu_set_t set;

	if (ncpus < 2 || cpu_of[side] < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu_of[side], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("shmchan-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

const char *size_str(uint64_t bytes)
{
	static char ring[8][32];
	static int next;
	char *s = ring[next++ % 8];

	if (bytes >= GiB && bytes % GiB == 0)
		snprintf(s, 32, "%llu GiB", (unsigned long long)(bytes / GiB));
	else if (bytes >= MiB && bytes % MiB == 0)
		snprintf(s, 32, "%llu MiB", (unsigned long long)(bytes / MiB));
	else if (bytes >= KiB && bytes % KiB == 0)
		snprintf(s, 32, "%llu KiB", (unsigned long long)(bytes / KiB));
	else
		snprintf(s, 32, "%llu B", (unsigned long long)bytes);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 stats(const double *v, int n)
{
	struct stat3 s = { 0, 0, 0, n };
	double t[MAX_REPS];

	if (n <= 0)
		return s;
	memcpy(t, v, sizeof(*t) * (size_t)n);
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	s.min = t[0];
	s.max = t[n - 1];
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

/* ------------------------------------------------------------ cells */

void cell_fail(struct cell *c, int err, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (c->status)
		return;			/* the first error is the cause */
	c->status = err < 0 ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	len = strlen(c->err);
	if (err < 0 && len + 3 < sizeof(c->err))
		snprintf(c->err + len, sizeof(c->err) - len, ": %s",
			 strerror(-err));
}

void cell_skip(struct cell *c, const char *fmt, ...)
{
	va_list ap;

	c->status = CELL_SKIP;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

void oom_adj(int v)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (f) {
		fprintf(f, "%d\n", v);
		fclose(f);
	}
}

long mem_available_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

struct cell *cell_new(void)
{
	return shared_anon(sizeof(struct cell));
}

/*
 * The runner: a process group of its own, so that a timeout kills it and
 * its peer together. SIGCHLD is blocked here and waited for with a
 * timeout, so the orchestrator sleeps (and steals no CPU) meanwhile.
 */
void run_cell(struct cell *c, void (*fn)(struct cell *, const void *),
	      const void *arg, double timeout)
{
	sigset_t set, old;
	struct timespec ts;
	double deadline;
	pid_t pid;
	int st;

	memset(c, 0, sizeof(*c));
	fflush(NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setpgid(0, 0);
		oom_adj(500);	/* the OOM killer takes a runner, not main */
		fn(c, arg);
		_exit(0);
	}
	setpgid(pid, pid);
	deadline = now() + timeout;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		double left;

		if (r == pid)
			break;
		left = deadline - now();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			cell_fail(c, -ETIMEDOUT, "killed after %.0f s", timeout);
			/* overrides whatever the runner was doing */
			c->status = -ETIMEDOUT;
			break;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sigtimedwait(&set, NULL, &ts);
	}
	/* a peer left behind (the runner crashed) goes with its group */
	kill(-pid, SIGKILL);
	while (waitpid(-pid, NULL, WNOHANG) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (c->status == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		if (WIFSIGNALED(st))
			cell_fail(c, -EIO, "runner killed by signal %d",
				  WTERMSIG(st));
		else
			cell_fail(c, -EIO, "runner exited with status %d",
				  WEXITSTATUS(st));
	}
	if (c->status == 0 && c->n == 0)
		cell_fail(c, -EIO, "no measurement");
}
