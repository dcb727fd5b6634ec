// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The heap (one channel, one manager) against the real module (run it in
 * the VM): errors, coalescing, -ENOMEM, statistics, four processes
 * allocating and freeing at once with their data checked, processes
 * killed while they hold the heap's lock, and a heap that grows its
 * channel (SHMCHAN_HEAP_GROW).
 */
#include "util.h"

#define CHAN_LEN	(1024 * 1024)
#define HEAP_OFF	4096
#define HEAP_LEN	(CHAN_LEN - HEAP_OFF)

struct area {
	struct shmchan *ch;
	uint8_t *base;
	struct shmchan_sync *s;
	struct shmchan_heap *h;
};

static void area_open(struct area *a, const char *name, bool create)
{
	void *base;

	if (create)
		ASSERT_EQ(shmchan_create(name, CHAN_LEN, 0600, 0, &a->ch), 0);
	else
		ASSERT_EQ(shmchan_open(name, 0, &a->ch), 0);
	ASSERT_EQ(shmchan_map(a->ch, PROT_READ | PROT_WRITE, &base), 0);
	a->base = base;
	ASSERT_EQ(shmchan_sync_new(a->ch, base, &a->s), 0);
	if (create)
		ASSERT_EQ(shmchan_heap_create(a->s, HEAP_OFF, HEAP_LEN, &a->h), 0);
	else
		ASSERT_EQ(shmchan_heap_open(a->s, HEAP_OFF, &a->h), 0);
}

TEST(heap_basics, 30)
{
	struct shmchan_heap_stats st0, st;
	uint64_t off[64], o, total = 0;
	struct shmchan_heap *h2;
	struct area a;
	int i, n;

	area_open(&a, chan_name("heap"), true);
	/* errors */
	ASSERT_EQ(shmchan_heap_create(a.s, 100, 8192, &h2), -EINVAL);
	ASSERT_EQ(shmchan_heap_create(a.s, HEAP_OFF, 1024, &h2), -EINVAL);
	ASSERT_EQ(shmchan_heap_create(a.s, HEAP_OFF, CHAN_LEN, &h2), -EINVAL);
	ASSERT_EQ(shmchan_heap_open(a.s, 8192, &h2), -EPROTO);
	ASSERT_EQ(shmchan_heap_alloc(NULL, 1, &o), -EINVAL);
	ASSERT_EQ(shmchan_heap_alloc(a.h, 1, NULL), -EINVAL);
	ASSERT_EQ(shmchan_heap_free(a.h, 0), -EINVAL);
	ASSERT_EQ(shmchan_heap_free(a.h, HEAP_OFF + 1000), -EINVAL);

	ASSERT_EQ(shmchan_heap_stats(a.h, &st0), 0);
	ASSERT_EQ(st0.used, 0);
	ASSERT_EQ(st0.allocs, 0);
	ASSERT_EQ(st0.free_blocks, 1);
	ASSERT_TRUE(st0.size > HEAP_LEN - 1024 && st0.size < HEAP_LEN);
	ASSERT_EQ(st0.largest_free + 16, st0.size);

	/* offsets: aligned, inside, apart; another handle sees the same */
	ASSERT_EQ(shmchan_heap_open(a.s, HEAP_OFF, &h2), 0);
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(shmchan_heap_alloc(i % 2 ? a.h : h2, (uint64_t)i * 37, &off[i]), 0);
		ASSERT_EQ(off[i] % SHMCHAN_HEAP_ALIGN, 0);
		ASSERT_TRUE(off[i] >= HEAP_OFF && off[i] < CHAN_LEN);
		memset(a.base + off[i], i, (size_t)i * 37);
	}
	for (i = 0; i < 64; i++) {
		size_t k;

		for (k = 0; k < (size_t)i * 37; k++)
			ASSERT_EQ(a.base[off[i] + k], i);
	}
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_EQ(st.allocs, 64);
	ASSERT_EQ(st.used + st.free, st.size);
	/* free every other one, then the rest: all coalesces back */
	for (i = 0; i < 64; i += 2)
		ASSERT_EQ(shmchan_heap_free(a.h, off[i]), 0);
	ASSERT_EQ(shmchan_heap_free(a.h, off[0]), -EINVAL);	/* twice */
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_TRUE(st.free_blocks > 30);
	for (i = 1; i < 64; i += 2)
		ASSERT_EQ(shmchan_heap_free(h2, off[i]), 0);
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_EQ(st.free_blocks, 1);
	ASSERT_EQ(st.used, 0);
	ASSERT_EQ(st.largest_free, st0.largest_free);

	/* full: -ENOMEM, and the stats say what is left */
	ASSERT_EQ(shmchan_heap_alloc(a.h, st0.size, &o), -ENOMEM);
	ASSERT_EQ(shmchan_heap_alloc(a.h, st0.largest_free, &o), 0);
	ASSERT_EQ(shmchan_heap_alloc(a.h, 1, &off[0]), -ENOMEM);
	ASSERT_EQ(shmchan_heap_free(a.h, o), 0);
	for (n = 0; shmchan_heap_alloc(a.h, 1000, &off[n % 64]) == 0; n++)
		total += 1000;
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_TRUE(st.largest_free < 1000);
	ASSERT_EQ(st.allocs, (uint64_t)n);
	diag("%d blocks of 1000 bytes in a heap of %llu (%.1f%% payload)", n,
	     (unsigned long long)st0.size, 100.0 * (double)total / (double)st0.size);
	shmchan_heap_close(h2);
	shmchan_heap_close(a.h);
	shmchan_heap_close(NULL);
}

/* Four processes allocate, write, check and free at random, at once. */
TEST(heap_concurrent, 120)
{
	const char *n = chan_name("heapmp");
	const int procs = 4, ops = (int)scaled(4000);
	struct shmchan_heap_stats st;
	struct area a;
	pid_t pid[4];
	int i;

	area_open(&a, n, true);
	for (i = 0; i < procs; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct area b;
			uint64_t off[64] = { 0 }, len[64] = { 0 };
			uint64_t seed = (uint64_t)i + 1, r;
			int k, j, nomem = 0;

			area_open(&b, n, false);
			for (k = 0; k < ops; k++) {
				r = mix64(&seed);
				j = (int)(r % 64);
				if (off[j]) {
					/* still ours, untouched by the others? */
					uint8_t *p = b.base + off[j];
					uint64_t x;

					for (x = 0; x < len[j]; x++)
						if (p[x] != (uint8_t)(i * 64 + j))
							_exit(2);
					ASSERT_EQ(shmchan_heap_free(b.h, off[j]), 0);
					off[j] = 0;
					continue;
				}
				len[j] = (r >> 8) % (r % 8 ? 512 : 16384);
				if (shmchan_heap_alloc(b.h, len[j], &off[j]) == -ENOMEM) {
					nomem++;
					off[j] = 0;
					continue;
				}
				memset(b.base + off[j], i * 64 + j, len[j]);
			}
			for (j = 0; j < 64; j++)
				if (off[j])
					ASSERT_EQ(shmchan_heap_free(b.h, off[j]), 0);
			_exit(0);
		}
	}
	for (i = 0; i < procs; i++)
		ASSERT_EQ(reap(pid[i]), 0);
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_EQ(st.used, 0);
	ASSERT_EQ(st.allocs, 0);
	ASSERT_EQ(st.free_blocks, 1);
}

/*
 * Processes killed with SIGKILL while they allocate and free, some of
 * them inside the heap's lock: the survivors repair it and go on; it stays
 * whole (blocks tile it: stats add up, everything freed coalesces).
 */
TEST(heap_killed_holders, 120)
{
	const char *n = chan_name("heapkill");
	struct shmchan_heap_stats st;
	struct shmchan_mutex *lock;
	uint64_t off[256];
	struct area a;
	int round, k, count;

	area_open(&a, n, true);
	/* white box: the heap's robust mutex is 16 bytes into its header */
	lock = (struct shmchan_mutex *)(a.base + HEAP_OFF + 16);
	for (round = 0; round < 12; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct area b;
			uint64_t o[32] = { 0 }, seed = (uint64_t)round;

			area_open(&b, n, false);
			if (round % 3 == 0) {
				/* dies holding the lock for certain */
				ASSERT_EQ(shmchan_mutex_lock(b.s, (struct shmchan_mutex *)(b.base + HEAP_OFF + 16), 0), 0);
				_exit(0);
			}
			for (;;) {
				k = (int)(mix64(&seed) % 32);
				if (o[k]) {
					shmchan_heap_free(b.h, o[k]);
					o[k] = 0;
				} else if (shmchan_heap_alloc(b.h, mix64(&seed) % 3000, &o[k])) {
					o[k] = 0;
				}
			}
		}
		if (round % 3)
			usleep(20000 + (useconds_t)round * 3000);
		kill(pid, SIGKILL);
		reap(pid);
		/* the survivors go on */
		count = 0;
		for (k = 0; k < 256 && shmchan_heap_alloc(a.h, 100, &off[k]) == 0; k++)
			count++;
		ASSERT_TRUE(count > 0);
		for (k = 0; k < count; k++)
			ASSERT_EQ(shmchan_heap_free(a.h, off[k]), 0);
		ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
		ASSERT_EQ(st.used + st.free, st.size);
	}
	/* the lock works as ever */
	ASSERT_EQ(shmchan_mutex_lock(a.s, lock, 0), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, lock), 0);
	diag("after 12 kills: %llu blocks leaked by the dead, %llu free blocks",
	     (unsigned long long)st.allocs, (unsigned long long)st.free_blocks);
}

/*
 * SHMCHAN_HEAP_GROW: the heap at the channel's end grows the channel, in
 * this process and in another, up to the reserve; ENOMEM past it. Who has
 * not mapped the reserve may not create or open such a heap.
 */
#define GROW_LEN	(64 * 1024)
#define GROW_MAX	(4 * 1024 * 1024)

static void grow_area(struct area *a, const char *name, bool create)
{
	void *base;

	if (create)
		ASSERT_EQ(shmchan_create_max(name, GROW_LEN, GROW_MAX, 0600, 0, &a->ch), 0);
	else
		ASSERT_EQ(shmchan_open(name, 0, &a->ch), 0);
	ASSERT_EQ(shmchan_map_range(a->ch, 0, GROW_MAX, PROT_READ | PROT_WRITE,
				    &base), 0);
	a->base = base;
	ASSERT_EQ(shmchan_sync_new(a->ch, base, &a->s), 0);
	if (create)
		ASSERT_EQ(shmchan_heap_create_flags(a->s, HEAP_OFF, GROW_LEN - HEAP_OFF,
						    SHMCHAN_HEAP_GROW, &a->h), 0);
	else
		ASSERT_EQ(shmchan_heap_open(a->s, HEAP_OFF, &a->h), 0);
}

TEST(heap_grow, 120)
{
	const char *n = chan_name("heapgrow");
	struct shmchan_heap_stats st;
	struct shmchan_stat cst;
	struct shmchan_sync *s2;
	struct shmchan_heap *h2;
	uint64_t o1, o2, off[64];
	struct area a;
	void *small;
	pid_t pid;
	int i, k;

	grow_area(&a, n, true);
	ASSERT_EQ(shmchan_heap_create_flags(a.s, HEAP_OFF, GROW_LEN - HEAP_OFF,
					    1U << 7, &h2), -EINVAL);
	ASSERT_EQ(shmchan_heap_create_flags(a.s, HEAP_OFF, 8192,
					    SHMCHAN_HEAP_GROW, &h2), -EINVAL);
	/* A context on a mapping of the length only: not for a growing heap */
	ASSERT_EQ(shmchan_map(a.ch, PROT_READ | PROT_WRITE, &small), 0);
	ASSERT_EQ(shmchan_sync_new(a.ch, small, &s2), 0);
	ASSERT_EQ(shmchan_heap_open(s2, HEAP_OFF, &h2), -EINVAL);
	shmchan_sync_free(s2);
	ASSERT_EQ(shmchan_unmap(small, GROW_LEN), 0);

	/* More than the heap has: the channel grows */
	ASSERT_EQ(shmchan_heap_alloc(a.h, 1 << 20, &o1), 0);
	memset(a.base + o1, 0x5a, 1 << 20);
	ASSERT_EQ(shmchan_stat(a.ch, &cst), 0);
	ASSERT_TRUE(cst.length >= HEAP_OFF + (1 << 20));
	ASSERT_TRUE(cst.generation >= 1);

	/* Another process allocates past what it saw at open, and checks */
	pid = fork();
	if (pid == 0) {
		struct area b;
		uint64_t x, o;

		grow_area(&b, n, false);
		for (x = 0; x < 1 << 20; x += 4096)
			if (b.base[o1 + x] != 0x5a)
				_exit(2);
		ASSERT_EQ(shmchan_heap_alloc(b.h, 1536 * 1024, &o), 0);
		memset(b.base + o, 0x33, 1536 * 1024);
		ASSERT_EQ(shmchan_heap_free(b.h, o), 0);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	/* Past the reserve: ENOMEM; fill it up, then all of it back */
	ASSERT_EQ(shmchan_heap_alloc(a.h, 2 * GROW_MAX, &o2), -ENOMEM);
	for (k = 0; k < 64; k++)
		if (shmchan_heap_alloc(a.h, 256 * 1024, &off[k]))
			break;
	ASSERT_TRUE(k > 4 && k < 64);
	ASSERT_EQ(shmchan_stat(a.ch, &cst), 0);
	ASSERT_EQ(cst.length, GROW_MAX);
	for (i = 0; i < k; i++)
		ASSERT_EQ(shmchan_heap_free(a.h, off[i]), 0);
	ASSERT_EQ(shmchan_heap_free(a.h, o1), 0);
	ASSERT_EQ(shmchan_heap_stats(a.h, &st), 0);
	ASSERT_EQ(st.used, 0);
	ASSERT_EQ(st.allocs, 0);
	ASSERT_EQ(st.size, GROW_MAX - HEAP_OFF - 448 - 16);
}

TAP_MAIN
