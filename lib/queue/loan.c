// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Zero-copy: a sender reserves a record in the ring, writes it in place
 * and commits (or cancels) it; a receiver peeks at a message in place and
 * releases it.
 */
#include "queue.h"

SHMCHAN_EXPORT
ssize_t shmchan_queue_peek(struct shmchan_queue *q, const void **ptr,
			   int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t pos, st;
	ssize_t ret;

	ret = recv_check(q);
	if (ret)
		return ret;
	if (!ptr)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->cons_lock, &d);
	if (ret)
		return ret;
	ret = q_next(q, &d, &pos, &st, NULL);
	if (!ret && !(st & ST_LAST))
		ret = -EMSGSIZE;	/* in rounds: not in one piece */
	if (!ret) {
		q->peek_end = q_claim(q, pos, rec_at(q, pos)->size);
		q->peek_pos = pos;
		q->peek_st = st;
		ret = (ssize_t)rec_at(q, pos)->len;
		*ptr = payload(q, pos);
	}
	q_unlock(q, &q->h->cons_lock);
	return ret;
}

SHMCHAN_EXPORT
int shmchan_queue_release(struct shmchan_queue *q)
{
	if (!q)
		return -EINVAL;
	/* in a forked child, the peeked message is the parent's */
	if (q->gen != shmchan__fork_generation())
		(void)q_enter(q);
	if (q->peek_pos == POS_NONE)
		return -EINVAL;
	q_release_rec(q, q->peek_pos, q->peek_st, q->peek_end);
	q->peek_pos = POS_NONE;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_queue_reserve(struct shmchan_queue *q, size_t len, void **ptr,
			  int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint64_t start;
	uint32_t size;
	int ret;

	if (!q || !ptr)
		return -EINVAL;
	ret = send_check(q);
	if (ret)
		return ret;
	if (len > q->max_rec - REC_HDR)
		return -EMSGSIZE;
	size = rec_size(len);
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_lock(q, &q->h->prod_lock, &d);
	if (ret)
		return ret;
	ret = q_room(q, size, &d, &start);
	if (!ret)
		q_publish(q, start, size, (uint32_t)len, len,
			  ST_FIRST | ST_LAST);
	q_unlock(q, &q->h->prod_lock);
	if (ret)
		return ret;
	q->rsv_pos = start;
	q->rsv_len = (uint32_t)len;
	*ptr = payload(q, start);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_queue_commit(struct shmchan_queue *q, size_t len)
{
	bool abort;
	int ret;

	if (!q)
		return -EINVAL;
	/* in a forked child the reservation is the parent's: none here */
	ret = q_enter(q);
	if (q->rsv_pos == POS_NONE || len > q->rsv_len)
		return ret && ret != -EIDRM ? ret : -EINVAL;
	/*
	 * Revoked, or every receiver gone since the reservation: nobody
	 * will read it, and the sender must hear so, as from a send. The
	 * record is aborted (a receiver that joins later passes over it).
	 */
	if (!ret && receivers_gone(q))
		ret = -EPIPE;
	abort = ret != 0;
	if (q_commit_rec(q, q->rsv_pos, (uint32_t)len, abort) && !ret)
		ret = -EPROTO;
	q->rsv_pos = POS_NONE;
	return ret;
}

SHMCHAN_EXPORT
int shmchan_queue_cancel(struct shmchan_queue *q)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (q->gen != shmchan__fork_generation())
		(void)q_enter(q);
	if (q->rsv_pos == POS_NONE)
		return -EINVAL;
	ret = q_commit_rec(q, q->rsv_pos, 0, true);
	q->rsv_pos = POS_NONE;
	return ret;
}
