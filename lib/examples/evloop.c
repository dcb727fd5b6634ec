// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * evloop: shmchan queues in an event loop (libevent).
 *
 *   evloop [-s CHANNEL] QUEUE...
 *
 * Receives from every named queue (opened as a receiver) in one loop, with
 * a timer (a status line every second) and SIGINT (print the totals, exit)
 * served by the same loop: no thread waits in the module. With -s, the
 * loop also takes the units of a semaphore (struct shmchan_sem at offset
 * 0 of CHANNEL), watched with shmchan_sem_watch(): the context's handle
 * descriptor polls readable once a post may have given it one. Each queue's
 * descriptor comes from shmchan_queue_pollfd(); when the loop reports it
 * readable, the callback receives with timeout 0 until -EAGAIN (at most a
 * batch, for fairness: then it makes the loop come back to it after the
 * others), and that -EAGAIN is what arms the descriptor again.
 *
 * Messages are checked as lib/tests/evloop sends them (evloop-msg.h): the
 * sender's number is the queue's, sequence numbers follow each other, and
 * the payload is what the sequence number says it is. The exit status is
 * 1 if one was not.
 *
 * Why libevent: its core library (libevent-core, Debian's libevent-dev)
 * is exactly what this needs, descriptors, timers and signals over epoll,
 * level-triggered by default and without threads, in a small and long
 * stable C API. libuv would serve too (uv_poll_t, uv_timer_t,
 * uv_signal_t), but it is built around its own handles and a thread pool
 * this program has no use for. The queue's side is the same with either:
 * a descriptor to watch for reading, and calls with timeout 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>
#include <shmchan.h>

#include "evloop-msg.h"

#define MAX_QUEUES	8
#define BATCH		64
struct source {
	struct shmchan_queue *q;
	struct event *ev;
	struct event_base *base;
	const char *name;
	uint32_t index;
	uint64_t next;		/* the sequence number expected next */
	bool done;
};

static struct source sources[MAX_QUEUES];
static int nsources;
static int failed;

/* -s: the semaphore, and how many units the loop took */
static struct {
	struct shmchan *ch;
	void *base;
	struct shmchan_sync *s;
	struct shmchan_sem *sem;
	struct event *ev;
	uint64_t taken;
} sem;

static bool payload_ok(const struct msg *m)
{
	uint32_t i;

	for (i = 0; i < m->len; i++)
		if (m->payload[i] != payload_byte(m->seq, i))
			return false;
	return true;
}

static void on_queue(evutil_socket_t fd, short what, void *arg)
{
	struct source *s = arg;
	struct msg m;
	ssize_t got;
	int n;

	(void)fd;
	(void)what;
	for (n = 0; n < BATCH; n++) {
		got = shmchan_queue_recv(s->q, &m, sizeof(m), 0);
		if (got == -EAGAIN)
			return;		/* armed: the loop calls us again */
		if (got < 0) {
			/* -EPIPE: every sender left; -EIDRM: revoked */
			if (got != -EPIPE)
				fprintf(stderr, "evloop: %s: %s\n", s->name,
					strerror((int)-got));
			event_del(s->ev);
			s->done = true;
			return;
		}
		if ((size_t)got < offsetof(struct msg, payload) ||
		    (size_t)got != offsetof(struct msg, payload) + m.len ||
		    m.sender != s->index || m.seq != s->next || !payload_ok(&m)) {
			fprintf(stderr, "evloop: %s: message %" PRIu64
				" bad (sender %u, seq %" PRIu64 ", %zd bytes)\n",
				s->name, s->next, m.sender, m.seq, got);
			failed = 1;
			event_base_loopbreak(s->base);
			return;
		}
		s->next = m.seq + 1;
	}
	/*
	 * A batch done, more may wait. The descriptor is readable only if
	 * a watch fired (not on the first drain, nor after a peer's news
	 * that was taken in), so do not count on it: ask the loop to come
	 * back once it has served the others.
	 */
	event_active(s->ev, EV_READ, 0);
}

/*
 * The semaphore's descriptor is readable (or this is the first drain):
 * take with timeout 0 until -EAGAIN, then watch. 1 from the watch: a unit
 * came meanwhile, come back (through the loop, to be fair to the others).
 */
static void on_sem(evutil_socket_t fd, short what, void *arg)
{
	int n, ret;

	(void)fd;
	(void)what;
	(void)arg;
	for (n = 0; n < BATCH; n++) {
		ret = shmchan_sem_wait(sem.s, sem.sem, 0);
		if (ret == -EAGAIN)
			break;
		if (ret) {
			fprintf(stderr, "evloop: semaphore: %s\n", strerror(-ret));
			event_del(sem.ev);
			return;
		}
		sem.taken++;
	}
	ret = n < BATCH ? shmchan_sem_watch(sem.s, sem.sem, 0) : 1;
	if (ret == 1)
		event_active(sem.ev, EV_READ, 0);
	else if (ret < 0) {
		fprintf(stderr, "evloop: semaphore: watch: %s\n", strerror(-ret));
		event_del(sem.ev);
	}
}

static int sem_open(struct event_base *base, const char *name)
{
	int ret;

	ret = shmchan_open(name, 0, &sem.ch);
	if (!ret)
		ret = shmchan_map(sem.ch, PROT_READ | PROT_WRITE, &sem.base);
	if (!ret)
		ret = shmchan_sync_new(sem.ch, sem.base, &sem.s);
	if (ret) {
		fprintf(stderr, "evloop: %s: %s\n", name, strerror(-ret));
		return -1;
	}
	sem.sem = sem.base;
	sem.ev = event_new(base, shmchan_fd(sem.ch), EV_READ | EV_PERSIST,
			   on_sem, NULL);
	if (!sem.ev || event_add(sem.ev, NULL))
		return -1;
	event_active(sem.ev, EV_READ, 0);
	return 0;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The timer: one line of status, what a test reads. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd;
	(void)what;
	(void)arg;
	printf("tick ms=%" PRIu64 " cpu_us=%" PRIu64 " received=", mono_ms(),
	       cpu_us());
	for (i = 0; i < nsources; i++)
		printf("%s%" PRIu64, i ? "," : "", sources[i].next);
	if (sem.ch)
		printf(" sem=%" PRIu64, sem.taken);
	printf("\n");
	fflush(stdout);
}

static void on_sigint(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct timeval period = { 1, 0 };
	struct event *tick, *sigint;
	struct event_base *base;
	const char *sem_name = NULL;
	int i, fd, ret;

	if (argc > 2 && !strcmp(argv[1], "-s")) {
		sem_name = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || argc - 1 > MAX_QUEUES) {
		fprintf(stderr, "usage: evloop [-s CHANNEL] QUEUE... (1 to %d)\n",
			MAX_QUEUES);
		return 2;
	}
	base = event_base_new();
	if (!base)
		return 1;
	if (sem_name && sem_open(base, sem_name))
		return 1;
	for (i = 0; i < argc - 1; i++) {
		struct source *s = &sources[nsources];

		s->name = argv[i + 1];
		s->index = (uint32_t)i;
		s->base = base;
		ret = shmchan_queue_open(s->name, SHMCHAN_QUEUE_RECV, &s->q);
		if (ret) {
			fprintf(stderr, "evloop: %s: %s\n", s->name, strerror(-ret));
			return 1;
		}
		fd = shmchan_queue_pollfd(s->q);
		if (fd < 0) {
			fprintf(stderr, "evloop: %s: pollfd: %s\n", s->name,
				strerror(-fd));
			return 1;
		}
		s->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_queue, s);
		if (!s->ev || event_add(s->ev, NULL))
			return 1;
		/* Nothing is armed before a first -EAGAIN: drain once. */
		event_active(s->ev, EV_READ, 0);
		nsources++;
	}
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	sigint = evsignal_new(base, SIGINT, on_sigint, base);
	if (!tick || !sigint || event_add(tick, &period) || event_add(sigint, NULL))
		return 1;
	printf("ready\n");
	fflush(stdout);

	event_base_dispatch(base);

	on_tick(-1, 0, NULL);
	printf("%s\n", failed ? "FAILED" : "done");
	for (i = 0; i < nsources; i++) {
		event_free(sources[i].ev);
		shmchan_queue_close(sources[i].q);
	}
	if (sem.ch) {
		event_free(sem.ev);
		shmchan_sync_free(sem.s);
		shmchan_unmap(sem.base, shmchan_length(sem.ch));
		shmchan_close(sem.ch);
	}
	event_free(tick);
	event_free(sigint);
	event_base_free(base);
	return failed;
}
