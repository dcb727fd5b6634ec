// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Helpers of the layers above the thin one: deadlines, whether a peer is
 * alive (from /proc), the death count, adaptive spinning.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "peers.h"

#define NSEC_PER_SEC	1000000000ULL
/* include/linux/sched.h: set at the start of do_exit() */
#define PF_EXITING	0x00000004UL

/* ------------------------------------------------------------ deadlines */

uint64_t shmchan__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* A deadline @timeout_ns (> 0) from now. */
void shmchan__deadline_after(struct shmchan__deadline *d, int64_t timeout_ns)
{
	uint64_t at;

	d->nowait = false;
	d->forever = false;
	at = shmchan__now_ns() + (uint64_t)timeout_ns;
	if (at > (uint64_t)INT64_MAX)	/* about 292 years after boot */
		at = INT64_MAX;
	d->at.tv_sec = (time_t)(at / NSEC_PER_SEC);
	d->at.tv_nsec = (long)(at % NSEC_PER_SEC);
}

static uint64_t deadline_ns(const struct shmchan__deadline *d)
{
	if (d->forever)
		return UINT64_MAX;
	return (uint64_t)d->at.tv_sec * NSEC_PER_SEC + (uint64_t)d->at.tv_nsec;
}

bool shmchan__deadline_passed(const struct shmchan__deadline *d)
{
	if (d->nowait)
		return true;
	return !d->forever && shmchan__now_ns() >= deadline_ns(d);
}

/* ------------------------------------------------------------ /proc */

/* What shmchan__alive() needs of /proc/ID/stat. */
struct task_stat {
	char state;		/* field 3 */
	unsigned long flags;	/* field 9 */
	long threads;		/* field 20 */
	uint64_t start;		/* field 22 */
};

/*
 * Fields after the command name, which is in parentheses and may itself
 * hold spaces and parentheses: everything after the last ')'.
 */
static int parse_stat(const char *buf, struct task_stat *ts)
{
	const char *p = strrchr(buf, ')');
	unsigned long long v;
	char *end;
	int field;

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	ts->state = *p++;
	for (field = 4; field <= 22; field++) {
		while (*p == ' ')
			p++;
		errno = 0;
		v = strtoull(p, &end, 10);
		/* fields 4-8 may be negative (-1 for no tty); not used */
		if (end == p || errno)
			return -EINVAL;
		p = end;
		if (field == 9)
			ts->flags = (unsigned long)v;
		else if (field == 20)
			ts->threads = (long)v;
		else if (field == 22)
			ts->start = v;
	}
	return 0;
}

static int read_stat(const char *path, struct task_stat *ts)
{
	char buf[1024];
	ssize_t n;
	size_t len = 0;
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	/* A task that exits between open and read gives ESRCH. */
	n = n < 0 ? -errno : 0;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[len] = '\0';
	return parse_stat(buf, ts);
}

int shmchan__proc_start(pid_t pid, uint64_t *start)
{
	struct task_stat ts;
	char path[64];
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	ret = read_stat(path, &ts);
	if (ret)
		return ret;
	*start = ts.start;
	return 0;
}

int shmchan__self(pid_t *pid, uint64_t *start)
{
	pid_t self = getpid();
	int ret;

	ret = shmchan__proc_start(self, start);
	if (ret)
		return ret;
	*pid = self;
	return 0;
}

/*
 * The thread's identity, cached per thread: gettid() is a system call.
 * A forked child's only thread inherits its parent's cache, so the child
 * handler of pthread_atfork() clears it.
 */
static __thread pid_t cached_tid;
static __thread uint64_t cached_tid_start;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

unsigned int shmchan__fork_gen;

/* In the child, which has one thread: the one that called fork(). */
static void atfork_child(void)
{
	cached_tid = 0;
	__atomic_store_n(&shmchan__fork_gen, shmchan__fork_gen + 1,
			 __ATOMIC_RELAXED);
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

void shmchan__fork_init(void)
{
	pthread_once(&atfork_once, atfork_register);
}

int shmchan__thread_self(pid_t *tid, uint64_t *start)
{
	char path[64];
	struct task_stat ts;
	pid_t t;
	int ret;

	if (cached_tid) {
		*tid = cached_tid;
		*start = cached_tid_start;
		return 0;
	}
	pthread_once(&atfork_once, atfork_register);
	t = (pid_t)syscall(SYS_gettid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)t);
	ret = read_stat(path, &ts);
	if (ret)
		return ret;
	cached_tid_start = ts.start;
	cached_tid = t;
	*tid = t;
	*start = ts.start;
	return 0;
}

static bool task_dead(const struct task_stat *ts)
{
	return ts->state == 'Z' || ts->state == 'X' || ts->state == 'x' ||
	       (ts->flags & PF_EXITING);
}

/* A thread group whose leader is gone or exiting: does any thread run? */
static bool any_thread_alive(pid_t pid)
{
	struct task_stat ts;
	struct dirent *de;
	char path[96];
	bool alive = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno != ENOENT && errno != ESRCH;
	while (!alive && (de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat",
			 (int)pid, de->d_name);
		if (read_stat(path, &ts) == 0 && !task_dead(&ts))
			alive = true;
	}
	closedir(dir);
	return alive;
}

bool shmchan__alive(pid_t id, uint64_t start, uint64_t start_mask,
		    bool thread)
{
	struct task_stat ts;
	char path[64];
	int ret;

	if (id <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)id);
	ret = read_stat(path, &ts);
	if (ret == -ENOENT || ret == -ESRCH)
		return false;
	if (ret)
		return true;
	if (start && ((ts.start ^ start) & start_mask))
		return false;
	if (!task_dead(&ts))
		return true;
	if (thread || ts.threads <= 1)
		return false;
	return any_thread_alive(id);
}

/* ------------------------------------------------------------ deaths */

uint64_t shmchan__features(void)
{
	struct shmchan_features f;

	return shmchan_features(&f) == 0 ? f.features : 0;
}

int shmchan__deaths(struct shmchan *ch, uint32_t *deaths)
{
	struct shmchan_stat st;
	int ret;

	ret = shmchan_stat(ch, &st);
	if (ret)
		return ret;
	*deaths = st.deaths;
	return 0;
}

/* ------------------------------------------------------------ status page */

/* What a handle without a status page reads: 0, for ever. */
static const _Atomic uint64_t status_none;

void shmchan__status_map(struct shmchan *ch, uint64_t features,
			 struct shmchan__status *st)
{
	void *p = MAP_FAILED;

	st->word = &status_none;
	st->page = NULL;
	if (features & SHMCHAN_FEATURE_STATUS_PAGE)
		p = mmap(NULL, sizeof(struct shmchan_status), PROT_READ,
			 MAP_SHARED, shmchan_fd(ch),
			 (off_t)SHMCHAN_STATUS_OFFSET);
	if (p == MAP_FAILED)
		return;
	st->page = p;
	st->word = (const _Atomic uint64_t *)p;
}

void shmchan__status_unmap(struct shmchan__status *st)
{
	if (st->page)
		munmap(st->page, sizeof(struct shmchan_status));
	st->page = NULL;
	st->word = &status_none;
}

/* ------------------------------------------------------------ spinning */

