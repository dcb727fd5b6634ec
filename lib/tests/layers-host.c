// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Host-side tests of the layers above the thin one, without the module
 * (run under ASan/UBSan and valgrind by `make check`): the /proc liveness
 * checks, deadlines, spinning, and the heap, on plain memory with a
 * context made by hand. Uncontended locks never call the module, and a
 * dead owner is found through /proc alone.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peers.h"
#include "tests/check.h"

/* ------------------------------------------------------------ liveness */

static pid_t child_that(int what)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (what == 1)
			prctl(PR_SET_NAME, "a) b (c ) d");
		pause();
		_exit(0);
	}
	return pid;
}

static void test_alive(void)
{
	uint64_t start, start2, cstart;
	pid_t self, tid, pid;
	int status;

	CHECK(shmchan__self(&self, &start), 0);
	CHECK(self, getpid());
	CHECK_TRUE(start > 0);
	CHECK(shmchan__proc_start(self, &start2), 0);
	CHECK(start2, start);
	CHECK(shmchan__thread_self(&tid, &start2), 0);
	CHECK(tid, getpid());	/* the main thread */
	CHECK(start2, start);
	CHECK_TRUE(shmchan__alive(self, start, UINT64_MAX, false));
	CHECK_TRUE(shmchan__alive(self, 0, 0, false));
	CHECK_TRUE(!shmchan__alive(self, start + 1, UINT64_MAX, false));	/* reused */
	CHECK_TRUE(!shmchan__alive(0, 0, 0, false));
	CHECK_TRUE(!shmchan__alive(-5, 0, 0, false));

	/* a command name that looks like the stat line's own syntax */
	pid = child_that(1);
	usleep(50000);
	CHECK(shmchan__proc_start(pid, &cstart), 0);
	CHECK_TRUE(shmchan__alive(pid, cstart, UINT64_MAX, false));
	CHECK_TRUE(shmchan__alive(pid, cstart & UINT32_MAX, UINT32_MAX, true));
	/* killed and not reaped: a zombie is dead */
	kill(pid, SIGKILL);
	{
		siginfo_t si;

		CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	}
	CHECK_TRUE(!shmchan__alive(pid, cstart, UINT64_MAX, false));
	waitpid(pid, &status, 0);
	/* reaped: gone */
	CHECK_TRUE(!shmchan__alive(pid, cstart, UINT64_MAX, false));
	CHECK(shmchan__proc_start(pid, &cstart), -ENOENT);
}

/* After fork() the child's thread identity is its own. */
static void test_thread_fork(void)
{
	uint64_t start;
	pid_t tid, pid;
	int status;

	CHECK(shmchan__thread_self(&tid, &start), 0);
	pid = fork();
	if (pid == 0) {
		pid_t t2;
		uint64_t s2;

		_exit(shmchan__thread_self(&t2, &s2) == 0 && t2 == getpid() &&
		      t2 != tid ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0);
}

/* ------------------------------------------------------------ deadlines */

static int spin_calls;

static bool fire_at_100(void *arg)
{
	(void)arg;
	return ++spin_calls >= 100;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static void test_deadlines(void)
{
	struct shmchan__deadline d;
	struct shmchan__spin s = { 0, 0 };
	uint64_t t0;

	shmchan__deadline_init(&d, 0);
	CHECK_TRUE(d.nowait && !d.forever);
	CHECK_TRUE(shmchan__deadline_passed(&d));
	CHECK(shmchan__deadline_err(&d), -EAGAIN);
	shmchan__deadline_init(&d, -1);
	CHECK_TRUE(d.forever && !shmchan__deadline_passed(&d));
	CHECK_TRUE(shmchan__deadline_ts(&d) == NULL);
	shmchan__deadline_init(&d, INT64_MAX);	/* clamped, not wrapped */
	CHECK_TRUE(!shmchan__deadline_passed(&d));
	CHECK_TRUE(shmchan__deadline_ts(&d)->tv_sec > 0);
	shmchan__deadline_init(&d, 10000000000LL);
	CHECK_TRUE(!shmchan__deadline_passed(&d));
	CHECK(shmchan__deadline_err(&d), -ETIMEDOUT);
	shmchan__deadline_init(&d, 20000000);
	usleep(30000);
	CHECK_TRUE(shmchan__deadline_passed(&d));

	/* spinning: off, fires, and gives up within its budget */
	shmchan__deadline_init(&d, -1);
	CHECK_TRUE(!shmchan__spin_until(&s, &d, fire_at_100, NULL));
	CHECK(spin_calls, 0);
	s.max_ns = s.cur_ns = 1000000;
	CHECK_TRUE(shmchan__spin_until(&s, &d, fire_at_100, NULL));
	CHECK(spin_calls, 100);
	CHECK(s.cur_ns, 1000000);
	t0 = shmchan__now_ns();
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
	CHECK_TRUE(shmchan__now_ns() - t0 >= 1000000);
	CHECK_TRUE(shmchan__now_ns() - t0 < 500000000);
	CHECK(s.cur_ns, 500000);	/* halved */
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
	CHECK(s.cur_ns, 100000);	/* never below a tenth */
	shmchan__deadline_init(&d, 0);
	CHECK_TRUE(!shmchan__spin_until(&s, &d, never, NULL));
}

/* ------------------------------------------------------------ heap */

#define AREA	(1 << 20)
#define HOFF	4096

static uint8_t *area;
static struct shmchan_sync ctx;

static void ctx_init(void)
{
	area = aligned_alloc(4096, AREA);
	memset(area, 0, AREA);
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = area;
	ctx.len = AREA;
	pthread_mutex_init(&ctx.lock, NULL);
}

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct live {
	uint64_t off, len;
	uint8_t fill;
};

/* Random allocations and frees against a model: no overlap, data kept. */
static void heap_stress(struct shmchan_heap *h, int ops, uint64_t seed)
{
	static struct live live[512];
	struct shmchan_heap_stats st;
	int n = 0, k, j, bad = 0, nomem = 0;
	uint64_t x;

	for (k = 0; k < ops; k++) {
		uint64_t r = mix(&seed);

		if (n && (r % 5 < 2 || n == 512)) {
			j = (int)(r % (uint64_t)n);
			for (x = 0; x < live[j].len; x++)
				bad += area[live[j].off + x] != live[j].fill;
			CHECK(shmchan_heap_free(h, live[j].off), 0);
			live[j] = live[--n];
			continue;
		}
		live[n].len = r % 7 ? (r >> 8) % 600 : (r >> 8) % 40000;
		if (shmchan_heap_alloc(h, live[n].len, &live[n].off)) {
			nomem++;
			continue;
		}
		CHECK_TRUE(live[n].off % SHMCHAN_HEAP_ALIGN == 0);
		CHECK_TRUE(live[n].off >= HOFF && live[n].off + live[n].len <= AREA);
		live[n].fill = (uint8_t)r;
		memset(area + live[n].off, live[n].fill, live[n].len);
		n++;
	}
	CHECK(bad, 0);
	CHECK(shmchan_heap_stats(h, &st), 0);
	CHECK((long long)st.allocs, n);
	CHECK(st.used + st.free, st.size);
	while (n--)
		CHECK(shmchan_heap_free(h, live[n].off), 0);
	CHECK(shmchan_heap_stats(h, &st), 0);
	CHECK(st.used, 0);
	CHECK(st.free_blocks, 1);
	(void)nomem;
}

static void test_heap(void)
{
	struct shmchan_heap_stats st, st0;
	struct shmchan_heap *h;
	uint64_t off[8], dead;
	_Atomic uint64_t *lock;
	uint64_t cstart;
	pid_t pid;
	int status;

	ctx_init();
	CHECK(shmchan_heap_create(&ctx, HOFF, AREA - HOFF, &h), 0);
	CHECK(shmchan_heap_stats(h, &st0), 0);
	heap_stress(h, 20000, 1);
	heap_stress(h, 20000, 2);

	/* The lock's owner died mid-update: free lists scrambled. The next
	 * caller gets the lock with EOWNERDEAD (a reaped child's identity),
	 * rebuilds from the blocks, and all is as it was. */
	CHECK(shmchan_heap_alloc(h, 100, &off[0]), 0);
	CHECK(shmchan_heap_alloc(h, 5000, &off[1]), 0);
	CHECK(shmchan_heap_alloc(h, 300, &off[2]), 0);
	CHECK(shmchan_heap_free(h, off[1]), 0);
	pid = child_that(0);
	CHECK(shmchan__proc_start(pid, &cstart), 0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	dead = (cstart & UINT32_MAX) << 32 | (uint32_t)pid;
	lock = (_Atomic uint64_t *)(area + HOFF + 16);
	atomic_store(lock, dead);
	memset(area + HOFF + 64, 0, 48 * 8);	/* the bins */
	CHECK(shmchan_heap_stats(h, &st), 0);	/* repaired here */
	CHECK(st.allocs, 2);
	CHECK(st.free_blocks, 2);
	CHECK(shmchan_heap_free(h, off[0]), 0);
	CHECK(shmchan_heap_free(h, off[2]), 0);
	CHECK(shmchan_heap_stats(h, &st), 0);
	CHECK(st.free_blocks, 1);
	CHECK(st.largest_free, st0.largest_free);
	heap_stress(h, 5000, 3);

	/* a block header overwritten with nonsense: beyond repair */
	CHECK(shmchan_heap_alloc(h, 100, &off[0]), 0);
	memset(area + off[0] - 16, 0xff, 8);
	atomic_store(lock, dead);
	CHECK(shmchan_heap_alloc(h, 10, &off[1]), -EPROTO);
	CHECK(shmchan_heap_alloc(h, 10, &off[1]), -ENOTRECOVERABLE);
	shmchan_heap_close(h);
	free(area);
}

int main(void)
{
	test_alive();
	test_thread_fork();
	test_deadlines();
	test_heap();
	return checks_done("layers-host");
}
