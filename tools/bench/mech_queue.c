// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: libshmchan's message queue, one per direction.
 *
 * Copy: the sender fills a private buffer and shmchan_queue_send() copies
 * it into the ring; the receiver's shmchan_queue_recv() copies it out and
 * the receiver sums its buffer. Zero copy: the sender fills the record in
 * the ring (reserve/commit) and the receiver sums it there (peek/release).
 *
 * Modes: blocking (no spin: a waiting side sleeps in the module at once),
 * adaptive (shmchan_queue_set_spin(opt_spin_ns): spin, then sleep), and
 * busy-poll (timeout 0, retried on -EAGAIN: never sleeps).
 *
 * The ring holds two messages of the size measured (round trips) or four,
 * and at least 1 MiB (streams), so every message is one record; channels
 * are made with SHMCHAN_QUEUE_POPULATE so no page fault is measured.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

uint32_t opt_spin_ns = 50000;

enum { Q_BLOCK, Q_ADAPT, Q_BUSY };

struct qlink {
	int mode;
	bool zc;
	uint64_t length;
	char name[2][96];
	struct shmchan_queue *q[2];	/* per direction: this process's end */
	char *buf;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t ring_for(size_t size, bool stream)
{
	uint64_t rec = ((size + 32 + 31) & ~(uint64_t)31) + 32;
	uint64_t ring = (stream ? 4 : 2) * rec;
	uint64_t min = stream ? 1 * MiB : 64 * KiB;

	if (ring < min)
		ring = min;
	return (ring + 4095) & ~(uint64_t)4095;
}

static int q_init(struct link *l, int mode, bool zc)
{
	struct qlink *q = calloc(1, sizeof(*q));
	int d;

	l->priv = q;
	if (shmchan_missing)
		return -ENODEV;
	if (queue_missing)
		return -ENOSYS;
	q->mode = mode;
	q->zc = zc;
	q->length = 4096 + ring_for(l->size, l->stream);
	for (d = 0; d < 2; d++)
		snprintf(q->name[d], sizeof(q->name[d]), "%s.q%d", l->tag, d);
	snprintf(l->note, sizeof(l->note), "ring %s%s",
		 size_str(q->length - 4096),
		 mode == Q_ADAPT ? ", spin" : "");
	if (mode == Q_ADAPT) {
		size_t n = strlen(l->note);

		snprintf(l->note + n, sizeof(l->note) - n, " %u us",
			 opt_spin_ns / 1000);
	}
	return 0;
}

static int q_attach(struct link *l, int side)
{
	struct qlink *q = l->priv;
	unsigned int mk = SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT |
			  SHMCHAN_QUEUE_POPULATE;
	int d, ndir = l->stream ? 1 : 2, r;

	for (d = 0; d < ndir; d++) {
		/* this side sends in direction `side`, receives in the other */
		unsigned int role = d == side ? SHMCHAN_QUEUE_SEND
					      : SHMCHAN_QUEUE_RECV;

		if (side == 0)
			r = shmchan_queue_create(q->name[d], q->length, 0600,
						 role | mk, &q->q[d]);
		else
			r = shmchan_queue_open(q->name[d], role, &q->q[d]);
		if (r)
			return r;
		if (q->mode == Q_ADAPT) {
			r = shmchan_queue_set_spin(q->q[d], opt_spin_ns);
			if (r)
				return r;
		}
	}
	if (side == 0) {
		struct shmchan_queue_info info;

		r = shmchan_queue_info(q->q[0], &info);
		if (r)
			return r;
		if (info.max_msg < l->size)
			return -EMSGSIZE;
	}
	if (!q->zc)
		q->buf = xmalloc(l->size);
	return 0;
}

static int64_t q_timeout(const struct qlink *q)
{
	return q->mode == Q_BUSY ? 0 : SHMCHAN_FOREVER;
}

static int q_send(struct link *l, int side, uint64_t seed)
{
	struct qlink *q = l->priv;
	struct shmchan_queue *h = q->q[side];
	void *p;
	int r;

	if (q->zc) {
		while ((r = shmchan_queue_reserve(h, l->size, &p,
						  q_timeout(q))) == -EAGAIN ||
		       r == -EINTR)
			cpu_relax();
		if (r)
			return r;
		fill(p, l->size, seed);
		return shmchan_queue_commit(h, l->size);
	}
	fill(q->buf, l->size, seed);
	while ((r = shmchan_queue_send(h, q->buf, l->size, q_timeout(q))) ==
		       -EAGAIN || r == -EINTR)
		cpu_relax();
	return r;
}

static int q_recv(struct link *l, int side, uint64_t *seed)
{
	struct qlink *q = l->priv;
	struct shmchan_queue *h = q->q[1 - side];
	const void *p;
	ssize_t n;
	int r;

	if (q->zc) {
		while ((n = shmchan_queue_peek(h, &p, q_timeout(q))) == -EAGAIN ||
		       n == -EINTR)
			cpu_relax();
		if (n < 0)
			return (int)n;
		if ((size_t)n != l->size) {
			shmchan_queue_release(h);
			return -EBADMSG;
		}
		r = msg_check(p, l->size, seed);
		n = shmchan_queue_release(h);
		return r ? r : (int)n;
	}
	while ((n = shmchan_queue_recv(h, q->buf, l->size, q_timeout(q))) ==
		       -EAGAIN || n == -EINTR)
		cpu_relax();
	if (n < 0)
		return (int)n;
	if ((size_t)n != l->size)
		return -EBADMSG;
	return msg_check(q->buf, l->size, seed);
}

static void q_detach(struct link *l, int side)
{
	struct qlink *q = l->priv;

	(void)side;
	shmchan_queue_close(q->q[0]);
	shmchan_queue_close(q->q[1]);
}

#define QUEUE_MECH(var, nm, lbl, caps, mode, zc)			\
	static int var##_init(struct link *l)				\
	{								\
		return q_init(l, mode, zc);				\
	}								\
	const struct mech var = {					\
		nm, lbl, (caps) | M_SHMCHAN | M_QUEUE,			\
		var##_init, q_attach, q_send, q_recv, q_detach, NULL,	\
	}

QUEUE_MECH(mech_queue_block, "queue-block", "queue (blocking)",
	   M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF, Q_BLOCK, false);
QUEUE_MECH(mech_queue_adapt, "queue-adapt", "queue (adaptive)",
	   M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF, Q_ADAPT, false);
QUEUE_MECH(mech_queue_busy, "queue-busy", "queue (busy-poll)",
	   M_LAT | M_STREAM | M_LAT_DEF | M_SPIN, Q_BUSY, false);
QUEUE_MECH(mech_zc_block, "zc-block", "zero-copy (blocking)",
	   M_LAT | M_STREAM | M_STREAM_DEF, Q_BLOCK, true);
QUEUE_MECH(mech_zc_adapt, "zc-adapt", "zero-copy (adaptive)",
	   M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF, Q_ADAPT, true);
QUEUE_MECH(mech_zc_busy, "zc-busy", "zero-copy (busy-poll)",
	   M_LAT | M_STREAM | M_SPIN, Q_BUSY, true);

/*
 * The queue's own path, without a peer: one process sends a message and
 * receives it back from the same queue (copy, or zero copy), so no
 * cache line moves between CPUs and nobody waits. c->v[] = seconds per
 * message (send + receive); arg: struct stream_arg (m unused; m != NULL
 * means zero copy).
 */
static double qlocal_batch(struct shmchan_queue *q, bool zc, size_t size,
			   char *buf, uint64_t k, uint64_t *seq, int *err)
{
	double t0 = now();
	const void *cp;
	void *p;
	uint64_t i;
	ssize_t n;

	for (i = 0; i < k && !*err; i++, (*seq)++) {
		if (zc) {
			*err = shmchan_queue_reserve(q, size, &p, 0);
			if (*err)
				break;
			fill(p, size, *seq);
			*err = shmchan_queue_commit(q, size);
			if (*err)
				break;
			n = shmchan_queue_peek(q, &cp, 0);
			if (n != (ssize_t)size) {
				*err = n < 0 ? (int)n : -EBADMSG;
				break;
			}
			if (sum(cp, size) != expect_sum(size, *seq))
				*err = -EBADMSG;
			shmchan_queue_release(q);
		} else {
			fill(buf, size, *seq);
			*err = shmchan_queue_send(q, buf, size, 0);
			if (*err)
				break;
			n = shmchan_queue_recv(q, buf, size, 0);
			if (n != (ssize_t)size)
				*err = n < 0 ? (int)n : -EBADMSG;
			else if (sum(buf, size) != expect_sum(size, *seq))
				*err = -EBADMSG;
		}
	}
	return now() - t0;
}

void qlocal_cell(struct cell *c, const void *arg)
{
	const struct stream_arg *a = arg;
	struct shmchan_queue *q;
	char name[96], *buf;
	uint64_t k = 1, seq = 0;
	double t, spent = 0;
	int err = 0, i;

	if (shmchan_missing || queue_missing) {
		cell_skip(c, "%s", shmchan_missing ? shmchan_missing : queue_missing);
		return;
	}
	pin(0);
	snprintf(name, sizeof(name), "shmchan-bench.%d.local", (int)getpid());
	err = shmchan_queue_create(name, 4096 + ring_for(a->size, false), 0600,
				   SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV |
				   SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT |
				   SHMCHAN_QUEUE_POPULATE, &q);
	if (err) {
		cell_fail(c, err, "queue");
		return;
	}
	buf = xmalloc(a->size);
	for (;;) {
		t = qlocal_batch(q, a->m != NULL, a->size, buf, k, &seq, &err);
		spent += t;
		if (err || spent >= a->budget / 6)
			break;
		if (t < a->budget / 24)
			k *= 2;
	}
	k = (uint64_t)(a->budget * 5 / 6 / a->reps / (t / (double)k)) + 1;
	for (i = 0; !err && i < a->reps && i < MAX_REPS; i++)
		c->v[i] = qlocal_batch(q, a->m != NULL, a->size, buf, k, &seq,
				       &err) / (double)k;
	if (err)
		cell_fail(c, err, "queue, one process");
	c->n = i;
	c->ops = k;
	shmchan_queue_close(q);
}
