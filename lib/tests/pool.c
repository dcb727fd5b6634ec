// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The block pool (many small segments, passed by index) against the real
 * module (run it in the VM): errors, ownership, handing blocks over
 * through a queue, concurrent use, and blocks of killed processes
 * recovered, by a call and by a blocked allocator woken by the death.
 */
#include "util.h"

static struct shmchan_pool *popen_(const char *name)
{
	struct shmchan_pool *p = NULL;

	ASSERT_EQ(shmchan_pool_open(name, &p), 0);
	return p;
}

TEST(pool_basics, 30)
{
	const char *n = chan_name("pool");
	struct shmchan_pool *p, *p2, *x;
	struct shmchan_pool_stats st;
	uint32_t idx[40], i, j;
	pid_t pid;

	ASSERT_EQ(shmchan_pool_create(n, 0, 4, 0600, 0, &x), -EINVAL);
	ASSERT_EQ(shmchan_pool_create(n, 64, 0, 0600, 0, &x), -EINVAL);
	ASSERT_EQ(shmchan_pool_create(n, 64, (1U << 24) + 1, 0600, 0, &x), -EINVAL);
	ASSERT_EQ(shmchan_pool_create(n, 64, 4, 0600, 1U << 5, &x), -EINVAL);
	ASSERT_EQ(shmchan_pool_open(n, &x), -ENOENT);
	p = pcreate(n, 100, 33);
	ASSERT_EQ(shmchan_pool_create(n, 64, 4, 0600, SHMCHAN_POOL_EXCL, &x), -EEXIST);
	/* without EXCL: the existing geometry */
	p2 = pcreate(n, 64, 4);
	ASSERT_EQ(shmchan_pool_stats(p2, &st), 0);
	ASSERT_EQ(st.block_size, 128);
	ASSERT_EQ(st.nblocks, 33);
	ASSERT_EQ(st.free, 33);

	for (i = 0; i < 33; i++) {
		ASSERT_EQ(shmchan_pool_alloc(i % 2 ? p : p2, 0, &idx[i]), 0);
		ASSERT_TRUE(idx[i] < 33);
		for (j = 0; j < i; j++)
			ASSERT_TRUE(idx[j] != idx[i]);
		memset(shmchan_pool_block(p, idx[i]), (int)i, 128);
	}
	ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx[33]), -EAGAIN);
	ASSERT_EQ(shmchan_pool_alloc(p, SHMCHAN_MSEC(50), &idx[33]), -ETIMEDOUT);
	for (i = 0; i < 33; i++)
		ASSERT_EQ(((uint8_t *)shmchan_pool_block(p2, idx[i]))[127], i);
	ASSERT_TRUE(shmchan_pool_block(p, 33) == NULL);
	ASSERT_EQ(shmchan_pool_free(p, 33), -EINVAL);

	/* ownership is per process: both handles are ours */
	ASSERT_EQ(shmchan_pool_free(p, idx[0]), 0);
	ASSERT_EQ(shmchan_pool_free(p, idx[0]), -EINVAL);
	pid = fork();
	if (pid == 0) {
		struct shmchan_pool *c = popen_(n);

		ASSERT_EQ(shmchan_pool_free(c, idx[1]), -EPERM);
		ASSERT_EQ(shmchan_pool_detach(c, idx[1]), -EPERM);
		ASSERT_EQ(shmchan_pool_attach(c, idx[1]), -EPERM);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	/* detached: nobody's, until attached */
	ASSERT_EQ(shmchan_pool_detach(p, idx[1]), 0);
	ASSERT_EQ(shmchan_pool_detach(p, idx[1]), -EPERM);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.detached, 1);
	ASSERT_EQ(st.owned, 31);
	ASSERT_EQ(st.free, 1);
	ASSERT_EQ(shmchan_pool_recover(p, 0), 0);
	ASSERT_EQ(shmchan_pool_recover(p, 1U << 3), -EINVAL);
	ASSERT_EQ(shmchan_pool_attach(p, idx[1]), 0);
	ASSERT_EQ(shmchan_pool_detach(p, idx[1]), 0);
	ASSERT_EQ(shmchan_pool_recover(p, SHMCHAN_POOL_RECOVER_DETACHED), 1);
	for (i = 2; i < 33; i++)
		ASSERT_EQ(shmchan_pool_free(p2, idx[i]), 0);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.free, 33);
	shmchan_pool_close(p2);
	shmchan_pool_close(p);
	shmchan_pool_close(NULL);

	/* a plain channel is no pool */
	{
		struct shmchan *ch;

		ASSERT_EQ(shmchan_create(chan_name("notpool"), 65536, 0600, 0, &ch), 0);
		ASSERT_EQ(shmchan_pool_open(name_buf[1], &x), -EPROTO);
	}
}

/* Blocks handed from producers to consumers by index through a queue. */
TEST(pool_through_queue, 60)
{
	const char *pn = chan_name("pq-pool");
	const char *qn = chan_name("pq-queue");
	struct shmchan_pool *p = pcreate(pn, 4096, 16);
	struct shmchan_queue *q;
	struct shmchan_pool_stats st;
	const int count = (int)scaled(500);
	pid_t prod;
	int i;

	ASSERT_EQ(shmchan_queue_create(qn, 16384, 0600, SHMCHAN_QUEUE_RECV, &q), 0);
	prod = fork();
	if (prod == 0) {
		struct shmchan_pool *pp = popen_(pn);
		struct shmchan_queue *s;
		uint32_t idx;

		ASSERT_EQ(shmchan_queue_open(qn, SHMCHAN_QUEUE_SEND, &s), 0);
		for (i = 0; i < count; i++) {
			/* 16 blocks: waits for the consumer to free some */
			ASSERT_EQ(shmchan_pool_alloc(pp, SHMCHAN_MSEC(20000), &idx), 0);
			fill(shmchan_pool_block(pp, idx), 4096, (uint64_t)i);
			ASSERT_EQ(shmchan_pool_send(pp, s, idx, SHMCHAN_MSEC(20000)), 0);
		}
		shmchan_queue_close(s);
		_exit(0);
	}
	for (i = 0; i < count; i++) {
		uint8_t want[4096];
		uint32_t idx;

		ASSERT_EQ(shmchan_pool_recv(p, q, &idx, SHMCHAN_MSEC(20000)), 0);
		fill(want, sizeof(want), (uint64_t)i);
		ASSERT_EQ(memcmp(shmchan_pool_block(p, idx), want, 4096), 0);
		ASSERT_EQ(shmchan_pool_free(p, idx), 0);
	}
	ASSERT_EQ(reap(prod), 0);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.free, 16);
	shmchan_queue_close(q);
	shmchan_pool_close(p);
}

/* A message in the queue that is not a pool's: EPROTO. */
TEST(pool_recv_not_a_block, 30)
{
	struct shmchan_pool *p = pcreate(chan_name("pnb-pool"), 4096, 4);
	const char *qn = chan_name("pnb-queue");
	struct shmchan_queue *q, *s;
	uint32_t idx;

	ASSERT_EQ(shmchan_queue_create(qn, 16384, 0600, SHMCHAN_QUEUE_RECV, &q), 0);
	ASSERT_EQ(shmchan_queue_open(qn, SHMCHAN_QUEUE_SEND, &s), 0);
	ASSERT_EQ(shmchan_queue_send(s, "bad", 3, 0), 0);
	ASSERT_EQ(shmchan_pool_recv(p, q, &idx, 0), -EPROTO);
	shmchan_queue_close(s);
	shmchan_queue_close(q);
	shmchan_pool_close(p);
}

/* Four processes allocate and free at once; no block is had twice. */
TEST(pool_concurrent, 120)
{
	const char *n = chan_name("poolmp");
	struct shmchan_pool *p = pcreate(n, 64, 100);
	struct shmchan_pool_stats st;
	pid_t pid[4];
	int i;

	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct shmchan_pool *c = popen_(n);
			uint32_t held[24], nheld = 0;	/* 4 x 24 < 100 */
			uint64_t seed = (uint64_t)i;
			const int ops = (int)scaled(5000);
			int k;

			for (k = 0; k < ops; k++) {
				if (nheld < 24 && (mix64(&seed) % 3 || !nheld)) {
					uint32_t idx;
					volatile uint32_t *w;

					ASSERT_EQ(shmchan_pool_alloc(c, SHMCHAN_MSEC(20000), &idx), 0);
					w = shmchan_pool_block(c, idx);
					if (*w)
						_exit(2);	/* someone else's */
					*w = (uint32_t)getpid();
					held[nheld++] = idx;
				} else {
					uint32_t j = (uint32_t)(mix64(&seed) % nheld);
					volatile uint32_t *w = shmchan_pool_block(c, held[j]);

					if (*w != (uint32_t)getpid())
						_exit(3);
					*w = 0;
					ASSERT_EQ(shmchan_pool_free(c, held[j]), 0);
					held[j] = held[--nheld];
				}
			}
			while (nheld) {
				*(volatile uint32_t *)shmchan_pool_block(c, held[--nheld]) = 0;
				ASSERT_EQ(shmchan_pool_free(c, held[nheld]), 0);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(reap(pid[i]), 0);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.free, 100);
}

/*
 * A process holding blocks is killed: they are recovered, by a call, and
 * for an allocator that sleeps on an empty pool, by the death itself.
 */
TEST(pool_recovery_after_kill, 60)
{
	const char *n = chan_name("poolkill");
	_Atomic uint64_t *killed_at = shared_mem(4096);
	struct shmchan_pool *p = pcreate(n, 64, 20);
	struct shmchan_pool_stats st;
	uint32_t idx, mine[20];
	int fds[2], i;
	pid_t pid, killer;
	char c;

	ASSERT_EQ(pipe(fds), 0);
	/* a child takes 5 and is killed: recover() frees them */
	pid = fork();
	if (pid == 0) {
		struct shmchan_pool *cp = popen_(n);

		for (i = 0; i < 5; i++)
			ASSERT_EQ(shmchan_pool_alloc(cp, 0, &idx), 0);
		ASSERT_EQ(write(fds[1], "5", 1), 1);
		pause();
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.owned, 5);
	kill(pid, SIGKILL);
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.owned_by_dead, 5);
	ASSERT_EQ(shmchan_pool_recover(p, 0), 5);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.free, 20);

	/* we take 15, a child the last 5; our allocation sleeps; the
	 * child is killed; the allocation returns with one of its blocks */
	for (i = 0; i < 15; i++)
		ASSERT_EQ(shmchan_pool_alloc(p, 0, &mine[i]), 0);
	pid = fork();
	if (pid == 0) {
		struct shmchan_pool *cp = popen_(n);

		for (i = 0; i < 5; i++)
			ASSERT_EQ(shmchan_pool_alloc(cp, 0, &idx), 0);
		ASSERT_EQ(write(fds[1], "5", 1), 1);
		pause();
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	ASSERT_EQ(shmchan_pool_alloc(p, 0, &idx), -EAGAIN);
	killer = fork();
	if (killer == 0) {
		struct shmchan *ch;

		ASSERT_EQ(shmchan_open(n, SHMCHAN_OPEN_RDONLY, &ch), 0);
		ASSERT_EQ(await_waiters(ch, 1), 0);
		*killed_at = now_ns();
		kill(pid, SIGKILL);
		_exit(0);
	}
	ASSERT_EQ(shmchan_pool_alloc(p, SHMCHAN_MSEC(20000), &idx), 0);
	diag("a block %.3f s after its owner was killed", secs_since(*killed_at));
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
	ASSERT_EQ(reap(killer), 0);
	ASSERT_EQ(shmchan_pool_stats(p, &st), 0);
	ASSERT_EQ(st.owned, 16);
	ASSERT_EQ(st.free, 4);
	shmchan_pool_close(p);
}

TAP_MAIN
