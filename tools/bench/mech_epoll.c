// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: event-loop mechanisms, the receiver (and a sender
 * without room) waiting in epoll_wait() rather than in a blocking call.
 *
 * queue-epoll: libshmchan's queue, one per direction, each handle's
 * shmchan_queue_pollfd() in an epoll set of its own; calls with timeout 0,
 * epoll_wait() on -EAGAIN (which armed the descriptor).
 *
 * eventfd-epoll: what event-loop users build today: a one-message mailbox
 * per direction in shared memory (a sequence word, then the payload) and
 * an eventfd per direction that the sender writes after every message;
 * the receiver looks at the sequence, and if nothing is new waits in
 * epoll_wait() on the eventfd and reads it. Round trips only (one message
 * in flight per direction).
 *
 * Both are in the table of mechs.c, in the default latency set; the
 * queue's one-way stream is in the default throughput set too (the
 * mailbox has no room for a stream: round trips only).
 *
 * The queue's stream once collapsed here under TCG (0.03 MB/s; built on
 * that first pollable library, this file's stream hung at 4 KiB). On the
 * library since (a polling sender woken in batches of half a ring, and
 * q_poll_arm() reading the sequence before it counts itself a watcher)
 * it streams, with about as many waits per message as the blocking
 * queue. It stays below the blocking queue's stream: in six runs under
 * TCG on a busy host, 0.7 to 1.1 times it at 64 B, 0.2 to 1.4 at 4 KiB
 * to 1 MiB (median 0.5). Each wait here ends with a WAKE that
 * fires a watch, and such a WAKE took milliseconds (90th percentile 1.5 to
 * 7 ms in 64 KiB streams; traced: the wake-up of the epoll_wait() task in
 * ep_poll_callback()), where one that wakes a task asleep in WAIT took
 * tens of microseconds: the module's cost on a busy TCG host, not the
 * library's protocol.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

/* Wait until @fd polls readable, in an epoll set of its own. */
static int epoll_in(int ep)
{
	struct epoll_event ev;
	int n;

	do
		n = epoll_wait(ep, &ev, 1, -1);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int epoll_for(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -errno;
	}
	return ep;
}

/* ------------------------------------------------------------ queue */

struct eq {
	uint64_t length;
	char name[2][96];
	struct shmchan_queue *q[2];
	int ep[2];
	char *buf;
};

static int eq_init(struct link *l)
{
	struct eq *e = calloc(1, sizeof(*e));
	uint64_t rec = ((l->size + 32 + 31) & ~(uint64_t)31) + 32;
	uint64_t ring = (l->stream ? 4 : 2) * rec;
	uint64_t min = l->stream ? 1 * MiB : 64 * KiB;
	int d;

	l->priv = e;
	if (shmchan_missing)
		return -ENODEV;
	if (queue_missing)
		return -ENOSYS;
	ring = ((ring < min ? min : ring) + 4095) & ~(uint64_t)4095;
	e->length = 4096 + ring;
	for (d = 0; d < 2; d++)
		snprintf(e->name[d], sizeof(e->name[d]), "%s.e%d", l->tag, d);
	snprintf(l->note, sizeof(l->note), "ring %s, epoll", size_str(ring));
	return 0;
}

static int eq_attach(struct link *l, int side)
{
	struct eq *e = l->priv;
	unsigned int mk = SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT |
			  SHMCHAN_QUEUE_POPULATE;
	int d, ndir = l->stream ? 1 : 2, r, fd;

	for (d = 0; d < ndir; d++) {
		unsigned int role = d == side ? SHMCHAN_QUEUE_SEND
					      : SHMCHAN_QUEUE_RECV;

		if (side == 0)
			r = shmchan_queue_create(e->name[d], e->length, 0600,
						 role | mk, &e->q[d]);
		else
			r = shmchan_queue_open(e->name[d], role, &e->q[d]);
		if (r)
			return r;
		fd = shmchan_queue_pollfd(e->q[d]);
		if (fd < 0)
			return fd;
		e->ep[d] = epoll_for(fd);
		if (e->ep[d] < 0)
			return e->ep[d];
	}
	e->buf = xmalloc(l->size);
	return 0;
}

static int eq_send(struct link *l, int side, uint64_t seed)
{
	struct eq *e = l->priv;
	int r;

	fill(e->buf, l->size, seed);
	while ((r = shmchan_queue_send(e->q[side], e->buf, l->size, 0)) ==
	       -EAGAIN) {
		r = epoll_in(e->ep[side]);
		if (r)
			return r;
	}
	return r;
}

static int eq_recv(struct link *l, int side, uint64_t *seed)
{
	struct eq *e = l->priv;
	ssize_t n;
	int r;

	while ((n = shmchan_queue_recv(e->q[1 - side], e->buf, l->size, 0)) ==
	       -EAGAIN) {
		r = epoll_in(e->ep[1 - side]);
		if (r)
			return r;
	}
	if (n < 0)
		return (int)n;
	if ((size_t)n != l->size)
		return -EBADMSG;
	return msg_check(e->buf, l->size, seed);
}

static void eq_detach(struct link *l, int side)
{
	struct eq *e = l->priv;
	int d;

	(void)side;
	for (d = 0; d < 2; d++) {
		if (e->ep[d] > 0)
			close(e->ep[d]);
		shmchan_queue_close(e->q[d]);
	}
}

const struct mech mech_queue_epoll = {
	"queue-epoll", "queue (epoll)",
	M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF | M_SHMCHAN | M_QUEUE,
	eq_init, eq_attach, eq_send, eq_recv, eq_detach, NULL,
};

/* ------------------------------------------------------------ eventfd */

struct box {
	_Atomic uint64_t seq;
	uint64_t __pad[7];
	/* then the payload, at 64 bytes */
};

struct ee {
	uint8_t *base;		/* two boxes, one per direction */
	size_t stride;
	int efd[2];
	int ep[2];
	uint64_t seen[2];	/* this process's last sequence received */
};

static struct box *box_of(struct ee *e, int d)
{
	return (struct box *)(e->base + (size_t)d * e->stride);
}

static int ee_init(struct link *l)
{
	struct ee *e = calloc(1, sizeof(*e));
	int d;

	l->priv = e;
	e->stride = (sizeof(struct box) + l->size + 4095) & ~(size_t)4095;
	e->base = shared_anon(2 * e->stride);
	for (d = 0; d < 2; d++) {
		e->efd[d] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e->efd[d] < 0)
			return -errno;
	}
	snprintf(l->note, sizeof(l->note), "one-message mailbox, epoll");
	return 0;
}

static int ee_attach(struct link *l, int side)
{
	struct ee *e = l->priv;
	int d;

	(void)side;
	for (d = 0; d < 2; d++) {
		e->ep[d] = epoll_for(e->efd[d]);
		if (e->ep[d] < 0)
			return e->ep[d];
	}
	return 0;
}

static int ee_send(struct link *l, int side, uint64_t seed)
{
	struct ee *e = l->priv;
	struct box *b = box_of(e, side);
	uint64_t one = 1;

	fill(b + 1, l->size, seed);
	atomic_fetch_add_explicit(&b->seq, 1, memory_order_release);
	return write(e->efd[side], &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

static int ee_recv(struct link *l, int side, uint64_t *seed)
{
	struct ee *e = l->priv;
	int d = 1 - side, r;
	struct box *b = box_of(e, d);
	uint64_t v;

	while (atomic_load_explicit(&b->seq, memory_order_acquire) ==
	       e->seen[d]) {
		r = epoll_in(e->ep[d]);
		if (r)
			return r;
		/* consume the count: the next wait sleeps until a new write */
		if (read(e->efd[d], &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
	e->seen[d]++;
	return msg_check(b + 1, l->size, seed);
}

static void ee_fini(struct link *l)
{
	struct ee *e = l->priv;

	close(e->efd[0]);
	close(e->efd[1]);
}

const struct mech mech_eventfd_epoll = {
	"eventfd-epoll", "eventfd + shm (epoll)", M_LAT | M_LAT_DEF,
	ee_init, ee_attach, ee_send, ee_recv, NULL, ee_fini,
};
