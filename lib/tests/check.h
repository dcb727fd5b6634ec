/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Tiny test harness shared by lib/tests: counts, and a closing line. */
#ifndef LIBSHMCHAN_TESTS_CHECK_H
#define LIBSHMCHAN_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int checks_passed, checks_failed, checks_skipped;

static inline void check_int(const char *what, long long got, long long want,
			     const char *file, int line)
{
	if (got == want) {
		checks_passed++;
		return;
	}
	checks_failed++;
	printf("FAIL %s:%d: %s = %lld (%s), want %lld (%s)\n", file, line,
	       what, got, got < 0 && got > -4096 ? strerror((int)-got) : "-",
	       want, want < 0 && want > -4096 ? strerror((int)-want) : "-");
}

/* CHECK(expr, want): expr must equal want (both as long long). */
#define CHECK(expr, want) \
	check_int(#expr, (long long)(expr), (long long)(want), __FILE__, __LINE__)

/* CHECK_TRUE(cond): cond must hold. */
#define CHECK_TRUE(cond) CHECK(!!(cond), 1)

static inline void skip(const char *why)
{
	checks_skipped++;
	printf("skip: %s\n", why);
}

/* Prints "N passed, N failed[, N skipped]" and gives the exit status. */
static inline int checks_done(const char *name)
{
	printf("%s: %d passed, %d failed", name, checks_passed, checks_failed);
	if (checks_skipped)
		printf(", %d skipped", checks_skipped);
	printf("\n");
	return checks_failed ? 1 : 0;
}

#endif
