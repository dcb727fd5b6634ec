// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The event-loop example (lib/examples/evloop, libevent) as a test, in the
 * VM: three senders send 10^5 messages each to three queues; the example
 * serves the three in one loop with a timer and SIGINT, and checks that
 * each sender's messages arrive intact and in order. Then the loop idles,
 * its queues armed, for a second: its own getrusage() (printed by its
 * timer) must grow by less than 10 ms. SIGINT ends it with status 0 if
 * every message was right. The same loop also takes the units of a
 * semaphore (evloop -s) that a fourth process posts, one at a time with
 * gaps, each one possibly racing the loop's arm: all must be taken. Every
 * wait is bounded.
 */
#include <libgen.h>
#include <poll.h>

#include "util.h"
#include "../examples/evloop-msg.h"

#define NQ		3
static char linebuf[4096];
static size_t linelen;

/* The next line from @fd into @out, waiting at most @ms: 1, or 0. */
static int read_line(int fd, char *out, size_t cap, int ms)
{
	uint64_t until = now_ns() + (uint64_t)ms * 1000000;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	size_t len;

	for (;;) {
		nl = memchr(linebuf, '\n', linelen);
		if (nl) {
			len = (size_t)(nl - linebuf);
			if (len >= cap)
				len = cap - 1;
			memcpy(out, linebuf, len);
			out[len] = 0;
			linelen -= (size_t)(nl + 1 - linebuf);
			memmove(linebuf, nl + 1, linelen);
			return 1;
		}
		if (now_ns() >= until || linelen == sizeof(linebuf))
			return 0;
		if (poll(&p, 1, (int)((until - now_ns()) / 1000000) + 1) <= 0)
			continue;
		n = read(fd, linebuf + linelen, sizeof(linebuf) - linelen);
		if (n <= 0)
			return 0;
		linelen += (size_t)n;
	}
}

static void sender(const char *name, uint32_t index, uint64_t count)
{
	struct shmchan_queue *q = qopen(name, SHMCHAN_QUEUE_SEND);
	struct msg m;
	uint64_t seq;
	uint32_t i;
	int ret;

	for (seq = 0; seq < count; seq++) {
		m.sender = index;
		m.seq = seq;
		m.len = (uint32_t)((seq * 7) % (PAYLOAD_MAX + 1));
		for (i = 0; i < m.len; i++)
			m.payload[i] = payload_byte(seq, i);
		ret = shmchan_queue_send(q, &m, offsetof(struct msg, payload) + m.len,
					 SHMCHAN_MSEC(30000));
		if (ret) {
			_exit(2);
		}
	}
	shmchan_queue_close(q);
	_exit(0);
}

/* Post @count units to the semaphore at offset 0 of @name, with gaps. */
static void poster(const char *name, uint64_t count)
{
	struct shmchan_sync *s;
	struct shmchan *ch;
	uint64_t i, seed = 9;
	uint32_t gap;
	void *base;

	ASSERT_EQ(shmchan_open(name, 0, &ch), 0);
	ASSERT_EQ(shmchan_map(ch, PROT_READ | PROT_WRITE, &base), 0);
	ASSERT_EQ(shmchan_sync_new(ch, base, &s), 0);
	for (i = 0; i < count; i++) {
		if (shmchan_sem_post(s, base))
			_exit(2);
		for (gap = (uint32_t)(mix64(&seed) % 50000); gap; gap--)
			__asm__ volatile("" ::: "memory");
	}
	_exit(0);
}

TEST(three_senders_one_loop, 400)
{
	struct shmchan_queue *keep[NQ];
	char exe[4096], prog[4200], line[512], want[128], tag[16];
	const char *names[NQ];
	uint64_t count = scaled(100000), ms0 = 0, cpu0 = 0, ms, cpu;
	uint64_t units = scaled(10000);
	const char *sem_name = chan_name("evsem");
	struct shmchan *sem_ch;
	pid_t loop, senders[NQ], post;
	void *sem_base;
	bool seen = false;
	int out[2], i;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_TRUE(n > 0);
	exe[n] = 0;
	snprintf(prog, sizeof(prog), "%s/../examples/evloop", dirname(exe));
	ASSERT_EQ(access(prog, X_OK), 0);
	for (i = 0; i < NQ; i++) {
		snprintf(tag, sizeof(tag), "evloop%d", i);
		names[i] = chan_name(tag);
		/* ours, so that no queue is ever without a sender */
		keep[i] = qcreate(names[i], 256 * 1024, SHMCHAN_QUEUE_SEND);
	}
	ASSERT_EQ(shmchan_create(sem_name, 4096, 0600, SHMCHAN_CREATE_EXCL,
				 &sem_ch), 0);
	ASSERT_EQ(shmchan_map(sem_ch, PROT_READ | PROT_WRITE, &sem_base), 0);
	ASSERT_EQ(shmchan_sem_init(sem_base, 0), 0);
	ASSERT_EQ(pipe(out), 0);
	loop = fork();
	ASSERT_TRUE(loop >= 0);
	if (!loop) {
		dup2(out[1], 1);
		execl(prog, prog, "-s", sem_name, names[0], names[1], names[2],
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	ASSERT_EQ(read_line(out[0], line, sizeof(line), 30000), 1);
	ASSERT_EQ(strcmp(line, "ready"), 0);

	for (i = 0; i < NQ; i++) {
		senders[i] = fork();
		ASSERT_TRUE(senders[i] >= 0);
		if (!senders[i])
			sender(names[i], (uint32_t)i, count);
	}
	post = fork();
	ASSERT_TRUE(post >= 0);
	if (!post)
		poster(sem_name, units);
	for (i = 0; i < NQ; i++)
		ASSERT_EQ(reap(senders[i]), 0);
	ASSERT_EQ(reap(post), 0);

	/* every message and unit received, then one idle second */
	snprintf(want, sizeof(want), "received=%" PRIu64 ",%" PRIu64 ",%" PRIu64
		 " sem=%" PRIu64, count, count, count, units);
	for (;;) {
		ASSERT_EQ(read_line(out[0], line, sizeof(line), 60000), 1);
		if (sscanf(line, "tick ms=%" SCNu64 " cpu_us=%" SCNu64, &ms,
			   &cpu) != 2)
			continue;
		if (!seen && strstr(line, want)) {
			/* the senders are gone too (reaped): the loop has
			 * their leaving and deaths to take in; from the next
			 * tick on it is idle */
			seen = true;
			diag("all %" PRIu64 " x %d received and %" PRIu64
			     " units taken, %" PRIu64 " us of CPU in all",
			     count, NQ, units, cpu);
		} else if (seen && !ms0) {
			ms0 = ms;
			cpu0 = cpu;
		} else if (ms0 && ms >= ms0 + 1000) {
			diag("idle %" PRIu64 " ms: %" PRIu64 " us of CPU",
			     ms - ms0, cpu - cpu0);
			/* the limit is for one second; scale to the span */
			ASSERT_TRUE((cpu - cpu0) * 1000 < 10000 * (ms - ms0));
			break;
		}
	}
	ASSERT_EQ(kill(loop, SIGINT), 0);
	do
		ASSERT_EQ(read_line(out[0], line, sizeof(line), 30000), 1);
	while (strncmp(line, "tick", 4) == 0);
	ASSERT_EQ(strcmp(line, "done"), 0);
	ASSERT_EQ(reap(loop), 0);
	for (i = 0; i < NQ; i++)
		shmchan_queue_close(keep[i]);
	ASSERT_EQ(shmchan_sem_value(sem_base), 0);
	shmchan_unmap(sem_base, 4096);
	shmchan_close(sem_ch);
}

TAP_MAIN
