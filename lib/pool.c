// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A pool of small segments whose IDs are passed: a channel of fixed-size
 * blocks, named by index, owned by processes, handed between them.
 *
 * Layout of the channel:
 *
 *   0            struct pool_hdr: magic, layout, geometry, wait line
 *   bitmap_off   one bit per block, a hint of which are taken
 *   owners_off   one 64-bit owner word per block
 *   blocks_off   the blocks, page-aligned, block_size (a multiple of 64)
 *                apart
 *
 * The owner word is the truth: 0 for a free block, OWNER_DETACHED for one
 * in transit between processes, else the owner's pid and the low 32 bits
 * of its start time. Allocation takes a block by CAS of its owner word
 * from 0 to the caller, after finding a clear bit; freeing clears the
 * owner word, then the bit. Each step is one atomic operation, so a
 * process killed anywhere leaves at worst a block owned by a dead
 * process, or a bit set over a free block; recovery (shmchan_pool_recover,
 * and any allocation that finds the pool empty or is woken by a death)
 * frees the former and clears the latter.
 *
 * Memory ordering: taking a block (CAS of its owner word) is an acquire
 * that pairs with the release of its last owner's free or detach, so the
 * new owner sees the block as it was left. The bitmap is a hint: set
 * relaxed, cleared with release after the owner word, read with acquire.
 * The sleepers count is relaxed, read after a seq_cst fence that pairs
 * with the allocator's (pool_kick()).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "peers.h"

#define POOL_MAGIC	0x4c4f4f50U	/* "POOL" */
#define POOL_INIT	0x54494e49U	/* being laid out */
#define POOL_HDR	4096ULL
#define POOL_MAX_BLOCKS	(1U << 24)
#define OWNER_DETACHED	UINT64_MAX

struct pool_hdr {
	_Atomic uint32_t magic;
	uint32_t layout;
	uint32_t block_size;
	uint32_t nblocks;
	_Alignas(8) uint64_t chan_len;
	_Alignas(8) uint64_t bitmap_off;
	_Alignas(8) uint64_t owners_off;
	_Alignas(8) uint64_t blocks_off;
	_Atomic int32_t init_pid;
	/* written only when someone sleeps, or frees with sleepers */
	_Alignas(64) _Atomic uint32_t free_seq;
	_Atomic uint32_t sleepers;
};

_Static_assert(__builtin_offsetof(struct pool_hdr, blocks_off) == 40, "layout");
_Static_assert(__builtin_offsetof(struct pool_hdr, free_seq) == 64, "layout");

struct pool_msg {
	uint32_t magic;
	uint32_t index;
};

struct shmchan_pool {
	struct shmchan *ch;
	struct pool_hdr *h;
	size_t map_len;
	_Atomic uint32_t *bitmap;
	_Atomic uint64_t *owners;
	uint8_t *blocks;
	uint32_t block_size;
	uint32_t nblocks;
	uint32_t nwords;
	_Atomic uint64_t me;		/* our owner word */
	_Atomic unsigned int gen;	/* the fork generation @me is of */
	struct shmchan__status status;
	bool death_notice;
	_Atomic uint32_t deaths;	/* at our last recovery */
	_Atomic uint32_t hint;		/* where our searches start */
};

/* The owner word of process @pid that started at @start. */
static uint64_t owner_word(pid_t pid, uint64_t start)
{
	return (start & UINT32_MAX) << 32 | (uint32_t)pid;
}

/*
 * Our owner word. In a child of fork(), the child's own from its first
 * call: blocks it takes are its, so that they are freed if it dies, and it
 * cannot free the parent's as if they were its own. Threads of the child
 * that race here compute the same value.
 */
static uint64_t pool_me(struct shmchan_pool *p)
{
	unsigned int gen = shmchan__fork_generation();
	uint64_t start;
	pid_t pid;

	/* acquire, release: a thread that sees the new generation sees the
	 * owner word that goes with it */
	if (__builtin_expect(atomic_load_explicit(&p->gen, memory_order_acquire) != gen, 0) &&
	    shmchan__self(&pid, &start) == 0) {
		atomic_store_explicit(&p->me, owner_word(pid, start),
				      memory_order_relaxed);
		atomic_store_explicit(&p->gen, gen, memory_order_release);
	}
	return atomic_load_explicit(&p->me, memory_order_relaxed);
}

/* -EIDRM once the pool's channel was revoked: one load, no system call. */
static inline int pool_revoked(const struct shmchan_pool *p)
{
	return shmchan__status_revoked(shmchan__status_read(&p->status)) ?
	       -EIDRM : 0;
}

static void geometry(uint32_t block_size, uint32_t nblocks, uint64_t *bitmap,
		     uint64_t *owners, uint64_t *blocks, uint64_t *len)
{
	uint64_t words = (nblocks + 31) / 32;

	*bitmap = POOL_HDR;
	*owners = (*bitmap + words * 4 + 63) & ~63ULL;
	*blocks = (*owners + (uint64_t)nblocks * 8 + 4095) & ~4095ULL;
	*len = *blocks + (uint64_t)nblocks * block_size;
}

static inline uint64_t word_off(const struct shmchan_pool *p,
				const _Atomic uint32_t *w)
{
	return (uint64_t)((const uint8_t *)w - (const uint8_t *)p->h);
}

/* ------------------------------------------------------------ blocks */

static void bit_set(struct shmchan_pool *p, uint32_t i, bool on)
{
	uint32_t bit = 1U << (i % 32);

	/* The owner word decides; the bit only guides searches. */
	if (on)
		atomic_fetch_or_explicit(&p->bitmap[i / 32], bit,
					 memory_order_relaxed);
	else
		atomic_fetch_and_explicit(&p->bitmap[i / 32], ~bit,
					  memory_order_release);
}

/* A block for us, or -ENOSPC. */
static int try_alloc(struct shmchan_pool *p, uint32_t *index)
{
	uint32_t start = atomic_load_explicit(&p->hint, memory_order_relaxed);
	uint64_t zero, me = pool_me(p);
	uint32_t k, w, v, b, i;

	for (k = 0; k < p->nwords; k++) {
		w = (start + k) % p->nwords;
		/* acquire: a clear bit comes after its owner word was cleared */
		v = atomic_load_explicit(&p->bitmap[w], memory_order_acquire);
		while (v != UINT32_MAX) {
			b = (uint32_t)__builtin_ctz(~v);
			i = w * 32 + b;
			v |= 1U << b;
			if (i >= p->nblocks)
				break;
			zero = 0;
			/* acquire: the block's contents come after the last
			 * owner let go of it (release in shmchan_pool_free()) */
			if (!atomic_compare_exchange_strong_explicit(
					&p->owners[i], &zero, me,
					memory_order_acquire,
					memory_order_relaxed))
				continue;
			bit_set(p, i, true);
			atomic_store_explicit(&p->hint, w, memory_order_relaxed);
			*index = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Wake allocators that sleep, if any (after blocks were freed). */
static void pool_kick(struct shmchan_pool *p, uint32_t count)
{
	/* Pairs with the fence in shmchan_pool_alloc(): either we see the
	 * sleeper, or it sees the block we freed. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&p->h->sleepers, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&p->h->free_seq, 1, memory_order_release);
	shmchan_wake(p->ch, word_off(p, &p->h->free_seq), count);
}

static bool owner_alive(uint64_t o)
{
	return shmchan__alive((pid_t)(o & UINT32_MAX), o >> 32, UINT32_MAX,
			      false);
}

/* Free the blocks of dead owners (and detached ones, if asked). */
static int pool_recover(struct shmchan_pool *p, bool detached)
{
	uint64_t o, alive[8] = { 0 }, me = pool_me(p);
	uint32_t i, k, n = 0, next = 0;

	for (i = 0; i < p->nblocks; i++) {
		o = atomic_load_explicit(&p->owners[i], memory_order_relaxed);
		if (!o) {
			/* A bit over a free block: left by a process that died
			 * freeing it. Only a hint, so clearing it is safe even
			 * if an allocation just took the block. */
			if (atomic_load_explicit(&p->bitmap[i / 32],
						 memory_order_relaxed) & (1U << (i % 32)))
				bit_set(p, i, false);
			continue;
		}
		if (o == me)
			continue;
		if (o == OWNER_DETACHED) {
			if (!detached)
				continue;
		} else {
			/* a few owners found alive: one /proc read each */
			for (k = 0; k < 8 && alive[k] != o; k++)
				;
			if (k < 8)
				continue;
			if (owner_alive(o)) {
				alive[next++ % 8] = o;
				continue;
			}
		}
		/* release: as in shmchan_pool_free() */
		if (atomic_compare_exchange_strong_explicit(
				&p->owners[i], &o, 0, memory_order_release,
				memory_order_relaxed)) {
			bit_set(p, i, false);
			n++;
		}
	}
	if (n)
		pool_kick(p, SHMCHAN_WAKE_ALL);
	return (int)n;
}

/* ------------------------------------------------------------ setup */

static int pool_await(struct shmchan_pool *p)
{
	uint64_t blank_until = shmchan__now_ns() + 200000000ULL;
	struct shmchan__deadline d;
	uint32_t v;

	for (;;) {
		/* acquire: pairs with the release in pool_format() */
		v = atomic_load_explicit(&p->h->magic, memory_order_acquire);
		if (v == POOL_MAGIC)
			return 0;
		if ((v == 0 && shmchan__now_ns() >= blank_until) ||
		    (v != 0 && v != POOL_INIT))
			return -EPROTO;
		if (v == POOL_INIT &&
		    !shmchan__alive(atomic_load_explicit(&p->h->init_pid,
							 memory_order_relaxed),
				    0, 0, false))
			return -EPROTO;
		shmchan__deadline_init(&d, 20000000);
		(void)shmchan_wait(p->ch, 0, v, shmchan__deadline_ts(&d));
	}
}

static void pool_format(struct shmchan_pool *p, uint32_t block_size,
			uint32_t nblocks)
{
	struct pool_hdr *h = p->h;
	uint32_t tail = nblocks % 32;

	atomic_store_explicit(&h->init_pid, (int32_t)(pool_me(p) & UINT32_MAX),
			      memory_order_relaxed);
	atomic_store_explicit(&h->magic, POOL_INIT, memory_order_relaxed);
	h->layout = SHMCHAN_POOL_LAYOUT;
	h->block_size = block_size;
	h->nblocks = nblocks;
	h->chan_len = p->map_len;
	geometry(block_size, nblocks, &h->bitmap_off, &h->owners_off,
		 &h->blocks_off, &h->chan_len);
	/* bits past the last block stay set: never a block */
	if (tail)
		atomic_store_explicit(
			(_Atomic uint32_t *)((uint8_t *)h + h->bitmap_off) +
				nblocks / 32,
			~((1U << tail) - 1), memory_order_relaxed);
	/* release: an opener that sees the magic sees the layout */
	atomic_store_explicit(&h->magic, POOL_MAGIC, memory_order_release);
	shmchan_wake(p->ch, 0, SHMCHAN_WAKE_ALL);
}

static int pool_check(struct shmchan_pool *p)
{
	struct pool_hdr *h = p->h;
	uint64_t b, o, k, len;

	if (h->layout != SHMCHAN_POOL_LAYOUT || !h->nblocks ||
	    h->nblocks > POOL_MAX_BLOCKS || !h->block_size || h->block_size % 64)
		return -EPROTO;
	geometry(h->block_size, h->nblocks, &b, &o, &k, &len);
	if (h->bitmap_off != b || h->owners_off != o || h->blocks_off != k ||
	    h->chan_len != len || len > p->map_len)
		return -EPROTO;
	p->block_size = h->block_size;
	p->nblocks = h->nblocks;
	p->nwords = (h->nblocks + 31) / 32;
	p->bitmap = (_Atomic uint32_t *)((uint8_t *)h + b);
	p->owners = (_Atomic uint64_t *)((uint8_t *)h + o);
	p->blocks = (uint8_t *)h + k;
	return 0;
}

static int pool_attach(struct shmchan *ch, uint32_t block_size,
		       uint32_t nblocks, struct shmchan_pool **out)
{
	struct shmchan_pool *p;
	uint64_t features, start, len = shmchan_length(ch);
	void *base;
	pid_t pid;
	int ret;

	if ((size_t)len != len) {
		shmchan_close(ch);
		return -EFBIG;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		shmchan_close(ch);
		return -ENOMEM;
	}
	p->ch = ch;
	ret = shmchan__self(&pid, &start);
	if (ret)
		goto fail;
	shmchan__fork_init();
	atomic_store(&p->gen, shmchan__fork_generation());
	atomic_store(&p->me, owner_word(pid, start));
	features = shmchan__features();
	p->death_notice = features & SHMCHAN_FEATURE_DEATH_NOTICE;
	shmchan__status_map(ch, features, &p->status);
	if (p->death_notice) {
		uint32_t deaths;

		ret = shmchan__deaths(ch, &deaths);
		if (ret)
			goto fail;
		atomic_store(&p->deaths, deaths);
	}
	ret = shmchan_map(ch, PROT_READ | PROT_WRITE, &base);
	if (ret)
		goto fail;
	p->h = base;
	p->map_len = (size_t)len;
	if (len < POOL_HDR)
		ret = -EPROTO;
	else if (shmchan_was_created(ch))
		pool_format(p, block_size, nblocks);
	else
		ret = pool_await(p);
	if (!ret)
		ret = pool_check(p);
	if (ret)
		goto fail;
	*out = p;
	return 0;
fail:
	if (p->h)
		shmchan_unmap(p->h, p->map_len);
	shmchan__status_unmap(&p->status);
	shmchan_close(ch);
	free(p);
	return ret;
}

/* ------------------------------------------------------------ API */

SHMCHAN_EXPORT
int shmchan_pool_create(const char *name, uint32_t block_size,
			uint32_t nblocks, mode_t mode, unsigned int flags,
			struct shmchan_pool **out)
{
	uint64_t b, o, k, len;
	unsigned int cflags = 0;
	struct shmchan *ch;
	int ret;

	if (!name || !out || !block_size || !nblocks ||
	    nblocks > POOL_MAX_BLOCKS || block_size > UINT32_MAX - 63 ||
	    flags & ~(SHMCHAN_POOL_EXCL | SHMCHAN_POOL_TRANSIENT))
		return -EINVAL;
	block_size = (block_size + 63) & ~63U;
	geometry(block_size, nblocks, &b, &o, &k, &len);
	if (flags & SHMCHAN_POOL_EXCL)
		cflags |= SHMCHAN_CREATE_EXCL;
	if (flags & SHMCHAN_POOL_TRANSIENT)
		cflags |= SHMCHAN_CREATE_TRANSIENT;
	ret = shmchan_create(name, len, mode, cflags, &ch);
	if (ret)
		return ret;
	return pool_attach(ch, block_size, nblocks, out);
}

SHMCHAN_EXPORT
int shmchan_pool_open(const char *name, struct shmchan_pool **out)
{
	struct shmchan *ch;
	int ret;

	if (!name || !out)
		return -EINVAL;
	ret = shmchan_open(name, 0, &ch);
	if (ret)
		return ret;
	return pool_attach(ch, 0, 0, out);
}

SHMCHAN_EXPORT
void shmchan_pool_close(struct shmchan_pool *p)
{
	if (!p)
		return;
	shmchan_unmap(p->h, p->map_len);
	shmchan__status_unmap(&p->status);
	shmchan_close(p->ch);
	free(p);
}

/* A death since our last look: recover, and note the count. */
static int pool_deaths(struct shmchan_pool *p)
{
	uint32_t deaths;
	int ret;

	ret = shmchan__deaths(p->ch, &deaths);
	if (ret)
		return ret;
	atomic_store_explicit(&p->deaths, deaths, memory_order_relaxed);
	pool_recover(p, false);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_pool_alloc(struct shmchan_pool *p, int64_t timeout_ns,
		       uint32_t *index)
{
	struct shmchan__deadline d;
	_Atomic uint32_t *seq;
	uint32_t val;
	bool recovered = false;
	int ret;

	if (!p || !index)
		return -EINVAL;
	ret = pool_revoked(p);
	if (ret)
		return ret;
	if (!try_alloc(p, index))
		return 0;
	shmchan__deadline_init(&d, timeout_ns);
	seq = &p->h->free_seq;
	for (;;) {
		/* Empty: perhaps the dead hold blocks. Once per call, and
		 * again after each death. */
		if (!recovered) {
			recovered = true;
			if (pool_recover(p, false) > 0 && !try_alloc(p, index))
				return 0;
		}
		if (d.nowait)
			return -EAGAIN;
		atomic_fetch_add_explicit(&p->h->sleepers, 1, memory_order_relaxed);
		/* Pairs with the fence in pool_kick(). */
		atomic_thread_fence(memory_order_seq_cst);
		val = atomic_load_explicit(seq, memory_order_acquire);
		ret = try_alloc(p, index);
		if (ret && p->death_notice)
			ret = shmchan_wait_deaths(p->ch, word_off(p, seq), val,
						  atomic_load_explicit(&p->deaths, memory_order_relaxed),
						  shmchan__deadline_ts(&d));
		else if (ret)
			ret = shmchan_wait(p->ch, word_off(p, seq), val,
					   shmchan__deadline_ts(&d));
		else
			ret = 1;
		atomic_fetch_sub_explicit(&p->h->sleepers, 1, memory_order_relaxed);
		if (ret == 1)
			return 0;
		if (ret == -EOWNERDEAD) {
			ret = pool_deaths(p);
			if (ret)
				return ret;
		} else if (ret && ret != -EAGAIN) {
			return ret;
		}
		if (!try_alloc(p, index))
			return 0;
	}
}

static int check_index(const struct shmchan_pool *p, uint32_t index)
{
	return !p || index >= p->nblocks ? -EINVAL : 0;
}

SHMCHAN_EXPORT
int shmchan_pool_free(struct shmchan_pool *p, uint32_t index)
{
	uint64_t o;
	int ret;

	ret = check_index(p, index);
	if (ret)
		return ret;
	o = atomic_load_explicit(&p->owners[index], memory_order_relaxed);
	if (o != pool_me(p) && o != OWNER_DETACHED)
		return o ? -EPERM : -EINVAL;
	/* release: our use of the block ends before the next owner's */
	if (!atomic_compare_exchange_strong_explicit(&p->owners[index], &o, 0,
						     memory_order_release,
						     memory_order_relaxed))
		return -EPERM;
	bit_set(p, index, false);
	pool_kick(p, 1);
	return 0;
}

SHMCHAN_EXPORT
void *shmchan_pool_block(struct shmchan_pool *p, uint32_t index)
{
	if (check_index(p, index))
		return NULL;
	return p->blocks + (uint64_t)index * p->block_size;
}

/* Owner word @from to @to: detach and attach. */
static int hand_over(struct shmchan_pool *p, uint32_t index, uint64_t from,
		     uint64_t to)
{
	int ret = check_index(p, index);

	if (ret)
		return ret;
	/* acq_rel: what the giver wrote in the block is the taker's to see;
	 * a queue message between them orders it too */
	if (!atomic_compare_exchange_strong_explicit(&p->owners[index], &from, to,
						     memory_order_acq_rel,
						     memory_order_relaxed))
		return -EPERM;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_pool_detach(struct shmchan_pool *p, uint32_t index)
{
	return hand_over(p, index, p ? pool_me(p) : 0, OWNER_DETACHED);
}

SHMCHAN_EXPORT
int shmchan_pool_attach(struct shmchan_pool *p, uint32_t index)
{
	return hand_over(p, index, OWNER_DETACHED, p ? pool_me(p) : 0);
}

SHMCHAN_EXPORT
int shmchan_pool_recover(struct shmchan_pool *p, unsigned int flags)
{
	if (!p || flags & ~SHMCHAN_POOL_RECOVER_DETACHED)
		return -EINVAL;
	return pool_recover(p, flags & SHMCHAN_POOL_RECOVER_DETACHED);
}

SHMCHAN_EXPORT
int shmchan_pool_stats(struct shmchan_pool *p, struct shmchan_pool_stats *out)
{
	uint64_t o;
	uint32_t i;

	if (!p || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->block_size = p->block_size;
	out->nblocks = p->nblocks;
	for (i = 0; i < p->nblocks; i++) {
		o = atomic_load_explicit(&p->owners[i], memory_order_relaxed);
		if (!o)
			out->free++;
		else if (o == OWNER_DETACHED)
			out->detached++;
		else if (o == pool_me(p) || owner_alive(o))
			out->owned++;
		else
			out->owned_by_dead++;
	}
	return 0;
}

#define POOL_MSG_MAGIC	0x44494c42U	/* "BLID" */

SHMCHAN_EXPORT
int shmchan_pool_send(struct shmchan_pool *p, struct shmchan_queue *q,
		      uint32_t index, int64_t timeout_ns)
{
	struct pool_msg msg = { POOL_MSG_MAGIC, index };
	int ret;

	if (!p || !q)
		return -EINVAL;
	ret = pool_revoked(p);
	if (ret)
		return ret;
	ret = shmchan_pool_detach(p, index);
	if (ret)
		return ret;
	ret = shmchan_queue_send(q, &msg, sizeof(msg), timeout_ns);
	if (ret)
		shmchan_pool_attach(p, index);	/* still ours */
	return ret;
}

SHMCHAN_EXPORT
int shmchan_pool_recv(struct shmchan_pool *p, struct shmchan_queue *q,
		      uint32_t *index, int64_t timeout_ns)
{
	struct pool_msg msg;
	ssize_t ret;

	if (!p || !q || !index)
		return -EINVAL;
	ret = pool_revoked(p);
	if (ret)
		return (int)ret;
	ret = shmchan_queue_recv(q, &msg, sizeof(msg), timeout_ns);
	if (ret < 0)
		return (int)ret;
	if (ret != sizeof(msg) || msg.magic != POOL_MSG_MAGIC ||
	    msg.index >= p->nblocks)
		return -EPROTO;
	ret = shmchan_pool_attach(p, msg.index);
	if (ret)
		return (int)ret;
	*index = msg.index;
	return 0;
}
