// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Sending and receiving by copy: a message in one record (small ones
 * copied under prod_lock), or in rounds when it is longer than max_msg.
 */
#include "queue.h"

/*
 * A payload into the ring or out of it. The copy path's cost is in these
 * copies (zero copy has none), so they are chosen with care:
 *
 * - Up to SEND_INLINE_MAX bytes (the messages copied under prod_lock), a
 *   loop of 16-byte moves inline: no call, which under emulation (QEMU's
 *   TCG) is a lookup of translated code each way, for a copy that takes
 *   less time than the lookups.
 * - Longer, on x86-64, `rep movsq` and the last 8 bytes (overlapping what
 *   is copied already): one instruction, no call. Natively it is as fast
 *   as glibc's memcpy() from a few KiB (which uses `rep movsb` there);
 *   under TCG it is the fastest copy there is, 8 bytes an iteration of
 *   translated code chained to itself: in a VM on this project's host,
 *   64 KiB in 19 us against 24 us in 2 KiB memcpy() pieces and 160 us in
 *   one (`rep movsb`, a byte at a time), 1 MiB in 320 to 520 us against
 *   380 to 440 us, 16 MiB in 6.7 to 7.9 ms against 9.2 to 9.6 ms (glibc's
 *   non-temporal loop).
 * - Elsewhere, up to Q_COPY_WHOLE, memcpy() in pieces of Q_COPY_PIECE
 *   bytes: glibc's memcpy() moves a few KiB to a few hundred KiB with
 *   `rep movsb` (above), and its vector loop below that band, which
 *   pieces of 2 KiB keep it on. From Q_COPY_WHOLE, in one memcpy(): there
 *   glibc streams with non-temporal stores, which pieces would lose.
 */
#ifndef Q_COPY_PIECE
#define Q_COPY_PIECE	2048U
#endif
#define Q_COPY_WHOLE	(1U << 20)

static HOT void q_copy_small(uint8_t *d, const uint8_t *s, size_t len)
{
	uint32_t a4, b4;
	uint64_t a8, b8;

	/* From 16 bytes: the first 16 or 32 and the last 16 or 32, which
	 * overlap when the length is not a multiple; over 64, 64 at a time
	 * and the last 64. No loop up to 64 (4 loads, 4 stores). */
	if (len > 64) {
		const uint8_t *end = s + len;

		for (; len > 64; len -= 64, d += 64, s += 64) {
			__builtin_memcpy(d, s, 16);
			__builtin_memcpy(d + 16, s + 16, 16);
			__builtin_memcpy(d + 32, s + 32, 16);
			__builtin_memcpy(d + 48, s + 48, 16);
			/* a loop of moves, not turned into a memcpy() call */
			__asm__("" : "+r"(d), "+r"(s));
		}
		/* the last 64, overlapping what is copied already */
		d += len - 64;
		s = end - 64;
		__builtin_memcpy(d, s, 16);
		__builtin_memcpy(d + 16, s + 16, 16);
		__builtin_memcpy(d + 32, s + 32, 16);
		__builtin_memcpy(d + 48, s + 48, 16);
	} else if (len > 32) {
		__builtin_memcpy(d, s, 16);
		__builtin_memcpy(d + 16, s + 16, 16);
		__builtin_memcpy(d + len - 32, s + len - 32, 16);
		__builtin_memcpy(d + len - 16, s + len - 16, 16);
	} else if (len >= 16) {
		__builtin_memcpy(d, s, 16);
		__builtin_memcpy(d + len - 16, s + len - 16, 16);
	} else if (len >= 8) {
		__builtin_memcpy(&a8, s, 8);
		__builtin_memcpy(&b8, s + len - 8, 8);
		__builtin_memcpy(d, &a8, 8);
		__builtin_memcpy(d + len - 8, &b8, 8);
	} else if (len >= 4) {
		__builtin_memcpy(&a4, s, 4);
		__builtin_memcpy(&b4, s + len - 4, 4);
		__builtin_memcpy(d, &a4, 4);
		__builtin_memcpy(d + len - 4, &b4, 4);
	} else {
		for (; len; len--)
			*d++ = *s++;
	}
}

static HOT void q_copy(void *dst, const void *src, size_t len)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t n;

	if (len <= SEND_INLINE_MAX) {
		q_copy_small(d, s, len);
		return;
	}
#if defined(__x86_64__)
	/* len > 8: the last 8 bytes, then the 8-byte words from the start
	 * (the direction flag is clear at every call, as the ABI says) */
	__builtin_memcpy(d + len - 8, s + len - 8, 8);
	n = len / 8;
	__asm__ __volatile__("rep movsq"
			     : "+D"(d), "+S"(s), "+c"(n)
			     : : "memory");
#else
	if (len >= Q_COPY_WHOLE) {
		memcpy(d, s, len);
		return;
	}
	for (; len; len -= n, d += n, s += n) {
		n = len < Q_COPY_PIECE ? len : Q_COPY_PIECE;
		/* n's bound hidden: GCC would inline a copy of at most a
		 * piece as a string instruction of its choice */
		__asm__("" : "+r"(n));
		memcpy(d, s, n);
	}
#endif
}

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
	struct q_rec *r = q_write_head(q, start, size, len, len);

	q_copy(payload(q, start), msg, len);
	/* relaxed: the payload, header and state are published by the
	 * release of prod_head. No slot: READY states carry none (as after
	 * q_commit_rec(); q_done() expects them so). */
	atomic_store_explicit(&r->state,
			      tag_of(start) | ST_READY | ST_FIRST | ST_LAST,
			      memory_order_relaxed);
	atomic_store_explicit(&h->prod_head, next_pos(q, start, size),
			      memory_order_release);
}

/*
 * The payload of a message from Q_PROG_MIN bytes, into its BUSY record
 * (ST_PROG) in Q_PROG_PARTS parts of at least Q_PROG_GRAIN bytes, telling
 * after each how far it is in the record's `done`: a receiver that spins
 * copies each part out while we write the next (q_next()), instead of
 * waiting for the whole before it begins. A few stores more for us, a
 * round trip close to one copy shorter for it.
 */
#ifndef Q_PROG_MIN
#define Q_PROG_MIN	(16U << 10)
#endif
#ifndef Q_PROG_PARTS
#define Q_PROG_PARTS	16U
#endif
#ifndef Q_PROG_GRAIN
#define Q_PROG_GRAIN	(8U << 10)
#endif

static void q_copy_told(struct q_rec *r, uint8_t *d, const uint8_t *s,
			size_t len)
{
	size_t part = len / Q_PROG_PARTS, off, n;

	if (part < Q_PROG_GRAIN)
		part = Q_PROG_GRAIN;
	for (off = 0; off < len; off += n) {
		n = len - off < part ? len - off : part;
		q_copy(d + off, s + off, n);
		/* release: the bytes below it are written (q_avail()) */
		atomic_store_explicit(&r->done, off + n, memory_order_release);
	}
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
		/* the unlock's exchange is the fence */
		q_kick_after_rmw(q, false, true);
		return 0;
	}
	if (len >= Q_PROG_MIN) {
		q_publish(q, start, size, (uint32_t)len, len,
			  ST_FIRST | ST_LAST | ST_PROG);
		q_unlock(q, &q->h->prod_lock);
		q_copy_told(rec_at(q, start), payload(q, start), msg, len);
	} else {
		q_publish(q, start, size, (uint32_t)len, len,
			  ST_FIRST | ST_LAST);
		q_unlock(q, &q->h->prod_lock);
		q_copy(payload(q, start), msg, len);
	}
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
		q_copy(payload(q, start), msg + off, n);
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
	uint64_t got = 0, first = pos, end;
	struct q_rec *r;
	int ret;

	for (;;) {
		r = rec_at(q, pos);
		if (r->len > total - got || (st & ST_FIRST && r->total != total))
			return -EPROTO;
		end = q_claim(q, pos, r->size);
		q_copy(buf + got, payload(q, pos), r->len);
		got += r->len;
		q_release_rec(q, pos, st, end);
		if (st & ST_LAST)
			return got == total ? (ssize_t)total : -EPROTO;
		ret = q_next_round(q, first, &pos, &st);
		if (ret)
			return ret;
	}
}

/*
 * Under cons_lock, a small message at cons_head (@pos, state @st), when
 * cons_tail is there too (no record before it is still held by another
 * receiver): copied out under the lock, as a sender copies it in, and
 * freed at once: marked DONE, then cons_head and cons_tail moved past it.
 * No claim note and no CAS: nobody else changes a READY record at
 * cons_head or moves cons_head without the lock, and a reclaimer that
 * finds the record DONE stops at cons_head, which is ours: it can only
 * move cons_tail to where we move it. The order is the one every library
 * version mends after a receiver killed at any point of it: DONE at
 * cons_head is passed over (q_head()), DONE records below cons_head are
 * freed by whoever reclaims (the same state as after a claim and a
 * release). Tail before head would not be: a 1.2 reaper leaves the head
 * behind the tail, and the next receiver gets the message again, or an
 * overwritten record (-EPROTO) for good. Returns false, having done
 * nothing, when cons_tail is elsewhere.
 */
static HOT bool q_take_small(struct shmchan_queue *q, void *buf, uint64_t pos,
			     uint64_t st, uint64_t len)
{
	struct q_hdr *h = q->h;
	struct q_rec *r = rec_at(q, pos);
	uint64_t end;

	/* acquire: the reads of whoever moved cons_tail here are done
	 * before the room is reused, which our release below passes on */
	if (atomic_load_explicit(&h->cons_tail, memory_order_acquire) != pos)
		return false;
	end = next_pos(q, pos, r->size);
	q_copy(buf, payload(q, pos), len);
	/* release: our reads of the record are done before it reads DONE */
	atomic_store_explicit(&r->state, st_tag(st) | (st & ST_KIND) | ST_DONE,
			      memory_order_release);
	atomic_store_explicit(&h->cons_head, end, memory_order_release);
	/* release: our reads of the record are done before producers,
	 * who read the tail with acquire, write there again */
	atomic_store_explicit(&h->cons_tail, end, memory_order_release);
	return true;
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
	ret = send_check(q);
	if (ret)
		return ret;
	shmchan__deadline_init(&d, timeout_ns);
	if (len <= q->max_rec - REC_HDR)
		return q_send_one(q, msg, len, &d);
	return q_send_rounds(q, msg, len, &d);
}

SHMCHAN_EXPORT
ssize_t shmchan_queue_recv(struct shmchan_queue *q, void *buf, size_t cap,
			   int64_t timeout_ns)
{
	struct q_part part = { .cap = cap, .pos = POS_NONE };
	struct shmchan__deadline d;
	uint64_t pos = 0, st = 0, len, skip, end;
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
		/* copying out while the sender copies in: not with timeout
		 * 0, where we would copy what is there and return -EAGAIN */
		ret = q_next(q, &d, &pos, &st, d.nowait ? NULL : &part);
		if (ret == -EINPROGRESS) {
			q_copy((uint8_t *)buf + part.got,
			       payload(q, pos) + part.got,
			       part.avail - part.got);
			part.got = part.avail;
			continue;
		}
		if (ret)
			break;
		len = msg_len(q, pos, st);
		if (len > cap || len > SSIZE_MAX) {
			ret = -EMSGSIZE;
			break;
		}
		if (st & ST_LAST && len <= SEND_INLINE_MAX &&
		    q_take_small(q, buf, pos, st, len)) {
			q_unlock(q, &q->h->cons_lock);
			/* the unlock's exchange is the fence */
			q_kick_after_rmw(q, true, false);
			return (ssize_t)len;
		}
		if (st & ST_LAST) {
			/* what we copied while it was written, if it is this
			 * message: READY, it was all written as we saw it */
			skip = part.pos != pos ? 0 : part.got < len ? part.got : len;
			end = q_claim(q, pos, rec_at(q, pos)->size);
			q_unlock(q, &q->h->cons_lock);
			q_copy((uint8_t *)buf + skip, payload(q, pos) + skip,
			       len - skip);
			q_release_rec(q, pos, st, end);
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
	ret = q_next(q, &d, &pos, &st, NULL);
	if (!ret)
		ret = (int64_t)msg_len(q, pos, st);
	q_unlock(q, &q->h->cons_lock);
	return ret;
}
