// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Sending and receiving by copy: a message in one record (small ones
 * copied under prod_lock), or in rounds when it is longer than max_msg.
 */
#include "queue.h"

/* ------------------------------------------------------------ sending */

/*
 * A small message is copied under prod_lock and published READY: no BUSY
 * record for a receiver to find and wait at again, no commit (one RMW and
 * a cache line's round trip less). Copying a few hundred bytes holds the
 * lock no longer than the stores around it; bigger ones are copied
 * outside it, in parallel with other senders.
 */
static void q_publish_small(struct shmchan_queue *q, uint64_t start,
			    uint32_t size, const void *msg, uint32_t len)
{
	struct q_hdr *h = q->h;
	struct q_rec *r;

	q_write_pad(q, start);
	r = rec_at(q, start);
	r->size = size;
	r->len = len;
	r->total = len;
	if (len)
		memcpy(payload(q, start), msg, len);
	/* relaxed: the payload, header and state are published by the
	 * release of prod_head. No slot: READY states carry none (as after
	 * q_commit_rec(); q_done() expects them so). */
	atomic_store_explicit(&r->state,
			      tag_of(start) | ST_READY | ST_FIRST | ST_LAST,
			      memory_order_relaxed);
	atomic_store_explicit(&h->prod_head, next_pos(q, start, size),
			      memory_order_release);
}

static int q_send_one(struct shmchan_queue *q, const void *msg, size_t len,
		      const struct shmchan__deadline *d)
{
	uint32_t size = rec_size(len);
	uint64_t start;
	int ret;

	ret = q_lock(q, &q->h->prod_lock, d);
	if (ret)
		return ret;
	ret = q_room(q, size, d, &start);
	if (ret) {
		q_unlock(q, &q->h->prod_lock);
		return ret;
	}
	if (len <= SEND_INLINE_MAX) {
		q_publish_small(q, start, size, msg, (uint32_t)len);
		q_unlock(q, &q->h->prod_lock);
		q_kick(q, false, true);
		return 0;
	}
	q_publish(q, start, size, (uint32_t)len, len, ST_FIRST | ST_LAST);
	q_unlock(q, &q->h->prod_lock);
	memcpy(payload(q, start), msg, len);
	return q_commit_rec(q, start, (uint32_t)len, false);
}

/* A message longer than max_msg: rounds, all under prod_lock. */
static int q_send_rounds(struct shmchan_queue *q, const uint8_t *msg,
			 uint64_t len, const struct shmchan__deadline *d)
{
	struct q_hdr *h = q->h;
	uint64_t per = q->round_rec - REC_HDR, off, n, start, flags;
	bool begun = false;
	int ret;

	ret = q_lock(q, &h->prod_lock, d);
	if (ret)
		return ret;
	for (off = 0; off < len; off += n) {
		n = len - off < per ? len - off : per;
		flags = (off ? 0 : ST_FIRST) | (off + n == len ? ST_LAST : 0);
		ret = q_room(q, rec_size(n), d, &start);
		if (ret)
			break;
		q_publish(q, start, rec_size(n), (uint32_t)n, len, flags);
		begun = true;
		memcpy(payload(q, start), msg + off, n);
		ret = q_commit_rec(q, start, (uint32_t)n, false);
		if (ret)
			break;
	}
	if (begun) {
		/* release: a receiver that sees the message over sees its
		 * last round published (or knows there is none to come) */
		atomic_store_explicit(&h->rounds, POS_NONE,
				      memory_order_release);
		if (ret)
			q_kick(q, false, true);
	}
	q_unlock(q, &h->prod_lock);
	return ret;
}

/* ------------------------------------------------------------ receiving */

/* Under cons_lock: receive a message in rounds, starting at @pos. */
static ssize_t q_recv_rounds(struct shmchan_queue *q, uint8_t *buf,
			     uint64_t pos, uint64_t st, uint64_t total)
{
	uint64_t got = 0, first = pos;
	struct q_rec *r;
	int ret;

	for (;;) {
		r = rec_at(q, pos);
		if (r->len > total - got || (st & ST_FIRST && r->total != total))
			return -EPROTO;
		q_claim(q, pos, r->size);
		memcpy(buf + got, payload(q, pos), r->len);
		got += r->len;
		q_release_rec(q, pos, st);
		if (st & ST_LAST)
			return got == total ? (ssize_t)total : -EPROTO;
		ret = q_next_round(q, first, &pos, &st);
		if (ret)
			return ret;
	}
}

/* ------------------------------------------------------------ API */

SHMCHAN_EXPORT
int shmchan_queue_send(struct shmchan_queue *q, const void *msg, size_t len,
		       int64_t timeout_ns)
{
	struct shmchan__deadline d;
	int ret;

	if (!q || (!msg && len))
		return -EINVAL;
	if (!(q->roles & SHMCHAN_QUEUE_SEND))
		return -EBADF;
	ret = q_enter(q);
	if (ret)
		return ret;
	if (q->rsv_pos != POS_NONE)
		return -EBUSY;
	shmchan__deadline_init(&d, timeout_ns);
	if (len <= q->max_rec - REC_HDR)
		return q_send_one(q, msg, len, &d);
	return q_send_rounds(q, msg, len, &d);
}

SHMCHAN_EXPORT
ssize_t shmchan_queue_recv(struct shmchan_queue *q, void *buf, size_t cap,
			   int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st, len;
	ssize_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	if (!buf && cap)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	for (;;) {
		ret = q_next(q, &d, &pos, &st);
		if (ret)
			break;
		len = msg_len(q, pos, st);
		if (len > cap || len > SSIZE_MAX) {
			ret = -EMSGSIZE;
			break;
		}
		if (st & ST_LAST) {
			q_claim(q, pos, rec_at(q, pos)->size);
			q_unlock(q, &q->h->cons_lock);
			memcpy(buf, payload(q, pos), len);
			q_release_rec(q, pos, st);
			return (ssize_t)len;
		}
		ret = q_recv_rounds(q, buf, pos, st, len);
		if (ret != -ECANCELED)
			break;
	}
	q_unlock(q, &q->h->cons_lock);
	return ret;
}

SHMCHAN_EXPORT
int64_t shmchan_queue_peek_len(struct shmchan_queue *q, int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st;
	int64_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	ret = q_next(q, &d, &pos, &st);
	if (!ret)
		ret = (int64_t)msg_len(q, pos, st);
	q_unlock(q, &q->h->cons_lock);
	return ret;
}
