// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * qbench: the queue against a pipe and a busy-poll floor, in one run so
 * that the numbers compare (run it in the VM: lib/tests/qbench [MiB]).
 *
 *   round trip of 64 bytes: busy-poll on shared memory (the floor), pipe,
 *     queue blocking, queue with adaptive spin
 *   throughput of 1 MiB messages: pipe, queue send/recv, queue zero copy
 *     (reserve/commit, peek/release, payload untouched)
 */
#include <sched.h>

#include "util.h"

#define MiB (1024UL * 1024)

static int rounds = 2000;

static double rt_floor(void)
{
	_Atomic uint32_t *w = shared_mem(4096);
	char *msg = (char *)w + 64, buf[64];
	uint64_t t0;
	pid_t pid;
	int i;

	pid = fork();
	if (pid == 0) {
		for (i = 0; i < rounds; i++) {
			while (atomic_load_explicit(w, memory_order_acquire) != 2 * (uint32_t)i + 1)
				;
			memcpy(buf, msg, 64);
			memcpy(msg, buf, 64);
			atomic_store_explicit(w, 2 * (uint32_t)i + 2, memory_order_release);
		}
		_exit(0);
	}
	t0 = now_ns();
	for (i = 0; i < rounds; i++) {
		memcpy(msg, buf, 64);
		atomic_store_explicit(w, 2 * (uint32_t)i + 1, memory_order_release);
		while (atomic_load_explicit(w, memory_order_acquire) != 2 * (uint32_t)i + 2)
			;
		memcpy(buf, msg, 64);
	}
	reap(pid);
	return (double)(now_ns() - t0) / rounds / 1000.0;
}

static double rt_pipe(void)
{
	int a[2], b[2], i;
	char buf[64] = { 0 };
	uint64_t t0;
	pid_t pid;

	ASSERT_EQ(pipe(a), 0);
	ASSERT_EQ(pipe(b), 0);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < rounds; i++)
			if (read(a[0], buf, 64) != 64 || write(b[1], buf, 64) != 64)
				_exit(1);
		_exit(0);
	}
	t0 = now_ns();
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(write(a[1], buf, 64), 64);
		ASSERT_EQ(read(b[0], buf, 64), 64);
	}
	reap(pid);
	return (double)(now_ns() - t0) / rounds / 1000.0;
}

static double rt_queue(uint32_t spin)
{
	const char *na = chan_name(spin ? "rta1" : "rta0");
	const char *nb = chan_name(spin ? "rtb1" : "rtb0");
	struct shmchan_queue *to, *from;
	char msg[64] = { 0 };
	uint64_t t0;
	pid_t pid;
	int i;

	ASSERT_EQ(shmchan_queue_create(na, 65536, 0600, SHMCHAN_QUEUE_SEND, &to), 0);
	ASSERT_EQ(shmchan_queue_create(nb, 65536, 0600, SHMCHAN_QUEUE_RECV, &from), 0);
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *in, *out;

		ASSERT_EQ(shmchan_queue_open(na, SHMCHAN_QUEUE_RECV, &in), 0);
		ASSERT_EQ(shmchan_queue_open(nb, SHMCHAN_QUEUE_SEND, &out), 0);
		shmchan_queue_set_spin(in, spin);
		for (i = 0; i <= rounds; i++)
			if (shmchan_queue_recv(in, msg, 64, SHMCHAN_FOREVER) != 64 ||
			    shmchan_queue_send(out, msg, 64, SHMCHAN_FOREVER))
				_exit(1);
		_exit(0);
	}
	shmchan_queue_set_spin(from, spin);
	ASSERT_EQ(shmchan_queue_send(to, msg, 64, SHMCHAN_FOREVER), 0);
	ASSERT_EQ(shmchan_queue_recv(from, msg, 64, SHMCHAN_FOREVER), 64);
	t0 = now_ns();
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(shmchan_queue_send(to, msg, 64, SHMCHAN_FOREVER), 0);
		ASSERT_EQ(shmchan_queue_recv(from, msg, 64, SHMCHAN_FOREVER), 64);
	}
	reap(pid);
	shmchan_queue_close(to);
	shmchan_queue_close(from);
	return (double)(now_ns() - t0) / rounds / 1000.0;
}

static double tp_pipe(size_t total, int pipe_size)
{
	uint8_t *buf = malloc(MiB);
	size_t done, got;
	uint64_t t0;
	ssize_t n;
	int p[2];
	pid_t pid;

	ASSERT_EQ(pipe(p), 0);
	if (pipe_size)
		fcntl(p[1], F_SETPIPE_SZ, pipe_size);
	memset(buf, 1, MiB);
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		for (done = 0; done < total; done += MiB)
			for (got = 0; got < MiB; got += (size_t)n)
				if ((n = write(p[1], buf + got, MiB - got)) <= 0)
					_exit(1);
		_exit(0);
	}
	close(p[1]);
	for (done = 0; done < total; done += MiB)
		for (got = 0; got < MiB; got += (size_t)n)
			ASSERT_TRUE((n = read(p[0], buf + got, MiB - got)) > 0);
	reap(pid);
	close(p[0]);
	free(buf);
	return (double)total / MiB / ((double)(now_ns() - t0) / 1e9);
}

static double tp_queue(size_t total, uint64_t chan, bool zc, uint32_t spin)
{
	const char *n = chan_name(zc ? "tpz" : "tpc");
	struct shmchan_queue *r;
	uint8_t *buf = malloc(MiB);
	size_t done;
	uint64_t t0;
	pid_t pid;

	memset(buf, 1, MiB);
	ASSERT_EQ(shmchan_queue_create(n, chan, 0600, SHMCHAN_QUEUE_RECV, &r), 0);
	shmchan_queue_set_spin(r, spin);
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		struct shmchan_queue *s;
		void *p;

		ASSERT_EQ(shmchan_queue_open(n, SHMCHAN_QUEUE_SEND, &s), 0);
		shmchan_queue_set_spin(s, spin);
		for (done = 0; done < total; done += MiB) {
			if (!zc) {
				ASSERT_EQ(shmchan_queue_send(s, buf, MiB, SHMCHAN_FOREVER), 0);
				continue;
			}
			ASSERT_EQ(shmchan_queue_reserve(s, MiB, &p, SHMCHAN_FOREVER), 0);
			ASSERT_EQ(shmchan_queue_commit(s, MiB), 0);
		}
		_exit(0);
	}
	for (done = 0; done < total; done += MiB) {
		const void *p;

		if (!zc) {
			ASSERT_EQ(shmchan_queue_recv(r, buf, MiB, SHMCHAN_FOREVER), (long long)MiB);
			continue;
		}
		ASSERT_EQ(shmchan_queue_peek(r, &p, SHMCHAN_FOREVER), (long long)MiB);
		ASSERT_EQ(shmchan_queue_release(r), 0);
	}
	reap(pid);
	shmchan_queue_close(r);
	free(buf);
	return (double)total / MiB / ((double)(now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	size_t total = (argc > 1 ? (size_t)atoi(argv[1]) : 64) * MiB;
	double f, p, q0, q1;

	if (argc > 2)
		rounds = atoi(argv[2]);
	f = rt_floor();
	p = rt_pipe();
	q0 = rt_queue(0);
	q1 = rt_queue(100000);
	printf("round trip, 64 B (us): busy-poll %.2f, pipe %.2f, queue %.2f, "
	       "queue+spin %.2f (%.1fx floor, %.1fx faster than pipe)\n",
	       f, p, q0, q1, q1 / f, p / q1);
	p = tp_pipe(total, 0);
	printf("1 MiB messages through a 64 KiB pipe (MiB/s): %.0f\n", p);
	q0 = tp_queue(total, 64 * 1024, false, 0);
	printf("1 MiB messages through 64 KiB (MiB/s): queue %.0f (%.2fx)\n",
	       q0, q0 / p);
	q0 = tp_queue(total, 64 * 1024, false, 100000);
	printf("1 MiB messages through 64 KiB with spin (MiB/s): queue %.0f (%.2fx)\n",
	       q0, q0 / p);
	p = tp_pipe(total, 1024 * 1024);
	printf("1 MiB messages through a 1 MiB pipe (MiB/s): %.0f\n", p);
	q0 = tp_queue(total, 4 * MiB + 8192, false, 0);
	q1 = tp_queue(total, 4 * MiB + 8192, true, 0);
	printf("1 MiB messages (MiB/s): pipe %.0f, queue %.0f (%.2fx), "
	       "zero copy %.0f (%.2fx)\n", p, q0, q0 / p, q1, q1 / p);
	q0 = tp_queue(total, 4 * MiB + 8192, false, 100000);
	printf("1 MiB messages with spin (MiB/s): queue %.0f (%.2fx)\n", q0, q0 / p);
	return 0;
}
