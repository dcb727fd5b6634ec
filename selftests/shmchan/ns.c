// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan and IPC namespaces (SHMCHAN_FEATURE_IPC_NS): names are scoped
 * per IPC namespace, and a namespace's channels are destroyed when it dies.
 *
 * same_name_two_namespaces: two unshare(CLONE_NEWIPC) children make one
 * name, EXCL, and each sees its own memory; neither can open (so stat),
 * destroy or list the other's; the initial namespace sees none of them.
 * death_by_exit, death_by_sigkill: the last process of a namespace goes;
 * its channels are destroyed (STAT of a handle passed to the parent over
 * a UNIX socket shows DESTROYED) and their memory freed (Shmem), while the
 * parent's mapping of one reads the old data until it lets go; the
 * namespace itself is freed too (its System V segment leaves Shmem).
 * death_by_leaving: the last task leaves with unshare() (no exit, so only
 * the sweep's own schedule can find it). inherited_handle_crosses: a
 * handle inherited into a new namespace keeps working on its channel,
 * which stays in the initial namespace. setns_joins: setns() through
 * /proc/PID/ns/ipc (what `nsenter --ipc` does) joins and sees the
 * channels; a held namespace file keeps them, closing it ends them.
 * listing_is_the_openers: a /proc/shmchan descriptor passed out of a
 * namespace lists that namespace's channels, and holds the namespace.
 * rootless: unshare(CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWNS) as an
 * unprivileged user, mapped to root inside: create, map, wait, wake.
 * thousand_namespaces: 1,000 rootless namespaces (divided by
 * SHMCHAN_TEST_SCALE) make a channel each and die; afterwards the user's
 * channel count is back to zero (with max_user_channels at 1, a new one
 * can be made and a second cannot) and Shmem back where it was, which
 * also needs each namespace freed (each left a System V segment).
 *
 * Every wait is bounded: a namespace whose death is never noticed fails.
 */
#include "shmchan_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define LISTING		"/proc/shmchan"
#define MAX_USER_CHANNELS "/sys/module/shmchan/parameters/max_user_channels"
#define USERNS_CLONE	"/proc/sys/kernel/unprivileged_userns_clone"
/* An unprivileged uid of these tests only: its channel count is theirs */
#define NS_UID		61234
/* How long a dead namespace may take to be noticed (the sweep: 2 s) */
#define DEATH_MS	30000
#define MIB		(1024 * 1024)

/* How many times @name is listed in this process's /proc/shmchan. */
static int listed(const char *name)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(LISTING, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, ' ');
		if (last && strcmp(last + 1, name) == 0)
			n++;
	}
	fclose(f);
	return n;
}

static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* A descriptor from @sock within @timeout_ms, or -errno. */
static int recv_fd(int sock, int timeout_ms)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EPROTO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Poll STAT on @fd until its state has @bits; returns the last state. */
static __u32 poll_state(int fd, __u32 bits, int timeout_ms)
{
	__u64 end = sc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	struct shmchan_stat st;

	for (;;) {
		if (sc_stat(fd, &st))
			return 0;
		if ((st.state & bits) == bits || sc_now_ns() > end)
			return st.state;
		usleep(5000);
	}
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * In a child: become NS_UID, then enter new user and IPC namespaces (and
 * a mount namespace with @flags), mapped to root inside if @map, as
 * `unshare -Urim` does. Returns 0 or -errno.
 */
static int go_rootless(int flags, int map)
{
	char line[64];

	if (sc_become(NS_UID, NS_UID))
		return -EPERM;
	/* setuid made it undumpable: /proc/self/uid_map would be root's */
	if (prctl(PR_SET_DUMPABLE, 1))
		return -errno;
	if (unshare(CLONE_NEWUSER | CLONE_NEWIPC | flags))
		return -errno;
	if (!map)
		return 0;
	snprintf(line, sizeof(line), "0 %d 1", NS_UID);
	if (sc_write_file("/proc/self/setgroups", "deny") ||
	    sc_write_file("/proc/self/uid_map", line) ||
	    sc_write_file("/proc/self/gid_map", line))
		return -EIO;
	return 0;
}

FIXTURE(ns) {
	char userns_clone[16];	/* the sysctl's value before, or "" */
	char dev_mode_set;	/* the device's mode was changed */
	mode_t dev_mode;
};

FIXTURE_SETUP(ns)
{
	struct shmchan_features f;
	struct stat st;
	int fd;

	SC_REQUIRE_DEVICE();
	fd = sc_dev();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_features(fd, &f));
	close(fd);
	ASSERT_NE(0ULL, f.features & SHMCHAN_FEATURE_IPC_NS);

	/* Rootless tests: unprivileged users open the device, make namespaces */
	ASSERT_EQ(0, stat(SHMCHAN_DEVICE, &st));
	self->dev_mode = st.st_mode & 07777;
	if ((self->dev_mode & 0006) != 0006) {
		ASSERT_EQ(0, chmod(SHMCHAN_DEVICE, self->dev_mode | 0006));
		self->dev_mode_set = 1;
	}
	self->userns_clone[0] = '\0';
	if (read_file(USERNS_CLONE, self->userns_clone,
		      sizeof(self->userns_clone)) == 0 &&
	    strcmp(self->userns_clone, "1") != 0) {
		ASSERT_EQ(0, sc_write_file(USERNS_CLONE, "1"));
	} else {
		self->userns_clone[0] = '\0';
	}
}

FIXTURE_TEARDOWN(ns)
{
	if (self->dev_mode_set)
		chmod(SHMCHAN_DEVICE, self->dev_mode);
	if (self->userns_clone[0])
		sc_write_file(USERNS_CLONE, self->userns_clone);
	sc_cleanup();
}

/* ---- scope ------------------------------------------------------------------- */

/*
 * Child @tag of same_name_two_namespaces: in a new namespace, make @same
 * (EXCL) and @mine, write @tag into @same, say so on @up, wait for @down
 * (the other child has done the same), then check that it sees its own.
 */
static void scope_child(char tag, const char *same, const char *mine,
			const char *theirs, struct sc_pipe *up,
			struct sc_pipe *down)
{
	volatile char *m;
	int fd, fd2, mfd, again;

	CHILD_EQ(0, unshare(CLONE_NEWIPC));
	fd = sc_new(same, SC_PAGE, 0666, SHMCHAN_CREATE_EXCL);
	CHILD_TRUE(fd >= 0);
	mfd = sc_new(mine, SC_PAGE, 0666, SHMCHAN_CREATE_EXCL);
	CHILD_TRUE(mfd >= 0);
	/* EXCL still means something inside one namespace */
	again = sc_new(same, SC_PAGE, 0666, SHMCHAN_CREATE_EXCL);
	CHILD_EQ(-EEXIST, again);
	m = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
	CHILD_TRUE(m != MAP_FAILED);
	m[0] = tag;
	CHILD_EQ(0, sc_send(up, tag));
	CHILD_EQ('g', sc_recv(down, 20000));

	/* Both exist now: ours is still ours, by name too */
	fd2 = sc_attach(same, 0);
	CHILD_TRUE(fd2 >= 0);
	m = sc_map(fd2, SC_PAGE, PROT_READ, 0);
	CHILD_TRUE(m != MAP_FAILED);
	CHILD_EQ(tag, m[0]);
	CHILD_EQ(1, listed(same));
	CHILD_EQ(1, listed(mine));
	/* The other's: no open (nor stat, which needs one), destroy or list */
	CHILD_EQ(-ENOENT, sc_attach(theirs, SHMCHAN_OPEN_RDONLY));
	CHILD_EQ(-ENOENT, sc_rm(theirs, 0));
	CHILD_EQ(0, listed(theirs));
	CHILD_EQ(0, sc_send(up, 'd'));
	CHILD_EQ('x', sc_recv(down, 20000));
	_exit(0);
}

TEST_F(ns, same_name_two_namespaces)
{
	const char *same = sc_newname("same");
	const char *only_a = sc_newname("onlyA");
	const char *only_b = sc_newname("onlyB");
	struct sc_pipe up_a, up_b, down_a, down_b;
	pid_t a, b;

	ASSERT_EQ(0, sc_pipe_init(&up_a));
	ASSERT_EQ(0, sc_pipe_init(&up_b));
	ASSERT_EQ(0, sc_pipe_init(&down_a));
	ASSERT_EQ(0, sc_pipe_init(&down_b));
	a = sc_fork();
	if (a == 0)
		scope_child('A', same, only_a, only_b, &up_a, &down_a);
	ASSERT_LT(0, a);
	b = sc_fork();
	if (b == 0)
		scope_child('B', same, only_b, only_a, &up_b, &down_b);
	ASSERT_LT(0, b);

	ASSERT_EQ('A', sc_recv(&up_a, 20000));
	ASSERT_EQ('B', sc_recv(&up_b, 20000));
	/* The initial namespace sees none of them */
	EXPECT_EQ(0, sc_exists(same));
	EXPECT_EQ(0, sc_exists(only_a));
	EXPECT_EQ(-ENOENT, sc_rm(only_b, 0));
	EXPECT_EQ(0, listed(same));
	EXPECT_EQ(0, listed(only_a));
	EXPECT_EQ(0, listed(only_b));
	ASSERT_EQ(0, sc_send(&down_a, 'g'));
	ASSERT_EQ(0, sc_send(&down_b, 'g'));
	EXPECT_EQ('d', sc_recv(&up_a, 20000));
	EXPECT_EQ('d', sc_recv(&up_b, 20000));
	sc_send(&down_a, 'x');
	sc_send(&down_b, 'x');
	EXPECT_EQ(0, sc_reap(a, 20000));
	EXPECT_EQ(0, sc_reap(b, 20000));
}

/*
 * A handle inherited into a new namespace still works on its channel,
 * which stays in the initial namespace (and survives the child's).
 */
TEST_F(ns, inherited_handle_crosses)
{
	const char *name = sc_newname("inherit");
	volatile char *m;
	struct shmchan_stat st;
	int fd, code;
	pid_t pid;

	fd = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd);
	m = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(m));
	m[0] = 'P';

	pid = sc_fork();
	if (pid == 0) {
		volatile char *cm;
		int own;

		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		CHILD_EQ(0, sc_stat(fd, &st));
		CHILD_EQ(0, st.state & SHMCHAN_STATE_DESTROYED);
		cm = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(cm != MAP_FAILED);
		CHILD_EQ('P', cm[0]);
		cm[1] = 'C';
		CHILD_EQ(0, sc_wake(fd, 0, 1));
		/* By name, the channel is not in this namespace */
		CHILD_EQ(-ENOENT, sc_attach(name, SHMCHAN_OPEN_RDONLY));
		CHILD_EQ(0, listed(name));
		own = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(own >= 0);
		cm = sc_map(own, SC_PAGE, PROT_READ, 0);
		CHILD_TRUE(cm != MAP_FAILED);
		CHILD_EQ(0, cm[0]);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	code = sc_reap(pid, 20000);
	ASSERT_EQ(0, code);
	EXPECT_EQ('C', m[1]);
	/* The child's namespace died; ours and its channel did not */
	sc_msleep(300);
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(0U, st.state & SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ(1, sc_exists(name));
	EXPECT_EQ(1, listed(name));
	munmap((void *)m, SC_PAGE);
	close(fd);
}

/* ---- death --------------------------------------------------------------- */

FIXTURE(death) {
	char unused;
};

FIXTURE_VARIANT(death) {
	int sigkill;
};

FIXTURE_VARIANT_ADD(death, by_exit) {
	.sigkill = 0,
};

FIXTURE_VARIANT_ADD(death, by_sigkill) {
	.sigkill = 1,
};

FIXTURE_SETUP(death)
{
	SC_REQUIRE_DEVICE();
}

FIXTURE_TEARDOWN(death)
{
	sc_cleanup();
}

#define KEPT_MIB	4	/* passed to the parent, mapped there */
#define LOST_MIB	8	/* only in the namespace */
#define SYSV_MIB	2	/* a System V segment of the namespace */

/*
 * In a child: a System V segment of @bytes in the caller's IPC namespace,
 * touched and detached: only the namespace's end (shm_exit_ns(), when the
 * last reference to it goes) frees it. So Shmem going back down shows
 * that shmchan let go of the namespace too. Returns 0 or -errno.
 */
static int sysv_segment(size_t bytes)
{
	int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		return -errno;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return -errno;
	memset(p, 0x5a, bytes);
	return shmdt(p) ? -errno : 0;
}

/*
 * The namespace's only process makes a channel it passes to us and one it
 * keeps, both populated, and maps both, and leaves a System V segment;
 * then it exits or is SIGKILLed.
 */
TEST_F_TIMEOUT(death, last_process_goes, 90)
{
	const char *kept = sc_newname("kept");
	const char *lost = sc_newname("lost");
	long long base, now;
	volatile char *m;
	int sv[2], fd, code;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	base = sc_shmem_kib();
	ASSERT_LE(0, base);
	pid = sc_fork();
	if (pid == 0) {
		volatile char *km, *lm;
		int kfd, lfd;
		char c;

		close(sv[0]);
		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		kfd = sc_new(kept, KEPT_MIB * MIB, 0600,
			     SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE);
		CHILD_TRUE(kfd >= 0);
		lfd = sc_new(lost, LOST_MIB * MIB, 0600,
			     SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE);
		CHILD_TRUE(lfd >= 0);
		km = sc_map(kfd, KEPT_MIB * MIB, PROT_READ | PROT_WRITE, 0);
		lm = sc_map(lfd, LOST_MIB * MIB, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(km != MAP_FAILED && lm != MAP_FAILED);
		km[0] = 'K';
		km[KEPT_MIB * MIB - 1] = 'k';
		lm[0] = 'L';
		CHILD_EQ(0, sysv_segment(SYSV_MIB * MIB));
		CHILD_EQ(0, send_fd(sv[1], kfd));
		/* Exit when told, or wait to be killed */
		if (read(sv[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	close(sv[1]);
	fd = recv_fd(sv[0], 30000);
	ASSERT_LE(0, fd);
	m = sc_map(fd, KEPT_MIB * MIB, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(m));
	ASSERT_EQ('K', m[0]);
	now = sc_shmem_kib();
	EXPECT_LE(base + (KEPT_MIB + LOST_MIB + SYSV_MIB) * 1024 - 1024, now);
	/* Not ours by name: the child's namespace has them */
	EXPECT_EQ(0, sc_exists(kept));
	EXPECT_EQ(0U, poll_state(fd, SHMCHAN_STATE_DESTROYED, 300) &
		     SHMCHAN_STATE_DESTROYED);

	if (variant->sigkill) {
		ASSERT_EQ(0, kill(pid, SIGKILL));
	} else {
		ASSERT_EQ(1, write(sv[0], "x", 1));
	}
	code = sc_reap(pid, 30000);
	EXPECT_EQ(variant->sigkill ? 1000 + SIGKILL : 0, code);

	/* Destroyed as by DESTROY: gone by name, not revoked */
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED,
		  poll_state(fd, SHMCHAN_STATE_DESTROYED, DEATH_MS) &
		  (SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED));
	EXPECT_EQ(0, sc_wake(fd, 0, 1));
	/*
	 * The one nobody holds is freed, and so is the namespace (with its
	 * System V segment); ours is still there and intact.
	 */
	now = sc_poll_shmem_below(base + KEPT_MIB * 1024 + 1024, DEATH_MS);
	EXPECT_GT(base + KEPT_MIB * 1024 + 1024, now)
		TH_LOG("Shmem %lld KiB, was %lld before", now, base);
	EXPECT_EQ('K', m[0]);
	EXPECT_EQ('k', m[KEPT_MIB * MIB - 1]);
	close(fd);
	EXPECT_EQ('K', m[0]);
	/* Last user gone: all of it freed */
	munmap((void *)m, KEPT_MIB * MIB);
	now = sc_poll_shmem_below(base + 1024, DEATH_MS);
	EXPECT_GT(base + 1024, now)
		TH_LOG("Shmem %lld KiB, was %lld before", now, base);
	close(sv[0]);
}

/*
 * The last task leaves the namespace with unshare() and keeps a handle:
 * no exit, no close, nothing shmchan sees; the sweep's schedule alone
 * must find the namespace dead.
 */
TEST_F(ns, death_by_leaving)
{
	const char *name = sc_newname("leave");
	pid_t pid;

	pid = sc_fork();
	if (pid == 0) {
		volatile char *m;
		struct shmchan_stat st;
		int fd, again;

		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		fd = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(fd >= 0);
		m = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(m != MAP_FAILED);
		m[0] = 'V';
		/* Held: it is alive as long as we are in it */
		sc_msleep(300);
		CHILD_EQ(0, sc_stat(fd, &st));
		CHILD_EQ(0, st.state & SHMCHAN_STATE_DESTROYED);
		CHILD_EQ(1, sc_exists(name));

		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		CHILD_EQ(SHMCHAN_STATE_DESTROYED,
			 poll_state(fd, SHMCHAN_STATE_DESTROYED, DEATH_MS) &
			 SHMCHAN_STATE_DESTROYED);
		CHILD_EQ('V', m[0]);
		/* A new namespace, a free name */
		again = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(again >= 0);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, sc_reap(pid, DEATH_MS + 20000));
}

/* ---- setns ---------------------------------------------------------------- */

/*
 * setns() through /proc/PID/ns/ipc joins the namespace and its channels,
 * as `nsenter --ipc` does. A namespace file held open keeps the namespace,
 * and so its channels, after its last process exits; closing it ends them.
 */
TEST_F(ns, setns_joins)
{
	const char *name = sc_newname("joined");
	struct sc_pipe up, down;
	char path[64];
	int nsfd, self_ns, fd, code;
	pid_t owner, joiner;

	ASSERT_EQ(0, sc_pipe_init(&up));
	ASSERT_EQ(0, sc_pipe_init(&down));
	owner = sc_fork();
	if (owner == 0) {
		volatile char *m;
		int cfd;

		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		cfd = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(cfd >= 0);
		m = sc_map(cfd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(m != MAP_FAILED);
		m[0] = 'J';
		CHILD_EQ(0, sc_send(&up, 'r'));
		CHILD_EQ('x', sc_recv(&down, 30000));
		_exit(0);
	}
	ASSERT_LT(0, owner);
	ASSERT_EQ('r', sc_recv(&up, 20000));
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)owner);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	EXPECT_EQ(0, sc_exists(name));

	joiner = sc_fork();
	if (joiner == 0) {
		volatile char *m;
		int cfd;

		CHILD_EQ(0, setns(nsfd, CLONE_NEWIPC));
		cfd = sc_attach(name, SHMCHAN_OPEN_RDONLY);
		CHILD_TRUE(cfd >= 0);
		m = sc_map(cfd, SC_PAGE, PROT_READ, 0);
		CHILD_TRUE(m != MAP_FAILED);
		CHILD_EQ('J', m[0]);
		CHILD_EQ(1, listed(name));
		_exit(0);
	}
	ASSERT_LT(0, joiner);
	EXPECT_EQ(0, sc_reap(joiner, 20000));

	/* The owner exits; our namespace file still holds the namespace */
	ASSERT_EQ(0, sc_send(&down, 'x'));
	ASSERT_EQ(0, sc_reap(owner, 20000));
	sc_msleep(500);
	self_ns = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self_ns);
	ASSERT_EQ(0, setns(nsfd, CLONE_NEWIPC));
	fd = sc_attach(name, SHMCHAN_OPEN_RDONLY);
	code = listed(name);
	ASSERT_EQ(0, setns(self_ns, CLONE_NEWIPC));
	close(self_ns);
	ASSERT_LE(0, fd) TH_LOG("the held namespace lost its channel");
	EXPECT_EQ(1, code);
	EXPECT_EQ(0, sc_exists(name));

	/* Our setns() left it again; the file was its last holder */
	close(nsfd);
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED,
		  poll_state(fd, SHMCHAN_STATE_DESTROYED, DEATH_MS) &
		  SHMCHAN_STATE_DESTROYED);
	close(fd);
}

/* How many times @name is in the listing read from @fd (from its start) */
static int listed_fd(int fd, const char *name)
{
	char buf[65536], *line, *save;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int count = 0;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(line, ' ');

		if (last && strcmp(last + 1, name) == 0)
			count++;
	}
	return count;
}

/*
 * A /proc/shmchan file lists the namespace of its opener, whoever reads
 * it (as /proc/sysvipc/shm does), and holds that namespace while open.
 */
TEST_F(ns, listing_is_the_openers)
{
	const char *theirs = sc_newname("theirs");
	const char *ours = sc_newname("ours");
	int sv[2], lfd, fd, code;
	pid_t pid;

	fd = sc_new(ours, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = sc_fork();
	if (pid == 0) {
		int cfd, pfd;

		close(sv[0]);
		CHILD_EQ(0, unshare(CLONE_NEWIPC));
		cfd = sc_new(theirs, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(cfd >= 0);
		pfd = open(LISTING, O_RDONLY | O_CLOEXEC);
		CHILD_TRUE(pfd >= 0);
		CHILD_EQ(0, send_fd(sv[1], pfd));
		CHILD_EQ(0, send_fd(sv[1], cfd));
		_exit(0);
	}
	ASSERT_LT(0, pid);
	close(sv[1]);
	lfd = recv_fd(sv[0], 20000);
	ASSERT_LE(0, lfd);
	close(fd);
	fd = recv_fd(sv[0], 20000);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_reap(pid, 20000));

	EXPECT_EQ(1, listed_fd(lfd, theirs));
	EXPECT_EQ(0, listed_fd(lfd, ours));
	EXPECT_EQ(0, listed(theirs));
	EXPECT_EQ(1, listed(ours));
	/* The child is gone, but its listing file holds the namespace */
	sc_msleep(500);
	EXPECT_EQ(0U, poll_state(fd, SHMCHAN_STATE_DESTROYED, 0) &
		      SHMCHAN_STATE_DESTROYED);
	EXPECT_EQ(1, listed_fd(lfd, theirs));
	close(lfd);
	code = poll_state(fd, SHMCHAN_STATE_DESTROYED, DEATH_MS);
	EXPECT_EQ(SHMCHAN_STATE_DESTROYED, code & SHMCHAN_STATE_DESTROYED);
	close(fd);
	close(sv[0]);
}

/* ---- rootless ---------------------------------------------------------------- */

struct waiter {
	int fd;
	int ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = sc_wait(w->fd, 0, 0, sc_now_ns() + 20 * SC_NSEC);
	return NULL;
}

/* `unshare -Urim` as an unprivileged user: create, map, wait, wake */
TEST_F(ns, rootless)
{
	const char *name = sc_newname("rootless");
	pid_t pid;

	pid = sc_fork();
	if (pid == 0) {
		volatile __u32 *word;
		struct shmchan_stat st;
		struct waiter w;
		pthread_t t;
		int fd;

		CHILD_EQ(0, go_rootless(CLONE_NEWNS, 1));
		CHILD_EQ(0, getuid());
		fd = sc_new(name, SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		CHILD_TRUE(fd >= 0);
		CHILD_EQ(0, sc_stat(fd, &st));
		/* ids as the namespace sees them */
		CHILD_EQ(0, st.cuid);
		CHILD_EQ(0, st.uid);
		CHILD_EQ(getpid(), st.cpid);
		CHILD_EQ(1, listed(name));
		word = sc_map(fd, SC_PAGE, PROT_READ | PROT_WRITE, 0);
		CHILD_TRUE(word != MAP_FAILED);
		w.fd = fd;
		w.ret = 1;
		CHILD_EQ(0, pthread_create(&t, NULL, wait_thread, &w));
		CHILD_EQ(1, sc_poll_nwaiters(fd, 1, 20000));
		__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
		CHILD_EQ(1, sc_wake(fd, 0, 1));
		CHILD_EQ(0, pthread_join(t, NULL));
		CHILD_EQ(0, w.ret);
		_exit(0);
	}
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, sc_reap(pid, 30000));
	/* Never in the initial namespace */
	EXPECT_EQ(0, sc_exists(name));
}

/* ---- many namespaces ------------------------------------------------------- */

static unsigned int test_scale(void)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	unsigned int v = s ? (unsigned int)strtoul(s, NULL, 10) : 1;

	return v ? v : 1;
}

#define MANY		1000
#define MANY_WAVE	25

/* In a child: one rootless namespace makes @name and dies (exits). */
static void many_child(const char *name)
{
	int fd;

	if (go_rootless(0, 0))
		_exit(3);
	fd = sc_new(name, SC_PAGE, 0600,
		    SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_POPULATE);
	/* The namespace itself must go too: Shmem shows its segment */
	if (fd >= 0 && sysv_segment(SC_PAGE))
		_exit(4);
	/* The handle stays open: the namespace's death must free it all */
	_exit(fd < 0 ? 10 + (-fd & 0x7f) : 0);
}

/*
 * In a child, with max_user_channels at 1: a rootless namespace makes one
 * channel (EDQUOT retried until @retry_ms passes, while the last deaths
 * are noticed), then a second must fail with EDQUOT. Exits with 0 if so,
 * 10 + errno of the first failure, or 9 if the second was made.
 */
static void probe_child(int retry_ms)
{
	__u64 end = sc_now_ns() + (__u64)retry_ms * 1000000ULL;
	int fd;

	if (go_rootless(0, 0))
		_exit(3);
	for (;;) {
		fd = sc_new("kst.many.probe", SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
		if (fd != -EDQUOT || sc_now_ns() > end)
			break;
		usleep(20000);
	}
	if (fd < 0)
		_exit(10 + (-fd & 0x7f));
	fd = sc_new("kst.many.probe2", SC_PAGE, 0600, SHMCHAN_CREATE_EXCL);
	_exit(fd == -EDQUOT ? 0 : fd < 0 ? 10 + (-fd & 0x7f) : 9);
}

TEST_F_TIMEOUT(ns, thousand_namespaces, 280)
{
	unsigned int total = MANY / test_scale(), done = 0, i;
	char old_limit[32];
	pid_t kids[MANY_WAVE];
	long long base, now;
	__u64 t0 = sc_now_ns();
	int code;

	ASSERT_EQ(0, read_file(MAX_USER_CHANNELS, old_limit, sizeof(old_limit)));
	base = sc_shmem_kib();
	ASSERT_LE(0, base);
	while (done < total) {
		unsigned int wave = total - done < MANY_WAVE ? total - done : MANY_WAVE;

		for (i = 0; i < wave; i++) {
			kids[i] = sc_fork();
			if (kids[i] == 0)
				many_child("kst.many");
			ASSERT_LT(0, kids[i]);
		}
		for (i = 0; i < wave; i++) {
			code = sc_reap(kids[i], 30000);
			ASSERT_EQ(0, code) TH_LOG("namespace %u", done + i);
		}
		done += wave;
	}
	TH_LOG("%u namespaces made and ended in %llu ms", total,
	       (unsigned long long)((sc_now_ns() - t0) / 1000000));

	/*
	 * Nothing left: once every one is freed, NS_UID has no channel, so
	 * with max_user_channels at 1 a new namespace can make one (retried
	 * while the last deaths are being noticed), and not a second.
	 */
	ASSERT_EQ(0, sc_write_file(MAX_USER_CHANNELS, "1"));
	kids[0] = sc_fork();
	if (kids[0] == 0)
		probe_child(DEATH_MS);
	code = sc_reap(kids[0], DEATH_MS + 20000);
	sc_write_file(MAX_USER_CHANNELS, old_limit);
	EXPECT_EQ(0, code) TH_LOG("10 + errno: dead namespaces still charged; 9: no limit");
	/*
	 * The kernel frees dead IPC namespaces one after another in a work
	 * item, each with an RCU grace period (kern_unmount() of its mqueue
	 * mount on 6.1): that, not shmchan, takes seconds for 1,000 on TCG.
	 */
	now = sc_poll_shmem_below(base + 1024, 2 * DEATH_MS);
	EXPECT_GT(base + 1024, now)
		TH_LOG("Shmem %lld KiB, was %lld before", now, base);
	TH_LOG("all freed %llu ms after the start",
	       (unsigned long long)((sc_now_ns() - t0) / 1000000));
}

/*
 * The race "namespace exit vs listing", many times across both vCPUs. In
 * each round a namespace's last holder is a process that joined it with
 * setns() (on CPU 1) and lists it in a loop, its listing file holding the
 * namespace too, then exits while the owner has gone already; meanwhile
 * the parent (on CPU 0) lists the initial namespace and makes and
 * destroys channels there, under the same registry lock the sweep takes.
 * Every round's channel must be listed by the joiner, never by the
 * parent, and all of their memory must be gone afterwards (bounded).
 */
/* Pin to @cpu, or to the last one a VM with fewer CPUs has */
static int pin_cpu(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (n > 0 && cpu >= n)
		cpu = (int)n - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Has @pid exited? Not reaped: sc_reap() does that. */
static bool exited(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
	       si.si_pid == pid;
}

static void race_joiner(int nsfd, const char *name, struct sc_pipe *up)
{
	unsigned int i;
	int fd;

	CHILD_EQ(0, pin_cpu(1));
	CHILD_EQ(0, setns(nsfd, CLONE_NEWIPC));
	close(nsfd);
	fd = sc_attach(name, SHMCHAN_OPEN_RDONLY);
	CHILD_TRUE(fd >= 0);
	CHILD_EQ(0, sc_send(up, 'j'));
	for (i = 0; i < 20; i++)
		CHILD_EQ(1, listed(name));
	/* A handle of a namespace going: the sweep comes within ~20 ms */
	close(fd);
	_exit(0);
}

TEST_F_TIMEOUT(ns, death_races_listing, 240)
{
	unsigned int rounds = 200 / test_scale(), r;
	const char *name = "kst.race.ns";
	long long base = sc_shmem_kib(), now;
	struct sc_pipe up, down;
	pid_t owner, joiner;
	char path[64];
	int nsfd, fd;
	__u64 end;

	ASSERT_LE(0, base);
	ASSERT_EQ(0, pin_cpu(0));
	for (r = 0; r < rounds; r++) {
		ASSERT_EQ(0, sc_pipe_init(&up));
		ASSERT_EQ(0, sc_pipe_init(&down));
		owner = sc_fork();
		if (owner == 0) {
			CHILD_EQ(0, unshare(CLONE_NEWIPC));
			fd = sc_new(name, 64 * 1024, 0600, SHMCHAN_CREATE_EXCL |
				    SHMCHAN_CREATE_POPULATE);
			CHILD_TRUE(fd >= 0);
			CHILD_EQ(0, sc_send(&up, 'o'));
			CHILD_EQ('x', sc_recv(&down, 30000));
			_exit(0);
		}
		ASSERT_LT(0, owner);
		ASSERT_EQ('o', sc_recv(&up, 20000));
		snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)owner);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, nsfd);
		joiner = sc_fork();
		if (joiner == 0)
			race_joiner(nsfd, name, &up);
		ASSERT_LT(0, joiner);
		close(nsfd);
		ASSERT_EQ('j', sc_recv(&up, 20000));
		/* The owner goes; the joiner, listing, is the last holder */
		ASSERT_EQ(0, sc_send(&down, 'x'));
		/* Until 50 ms past the joiner's exit: the sweep runs then */
		end = sc_now_ns() + 20 * SC_NSEC;
		while (sc_now_ns() < end) {
			if (exited(joiner) && end > sc_now_ns() + 50000000ULL)
				end = sc_now_ns() + 50000000ULL;
			fd = sc_new(sc_newname("race"), SC_PAGE, 0600,
				    SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
			ASSERT_LE(0, fd);
			EXPECT_EQ(0, listed(name));
			close(fd);
		}
		EXPECT_EQ(0, sc_reap(joiner, 20000)) TH_LOG("round %u", r);
		EXPECT_EQ(0, sc_reap(owner, 20000)) TH_LOG("round %u", r);
		close(up.rd);
		close(up.wr);
		close(down.rd);
		close(down.wr);
	}
	/* 64 KiB a round if any dead namespace kept its channel */
	now = sc_poll_shmem_below(base + 2048, 2 * DEATH_MS);
	EXPECT_GT(base + 2048, now)
		TH_LOG("Shmem %lld KiB, was %lld before %u rounds", now, base, rounds);
}

TEST_HARNESS_MAIN
