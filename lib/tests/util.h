/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Helpers shared by the queue, qpeers, sync, heap and pool tests. */
#ifndef LIBSHMCHAN_TESTS_UTIL_H
#define LIBSHMCHAN_TESTS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/time.h>

#include <shmchan.h>

#include "tap.h"

/*
 * SHMCHAN_TEST_SCALE=N in the environment (default 1; make check-debug
 * sets 4) divides the sizes, counts and durations of the slow tests, as it
 * does in the selftests (selftests/shmchan-hard/hard.h): @n / N, at least
 * 1. What the tests check stays the same, only on less data.
 */
static inline uint64_t scaled(uint64_t n)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	uint64_t div = s ? strtoull(s, NULL, 0) : 1;

	if (div < 1)
		div = 1;
	return n / div ? n / div : 1;
}

/*
 * A channel name unique to this process and tag, destroyed at exit. The
 * last NAMES_KEPT names are kept; an older one is destroyed when its slot
 * is taken again.
 */
#define NAMES_KEPT 32
static char name_buf[NAMES_KEPT][64];
static int name_n;

static void destroy_names(void)
{
	int i;

	for (i = 0; i < name_n && i < NAMES_KEPT; i++)
		shmchan_destroy(name_buf[i], 0);
}

static inline const char *chan_name(const char *tag)
{
	char *n = name_buf[name_n % NAMES_KEPT];

	if (name_n == 0)
		atexit(destroy_names);
	else if (name_n >= NAMES_KEPT)
		shmchan_destroy(n, 0);
	name_n++;
	snprintf(n, 64, "libtest-%d-%s", (int)getpid(), tag);
	shmchan_destroy(n, 0);
	return n;
}

/* A queue created (mode 0600) or opened with @roles; any error fails the test. */
static inline struct shmchan_queue *qcreate(const char *name, uint64_t len,
					    unsigned int roles)
{
	struct shmchan_queue *q = NULL;

	ASSERT_EQ(shmchan_queue_create(name, len, 0600, roles, &q), 0);
	return q;
}

static inline struct shmchan_queue *qopen(const char *name, unsigned int roles)
{
	struct shmchan_queue *q = NULL;

	ASSERT_EQ(shmchan_queue_open(name, roles, &q), 0);
	return q;
}

/* A pool of @n blocks of @bs bytes, mode 0600; any error fails the test. */
static inline struct shmchan_pool *pcreate(const char *name, uint32_t bs,
					   uint32_t n)
{
	struct shmchan_pool *p = NULL;

	ASSERT_EQ(shmchan_pool_create(name, bs, n, 0600, 0, &p), 0);
	return p;
}

/* splitmix64: data that a receiver can regenerate from a seed. */
static inline uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = mix64(&seed);
		memcpy(p + i, &v, 8);
	}
	v = mix64(&seed);
	memcpy(p + i, &v, len - i);
}

/* FNV-style, order-dependent checksum over 8-byte words. */
static inline uint64_t checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL, v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, p + i, 8);
		h = (h ^ v) * 0x100000001b3ULL;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h ^ len;
}

/* Shared anonymous memory for results, visible to forked children. */
static inline void *shared_mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

/* Wait (5 s at most) until the channel has at least @n waiters. */
static inline int await_waiters(struct shmchan *ch, uint64_t n)
{
	struct shmchan_stat st;
	int i;

	for (i = 0; i < 5000; i++) {
		if (shmchan_stat(ch, &st) == 0 && st.nwaiters >= n)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * A read-only buffer of @total bytes whose content repeats with a period
 * of @pages pages of seeded random data: 1 GiB of message for 1 MiB of
 * memory. Pick a period that no round size divides.
 */
static inline void *alias_buffer(size_t total, size_t pages, uint64_t seed,
				 void **pattern)
{
	size_t period = pages * 4096, off, n;
	uint8_t *base;
	void *pat;
	int fd;

	fd = memfd_create("pattern", MFD_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(ftruncate(fd, (off_t)period), 0);
	pat = mmap(NULL, period, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(pat != MAP_FAILED);
	fill(pat, period, seed);
	base = mmap(NULL, total, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(base != MAP_FAILED);
	for (off = 0; off < total; off += period) {
		n = total - off < period ? total - off : period;
		ASSERT_TRUE(mmap(base + off, n, PROT_READ,
				 MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0) !=
			    MAP_FAILED);
	}
	close(fd);
	*pattern = pat;
	return base;
}

/* Does @buf hold @total bytes of the pattern of @period bytes? */
static inline bool alias_verify(const uint8_t *buf, size_t total,
				const uint8_t *pat, size_t period)
{
	size_t off, n;

	for (off = 0; off < total; off += period) {
		n = total - off < period ? total - off : period;
		if (memcmp(buf + off, pat, n))
			return false;
	}
	return true;
}

static volatile sig_atomic_t alarms_seen;
/* The test's own time limit (tap.h's alarm()), while start_alarms() runs */
static struct itimerval alarms_saved;

static inline void on_alarm(int sig)
{
	(void)sig;
	alarms_seen++;
}

/*
 * SIGALRM every 20 ms, its handler installed without SA_RESTART, until
 * stop_alarms(): a call that sleeps is interrupted (EINTR), however late
 * it starts to sleep on a loaded machine. The test's time limit shares
 * the timer: stop_alarms() sets it again to what was left, and SIGALRM
 * back to killing the test.
 */
static inline void start_alarms(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	ASSERT_EQ(setitimer(ITIMER_REAL, &it, &alarms_saved), 0);
}

static inline void stop_alarms(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	ASSERT_EQ(setitimer(ITIMER_REAL, &alarms_saved, NULL), 0);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
}

static inline pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static inline double secs_since(uint64_t start)
{
	return (double)(now_ns() - start) / 1e9;
}

/* Readiness of @fd within @ms milliseconds: 1, or 0 on timeout. */
static inline int ready_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do
		ret = poll(&p, 1, ms);
	while (ret < 0 && errno == EINTR);
	return ret > 0 && (p.revents & POLLIN);
}

/* A channel of SYNC_AREA_LEN bytes mapped read-write, a sync context on
 * it, and its handle's descriptor (the sync and spoll tests). */
struct sync_area {
	struct shmchan *ch;
	uint8_t *base;
	struct shmchan_sync *s;
	int fd;
};

#define SYNC_AREA_LEN	65536

static inline void sync_area_open(struct sync_area *a, const char *name,
				  bool create)
{
	void *base;

	if (create)
		ASSERT_EQ(shmchan_create(name, SYNC_AREA_LEN, 0600, 0, &a->ch), 0);
	else
		ASSERT_EQ(shmchan_open(name, 0, &a->ch), 0);
	ASSERT_EQ(shmchan_map(a->ch, PROT_READ | PROT_WRITE, &base), 0);
	a->base = base;
	ASSERT_EQ(shmchan_sync_new(a->ch, base, &a->s), 0);
	a->fd = shmchan_fd(a->ch);
}

static inline void sync_area_close(struct sync_area *a)
{
	shmchan_sync_free(a->s);
	shmchan_unmap(a->base, SYNC_AREA_LEN);
	shmchan_close(a->ch);
}

#endif
