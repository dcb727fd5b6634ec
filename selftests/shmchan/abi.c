// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan ABI rules: FEATURES, extensible-struct size handling for every
 * command, bad argument pointers, unknown commands, unknown flags and
 * non-zero reserved fields.
 */
#include "shmchan_test.h"

/* ---- FEATURES ---------------------------------------------------------------- */

FIXTURE(features) {
	int fd;
};

FIXTURE_SETUP(features)
{
	SC_REQUIRE_DEVICE();
	self->fd = sc_dev();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(features)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

TEST_F(features, abi_version_and_name_max)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ(sizeof(f), f.size);
	EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION, f.abi_version);
	EXPECT_EQ((__u32)SHMCHAN_NAME_MAX, f.name_max);
	EXPECT_EQ(0U, f.__reserved);
}

TEST_F(features, flag_masks)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ(SHMCHAN_CREATE_FLAGS, f.create_flags);
	EXPECT_EQ(SHMCHAN_OPEN_FLAGS, f.open_flags);
	EXPECT_EQ(SHMCHAN_DESTROY_FLAGS, f.destroy_flags);
	EXPECT_EQ(0U, f.stat_flags);
	EXPECT_EQ(SHMCHAN_WAIT_FLAGS, f.wait_flags);
	EXPECT_EQ(0U, f.wake_flags);
	EXPECT_EQ(SHMCHAN_SETATTR_FLAGS, f.setattr_flags);
	EXPECT_EQ(0U, f.__reserved2);
	EXPECT_EQ(SHMCHAN_WATCH_FLAGS | SHMCHAN_WATCH_READ_FLAGS, f.watch_flags);
	EXPECT_EQ(0U, f.__reserved3);
}

TEST_F(features, feature_bits)
{
	struct shmchan_features f;

	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ(SHMCHAN_FEATURE_SHMEM | SHMCHAN_FEATURE_REVOKE |
		  SHMCHAN_FEATURE_TRANSIENT | SHMCHAN_FEATURE_DEATH_NOTICE |
		  SHMCHAN_FEATURE_LISTING | SHMCHAN_FEATURE_SETATTR |
		  SHMCHAN_FEATURE_STATUS_PAGE | SHMCHAN_FEATURE_WATCH, f.features);
}

/* "out" fields are ignored on input. */
TEST_F(features, out_fields_ignored_on_input)
{
	struct shmchan_features f;

	memset(&f, 0xff, sizeof(f));
	f.size = sizeof(f);
	ASSERT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_FEATURES, &f));
	EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION, f.abi_version);
	EXPECT_EQ(SHMCHAN_CREATE_FLAGS, f.create_flags);
	EXPECT_EQ(0U, f.stat_flags);
	EXPECT_EQ(0U, f.__reserved);
	EXPECT_EQ((__u32)SHMCHAN_NAME_MAX, f.name_max);
}

/* FEATURES works on a bound handle as on an unbound one. */
TEST_F(features, on_bound_handle)
{
	const char *name = sc_newname("feat");
	struct shmchan_features f;

	ASSERT_EQ(0, sc_create(self->fd, name, SC_PAGE, 0600, 0, NULL));
	ASSERT_EQ(0, sc_features(self->fd, &f));
	EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION, f.abi_version);
}

/* ---- unknown commands ------------------------------------------------------ */

FIXTURE(ioctl) {
	int fd;
	const char *name;
};

FIXTURE_SETUP(ioctl)
{
	SC_REQUIRE_DEVICE();
	self->fd = sc_dev();
	ASSERT_LE(0, self->fd);
	self->name = sc_newname("ioc");
}

FIXTURE_TEARDOWN(ioctl)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

TEST_F(ioctl, unknown_number_enotty)
{
	char buf[256] = { 0 };

	*(__u32 *)buf = 64;
	/* 0x0B is WATCH_READ, the last command; 0x0C-0x0E are allocated too. */
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR(SHMCHAN_IOC_MAGIC, 0x0F, __u64[8]), buf));
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR(SHMCHAN_IOC_MAGIC, 0x40, __u64[8]), buf));
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR(SHMCHAN_IOC_MAGIC, 0xff, __u64[8]), buf));
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IO(SHMCHAN_IOC_MAGIC, 0x20), NULL));
}

TEST_F(ioctl, unknown_magic_enotty)
{
	struct shmchan_features f = { .size = sizeof(f) };

	/* FEATURES' number and size, another type. */
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR(SHMCHAN_IOC_MAGIC + 1, 0x00,
						    struct shmchan_features), &f));
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR('T', 0x00,
						    struct shmchan_features), &f));
}

TEST_F(ioctl, unknown_on_bound_handle_enotty)
{
	char buf[64] = { 0 };

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	EXPECT_EQ(-ENOTTY, sc_ioctl(self->fd, _IOWR(SHMCHAN_IOC_MAGIC, 0x30, __u64[8]), buf));
	/* The handle is still fine. */
	struct shmchan_stat st;

	EXPECT_EQ(0, sc_stat(self->fd, &st));
}

/* ---- flags and reserved fields ------------------------------------------------ */

/* Every bit not in @mask is rejected with EINVAL by @call. */
#define FOR_EACH_UNKNOWN_BIT(mask, bit) \
	for (bit = 0; bit < 32; bit++) if (!((mask) & (1U << bit)))

TEST_F(ioctl, create_unknown_flags_einval)
{
	int bit;

	FOR_EACH_UNKNOWN_BIT(SHMCHAN_CREATE_FLAGS, bit) {
		EXPECT_EQ(-EINVAL, sc_create(self->fd, self->name, SC_PAGE, 0600,
					     1U << bit, NULL))
			TH_LOG("flag bit %d", bit);
	}
	/* Nothing was made, and the handle is still unbound. */
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
}

TEST_F(ioctl, open_unknown_flags_einval)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, 0);
	int bit;

	ASSERT_LE(0, fd);
	FOR_EACH_UNKNOWN_BIT(SHMCHAN_OPEN_FLAGS, bit) {
		EXPECT_EQ(-EINVAL, sc_open(self->fd, self->name, 1U << bit, NULL))
			TH_LOG("flag bit %d", bit);
	}
	EXPECT_EQ(0, sc_open(self->fd, self->name, 0, NULL));
	close(fd);
}

TEST_F(ioctl, destroy_unknown_flags_einval)
{
	int fd = sc_new(self->name, SC_PAGE, 0600, 0);
	int bit;

	ASSERT_LE(0, fd);
	FOR_EACH_UNKNOWN_BIT(SHMCHAN_DESTROY_FLAGS, bit) {
		EXPECT_EQ(-EINVAL, sc_destroy(self->fd, self->name, 1U << bit))
			TH_LOG("flag bit %d", bit);
	}
	/* Not destroyed by the failed calls. */
	EXPECT_EQ(1, sc_exists(self->name));
	close(fd);
}

TEST_F(ioctl, stat_nonzero_flags_einval)
{
	struct shmchan_stat st;
	int bit;

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	for (bit = 0; bit < 32; bit++) {
		memset(&st, 0, sizeof(st));
		st.size = sizeof(st);
		st.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_STAT, &st))
			TH_LOG("flag bit %d", bit);
	}
}

TEST_F(ioctl, wait_unknown_flags_einval)
{
	struct shmchan_wait w;
	int bit;

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	FOR_EACH_UNKNOWN_BIT(SHMCHAN_WAIT_FLAGS, bit) {
		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.flags = 1U << bit;
		w.expected = 0;	/* would block if accepted... */
		EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w))
			TH_LOG("flag bit %d", bit);
	}
}

TEST_F(ioctl, wait_reserved_nonzero_einval)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = SHMCHAN_WAIT_DEADLINE,
		.deadline_ns = 1,	/* long past: would time out at once */
		.__reserved = 1,
	};

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.__reserved = 0x80000000U;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.__reserved = 0;
	EXPECT_EQ(-ETIMEDOUT, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
}

TEST_F(ioctl, wait_deadline_without_flag_einval)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = 0,
		.expected = 0,
		.deadline_ns = sc_now_ns() + SC_NSEC,
	};

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
}

/* @deaths must be 0 without SHMCHAN_WAIT_DEATHS; @__reserved2 always. */
TEST_F(ioctl, wait_deaths_without_flag_einval)
{
	struct shmchan_wait w = {
		.size = sizeof(w),
		.flags = SHMCHAN_WAIT_DEADLINE,
		.deadline_ns = 1,
		.deaths = 1,
	};

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.deaths = 0;
	w.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.flags |= SHMCHAN_WAIT_DEATHS;
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
	w.__reserved2 = 0;
	EXPECT_EQ(-ETIMEDOUT, sc_ioctl(self->fd, SHMCHAN_IOC_WAIT, &w));
}

TEST_F(ioctl, wake_nonzero_flags_einval)
{
	struct shmchan_wake w;
	int bit;

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	for (bit = 0; bit < 32; bit++) {
		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.flags = 1U << bit;
		w.count = 1;
		EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAKE, &w))
			TH_LOG("flag bit %d", bit);
	}
}

TEST_F(ioctl, wake_reserved_nonzero_einval)
{
	struct shmchan_wake w = {
		.size = sizeof(w),
		.count = 1,
		.__reserved = 1,
	};

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0600, 0, NULL));
	EXPECT_EQ(-EINVAL, sc_ioctl(self->fd, SHMCHAN_IOC_WAKE, &w));
	w.__reserved = 0;
	EXPECT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_WAKE, &w));
}

TEST_F(ioctl, create_result_ignored_on_input)
{
	struct shmchan_create c = {
		.size = sizeof(c),
		.name = sc_ptr(self->name),
		.length = SC_PAGE,
		.mode = 0600,
		.result = 0xffffffffU,
	};

	ASSERT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_CREATE, &c));
	EXPECT_EQ(SHMCHAN_CREATED, c.result);
	EXPECT_EQ((__u64)SC_PAGE, c.length);
}

TEST_F(ioctl, open_length_ignored_on_input)
{
	int fd = sc_new(self->name, 2 * SC_PAGE, 0600, 0);
	struct shmchan_open o = {
		.size = sizeof(o),
		.name = sc_ptr(self->name),
		.length = 12345,
	};

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_OPEN, &o));
	EXPECT_EQ((__u64)(2 * SC_PAGE), o.length);
	close(fd);
}

TEST_F(ioctl, stat_out_fields_ignored_on_input)
{
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_create(self->fd, self->name, SC_PAGE, 0640, 0, NULL));
	memset(&st, 0x5a, sizeof(st));
	st.size = sizeof(st);
	st.flags = 0;
	ASSERT_EQ(0, sc_ioctl(self->fd, SHMCHAN_IOC_STAT, &st));
	EXPECT_EQ((__u64)SC_PAGE, st.length);
	EXPECT_EQ(0640U, st.mode);
	EXPECT_EQ(0ULL, st.nmaps);
	EXPECT_EQ(1ULL, st.nhandles);
	EXPECT_EQ(0ULL, st.nwaiters);
}

/* ---- extensible-struct sizes, for every command -------------------------------- */

enum sc_kind { K_FEATURES, K_CREATE, K_OPEN, K_DESTROY, K_STAT, K_WAIT, K_WAKE,
	       K_SETATTR, K_WATCH_ADD, K_WATCH_ARM, K_WATCH_DEL, K_WATCH_READ };

FIXTURE(size) {
	int dev;		/* unbound handle: FEATURES, CREATE, OPEN, DESTROY */
	int bound;		/* bound to @name: STAT, WAIT, WAKE */
	const char *name;	/* exists, 4 pages */
	const char *fresh;	/* does not exist: CREATE makes it */
	char *area;		/* two read-write pages, then a PROT_NONE page */
	size_t page;
};

FIXTURE_VARIANT(size) {
	unsigned long cmd;
	enum sc_kind kind;
	__u32 ksize;		/* sizeof() the struct in this header */
	__u32 ver0;		/* SHMCHAN_*_SIZE_VER0 */
	int ok;			/* result of an accepted call */
	bool out;		/* the command writes the struct back */
};

FIXTURE_VARIANT_ADD(size, features) {
	.cmd = SHMCHAN_IOC_FEATURES, .kind = K_FEATURES,
	.ksize = sizeof(struct shmchan_features),
	.ver0 = SHMCHAN_FEATURES_SIZE_VER0, .ok = 0, .out = true,
};

FIXTURE_VARIANT_ADD(size, create) {
	.cmd = SHMCHAN_IOC_CREATE, .kind = K_CREATE,
	.ksize = sizeof(struct shmchan_create),
	.ver0 = SHMCHAN_CREATE_SIZE_VER0, .ok = 0, .out = true,
};

FIXTURE_VARIANT_ADD(size, open) {
	.cmd = SHMCHAN_IOC_OPEN, .kind = K_OPEN,
	.ksize = sizeof(struct shmchan_open),
	.ver0 = SHMCHAN_OPEN_SIZE_VER0, .ok = 0, .out = true,
};

FIXTURE_VARIANT_ADD(size, destroy) {
	.cmd = SHMCHAN_IOC_DESTROY, .kind = K_DESTROY,
	.ksize = sizeof(struct shmchan_destroy),
	.ver0 = SHMCHAN_DESTROY_SIZE_VER0, .ok = 0, .out = false,
};

FIXTURE_VARIANT_ADD(size, stat) {
	.cmd = SHMCHAN_IOC_STAT, .kind = K_STAT,
	.ksize = sizeof(struct shmchan_stat),
	.ver0 = SHMCHAN_STAT_SIZE_VER0, .ok = 0, .out = true,
};

/* The word is 0 and we expect 1: an accepted WAIT fails with EAGAIN. */
FIXTURE_VARIANT_ADD(size, wait) {
	.cmd = SHMCHAN_IOC_WAIT, .kind = K_WAIT,
	.ksize = sizeof(struct shmchan_wait),
	.ver0 = SHMCHAN_WAIT_SIZE_VER0, .ok = -EAGAIN, .out = false,
};

FIXTURE_VARIANT_ADD(size, wake) {
	.cmd = SHMCHAN_IOC_WAKE, .kind = K_WAKE,
	.ksize = sizeof(struct shmchan_wake),
	.ver0 = SHMCHAN_WAKE_SIZE_VER0, .ok = 0, .out = false,
};

FIXTURE_VARIANT_ADD(size, setattr) {
	.cmd = SHMCHAN_IOC_SETATTR, .kind = K_SETATTR,
	.ksize = sizeof(struct shmchan_setattr),
	.ver0 = SHMCHAN_SETATTR_SIZE_VER0, .ok = 0, .out = false,
};

/* ADD of a watch on word 0, which holds 0: armed, result 0 */
FIXTURE_VARIANT_ADD(size, watch_add) {
	.cmd = SHMCHAN_IOC_WATCH_ADD, .kind = K_WATCH_ADD,
	.ksize = sizeof(struct shmchan_watch),
	.ver0 = SHMCHAN_WATCH_SIZE_VER0, .ok = 0, .out = true,
};

/* ARM and DEL of watch 0, which size_issue() adds first */
FIXTURE_VARIANT_ADD(size, watch_arm) {
	.cmd = SHMCHAN_IOC_WATCH_ARM, .kind = K_WATCH_ARM,
	.ksize = sizeof(struct shmchan_watch),
	.ver0 = SHMCHAN_WATCH_SIZE_VER0, .ok = 0, .out = true,
};

FIXTURE_VARIANT_ADD(size, watch_del) {
	.cmd = SHMCHAN_IOC_WATCH_DEL, .kind = K_WATCH_DEL,
	.ksize = sizeof(struct shmchan_watch),
	.ver0 = SHMCHAN_WATCH_SIZE_VER0, .ok = 0, .out = false,
};

/* READ of no entries: 0 */
FIXTURE_VARIANT_ADD(size, watch_read) {
	.cmd = SHMCHAN_IOC_WATCH_READ, .kind = K_WATCH_READ,
	.ksize = sizeof(struct shmchan_watch_read),
	.ver0 = SHMCHAN_WATCH_READ_SIZE_VER0, .ok = 0, .out = false,
};

FIXTURE_SETUP(size)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->name = sc_newname("size");
	self->fresh = sc_newname("sizenew");
	self->bound = sc_new(self->name, 4 * self->page, 0600, 0);
	ASSERT_LE(0, self->bound);
	self->dev = sc_dev();
	ASSERT_LE(0, self->dev);
	self->area = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(self->area));
	ASSERT_EQ(0, mprotect(self->area + 2 * self->page, self->page, PROT_NONE));
}

FIXTURE_TEARDOWN(size)
{
	if (self->dev > 0)
		close(self->dev);
	if (self->bound > 0)
		close(self->bound);
	sc_cleanup();
}

/* Fill a valid argument of the variant's command at @p (>= ksize bytes). */
static void size_fill(FIXTURE_DATA(size) *self,
		      const FIXTURE_VARIANT(size) *variant, void *p, __u32 size)
{
	memset(p, 0, variant->ksize);
	switch (variant->kind) {
	case K_FEATURES:
	case K_STAT:
		break;
	case K_CREATE: {
		struct shmchan_create *c = p;

		c->name = sc_ptr(self->fresh);
		c->length = self->page;
		c->mode = 0600;
		break;
	}
	case K_OPEN: {
		struct shmchan_open *o = p;

		o->name = sc_ptr(self->name);
		break;
	}
	case K_DESTROY: {
		struct shmchan_destroy *d = p;

		d->name = sc_ptr(self->name);
		break;
	}
	case K_WAIT: {
		struct shmchan_wait *w = p;

		w->offset = 0;
		w->expected = 1;
		break;
	}
	case K_WAKE: {
		struct shmchan_wake *w = p;

		w->offset = 4;
		w->count = 1;
		break;
	}
	case K_SETATTR: {
		struct shmchan_setattr *a = p;

		a->flags = SHMCHAN_SETATTR_MODE;
		a->mode = 0640;
		break;
	}
	case K_WATCH_ADD:
	case K_WATCH_ARM:
	case K_WATCH_DEL:
		break;	/* offset 0, expected 0, id 0 */
	case K_WATCH_READ: {
		struct shmchan_watch_read *r = p;

		r->event_size = sizeof(struct shmchan_watch_event);
		break;
	}
	}
	*(__u32 *)p = size;
}

static int size_issue(FIXTURE_DATA(size) *self,
		      const FIXTURE_VARIANT(size) *variant, unsigned long cmd,
		      void *p)
{
	int fd;

	switch (variant->kind) {
	case K_WATCH_ARM:
	case K_WATCH_DEL: {
		/* Watch 0 exists (or another id is given out: harmless) */
		struct shmchan_watch a = { .size = sizeof(a) };

		sc_ioctl(self->bound, SHMCHAN_IOC_WATCH_ADD, &a);
	}
	/* fall through */
	case K_STAT:
	case K_WAIT:
	case K_WAKE:
	case K_SETATTR:
	case K_WATCH_ADD:
	case K_WATCH_READ:
		fd = self->bound;
		break;
	default:
		fd = self->dev;
	}
	return sc_ioctl(fd, cmd, p);
}

/* After a rejected call nothing happened. */
static int size_nothing_happened(FIXTURE_DATA(size) *self,
				 const FIXTURE_VARIANT(size) *variant)
{
	struct shmchan_stat st;

	switch (variant->kind) {
	case K_CREATE:
		return sc_exists(self->fresh) == 0 &&
		       sc_stat(self->dev, &st) == -EBADFD;
	case K_OPEN:
		return sc_stat(self->dev, &st) == -EBADFD;
	case K_DESTROY:
		return sc_exists(self->name) == 1;
	case K_SETATTR:
		return sc_stat(self->bound, &st) == 0 && st.mode == 0600;
	default:
		return 1;
	}
}

TEST_F(size, zero_einval)
{
	size_fill(self, variant, self->area, 0);
	EXPECT_EQ(-EINVAL, size_issue(self, variant, variant->cmd, self->area));
	EXPECT_TRUE(size_nothing_happened(self, variant));
}

TEST_F(size, below_ver0_einval)
{
	size_fill(self, variant, self->area, variant->ver0 - 1);
	EXPECT_EQ(-EINVAL, size_issue(self, variant, variant->cmd, self->area));
	size_fill(self, variant, self->area, 4);
	EXPECT_EQ(-EINVAL, size_issue(self, variant, variant->cmd, self->area));
	EXPECT_TRUE(size_nothing_happened(self, variant));
}

TEST_F(size, current_size_accepted)
{
	size_fill(self, variant, self->area, variant->ksize);
	EXPECT_EQ(variant->ok, size_issue(self, variant, variant->cmd, self->area));
}

/*
 * The first published size is accepted (the missing tail taken as zero):
 * bytes past @size are neither read nor written.
 */
TEST_F(size, ver0_size_accepted_nothing_past_size)
{
	char *p = self->area;
	__u32 i;

	ASSERT_LE(variant->ver0, variant->ksize);
	memset(p, 0, 2 * self->page);
	size_fill(self, variant, p, variant->ver0);
	/* Garbage where newer fields would be. */
	memset(p + variant->ver0, 0xa5, 64);
	ASSERT_EQ(variant->ok, size_issue(self, variant, variant->cmd, p));
	EXPECT_EQ(variant->ver0, *(__u32 *)p);
	for (i = 0; i < 64; i++) {
		EXPECT_EQ((char)0xa5, p[variant->ver0 + i])
			TH_LOG("byte %u past size was written", i);
	}
	if (variant->kind == K_FEATURES) {
		EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION,
			  ((struct shmchan_features *)p)->abi_version);
	}
	if (variant->kind == K_STAT) {
		EXPECT_EQ((__u64)(4 * self->page), ((struct shmchan_stat *)p)->length);
		EXPECT_EQ(1ULL, ((struct shmchan_stat *)p)->nhandles);
	}
}

TEST_F(size, larger_zero_tail_accepted)
{
	size_fill(self, variant, self->area, variant->ksize + 24);
	memset(self->area + variant->ksize, 0, 24);
	EXPECT_EQ(variant->ok, size_issue(self, variant, variant->cmd, self->area));
}

TEST_F(size, larger_nonzero_tail_e2big)
{
	size_fill(self, variant, self->area, variant->ksize + 24);
	memset(self->area + variant->ksize, 0, 24);
	self->area[variant->ksize + 23] = 1;
	EXPECT_EQ(-E2BIG, size_issue(self, variant, variant->cmd, self->area));
	EXPECT_TRUE(size_nothing_happened(self, variant));
	/* Right after the known struct, too. */
	self->area[variant->ksize + 23] = 0;
	self->area[variant->ksize] = 0x80;
	EXPECT_EQ(-E2BIG, size_issue(self, variant, variant->cmd, self->area));
	EXPECT_TRUE(size_nothing_happened(self, variant));
}

TEST_F(size, one_page_zero_tail_accepted)
{
	memset(self->area, 0, 2 * self->page);
	size_fill(self, variant, self->area, (__u32)self->page);
	EXPECT_EQ(variant->ok, size_issue(self, variant, variant->cmd, self->area));
}

TEST_F(size, above_page_e2big)
{
	memset(self->area, 0, 2 * self->page);
	size_fill(self, variant, self->area, (__u32)self->page + 1);
	EXPECT_EQ(-E2BIG, size_issue(self, variant, variant->cmd, self->area));
	size_fill(self, variant, self->area, 0xffffffffU);
	EXPECT_EQ(-E2BIG, size_issue(self, variant, variant->cmd, self->area));
	EXPECT_TRUE(size_nothing_happened(self, variant));
}

TEST_F(size, null_arg_efault)
{
	EXPECT_EQ(-EFAULT, size_issue(self, variant, variant->cmd, NULL));
}

TEST_F(size, unmapped_arg_efault)
{
	EXPECT_EQ(-EFAULT, size_issue(self, variant, variant->cmd,
				      self->area + 2 * self->page));
}

/* @size is readable, the rest of the struct is in the PROT_NONE page. */
TEST_F(size, arg_straddles_unmapped_efault)
{
	char *p = self->area + 2 * self->page - 8;
	char tmp[4096];

	size_fill(self, variant, tmp, variant->ksize);
	memcpy(p, tmp, 8);
	EXPECT_EQ(-EFAULT, size_issue(self, variant, variant->cmd, p));
	EXPECT_TRUE(size_nothing_happened(self, variant));
}

/* The size encoded in the command number does not matter. */
TEST_F(size, encoded_size_ignored)
{
	unsigned long cmd = _IOC(_IOC_DIR(variant->cmd), _IOC_TYPE(variant->cmd),
				 _IOC_NR(variant->cmd), 8);

	size_fill(self, variant, self->area, variant->ksize);
	EXPECT_EQ(variant->ok, size_issue(self, variant, cmd, self->area));
}

/*
 * A struct larger than the module's: the bytes past the module's struct
 * come back zero, the known fields are filled, and nothing past @size is
 * written.
 */
TEST_F(size, larger_out_tail_zero_nothing_past_size)
{
	const __u32 extra = 16, canary = 32;
	char *p = self->area;
	__u32 i;

	memset(p, 0, 2 * self->page);
	size_fill(self, variant, p, variant->ksize + extra);
	memset(p + variant->ksize + extra, 0xa5, canary);
	ASSERT_EQ(variant->ok, size_issue(self, variant, variant->cmd, p));
	for (i = 0; i < extra; i++) {
		EXPECT_EQ(0, p[variant->ksize + i]) TH_LOG("tail byte %u", i);
	}
	for (i = 0; i < canary; i++) {
		EXPECT_EQ((char)0xa5, p[variant->ksize + extra + i])
			TH_LOG("byte %u past size was written", i);
	}
	EXPECT_EQ(variant->ksize + extra, *(__u32 *)p);

	switch (variant->kind) {
	case K_FEATURES:
		EXPECT_EQ((__u32)SHMCHAN_ABI_VERSION,
			  ((struct shmchan_features *)p)->abi_version);
		break;
	case K_CREATE:
		EXPECT_EQ(SHMCHAN_CREATED, ((struct shmchan_create *)p)->result);
		break;
	case K_OPEN:
		EXPECT_EQ((__u64)(4 * self->page), ((struct shmchan_open *)p)->length);
		break;
	case K_STAT:
		EXPECT_EQ((__u64)(4 * self->page), ((struct shmchan_stat *)p)->length);
		break;
	default:
		break;
	}
}

/* An "out" struct in read-only memory cannot be written back: EFAULT. */
TEST_F(size, readonly_arg)
{
	size_fill(self, variant, self->area + self->page, variant->ksize);
	ASSERT_EQ(0, mprotect(self->area + self->page, self->page, PROT_READ));
	EXPECT_EQ(variant->out ? -EFAULT : variant->ok,
		  size_issue(self, variant, variant->cmd, self->area + self->page));
}

TEST_HARNESS_MAIN
