// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan permissions beyond selftests/shmchan/perm.c: the whole mode-bit
 * matrix (owner, creator, group, creator's group, others × read-only,
 * read-write), CAP_IPC_OWNER and CAP_SYS_ADMIN on their own, SETATTR by
 * whom and with what effect, the listing showing only what the reader may
 * open, ids translated into the reader's user and pid namespaces, and no
 * uninitialized byte in any struct copied out.
 *
 * Needs root (it switches users and capabilities); skips without it.
 */
#include "hard.h"

#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The users of the matrix; the channel is made by CREATOR, owned by OWNER. */
#define CREATOR		1001	/* group 1001 */
#define OWNER		1000
#define OWNER_GROUP	1002
#define GROUP_MEMBER	1003	/* runs with group OWNER_GROUP */
#define CGROUP_MEMBER	1004	/* runs with group 1001, the creator's */
#define OTHER		1005	/* group 1005 */

FIXTURE(acc) {
	const char *name;
	int fd;		/* root's read-write handle of @name */
};

static int create_as_creator(void *arg)
{
	const char *name = arg;
	int fd = sc_new(name, SC_PAGE, 0600, 0);

	CHILD_TRUE(fd >= 0);
	return 0;
}

FIXTURE_SETUP(acc)
{
	SC_REQUIRE_DEVICE();
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root to switch users and capabilities");
	self->name = sc_newname("acc");
	ASSERT_EQ(0, hard_as(CREATOR, CREATOR, create_as_creator, (void *)self->name));
	self->fd = sc_attach(self->name, 0);
	ASSERT_LE(0, self->fd);
	/* root hands it over: a give-away needs CAP_CHOWN, as for chown(2) */
	ASSERT_EQ(0, sc_setattr(self->fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID, 0,
				OWNER, OWNER_GROUP));
}

FIXTURE_TEARDOWN(acc)
{
	if (self->fd > 0)
		close(self->fd);
	sc_cleanup();
}

/* ---- the mode-bit matrix -------------------------------------------------- */

struct who {
	const char *what;
	uid_t uid;
	gid_t gid;
	int shift;	/* which bits apply: 6 owner, 3 group, 0 other */
};

static const struct who matrix_users[] = {
	{ "owner", OWNER, OWNER, 6 },
	{ "creator", CREATOR, CREATOR, 6 },
	{ "group member", GROUP_MEMBER, OWNER_GROUP, 3 },
	{ "creator's group member", CGROUP_MEMBER, CREATOR, 3 },
	{ "other", OTHER, OTHER, 0 },
};

struct try_open {
	const char *name;
	int expect_ro, expect_rw;	/* 0 or -EACCES */
	int map_write;			/* with rw: PROT_WRITE mapping works */
};

static int try_open(void *arg)
{
	const struct try_open *t = arg;
	int fd;

	fd = sc_attach(t->name, SHMCHAN_OPEN_RDONLY);
	CHILD_EQ(t->expect_ro, fd < 0 ? fd : 0);
	if (fd >= 0) {
		void *p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);

		/* a read-only handle never maps writable */
		CHILD_TRUE(p == MAP_FAILED && errno == EACCES);
		close(fd);
	}
	fd = sc_attach(t->name, 0);
	CHILD_EQ(t->expect_rw, fd < 0 ? fd : 0);
	if (fd >= 0) {
		void *p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);

		CHILD_TRUE(p != MAP_FAILED);
		close(fd);
	}
	/* CREATE of the existing name wants read and write, as OPEN does */
	fd = sc_new(t->name, SC_PAGE, 0600, 0);
	CHILD_EQ(t->expect_rw, fd < 0 ? fd : 0);
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * SysV rules: the owner's bits for the owner or the creator, else the
 * group's bits for a member of the owner's or the creator's group, else
 * the others' bits; reading needs r, a read-write handle r and w.
 */
TEST_F(acc, mode_matrix)
{
	static const __u32 modes[] = {
		0, 0400, 0200, 0600, 0040, 0020, 0060, 0004, 0002, 0006,
		0640, 0604, 0460, 0406, 0066, 0444, 0666, 0777,
	};
	unsigned int m, u;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		ASSERT_EQ(0, sc_chmod(self->fd, modes[m]));
		for (u = 0; u < ARRAY_SIZE(matrix_users); u++) {
			const struct who *w = &matrix_users[u];
			__u32 bits = (modes[m] >> w->shift) & 07;
			struct try_open t = {
				.name = self->name,
				.expect_ro = (bits & 04) ? 0 : -EACCES,
				.expect_rw = (bits & 06) == 06 ? 0 : -EACCES,
			};

			EXPECT_EQ(0, hard_as(w->uid, w->gid, try_open, &t))
				TH_LOG("mode %04o, %s", modes[m], w->what);
		}
	}
}

/* ---- no length oracle -------------------------------------------------------- */

struct length_try {
	const char *name;
	__u64 length;		/* the channel's */
};

/*
 * CREATE without EXCL of a channel the caller may not open: EACCES
 * whatever the length asked, so the EINVAL of "longer than the channel"
 * does not tell the length away.
 */
static int create_cannot_measure(void *arg)
{
	const struct length_try *t = arg;
	const __u64 lengths[] = {
		1, t->length - 1, t->length, t->length + 1, t->length + SC_PAGE,
		64 * t->length,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lengths); i++) {
		int fd = sc_dev();

		CHILD_TRUE(fd >= 0);
		if (sc_create(fd, t->name, lengths[i], 0600, 0, NULL) != -EACCES)
			CHILD_FAIL("length %llu: %d, not EACCES",
				   (unsigned long long)lengths[i],
				   sc_create(fd, t->name, lengths[i], 0600, 0, NULL));
		close(fd);
	}
	/* the EEXIST of EXCL tells only what OPEN's EACCES tells: it exists */
	CHILD_EQ(-EEXIST, sc_new(t->name, 64 * t->length, 0600, SHMCHAN_CREATE_EXCL));
	return 0;
}

/* One who may open it still gets EINVAL for a length above the channel's. */
static int create_may_measure(void *arg)
{
	const struct length_try *t = arg;
	int fd = sc_new(t->name, t->length, 0600, 0);

	CHILD_TRUE(fd >= 0);
	close(fd);
	CHILD_EQ(-EINVAL, sc_new(t->name, t->length + 1, 0600, 0));
	return 0;
}

TEST_F(acc, create_is_no_length_oracle)
{
	struct length_try t = { .name = self->name, .length = SC_PAGE };
	const __u32 modes[] = { 0600, 0640, 0604, 0 };
	unsigned int m;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		ASSERT_EQ(0, sc_chmod(self->fd, modes[m]));
		/* others have no bits in any of these modes */
		EXPECT_EQ(0, hard_as(OTHER, OTHER, create_cannot_measure, &t))
			TH_LOG("mode %04o", modes[m]);
	}
	ASSERT_EQ(0, sc_chmod(self->fd, 0606));
	EXPECT_EQ(0, hard_as(OTHER, OTHER, create_may_measure, &t));
}

/* ---- capabilities ----------------------------------------------------------- */

struct cap_try {
	const char *name;
	__u64 caps;
	int expect_rw, expect_destroy, expect_setattr;
};

static int cap_try(void *arg)
{
	const struct cap_try *t = arg;
	int fd;

	CHILD_EQ(0, hard_become_with_caps(OTHER, OTHER, t->caps));
	fd = sc_attach(t->name, 0);
	CHILD_EQ(t->expect_rw, fd < 0 ? fd : 0);
	if (fd >= 0) {
		CHILD_EQ(t->expect_setattr, sc_chmod(fd, 0));
		close(fd);
	}
	CHILD_EQ(t->expect_destroy, sc_rm(t->name, SHMCHAN_DESTROY_REVOKE));
	return 0;
}

static int run_cap_try(struct cap_try *t)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		_exit(cap_try(t));
	return sc_reap(pid, 30000);
}

/* CAP_IPC_OWNER opens anything, but administers nothing. */
TEST_F(acc, cap_ipc_owner_overrides_mode_only)
{
	struct cap_try t = {
		.name = self->name, .caps = HARD_CAP(CAP_IPC_OWNER),
		.expect_rw = 0, .expect_destroy = -EPERM, .expect_setattr = -EPERM,
	};
	struct shmchan_stat st;

	ASSERT_EQ(0, sc_chmod(self->fd, 0));
	EXPECT_EQ(0, run_cap_try(&t));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.mode);
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_DESTROYED);
}

/* CAP_SYS_ADMIN administers (SETATTR, DESTROY) but does not open. */
TEST_F(acc, cap_sys_admin_administers_only)
{
	struct cap_try t = {
		.name = self->name, .caps = HARD_CAP(CAP_SYS_ADMIN),
		.expect_rw = -EACCES, .expect_destroy = 0,
	};

	ASSERT_EQ(0, sc_chmod(self->fd, 0));
	EXPECT_EQ(0, run_cap_try(&t));
	EXPECT_EQ(0, sc_exists(self->name));
}

/* Root without CAP_IPC_OWNER and CAP_SYS_ADMIN is just another user. */
static int root_without_caps(void *arg)
{
	const char *name = arg;
	__u64 all = (1ULL << (CAP_LAST_CAP + 1)) - 1;

	CHILD_EQ(0, hard_capset(all & ~HARD_CAP(CAP_IPC_OWNER) &
				~HARD_CAP(CAP_SYS_ADMIN)));
	CHILD_EQ(-EACCES, sc_attach(name, SHMCHAN_OPEN_RDONLY));
	CHILD_EQ(-EPERM, sc_rm(name, 0));
	return 0;
}

TEST_F(acc, root_needs_the_capabilities)
{
	pid_t pid;

	ASSERT_EQ(0, sc_chmod(self->fd, 0));
	pid = sc_fork();
	if (pid == 0)
		_exit(root_without_caps((void *)self->name));
	EXPECT_EQ(0, sc_reap(pid, 30000));
	EXPECT_EQ(1, sc_exists(self->name));
}

/* ---- who may SETATTR, DESTROY and revoke -------------------------------------------- */

struct admin_try {
	const char *name;
	int expect;		/* for SETATTR and DESTROY alike */
	bool destroy;
};

static int admin_try(void *arg)
{
	const struct admin_try *t = arg;
	int fd = sc_attach(t->name, SHMCHAN_OPEN_RDONLY);

	CHILD_TRUE(fd >= 0);
	/* SETATTR works through any handle, even a read-only one */
	CHILD_EQ(t->expect, sc_chmod(fd, 0644));
	if (t->destroy)
		CHILD_EQ(t->expect, sc_destroy(fd, t->name, SHMCHAN_DESTROY_REVOKE));
	close(fd);
	return 0;
}

TEST_F(acc, administer_owner_creator_only)
{
	struct admin_try t = { .name = self->name, .expect = -EPERM };
	unsigned int u;

	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	/* group and others may read and write, but not administer */
	for (u = 2; u < ARRAY_SIZE(matrix_users); u++) {
		t.destroy = true;
		EXPECT_EQ(0, hard_as(matrix_users[u].uid, matrix_users[u].gid,
				     admin_try, &t)) TH_LOG("%s", matrix_users[u].what);
		EXPECT_EQ(1, sc_exists(self->name));
	}
	/* the owner and the creator may; the creator destroys it at last */
	t.expect = 0;
	t.destroy = false;
	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	EXPECT_EQ(0, hard_as(OWNER, OWNER, admin_try, &t));
	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	t.destroy = true;
	EXPECT_EQ(0, hard_as(CREATOR, CREATOR, admin_try, &t));
	EXPECT_EQ(0, sc_exists(self->name));
	EXPECT_EQ(-EIDRM, sc_wake(self->fd, 0, 1));
}

/* The owner, with CAP_CHOWN, gives the channel to OTHER. */
static int chown_to_other(void *arg)
{
	int fd;

	CHILD_EQ(0, hard_become_with_caps(OWNER, OWNER, HARD_CAP(CAP_CHOWN)));
	fd = sc_attach(arg, SHMCHAN_OPEN_RDONLY);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, OTHER, 0));
	/* no longer the owner: no more SETATTR */
	CHILD_EQ(-EPERM, sc_chmod(fd, 0600));
	close(fd);
	return 0;
}

/*
 * SETATTR of the owner: the previous owner loses the right to administer,
 * the new one gains it, the creator keeps it; the creator ids stay.
 */
TEST_F(acc, setattr_moves_ownership_not_creation)
{
	struct admin_try t = { .name = self->name };
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_EQ(0, sc_chmod(self->fd, 0606));
	pid = sc_fork();
	if (pid == 0)
		_exit(chown_to_other((void *)self->name));
	ASSERT_EQ(0, sc_reap(pid, 30000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ((__u32)OTHER, st.uid);
	EXPECT_EQ((__u32)OWNER_GROUP, st.gid);
	EXPECT_EQ((__u32)CREATOR, st.cuid);
	EXPECT_EQ((__u32)CREATOR, st.cgid);

	t.expect = -EPERM;
	EXPECT_EQ(0, hard_as(OWNER, OWNER, admin_try, &t)) TH_LOG("previous owner");
	t.expect = 0;
	EXPECT_EQ(0, hard_as(OTHER, OTHER, admin_try, &t)) TH_LOG("new owner");
	EXPECT_EQ(0, hard_as(CREATOR, CREATOR, admin_try, &t)) TH_LOG("creator");
}

/* ---- give-away: chown(2) rules, not IPC_SET's ----------------------------------------- */

struct give_try {
	const char *name;
	__u64 caps;
	bool creator;		/* try as the creator, not the owner */
};

static int give_try(void *arg)
{
	const struct give_try *t = arg;
	uid_t me = t->creator ? CREATOR : OWNER;
	struct shmchan_stat st;
	int fd;

	CHILD_EQ(0, hard_become_with_caps(me, me, t->caps));
	fd = sc_attach(t->name, SHMCHAN_OPEN_RDONLY);
	CHILD_TRUE(fd >= 0);
	/* no new owner without CAP_CHOWN: not root, not another user */
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, 0, 0));
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, OTHER, 0));
	/* a refused call changes nothing, not even the mode asked with it */
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_MODE,
				    0666, 0, 0));
	/* the creator may not take it back either: that is a new owner too */
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, CREATOR, 0));
	/* no group the caller is not in */
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_GID, 0, 0, 0));
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_GID, 0, 0, OTHER));
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(OWNER, st.uid);
	CHILD_EQ(OWNER_GROUP, st.gid);
	CHILD_EQ(0640, st.mode);
	/* no change is no give-away; nor is a group of one's own */
	CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID, 0,
			       OWNER, OWNER_GROUP));
	CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_GID, 0, 0, me));
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(OWNER, st.uid);
	CHILD_EQ(me, st.gid);
	close(fd);
	return 0;
}

static int run_give_try(struct give_try *t)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		_exit(give_try(t));
	return sc_reap(pid, 30000);
}

/* A STAT that says "root" means root: an owner cannot give a channel away. */
TEST_F(acc, setattr_give_away_needs_cap_chown)
{
	struct give_try t = { .name = self->name };
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_EQ(0, sc_chmod(self->fd, 0640));
	EXPECT_EQ(0, run_give_try(&t)) TH_LOG("as the owner");
	ASSERT_EQ(0, sc_setattr(self->fd, SHMCHAN_SETATTR_GID, 0, 0, OWNER_GROUP));
	t.creator = true;
	EXPECT_EQ(0, run_give_try(&t)) TH_LOG("as the creator");
	ASSERT_EQ(0, sc_setattr(self->fd, SHMCHAN_SETATTR_GID, 0, 0, OWNER_GROUP));
	/* CAP_SYS_ADMIN administers, but gives away only with CAP_CHOWN */
	t.creator = false;
	t.caps = HARD_CAP(CAP_SYS_ADMIN);
	EXPECT_EQ(0, run_give_try(&t)) TH_LOG("as the owner with CAP_SYS_ADMIN");
	ASSERT_EQ(0, sc_setattr(self->fd, SHMCHAN_SETATTR_GID, 0, 0, OWNER_GROUP));

	/* with CAP_CHOWN the owner may give it to root */
	pid = sc_fork();
	if (pid == 0) {
		int fd;

		CHILD_EQ(0, hard_become_with_caps(OWNER, OWNER, HARD_CAP(CAP_CHOWN)));
		fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID, 0,
				       0, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 30000));
	ASSERT_EQ(0, sc_stat(self->fd, &st));
	EXPECT_EQ(0U, st.uid);
	EXPECT_EQ(0U, st.gid);
}

/* CAP_CHOWN alone is no right to administer someone else's channel. */
TEST_F(acc, setattr_cap_chown_alone_eperm)
{
	struct cap_try t = {
		.name = self->name, .caps = HARD_CAP(CAP_CHOWN),
		.expect_rw = 0, .expect_destroy = -EPERM, .expect_setattr = -EPERM,
	};

	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	EXPECT_EQ(0, run_cap_try(&t));
}

/*
 * A handle and a mapping of another user keep the access they were granted
 * when the mode is taken away; that user's new OPENs are refused.
 */
TEST_F(acc, existing_handles_keep_access)
{
	struct sc_pipe ready, changed;
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&changed));
	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	pid = sc_fork();
	if (pid == 0) {
		char *p, *q;
		int fd;

		CHILD_EQ(0, sc_become(OTHER, OTHER));
		fd = sc_attach(self->name, 0);
		CHILD_TRUE(fd >= 0);
		p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(p != MAP_FAILED);
		CHILD_EQ(0, sc_send(&ready, 'r'));
		CHILD_EQ('c', sc_recv(&changed, 10000));
		p[0] = 'k';
		q = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		CHILD_EQ('k', q[0]);
		CHILD_EQ(-EACCES, sc_attach(self->name, SHMCHAN_OPEN_RDONLY));
		_exit(0);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ('r', sc_recv(&ready, 10000));
	ASSERT_EQ(0, sc_setattr(self->fd, SHMCHAN_SETATTR_MODE | SHMCHAN_SETATTR_UID,
				0600, OWNER, 0));
	ASSERT_EQ(0, sc_send(&changed, 'c'));
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* ---- the device's own mode ------------------------------------------------------------ */

/*
 * With /dev/shmchan at 0644, a user who can only open it read-only cannot
 * create, destroy or administer channels, nor bind one read-write, but
 * opens existing channels read-only, maps them, waits and wakes. EBADF is
 * the answer, as for write(2) on a read-only file.
 */
static int read_only_device(void *arg)
{
	const char *name = arg;
	struct shmchan_features f;
	struct shmchan_stat st;
	char *p;
	int fd;

	CHILD_EQ(-1, open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC));
	CHILD_EQ(EACCES, errno);
	fd = open(SHMCHAN_DEVICE, O_RDONLY | O_CLOEXEC);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_features(fd, &f));
	CHILD_EQ(-EBADF, sc_create(fd, sc_newname("rodev"), SC_PAGE, 0600, 0, NULL));
	/* not even an existing channel, which CREATE would open read-write */
	CHILD_EQ(-EBADF, sc_create(fd, name, SC_PAGE, 0600, 0, NULL));
	/* the owner of the channel may not remove it through this handle */
	CHILD_EQ(-EBADF, sc_destroy(fd, name, 0));
	CHILD_EQ(-EBADF, sc_open(fd, name, 0, NULL));
	/* a read-only OPEN works; the handle is bound, read-only */
	CHILD_EQ(0, sc_open(fd, name, SHMCHAN_OPEN_RDONLY, NULL));
	CHILD_EQ(-EBADF, sc_chmod(fd, 0600));
	CHILD_EQ(-EBADF, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, OTHER, 0));
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(0666, st.mode);
	CHILD_EQ(0U, st.state & SHMCHAN_STATE_WRITABLE);
	p = sc_map(fd, SC_PAGE, PROT_READ, 0);
	CHILD_TRUE(p != MAP_FAILED);
	CHILD_EQ('w', p[0]);
	CHILD_EQ(-EAGAIN, sc_wait(fd, 0, 0, 0));
	CHILD_EQ(-ETIMEDOUT, sc_wait(fd, 4, 0, sc_now_ns() + SC_NSEC / 100));
	CHILD_EQ(0, sc_wake(fd, 4, 1));
	munmap(p, SC_PAGE);
	close(fd);
	return 0;
}

static int device_mode_set(mode_t mode)
{
	return chmod(SHMCHAN_DEVICE, mode) ? -errno : 0;
}

TEST_F(acc, device_mode_limits_who_creates)
{
	const char *name = sc_newname("rodevch");
	int fd = sc_new(name, SC_PAGE, 0666, 0), ro;
	struct stat sb;
	char *p;

	ASSERT_LE(0, fd);
	/* owned by OTHER, who could remove and chmod it through a writable handle */
	ASSERT_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID, 0,
				OTHER, OTHER));
	p = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'w';
	munmap(p, SC_PAGE);
	ASSERT_EQ(0, stat(SHMCHAN_DEVICE, &sb));
	ASSERT_EQ(0, device_mode_set(0644));
	/* from here on no ASSERT: the device's mode must be put back */
	EXPECT_EQ(0, hard_as(OTHER, OTHER, read_only_device, (void *)name));

	/* root too, on an O_RDONLY handle */
	ro = open(SHMCHAN_DEVICE, O_RDONLY | O_CLOEXEC);
	EXPECT_LE(0, ro);
	EXPECT_EQ(-EBADF, sc_destroy(ro, name, 0));
	EXPECT_EQ(-EBADF, sc_create(ro, sc_newname("rodevroot"), SC_PAGE, 0600, 0, NULL));
	close(ro);
	EXPECT_EQ(0, device_mode_set(sb.st_mode & 07777));
	EXPECT_EQ(1, sc_exists(name));
	close(fd);
}

/* ---- the listing ---------------------------------------------------------------------- */

struct listing_try {
	const char *const *names;	/* live channels */
	unsigned int n;
	const char *destroyed;		/* a destroyed channel still in use */
	int destroyed_readable;		/* by the mode, for this user */
};

/*
 * Each live channel is listed exactly when a read-only OPEN of it works;
 * the destroyed one (no name to OPEN any more) when the mode lets us read.
 */
static int listing_matches_open(void *arg)
{
	const struct listing_try *t = arg;
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		int fd = sc_attach(t->names[i], SHMCHAN_OPEN_RDONLY);
		int listed = hard_listing_find(t->names[i], NULL);

		CHILD_TRUE(listed >= 0);
		if ((fd >= 0) != listed)
			CHILD_FAIL("%s: open %d, listed %d", t->names[i], fd, listed);
		if (fd >= 0)
			close(fd);
	}
	CHILD_EQ(t->destroyed_readable, hard_listing_find(t->destroyed, NULL));
	return 0;
}

TEST_F(acc, listing_shows_what_the_reader_may_open)
{
	static const __u32 modes[] = { 0600, 0640, 0604, 0060, 0006, 0000, 0444 };
	const __u32 destroyed_mode = 0604;
	const char *names[ARRAY_SIZE(modes)];
	struct listing_try t = {
		.names = names, .n = ARRAY_SIZE(names), .destroyed = self->name,
	};
	struct stat sb;
	unsigned int i, u;
	int fds[ARRAY_SIZE(modes)];

	ASSERT_EQ(0, stat("/proc/shmchan", &sb));
	EXPECT_EQ(0444U, sb.st_mode & 07777);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		names[i] = sc_newname("list");
		fds[i] = sc_new(names[i], SC_PAGE, modes[i], 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, sc_setattr(fds[i], SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID,
					0, OWNER, OWNER_GROUP));
	}
	ASSERT_EQ(0, sc_chmod(self->fd, destroyed_mode));
	ASSERT_EQ(0, sc_destroy(self->fd, self->name, 0));

	for (u = 0; u < ARRAY_SIZE(matrix_users); u++) {
		t.destroyed_readable = !!((destroyed_mode >> matrix_users[u].shift) & 04);
		EXPECT_EQ(0, hard_as(matrix_users[u].uid, matrix_users[u].gid,
				     listing_matches_open, &t))
			TH_LOG("as uid %d", (int)matrix_users[u].uid);
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		close(fds[i]);
}

/* CAP_IPC_OWNER sees everything. */
static int list_all_with_ipc_owner(void *arg)
{
	CHILD_EQ(0, hard_become_with_caps(OTHER, OTHER, HARD_CAP(CAP_IPC_OWNER)));
	CHILD_EQ(1, hard_listing_find(arg, NULL));
	CHILD_EQ(0, hard_capset(0));
	CHILD_EQ(0, hard_listing_find(arg, NULL));
	return 0;
}

TEST_F(acc, listing_all_with_cap_ipc_owner)
{
	pid_t pid;

	ASSERT_EQ(0, sc_chmod(self->fd, 0));
	pid = sc_fork();
	if (pid == 0)
		_exit(list_all_with_ipc_owner((void *)self->name));
	EXPECT_EQ(0, sc_reap(pid, 30000));
}

/*
 * What an open /proc/shmchan shows is decided by who opened it, as for
 * /proc/sysvipc: a descriptor opened by nobody and read later with root's
 * powers (the opener regained them, or passed the descriptor on) does not
 * show root's 0600 channel; one opened by root and read by nobody does.
 */
#define NOBODY	65534

static int listing_by_opener(void *arg)
{
	const char *name = arg;
	int fd;

	/* open as nobody, keeping root as the saved uid, then be root again */
	CHILD_EQ(0, setresgid(-1, NOBODY, -1));
	CHILD_EQ(0, setresuid(-1, NOBODY, -1));
	fd = open("/proc/shmchan", O_RDONLY | O_CLOEXEC);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, hard_listing_find_fd(fd, name, NULL));
	CHILD_EQ(0, setresuid(-1, 0, -1));
	CHILD_EQ(0, setresgid(-1, 0, -1));
	CHILD_EQ(1, hard_listing_find(name, NULL));
	CHILD_EQ(0, hard_listing_find_fd(fd, name, NULL));
	close(fd);

	/* and the reverse: opened by root, read by nobody without privileges */
	fd = open("/proc/shmchan", O_RDONLY | O_CLOEXEC);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_become(NOBODY, NOBODY));
	CHILD_EQ(0, hard_listing_find(name, NULL));
	CHILD_EQ(1, hard_listing_find_fd(fd, name, NULL));
	close(fd);
	return 0;
}

TEST_F(acc, listing_by_the_opener_not_the_reader)
{
	const char *name = sc_newname("listop");
	int fd = sc_new(name, SC_PAGE, 0600, 0);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = sc_fork();
	if (pid == 0)
		_exit(listing_by_opener((void *)name));
	EXPECT_EQ(0, sc_reap(pid, 30000));
	close(fd);
}

/* A descriptor opened by nobody and passed to root over a socket. */
TEST_F(acc, listing_fd_passed_to_root)
{
	const char *name = sc_newname("listpass");
	int fd = sc_new(name, SC_PAGE, 0600, 0), sv[2], got = -1;
	char cbuf[CMSG_SPACE(sizeof(int))], byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	pid = sc_fork();
	if (pid == 0) {
		int lfd;

		CHILD_EQ(0, sc_become(NOBODY, NOBODY));
		lfd = open("/proc/shmchan", O_RDONLY | O_CLOEXEC);
		CHILD_TRUE(lfd >= 0);
		memset(cbuf, 0, sizeof(cbuf));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
		CHILD_EQ(1, sendmsg(sv[1], &msg, 0));
		_exit(0);
	}
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, sc_reap(pid, 30000));
	ASSERT_EQ(1, recvmsg(sv[0], &msg, 0));
	cm = CMSG_FIRSTHDR(&msg);
	ASSERT_TRUE(cm != NULL);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	ASSERT_LE(0, got);
	EXPECT_EQ(1, hard_listing_find(name, NULL));
	EXPECT_EQ(0, hard_listing_find_fd(got, name, NULL));
	close(got);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/* ---- namespaces ------------------------------------------------------------------------- */

/*
 * As OWNER, enter a new user namespace where OWNER is root (uid and gid 0)
 * and nobody else is mapped.
 */
static int enter_userns_as_owner(void)
{
	char map[64];

	if (sc_become(OWNER, OWNER))
		return -errno;
	/* setresuid() made us undumpable: /proc/self would belong to root */
	if (prctl(PR_SET_DUMPABLE, 1))
		return -errno;
	if (unshare(CLONE_NEWUSER))
		return -errno;
	snprintf(map, sizeof(map), "0 %d 1\n", OWNER);
	if (sc_write_file("/proc/self/setgroups", "deny\n") ||
	    sc_write_file("/proc/self/uid_map", map) ||
	    sc_write_file("/proc/self/gid_map", map))
		return -EIO;
	return 0;
}

struct ns_try {
	const char *owned;	/* owned by OWNER:OWNER_GROUP, made by CREATOR, 0666 */
	const char *roots;	/* owned and created by root, 0600 */
	const char *mine;	/* created inside the namespace */
};

static int in_userns(void *arg)
{
	const struct ns_try *t = arg;
	struct hard_entry e = { 0 };
	struct shmchan_stat st;
	int fd;

	CHILD_EQ(0, enter_userns_as_owner());
	fd = sc_attach(t->owned, 0);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(0, st.uid);		/* OWNER is root in here */
	CHILD_EQ(65534, st.gid);	/* nobody else is mapped */
	CHILD_EQ(65534, st.cuid);
	CHILD_EQ(65534, st.cgid);
	CHILD_EQ(1, hard_listing_find(t->owned, &e));
	CHILD_EQ(0, e.uid);
	CHILD_EQ(65534, e.cuid);
	/* ids given to SETATTR are ours: 0 is OWNER outside, 5 is unmapped */
	CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, 0, 0));
	CHILD_EQ(-EINVAL, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, 5, 0));
	CHILD_EQ(-EINVAL, sc_setattr(fd, SHMCHAN_SETATTR_GID, 0, 0, 5));
	close(fd);

	/* "root" of a user namespace has no power over real root's channel */
	CHILD_EQ(-EACCES, sc_attach(t->roots, SHMCHAN_OPEN_RDONLY));
	CHILD_EQ(0, hard_listing_find(t->roots, NULL));
	CHILD_EQ(-EPERM, sc_rm(t->roots, 0));

	/* a channel made in here belongs to OWNER outside */
	fd = sc_new(t->mine, SC_PAGE, 0600, 0);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(0, st.uid);
	CHILD_EQ(0, st.cuid);
	close(fd);
	return 0;
}

static int userns_owner_gives_away(void *arg)
{
	int fd = sc_attach(arg, 0);

	CHILD_TRUE(fd >= 0);
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, 0, 0));
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, OTHER, 0));
	CHILD_EQ(-EPERM, sc_setattr(fd, SHMCHAN_SETATTR_GID, 0, 0, 0));
	CHILD_EQ(0, sc_setattr(fd, SHMCHAN_SETATTR_UID, 0, OWNER, 0));
	close(fd);
	return 0;
}

TEST_F(acc, ids_in_user_namespace)
{
	struct ns_try t = {
		.owned = self->name,
		.roots = sc_newname("nsroot"),
		.mine = sc_newname("nsmine"),
	};
	struct shmchan_stat st;
	int fd = sc_new(t.roots, SC_PAGE, 0600, 0), mine;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_chmod(self->fd, 0666));
	pid = sc_fork();
	if (pid == 0)
		_exit(in_userns(&t));
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, sc_reap(pid, 30000));

	mine = sc_attach(t.mine, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, mine);
	ASSERT_EQ(0, sc_stat(mine, &st));
	EXPECT_EQ((__u32)OWNER, st.uid);
	EXPECT_EQ((__u32)OWNER, st.cuid);
	EXPECT_EQ((__u32)OWNER, st.cgid);
	close(mine);
	close(fd);

	/*
	 * OWNER has every capability in the namespace it made, CAP_CHOWN
	 * included; that is no power over ids the namespace cannot name.
	 */
	EXPECT_EQ(0, hard_as(OWNER, OWNER, userns_owner_gives_away, (void *)t.mine));
	mine = sc_attach(t.mine, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, mine);
	ASSERT_EQ(0, sc_stat(mine, &st));
	EXPECT_EQ((__u32)OWNER, st.uid);
	EXPECT_EQ((__u32)OWNER, st.gid);
	close(mine);
}

/*
 * In a new pid namespace: the creator of a channel made outside is not
 * visible (cpid 0); a channel made inside shows pid 1 there, and the pid
 * of the same process in the parent namespace outside.
 */
struct pidns_try {
	const char *outside;	/* made outside, readable by all */
	const char *inside;	/* made by pid 1 of the new namespace */
	struct sc_pipe made;
};

static int in_pidns(struct pidns_try *t)
{
	struct shmchan_stat st;
	int fd = sc_attach(t->outside, SHMCHAN_OPEN_RDONLY);

	CHILD_EQ(1, getpid());
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(0, st.cpid);
	CHILD_EQ(1, st.lpid);		/* we just bound it */
	close(fd);
	fd = sc_new(t->inside, SC_PAGE, 0600, 0);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(1, st.cpid);
	CHILD_EQ(1, st.lpid);
	CHILD_EQ(0, sc_send(&t->made, 'm'));
	pause();		/* until killed, the handle open */
	return 0;
}

/* The parent of the namespace's pid 1 looks at that channel from outside. */
static int pidns_parent(struct pidns_try *t)
{
	struct shmchan_stat st;
	pid_t inner;
	int fd;

	CHILD_EQ(0, unshare(CLONE_NEWPID));
	inner = fork();
	if (inner == 0)
		_exit(in_pidns(t));
	CHILD_TRUE(inner > 0);
	if (sc_recv(&t->made, 10000) != 'm') {
		kill(inner, SIGKILL);
		CHILD_FAIL("pid 1 of the new namespace failed");
	}
	fd = sc_attach(t->inside, SHMCHAN_OPEN_RDONLY);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_stat(fd, &st));
	CHILD_EQ(inner, st.cpid);
	CHILD_EQ(getpid(), st.lpid);
	close(fd);
	kill(inner, SIGKILL);
	waitpid(inner, NULL, 0);
	return 0;
}

TEST_F(acc, pids_in_pid_namespace)
{
	struct pidns_try t = { .outside = self->name, .inside = sc_newname("pidns") };
	pid_t pid;

	ASSERT_EQ(0, sc_pipe_init(&t.made));
	ASSERT_EQ(0, sc_chmod(self->fd, 0644));
	pid = sc_fork();
	if (pid == 0)
		_exit(pidns_parent(&t));
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, sc_reap(pid, 30000));
}

/* ---- no uninitialized bytes copied out ---------------------------------------------------- */

/*
 * Run @cmd twice with every out field filled with a different pattern
 * (the size and the in fields the same): every byte the kernel hands back
 * must be the same both times, so none of them is left over from input or
 * kernel stack.
 */
static int same_out_bytes(int fd, unsigned long cmd, const void *in, size_t size,
			  size_t in_bytes, char *out1, char *out2)
{
	memset(out1, 0xa5, size);
	memset(out2, 0x5a, size);
	memcpy(out1, in, in_bytes);
	memcpy(out2, in, in_bytes);
	if (sc_ioctl(fd, cmd, out1) < 0 || sc_ioctl(fd, cmd, out2) < 0)
		return -1;
	return memcmp(out1, out2, size) ? 1 : 0;
}

TEST_F(acc, no_uninitialized_bytes)
{
	char a[256], b[256];
	unsigned int i;

	/* FEATURES: everything after size is "out" */
	{
		struct shmchan_features f = { .size = sizeof(f) };

		EXPECT_EQ(0, same_out_bytes(self->fd, SHMCHAN_IOC_FEATURES, &f,
					    sizeof(f), 4, a, b));
	}
	/* STAT: size and flags in, the rest out; both published sizes */
	{
		static const __u32 sizes[] = {
			SHMCHAN_STAT_SIZE_VER0, sizeof(struct shmchan_stat),
		};

		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			struct shmchan_stat st = { .size = sizes[i] };

			EXPECT_EQ(0, same_out_bytes(self->fd, SHMCHAN_IOC_STAT, &st,
						    sizes[i], 8, a, b))
				TH_LOG("STAT of size %u", sizes[i]);
		}
	}
	/* OPEN: length out; needs a new handle per call */
	{
		struct shmchan_open o = {
			.size = sizeof(o), .flags = SHMCHAN_OPEN_RDONLY,
			.name = sc_ptr(self->name),
		};
		int fd1 = sc_dev(), fd2 = sc_dev();

		ASSERT_LE(0, fd1);
		ASSERT_LE(0, fd2);
		memset(a, 0xa5, sizeof(o));
		memset(b, 0x5a, sizeof(o));
		memcpy(a, &o, offsetof(struct shmchan_open, length));
		memcpy(b, &o, offsetof(struct shmchan_open, length));
		ASSERT_EQ(0, sc_ioctl(fd1, SHMCHAN_IOC_OPEN, a));
		ASSERT_EQ(0, sc_ioctl(fd2, SHMCHAN_IOC_OPEN, b));
		EXPECT_EQ(0, memcmp(a, b, sizeof(o)));
		close(fd1);
		close(fd2);
	}
	/* CREATE of an existing name: length and result out */
	{
		struct shmchan_create c = {
			.size = sizeof(c), .name = sc_ptr(self->name),
			.length = 1, .mode = 0600,
		};
		int fd1 = sc_dev(), fd2 = sc_dev();

		ASSERT_LE(0, fd1);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, sc_chmod(self->fd, 0666));
		memset(a, 0xa5, sizeof(c));
		memset(b, 0x5a, sizeof(c));
		memcpy(a, &c, offsetof(struct shmchan_create, result));
		memcpy(b, &c, offsetof(struct shmchan_create, result));
		/* max_length is in (0: the length) and out */
		((struct shmchan_create *)a)->max_length = 0;
		((struct shmchan_create *)b)->max_length = 0;
		ASSERT_EQ(0, sc_ioctl(fd1, SHMCHAN_IOC_CREATE, a));
		ASSERT_EQ(0, sc_ioctl(fd2, SHMCHAN_IOC_CREATE, b));
		EXPECT_EQ(0, memcmp(a, b, sizeof(c)));
		EXPECT_EQ((__u64)SC_PAGE, ((struct shmchan_create *)a)->length);
		EXPECT_EQ(0U, ((struct shmchan_create *)a)->result);
		close(fd1);
		close(fd2);
	}
}

/* Commands that take no output never write to the caller's struct. */
TEST_F(acc, in_only_commands_write_nothing)
{
	struct {
		unsigned long cmd;
		size_t size;
		char arg[64];
	} calls[4];
	char before[64];
	unsigned int i;

	memset(calls, 0, sizeof(calls));
	calls[0].cmd = SHMCHAN_IOC_WAIT;
	calls[0].size = sizeof(struct shmchan_wait);
	((struct shmchan_wait *)calls[0].arg)->expected = 1;
	calls[1].cmd = SHMCHAN_IOC_WAKE;
	calls[1].size = sizeof(struct shmchan_wake);
	calls[2].cmd = SHMCHAN_IOC_SETATTR;
	calls[2].size = sizeof(struct shmchan_setattr);
	calls[3].cmd = SHMCHAN_IOC_DESTROY;
	calls[3].size = sizeof(struct shmchan_destroy);
	((struct shmchan_destroy *)calls[3].arg)->name = sc_ptr(self->name);
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		*(__u32 *)calls[i].arg = calls[i].size;
		memcpy(before, calls[i].arg, sizeof(before));
		EXPECT_LE(-EAGAIN, sc_ioctl(self->fd, calls[i].cmd, calls[i].arg));
		EXPECT_EQ(0, memcmp(before, calls[i].arg, sizeof(before)))
			TH_LOG("command nr %u wrote to its argument",
			       (unsigned int)_IOC_NR(calls[i].cmd));
	}
}

TEST_HARNESS_MAIN
