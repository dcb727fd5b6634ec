// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * One large channel with a manager: a variable-size allocator inside part
 * of a channel, shared by every process that maps it.
 *
 * Layout at the heap's offset (all links are offsets from the heap's
 * start, never pointers):
 *
 *   struct heap_hdr   magic, layout, size, the robust mutex, statistics
 *                     and the heads of HEAP_BINS free lists
 *   blocks            from HEAP_FIRST to size - 16, each with a 16-byte
 *                     header (size and flags, and a check word), tiling
 *                     the space; a used 16-byte sentinel ends it
 *
 * A free block also keeps its size in its last 8 bytes (a boundary tag)
 * and two list links after its header, so that freeing coalesces with
 * both neighbours in constant time. Bin k holds free blocks of 2^k to
 * 2^(k+1) - 1 bytes; allocation takes the first fit of its own bin, or
 * the head of any larger one, and splits off the rest.
 *
 * The heap's lock is a shmchan_mutex. Block sizes change only by single
 * 8-byte stores, ordered so that the blocks always tile the heap: a split
 * writes the remainder's header before shrinking the block, a merge grows
 * the surviving block in one store. So when a process dies holding the
 * lock (the next locker gets -EOWNERDEAD), walking the blocks by their
 * sizes finds every block, and the free lists and statistics are rebuilt
 * from that walk. At worst the block being allocated at that moment is
 * lost.
 *
 * Growing (SHMCHAN_HEAP_GROW, layout 2 so that older libraries refuse
 * such a heap): the heap reaches the channel's end, every user maps the
 * channel's whole reserve at its context's base, and an allocation that
 * finds no room grows the channel (shmchan_resize(), never shrinking)
 * and the heap into it, under the heap's lock. The new space becomes one
 * free block where the end sentinel was, a new sentinel is written at the
 * new end first and the header's size last: a process that dies before
 * that store leaves the old heap, whose walk stops at the old end and
 * whose sentinel the rebuild writes again; after it, the new one.
 *
 * Memory ordering: everything in the heap is read and written under its
 * mutex, whose acquire and release order it for the next holder; the
 * block sizes are relaxed atomics only so that an 8-byte store is never
 * torn (on 32-bit machines too), for the walk after a death.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peers.h"

#define HEAP_MAGIC	0x50414548U	/* "HEAP" */
#define HEAP_LAYOUT	1
#define HEAP_LAYOUT_GROW 2	/* @max_size set: grows with the channel */
#define HEAP_BINS	48
#define HEAP_ALIGN	SHMCHAN_HEAP_ALIGN
#define BLK_HDR		16ULL
#define BLK_MIN		48ULL		/* header, two links, boundary tag */
#define BLK_USED	1ULL
#define BLK_PREV_USED	2ULL
#define BLK_FLAGS	(BLK_USED | BLK_PREV_USED)
#define BLK_CHECK	0x9e3779b97f4a7c15ULL
#define HEAP_MIN_LEN	4096ULL

struct heap_hdr {
	_Atomic uint32_t magic;
	uint32_t layout;
	uint64_t size;
	struct shmchan_mutex lock;
	uint64_t used;
	uint64_t allocs;
	uint64_t free_blocks;
	uint64_t max_size;	/* HEAP_LAYOUT_GROW: the most it may grow to */
	uint64_t bins[HEAP_BINS];
};

#define HEAP_FIRST	((sizeof(struct heap_hdr) + HEAP_ALIGN - 1) & ~(HEAP_ALIGN - 1))

_Static_assert(sizeof(struct heap_hdr) == 448, "heap header layout");

/*
 * struct blk - a block's header
 * @size: bytes of the block, header included, with BLK_* flags in the
 *	low bits; 8-byte atomic stores keep a dead writer's trace walkable
 * @check: the block's offset mixed with a constant: free() rejects
 *	offsets that are not blocks
 * A free block continues with @next and @prev links (offsets, 0 = none)
 * and ends with its size.
 */
struct blk {
	_Alignas(8) _Atomic uint64_t size;
	_Alignas(8) uint64_t check;
	_Alignas(8) uint64_t next;
	_Alignas(8) uint64_t prev;
};

_Static_assert(sizeof(struct blk) == 32, "block header layout");

struct shmchan_heap {
	struct shmchan_sync *s;
	struct heap_hdr *h;
	uint8_t *mem;		/* the heap's start in our mapping */
	uint64_t offset;	/* and in the channel */
	bool grow;		/* a HEAP_LAYOUT_GROW heap */
};

/* ------------------------------------------------------------ blocks */

static inline struct blk *blk(const struct shmchan_heap *hp, uint64_t off)
{
	return (struct blk *)(hp->mem + off);
}

static inline uint64_t bsize(const struct blk *b)
{
	return atomic_load_explicit(&b->size, memory_order_relaxed) & ~BLK_FLAGS;
}

static inline uint64_t bflags(const struct blk *b)
{
	return atomic_load_explicit(&b->size, memory_order_relaxed) & BLK_FLAGS;
}

/* Under the lock, relaxed: the mutex orders it for the next holder. */
static inline void set_size(struct blk *b, uint64_t size, uint64_t flags)
{
	atomic_store_explicit(&b->size, size | flags, memory_order_relaxed);
}

static inline void set_tag(const struct shmchan_heap *hp, uint64_t off,
			   uint64_t size)
{
	memcpy(hp->mem + off + size - 8, &size, 8);
}

static inline uint64_t prev_tag(const struct shmchan_heap *hp, uint64_t off)
{
	uint64_t size;

	memcpy(&size, hp->mem + off - 8, 8);
	return size;
}

static unsigned int bin_of(uint64_t size)
{
	unsigned int b = 63 - (unsigned int)__builtin_clzll(size);

	return b < HEAP_BINS ? b : HEAP_BINS - 1;
}

static void list_add(struct shmchan_heap *hp, uint64_t off)
{
	struct blk *b = blk(hp, off);
	uint64_t *head = &hp->h->bins[bin_of(bsize(b))];

	b->prev = 0;
	b->next = *head;
	if (*head)
		blk(hp, *head)->prev = off;
	*head = off;
	hp->h->free_blocks++;
}

static void list_del(struct shmchan_heap *hp, uint64_t off)
{
	struct blk *b = blk(hp, off);

	if (b->prev)
		blk(hp, b->prev)->next = b->next;
	else
		hp->h->bins[bin_of(bsize(b))] = b->next;
	if (b->next)
		blk(hp, b->next)->prev = b->prev;
	hp->h->free_blocks--;
}

/* The flag of the block after @off that tells whether @off is used. */
static void set_prev_used(struct shmchan_heap *hp, uint64_t off, bool used)
{
	struct blk *n = blk(hp, off + bsize(blk(hp, off)));
	uint64_t f = bflags(n);

	set_size(n, bsize(n), used ? f | BLK_PREV_USED : f & ~BLK_PREV_USED);
}

/* Make [off, off + size) a free block in its list, with its tag. */
static void make_free(struct shmchan_heap *hp, uint64_t off, uint64_t size,
		      uint64_t prev_used)
{
	struct blk *b = blk(hp, off);

	b->check = off ^ BLK_CHECK;
	set_tag(hp, off, size);
	set_size(b, size, prev_used);
	list_add(hp, off);
	set_prev_used(hp, off, false);
}

/* ------------------------------------------------------------ repair */

/*
 * Rebuild the free lists, flags and statistics from the blocks' sizes,
 * merging free neighbours: after a process died holding the lock.
 */
static int heap_rebuild(struct shmchan_heap *hp)
{
	struct heap_hdr *h = hp->h;
	uint64_t end = h->size - BLK_HDR, off = HEAP_FIRST, size, run = 0;
	bool prev_used = true;
	struct blk *b;

	memset(h->bins, 0, sizeof(h->bins));
	h->used = 0;
	h->allocs = 0;
	h->free_blocks = 0;
	while (off < end) {
		b = blk(hp, off);
		size = bsize(b);
		if (size < BLK_MIN || size % HEAP_ALIGN || size > end - off)
			return -EPROTO;
		if (bflags(b) & BLK_USED) {
			if (run) {
				make_free(hp, off - run, run, BLK_PREV_USED);
				run = 0;
			}
			b->check = off ^ BLK_CHECK;
			set_size(b, size, BLK_USED | (prev_used ? BLK_PREV_USED : 0));
			h->used += size;
			h->allocs++;
			prev_used = true;
		} else {
			run += size;
			prev_used = false;
		}
		off += size;
	}
	if (off != end)
		return -EPROTO;
	if (run)
		make_free(hp, off - run, run, BLK_PREV_USED);
	b = blk(hp, end);
	set_size(b, BLK_HDR, BLK_USED | (run ? 0 : BLK_PREV_USED));
	return 0;
}

static int heap_lock(struct shmchan_heap *hp)
{
	int ret = shmchan_mutex_lock(hp->s, &hp->h->lock, SHMCHAN_FOREVER);

	if (ret != -EOWNERDEAD)
		return ret;
	ret = heap_rebuild(hp);
	if (ret) {
		/* beyond repair: unlocking unrepaired makes it unusable */
		shmchan_mutex_unlock(hp->s, &hp->h->lock);
		return ret;
	}
	return shmchan_mutex_consistent(hp->s, &hp->h->lock);
}

static void heap_unlock(struct shmchan_heap *hp)
{
	shmchan_mutex_unlock(hp->s, &hp->h->lock);
}

/* ------------------------------------------------------------ growing */

/*
 * Whether one mapping (VMA) starts at @base with file offset 0 and spans
 * @len bytes: the mappings of a channel are never merged with their
 * neighbours, so only one mmap() of the whole range passes.
 */
static bool maps_whole(const uint8_t *base, uint64_t len)
{
	unsigned long long start, end, off;
	bool ok = false;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx", &start, &end, &off) != 3)
			continue;
		if (start == (uintptr_t)base) {
			ok = !off && end - start >= len;
			break;
		}
	}
	fclose(f);
	return ok;
}

/*
 * The channel's reserve, and whether the caller's mapping at the context's
 * base covers it. The heap must then end where the channel ends.
 */
static int heap_reserve(struct shmchan_sync *s, uint64_t *length,
			uint64_t *max_length)
{
	struct shmchan_stat st;
	int ret;

	ret = shmchan_stat(s->ch, &st);
	if (ret)
		return ret;
	if (!(shmchan__features() & SHMCHAN_FEATURE_RESIZE) ||
	    st.max_length <= st.length || st.max_length > SIZE_MAX ||
	    !maps_whole(s->base, st.max_length))
		return -EINVAL;
	*length = st.length;
	*max_length = st.max_length;
	return 0;
}

/*
 * Under the lock, with no free block of @need bytes: grow the channel and
 * the heap so that the new space alone holds @need (doubling at least, up
 * to the reserve). Returns 0 or -ENOMEM.
 */
static int heap_grow(struct shmchan_heap *hp, uint64_t need)
{
	struct heap_hdr *h = hp->h;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t old = h->size, want, got, end;
	uint64_t old_end = old - BLK_HDR;

	if (!hp->grow || need > h->max_size - old)
		return -ENOMEM;
	want = old + need > 2 * old ? old + need : 2 * old;
	if (want > h->max_size)
		want = h->max_size;
	want = (hp->offset + want + pg - 1) / pg * pg - hp->offset;
	if (want > h->max_size)
		want = h->max_size;
	if (shmchan_resize(hp->s->ch, hp->offset + want, SHMCHAN_RESIZE_GROW, &got))
		return -ENOMEM;
	if (got < hp->offset + want)
		return -ENOMEM;
	want &= ~(uint64_t)(HEAP_ALIGN - 1);
	end = want - BLK_HDR;
	if (end - old_end < BLK_MIN)
		return -ENOMEM;
	/* the new sentinel, then the block over the old one, the size last */
	set_size(blk(hp, end), BLK_HDR, BLK_USED);
	blk(hp, end)->check = end ^ BLK_CHECK;
	make_free(hp, old_end, end - old_end, bflags(blk(hp, old_end)) & BLK_PREV_USED);
	h->size = want;
	return 0;
}

/* ------------------------------------------------------------ API */

static int heap_new(struct shmchan_sync *s, uint64_t offset,
		    struct shmchan_heap **out)
{
	struct shmchan_heap *hp;

	if (!s || !out || offset % 64 || offset > s->len ||
	    s->len - offset < HEAP_MIN_LEN)
		return -EINVAL;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	hp->s = s;
	hp->mem = s->base + offset;
	hp->h = (struct heap_hdr *)hp->mem;
	hp->offset = offset;
	*out = hp;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_heap_create(struct shmchan_sync *s, uint64_t offset,
			uint64_t length, struct shmchan_heap **out)
{
	return shmchan_heap_create_flags(s, offset, length, 0, out);
}

SHMCHAN_EXPORT
int shmchan_heap_create_flags(struct shmchan_sync *s, uint64_t offset,
			      uint64_t length, unsigned int flags,
			      struct shmchan_heap **out)
{
	uint64_t end, chan_len = 0, max_len = 0;
	struct shmchan_heap *hp;
	struct heap_hdr *h;
	int ret;

	if (!s || length < HEAP_MIN_LEN || offset > s->len ||
	    length > s->len - offset || flags & ~SHMCHAN_HEAP_GROW)
		return -EINVAL;
	if (flags & SHMCHAN_HEAP_GROW) {
		ret = heap_reserve(s, &chan_len, &max_len);
		if (ret)
			return ret;
		if (offset + length != chan_len)
			return -EINVAL;
	}
	ret = heap_new(s, offset, &hp);
	if (ret)
		return ret;
	h = hp->h;
	length &= ~(uint64_t)(HEAP_ALIGN - 1);
	atomic_store_explicit(&h->magic, 0, memory_order_relaxed);
	memset((uint8_t *)h + sizeof(h->magic), 0, sizeof(*h) - sizeof(h->magic));
	h->layout = flags & SHMCHAN_HEAP_GROW ? HEAP_LAYOUT_GROW : HEAP_LAYOUT;
	h->size = length;
	if (flags & SHMCHAN_HEAP_GROW) {
		h->max_size = (max_len - offset) & ~(uint64_t)(HEAP_ALIGN - 1);
		hp->grow = true;
	}
	shmchan_mutex_init(&h->lock);
	end = length - BLK_HDR;
	set_size(blk(hp, end), BLK_HDR, BLK_USED);
	blk(hp, end)->check = end ^ BLK_CHECK;
	make_free(hp, HEAP_FIRST, end - HEAP_FIRST, BLK_PREV_USED);
	/* release: an opener that sees the magic sees the heap */
	atomic_store_explicit(&h->magic, HEAP_MAGIC, memory_order_release);
	*out = hp;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_heap_open(struct shmchan_sync *s, uint64_t offset,
		      struct shmchan_heap **out)
{
	uint64_t chan_len, max_len, limit;
	struct shmchan_heap *hp;
	struct heap_hdr *h;
	int ret;

	ret = heap_new(s, offset, &hp);
	if (ret)
		return ret;
	h = hp->h;
	/* acquire: pairs with the release in shmchan_heap_create() */
	if (atomic_load_explicit(&h->magic, memory_order_acquire) != HEAP_MAGIC ||
	    (h->layout != HEAP_LAYOUT && h->layout != HEAP_LAYOUT_GROW)) {
		free(hp);
		return -EPROTO;
	}
	limit = s->len - offset;
	if (h->layout == HEAP_LAYOUT_GROW) {
		/* Our mapping must cover all it may grow to */
		ret = heap_reserve(s, &chan_len, &max_len);
		if (ret) {
			free(hp);
			return ret;
		}
		limit = max_len - offset;
		if (h->max_size > limit) {
			free(hp);
			return -EPROTO;
		}
		hp->grow = true;
	}
	/*
	 * A grower raises the size under the lock, never past @limit (its
	 * max_size), in single aligned stores: any value read here is one the
	 * heap had, so the bounds check holds without the lock.
	 */
	if (h->size < HEAP_MIN_LEN || h->size > limit || h->size % HEAP_ALIGN) {
		free(hp);
		return -EPROTO;
	}
	*out = hp;
	return 0;
}

SHMCHAN_EXPORT
void shmchan_heap_close(struct shmchan_heap *hp)
{
	free(hp);
}

/* Under the lock: a free block of at least @need bytes, out of its list. */
static uint64_t find_fit(struct shmchan_heap *hp, uint64_t need)
{
	unsigned int b = bin_of(need);
	uint64_t off;

	for (off = hp->h->bins[b]; off; off = blk(hp, off)->next)
		if (bsize(blk(hp, off)) >= need)
			goto found;
	for (b++; b < HEAP_BINS; b++) {
		off = hp->h->bins[b];
		if (off)
			goto found;
	}
	return 0;
found:
	list_del(hp, off);
	return off;
}

SHMCHAN_EXPORT
int shmchan_heap_alloc(struct shmchan_heap *hp, uint64_t size,
		       uint64_t *offset)
{
	uint64_t need, off, have, flags;
	struct blk *b;
	int ret;

	if (!hp || !offset)
		return -EINVAL;
	/* A growing heap's size changes under its lock: bound by the most */
	if (size > (hp->grow ? hp->h->max_size : hp->h->size))
		return -ENOMEM;
	need = (size ? size : 1) + BLK_HDR;
	need = (need + HEAP_ALIGN - 1) & ~(uint64_t)(HEAP_ALIGN - 1);
	if (need < BLK_MIN)
		need = BLK_MIN;
	ret = heap_lock(hp);
	if (ret)
		return ret;
	off = find_fit(hp, need);
	if (!off && !heap_grow(hp, need))
		off = find_fit(hp, need);
	if (!off) {
		heap_unlock(hp);
		return -ENOMEM;
	}
	b = blk(hp, off);
	have = bsize(b);
	flags = bflags(b) & BLK_PREV_USED;
	if (have - need >= BLK_MIN) {
		/* the rest first, then shrink: the blocks tile throughout */
		make_free(hp, off + need, have - need, BLK_PREV_USED);
		set_size(b, need, flags | BLK_USED);
		have = need;
	} else {
		set_size(b, have, flags | BLK_USED);
		set_prev_used(hp, off, true);
	}
	hp->h->used += have;
	hp->h->allocs++;
	heap_unlock(hp);
	*offset = hp->offset + off + BLK_HDR;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_heap_free(struct shmchan_heap *hp, uint64_t offset)
{
	uint64_t off, size, prev_used, n;
	struct blk *b;
	int ret;

	if (!hp || offset < hp->offset + HEAP_FIRST + BLK_HDR ||
	    offset % HEAP_ALIGN)
		return -EINVAL;
	off = offset - hp->offset - BLK_HDR;
	ret = heap_lock(hp);
	if (ret)
		return ret;
	/* The size under the lock: a grower may have raised it */
	if (offset - hp->offset >= hp->h->size) {
		heap_unlock(hp);
		return -EINVAL;
	}
	b = blk(hp, off);
	size = bsize(b);
	if (b->check != (off ^ BLK_CHECK) || !(bflags(b) & BLK_USED) ||
	    size < BLK_MIN || size > hp->h->size - BLK_HDR - off) {
		heap_unlock(hp);
		return -EINVAL;
	}
	hp->h->used -= size;
	hp->h->allocs--;
	prev_used = bflags(b) & BLK_PREV_USED;
	/* merge with the next block: grow in one store */
	n = off + size;
	if (!(bflags(blk(hp, n)) & BLK_USED)) {
		list_del(hp, n);
		size += bsize(blk(hp, n));
		set_size(b, size, prev_used | BLK_USED);
	}
	/* and with the previous one: it grows over us in one store */
	if (!prev_used) {
		uint64_t p = off - prev_tag(hp, off);

		list_del(hp, p);
		size += off - p;
		off = p;
		prev_used = bflags(blk(hp, p)) & BLK_PREV_USED;
		set_size(blk(hp, p), size, prev_used);
	}
	b->check = 0;
	make_free(hp, off, size, prev_used);
	heap_unlock(hp);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_heap_stats(struct shmchan_heap *hp, struct shmchan_heap_stats *out)
{
	struct heap_hdr *h;
	uint64_t off, big = 0;
	int b, ret;

	if (!hp || !out)
		return -EINVAL;
	h = hp->h;
	ret = heap_lock(hp);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	out->size = h->size - HEAP_FIRST - BLK_HDR;
	out->used = h->used;
	out->free = out->size - h->used;
	out->allocs = h->allocs;
	out->free_blocks = h->free_blocks;
	for (b = HEAP_BINS - 1; b >= 0 && !big; b--)
		for (off = h->bins[b]; off; off = blk(hp, off)->next)
			if (bsize(blk(hp, off)) > big)
				big = bsize(blk(hp, off));
	out->largest_free = big > BLK_HDR ? big - BLK_HDR : 0;
	heap_unlock(hp);
	return 0;
}
