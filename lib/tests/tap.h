/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * A small TAP harness for the library's tests against the module (queue,
 * sync, heap, pool), in the spirit of kselftest_harness.h without needing
 * a kernel tree: each TEST() runs in a forked child of its own process
 * group, under a time limit, and the group is killed when it ends, so a
 * crash, hang or stray child fails that test only. Prints TAP 13:
 *
 *   TAP version 13
 *   1..N
 *   ok 1 name
 *   not ok 2 name # why
 *   # N passed, N failed, N skipped
 *
 * Exit status 0 if nothing failed, else 1; 4 (kselftest's skip) when
 * /dev/shmchan is missing. Run one test by name: PROG NAME...
 * TAP_TIMEOUT_SCALE=N in the environment multiplies the time limits.
 */
#ifndef LIBSHMCHAN_TESTS_TAP_H
#define LIBSHMCHAN_TESTS_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAP_MAX_TESTS	64
#define TAP_SKIP	4

struct tap_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;
};

static struct tap_test tap_tests[TAP_MAX_TESTS];
static int tap_ntests;

static inline void tap_register(const char *name, void (*fn)(void),
				unsigned int timeout)
{
	if (tap_ntests < TAP_MAX_TESTS)
		tap_tests[tap_ntests++] = (struct tap_test){ name, fn, timeout };
}

/* TEST(name, seconds) { ... } */
#define TEST(name, timeout)						\
	static void test_##name(void);					\
	__attribute__((constructor)) static void tap_reg_##name(void)	\
	{								\
		tap_register(#name, test_##name, timeout);		\
	}								\
	static void test_##name(void)

/* Diagnostics: TAP comments, flushed at once (tests fork and die). */
__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static inline const char *tap_err(long long v)
{
	return v < 0 && v > -4096 ? strerror((int)-v) : "-";
}

/* ASSERT_*: fail the test at once. */
#define ASSERT_EQ(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_) {							\
		diag("%s:%d: %s = %lld (%s), want %lld (%s)", __FILE__,	\
		     __LINE__, #got, g_, tap_err(g_), w_, tap_err(w_));	\
		_exit(1);						\
	}								\
} while (0)

#define ASSERT_TRUE(cond) do {						\
	if (!(cond)) {							\
		diag("%s:%d: not true: %s", __FILE__, __LINE__, #cond);	\
		_exit(1);						\
	}								\
} while (0)

#define SKIP(...) do { diag(__VA_ARGS__); _exit(TAP_SKIP); } while (0)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Exit status of child @pid (128 + signal if killed). */
static inline int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static inline int tap_run_one(const struct tap_test *t, int n)
{
	uint64_t start = now_ns();
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		const char *scale = getenv("TAP_TIMEOUT_SCALE");

		setpgid(0, 0);
		alarm(t->timeout * (scale && atoi(scale) > 0 ? (unsigned)atoi(scale) : 1));
		t->fn();
		exit(0);	/* atexit handlers: names to destroy */
	}
	setpgid(pid, pid);
	ret = reap(pid);
	kill(-pid, SIGKILL);	/* stray children of the test */
	while (waitpid(-pid, &status, WNOHANG) > 0)
		;
	if (ret == 0) {
		printf("ok %d %s # %.1f s\n", n, t->name,
		       (double)(now_ns() - start) / 1e9);
	} else if (ret == TAP_SKIP) {
		printf("ok %d %s # SKIP\n", n, t->name);
	} else if (ret == 128 + SIGALRM) {
		printf("not ok %d %s # TIMEOUT after %u s\n", n, t->name,
		       t->timeout);
	} else if (ret > 128) {
		printf("not ok %d %s # killed by signal %d\n", n, t->name,
		       ret - 128);
	} else {
		printf("not ok %d %s\n", n, t->name);
	}
	fflush(stdout);
	return ret;
}

static inline int tap_main(int argc, char **argv)
{
	int i, j, n = 0, total = 0, failed = 0, skipped = 0, ret;
	bool want[TAP_MAX_TESTS];

	for (i = 0; i < tap_ntests; i++) {
		want[i] = argc < 2;
		for (j = 1; j < argc; j++)
			if (!strcmp(argv[j], tap_tests[i].name))
				want[i] = true;
		total += want[i];
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", total);
	if (access("/dev/shmchan", F_OK)) {
		printf("# /dev/shmchan missing: module not loaded\n");
		for (i = 0; i < tap_ntests; i++)
			if (want[i])
				printf("ok %d %s # SKIP\n", ++n, tap_tests[i].name);
		return TAP_SKIP;
	}
	for (i = 0; i < tap_ntests; i++) {
		if (!want[i])
			continue;
		ret = tap_run_one(&tap_tests[i], ++n);
		failed += ret != 0 && ret != TAP_SKIP;
		skipped += ret == TAP_SKIP;
	}
	printf("# %d passed, %d failed, %d skipped\n", total - failed - skipped,
	       failed, skipped);
	return failed ? 1 : 0;
}

#define TAP_MAIN int main(int argc, char **argv) { return tap_main(argc, argv); }

#endif
