// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The pollable queue and the thin watch calls, against the real module
 * (run it in the VM; needs SHMCHAN_FEATURE_WATCH, no skip without it):
 * shmchan_queue_pollfd() arms only where a call would sleep, its
 * descriptor polls readable when a message or room comes, a peer leaves
 * or dies, or the channel is revoked; neither side makes a system call
 * while the other keeps up (checked with a seccomp filter that kills on
 * ioctl); a lost-wake race across both vCPUs; a lock held by a blocked
 * receiver; level- and edge-triggered epoll; and every errno of
 * shmchan_queue_pollfd(3) and shmchan_watch_add(3). Every wait is bounded,
 * so a lost wake fails instead of hanging.
 */
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "util.h"

#define KiB 1024UL

static int pollfd_of(struct shmchan_queue *q)
{
	int fd = shmchan_queue_pollfd(q);

	if (fd == -EOPNOTSUPP) {
		diag("the module has no SHMCHAN_FEATURE_WATCH");
		_exit(1);
	}
	ASSERT_TRUE(fd >= 0);
	return fd;
}

/*
 * Without seccomp (the debug kernel has none), the same rule through
 * ioctl() itself: this definition comes before libc's for the library's
 * calls, and ends the process once the rule is on.
 */
static bool ioctl_forbidden;

int ioctl(int fd, unsigned long request, ...)
{
	static int (*next)(int, unsigned long, void *);
	va_list ap;
	void *arg;

	if (ioctl_forbidden)
		_exit(9);
	if (!next)
		next = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	return next(fd, request, arg);
}

/* From here on, any ioctl() kills the process: "no system call". */
static void no_ioctl_from_now(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };

	ioctl_forbidden = true;
	ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	/* seccomp also catches syscall(SYS_ioctl), where the kernel has it */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		ASSERT_TRUE(errno == EINVAL || errno == EPERM);
}

TEST(pollfd_errors, 30)
{
	const char *n = chan_name("perr");
	struct shmchan_queue *r = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_RECV);

	ASSERT_EQ(shmchan_queue_pollfd(NULL), -EINVAL);
	ASSERT_EQ(pollfd_of(r), shmchan_fd(shmchan_queue_channel(r)));
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_queue_pollfd(r), -EIDRM);
	shmchan_queue_close(r);
}

TEST(recv_arms_only_when_empty, 60)
{
	const char *n = chan_name("parm");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	char buf[64];
	int fd = pollfd_of(r), i;

	/* nothing armed yet: never ready */
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "a", 1, 0), 0);
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(shmchan_queue_send(s, "bc", 2, 0), 0);
		ASSERT_EQ(ready_within(fd, 5000), 1);
		/* level-triggered: still ready until re-armed */
		ASSERT_EQ(ready_within(fd, 0), 1);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 2);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
		ASSERT_EQ(ready_within(fd, 0), 0);
	}
	/* the last sender leaves: ready, then -EPIPE */
	shmchan_queue_close(s);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EPIPE);
	shmchan_queue_close(r);
}

TEST(send_arms_when_full, 60)
{
	const char *n = chan_name("pfull");
	struct shmchan_queue *s = qcreate(n, 8 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	char msg[200] = { 0 }, buf[256];
	int fd = pollfd_of(s), sent = 0, ret;

	while ((ret = shmchan_queue_send(s, msg, sizeof(msg), 0)) == 0)
		sent++;
	ASSERT_EQ(ret, -EAGAIN);
	ASSERT_TRUE(sent > 4);
	ASSERT_EQ(ready_within(fd, 0), 0);
	/* senders are woken in batches (half a ring, or all taken) */
	while (sent--)
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), sizeof(msg));
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	while ((ret = shmchan_queue_send(s, msg, sizeof(msg), 0)) == 0)
		;
	ASSERT_EQ(ret, -EAGAIN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	/* the receiver leaves: ready, then -EPIPE */
	shmchan_queue_close(r);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	ASSERT_EQ(shmchan_queue_send(s, msg, sizeof(msg), 0), -EPIPE);
	shmchan_queue_close(s);
}

/*
 * Both sides keep up: after one arm and its wake, 1,000 messages go
 * through with no ioctl on either side (a seccomp filter kills on one).
 */
TEST(fast_path_no_syscall, 60)
{
	const char *n = chan_name("pfast");
	struct shmchan_queue *s = qcreate(n, 256 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	char buf[64];
	pid_t pid;
	int fd = pollfd_of(r), i;

	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_send(s, "w", 1, 0), 0);	/* wakes: ioctl */
	ASSERT_EQ(ready_within(fd, 5000), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		/* the child's first call makes it a peer: a wake, an ioctl */
		ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, 0), 0);
		no_ioctl_from_now();
		for (i = 0; i < 1000; i++)
			if (shmchan_queue_send(s, &i, sizeof(i), 0))
				_exit(2);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		ASSERT_EQ(shmchan_queue_wait_peer(r, SHMCHAN_QUEUE_SEND, 0), 0);
		no_ioctl_from_now();
		for (i = 0; i < 1000; i++) {
			int v = -1;

			if (shmchan_queue_recv(r, &v, sizeof(v), 0) != sizeof(v) ||
			    v != i)
				_exit(2);
		}
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/*
 * The race an arm must not lose: a sender on one vCPU, a polling receiver
 * on the other, every message possibly racing the receiver's arm. A wake
 * lost would leave a message unreceived and poll() timing out (5 s).
 */
TEST(lost_wake_race, 240)
{
	const char *n = chan_name("prace");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	uint32_t total = (uint32_t)scaled(40000), next = 0, v, arms = 0;
	cpu_set_t set;
	pid_t pid;
	int fd = pollfd_of(r);
	ssize_t got;

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		uint64_t seed = 7;
		uint32_t i;

		CPU_ZERO(&set);
		CPU_SET(1 % sysconf(_SC_NPROCESSORS_ONLN), &set);
		sched_setaffinity(0, sizeof(set), &set);
		for (i = 0; i < total; i++) {
			if (shmchan_queue_send(s, &i, sizeof(i), SHMCHAN_MSEC(10000)))
				_exit(2);
			/* vary the gap, so sends fall on every part of the arm */
			for (v = (uint32_t)(mix64(&seed) % 40000); v; v--)
				__asm__ volatile("" ::: "memory");
		}
		_exit(0);
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (next < total) {
		got = shmchan_queue_recv(r, &v, sizeof(v), 0);
		if (got == -EAGAIN) {
			arms++;
			if (!ready_within(fd, 5000)) {
				diag("no wake after message %u (armed %u times)",
				     next, arms);
				ASSERT_TRUE(0);
			}
			continue;
		}
		ASSERT_EQ(got, sizeof(v));
		ASSERT_EQ(v, next);
		next++;
	}
	diag("%u messages, %u arms", total, arms);
	ASSERT_EQ(reap(pid), 0);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

struct blocked {
	struct shmchan_queue *q;
	ssize_t got;
};

static void *blocked_recv(void *arg)
{
	struct blocked *b = arg;
	char buf[16];

	b->got = shmchan_queue_recv(b->q, buf, sizeof(buf), SHMCHAN_MSEC(20000));
	return NULL;
}

/*
 * Another receiver holds the consumers' lock asleep (waiting for data):
 * the poller arms on the lock, and is woken when it is free; the lock's
 * wakes are not lost for sleepers either way.
 */
TEST(lock_held_by_sleeper, 60)
{
	const char *n = chan_name("plock");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct blocked b = { .q = qopen(n, SHMCHAN_QUEUE_RECV) };
	struct shmchan_queue_info info;
	struct shmchan_stat st;
	pthread_t t;
	char buf[16];
	int fd = pollfd_of(r);
	uint64_t until;

	ASSERT_EQ(pthread_create(&t, NULL, blocked_recv, &b), 0);
	/* until the thread sleeps in the module, holding the lock */
	until = now_ns() + 10000000000ULL;
	for (;;) {
		ASSERT_EQ(shmchan_stat(shmchan_queue_channel(r), &st), 0);
		if (st.nwaiters >= 1)
			break;
		ASSERT_TRUE(now_ns() < until);
		usleep(1000);
	}
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "one", 3, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "four", 4, 0), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(b.got, 3);
	/* one message left: the poller is told, and gets it */
	ASSERT_EQ(ready_within(fd, 5000), 1);
	until = now_ns() + 10000000000ULL;
	while (shmchan_queue_recv(r, buf, sizeof(buf), 0) == -EAGAIN) {
		ASSERT_TRUE(now_ns() < until);
		ASSERT_EQ(ready_within(fd, 5000), 1);
	}
	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	ASSERT_EQ(info.used, 0);
	shmchan_queue_close(b.q);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

TEST(epoll_edge_and_level, 60)
{
	const char *n = chan_name("pep");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[2];
	int fd = pollfd_of(r), ep = epoll_create1(EPOLL_CLOEXEC), i;
	char buf[16];

	ASSERT_TRUE(ep >= 0);
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(shmchan_queue_send(s, "x", 1, 0), 0);
		ASSERT_EQ(shmchan_queue_send(s, "y", 1, 0), 0);
		ASSERT_EQ(epoll_wait(ep, out, 2, 5000), 1);
		/* edge: once per firing, not again */
		ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	}
	ev.events = EPOLLIN;
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
	ASSERT_EQ(shmchan_queue_send(s, "z", 1, 0), 0);
	ASSERT_EQ(epoll_wait(ep, out, 2, 5000), 1);
	/* level: again and again until drained */
	ASSERT_EQ(epoll_wait(ep, out, 2, 0), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(epoll_wait(ep, out, 2, 0), 0);
	close(ep);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/* A sender killed: the poller hears of the death, and gets -EPIPE. */
TEST(sender_dies, 60)
{
	const char *n = chan_name("pdie");
	struct shmchan_queue *r = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_RECV);
	int fd = pollfd_of(r), pipefd[2];
	char buf[16], c;
	pid_t pid;

	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (!pid) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		ASSERT_EQ(shmchan_queue_send(s, "hi", 2, 0), 0);
		ASSERT_EQ(write(pipefd[1], "x", 1), 1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(read(pipefd[0], &c, 1), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 2);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	kill(pid, SIGKILL);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	reap(pid);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EPIPE);
	shmchan_queue_close(r);
}

TEST(revoke_wakes_poller, 60)
{
	const char *n = chan_name("prev");
	struct shmchan_queue *r = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_RECV);
	int fd = pollfd_of(r);
	char buf[16];

	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EIDRM);
	shmchan_queue_close(r);
}

/* ------------------------------------------------------------ thin layer */

TEST(watch_calls, 60)
{
	const char *n = chan_name("pwatch");
	struct shmchan_watch_event ev[4];
	struct shmchan *ch;
	_Atomic uint32_t *w;
	void *base;
	uint32_t id, id2, i;
	int fd;

	ASSERT_EQ(shmchan_create(n, 8192, 0600, SHMCHAN_CREATE_EXCL, &ch), 0);
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_WRITE, &base), 0);
	w = base;
	fd = shmchan_fd(ch);
	ASSERT_EQ(shmchan_watch_add(NULL, 0, 0, 0, 0, 0, &id), -EINVAL);
	ASSERT_EQ(shmchan_watch_add(ch, 0, 0, 0, 0, 0, NULL), -EINVAL);
	ASSERT_EQ(shmchan_watch_add(ch, 2, 0, 0, 0, 0, &id), -EINVAL);
	ASSERT_EQ(shmchan_watch_add(ch, 8192, 0, 0, 0, 0, &id), -EINVAL);
	ASSERT_EQ(shmchan_watch_add(ch, 0, 0, 0, 5, 0, &id), -EINVAL);
	ASSERT_EQ(shmchan_watch_arm(NULL, 0, 0, 0, 0), -EINVAL);
	ASSERT_EQ(shmchan_watch_del(NULL, 0), -EINVAL);
	ASSERT_EQ(shmchan_watch_read(NULL, 0, ev, 4), -EINVAL);
	ASSERT_EQ(shmchan_watch_arm(ch, 77, 0, 0, 0), -ENOENT);
	ASSERT_EQ(shmchan_watch_del(ch, 77), -ENOENT);
	ASSERT_EQ(shmchan_watch_read(ch, 0x80000000U, ev, 4), -EINVAL);
	ASSERT_EQ(shmchan_watch_read(ch, 0, NULL, 4), -EINVAL);

	/* armed: woken by a wake; read reports it with its data */
	ASSERT_EQ(shmchan_watch_add(ch, 0, 0, 0, 0, 42, &id), 0);
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_wake(ch, 0, 1), 1);
	ASSERT_EQ(ready_within(fd, 5000), 1);
	ASSERT_EQ(shmchan_watch_read(ch, 0, ev, 4), 1);
	ASSERT_EQ(ev[0].id, id);
	ASSERT_EQ(ev[0].data, 42);
	ASSERT_EQ(ev[0].events, SHMCHAN_WATCH_EV_WOKEN);
	ASSERT_EQ(ready_within(fd, 0), 0);
	/* the word moved: fires at arm */
	atomic_store(&w[1], 9);
	ASSERT_EQ(shmchan_watch_add(ch, 4, 0, 0, 0, 0, &id2),
		  SHMCHAN_WATCH_EV_CHANGED);
	ASSERT_EQ(ready_within(fd, 0), 1);
	ASSERT_EQ(shmchan_watch_arm(ch, id2, 9, 0, 0), 0);
	ASSERT_EQ(ready_within(fd, 0), 0);
	ASSERT_EQ(shmchan_watch_read(ch, SHMCHAN_WATCH_READ_LIST, ev, 4), 2);
	ASSERT_EQ(shmchan_watch_del(ch, id2), 0);
	ASSERT_EQ(shmchan_watch_del(ch, id2), -ENOENT);
	/* the limit */
	for (i = 1; i < SHMCHAN_WATCH_MAX; i++)
		ASSERT_EQ(shmchan_watch_add(ch, 8, 0, 0, 0, 0, &id2), 0);
	ASSERT_EQ(shmchan_watch_add(ch, 8, 0, 0, 0, 0, &id2), -ENOSPC);
	/* revoked */
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_watch_add(ch, 0, 0, 0, 0, 0, &id2), -EIDRM);
	ASSERT_EQ(shmchan_watch_arm(ch, id, 0, 0, 0), -EIDRM);
	ASSERT_EQ(shmchan_watch_read(ch, 0, ev, 4), -EIDRM);
	ASSERT_EQ(shmchan_watch_del(ch, id), 0);
	shmchan_unmap(base, 8192);
	shmchan_close(ch);
}

TAP_MAIN
