// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Peers of a queue, against the real module (run it in the VM): a dead
 * peer is seen on the next call once its parent reaped it (send, reserve,
 * commit and the pool's send get -EPIPE; a receiver drains, then gets
 * -EPIPE, timeout 0 included); a revoked channel fails every call with
 * -EIDRM, room or not; shmchan_queue_wait_peer(); and what the queue,
 * pool and sync handles do in a child of fork().
 *
 * The first two need the module's status page (SHMCHAN_FEATURE_STATUS_PAGE)
 * and are skipped without it: the library then learns of a death only when
 * a call waits. Every wait here is bounded, so a lost wake-up fails.
 */
#include <pthread.h>
#include <sched.h>

#include "util.h"

#define KiB 1024UL

static bool has_status_page(void)
{
	struct shmchan_features f;

	return shmchan_features(&f) == 0 &&
	       (f.features & SHMCHAN_FEATURE_STATUS_PAGE);
}

#define NEED_STATUS_PAGE() do {						\
	if (!has_status_page())						\
		SKIP("the module has no SHMCHAN_FEATURE_STATUS_PAGE");	\
} while (0)

static int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Best effort: a VM with one vCPU still runs the test. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus(), &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

/* A one-byte hand-shake from a child to its parent. */
struct ready {
	int fds[2];
};

static void ready_init(struct ready *r)
{
	ASSERT_EQ(pipe(r->fds), 0);
}

static void ready_say(struct ready *r)
{
	ASSERT_EQ(write(r->fds[1], "r", 1), 1);
}

static void ready_wait(struct ready *r)
{
	char c;

	ASSERT_EQ(read(r->fds[0], &c, 1), 1);
}

/* In a child: says it is ready, then stays, a live peer, until killed (never returns). */
static void ready_say_and_stay(struct ready *r)
{
	ready_say(r);
	for (;;)
		pause();
}

/*
 * SIGKILLs child @pid and reaps it: it must die of the signal. Once
 * reaped, the next call of a peer must see the death.
 */
static void kill_peer(pid_t pid)
{
	ASSERT_EQ(kill(pid, SIGKILL), 0);
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
}

/* The parent of a single child: a child that fails before it says so
 * ends the wait (end of file) instead of hanging it. */
static void ready_wait_child(struct ready *r)
{
	char c;

	close(r->fds[1]);
	ASSERT_EQ(read(r->fds[0], &c, 1), 1);
}

static void ready_close(struct ready *r)
{
	close(r->fds[0]);
	close(r->fds[1]);
}

/* Run @fn(worker) in two processes at once, one per vCPU; both must pass. */
static void on_both_cpus(void (*fn)(int worker))
{
	pid_t w[2];
	int i;

	for (i = 0; i < 2; i++) {
		w[i] = fork();
		ASSERT_TRUE(w[i] >= 0);
		if (w[i] == 0) {
			pin(i);
			fn(i);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(reap(w[i]), 0);
}

/* ------------------------------------------------------------ death */

/*
 * The only receiver is SIGKILLed and reaped: the very next send, reserve
 * and pool send each get -EPIPE (which of the three comes first changes
 * from round to round, so each is the one that finds the death), though
 * the ring has room, and the message sent before the death is the only
 * one a later receiver finds.
 */
static void dead_receiver_rounds(int worker)
{
	const int rounds = (int)scaled(40);
	struct shmchan_queue *s1, *s2, *s3, *r;
	struct shmchan_pool *p;
	struct ready rd;
	char name[64], pname[64], buf[8];
	uint32_t idx;
	void *ptr;
	pid_t pid;
	int i, k;

	snprintf(pname, sizeof(pname), "libtest-%d-drpool", (int)getpid());
	shmchan_destroy(pname, 0);
	p = pcreate(pname, 64, 4);
	for (i = 0; i < rounds; i++) {
		snprintf(name, sizeof(name), "libtest-%d-dr%d", (int)getpid(), i);
		shmchan_destroy(name, 0);
		s1 = qcreate(name, 64 * KiB, SHMCHAN_QUEUE_SEND);
		s2 = qopen(name, SHMCHAN_QUEUE_SEND);
		s3 = qopen(name, SHMCHAN_QUEUE_SEND);
		ready_init(&rd);
		pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			pin(worker + 1);
			qopen(name, SHMCHAN_QUEUE_RECV);
			ready_say_and_stay(&rd);
		}
		ready_wait(&rd);
		ASSERT_EQ(shmchan_queue_send(s1, "x", 1, 0), 0);
		kill_peer(pid);
		for (k = 0; k < 3; k++) {
			switch ((i + k) % 3) {
			case 0:
				ASSERT_EQ(shmchan_queue_send(s1, "y", 1, 0), -EPIPE);
				break;
			case 1:
				ASSERT_EQ(shmchan_queue_reserve(s2, 8, &ptr, 0), -EPIPE);
				break;
			default:
				ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx), 0);
				ASSERT_EQ(shmchan_pool_send(p, s3, idx, 0), -EPIPE);
				/* the block is still ours */
				ASSERT_EQ(shmchan_pool_free(p, idx), 0);
				break;
			}
		}
		ASSERT_EQ(shmchan_queue_send(s2, "z", 1, SHMCHAN_MSEC(100)), -EPIPE);
		/* what was sent before the death, and nothing after */
		r = qopen(name, SHMCHAN_QUEUE_RECV);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
		ASSERT_EQ(buf[0], 'x');
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
		shmchan_queue_close(r);
		shmchan_queue_close(s1);
		shmchan_queue_close(s2);
		shmchan_queue_close(s3);
		ready_close(&rd);
		ASSERT_EQ(shmchan_destroy(name, 0), 0);
	}
	shmchan_pool_close(p);
	shmchan_destroy(pname, 0);
}

TEST(dead_receiver_next_send_epipe, 150)
{
	NEED_STATUS_PAGE();
	on_both_cpus(dead_receiver_rounds);
}

/*
 * The last sender is SIGKILLed and reaped: the receiver gets what it sent,
 * then -EPIPE from recv, peek, peek_len and the pool's recv, with timeout
 * 0 too (never -EAGAIN for good).
 */
static void dead_sender_rounds(int worker)
{
	const int rounds = (int)scaled(40), count = 5;
	struct shmchan_queue *r;
	struct shmchan_pool *p;
	struct ready rd;
	char name[64], pname[64], buf[8];
	const void *cp;
	int64_t timeout;
	uint32_t idx;
	pid_t pid;
	int i, k;

	snprintf(pname, sizeof(pname), "libtest-%d-dspool", (int)getpid());
	shmchan_destroy(pname, 0);
	p = pcreate(pname, 64, 4);
	for (i = 0; i < rounds; i++) {
		snprintf(name, sizeof(name), "libtest-%d-ds%d", (int)getpid(), i);
		shmchan_destroy(name, 0);
		r = qcreate(name, 64 * KiB, SHMCHAN_QUEUE_RECV);
		ready_init(&rd);
		pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			struct shmchan_queue *s;

			pin(worker + 1);
			s = qopen(name, SHMCHAN_QUEUE_SEND);
			for (k = 0; k < count; k++)
				ASSERT_EQ(shmchan_queue_send(s, &k, sizeof(k), 0), 0);
			ready_say_and_stay(&rd);
		}
		ready_wait(&rd);
		kill_peer(pid);
		/* timeout 0 in three rounds of four, a long one in the rest */
		timeout = i % 4 == 3 ? SHMCHAN_MSEC(10000) : 0;
		for (k = 0; k < count; k++) {
			ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), timeout), sizeof(k));
			ASSERT_EQ(memcmp(buf, &k, sizeof(k)), 0);
		}
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), timeout), -EPIPE);
		ASSERT_EQ(shmchan_queue_peek(r, &cp, timeout), -EPIPE);
		ASSERT_EQ(shmchan_queue_peek_len(r, timeout), -EPIPE);
		ASSERT_EQ(shmchan_pool_recv(p, r, &idx, timeout), -EPIPE);
		shmchan_queue_close(r);
		ready_close(&rd);
		ASSERT_EQ(shmchan_destroy(name, 0), 0);
	}
	shmchan_pool_close(p);
	shmchan_destroy(pname, 0);
}

TEST(dead_sender_drain_then_epipe, 150)
{
	NEED_STATUS_PAGE();
	on_both_cpus(dead_sender_rounds);
}

/*
 * A reservation outlives every receiver: commit tells the sender with
 * -EPIPE and drops the message (a receiver that comes later never sees
 * it). First the receiver closes; then (with the status page) it is
 * SIGKILLed and reaped.
 */
TEST(commit_after_receivers_gone, 60)
{
	const char *n = chan_name("commit");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct ready rd;
	char buf[16];
	void *ptr;
	pid_t pid;

	ASSERT_EQ(shmchan_queue_reserve(s, 8, &ptr, 0), 0);
	memcpy(ptr, "dropped!", 8);
	shmchan_queue_close(r);
	ASSERT_EQ(shmchan_queue_commit(s, 8), -EPIPE);
	ASSERT_EQ(shmchan_queue_commit(s, 8), -EINVAL);
	r = qopen(n, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_send(s, "kept", 4, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 4);
	ASSERT_EQ(memcmp(buf, "kept", 4), 0);
	shmchan_queue_close(r);
	if (!has_status_page())
		SKIP("the module has no SHMCHAN_FEATURE_STATUS_PAGE: killed part not run");
	ready_init(&rd);
	pid = fork();
	if (pid == 0) {
		qopen(n, SHMCHAN_QUEUE_RECV);
		ready_say_and_stay(&rd);
	}
	ready_wait_child(&rd);
	ASSERT_EQ(shmchan_queue_reserve(s, 8, &ptr, 0), 0);
	kill_peer(pid);
	ASSERT_EQ(shmchan_queue_commit(s, 8), -EPIPE);
	shmchan_queue_close(s);
}

/* ------------------------------------------------------------ revoke */

/*
 * SHMCHAN_DESTROY_REVOKE: every send, reserve, commit, recv, peek,
 * peek_len and wait for a peer gets -EIDRM, with room and with messages
 * waiting, and again and again; so do the pool's calls, whether the queue
 * or the pool was revoked.
 */
TEST(revoke_every_call_eidrm, 60)
{
	const char *n = chan_name("revoke");
	const char *pn = chan_name("revpool");
	const char *n2 = chan_name("revoke2");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *s2 = qopen(n, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue *a, *b;
	struct shmchan_pool *p = pcreate(pn, 64, 8);
	uint32_t idx, idx2;
	char buf[16];
	const void *cp;
	void *ptr;
	int i;

	NEED_STATUS_PAGE();
	ASSERT_EQ(shmchan_queue_send(s, "one", 3, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "two", 3, 0), 0);
	ASSERT_EQ(shmchan_queue_reserve(s2, 8, &ptr, 0), 0);
	ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx), 0);
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(shmchan_queue_send(s, "x", 1, 0), -EIDRM);
		ASSERT_EQ(shmchan_queue_send(s, "x", 1, SHMCHAN_MSEC(1000)), -EIDRM);
		ASSERT_EQ(shmchan_queue_reserve(s, 8, &ptr, 0), -EIDRM);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EIDRM);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_MSEC(1000)), -EIDRM);
		ASSERT_EQ(shmchan_queue_peek(r, &cp, 0), -EIDRM);
		ASSERT_EQ(shmchan_queue_peek_len(r, 0), -EIDRM);
		ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, 0), -EIDRM);
		ASSERT_EQ(shmchan_pool_send(p, s, idx, 0), -EIDRM);
		ASSERT_EQ(shmchan_pool_recv(p, r, &idx2, 0), -EIDRM);
	}
	/* the reservation made before ends with the error */
	ASSERT_EQ(shmchan_queue_commit(s2, 8), -EIDRM);
	ASSERT_EQ(shmchan_queue_commit(s2, 8), -EINVAL);
	/* the block was never handed over: still ours */
	ASSERT_EQ(shmchan_pool_free(p, idx), 0);
	shmchan_queue_close(s);
	shmchan_queue_close(s2);
	shmchan_queue_close(r);

	/* the pool revoked, its queue fine */
	a = qcreate(n2, 64 * KiB, SHMCHAN_QUEUE_SEND);
	b = qopen(n2, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx), 0);
	ASSERT_EQ(shmchan_destroy(pn, SHMCHAN_DESTROY_REVOKE), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx2), -EIDRM);
		ASSERT_EQ(shmchan_pool_send(p, a, idx, 0), -EIDRM);
		ASSERT_EQ(shmchan_pool_recv(p, b, &idx2, 0), -EIDRM);
	}
	ASSERT_EQ(shmchan_queue_recv(b, buf, sizeof(buf), 0), -EAGAIN);
	shmchan_queue_close(a);
	shmchan_queue_close(b);
	shmchan_pool_close(p);
}

/* ------------------------------------------------------------ wait_peer */

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(wait_peer_errors, 60)
{
	const char *n = chan_name("wpe");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *both = qopen(n, SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	struct sigaction sa;
	uint64_t t0;
	pid_t pid;

	ASSERT_EQ(shmchan_queue_wait_peer(NULL, SHMCHAN_QUEUE_RECV, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_wait_peer(s, 0, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_wait_peer(s, 1U << 5, 0), -EINVAL);
	/* @both is a receiver other than @s; @s is a sender other than @both */
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, 0), 0);
	ASSERT_EQ(shmchan_queue_wait_peer(both, SHMCHAN_QUEUE_SEND, 0), 0);
	/* a handle is not its own peer */
	ASSERT_EQ(shmchan_queue_wait_peer(both, SHMCHAN_QUEUE_RECV, 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_SEND, 0), 0);
	shmchan_queue_close(both);
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_SEND, 0), -EAGAIN);
	t0 = now_ns();
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, SHMCHAN_MSEC(50)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 50000000ULL);

	/* a signal whose handler has no SA_RESTART */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	pid = fork();
	if (pid == 0) {
		struct shmchan *ch;

		ASSERT_EQ(shmchan_open(n, 0, &ch), 0);
		ASSERT_EQ(await_waiters(ch, 1), 0);
		kill(getppid(), SIGUSR1);
		/* not exiting: an exit is a death, which would end the
		 * wait too, maybe before the signal does */
		for (;;)
			pause();
	}
	ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, SHMCHAN_MSEC(20000)), -EINTR);
	kill_peer(pid);
	shmchan_queue_close(s);
}

/*
 * The use case: a producer makes a transient queue, waits for its consumer,
 * fills the queue and closes at once. Without the wait, a producer that
 * closes first takes the queue with it (the consumer gets ENOENT). In
 * half the rounds the roles are the other way round: a consumer makes it
 * and waits for a producer (which stays until the wait is over: one that
 * came and went before does not count). The peer joins at a random moment
 * on the other vCPU; a lost wake-up would end in -ETIMEDOUT.
 */
static void transient_rounds(int worker)
{
	const int rounds = (int)scaled(30), count = 200;
	struct shmchan_queue *q, *o;
	char name[64], buf[64];
	uint64_t seed = (uint64_t)getpid();
	struct ready go;
	useconds_t delay;
	pid_t pid;
	int i, k;

	ready_init(&go);
	for (i = 0; i < rounds; i++) {
		bool producer_waits = i % 2 == 0;

		snprintf(name, sizeof(name), "libtest-%d-tq%d", (int)getpid(), i);
		shmchan_destroy(name, 0);
		ASSERT_EQ(shmchan_queue_create(name, 64 * KiB, 0600,
					       SHMCHAN_QUEUE_TRANSIENT | SHMCHAN_QUEUE_EXCL |
					       (producer_waits ? SHMCHAN_QUEUE_SEND :
						SHMCHAN_QUEUE_RECV), &q), 0);
		delay = (useconds_t)(mix64(&seed) % 20000);
		pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			pin(worker + 1);
			usleep(delay);
			if (producer_waits) {
				o = qopen(name, SHMCHAN_QUEUE_RECV);
				for (k = 0; k < count; k++) {
					ASSERT_EQ(shmchan_queue_recv(o, buf, sizeof(buf),
								     SHMCHAN_MSEC(10000)), sizeof(k));
					ASSERT_EQ(memcmp(buf, &k, sizeof(k)), 0);
				}
				ASSERT_EQ(shmchan_queue_recv(o, buf, sizeof(buf),
							     SHMCHAN_MSEC(10000)), -EPIPE);
			} else {
				o = qopen(name, SHMCHAN_QUEUE_SEND);
				for (k = 0; k < count; k++)
					ASSERT_EQ(shmchan_queue_send(o, &k, sizeof(k),
								     SHMCHAN_MSEC(10000)), 0);
				/* a sender that left before the wait does
				 * not count: stay until it is over */
				ready_wait(&go);
			}
			shmchan_queue_close(o);
			_exit(0);
		}
		if (producer_waits) {
			ASSERT_EQ(shmchan_queue_wait_peer(q, SHMCHAN_QUEUE_RECV,
							  SHMCHAN_MSEC(10000)), 0);
			for (k = 0; k < count; k++)
				ASSERT_EQ(shmchan_queue_send(q, &k, sizeof(k), SHMCHAN_MSEC(10000)), 0);
			/* closing at once: the consumer has it open */
			shmchan_queue_close(q);
		} else {
			ASSERT_EQ(shmchan_queue_wait_peer(q, SHMCHAN_QUEUE_SEND,
							  SHMCHAN_MSEC(10000)), 0);
			ready_say(&go);
			for (k = 0; k < count; k++) {
				ASSERT_EQ(shmchan_queue_recv(q, buf, sizeof(buf),
							     SHMCHAN_MSEC(10000)), sizeof(k));
				ASSERT_EQ(memcmp(buf, &k, sizeof(k)), 0);
			}
			shmchan_queue_close(q);
		}
		ASSERT_EQ(reap(pid), 0);
	}
}

TEST(wait_peer_transient_queue, 150)
{
	on_both_cpus(transient_rounds);
}

/* ------------------------------------------------------------ fork */

/*
 * A child that uses an inherited queue handle is a peer of its own: the
 * parent closing its handle leaves the child's place (the receiver sees a
 * sender still there), and when the child is killed it is reaped like any
 * peer (the receiver then gets -EPIPE).
 */
TEST(fork_child_is_a_peer, 60)
{
	const char *n = chan_name("forkpeer");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	struct ready rd;
	char buf[16];
	pid_t pid;

	ready_init(&rd);
	pid = fork();
	if (pid == 0) {
		ASSERT_EQ(shmchan_queue_send(s, "child", 5, 0), 0);
		ready_say_and_stay(&rd);
	}
	ready_wait_child(&rd);
	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	ASSERT_EQ(info.senders, 2);
	shmchan_queue_close(s);
	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	ASSERT_EQ(info.senders, 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 5);
	ASSERT_EQ(memcmp(buf, "child", 5), 0);
	/* the child still sends, as far as anyone can tell */
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	kill_peer(pid);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_MSEC(10000)), -EPIPE);
	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	ASSERT_EQ(info.senders, 0);
	shmchan_queue_close(r);
}

/*
 * A child's first call on an inherited handle needs a place of its own:
 * with all 48 taken by the live parent, -EUSERS, and again at the next
 * call; the parent's handles are not disturbed.
 */
TEST(fork_no_place_for_child, 60)
{
	const char *n = chan_name("forkfull");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *more[47];
	struct shmchan_queue_info info;
	char buf[8];
	pid_t pid;
	int i;

	for (i = 0; i < 47; i++)
		more[i] = qopen(n, SHMCHAN_QUEUE_RECV);
	pid = fork();
	if (pid == 0) {
		ASSERT_EQ(shmchan_queue_wait_peer(s, SHMCHAN_QUEUE_RECV, 0), -EUSERS);
		ASSERT_EQ(shmchan_queue_send(s, "x", 1, 0), -EUSERS);
		ASSERT_EQ(shmchan_queue_recv(more[0], buf, sizeof(buf), 0), -EUSERS);
		shmchan_queue_close(s);
		shmchan_queue_close(more[0]);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_queue_info(s, &info), 0);
	ASSERT_EQ(info.senders, 1);
	ASSERT_EQ(info.receivers, 47);
	ASSERT_EQ(shmchan_queue_send(s, "x", 1, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(more[0], buf, sizeof(buf), 0), 1);
	for (i = 0; i < 47; i++)
		shmchan_queue_close(more[i]);
	shmchan_queue_close(s);
}

/* A child that closes inherited handles it never used leaves the parent's
 * places alone. */
TEST(fork_close_unused_handle, 60)
{
	const char *n = chan_name("forkclose");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	char buf[16];
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		shmchan_queue_close(s);
		shmchan_queue_close(r);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	ASSERT_EQ(info.senders, 1);
	ASSERT_EQ(info.receivers, 1);
	ASSERT_EQ(shmchan_queue_send(s, "a", 1, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/*
 * The parent's reservation and peeked message stay the parent's: in the
 * child, commit, cancel and release find none (-EINVAL), and send and recv
 * work on the child's own place.
 */
TEST(fork_reservation_and_peek_stay_parents, 60)
{
	const char *n = chan_name("forkrsv");
	struct shmchan_queue *s = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	const void *cp;
	char buf[16];
	void *ptr;
	pid_t pid;

	ASSERT_EQ(shmchan_queue_send(s, "first", 5, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "second", 6, 0), 0);
	ASSERT_EQ(shmchan_queue_peek(r, &cp, 0), 5);
	ASSERT_EQ(shmchan_queue_reserve(s, 8, &ptr, 0), 0);
	memcpy(ptr, "parent!!", 8);
	pid = fork();
	if (pid == 0) {
		ASSERT_EQ(shmchan_queue_commit(s, 8), -EINVAL);
		ASSERT_EQ(shmchan_queue_cancel(s), -EINVAL);
		ASSERT_EQ(shmchan_queue_release(r), -EINVAL);
		ASSERT_EQ(shmchan_queue_send(s, "child", 5, 0), 0);
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 6);
		ASSERT_EQ(memcmp(buf, "second", 6), 0);
		shmchan_queue_close(s);
		shmchan_queue_close(r);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(memcmp(cp, "first", 5), 0);
	ASSERT_EQ(shmchan_queue_release(r), 0);
	ASSERT_EQ(shmchan_queue_commit(s, 8), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 8);
	ASSERT_EQ(memcmp(buf, "parent!!", 8), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 5);
	ASSERT_EQ(memcmp(buf, "child", 5), 0);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/*
 * A pool handle in a child owns blocks as the child: it cannot free the
 * parent's, and the blocks it took are recovered once it is killed.
 */
TEST(fork_pool_child_owns_its_blocks, 60)
{
	const char *n = chan_name("forkpool");
	struct shmchan_pool *p = pcreate(n, 64, 8);
	struct shmchan_pool_stats st;
	struct ready rd;
	uint32_t a;
	pid_t pid;

	ASSERT_EQ(shmchan_pool_alloc(p, 0, &a), 0);
	ready_init(&rd);
	pid = fork();
	if (pid == 0) {
		uint32_t b;

		ASSERT_EQ(shmchan_pool_alloc(p, 0, &b), 0);
		ASSERT_EQ(shmchan_pool_free(p, a), -EPERM);
		ready_say_and_stay(&rd);
	}
	ready_wait_child(&rd);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.owned, 2);
	kill_peer(pid);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.owned, 1);
	ASSERT_EQ(st.owned_by_dead, 1);
	ASSERT_EQ(shmchan_pool_recover(p, 0), 1);
	ASSERT_EQ(shmchan_pool_free(p, a), 0);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.free, 8);
	shmchan_pool_close(p);
}

/* A heap inherited through fork(): the child allocates and frees in it. */
TEST(fork_heap_usable_in_child, 60)
{
	const char *n = chan_name("forkheap");
	struct shmchan_heap_stats st;
	struct shmchan_heap *h;
	struct shmchan_sync *s;
	struct shmchan *ch;
	uint64_t a, b;
	void *base;
	pid_t pid;

	ASSERT_EQ(shmchan_create(n, 65536, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_WRITE, &base), 0);
	ASSERT_EQ(shmchan_sync_new(ch, base, &s), 0);
	ASSERT_EQ(shmchan_heap_create(s, 4096, 65536 - 4096, &h), 0);
	ASSERT_EQ(shmchan_heap_alloc(h, 100, &a), 0);
	pid = fork();
	if (pid == 0) {
		alarm(10);
		ASSERT_EQ(shmchan_heap_alloc(h, 200, &b), 0);
		ASSERT_TRUE(b != a);
		memset((char *)base + b, 1, 200);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_heap_stats(h, &st), 0);
	ASSERT_EQ(st.allocs, 2);
	ASSERT_EQ(shmchan_heap_free(h, a), 0);
	shmchan_heap_close(h);
	shmchan_sync_free(s);
}

/*
 * fork() while other threads use a shmchan_sync: the child's first call
 * must not find the context's lock held for good by a thread the child
 * does not have. Threads call shmchan_mutex_lock() with timeout 0 on a
 * mutex the main thread holds (each call takes the context's lock a few
 * times); the main thread forks again and again, and each child does the
 * same once, under an alarm.
 */
struct hammer {
	struct shmchan_sync *s;
	struct shmchan_mutex *m;
	_Atomic bool stop;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop))
		(void)shmchan_mutex_lock(h->s, h->m, 0);
	return NULL;
}

TEST(fork_sync_context_usable_in_child, 120)
{
	const char *n = chan_name("forksync");
	const int forks = (int)scaled(300);
	struct hammer h;
	struct shmchan *ch;
	pthread_t th[3];
	void *base;
	pid_t pid;
	int i;

	ASSERT_EQ(shmchan_create(n, 65536, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_WRITE, &base), 0);
	ASSERT_EQ(shmchan_sync_new(ch, base, &h.s), 0);
	h.m = (struct shmchan_mutex *)base;
	shmchan_mutex_init(h.m);
	ASSERT_EQ(shmchan_mutex_lock(h.s, h.m, 0), 0);
	atomic_store(&h.stop, false);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, hammer_fn, &h), 0);
	for (i = 0; i < forks; i++) {
		pid = fork();
		ASSERT_TRUE(pid >= 0);
		if (pid == 0) {
			alarm(10);
			/* the parent's main thread holds it, not ours */
			_exit(shmchan_mutex_lock(h.s, h.m, 0) == -EAGAIN &&
			      shmchan_mutex_unlock(h.s, h.m) == -EPERM ? 0 : 1);
		}
		ASSERT_EQ(reap(pid), 0);
	}
	atomic_store(&h.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(shmchan_mutex_unlock(h.s, h.m), 0);
	shmchan_sync_free(h.s);
}

TAP_MAIN
