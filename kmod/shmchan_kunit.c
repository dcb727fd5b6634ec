// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of shmchan's rules (rules.h): argument struct sizes, names,
 * the name table's hash, lengths, word offsets, mmap ranges, limits, mode
 * bits, WAIT and WAKE arguments. Built as shmchan_kunit.ko when the kernel has CONFIG_KUNIT;
 * the tests run when it is loaded and need no shmchan.ko.
 *
 * Suite "shmchan" is plain arithmetic. Suite "shmchan_args" copies argument
 * structs from real user memory: two pages mapped into the process that
 * loads the module, the second unmapped again so that a struct can run
 * off the end of the first, and the test threads borrow that mm.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>

#include "rules.h"

/* ------------------------------------------------------------ sizes */

/**
 * struct shmchan_size_rule - one command's struct, as the module sees it
 * @name: the struct, for messages
 * @ksize: the module's sizeof
 * @min_size: its first published version
 * @latest: its latest published version
 */
struct shmchan_size_rule {
	const char *name;
	size_t ksize;
	u32 min_size;
	u32 latest;
};

#define SHMCHAN_SIZE_RULE(_s, _ver0, _latest) \
	{ #_s, sizeof(struct _s), _ver0, _latest }

static const struct shmchan_size_rule shmchan_size_rules[] = {
	SHMCHAN_SIZE_RULE(shmchan_features, SHMCHAN_FEATURES_SIZE_VER0,
			  SHMCHAN_FEATURES_SIZE_VER2),
	SHMCHAN_SIZE_RULE(shmchan_create, SHMCHAN_CREATE_SIZE_VER0,
			  SHMCHAN_CREATE_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_open, SHMCHAN_OPEN_SIZE_VER0,
			  SHMCHAN_OPEN_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_destroy, SHMCHAN_DESTROY_SIZE_VER0,
			  SHMCHAN_DESTROY_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_stat, SHMCHAN_STAT_SIZE_VER0,
			  SHMCHAN_STAT_SIZE_VER1),
	SHMCHAN_SIZE_RULE(shmchan_wait, SHMCHAN_WAIT_SIZE_VER0,
			  SHMCHAN_WAIT_SIZE_VER1),
	SHMCHAN_SIZE_RULE(shmchan_watch, SHMCHAN_WATCH_SIZE_VER0,
			  SHMCHAN_WATCH_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_watch_read, SHMCHAN_WATCH_READ_SIZE_VER0,
			  SHMCHAN_WATCH_READ_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_watch_event, SHMCHAN_WATCH_EVENT_SIZE_VER0,
			  SHMCHAN_WATCH_EVENT_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_wake, SHMCHAN_WAKE_SIZE_VER0,
			  SHMCHAN_WAKE_SIZE_VER0),
	SHMCHAN_SIZE_RULE(shmchan_setattr, SHMCHAN_SETATTR_SIZE_VER0,
			  SHMCHAN_SETATTR_SIZE_VER0),
};

/* The uapi's sizes are the structs' sizes, and ordered. */
static void shmchan_test_struct_versions(struct kunit *test)
{
	const struct shmchan_size_rule *r;

	for (r = shmchan_size_rules;
	     r < shmchan_size_rules + ARRAY_SIZE(shmchan_size_rules); r++) {
		KUNIT_EXPECT_EQ_MSG(test, r->ksize, (size_t)r->latest, "%s",
				    r->name);
		KUNIT_EXPECT_LE_MSG(test, r->min_size, r->latest, "%s", r->name);
		KUNIT_EXPECT_LE_MSG(test, r->ksize, PAGE_SIZE, "%s", r->name);
	}
}

/* Shorter than the first version: EINVAL; more than a page: E2BIG. */
static void shmchan_test_args_size(struct kunit *test)
{
	const struct shmchan_size_rule *r;

	for (r = shmchan_size_rules;
	     r < shmchan_size_rules + ARRAY_SIZE(shmchan_size_rules); r++) {
		u32 min = r->min_size;

		KUNIT_EXPECT_EQ_MSG(test, shmchan_check_args_size(0, min),
				    -EINVAL, "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test, shmchan_check_args_size(min - 1, min),
				    -EINVAL, "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test, shmchan_check_args_size(min, min), 0,
				    "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_args_size(r->latest + 8, min),
				    0, "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_args_size(PAGE_SIZE, min),
				    0, "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_args_size(PAGE_SIZE + 1, min),
				    -E2BIG, "%s", r->name);
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_args_size(U32_MAX, min),
				    -E2BIG, "%s", r->name);
	}
}

/* ------------------------------------------------------------ names */

/* Check @name as shmchan_name_from_user() would after copying it in. */
static int shmchan_test_name(const char *name)
{
	return shmchan_check_name(name, strnlen(name, SHMCHAN_NAME_MAX + 1));
}

static void shmchan_test_names(struct kunit *test)
{
	static const char * const good[] = {
		"a", "!", "~", "chan-1", "Frames_0.raw", "a:b@c#d$e%f^&*()[]{}",
		"\"quoted\"", "back\\slash", "~tilde~",
	};
	static const char * const bad[] = {
		"", "/", "a/b", "trailing/", "with space", " lead", "tab\tx",
		"new\nline", "del\x7f", "high\x80", "latin\xe9", "\x01",
		"esc\x1b[0m",
	};
	char long_name[SHMCHAN_NAME_MAX + 2];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		KUNIT_EXPECT_EQ_MSG(test, shmchan_test_name(good[i]), 0,
				    "good name #%u", i);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, shmchan_test_name(bad[i]), -EINVAL,
				    "bad name #%u", i);

	/* SHMCHAN_NAME_MAX bytes are fine, one more has no NUL in reach */
	memset(long_name, 'n', SHMCHAN_NAME_MAX);
	long_name[SHMCHAN_NAME_MAX] = '\0';
	KUNIT_EXPECT_EQ(test, shmchan_test_name(long_name), 0);
	long_name[SHMCHAN_NAME_MAX] = 'n';
	long_name[SHMCHAN_NAME_MAX + 1] = '\0';
	KUNIT_EXPECT_EQ(test, shmchan_test_name(long_name), -ENAMETOOLONG);
	/* a bad byte in the last place still counts */
	long_name[SHMCHAN_NAME_MAX - 1] = '/';
	long_name[SHMCHAN_NAME_MAX] = '\0';
	KUNIT_EXPECT_EQ(test, shmchan_test_name(long_name), -EINVAL);

	/* strncpy_from_user()'s own error goes through */
	KUNIT_EXPECT_EQ(test, shmchan_check_name("x", -EFAULT), -EFAULT);
}

/* The name table's hash before it was keyed: anyone could compute it. */
static u32 shmchan_unkeyed_bucket(const char *name)
{
	return hash_32(full_name_hash(NULL, name, strlen(name)),
		       SHMCHAN_NAME_HASH_BITS);
}

#define SHMCHAN_COLLIDING	32
#define SHMCHAN_COLLIDING_LEN	8	/* "c" and 6 hex digits */

/* "c" and @i in 6 hex digits: cheaper than snprintf() for 10^5 names */
static void shmchan_hex_name(char *name, u32 i)
{
	int d;

	name[0] = 'c';
	for (d = 6; d >= 1; d--, i >>= 4)
		name[d] = hex_asc[i & 0xf];
	name[7] = '\0';
}

/*
 * Names an attacker would pick, all in one bucket of the unkeyed hash,
 * spread over the table once it is keyed with a random key; and the key
 * is what decides (a second key moves them).
 */
static void shmchan_test_name_hash(struct kunit *test)
{
	char (*names)[SHMCHAN_COLLIDING_LEN];
	unsigned int moved = 0, most = 0;
	siphash_key_t key, key2;
	u32 target, i, n = 0;
	u8 *count;

	names = kunit_kcalloc(test, SHMCHAN_COLLIDING, sizeof(*names),
			      GFP_KERNEL);
	count = kunit_kzalloc(test, 1U << SHMCHAN_NAME_HASH_BITS, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, count);

	shmchan_hex_name(names[0], 0);
	target = shmchan_unkeyed_bucket(names[0]);
	n = 1;
	for (i = 1; i < 1U << 24 && n < SHMCHAN_COLLIDING; i++) {
		shmchan_hex_name(names[n], i);
		if (shmchan_unkeyed_bucket(names[n]) == target)
			n++;
	}
	KUNIT_ASSERT_EQ(test, n, SHMCHAN_COLLIDING);

	get_random_bytes(&key, sizeof(key));
	get_random_bytes(&key2, sizeof(key2));
	for (i = 0; i < n; i++) {
		u32 b = shmchan_name_bucket(&key, names[i]);

		KUNIT_EXPECT_EQ(test, shmchan_test_name(names[i]), 0);
		KUNIT_EXPECT_LT(test, b, 1U << SHMCHAN_NAME_HASH_BITS);
		most = max_t(unsigned int, most, ++count[b]);
		if (shmchan_name_bucket(&key2, names[i]) != b)
			moved++;
		/* the same key, the same bucket: lookups find what was added */
		KUNIT_EXPECT_EQ(test, shmchan_name_bucket(&key, names[i]), b);
	}
	/*
	 * 32 names in 4096 buckets: 5 or more in one bucket happens about
	 * once in 10^9 runs; all 32 of them did so unkeyed.
	 */
	KUNIT_EXPECT_LE_MSG(test, most, 4U,
			    "%u of %u names colliding unkeyed share a bucket keyed",
			    most, n);
	KUNIT_EXPECT_GE_MSG(test, moved, n / 2,
			    "only %u of %u names change bucket with the key",
			    moved, n);
}

/* ------------------------------------------------------------ lengths */

static void shmchan_test_length(struct kunit *test)
{
	static const struct {
		u64 length;
		u64 aligned;
	} good[] = {
		{ 1, PAGE_SIZE },
		{ PAGE_SIZE - 1, PAGE_SIZE },
		{ PAGE_SIZE, PAGE_SIZE },
		{ PAGE_SIZE + 1, 2 * PAGE_SIZE },
		{ 3 * PAGE_SIZE - 17, 3 * PAGE_SIZE },
		{ 1ULL << 40, 1ULL << 40 },
		{ SHMCHAN_STATUS_OFFSET - PAGE_SIZE - 1,
		  SHMCHAN_STATUS_OFFSET - PAGE_SIZE },
		{ SHMCHAN_STATUS_OFFSET - 1, SHMCHAN_STATUS_OFFSET },
		{ SHMCHAN_STATUS_OFFSET, SHMCHAN_STATUS_OFFSET },
	};
	static const struct {
		u64 length;
		int err;
	} bad[] = {
		{ 0, -EINVAL },
		{ SHMCHAN_STATUS_OFFSET + 1, -EFBIG },
		{ SHMCHAN_STATUS_OFFSET + PAGE_SIZE, -EFBIG },
		{ 1ULL << 62, -EFBIG },
		{ MAX_LFS_FILESIZE, -EFBIG },
		{ 1ULL << 63, -EFBIG },
		{ U64_MAX - PAGE_SIZE + 2, -EFBIG },
		{ U64_MAX, -EFBIG },
	};
	unsigned int i;
	u64 aligned;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		aligned = 0;
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_length(good[i].length,
							 &aligned),
				    0, "length %llu", good[i].length);
		KUNIT_EXPECT_EQ_MSG(test, aligned, good[i].aligned,
				    "length %llu", good[i].length);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(aligned));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		aligned = 12345;
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_length(bad[i].length,
							 &aligned),
				    bad[i].err, "length %llu", bad[i].length);
		/* untouched on failure */
		KUNIT_EXPECT_EQ(test, aligned, 12345ULL);
	}
}

/* ------------------------------------------------------------ words */

static void shmchan_test_word_offset(struct kunit *test)
{
	static const struct {
		u64 length;
		u64 offset;
		int err;
	} cases[] = {
		{ PAGE_SIZE, 0, 0 },
		{ PAGE_SIZE, 4, 0 },
		{ PAGE_SIZE, PAGE_SIZE - 4, 0 },
		{ 2 * PAGE_SIZE, PAGE_SIZE, 0 },
		{ 2 * PAGE_SIZE, 2 * PAGE_SIZE - 4, 0 },
		/* unaligned */
		{ PAGE_SIZE, 1, -EINVAL },
		{ PAGE_SIZE, 2, -EINVAL },
		{ PAGE_SIZE, 3, -EINVAL },
		{ PAGE_SIZE, 6, -EINVAL },
		{ PAGE_SIZE, PAGE_SIZE - 3, -EINVAL },
		{ PAGE_SIZE, PAGE_SIZE - 2, -EINVAL },
		{ PAGE_SIZE, PAGE_SIZE - 1, -EINVAL },
		/* at and past the end */
		{ PAGE_SIZE, PAGE_SIZE, -EINVAL },
		{ PAGE_SIZE, PAGE_SIZE + 4, -EINVAL },
		{ PAGE_SIZE, 2 * PAGE_SIZE - 4, -EINVAL },
		{ PAGE_SIZE, 1ULL << 63, -EINVAL },
		{ PAGE_SIZE, U64_MAX - 3, -EINVAL },
		{ PAGE_SIZE, U64_MAX, -EINVAL },
		/* no room for a word at all */
		{ 0, 0, -EINVAL },
		{ 3, 0, -EINVAL },
		{ 4, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_word_offset(cases[i].length,
							      cases[i].offset),
				    cases[i].err, "length %llu offset %llu",
				    cases[i].length, cases[i].offset);
}

/* ------------------------------------------------------------ mmap */

static void shmchan_test_map_range(struct kunit *test)
{
	static const struct {
		u64 pages;
		unsigned long pgoff;
		unsigned long npages;
		int err;
	} cases[] = {
		{ 4, 0, 4, 0 },
		{ 4, 0, 1, 0 },
		{ 4, 3, 1, 0 },
		{ 4, 1, 3, 0 },
		{ 1, 0, 1, 0 },
		{ 4, 0, 5, -ENXIO },
		{ 4, 1, 4, -ENXIO },
		{ 4, 4, 1, -ENXIO },
		{ 4, 5, 0, -ENXIO },
		{ 4, 3, 2, -ENXIO },
		/* offset plus length that wraps around */
		{ 4, 2, ULONG_MAX, -ENXIO },
		{ 4, ULONG_MAX, 1, -ENXIO },
		{ 4, ULONG_MAX, 5, -ENXIO },
		{ 4, ULONG_MAX - 1, 2, -ENXIO },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_check_map_range(cases[i].pages << PAGE_SHIFT,
							    cases[i].pgoff,
							    cases[i].npages),
				    cases[i].err, "%llu pages, pgoff %lu, %lu pages",
				    cases[i].pages, cases[i].pgoff,
				    cases[i].npages);
}

/* ------------------------------------------------------------ limits */

static void shmchan_test_limits(struct kunit *test)
{
	/* 0: no limit, whatever the sum */
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(0, 1, 0));
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(U64_MAX, 1, 0));
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(U64_MAX, U64_MAX, 0));
	/* up to the limit, not past it */
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(0, 10, 10));
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(9, 1, 10));
	KUNIT_EXPECT_TRUE(test, shmchan_limit_exceeded(10, 1, 10));
	KUNIT_EXPECT_TRUE(test, shmchan_limit_exceeded(0, 11, 10));
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(U64_MAX - 1, 1,
							U64_MAX));
	KUNIT_EXPECT_FALSE(test, shmchan_limit_exceeded(0, U64_MAX, U64_MAX));
	/* a sum that wraps around is past any limit */
	KUNIT_EXPECT_TRUE(test, shmchan_limit_exceeded(U64_MAX, 1, U64_MAX));
	KUNIT_EXPECT_TRUE(test, shmchan_limit_exceeded(2, U64_MAX, 10));
	KUNIT_EXPECT_TRUE(test, shmchan_limit_exceeded(1ULL << 63, 1ULL << 63,
						       1ULL << 20));

	KUNIT_EXPECT_EQ(test, shmchan_check_size_limit(PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, shmchan_check_size_limit(U64_MAX, 0), 0);
	KUNIT_EXPECT_EQ(test, shmchan_check_size_limit(PAGE_SIZE, PAGE_SIZE),
			0);
	KUNIT_EXPECT_EQ(test,
			shmchan_check_size_limit(2 * PAGE_SIZE, PAGE_SIZE),
			-EFBIG);
	KUNIT_EXPECT_EQ(test, shmchan_check_size_limit(U64_MAX, PAGE_SIZE),
			-EFBIG);
}

/* ------------------------------------------------------------ modes */

static void shmchan_test_modes(struct kunit *test)
{
	static const struct {
		umode_t mode;
		bool owner;
		bool group;
		int want;
		bool allowed;
	} cases[] = {
		{ 0600, true, false, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE, true },
		{ 0600, false, true, SHMCHAN_MAY_READ, false },
		{ 0600, false, false, SHMCHAN_MAY_READ, false },
		{ 0640, false, true, SHMCHAN_MAY_READ, true },
		{ 0640, false, true, SHMCHAN_MAY_WRITE, false },
		{ 0644, false, false, SHMCHAN_MAY_READ, true },
		{ 0644, false, false, SHMCHAN_MAY_WRITE, false },
		{ 0400, true, false, SHMCHAN_MAY_READ, true },
		{ 0400, true, false, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE, false },
		{ 0200, true, false, SHMCHAN_MAY_WRITE, true },
		{ 0666, false, false, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE, true },
		/* the first class that matches decides, as for System V */
		{ 0640, true, true, SHMCHAN_MAY_WRITE, true },
		{ 0066, true, true, SHMCHAN_MAY_READ, false },
		{ 0606, false, true, SHMCHAN_MAY_READ, false },
		{ 0060, true, false, SHMCHAN_MAY_READ, false },
		/* the group bits are only the group's */
		{ 0060, false, false, SHMCHAN_MAY_READ, false },
		{ 0006, false, true, SHMCHAN_MAY_WRITE, false },
		/* execute bits grant nothing wanted here */
		{ 0111, true, false, SHMCHAN_MAY_READ, false },
		{ 0777, false, false, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE, true },
		/* nothing wanted, nothing refused */
		{ 0000, false, false, 0, true },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_mode_allows(cases[i].mode,
							cases[i].owner,
							cases[i].group,
							cases[i].want),
				    cases[i].allowed,
				    "mode %04o owner %d group %d want %o",
				    cases[i].mode, cases[i].owner,
				    cases[i].group, cases[i].want);
}

/* ------------------------------------------------------------ wait/wake */

static void shmchan_test_wait_args(struct kunit *test)
{
	struct shmchan_wait w = { .size = sizeof(w), .offset = 8,
				  .expected = 1 };

	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), 0);
	w.flags = SHMCHAN_WAIT_FLAGS;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), 0);
	w.flags = SHMCHAN_WAIT_DEATHS << 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.flags = 0;

	w.__reserved = 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.__reserved = 0;
	w.__reserved2 = 0x80000000;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.__reserved2 = 0;

	/* a deadline only with its flag */
	w.deadline_ns = 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.flags = SHMCHAN_WAIT_DEATHS;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.flags = SHMCHAN_WAIT_DEADLINE;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), 0);
	w.deadline_ns = 0;

	/* a death count only with its flag */
	w.deaths = 3;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), -EINVAL);
	w.flags = SHMCHAN_WAIT_DEATHS;
	KUNIT_EXPECT_EQ(test, shmchan_check_wait_args(&w), 0);
}

/* ------------------------------------------------------------ watches */

static void shmchan_test_watch_args(struct kunit *test)
{
	struct shmchan_watch w = { .size = sizeof(w), .offset = 8,
				   .expected = 1, .data = 5, .id = 7,
				   .result = ~0U };
	struct shmchan_watch z = { .size = sizeof(z), .id = 3, .result = 1 };

	/* ADD: offset and data are its own; id and result are out fields */
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD), 0);
	w.flags = SHMCHAN_WATCH_FLAGS;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD), 0);
	w.flags = SHMCHAN_WATCH_READ_LIST;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD),
			-EINVAL);
	w.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD),
			-EINVAL);
	w.flags = 0;
	/* a death count only with its flag, for ADD and ARM */
	w.deaths = 2;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD),
			-EINVAL);
	w.flags = SHMCHAN_WATCH_DEATHS;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ADD), 0);
	/* ARM: no offset, no data */
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ARM),
			-EINVAL);
	w.offset = 0;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ARM),
			-EINVAL);
	w.data = 0;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ARM), 0);
	w.flags = 0;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&w, SHMCHAN_WATCH_CMD_ARM),
			-EINVAL);
	/* DEL: nothing but the id (result is ignored) */
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&z, SHMCHAN_WATCH_CMD_DEL), 0);
	z.expected = 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&z, SHMCHAN_WATCH_CMD_DEL),
			-EINVAL);
	z.expected = 0;
	z.flags = SHMCHAN_WATCH_DEATHS;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_args(&z, SHMCHAN_WATCH_CMD_DEL),
			-EINVAL);
}

static void shmchan_test_watch_read_args(struct kunit *test)
{
	struct shmchan_watch_read r = { .size = sizeof(r),
					.event_size = SHMCHAN_WATCH_EVENT_SIZE_VER0 };

	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), 0);
	r.flags = SHMCHAN_WATCH_READ_FLAGS;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), 0);
	r.flags = SHMCHAN_WATCH_DEATHS;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), -EINVAL);
	r.flags = 0;
	r.event_size = SHMCHAN_WATCH_EVENT_SIZE_VER0 - 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), -EINVAL);
	r.event_size = 0;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), -EINVAL);
	r.event_size = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), 0);
	r.event_size = PAGE_SIZE + 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_watch_read_args(&r), -E2BIG);
}

static void shmchan_test_wake_args(struct kunit *test)
{
	struct shmchan_wake w = { .size = sizeof(w), .offset = 4,
				  .count = SHMCHAN_WAKE_ALL };

	KUNIT_EXPECT_EQ(test, shmchan_check_wake_args(&w), 0);
	w.flags = 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_wake_args(&w), -EINVAL);
	w.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, shmchan_check_wake_args(&w), -EINVAL);
	w.flags = 0;
	w.__reserved = 1;
	KUNIT_EXPECT_EQ(test, shmchan_check_wake_args(&w), -EINVAL);
}

static void shmchan_test_deadline(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline(0), (ktime_t)0);
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline(NSEC_PER_SEC),
			(ktime_t)NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline(KTIME_MAX - 1),
			(ktime_t)(KTIME_MAX - 1));
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline(KTIME_MAX), KTIME_MAX);
	/* never negative: beyond KTIME_MAX is "never" */
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline((u64)KTIME_MAX + 1),
			KTIME_MAX);
	KUNIT_EXPECT_EQ(test, shmchan_wait_deadline(U64_MAX), KTIME_MAX);
}

static struct kunit_case shmchan_rule_cases[] = {
	KUNIT_CASE(shmchan_test_struct_versions),
	KUNIT_CASE(shmchan_test_args_size),
	KUNIT_CASE(shmchan_test_names),
	KUNIT_CASE(shmchan_test_name_hash),
	KUNIT_CASE(shmchan_test_length),
	KUNIT_CASE(shmchan_test_word_offset),
	KUNIT_CASE(shmchan_test_map_range),
	KUNIT_CASE(shmchan_test_limits),
	KUNIT_CASE(shmchan_test_modes),
	KUNIT_CASE(shmchan_test_wait_args),
	KUNIT_CASE(shmchan_test_wake_args),
	KUNIT_CASE(shmchan_test_watch_args),
	KUNIT_CASE(shmchan_test_watch_read_args),
	KUNIT_CASE(shmchan_test_deadline),
	{}
};

static struct kunit_suite shmchan_rule_suite = {
	.name = "shmchan",
	.test_cases = shmchan_rule_cases,
};

/* ------------------------------------------------------------ copy in */

/*
 * One page of the loading process's memory, with nothing mapped after
 * it; set up in that process (suite_init), used from the test threads.
 */
static struct mm_struct *shmchan_test_mm;
static unsigned long shmchan_test_page;

static int shmchan_args_suite_init(struct kunit_suite *suite)
{
	unsigned long addr;

	if (!current->mm)
		return -ENXIO;
	addr = vm_mmap(NULL, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	if (vm_munmap(addr + PAGE_SIZE, PAGE_SIZE)) {
		vm_munmap(addr, 2 * PAGE_SIZE);
		return -ENOMEM;
	}
	mmget(current->mm);
	shmchan_test_mm = current->mm;
	shmchan_test_page = addr;
	return 0;
}

static void shmchan_args_suite_exit(struct kunit_suite *suite)
{
	vm_munmap(shmchan_test_page, PAGE_SIZE);
	mmput(shmchan_test_mm);
	shmchan_test_mm = NULL;
}

/*
 * Put @len bytes of @src at @at bytes from the end of the user page, then
 * copy a struct of @usize bytes from there into @dst (@ksize bytes, first
 * filled with 0xa5) with shmchan_copy_args(). No assertion may end the
 * test thread while it uses the mm: results are checked by the caller.
 */
static int shmchan_test_copy(struct kunit *test, const void *src, size_t len,
			     size_t at, u32 usize, void *dst, size_t ksize,
			     u32 min_size)
{
	void __user *uptr = (void __user *)(shmchan_test_page + PAGE_SIZE - at);
	int ret = -EIO;

	memset(dst, 0xa5, ksize);
	kthread_use_mm(shmchan_test_mm);
	if (!clear_user((void __user *)shmchan_test_page, PAGE_SIZE) &&
	    !copy_to_user(uptr, src, len))
		ret = shmchan_copy_args(dst, ksize, min_size, uptr, usize);
	kthread_unuse_mm(shmchan_test_mm);
	return ret;
}

/* The same size as the module's: copied as it is. */
static void shmchan_test_copy_exact(struct kunit *test)
{
	struct shmchan_wake in = { .size = sizeof(in), .offset = 4096,
				   .count = 7 }, out;

	KUNIT_ASSERT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), sizeof(in),
					  sizeof(in), &out, sizeof(out),
					  SHMCHAN_WAKE_SIZE_VER0), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&in, &out, sizeof(in)), 0);
}

/* An older, shorter struct: the rest reads as zero. */
static void shmchan_test_copy_shorter(struct kunit *test)
{
	struct shmchan_stat in = { .size = SHMCHAN_STAT_SIZE_VER0,
				   .length = 8192, .nwaiters = 3 }, out;
	static const u8 zero[sizeof(out)];

	KUNIT_ASSERT_EQ(test,
			shmchan_test_copy(test, &in, SHMCHAN_STAT_SIZE_VER0,
					  SHMCHAN_STAT_SIZE_VER0,
					  SHMCHAN_STAT_SIZE_VER0, &out,
					  sizeof(out), SHMCHAN_STAT_SIZE_VER0),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(&in, &out, SHMCHAN_STAT_SIZE_VER0), 0);
	KUNIT_EXPECT_EQ(test,
			memcmp((u8 *)&out + SHMCHAN_STAT_SIZE_VER0, zero,
			       sizeof(out) - SHMCHAN_STAT_SIZE_VER0), 0);
}

/* Shorter than the first version: refused before anything is copied. */
static void shmchan_test_copy_too_short(struct kunit *test)
{
	struct shmchan_wait in = { .size = SHMCHAN_WAIT_SIZE_VER0 - 4 }, out;
	u8 fill[sizeof(out)];

	memset(fill, 0xa5, sizeof(fill));
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), sizeof(in),
					  in.size, &out, sizeof(out),
					  SHMCHAN_WAIT_SIZE_VER0), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(&out, fill, sizeof(out)), 0);
}

/*
 * A newer, longer struct: accepted if its unknown tail is zero, E2BIG if
 * any byte of it is not, wherever that byte is.
 */
static void shmchan_test_copy_longer(struct kunit *test)
{
	struct shmchan_wake out;
	u8 in[256] = { 0 };
	size_t bad[] = { sizeof(out), sizeof(out) + 1, sizeof(out) + 7,
			 sizeof(out) + 8, 100, sizeof(in) - 1 };
	unsigned int i;

	((struct shmchan_wake *)in)->size = sizeof(in);
	((struct shmchan_wake *)in)->count = 5;
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, in, sizeof(in), sizeof(in),
					  sizeof(in), &out, sizeof(out),
					  SHMCHAN_WAKE_SIZE_VER0), 0);
	KUNIT_EXPECT_EQ(test, memcmp(in, &out, sizeof(out)), 0);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		in[bad[i]] = 0x01;
		KUNIT_EXPECT_EQ_MSG(test,
				    shmchan_test_copy(test, in, sizeof(in),
						      sizeof(in), sizeof(in),
						      &out, sizeof(out),
						      SHMCHAN_WAKE_SIZE_VER0),
				    -E2BIG, "non-zero byte at %zu", bad[i]);
		in[bad[i]] = 0;
	}
	/* a non-zero byte past the size given is none of its business */
	in[200] = 0xff;
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, in, sizeof(in), sizeof(in),
					  200, &out, sizeof(out),
					  SHMCHAN_WAKE_SIZE_VER0), 0);
}

/* More than a page is E2BIG, even when all of it is zero. */
static void shmchan_test_copy_huge(struct kunit *test)
{
	struct shmchan_create in = { .size = PAGE_SIZE + 1 }, out;

	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), sizeof(in),
					  PAGE_SIZE + 1, &out, sizeof(out),
					  SHMCHAN_CREATE_SIZE_VER0), -E2BIG);
	/* a whole page of zeros after the struct is fine */
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), PAGE_SIZE,
					  PAGE_SIZE, &out, sizeof(out),
					  SHMCHAN_CREATE_SIZE_VER0), 0);
}

/* A struct that runs into unmapped memory is EFAULT. */
static void shmchan_test_copy_fault(struct kunit *test)
{
	struct shmchan_wait in = { .size = sizeof(in) }, out;

	/* the struct itself crosses the end of the page */
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in) - 8,
					  sizeof(in) - 8, sizeof(in), &out,
					  sizeof(out), SHMCHAN_WAIT_SIZE_VER0),
			-EFAULT);
	/* only its unknown tail does */
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), sizeof(in),
					  sizeof(in) + 8, &out, sizeof(out),
					  SHMCHAN_WAIT_SIZE_VER0), -EFAULT);
	/* and when it ends right at the end of the page, all is well */
	KUNIT_EXPECT_EQ(test,
			shmchan_test_copy(test, &in, sizeof(in), sizeof(in),
					  sizeof(in), &out, sizeof(out),
					  SHMCHAN_WAIT_SIZE_VER0), 0);
}

static struct kunit_case shmchan_args_cases[] = {
	KUNIT_CASE(shmchan_test_copy_exact),
	KUNIT_CASE(shmchan_test_copy_shorter),
	KUNIT_CASE(shmchan_test_copy_too_short),
	KUNIT_CASE(shmchan_test_copy_longer),
	KUNIT_CASE(shmchan_test_copy_huge),
	KUNIT_CASE(shmchan_test_copy_fault),
	{}
};

static struct kunit_suite shmchan_args_suite = {
	.name = "shmchan_args",
	.suite_init = shmchan_args_suite_init,
	.suite_exit = shmchan_args_suite_exit,
	.test_cases = shmchan_args_cases,
};

kunit_test_suites(&shmchan_rule_suite, &shmchan_args_suite);

MODULE_DESCRIPTION("KUnit tests of shmchan's rules");
MODULE_LICENSE("GPL");
