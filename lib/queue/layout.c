// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The queue's header: its geometry, laying it out (the creator), waiting
 * for and checking it (openers), attaching a handle; create, open, close,
 * info.
 */
#include "queue.h"

static void geometry(uint64_t chan_len, uint64_t *cap, uint64_t *vcap,
		     uint32_t *max_rec, uint32_t *round_rec)
{
	uint64_t c = (chan_len - Q_HDR_SIZE) & ~(uint64_t)(REC_ALIGN - 1);
	uint64_t v = 1;

	while (v < c)
		v <<= 1;
	*cap = c;
	*vcap = v;
	*max_rec = (uint32_t)((c / 2 < REC_MAX ? c / 2 : REC_MAX) &
			      ~(uint64_t)(REC_ALIGN - 1));
	*round_rec = (uint32_t)((c / 4 < REC_MAX ? c / 4 : REC_MAX) &
				~(uint64_t)(REC_ALIGN - 1));
}

static void q_format(struct shmchan_queue *q, uint64_t len)
{
	struct q_hdr *h = q->h;

	atomic_store_explicit(&h->init_pid, q->pid, memory_order_relaxed);
	atomic_store_explicit(&h->magic, Q_INITIALIZING, memory_order_relaxed);
	h->layout = SHMCHAN_QUEUE_LAYOUT;
	h->hdr_size = Q_HDR_SIZE;
	h->max_peers = Q_MAX_PEERS;
	h->chan_len = len;
	geometry(len, &h->cap, &h->vcap, &h->max_rec, &h->round_rec);
	atomic_store_explicit(&h->rounds, POS_NONE, memory_order_relaxed);
	/* release: an opener that sees the magic sees the layout */
	atomic_store_explicit(&h->magic, Q_MAGIC, memory_order_release);
	shmchan_wake(q->ch, word_off(q, &h->magic), SHMCHAN_WAKE_ALL);
}

/* An opener that came before the creator finished: wait for the magic. */
static int q_await(struct shmchan_queue *q)
{
	struct q_hdr *h = q->h;
	uint64_t blank_until = shmchan__now_ns() + 200000000ULL;
	struct shmchan__deadline d;
	uint32_t v;

	for (;;) {
		/* acquire: pairs with the release in q_format() */
		v = atomic_load_explicit(&h->magic, memory_order_acquire);
		if (v == Q_MAGIC)
			return 0;
		if (v == 0 && shmchan__now_ns() >= blank_until)
			return -EPROTO;		/* not a queue */
		if (v != 0 && v != Q_INITIALIZING)
			return -EPROTO;
		if (v == Q_INITIALIZING &&
		    !shmchan__alive(atomic_load_explicit(&h->init_pid,
							 memory_order_relaxed),
				    0, 0, false))
			return -EPROTO;		/* its creator died */
		shmchan__deadline_init(&d, 20000000);
		(void)shmchan_wait(q->ch, word_off(q, &h->magic), v,
				   shmchan__deadline_ts(&d));
	}
}

static int q_check(struct shmchan_queue *q, uint64_t len)
{
	struct q_hdr *h = q->h;
	uint64_t cap, vcap;
	uint32_t max_rec, round_rec;

	if (h->layout != SHMCHAN_QUEUE_LAYOUT || h->hdr_size != Q_HDR_SIZE ||
	    h->max_peers != Q_MAX_PEERS || h->chan_len != len)
		return -EPROTO;
	geometry(len, &cap, &vcap, &max_rec, &round_rec);
	if (h->cap != cap || h->vcap != vcap || h->max_rec != max_rec ||
	    h->round_rec != round_rec)
		return -EPROTO;
	q->cap = cap;
	q->vcap = vcap;
	q->mask = vcap - 1;
	q->max_rec = max_rec;
	q->round_rec = round_rec;
	return 0;
}

/* Make @ch (which the queue now owns) a queue handle. */
static int q_attach(struct shmchan *ch, unsigned int roles,
		    struct shmchan_queue **out)
{
	uint64_t feat, len = shmchan_length(ch);
	struct shmchan_queue *q;
	void *base;
	int ret;

	if (len < Q_MIN_LENGTH || (size_t)len != len) {
		shmchan_close(ch);
		return len < Q_MIN_LENGTH ? -EPROTO : -EFBIG;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		shmchan_close(ch);
		return -ENOMEM;
	}
	q->ch = ch;
	q->slot = Q_MAX_PEERS;
	q->rsv_pos = POS_NONE;
	q->peek_pos = POS_NONE;
	q->roles = roles;
	q->pw[0].id = -1;
	q->pw[1].id = -1;
	ret = shmchan_map(ch, PROT_READ | PROT_WRITE, &base);
	if (ret)
		goto fail;
	q->h = base;
	q->map_len = (size_t)len;
	q->ring = (uint8_t *)base + Q_HDR_SIZE;
	feat = shmchan__features();
	q->death_notice = feat & SHMCHAN_FEATURE_DEATH_NOTICE;
	shmchan__status_map(ch, feat, &q->status);
	shmchan__fork_init();
	q->gen = shmchan__fork_generation();
	ret = shmchan__self(&q->pid, &q->start);
	if (ret)
		goto fail;
	if (shmchan_was_created(ch))
		q_format(q, len);
	else if ((ret = q_await(q)))
		goto fail;
	ret = q_check(q, len);
	if (ret)
		goto fail;
	/* The death count before the scan: a death after it fails our
	 * next wait at once, and changes the status word. */
	q->status_seen = shmchan__status_read(&q->status);
	if (shmchan__status_revoked(q->status_seen)) {
		ret = -EIDRM;
		goto fail;
	}
	if (q->status.page)
		q->deaths = shmchan__status_deaths(q->status_seen);
	else if (q->death_notice && (ret = shmchan__deaths(ch, &q->deaths)))
		goto fail;
	q_scan(q);
	ret = q_register(q, roles);
	if (ret)
		goto fail;
	*out = q;
	return 0;
fail:
	if (q->h)
		shmchan_unmap(q->h, q->map_len);
	shmchan__status_unmap(&q->status);
	shmchan_close(ch);
	free(q);
	return ret;
}

/* ------------------------------------------------------------ API */

SHMCHAN_EXPORT
int shmchan_queue_create(const char *name, uint64_t length, mode_t mode,
			 unsigned int flags, struct shmchan_queue **out)
{
	unsigned int cflags = 0;
	struct shmchan *ch;
	int ret;

	if (!name || !out || !(flags & ROLES) || flags & ~(ROLES | CREATE_FLAGS))
		return -EINVAL;
	if (length < Q_MIN_LENGTH)
		return -EINVAL;
	if (flags & SHMCHAN_QUEUE_EXCL)
		cflags |= SHMCHAN_CREATE_EXCL;
	if (flags & SHMCHAN_QUEUE_TRANSIENT)
		cflags |= SHMCHAN_CREATE_TRANSIENT;
	if (flags & SHMCHAN_QUEUE_POPULATE)
		cflags |= SHMCHAN_CREATE_POPULATE;
	ret = shmchan_create(name, length, mode, cflags, &ch);
	if (ret)
		return ret;
	return q_attach(ch, flags & ROLES, out);
}

SHMCHAN_EXPORT
int shmchan_queue_open(const char *name, unsigned int flags,
		       struct shmchan_queue **out)
{
	struct shmchan *ch;
	int ret;

	if (!name || !out || !(flags & ROLES) || flags & ~ROLES)
		return -EINVAL;
	ret = shmchan_open(name, 0, &ch);
	if (ret)
		return ret;
	return q_attach(ch, flags, out);
}

SHMCHAN_EXPORT
void shmchan_queue_close(struct shmchan_queue *q)
{
	if (!q)
		return;
	/* In a forked child that has no slot of its own yet, the slot,
	 * reservation and peeked message are the parent's: leave them be. */
	if (q->gen == shmchan__fork_generation() && q->slot < Q_MAX_PEERS) {
		if (q->rsv_pos != POS_NONE)
			shmchan_queue_cancel(q);
		if (q->peek_pos != POS_NONE)
			shmchan_queue_release(q);
		q_poll_close(q);
		q_leave(q);
	}
	shmchan_unmap(q->h, q->map_len);
	shmchan__status_unmap(&q->status);
	shmchan_close(q->ch);
	free(q);
}

SHMCHAN_EXPORT
int shmchan_queue_set_spin(struct shmchan_queue *q, uint32_t spin_ns)
{
	if (!q || spin_ns > SPIN_MAX_NS)
		return -EINVAL;
	q->spin.max_ns = spin_ns;
	q->spin.cur_ns = spin_ns;
	return 0;
}

static uint32_t popcount2(_Atomic uint32_t map[2])
{
	return (uint32_t)__builtin_popcount(
		       atomic_load_explicit(&map[0], memory_order_relaxed)) +
	       (uint32_t)__builtin_popcount(
		       atomic_load_explicit(&map[1], memory_order_relaxed));
}

SHMCHAN_EXPORT
int shmchan_queue_info(struct shmchan_queue *q,
		       struct shmchan_queue_info *out)
{
	uint64_t t, p, used;

	if (!q || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->capacity = q->cap;
	out->max_msg = q->max_rec - REC_HDR;
	out->round_size = q->round_rec - REC_HDR;
	out->max_peers = Q_MAX_PEERS;
	out->senders = popcount2(q->h->senders);
	out->receivers = popcount2(q->h->receivers);
	out->layout = q->h->layout;
	t = atomic_load_explicit(&q->h->cons_tail, memory_order_relaxed);
	p = atomic_load_explicit(&q->h->prod_head, memory_order_relaxed);
	used = 0;
	if (p > t) {
		if ((p & ~q->mask) == (t & ~q->mask))
			used = p - t;
		else
			used = q->cap - (t & q->mask) + (p & q->mask);
	}
	out->used = used > q->cap ? q->cap : used;
	return 0;
}

SHMCHAN_EXPORT
struct shmchan *shmchan_queue_channel(struct shmchan_queue *q)
{
	return q ? q->ch : NULL;
}
