// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan permissions, checked from children that gave up root for good
 * (setgroups, setresgid, setresuid to 65534 "nobody" or 65533): mode bits
 * on OPEN and on CREATE of an existing channel, who may DESTROY, owner
 * fields of a channel made by a non-root user.
 */
#include "shmchan_test.h"

FIXTURE(perm) {
	const char *name;
	size_t page;
};

FIXTURE_SETUP(perm)
{
	SC_REQUIRE_DEVICE();
	if (geteuid() != 0)
		SKIP(_exit(255), "needs root to switch users");
	self->page = SC_PAGE;
	self->name = sc_newname("perm");
}

FIXTURE_TEARDOWN(perm)
{
	sc_cleanup();	/* as root: may destroy everyone's channels */
}

/* Make @name as root with @mode; returns the (bound) fd. */
static int root_channel(const char *name, __u32 mode)
{
	return sc_new(name, SC_PAGE, mode, SHMCHAN_CREATE_EXCL);
}

/* Fork a child that becomes @uid/@gid; in the parent returns its pid. */
static pid_t fork_as(uid_t uid, gid_t gid)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		int r = sc_become(uid, gid);

		if (r)
			CHILD_FAIL("cannot become %d/%d: %d", (int)uid, (int)gid, r);
		if (geteuid() != uid || getegid() != gid)
			CHILD_FAIL("still euid %d egid %d", (int)geteuid(), (int)getegid());
	}
	return pid;
}

TEST_F(perm, device_usable_by_everyone)
{
	struct stat sb;
	pid_t pid;

	ASSERT_EQ(0, stat(SHMCHAN_DEVICE, &sb));
	EXPECT_TRUE(S_ISCHR(sb.st_mode));
	EXPECT_EQ(0666U, (unsigned int)(sb.st_mode & 07777));
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmchan_features f;
		int fd = sc_dev();

		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, sc_features(fd, &f));
		CHILD_EQ(0, sc_create(fd, self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL, NULL));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1, sc_exists(self->name));
}

TEST_F(perm, mode_0600_denies_rdonly)
{
	int fd = root_channel(self->name, 0600);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-EACCES, sc_attach(self->name, SHMCHAN_OPEN_RDONLY));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

TEST_F(perm, mode_0600_denies_rdwr)
{
	int fd = root_channel(self->name, 0600);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-EACCES, sc_attach(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

/* CREATE of an existing channel opens it read-write: same checks. */
TEST_F(perm, create_existing_denied)
{
	int fd = root_channel(self->name, 0644);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_dev();
		struct shmchan_stat st;

		CHILD_TRUE(cfd >= 0);
		CHILD_EQ(-EACCES, sc_create(cfd, self->name, SC_PAGE, 0666, 0, NULL));
		CHILD_EQ(-EEXIST, sc_create(cfd, self->name, SC_PAGE, 0666,
					    SHMCHAN_CREATE_EXCL, NULL));
		CHILD_EQ(-EBADFD, sc_stat(cfd, &st));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

TEST_F(perm, mode_0644_allows_rdonly_only)
{
	int fd = root_channel(self->name, 0644);
	volatile char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	p[0] = 'R';
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
		volatile char *q;

		CHILD_EQ(-EACCES, sc_attach(self->name, 0));
		CHILD_TRUE(ro >= 0);
		q = sc_map(ro, SC_PAGE, PROT_READ, 0);
		CHILD_TRUE(q != MAP_FAILED);
		CHILD_EQ('R', q[0]);
		CHILD_TRUE(sc_map(ro, SC_PAGE, PROT_READ | PROT_WRITE, 0) == MAP_FAILED);
		CHILD_EQ(EACCES, errno);
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	munmap((void *)p, self->page);
	close(fd);
}

TEST_F(perm, mode_0666_allows_rdwr)
{
	int fd = root_channel(self->name, 0666);
	volatile char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = sc_map(fd, self->page, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int rw = sc_attach(self->name, 0);
		volatile char *q;

		CHILD_TRUE(rw >= 0);
		q = sc_map(rw, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		q[1] = 'W';
		CHILD_EQ(0, sc_wake(rw, 0, 1));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ('W', p[1]);
	munmap((void *)p, self->page);
	close(fd);
}

/* Group bits apply to the channel's group. */
TEST_F(perm, group_bits)
{
	int fd = root_channel(self->name, 0640);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, 0);	/* not the owner, in the group */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ro = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		CHILD_TRUE(ro >= 0);
		CHILD_EQ(-EACCES, sc_attach(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	pid = fork_as(SC_NOBODY, SC_NOBODY);	/* neither */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-EACCES, sc_attach(self->name, SHMCHAN_OPEN_RDONLY));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

/* A channel made by a non-root user is owned by that user. */
TEST_F(perm, nonroot_creator_owns)
{
	struct shmchan_stat st;
	pid_t pid;
	int fd;

	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0640, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ((__u32)SC_NOBODY, st.uid);
	EXPECT_EQ((__u32)SC_NOBODY, st.gid);
	EXPECT_EQ((__u32)SC_NOBODY, st.cuid);
	EXPECT_EQ((__u32)SC_NOBODY, st.cgid);
	EXPECT_EQ((__s32)pid, st.cpid);
	EXPECT_EQ(0640U, st.mode);
	close(fd);
}

/* Owner bits bind the owner too; root (CAP_IPC_OWNER) ignores them. */
TEST_F(perm, owner_bits_apply_to_owner)
{
	pid_t pid;
	int fd;

	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const char *zero = self->name;
		char ro_name[SHMCHAN_NAME_MAX + 1];
		int cfd;

		/* 0400: the owner may read, not write. */
		snprintf(ro_name, sizeof(ro_name), "%s.ro", self->name);
		cfd = sc_new(ro_name, SC_PAGE, 0400, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(cfd >= 0);
		CHILD_TRUE(sc_attach(ro_name, SHMCHAN_OPEN_RDONLY) >= 0);
		CHILD_EQ(-EACCES, sc_attach(ro_name, 0));
		CHILD_EQ(0, sc_rm(ro_name, 0));

		/* 0: nobody but root, though the creator's own handle works. */
		cfd = sc_new(zero, SC_PAGE, 0, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(cfd >= 0);
		CHILD_TRUE(sc_map(cfd, SC_PAGE, PROT_READ | PROT_WRITE, 0) != MAP_FAILED);
		CHILD_EQ(-EACCES, sc_attach(zero, SHMCHAN_OPEN_RDONLY));
		CHILD_EQ(-EACCES, sc_attach(zero, 0));
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	fd = sc_attach(self->name, 0);
	EXPECT_LE(0, fd);
	close(fd);
}

/* Other bits apply to everyone else. */
TEST_F(perm, other_bits)
{
	pid_t pid;

	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0604, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	pid = fork_as(SC_OTHER, SC_OTHER);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_TRUE(sc_attach(self->name, SHMCHAN_OPEN_RDONLY) >= 0);
		CHILD_EQ(-EACCES, sc_attach(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

/* ---- DESTROY permissions --------------------------------------------------------- */

TEST_F(perm, nonowner_destroy_eperm)
{
	int fd = root_channel(self->name, 0666);
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* May read and write it, still may not destroy it. */
		int rw = sc_attach(self->name, 0);

		CHILD_TRUE(rw >= 0);
		CHILD_EQ(-EPERM, sc_destroy(rw, self->name, 0));
		CHILD_EQ(-EPERM, sc_destroy(rw, self->name, SHMCHAN_DESTROY_REVOKE));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1, sc_exists(self->name));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(0U, st.state & (SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED));
	EXPECT_EQ(0, sc_wake(fd, 0, 1));
	close(fd);
}

TEST_F(perm, owner_destroys_own)
{
	pid_t pid = fork_as(SC_NOBODY, SC_NOBODY);

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		close(cfd);
		CHILD_EQ(0, sc_rm(self->name, 0));
		CHILD_EQ(0, sc_exists(self->name));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_exists(self->name));
}

/* The owner may revoke, too, in another process than the creator. */
TEST_F(perm, owner_revokes_own)
{
	pid_t pid = fork_as(SC_NOBODY, SC_NOBODY);

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_exists(self->name));
}

TEST_F(perm, other_user_destroy_eperm)
{
	pid_t pid = fork_as(SC_NOBODY, SC_NOBODY);

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0666, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	pid = fork_as(SC_OTHER, SC_NOBODY);	/* same group is not enough */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(-EPERM, sc_rm(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(1, sc_exists(self->name));
}

/* CAP_SYS_ADMIN may destroy anyone's channel. */
TEST_F(perm, root_destroys_others)
{
	pid_t pid = fork_as(SC_NOBODY, SC_NOBODY);

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);

		CHILD_TRUE(cfd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, sc_exists(self->name));
}

/* ---- SETATTR ----------------------------------------------------------------- */

static int perm_setattr(int fd, __u32 flags, __u32 mode, __u32 uid, __u32 gid)
{
	struct shmchan_setattr a = {
		.size = sizeof(a),
		.flags = flags,
		.mode = mode,
		.uid = uid,
		.gid = gid,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_SETATTR, &a);
}

/* A new mode decides later OPENs. */
TEST_F(perm, setattr_mode_applies_to_later_opens)
{
	int fd = root_channel(self->name, 0600);
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, perm_setattr(fd, SHMCHAN_SETATTR_MODE, 0644, 0, 0));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(0644U, st.mode);
	EXPECT_EQ(0U, st.uid);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_TRUE(sc_attach(self->name, SHMCHAN_OPEN_RDONLY) >= 0);
		CHILD_EQ(-EACCES, sc_attach(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

/* Handles that exist keep the access they were granted. */
TEST_F(perm, setattr_existing_handles_keep_access)
{
	int fd = root_channel(self->name, 0666);
	struct sc_pipe ready, go;
	volatile char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_pipe_init(&ready));
	ASSERT_EQ(0, sc_pipe_init(&go));
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int rw = sc_attach(self->name, 0);
		volatile char *q;

		CHILD_TRUE(rw >= 0);
		sc_send(&ready, 'r');
		CHILD_EQ('g', sc_recv(&go, 20000));
		q = sc_map(rw, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(q != MAP_FAILED);
		q[0] = 'k';
		CHILD_EQ(-EACCES, sc_attach(self->name, SHMCHAN_OPEN_RDONLY));
		_exit(0);
	}
	ASSERT_EQ('r', sc_recv(&ready, 20000));
	ASSERT_EQ(0, perm_setattr(fd, SHMCHAN_SETATTR_MODE, 0600, 0, 0));
	sc_send(&go, 'g');
	EXPECT_EQ(0, sc_reap(pid, 10000));
	p = sc_map(fd, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	EXPECT_EQ('k', p[0]);
	munmap((void *)p, self->page);
	close(fd);
}

/* A new owner may destroy; the creator ids stay. */
TEST_F(perm, setattr_owner)
{
	int fd = root_channel(self->name, 0600);
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, perm_setattr(fd, SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID,
				  0777, SC_NOBODY, SC_NOBODY));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ((__u32)SC_NOBODY, st.uid);
	EXPECT_EQ((__u32)SC_NOBODY, st.gid);
	EXPECT_EQ(0U, st.cuid);
	EXPECT_EQ(0U, st.cgid);
	EXPECT_EQ(0600U, st.mode);	/* MODE was not asked for */
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Owner bits now apply to nobody. */
		CHILD_TRUE(sc_attach(self->name, 0) >= 0);
		CHILD_EQ(0, sc_rm(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	EXPECT_EQ(0, sc_exists(self->name));
	close(fd);
}

TEST_F(perm, setattr_nonowner_eperm)
{
	int fd = root_channel(self->name, 0666);
	struct shmchan_stat st;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int rw = sc_attach(self->name, 0);

		CHILD_TRUE(rw >= 0);
		CHILD_EQ(-EPERM, perm_setattr(rw, SHMCHAN_SETATTR_MODE, 0600, 0, 0));
		CHILD_EQ(-EPERM, perm_setattr(rw, SHMCHAN_SETATTR_UID, 0, SC_NOBODY, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(0666U, st.mode);
	EXPECT_EQ(0U, st.uid);
	close(fd);
}

/*
 * The creator keeps the right after the channel was given away (by root:
 * a give-away needs CAP_CHOWN, as for chown(2)).
 */
TEST_F(perm, setattr_creator_after_chown)
{
	struct sc_pipe made, given;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, sc_pipe_init(&made));
	ASSERT_EQ(0, sc_pipe_init(&given));
	pid = fork_as(SC_NOBODY, SC_NOBODY);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = sc_new(self->name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		struct shmchan_stat st;

		CHILD_TRUE(cfd >= 0);
		CHILD_EQ(0, perm_setattr(cfd, SHMCHAN_SETATTR_MODE, 0640, 0, 0));
		/* the creator may not give it away itself */
		CHILD_EQ(-EPERM, perm_setattr(cfd, SHMCHAN_SETATTR_UID, 0, SC_OTHER, 0));
		CHILD_EQ(0, sc_send(&made, 'm'));
		CHILD_EQ('g', sc_recv(&given, 10000));
		CHILD_EQ(0, sc_stat(cfd, &st));
		CHILD_EQ(SC_OTHER, st.uid);
		CHILD_EQ(SC_NOBODY, st.cuid);
		/* No longer the owner, still the creator. */
		CHILD_EQ(0, perm_setattr(cfd, SHMCHAN_SETATTR_MODE, 0660, 0, 0));
		_exit(0);
	}
	ASSERT_EQ('m', sc_recv(&made, 10000));
	fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, perm_setattr(fd, SHMCHAN_SETATTR_UID, 0, SC_OTHER, 0));
	close(fd);
	ASSERT_EQ(0, sc_send(&given, 'g'));
	ASSERT_EQ(0, sc_reap(pid, 10000));
	pid = fork_as(SC_NOBODY - 2, SC_NOBODY);	/* neither owner nor creator */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = sc_attach(self->name, SHMCHAN_OPEN_RDONLY);

		/* 0660, group nobody: may open, not administer. */
		CHILD_TRUE(fd >= 0);
		CHILD_EQ(-EPERM, perm_setattr(fd, SHMCHAN_SETATTR_MODE, 0666, 0, 0));
		CHILD_EQ(-EPERM, sc_rm(self->name, 0));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
}

TEST_HARNESS_MAIN
