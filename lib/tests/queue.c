// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The message queue against the real module (run it in the VM): every
 * call and error, boundaries, rounds (1 GiB through 64 KiB), several
 * producers and consumers, zero copy, timeouts, the layout check, and
 * peers killed with SIGKILL at the awkward moments.
 *
 * QUEUE_STRESS=1 in the environment makes the big cases bigger (make
 * stress): 10^7 messages instead of 10^5. SHMCHAN_TEST_SCALE=N divides
 * the big sizes and counts by N (the debug kernel's run: see util.h).
 */
#include <grp.h>
#include <sched.h>

#include "util.h"

#define KiB 1024UL
#define MiB (1024UL * 1024)
#define GiB (1024UL * 1024 * 1024)

static bool stress(void)
{
	const char *s = getenv("QUEUE_STRESS");

	return s && *s && strcmp(s, "0");
}

/* ------------------------------------------------------------ basics */

TEST(api_errors, 30)
{
	const char *n = chan_name("api");
	struct shmchan_queue *q = NULL, *s, *r;
	struct shmchan_queue_info info;
	char buf[16];
	const void *cp;
	void *p;

	ASSERT_EQ(shmchan_queue_create(NULL, 65536, 0600, SHMCHAN_QUEUE_SEND, &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_create(n, 65536, 0600, 0, &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_create(n, 65536, 0600, SHMCHAN_QUEUE_SEND | (1U << 20), &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_create(n, 4096, 0600, SHMCHAN_QUEUE_SEND, &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_SEND, &q), -ENOENT);
	ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_EXCL, &q), -EINVAL);

	s = qcreate(n, 65536, SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_EXCL);
	ASSERT_EQ(shmchan_queue_create(n, 65536, 0600, SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_EXCL, &q), -EEXIST);
	r = qopen(n, SHMCHAN_QUEUE_RECV);

	ASSERT_EQ(shmchan_queue_info(s, &info), 0);
	ASSERT_EQ(info.capacity, 65536 - 4096);
	ASSERT_EQ(info.max_msg, (65536 - 4096) / 2 - 32);
	ASSERT_EQ(info.round_size, (65536 - 4096) / 4 - 32);
	ASSERT_EQ(info.senders, 1);
	ASSERT_EQ(info.receivers, 1);
	ASSERT_EQ(info.layout, SHMCHAN_QUEUE_LAYOUT);
	ASSERT_EQ(info.used, 0);
	ASSERT_TRUE(shmchan_queue_channel(s) != NULL);
	ASSERT_TRUE(shmchan_queue_channel(NULL) == NULL);
	ASSERT_EQ(shmchan_queue_info(NULL, &info), -EINVAL);

	/* roles */
	ASSERT_EQ(shmchan_queue_send(r, "x", 1, 0), -EBADF);
	ASSERT_EQ(shmchan_queue_recv(s, buf, sizeof(buf), 0), -EBADF);
	ASSERT_EQ(shmchan_queue_reserve(r, 1, &p, 0), -EBADF);
	ASSERT_EQ(shmchan_queue_peek(s, &cp, 0), -EBADF);
	ASSERT_EQ(shmchan_queue_peek_len(s, 0), -EBADF);
	/* arguments */
	ASSERT_EQ(shmchan_queue_send(NULL, "x", 1, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_send(s, NULL, 1, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_recv(r, NULL, 1, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_commit(s, 0), -EINVAL);
	ASSERT_EQ(shmchan_queue_cancel(s), -EINVAL);
	ASSERT_EQ(shmchan_queue_release(r), -EINVAL);
	ASSERT_EQ(shmchan_queue_set_spin(s, 10000001), -EINVAL);
	ASSERT_EQ(shmchan_queue_set_spin(s, 10000000), 0);
	ASSERT_EQ(shmchan_queue_set_spin(s, 0), 0);

	/* boundaries: 0, 1, and max_msg bytes; empty afterwards */
	ASSERT_EQ(shmchan_queue_send(s, NULL, 0, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "a", 1, 0), 0);
	ASSERT_EQ(shmchan_queue_send(s, "bc", 2, 0), 0);
	ASSERT_EQ(shmchan_queue_info(s, &info), 0);
	ASSERT_EQ(info.used, 32 + 64 + 64);	/* records: header + payload */
	ASSERT_EQ(shmchan_queue_peek_len(r, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	ASSERT_EQ(buf[0], 'a');
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 2);
	ASSERT_EQ(memcmp(buf, "bc", 2), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_peek_len(r, 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_info(s, &info), 0);
	ASSERT_EQ(info.used, 0);

	shmchan_queue_close(s);
	shmchan_queue_close(r);
	shmchan_queue_close(NULL);
}

/*
 * The shortest queue channel is 8192 bytes, whatever the page size: the
 * length is checked as given, then rounded up to pages like any channel's.
 * The shortest queue carries a message of its max_msg.
 */
TEST(min_length, 30)
{
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	static const uint64_t lens[] = { 8192, 8193 };
	struct shmchan_queue_info info;
	struct shmchan_queue *q = NULL;
	static char msg[8192], got[8192];
	const char *n;
	uint64_t want;
	unsigned int i;

	n = chan_name("min");
	ASSERT_EQ(shmchan_queue_create(n, 8191, 0600, SHMCHAN_QUEUE_SEND, &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_create(n, 4097, 0600, SHMCHAN_QUEUE_SEND, &q), -EINVAL);
	ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_SEND, &q), -ENOENT);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		want = (lens[i] + page - 1) / page * page;
		q = qcreate(chan_name(i ? "min2" : "min1"), lens[i],
			    SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
		ASSERT_EQ(shmchan_length(shmchan_queue_channel(q)), want);
		ASSERT_EQ(shmchan_queue_info(q, &info), 0);
		ASSERT_EQ(info.capacity, want - 4096);
		ASSERT_TRUE(info.max_msg > 0 && info.max_msg <= sizeof(msg));
		fill(msg, info.max_msg, i);
		ASSERT_EQ(shmchan_queue_send(q, msg, info.max_msg, 0), 0);
		ASSERT_EQ(shmchan_queue_recv(q, got, sizeof(got), 0), info.max_msg);
		ASSERT_TRUE(!memcmp(msg, got, info.max_msg));
		shmchan_queue_close(q);
	}
}

/* Many sizes around the record and round limits, one process. */
TEST(boundaries, 60)
{
	const char *n = chan_name("bounds");
	struct shmchan_queue *q = qcreate(n, 16384,
					  SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	static uint8_t in[40000], out[40000];
	size_t sizes[64], i, k = 0;
	uint64_t m;

	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	/* a 12 KiB ring: max_msg 6112, rounds of 3040 */
	for (m = 0; m < 40; m++)
		sizes[k++] = m * 97 % (info.max_msg + 2);
	sizes[k++] = info.max_msg;
	sizes[k++] = info.max_msg + 1;
	sizes[k++] = info.round_size;
	sizes[k++] = info.capacity - 1;
	sizes[k++] = info.capacity;
	sizes[k++] = info.capacity + 1;
	/* one at a time through the ring, so larger ones need rounds and
	 * a receiver: send from a child */
	for (i = 0; i < k; i++) {
		pid_t pid;

		fill(in, sizes[i], i);
		pid = fork();
		if (pid == 0) {
			struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

			_exit(shmchan_queue_send(s, in, sizes[i], SHMCHAN_MSEC(20000)) ? 1 : 0);
		}
		ASSERT_EQ(shmchan_queue_recv(q, out, sizeof(out), SHMCHAN_MSEC(20000)),
			  (long long)sizes[i]);
		ASSERT_EQ(memcmp(in, out, sizes[i]), 0);
		ASSERT_EQ(reap(pid), 0);
	}
	shmchan_queue_close(q);
}

/* ------------------------------------------------------------ timeouts */

TEST(timeouts, 60)
{
	const char *n = chan_name("timeouts");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	static uint8_t big[100000];
	uint64_t t0;
	char buf[8];
	int sent;

	/* empty: non-blocking, then timed */
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
	t0 = now_ns();
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_MSEC(100)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 100000000ULL);
	ASSERT_TRUE(now_ns() - t0 < 3000000000ULL);
	t0 = now_ns();
	ASSERT_EQ(shmchan_queue_peek_len(r, SHMCHAN_MSEC(50)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 50000000ULL);

	/* full: fill a 4 KiB ring with 1000-byte messages */
	for (sent = 0; shmchan_queue_send(s, big, 1000, 0) == 0; sent++)
		;
	ASSERT_EQ(sent, 3);
	ASSERT_EQ(shmchan_queue_send(s, big, 1000, 0), -EAGAIN);
	t0 = now_ns();
	ASSERT_EQ(shmchan_queue_send(s, big, 1000, SHMCHAN_MSEC(100)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 100000000ULL);

	/* a message in rounds that times out half-way is not delivered */
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), 1000);
	ASSERT_EQ(shmchan_queue_send(s, big, sizeof(big), SHMCHAN_MSEC(50)), -ETIMEDOUT);
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), 1000);
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), 1000);
	ASSERT_EQ(shmchan_queue_send(s, "next", 4, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), SHMCHAN_MSEC(1000)), 4);
	ASSERT_EQ(memcmp(big, "next", 4), 0);
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), -EAGAIN);

	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/* A signal handler without SA_RESTART ends every blocking call: EINTR. */
TEST(interrupted, 60)
{
	const char *n = chan_name("eintr");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	static uint8_t big[1000];
	const void *cptr;
	void *ptr;
	char buf[8];
	int sent;

	start_alarms();
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_queue_peek_len(r, SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_queue_peek(r, &cptr, SHMCHAN_MSEC(30000)), -EINTR);
	for (sent = 0; shmchan_queue_send(s, big, sizeof(big), 0) == 0; sent++)
		;
	ASSERT_EQ(shmchan_queue_send(s, big, sizeof(big), SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_queue_reserve(s, sizeof(big), &ptr, SHMCHAN_MSEC(30000)), -EINTR);
	stop_alarms();
	/* nothing of the interrupted sends was delivered */
	for (; sent > 0; sent--)
		ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), (int)sizeof(big));
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), -EAGAIN);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

static void open_as_nobody(void *arg)
{
	struct shmchan_queue *q;

	ASSERT_EQ(setgroups(0, NULL), 0);
	ASSERT_EQ(setgid(65534), 0);
	ASSERT_EQ(setuid(65534), 0);
	ASSERT_EQ(shmchan_queue_open(arg, SHMCHAN_QUEUE_RECV, &q), -EACCES);
}

/*
 * The zero-copy calls' share of send's and recv's errors, a queue of
 * another user, a revoked queue, and a ring written over by a process.
 */
TEST(more_errors, 60)
{
	const char *n = chan_name("more"), *n2 = chan_name("more2");
	const char *n3 = chan_name("more3");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue *s2, *r2;
	static uint8_t big[1000];
	const void *cptr;
	uint8_t *base;
	void *ptr;
	int sent;

	ASSERT_EQ(shmchan_queue_peek(r, &cptr, 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_peek(r, &cptr, SHMCHAN_MSEC(50)), -ETIMEDOUT);
	for (sent = 0; shmchan_queue_send(s, big, sizeof(big), 0) == 0; sent++)
		;
	ASSERT_EQ(shmchan_queue_reserve(s, sizeof(big), &ptr, 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_reserve(s, sizeof(big), &ptr, SHMCHAN_MSEC(50)), -ETIMEDOUT);
	for (; sent > 0; sent--)
		ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), (int)sizeof(big));

	ASSERT_EQ(reap(spawn(open_as_nobody, (void *)n)), 0);

	/* every receiver gone */
	s2 = qcreate(n2, 8192, SHMCHAN_QUEUE_SEND);
	r2 = qopen(n2, SHMCHAN_QUEUE_RECV);
	shmchan_queue_close(r2);
	ASSERT_EQ(shmchan_queue_reserve(s2, 10, &ptr, 0), -EPIPE);
	shmchan_queue_close(s2);

	/* revoked while a sender waits for room */
	s2 = qcreate(n3, 8192, SHMCHAN_QUEUE_SEND);
	r2 = qopen(n3, SHMCHAN_QUEUE_RECV);
	while (shmchan_queue_send(s2, big, sizeof(big), 0) == 0)
		;
	ASSERT_EQ(shmchan_destroy(n3, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_queue_send(s2, big, sizeof(big), SHMCHAN_MSEC(5000)), -EIDRM);
	shmchan_queue_close(s2);
	shmchan_queue_close(r2);

	/* the whole ring, after the header page, written over */
	ASSERT_EQ(shmchan_queue_send(s, "x", 1, 0), 0);
	ASSERT_EQ(shmchan_map(shmchan_queue_channel(r), PROT_READ | PROT_WRITE,
			      (void **)&base), 0);
	memset(base + 4096, 0xa5, shmchan_length(shmchan_queue_channel(r)) - 4096);
	ASSERT_EQ(shmchan_queue_recv(r, big, sizeof(big), 0), -EPROTO);
	ASSERT_EQ(shmchan_queue_peek(r, &cptr, 0), -EPROTO);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/*
 * A reserved record written over before its commit: the commit finds
 * another state than the BUSY one its reservation left, refuses to
 * publish it (EPROTO), and the reservation ends all the same.
 */
TEST(commit_overwritten, 60)
{
	const char *n = chan_name("commitover");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
	struct shmchan *ch = shmchan_queue_channel(s);
	uint8_t *base;
	void *ptr;

	ASSERT_EQ(shmchan_queue_reserve(s, 16, &ptr, 0), 0);
	memcpy(ptr, "overwritten soon", 16);
	/* the whole ring, after the header page, record headers included */
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_WRITE, (void **)&base), 0);
	memset(base + 4096, 0xa5, shmchan_length(ch) - 4096);
	ASSERT_EQ(shmchan_queue_commit(s, 16), -EPROTO);
	ASSERT_EQ(shmchan_queue_commit(s, 16), -EINVAL);
	ASSERT_EQ(shmchan_unmap(base, shmchan_length(ch)), 0);
	shmchan_queue_close(s);
	shmchan_queue_close(r);
}

/* ------------------------------------------------------------ too small */

TEST(too_small, 60)
{
	const char *n = chan_name("small");
	struct shmchan_queue *q = qcreate(n, 16384,
					  SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	static uint8_t in[50000], out[50000];
	pid_t pid;

	fill(in, 100, 1);
	ASSERT_EQ(shmchan_queue_send(q, in, 100, 0), 0);
	ASSERT_EQ(shmchan_queue_recv(q, out, 99, 0), -EMSGSIZE);
	ASSERT_EQ(shmchan_queue_recv(q, out, 0, 0), -EMSGSIZE);
	ASSERT_EQ(shmchan_queue_peek_len(q, 0), 100);
	ASSERT_EQ(shmchan_queue_recv(q, out, 100, 0), 100);
	ASSERT_EQ(memcmp(in, out, 100), 0);

	/* in rounds: the same, and nothing of it is consumed */
	fill(in, sizeof(in), 2);
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		_exit(shmchan_queue_send(s, in, sizeof(in), SHMCHAN_MSEC(20000)) ? 1 : 0);
	}
	ASSERT_EQ(shmchan_queue_peek_len(q, SHMCHAN_MSEC(10000)), (long long)sizeof(in));
	ASSERT_EQ(shmchan_queue_recv(q, out, sizeof(in) - 1, 0), -EMSGSIZE);
	ASSERT_EQ(shmchan_queue_recv(q, out, sizeof(out), SHMCHAN_MSEC(20000)), (long long)sizeof(in));
	ASSERT_EQ(memcmp(in, out, sizeof(in)), 0);
	ASSERT_EQ(reap(pid), 0);
	shmchan_queue_close(q);
}

/* ------------------------------------------------------------ zero copy */

TEST(zero_copy, 60)
{
	const char *n = chan_name("zc");
	struct shmchan_queue *q = qcreate(n, 65536,
					  SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	const void *cp, *cp2;
	void *p, *p2;
	char buf[64];
	int i;

	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	ASSERT_EQ(shmchan_queue_reserve(q, info.max_msg + 1, &p, 0), -EMSGSIZE);
	ASSERT_EQ(shmchan_queue_reserve(q, 100, &p, 0), 0);
	ASSERT_EQ(shmchan_queue_reserve(q, 100, &p2, 0), -EBUSY);
	ASSERT_EQ(shmchan_queue_send(q, "x", 1, 0), -EBUSY);
	/* our own uncommitted message is at the head */
	ASSERT_EQ(shmchan_queue_recv(q, buf, sizeof(buf), 0), -EDEADLK);
	memcpy(p, "hello, in place", 16);
	ASSERT_EQ(shmchan_queue_commit(q, 101), -EINVAL);
	ASSERT_EQ(shmchan_queue_commit(q, 16), 0);

	/* cancelled: never seen */
	ASSERT_EQ(shmchan_queue_reserve(q, 50, &p, 0), 0);
	ASSERT_EQ(shmchan_queue_cancel(q), 0);
	ASSERT_EQ(shmchan_queue_send(q, "after", 5, 0), 0);

	/* peek hands out the very bytes the sender wrote */
	ASSERT_EQ(shmchan_queue_peek(q, &cp, 0), 16);
	ASSERT_EQ(memcmp(cp, "hello, in place", 16), 0);
	ASSERT_EQ(shmchan_queue_peek(q, &cp2, 0), -EBUSY);
	ASSERT_EQ(shmchan_queue_recv(q, buf, sizeof(buf), 0), -EBUSY);
	ASSERT_EQ(shmchan_queue_release(q), 0);
	ASSERT_EQ(shmchan_queue_release(q), -EINVAL);
	ASSERT_EQ(shmchan_queue_recv(q, buf, sizeof(buf), 0), 5);

	/* the ring goes round many times in place */
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)(i * 37) % 3000;

		ASSERT_EQ(shmchan_queue_reserve(q, len, &p, 0), 0);
		fill(p, len, (uint64_t)i);
		ASSERT_EQ(shmchan_queue_commit(q, len), 0);
		ASSERT_EQ(shmchan_queue_peek(q, &cp, 0), (long long)len);
		ASSERT_EQ(checksum(cp, len), checksum(p, len));
		ASSERT_TRUE(cp == p);	/* the same place: no copy */
		ASSERT_EQ(shmchan_queue_release(q), 0);
	}

	/* a message in rounds cannot be peeked in place */
	{
		static uint8_t big[100000];
		pid_t pid = fork();

		if (pid == 0) {
			struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

			fill(big, sizeof(big), 7);
			_exit(shmchan_queue_send(s, big, sizeof(big), SHMCHAN_MSEC(20000)) ? 1 : 0);
		}
		ASSERT_EQ(shmchan_queue_peek_len(q, SHMCHAN_MSEC(10000)), (long long)sizeof(big));
		ASSERT_EQ(shmchan_queue_peek(q, &cp, 0), -EMSGSIZE);
		ASSERT_EQ(shmchan_queue_recv(q, big, sizeof(big), SHMCHAN_MSEC(20000)), (long long)sizeof(big));
		ASSERT_EQ(reap(pid), 0);
	}

	/* close releases an open peek and cancels a reservation */
	ASSERT_EQ(shmchan_queue_send(q, "z", 1, 0), 0);
	ASSERT_EQ(shmchan_queue_peek(q, &cp, 0), 1);
	shmchan_queue_close(q);
	q = qopen(n, SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_reserve(q, 10, &p, 0), 0);
	shmchan_queue_close(q);
	q = qopen(n, SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_recv(q, buf, sizeof(buf), 0), -EAGAIN);
	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	ASSERT_EQ(info.used, 0);
	shmchan_queue_close(q);
}

/* ------------------------------------------------------------ random */

/* Random sizes from 0 to 3 times the channel, checksummed. */
TEST(random_sizes, 120)
{
	const char *n = chan_name("random");
	const size_t chan = 65536, most = 3 * chan;
	struct shmchan_queue *r = qcreate(n, chan, SHMCHAN_QUEUE_RECV);
	const int count = (int)scaled(stress() ? 4000 : 400);
	uint8_t *buf = malloc(most), *want = malloc(most);
	uint64_t seed = 12345, t0 = now_ns(), bytes = 0;
	pid_t pid;
	int i;

	ASSERT_TRUE(buf && want);
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		for (i = 0; i < count; i++) {
			uint64_t v = mix64(&seed);
			size_t len = v % 4 ? v % 4096 : (v >> 8) % (most + 1);

			fill(want, len, (uint64_t)i);
			if (shmchan_queue_send(s, want, len, SHMCHAN_MSEC(20000)))
				_exit(1);
		}
		shmchan_queue_close(s);
		_exit(0);
	}
	for (i = 0; i < count; i++) {
		uint64_t v = mix64(&seed);
		size_t len = v % 4 ? v % 4096 : (v >> 8) % (most + 1);
		ssize_t got = shmchan_queue_recv(r, buf, most, SHMCHAN_MSEC(20000));

		ASSERT_EQ(got, (long long)len);
		fill(want, len, (uint64_t)i);
		ASSERT_EQ(checksum(buf, len), checksum(want, len));
		bytes += len;
	}
	ASSERT_EQ(shmchan_queue_recv(r, buf, most, SHMCHAN_MSEC(20000)), -EPIPE);
	ASSERT_EQ(reap(pid), 0);
	diag("%d messages, %.1f MiB in %.2f s", count, (double)bytes / MiB,
	     secs_since(t0));
	shmchan_queue_close(r);
	free(buf);
	free(want);
}

static void dump_queue(const char *who, struct shmchan_queue *q);

/* ------------------------------------------------------------ 1 GiB */

TEST(one_gib_through_64k, 170)
{
	const char *n = chan_name("gib");
	/* 1 GiB (scaled); a period no round divides */
	const size_t total = scaled(GiB), pages = 257;
	struct shmchan_queue *r = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	uint8_t *buf;
	void *pat;
	uint64_t t0;
	double secs;
	pid_t pid;

	ASSERT_EQ(shmchan_queue_info(r, &info), 0);
	/* populated: a page fault per page costs much under TCG */
	buf = mmap(NULL, total, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_TRUE(buf != MAP_FAILED);
	/* not shared copy-on-write with the sender: no second GiB */
	ASSERT_EQ(madvise(buf, total, MADV_DONTFORK), 0);
	/* both ends spin a little: the adaptive path, in rounds */
	ASSERT_EQ(shmchan_queue_set_spin(r, 1000000), 0);
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);
		void *p;
		const uint8_t *msg = alias_buffer(total, pages, 99, &p);

		ASSERT_EQ(shmchan_queue_set_spin(s, 1000000), 0);
		_exit(shmchan_queue_send(s, msg, total, SHMCHAN_FOREVER) ? 1 : 0);
	}
	ASSERT_EQ(shmchan_queue_recv(r, buf, total, SHMCHAN_FOREVER), (long long)total);
	secs = secs_since(t0);
	ASSERT_EQ(reap(pid), 0);
	/* the receiver rebuilds the sender's pattern to check every byte */
	pat = malloc(pages * 4096);
	ASSERT_TRUE(pat != NULL);
	fill(pat, pages * 4096, 99);
	ASSERT_TRUE(alias_verify(buf, total, pat, pages * 4096));
	diag("%zu MiB in %llu rounds of %llu bytes: %.2f s, %.0f MiB/s",
	     total / MiB,
	     (unsigned long long)((total + info.round_size - 1) / info.round_size),
	     (unsigned long long)info.round_size, secs, (double)total / MiB / secs);
	shmchan_queue_close(r);
}

/* ------------------------------------------------------------ MPMC */

#define NPROD 4
#define NCONS 4

struct mpmc {
	_Alignas(8) _Atomic uint64_t received[NPROD];	/* of each producer */
	_Alignas(8) _Atomic uint64_t dup;		/* duplicates seen */
	_Alignas(8) _Atomic uint64_t reorder;	/* per-producer order broken */
	_Alignas(8) _Atomic uint64_t corrupt;
	_Alignas(8) _Atomic uint64_t big;		/* messages in rounds */
	uint64_t per_prod;
	_Atomic uint8_t seen[];			/* [producer][seq] */
};

struct mpmc_msg {
	uint32_t prod;
	uint32_t pad;
	uint64_t seq;
	uint64_t sum;
};

/* White box: the queue's header, when a test is stuck. */
static void dump_queue(const char *who, struct shmchan_queue *q)
{
	struct shmchan_queue_info info;
	const uint8_t *b;
	void *base;
	uint64_t pos[3];
	int i;

	if (shmchan_map(shmchan_queue_channel(q), PROT_READ, &base))
		return;
	b = base;
	shmchan_queue_info(q, &info);
#define U32(o) (*(const uint32_t *)(b + (o)))
#define U64(o) (*(const uint64_t *)(b + (o)))
	diag("%s: prod_lock %#x prod_head %llu rounds %llx | cons_lock %#x "
	     "cons_head %llu cons_tail %llu", who, U32(128),
	     (unsigned long long)U64(136), (unsigned long long)U64(144),
	     U32(256), (unsigned long long)U64(264), (unsigned long long)U64(384));
	diag("%s: data seq %u sleepers %u | space seq %u sleepers %u "
	     "want %llu | senders %#x %#x receivers %#x %#x", who, U32(512),
	     U32(516), U32(640), U32(644),
	     (unsigned long long)U64(648), U32(772), U32(776), U32(780), U32(784));
	pos[0] = U64(384);
	pos[1] = U64(264);
	pos[2] = U64(136);
	for (i = 0; i < 2; i++) {
		uint64_t vcap = U64(32), off = pos[i] & (vcap - 1);

		if (off + 32 <= info.capacity)
			diag("%s: record at %llu: state %llx size %u len %u", who,
			     (unsigned long long)pos[i],
			     (unsigned long long)U64(4096 + off),
			     U32(4096 + off + 8), U32(4096 + off + 12));
	}
	for (i = 0; i < 48; i++)
		if (U32(1024 + i * 64))
			diag("%s: slot %d: %#x busy %llx claim %llx", who, i,
			     U32(1024 + i * 64), (unsigned long long)U64(1024 + i * 64 + 16),
			     (unsigned long long)U64(1024 + i * 64 + 24));
#undef U32
#undef U64
	shmchan_unmap(base, shmchan_length(shmchan_queue_channel(q)));
}

/*
 * In producer @prod's child: its message @seq, @len bytes in @buf (the
 * header, then a payload filled from @seed), sent; the child exits 1 if
 * the send fails.
 */
static void mpmc_send(struct shmchan_queue *s, uint8_t *buf, int prod,
		      uint64_t seq, size_t len, uint64_t seed, int64_t timeout_ns)
{
	struct mpmc_msg msg = { .prod = (uint32_t)prod, .seq = seq };
	int ret;

	fill(buf + sizeof(msg), len - sizeof(msg), seed);
	msg.sum = checksum(buf + sizeof(msg), len - sizeof(msg));
	memcpy(buf, &msg, sizeof(msg));
	ret = shmchan_queue_send(s, buf, len, timeout_ns);
	if (ret) {
		diag("producer %d: %d at %llu", prod, ret, (unsigned long long)seq);
		dump_queue("producer", s);
		_exit(1);
	}
}

/* Every 500th message of a producer goes in rounds. */
static size_t mpmc_len(uint64_t seq, size_t max_msg)
{
	return seq % 500 == 499 ? 2 * max_msg + 123 : sizeof(struct mpmc_msg) + seq % 200;
}

TEST(mpmc_4x4, 170)
{
	const char *n = chan_name("mpmc");
	uint64_t total = scaled(stress() ? 10000000 : 100000), per = total / NPROD;
	struct mpmc *m = shared_mem(sizeof(*m) + NPROD * per);
	struct shmchan_queue *q = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue_info info;
	pid_t prod[NPROD], cons[NCONS];
	uint64_t t0 = now_ns(), sum = 0;
	int i, j;

	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	m->per_prod = per;
	for (i = 0; i < NCONS; i++) {
		cons[i] = fork();
		if (cons[i] == 0) {
			struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
			size_t cap = 3 * info.max_msg;
			uint8_t *buf = malloc(cap);
			uint64_t last[NPROD];
			ssize_t len;

			memset(last, 0xff, sizeof(last));
			while ((len = shmchan_queue_recv(r, buf, cap, SHMCHAN_MSEC(60000))) >= 0) {
				struct mpmc_msg msg;

				memcpy(&msg, buf, sizeof(msg));
				if (msg.prod >= NPROD || msg.seq >= per ||
				    (size_t)len != mpmc_len(msg.seq, info.max_msg) ||
				    checksum(buf + sizeof(msg), (size_t)len - sizeof(msg)) != msg.sum) {
					m->corrupt++;
					continue;
				}
				if (last[msg.prod] != UINT64_MAX && msg.seq <= last[msg.prod])
					m->reorder++;
				last[msg.prod] = msg.seq;
				if (atomic_exchange(&m->seen[msg.prod * per + msg.seq], 1))
					m->dup++;
				m->received[msg.prod]++;
				if ((size_t)len > info.max_msg)
					m->big++;
			}
			if (len != -EPIPE) {
				diag("consumer %d: %lld after %llu messages", i,
				     (long long)len, (unsigned long long)(m->received[0] +
				     m->received[1] + m->received[2] + m->received[3]));
				dump_queue("consumer", r);
			}
			_exit(len == -EPIPE ? 0 : 10 + (int)-len);
		}
	}
	for (i = 0; i < NPROD; i++) {
		prod[i] = fork();
		if (prod[i] == 0) {
			struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);
			size_t cap = 3 * info.max_msg;
			uint8_t *buf = malloc(cap);
			uint64_t k;

			for (k = 0; k < per; k++)
				mpmc_send(s, buf, i, k, mpmc_len(k, info.max_msg),
					  k * NPROD + (uint64_t)i, SHMCHAN_MSEC(60000));
			shmchan_queue_close(s);
			_exit(0);
		}
	}
	for (i = 0; i < NPROD; i++)
		ASSERT_EQ(reap(prod[i]), 0);
	/* the creator sent nothing: it leaves last, and receivers see -EPIPE */
	shmchan_queue_close(q);
	for (i = 0; i < NCONS; i++)
		ASSERT_EQ(reap(cons[i]), 0);
	for (i = 0; i < NPROD; i++) {
		ASSERT_EQ(m->received[i], per);
		for (j = 0; j < (int)per; j++)
			ASSERT_EQ(m->seen[(uint64_t)i * per + (uint64_t)j], 1);
		sum += m->received[i];
	}
	ASSERT_EQ(m->dup, 0);
	ASSERT_EQ(m->reorder, 0);
	ASSERT_EQ(m->corrupt, 0);
	diag("%llu messages (%llu in rounds), 4 producers x 4 consumers: %.2f s",
	     (unsigned long long)sum, (unsigned long long)m->big, secs_since(t0));
}

/*
 * Both sides asleep at once, often: a ring of 4 KiB that the senders fill
 * with records the receivers have claimed but not yet freed (they hold
 * peeked messages a while), so that a sender goes to sleep for room just
 * as the receiver at the head goes to sleep for data, each waking the
 * other on its way (q_wait()). Messages in rounds keep prod_lock across
 * sleeps. A wake-up lost there leaves one side asleep with no one to wake
 * it: a send or receive then times out (bounded: 30 s), where a healthy
 * run has every call back in milliseconds.
 */
#define FR_PROD 2
#define FR_CONS 3

struct full_ring {
	_Alignas(8) _Atomic uint64_t received, dup, corrupt, reorder;
	uint64_t per_prod;
	_Atomic uint8_t seen[];			/* [producer][seq] */
};

static size_t full_ring_len(uint64_t seq, size_t max_msg)
{
	static const size_t sizes[] = { 1200, 1700, 600, 2000, 900, 1500 };

	return seq % 11 == 10 ? 2 * max_msg + 100 : sizes[seq % 6] < max_msg ?
	       sizes[seq % 6] : max_msg;
}

static void full_ring_check(struct full_ring *f, const uint8_t *buf, size_t len,
			    size_t max_msg, uint64_t last[FR_PROD])
{
	struct mpmc_msg msg;

	if (len < sizeof(msg)) {
		f->corrupt++;
		return;
	}
	memcpy(&msg, buf, sizeof(msg));
	if (msg.prod >= FR_PROD || msg.seq >= f->per_prod ||
	    len != full_ring_len(msg.seq, max_msg) ||
	    checksum(buf + sizeof(msg), len - sizeof(msg)) != msg.sum) {
		f->corrupt++;
		return;
	}
	if (last[msg.prod] != UINT64_MAX && msg.seq <= last[msg.prod])
		f->reorder++;
	last[msg.prod] = msg.seq;
	if (atomic_exchange(&f->seen[msg.prod * f->per_prod + msg.seq], 1))
		f->dup++;
	f->received++;
}

TEST(full_ring_both_sleep, 170)
{
	const char *n = chan_name("fullring");
	uint64_t per = scaled(12000), t0 = now_ns();
	struct full_ring *f = shared_mem(sizeof(*f) + FR_PROD * per);
	struct shmchan_queue *q = qcreate(n, 8 * KiB, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue_info info;
	pid_t prod[FR_PROD], cons[FR_CONS];
	int i;

	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	f->per_prod = per;
	for (i = 0; i < FR_CONS; i++) {
		cons[i] = fork();
		if (cons[i] == 0) {
			struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
			size_t cap = 3 * info.max_msg;
			uint8_t *buf = malloc(cap);
			uint64_t last[FR_PROD], k;
			const void *p;
			ssize_t len;

			memset(last, 0xff, sizeof(last));
			for (k = 0;; k++) {
				/* every other message held a while as a peek:
				 * claimed, not yet freed */
				len = k % 2 ? shmchan_queue_peek(r, &p, SHMCHAN_MSEC(30000)) :
					      -EMSGSIZE;
				if (len >= 0) {
					sched_yield();
					full_ring_check(f, p, (size_t)len, info.max_msg, last);
					ASSERT_EQ(shmchan_queue_release(r), 0);
					continue;
				}
				if (len == -EMSGSIZE)
					len = shmchan_queue_recv(r, buf, cap, SHMCHAN_MSEC(30000));
				if (len < 0)
					break;
				full_ring_check(f, buf, (size_t)len, info.max_msg, last);
			}
			if (len != -EPIPE) {
				diag("consumer %d: %lld after %llu messages", i, (long long)len,
				     (unsigned long long)f->received);
				dump_queue("consumer", r);
			}
			_exit(len == -EPIPE ? 0 : 10 + (int)-len);
		}
	}
	for (i = 0; i < FR_PROD; i++) {
		prod[i] = fork();
		if (prod[i] == 0) {
			struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);
			uint8_t *buf = malloc(3 * info.max_msg);
			uint64_t k;

			for (k = 0; k < per; k++)
				mpmc_send(s, buf, i, k, full_ring_len(k, info.max_msg),
					  k * FR_PROD + (uint64_t)i, SHMCHAN_MSEC(30000));
			shmchan_queue_close(s);
			_exit(0);
		}
	}
	for (i = 0; i < FR_PROD; i++)
		ASSERT_EQ(reap(prod[i]), 0);
	shmchan_queue_close(q);
	for (i = 0; i < FR_CONS; i++)
		ASSERT_EQ(reap(cons[i]), 0);
	ASSERT_EQ(f->received, FR_PROD * per);
	ASSERT_EQ(f->dup, 0);
	ASSERT_EQ(f->reorder, 0);
	ASSERT_EQ(f->corrupt, 0);
	diag("%llu messages through a 4 KiB ring, %d senders x %d receivers: %.2f s",
	     (unsigned long long)f->received, FR_PROD, FR_CONS, secs_since(t0));
}

/*
 * Chaos: producers and consumers on a small ring (pads and rounds often)
 * are SIGKILLed at random and replaced. Whatever the timing, no message is
 * delivered corrupt or in part, none twice, none out of its producer's
 * order, the ring never jams, and a producer that finishes loses at most
 * one message per killed consumer (the one it had taken).
 */
#define CH_IDS		32
#define CH_PER		1500
#define CH_LIVE		3

struct chaos {
	_Alignas(8) _Atomic uint64_t dup, corrupt, reorder, received;
	_Alignas(8) _Atomic uint32_t done[CH_IDS];	/* producer finished */
	_Atomic uint8_t seen[CH_IDS][CH_PER];
};

static size_t chaos_len(uint64_t seq, size_t max_msg)
{
	return seq % 40 == 39 ? 2 * max_msg + 100 : sizeof(struct mpmc_msg) + seq % 100;
}

static pid_t chaos_producer(const char *n, struct chaos *c, uint32_t id,
			    size_t max_msg)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);
		uint8_t *buf = malloc(3 * max_msg);
		struct mpmc_msg msg = { .prod = id };
		uint64_t k;

		for (k = 0; k < CH_PER; k++) {
			size_t len = chaos_len(k, max_msg);

			msg.seq = k;
			fill(buf + sizeof(msg), len - sizeof(msg), k * CH_IDS + id);
			msg.sum = checksum(buf + sizeof(msg), len - sizeof(msg));
			memcpy(buf, &msg, sizeof(msg));
			if (shmchan_queue_send(s, buf, len, SHMCHAN_MSEC(60000)))
				_exit(1);
		}
		c->done[id] = 1;
		shmchan_queue_close(s);
		_exit(0);
	}
	return pid;
}

static pid_t chaos_consumer(const char *n, struct chaos *c, size_t max_msg)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);
		uint8_t *buf = malloc(3 * max_msg);
		uint64_t last[CH_IDS];
		struct mpmc_msg msg;
		ssize_t len;

		memset(last, 0xff, sizeof(last));
		while ((len = shmchan_queue_recv(r, buf, 3 * max_msg,
						 SHMCHAN_MSEC(60000))) >= 0) {
			memcpy(&msg, buf, sizeof(msg));
			if (msg.prod >= CH_IDS || msg.seq >= CH_PER ||
			    (size_t)len != chaos_len(msg.seq, max_msg) ||
			    checksum(buf + sizeof(msg), (size_t)len - sizeof(msg)) != msg.sum) {
				c->corrupt++;
				continue;
			}
			if (last[msg.prod] != UINT64_MAX && msg.seq <= last[msg.prod])
				c->reorder++;
			last[msg.prod] = msg.seq;
			if (atomic_exchange(&c->seen[msg.prod][msg.seq], 1))
				c->dup++;
			c->received++;
		}
		if (len != -EPIPE) {
			diag("chaos consumer: %lld", (long long)len);
			dump_queue("chaos consumer", r);
		}
		_exit(len == -EPIPE ? 0 : 1);
	}
	return pid;
}

TEST(mpmc_random_kills, 150)
{
	const char *n = chan_name("chaos");
	struct chaos *c = shared_mem(sizeof(struct chaos));
	struct shmchan_queue *q = qcreate(n, 32 * 1024,
					  SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV);
	struct shmchan_queue_info info;
	pid_t prod[CH_LIVE], cons[CH_LIVE];
	uint32_t prod_id[CH_LIVE], next_id = 0, kills_cons = 0, kills_prod = 0;
	uint64_t seed, t0 = now_ns(), lost = 0, k;
	int i, round;

	/* a new schedule each run; CHAOS_SEED=n repeats one */
	seed = getenv("CHAOS_SEED") ? strtoull(getenv("CHAOS_SEED"), NULL, 0) : t0;
	diag("CHAOS_SEED=%llu", (unsigned long long)seed);

	/* the creator holds both roles: neither side sees -EPIPE meanwhile */
	ASSERT_EQ(shmchan_queue_info(q, &info), 0);
	for (i = 0; i < CH_LIVE; i++) {
		cons[i] = chaos_consumer(n, c, info.max_msg);
		prod_id[i] = next_id++;
		prod[i] = chaos_producer(n, c, prod_id[i], info.max_msg);
	}
	for (round = 0; round < 16; round++) {
		uint64_t r = mix64(&seed);

		usleep(10000 + (useconds_t)(r % 50000));
		i = (int)((r >> 16) % CH_LIVE);
		if (r & (1ULL << 40) && next_id < CH_IDS) {
			if (kill(prod[i], SIGKILL) == 0)
				kills_prod++;
			reap(prod[i]);
			prod_id[i] = next_id++;
			prod[i] = chaos_producer(n, c, prod_id[i], info.max_msg);
		} else {
			if (kill(cons[i], SIGKILL) == 0)
				kills_cons++;
			reap(cons[i]);
			cons[i] = chaos_consumer(n, c, info.max_msg);
		}
	}
	for (i = 0; i < CH_LIVE; i++)
		ASSERT_EQ(reap(prod[i]), 0);
	shmchan_queue_close(q);
	for (i = 0; i < CH_LIVE; i++)
		ASSERT_EQ(reap(cons[i]), 0);
	ASSERT_EQ(c->corrupt, 0);
	ASSERT_EQ(c->dup, 0);
	ASSERT_EQ(c->reorder, 0);
	for (i = 0; i < (int)next_id; i++) {
		if (!c->done[i])
			continue;
		for (k = 0; k < CH_PER; k++)
			lost += !c->seen[i][k];
	}
	diag("%llu messages received; %u consumers and %u producers killed; "
	     "%llu messages of finished producers lost; %.1f s",
	     (unsigned long long)c->received, kills_cons, kills_prod,
	     (unsigned long long)lost, secs_since(t0));
	ASSERT_TRUE(lost <= kills_cons);
}

/* ------------------------------------------------------------ peers */

TEST(close_gives_epipe, 60)
{
	const char *n = chan_name("close");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r;
	char buf[8];
	pid_t pid;

	/* no receiver yet: sending is fine (like a queue, not a pipe) */
	ASSERT_EQ(shmchan_queue_send(s, "1", 1, 0), 0);
	r = qopen(n, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_send(s, "2", 1, 0), 0);
	shmchan_queue_close(s);
	/* what was sent is still delivered, then -EPIPE */
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), 1);
	ASSERT_EQ(buf[0], '2');
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EPIPE);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_FOREVER), -EPIPE);
	/* a new sender makes it a live queue again */
	s = qopen(n, SHMCHAN_QUEUE_SEND);
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);

	/* a receiver blocked while the last sender closes wakes with -EPIPE */
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *r2 = qopen(n, SHMCHAN_QUEUE_RECV);
		ssize_t ret = shmchan_queue_recv(r2, buf, sizeof(buf), SHMCHAN_MSEC(20000));

		shmchan_queue_close(r2);
		_exit(ret == -EPIPE ? 0 : 1);
	}
	ASSERT_EQ(await_waiters(shmchan_queue_channel(s), 1), 0);
	shmchan_queue_close(s);
	ASSERT_EQ(reap(pid), 0);

	/* and the other way round */
	s = qopen(n, SHMCHAN_QUEUE_SEND);
	shmchan_queue_close(r);
	ASSERT_EQ(shmchan_queue_send(s, "3", 1, 0), -EPIPE);
	shmchan_queue_close(s);
}

/*
 * White box: the queue header's `seen` word (offset 768) and the senders'
 * map (772, 776). The layout is the library's.
 */
static bool seen_without_sender(const void *base)
{
	const _Atomic uint32_t *w = (const _Atomic uint32_t *)((const char *)base + 768);

	/* `seen` first (acquire), then the map, as the library reads them */
	return (atomic_load_explicit(&w[0], memory_order_acquire) & SHMCHAN_QUEUE_SEND) &&
	       !(atomic_load_explicit(&w[1], memory_order_acquire) |
		 atomic_load_explicit(&w[2], memory_order_acquire));
}

/*
 * A receiver polling while a sender joins never gets -EPIPE: the sender
 * is counted "seen" only once it is in the senders' map, so there is
 * never a moment of "senders seen, none left". The window is a few
 * instructions wide, so the test joins many times: a child opens and
 * closes a sender handle again and again, and between two joins the
 * parent makes the queue one where no sender was seen yet (white box:
 * `seen` cleared), while it polls the header words in a tight loop, and
 * recv() too. At most 30 s of joins (under TCG a join takes from 10 to
 * 100 ms, with the parent spinning); a regression shows within a few dozen.
 */
TEST(join_no_spurious_epipe, 120)
{
	int joins = stress() ? 20000 : 1000;
	uint64_t t0 = now_ns();
	struct shmchan_queue_info info;
	int go[2], back[2], i, k;
	_Atomic uint32_t *seen;
	struct shmchan_queue *r;
	const char *n = chan_name("join");
	char buf[8];
	bool bad;
	void *base;
	pid_t pid;

	r = qcreate(n, 8192, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_map(shmchan_queue_channel(r), PROT_READ | PROT_WRITE, &base), 0);
	seen = (_Atomic uint32_t *)((char *)base + 768);
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(back), 0);
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *s;

		close(go[1]);
		close(back[0]);
		while (read(go[0], buf, 1) == 1) {
			s = qopen(n, SHMCHAN_QUEUE_SEND);
			if (read(go[0], buf, 1) != 1)
				_exit(1);
			shmchan_queue_close(s);
			if (write(back[1], "c", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	for (i = 0; i < joins && secs_since(t0) < 30; i++) {
		ASSERT_EQ(atomic_load(seen) & SHMCHAN_QUEUE_SEND, 0);
		ASSERT_EQ(write(go[1], "o", 1), 1);
		do {
			for (k = 0; k < 1024; k++) {
				bad = seen_without_sender(base);
				if (bad)
					diag("join %d: senders seen, none in the map", i);
				ASSERT_TRUE(!bad);
			}
			ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EAGAIN);
			ASSERT_EQ(shmchan_queue_info(r, &info), 0);
		} while (!(info.senders == 1 && atomic_load(seen) & SHMCHAN_QUEUE_SEND));
		ASSERT_EQ(write(go[1], "c", 1), 1);
		ASSERT_EQ(read(back[0], buf, 1), 1);
		/* the sender left: now -EPIPE is the truth */
		ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), 0), -EPIPE);
		atomic_fetch_and(seen, ~(uint32_t)SHMCHAN_QUEUE_SEND);
	}
	diag("%d joins in %.1f s, never seen without a sender", i, secs_since(t0));
	close(go[1]);
	ASSERT_EQ(reap(pid), 0);
	shmchan_unmap(base, 8192);
	shmchan_queue_close(r);
}

/* A child tells the parent it is ready (its queue open) through a pipe. */
static int ready_fds[2];

static void ready_init(void)
{
	ASSERT_EQ(pipe(ready_fds), 0);
}

static void ready_say(void)
{
	ASSERT_EQ(write(ready_fds[1], "r", 1), 1);
}

static void ready_wait(void)
{
	char c;

	ASSERT_EQ(read(ready_fds[0], &c, 1), 1);
}

/*
 * White box: the consumers' head position (offset 264 of the channel),
 * to see that a receiver is under way. The layout is the library's.
 */
static uint64_t cons_head(struct shmchan_queue *q)
{
	static void *base;

	if (!base)
		ASSERT_EQ(shmchan_map(shmchan_queue_channel(q), PROT_READ, &base), 0);
	return atomic_load((_Atomic uint64_t *)((char *)base + 264));
}

/* Wait until @pid is blocked in the module (or 5 s). */
static void await_blocked(struct shmchan *ch, uint64_t n)
{
	ASSERT_EQ(await_waiters(ch, n), 0);
}

TEST(kill_receiver_while_sender_blocked, 60)
{
	const char *n = chan_name("killr");
	struct shmchan_queue *s = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	static uint8_t buf[3000];
	uint64_t t0;
	pid_t pid;

	ready_init();
	pid = fork();
	if (pid == 0) {
		qopen(n, SHMCHAN_QUEUE_RECV);
		ready_say();
		pause();
	}
	ready_wait();
	while (shmchan_queue_send(s, buf, sizeof(buf), 0) == 0)
		;
	/* the receiver is there, the ring full: a blocking send sleeps */
	t0 = 0;
	{
		pid_t killer = fork();

		if (killer == 0) {
			struct shmchan_queue *s2 = qopen(n, SHMCHAN_QUEUE_SEND);

			await_blocked(shmchan_queue_channel(s2), 1);
			kill(pid, SIGKILL);
			_exit(0);
		}
		t0 = now_ns();
		ASSERT_EQ(shmchan_queue_send(s, buf, sizeof(buf), SHMCHAN_MSEC(20000)), -EPIPE);
		ASSERT_EQ(reap(killer), 0);
	}
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
	diag("-EPIPE %.3f s after the block began", secs_since(t0));
	shmchan_queue_close(s);
}

TEST(kill_sender_while_receiver_blocked, 60)
{
	const char *n = chan_name("kills");
	struct shmchan_queue *r = qcreate(n, 8192, SHMCHAN_QUEUE_RECV);
	uint64_t t0;
	char buf[8];
	pid_t pid, killer;

	ready_init();
	pid = fork();
	if (pid == 0) {
		qopen(n, SHMCHAN_QUEUE_SEND);
		ready_say();
		pause();
	}
	ready_wait();
	killer = fork();
	if (killer == 0) {
		struct shmchan_queue *q2 = qopen(n, SHMCHAN_QUEUE_RECV);

		await_blocked(shmchan_queue_channel(q2), 1);
		kill(pid, SIGKILL);
		_exit(0);
	}
	t0 = now_ns();
	ASSERT_EQ(shmchan_queue_recv(r, buf, sizeof(buf), SHMCHAN_MSEC(20000)), -EPIPE);
	diag("-EPIPE %.3f s after the block began", secs_since(t0));
	ASSERT_EQ(reap(killer), 0);
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
	shmchan_queue_close(r);
}

/*
 * A sender killed half-way through a message in rounds, for certain: it
 * fills the ring with the first rounds and sleeps; it is killed; only then
 * does the receiver start. Another sender, waiting behind it, sends a
 * small message. The receiver gets that one whole, never the partial one.
 */
TEST(kill_sender_mid_message, 60)
{
	const char *n = chan_name("midsend");
	struct shmchan_queue *r = qcreate(n, 16384, SHMCHAN_QUEUE_RECV);
	size_t big = 4 * MiB;
	uint8_t *buf = malloc(big);
	pid_t s1, s2;
	int fds[2];
	char c;

	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(pipe(fds), 0);
	s1 = fork();
	if (s1 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		fill(buf, big, 5);
		ASSERT_EQ(write(fds[1], "1", 1), 1);
		shmchan_queue_send(s, buf, big, SHMCHAN_FOREVER);
		_exit(1);
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	/* s1 has the ring full and sleeps for room */
	await_blocked(shmchan_queue_channel(r), 1);
	s2 = fork();
	if (s2 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		ASSERT_EQ(write(fds[1], "2", 1), 1);
		_exit(shmchan_queue_send(s, "whole", 5, SHMCHAN_MSEC(20000)) ? 1 : 0);
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	await_blocked(shmchan_queue_channel(r), 2);	/* s2 waits for s1 */
	kill(s1, SIGKILL);
	ASSERT_EQ(reap(s1), 128 + SIGKILL);
	ASSERT_EQ(shmchan_queue_recv(r, buf, big, SHMCHAN_MSEC(20000)), 5);
	ASSERT_EQ(memcmp(buf, "whole", 5), 0);
	ASSERT_EQ(reap(s2), 0);
	ASSERT_EQ(shmchan_queue_recv(r, buf, big, SHMCHAN_MSEC(20000)), -EPIPE);
	shmchan_queue_close(r);
	free(buf);
}

/*
 * The same while the receiver is busy receiving: a 1 GiB (scaled) message is
 * under way when its sender is killed. The receiver gets -EPIPE promptly.
 */
TEST(kill_sender_while_receiving, 60)
{
	const char *n = chan_name("midrecv");
	const size_t total = scaled(GiB);
	struct shmchan_queue *r = qcreate(n, 64 * KiB, SHMCHAN_QUEUE_RECV);
	uint8_t *buf = mmap(NULL, total, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	_Atomic uint64_t *killed_at = shared_mem(4096);
	pid_t s1, killer;

	ASSERT_TRUE(buf != MAP_FAILED);
	cons_head(r);	/* map before forking */
	s1 = fork();
	if (s1 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);
		void *p;
		const uint8_t *msg = alias_buffer(total, 257, 3, &p);

		shmchan_queue_send(s, msg, total, SHMCHAN_FOREVER);
		_exit(1);
	}
	killer = fork();
	if (killer == 0) {
		/* the receiver has taken 256 KiB of it: kill the sender */
		while (cons_head(r) < 256 * KiB)
			usleep(1000);
		*killed_at = now_ns();
		kill(s1, SIGKILL);
		_exit(0);
	}
	ASSERT_EQ(shmchan_queue_recv(r, buf, total, SHMCHAN_MSEC(20000)), -EPIPE);
	diag("-EPIPE %.3f s after the kill", secs_since(*killed_at));
	ASSERT_EQ(reap(killer), 0);
	ASSERT_EQ(reap(s1), 128 + SIGKILL);
	shmchan_queue_close(r);
}

/*
 * A receiver killed half-way through a message in rounds: the rest of it
 * is dropped, the next receiver gets the following message whole.
 */
TEST(kill_receiver_mid_message, 60)
{
	const char *n = chan_name("midrcv");
	struct shmchan_queue *s = qcreate(n, 16384, SHMCHAN_QUEUE_SEND);
	struct shmchan_queue *r2 = qopen(n, SHMCHAN_QUEUE_RECV);
	size_t big = 4 * MiB;
	uint8_t *buf = malloc(big);
	char out[16];
	pid_t r1, sender;
	int fds[2];
	char c;

	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(pipe(fds), 0);
	cons_head(s);	/* map before forking */
	r1 = fork();
	if (r1 == 0) {
		struct shmchan_queue *r = qopen(n, SHMCHAN_QUEUE_RECV);

		ASSERT_EQ(write(fds[1], "r", 1), 1);
		shmchan_queue_recv(r, buf, big, SHMCHAN_FOREVER);
		_exit(1);
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	sender = fork();
	if (sender == 0) {
		struct shmchan_queue *s2 = qopen(n, SHMCHAN_QUEUE_SEND);

		fill(buf, big, 9);
		if (shmchan_queue_send(s2, buf, big, SHMCHAN_MSEC(30000)))
			_exit(1);
		_exit(shmchan_queue_send(s2, "after", 5, SHMCHAN_MSEC(30000)) ? 2 : 0);
	}
	/* r1 is under way (past a few rounds) and not done: kill it */
	while (cons_head(s) < 32 * KiB)
		usleep(1000);
	kill(r1, SIGSTOP);
	ASSERT_EQ(waitpid(r1, NULL, WNOHANG), 0);
	kill(r1, SIGKILL);
	ASSERT_EQ(reap(r1), 128 + SIGKILL);
	ASSERT_EQ(shmchan_queue_recv(r2, out, sizeof(out), SHMCHAN_MSEC(30000)), 5);
	ASSERT_EQ(memcmp(out, "after", 5), 0);
	ASSERT_EQ(reap(sender), 0);
	shmchan_queue_close(r2);
	shmchan_queue_close(s);
	free(buf);
}

/*
 * A message from 16 KiB is copied out by a receiver that spins while its
 * sender still copies it in (the sender tells its progress in the
 * record's header). Messages so received are whole; and one whose sender
 * dies part-way is never delivered, though the receiver had copied some
 * of it out: it gets the next message, whole (4 KiB: neither copied under
 * the lock nor told in parts, so that what was copied of the dead one
 * must not be taken for its beginning).
 *
 * The sender dies at a known point: the second half of its message is
 * not readable, so the copy faults (SIGSEGV) after half of it is in.
 */
TEST(copy_out_while_written, 120)
{
	const char *n = chan_name("overlap");
	const size_t big = MiB, half = big / 2;
	struct shmchan_queue *r = qcreate(n, 4 * big, SHMCHAN_QUEUE_RECV);
	struct shmchan_queue *keep;
	uint8_t *buf = malloc(big), *src;
	int k, rounds = (int)scaled(40), fds[2];
	uint64_t seed;
	size_t len;
	pid_t s1, s2;
	char c;

	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(shmchan_queue_set_spin(r, 10000000), 0);
	/* whole messages, of sizes around the parts the sender tells */
	s1 = fork();
	if (s1 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		for (k = 0; k < rounds; k++) {
			seed = 1000 + (uint64_t)k;
			len = 16 * KiB + (size_t)(mix64(&seed) % (big - 16 * KiB));
			fill(buf, len, (uint64_t)k);
			ASSERT_EQ(shmchan_queue_send(s, buf, len, SHMCHAN_FOREVER), 0);
		}
		_exit(0);
	}
	for (k = 0; k < rounds; k++) {
		uint8_t *want = malloc(big);

		seed = 1000 + (uint64_t)k;
		len = 16 * KiB + (size_t)(mix64(&seed) % (big - 16 * KiB));
		ASSERT_EQ(shmchan_queue_recv(r, buf, big, SHMCHAN_MSEC(20000)),
			  (ssize_t)len);
		fill(want, len, (uint64_t)k);
		ASSERT_EQ(memcmp(buf, want, len), 0);
		free(want);
	}
	ASSERT_EQ(reap(s1), 0);

	/*
	 * A sender dies half-way: the next message comes, whole. The
	 * parent holds a sender handle meanwhile: between the first
	 * sender's exit and the second's open, every sender would be gone,
	 * and a receive would rightly end with -EPIPE.
	 */
	keep = qopen(n, SHMCHAN_QUEUE_SEND);
	ASSERT_EQ(pipe(fds), 0);
	s1 = fork();
	if (s1 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		close(fds[0]);
		src = mmap(NULL, big, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_TRUE(src != MAP_FAILED);
		fill(src, half, 7);
		ASSERT_EQ(mprotect(src + half, big - half, PROT_NONE), 0);
		shmchan_queue_send(s, src, big, SHMCHAN_FOREVER);
		_exit(1);	/* not reached: the copy faults */
	}
	s2 = fork();
	if (s2 == 0) {
		struct shmchan_queue *s = qopen(n, SHMCHAN_QUEUE_SEND);

		close(fds[1]);
		/* end of file: s1 is dead */
		ASSERT_EQ(read(fds[0], &c, 1), 0);
		fill(buf, 4 * KiB, 9);
		_exit(shmchan_queue_send(s, buf, 4 * KiB, SHMCHAN_FOREVER) ? 1 : 0);
	}
	close(fds[0]);
	close(fds[1]);
	memset(buf, 0, big);
	ASSERT_EQ(shmchan_queue_recv(r, buf, big, SHMCHAN_MSEC(20000)),
		  (ssize_t)(4 * KiB));
	src = malloc(4 * KiB);
	ASSERT_TRUE(src != NULL);
	fill(src, 4 * KiB, 9);
	ASSERT_EQ(memcmp(buf, src, 4 * KiB), 0);
	free(src);
	ASSERT_EQ(reap(s1), 128 + SIGSEGV);
	ASSERT_EQ(reap(s2), 0);
	shmchan_queue_close(keep);
	shmchan_queue_close(r);
	free(buf);
}

/* Places of dead peers are reclaimed; -EUSERS when all are live. */
TEST(peer_places, 60)
{
	const char *n = chan_name("places");
	struct shmchan_queue *q[64];
	struct shmchan_queue_info info;
	struct shmchan_queue *x;
	int i, k;

	q[0] = qcreate(n, 8192, SHMCHAN_QUEUE_SEND);
	ASSERT_EQ(shmchan_queue_info(q[0], &info), 0);
	ASSERT_EQ(info.max_peers, 48);
	for (k = 1; k < (int)info.max_peers; k++)
		q[k] = qopen(n, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_RECV, &x), -EUSERS);
	/* children take places and die without closing */
	for (i = 1; i <= 8; i++)
		shmchan_queue_close(q[k - i]);
	for (i = 0; i < 8; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			qopen(n, SHMCHAN_QUEUE_RECV);
			_exit(0);
		}
		ASSERT_EQ(reap(pid), 0);
	}
	/* all 48 places hold live or dead peers; opening reaps the dead */
	for (i = 1; i <= 8; i++)
		q[k - i] = qopen(n, SHMCHAN_QUEUE_RECV);
	ASSERT_EQ(shmchan_queue_info(q[0], &info), 0);
	ASSERT_EQ(info.receivers, 47);
	for (i = 0; i < k; i++)
		shmchan_queue_close(q[i]);
}

/* ------------------------------------------------------------ layout */

TEST(layout_mismatch, 30)
{
	const char *n = chan_name("layout");
	struct shmchan_queue *q;
	struct shmchan *ch;
	uint32_t *w;
	void *base;

	/* a plain channel is not a queue */
	ASSERT_EQ(shmchan_create(n, 65536, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_RECV, &q), -EPROTO);
	/* a queue of another layout version */
	q = qcreate(chan_name("layout2"), 65536, SHMCHAN_QUEUE_SEND);
	ASSERT_EQ(shmchan_map(shmchan_queue_channel(q), PROT_READ | PROT_WRITE, &base), 0);
	w = base;
	ASSERT_EQ(w[1], SHMCHAN_QUEUE_LAYOUT);
	w[1] = 99;
	ASSERT_EQ(shmchan_queue_open(name_buf[1], SHMCHAN_QUEUE_RECV, &q), -EPROTO);
	w[1] = SHMCHAN_QUEUE_LAYOUT;
	/* capacities that do not match the channel */
	w[8] ^= 64;
	ASSERT_EQ(shmchan_queue_open(name_buf[1], SHMCHAN_QUEUE_RECV, &q), -EPROTO);
	w[8] ^= 64;
	ASSERT_EQ(shmchan_queue_open(name_buf[1], SHMCHAN_QUEUE_RECV, &q), 0);
	shmchan_queue_close(q);
	/* too short a channel to hold one */
	ASSERT_EQ(shmchan_create(chan_name("short"), 4096, 0600, 0, &ch), 0);
	ASSERT_EQ(shmchan_queue_open(name_buf[2], SHMCHAN_QUEUE_RECV, &q), -EPROTO);
}

/* ------------------------------------------------------------ latency */

static double ping_pong(const char *tag, uint32_t spin, int rounds)
{
	char a[32], b[32];
	struct shmchan_queue *to, *from;
	char msg[64];
	uint64_t t0;
	pid_t pid;
	int i;

	if (rounds < 2)
		rounds = 2;	/* one to warm up, one timed */
	snprintf(a, sizeof(a), "%s-a", tag);
	snprintf(b, sizeof(b), "%s-b", tag);
	to = qcreate(chan_name(a), 65536, SHMCHAN_QUEUE_SEND);
	from = qcreate(chan_name(b), 65536, SHMCHAN_QUEUE_RECV);
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *in = qopen(name_buf[name_n - 2], SHMCHAN_QUEUE_RECV);
		struct shmchan_queue *out = qopen(name_buf[name_n - 1], SHMCHAN_QUEUE_SEND);

		shmchan_queue_set_spin(in, spin);
		for (i = 0; i < rounds; i++) {
			if (shmchan_queue_recv(in, msg, sizeof(msg), SHMCHAN_MSEC(10000)) != 64 ||
			    shmchan_queue_send(out, msg, 64, SHMCHAN_MSEC(10000)))
				_exit(1);
		}
		_exit(0);
	}
	shmchan_queue_set_spin(from, spin);
	memset(msg, 1, sizeof(msg));
	/* warm up, with the peer registered */
	ASSERT_EQ(shmchan_queue_send(to, msg, 64, SHMCHAN_MSEC(10000)), 0);
	ASSERT_EQ(shmchan_queue_recv(from, msg, sizeof(msg), SHMCHAN_MSEC(10000)), 64);
	t0 = now_ns();
	for (i = 1; i < rounds; i++) {
		ASSERT_EQ(shmchan_queue_send(to, msg, 64, SHMCHAN_MSEC(10000)), 0);
		ASSERT_EQ(shmchan_queue_recv(from, msg, sizeof(msg), SHMCHAN_MSEC(10000)), 64);
	}
	ASSERT_EQ(reap(pid), 0);
	shmchan_queue_close(to);
	shmchan_queue_close(from);
	return (double)(now_ns() - t0) / (rounds - 1) / 1000.0;
}

TEST(round_trip, 60)
{
	double sleep_us = ping_pong("rt0", 0, (int)scaled(200));
	double spin_us = ping_pong("rt1", 200000, (int)scaled(1000));

	diag("64-byte round trip: %.1f us blocking, %.1f us with 200 us spin",
	     sleep_us, spin_us);
}

TAP_MAIN
