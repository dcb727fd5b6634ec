// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-fuzz: a bounded, seedable fuzzer for shmchan.ko.
 *
 * Usage: shmchan-fuzz [-s SEED] [-t SECONDS] [-p PROCS] [-v]
 *   (defaults from $FUZZ_SEED, $FUZZ_SECONDS, $FUZZ_PROCS, else a seed from
 *   the clock, 20 s, 4 processes)
 *
 * Several worker processes (some root, some uid 1000 and 1001) issue random
 * valid and invalid ioctls, mmaps, munmaps, mremaps, madvises, forks, kills
 * and destroys against a small set of names ("fz.0" ... "fz.5") for a fixed
 * time. Every worker draws its operations from its own generator seeded from
 * SEED, so a seed replays the same sequence of operations (their interleaving
 * across processes is up to the scheduler).
 *
 * Then everything is killed, the names are destroyed, and the run checks
 * that the module is back where it started:
 *   - every ioctl, mmap and remap_file_pages failed only with an errno
 *     the uapi header documents (or the mm core gives);
 *   - no CREATE, DESTROY, SETATTR or read-write OPEN succeeded on a
 *     handle opened O_RDONLY (some workers open the device so);
 *   - no unprivileged worker gave a channel to another owner or to a
 *     group it is not in (SETATTR follows chown(2));
 *   - no worker died of a signal it did not ask for (SIGBUS, SIGSEGV);
 *   - no fz.* channel is left in /proc/shmchan;
 *   - the module's accounting is back to zero, probed through the limits:
 *     with max_channels / max_total_size set to exactly what the listing
 *     shows plus one channel, one more create works and a second gives
 *     ENOSPC; the same per user (EDQUOT) for uids 1000 and 1001;
 *   - Shmem in /proc/meminfo is back to its baseline (within 1 MiB).
 * A clean kernel log is checked by the VM runner around this program.
 *
 * Output is TAP (kselftest style); exit status 0 if all checks pass, 1 if
 * not, 4 (skip) without root or without /dev/shmchan. The seed is printed
 * first and again with any failure.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64	/* 64-bit mmap offsets in the -m32 build too */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/shmchan.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define NNAMES		6
#define MAX_FDS		6
#define MAX_MAPS	8
#define MAX_KIDS	2
#define MAX_PROCS	16
#define KSFT_SKIP	4
/* Only small channels are populated or touched: the VM has little memory. */
#define SMALL_PAGES	16
#define SHMEM_SLACK_KB	1024

static const char *const names[NNAMES] = {
	"fz.0", "fz.1", "fz.2", "fz.3", "fz.4", "fz.5",
};

static size_t page;

/* ---- random numbers: splitmix64, one stream per process ------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

#define PICK(arr)	((arr)[below(ARRAY_SIZE(arr))])

/* ---- what the workers report back: counters in shared memory -------------- */

enum op {
	OP_OPEN_DEV, OP_CLOSE, OP_CREATE, OP_OPEN, OP_DESTROY, OP_STAT,
	OP_SETATTR, OP_WAIT, OP_WAKE, OP_FEATURES, OP_GARBAGE, OP_MMAP,
	OP_MUNMAP, OP_MREMAP, OP_MPROTECT, OP_MADVISE, OP_TOUCH, OP_FORK,
	OP_KILL, OP_REMAP, OP_WATCH, OP_WATCH_READ, OP_POLL, NOPS
};

static const char *const op_names[NOPS] = {
	"open-dev", "close", "create", "open", "destroy", "stat", "setattr",
	"wait", "wake", "features", "garbage", "mmap", "munmap", "mremap",
	"mprotect", "madvise", "touch", "fork", "kill", "remap", "watch",
	"watch-read", "poll",
};

/* Relative frequencies of the operations. */
static const unsigned int op_weight[NOPS] = {
	[OP_OPEN_DEV] = 8, [OP_CLOSE] = 5, [OP_CREATE] = 10, [OP_OPEN] = 8,
	[OP_DESTROY] = 5, [OP_STAT] = 4, [OP_SETATTR] = 3, [OP_WAIT] = 6,
	[OP_WAKE] = 6, [OP_FEATURES] = 1, [OP_GARBAGE] = 6, [OP_MMAP] = 10,
	[OP_MUNMAP] = 5, [OP_MREMAP] = 3, [OP_MPROTECT] = 2, [OP_MADVISE] = 3,
	[OP_TOUCH] = 8, [OP_FORK] = 2, [OP_KILL] = 2, [OP_REMAP] = 2,
	[OP_WATCH] = 8, [OP_WATCH_READ] = 4, [OP_POLL] = 3,
};

struct shared {
	unsigned long ops[NOPS];
	unsigned long ok[NOPS];
	unsigned long unexpected;	/* errnos the header does not document */
	unsigned long bad_signals;	/* SIGBUS/SIGSEGV in a worker */
};

static struct shared *shared;

static void note(enum op op, long ret)
{
	__atomic_fetch_add(&shared->ops[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		__atomic_fetch_add(&shared->ok[op], 1, __ATOMIC_RELAXED);
}

/* printf from any process, one line at a time. */
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

/* ---- errnos each command may return (uapi/linux/shmchan.h) ---------------- */

static bool documented(unsigned long cmd, int err)
{
	/* Common to every command, plus ENOMEM, which any allocation may give */
	static const int common[] = {
		ENOTTY, EFAULT, EINVAL, E2BIG, EBADFD, EBUSY, ENOMEM,
	};
	static const int create[] = {
		EFBIG, EEXIST, EACCES, ENOSPC, EDQUOT, ENAMETOOLONG, EINTR,
	};
	static const int open[] = { ENOENT, EACCES, ENAMETOOLONG };
	static const int destroy[] = { ENOENT, EPERM, ENAMETOOLONG };
	static const int wait[] = {
		EAGAIN, ETIMEDOUT, EINTR, EIDRM, EOWNERDEAD,
	};
	static const int wake[] = { EIDRM };
	static const int setattr[] = { EPERM };
	/* EINTR: a fatal signal while waiting for the handle's watch lock */
	static const int watch[] = { ENOENT, ENOSPC, EIDRM, EINTR };
	static const int watch_read[] = { EIDRM, EINTR };
	const int *list = NULL;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(common); i++)
		if (err == common[i])
			return true;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SHMCHAN_IOC_CREATE):
		list = create, n = ARRAY_SIZE(create);
		break;
	case _IOC_NR(SHMCHAN_IOC_OPEN):
		list = open, n = ARRAY_SIZE(open);
		break;
	case _IOC_NR(SHMCHAN_IOC_DESTROY):
		list = destroy, n = ARRAY_SIZE(destroy);
		break;
	case _IOC_NR(SHMCHAN_IOC_WAIT):
		list = wait, n = ARRAY_SIZE(wait);
		break;
	case _IOC_NR(SHMCHAN_IOC_WAKE):
		list = wake, n = ARRAY_SIZE(wake);
		break;
	case _IOC_NR(SHMCHAN_IOC_SETATTR):
		list = setattr, n = ARRAY_SIZE(setattr);
		break;
	case _IOC_NR(SHMCHAN_IOC_WATCH_ADD):
	case _IOC_NR(SHMCHAN_IOC_WATCH_ARM):
	case _IOC_NR(SHMCHAN_IOC_WATCH_DEL):
		list = watch, n = ARRAY_SIZE(watch);
		break;
	case _IOC_NR(SHMCHAN_IOC_WATCH_READ):
		list = watch_read, n = ARRAY_SIZE(watch_read);
		break;
	}
	for (i = 0; i < n; i++)
		if (err == list[i])
			return true;
	return false;
}

/*
 * CREATE, DESTROY, SETATTR and a read-write OPEN need a handle opened for
 * writing: on an O_RDONLY one they must never succeed. @arg was accepted
 * by the call, so it can be read.
 */
static bool needs_write_access(unsigned long cmd, const void *arg)
{
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SHMCHAN_IOC_CREATE):
	case _IOC_NR(SHMCHAN_IOC_DESTROY):
	case _IOC_NR(SHMCHAN_IOC_SETATTR):
		return true;
	case _IOC_NR(SHMCHAN_IOC_OPEN):
		return !(((const struct shmchan_open *)arg)->flags & SHMCHAN_OPEN_RDONLY);
	}
	return false;
}

static long do_ioctl(enum op op, int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);
	int err = errno;

	if (ret >= 0 && _IOC_TYPE(cmd) == SHMCHAN_IOC_MAGIC &&
	    (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
	    needs_write_access(cmd, arg)) {
		__atomic_fetch_add(&shared->unexpected, 1, __ATOMIC_RELAXED);
		say("# pid %d: %s (nr %u) succeeded on a handle opened O_RDONLY",
		    (int)getpid(), op_names[op], _IOC_NR(cmd));
	}

	if (ret < 0 && err != EBADF && !documented(cmd, err)) {
		__atomic_fetch_add(&shared->unexpected, 1, __ATOMIC_RELAXED);
		/* every struct starts with __u32 size, __u32 flags */
		say("# pid %d: %s (nr %u, size %u, flags %#x) failed with undocumented errno %d (%s)",
		    (int)getpid(), op_names[op], _IOC_NR(cmd),
		    arg ? ((unsigned int *)arg)[0] : 0,
		    arg ? ((unsigned int *)arg)[1] : 0, err, strerror(err));
	}
	note(op, ret);
	return ret;
}

/* ---- a worker's state --------------------------------------------------------- */

struct mapping {
	char *addr;	/* NULL: free slot */
	size_t len;
	int prot;
	bool dontfork;	/* MADV_DONTFORK: not there in forked children */
};

static int fds[MAX_FDS];
static struct mapping maps[MAX_MAPS];
static pid_t kids[MAX_KIDS];
/*
 * Argument buffers: two read-write pages, then one PROT_NONE page for
 * pointers that fault. Every pointer handed to the kernel points into these
 * pages, at a name, or somewhere that cannot be written: random pointers
 * would let the kernel scribble over the fuzzer itself.
 */
static char *scratch;
static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;
static volatile __u32 *touch_word;	/* static: survives siglongjmp */

static char *unmapped(void)
{
	return scratch + 2 * page;
}

static int any_fd(void)
{
	int fd = fds[below(MAX_FDS)];

	/* now and then a descriptor that is not a handle */
	return fd >= 0 ? fd : (chance(50) ? -1 : STDIN_FILENO);
}

static struct mapping *any_map(void)
{
	struct mapping *m = &maps[below(MAX_MAPS)];

	return m->addr ? m : NULL;
}

static struct mapping *free_map(void)
{
	size_t i;

	for (i = 0; i < MAX_MAPS; i++)
		if (!maps[i].addr)
			return &maps[i];
	return NULL;
}

/* A name pointer: mostly one of ours, sometimes a bad one. */
static __u64 any_name(void)
{
	static const char *const bad[] = {
		"", "fz/0", "fz 0", "fz\t0", "fz.\x7f", "fz.\xc3\xa9",
	};
	char *p;

	switch (below(20)) {
	case 0:
		return 0;
	case 1:
		return (__u64)(uintptr_t)unmapped();
	case 2:
		return 0xffff888000000000ULL;	/* kernel memory */
	case 3:
		return (__u64)(uintptr_t)PICK(bad);
	case 4:	/* too long: 300 graphic characters, or running into PROT_NONE */
		p = chance(50) ? scratch + page : unmapped() - 200;
		memset(p, 'x', 300 > unmapped() - p ? unmapped() - p : 300);
		if (p == scratch + page)
			p[300] = '\0';
		return (__u64)(uintptr_t)p;
	default:
		return (__u64)(uintptr_t)names[below(NNAMES)];
	}
}

static __u64 any_length(void)
{
	static const __u64 odd[] = {
		0, 1, 4095, 1ULL << 63, ~0ULL, ~0ULL - 4094, 1ULL << 40,
	};

	if (chance(10))
		return PICK(odd);
	return (1 + below(SMALL_PAGES)) * page - (chance(20) ? below(page) : 0);
}

static __u32 any_mode(void)
{
	static const __u32 modes[] = {
		0600, 0644, 0666, 0660, 0640, 0400, 0, 0777, 01000, ~0U,
	};

	return PICK(modes);
}

static __u32 any_id(void)
{
	static const __u32 ids[] = { 0, 1000, 1001, 65534, ~0U };

	return PICK(ids);
}

/*
 * The size field: mostly the struct's, sometimes the first version's, one
 * too few, a zero-tailed or a dirty-tailed larger one, or more than a page.
 * The struct is built in @buf (scratch), which has room for all of these.
 */
static __u32 any_size(char *buf, __u32 ksize, __u32 ver0)
{
	__u32 size;

	switch (below(12)) {
	case 0:
		return ver0 - 1 - below(ver0);
	case 1:
		size = ksize + 8 * (1 + below(4));
		memset(buf + ksize, 0, size - ksize);
		if (chance(50))
			buf[size - 1 - below(size - ksize)] = 1;
		return size;
	case 2:
		return (__u32)page + 1 + below(3);
	case 3:
		return ver0;
	default:
		return ksize;
	}
}

/* Build a struct of @ksize bytes in scratch, with its size field set. */
static void *arg_struct(size_t ksize, __u32 ver0)
{
	char *buf = scratch;

	memset(buf, 0, 2 * page);
	*(__u32 *)buf = any_size(buf, ksize, ver0);
	return buf;
}

/* ---- the operations ------------------------------------------------------------ */

static void op_open_dev(void)
{
	int i = below(MAX_FDS), fd;

	if (fds[i] >= 0)
		return;
	fd = open(SHMCHAN_DEVICE, chance(85) ? O_RDWR : O_RDONLY);
	note(OP_OPEN_DEV, fd);
	fds[i] = fd;
}

static void op_close(void)
{
	int i = below(MAX_FDS);

	if (fds[i] < 0)
		return;
	note(OP_CLOSE, close(fds[i]));
	fds[i] = -1;
}

static void op_create(void)
{
	struct shmchan_create *c = arg_struct(sizeof(*c), SHMCHAN_CREATE_SIZE_VER0);

	c->name = any_name();
	c->length = any_length();
	c->mode = any_mode();
	c->flags = below(SHMCHAN_CREATE_FLAGS + 1);
	if (chance(3))
		c->flags |= 1U << (3 + below(29));
	/* populate only what the VM can afford */
	if (c->length > SMALL_PAGES * page)
		c->flags &= ~SHMCHAN_CREATE_POPULATE;
	do_ioctl(OP_CREATE, any_fd(), SHMCHAN_IOC_CREATE, c);
}

static void op_open(void)
{
	struct shmchan_open *o = arg_struct(sizeof(*o), SHMCHAN_OPEN_SIZE_VER0);

	o->name = any_name();
	o->flags = chance(40) ? SHMCHAN_OPEN_RDONLY : 0;
	if (chance(3))
		o->flags |= 1U << (1 + below(31));
	do_ioctl(OP_OPEN, any_fd(), SHMCHAN_IOC_OPEN, o);
}

static void op_destroy(void)
{
	struct shmchan_destroy *d = arg_struct(sizeof(*d), SHMCHAN_DESTROY_SIZE_VER0);

	d->name = any_name();
	d->flags = chance(30) ? SHMCHAN_DESTROY_REVOKE : 0;
	if (chance(3))
		d->flags |= 1U << (1 + below(31));
	do_ioctl(OP_DESTROY, any_fd(), SHMCHAN_IOC_DESTROY, d);
}

static void op_stat(void)
{
	struct shmchan_stat *st = arg_struct(sizeof(*st), SHMCHAN_STAT_SIZE_VER0);

	if (chance(5))
		st->flags = 1U << below(32);
	do_ioctl(OP_STAT, any_fd(), SHMCHAN_IOC_STAT, st);
}

static void op_features(void)
{
	struct shmchan_features *f =
		arg_struct(sizeof(*f), SHMCHAN_FEATURES_SIZE_VER0);

	do_ioctl(OP_FEATURES, any_fd(), SHMCHAN_IOC_FEATURES, f);
}

/*
 * An id no root worker ever sets and no worker has: an unprivileged
 * worker (no CAP_CHOWN, not in that group) can never give a channel to
 * it, since the owner or group it has already would have to be it.
 */
#define GIVEAWAY_ID	4242

static void op_setattr(void)
{
	struct shmchan_setattr *s =
		arg_struct(sizeof(*s), SHMCHAN_SETATTR_SIZE_VER0);
	bool giveaway = getuid() != 0 && chance(20);
	long ret;

	s->flags = below(SHMCHAN_SETATTR_FLAGS + 1);
	if (chance(3))
		s->flags |= 1U << (3 + below(29));
	s->mode = any_mode();
	s->uid = giveaway ? GIVEAWAY_ID : any_id();
	s->gid = giveaway ? GIVEAWAY_ID : any_id();
	s->__reserved = chance(3);
	ret = do_ioctl(OP_SETATTR, any_fd(), SHMCHAN_IOC_SETATTR, s);
	if (giveaway && ret == 0 &&
	    (s->flags & (SHMCHAN_SETATTR_UID | SHMCHAN_SETATTR_GID))) {
		__atomic_fetch_add(&shared->unexpected, 1, __ATOMIC_RELAXED);
		say("# pid %d: uid %d gave a channel away to %d (flags %#x)",
		    (int)getpid(), (int)getuid(), GIVEAWAY_ID, s->flags);
	}
}

/* Mostly a few shared words, so that waits and wakes meet. */
static __u64 any_offset(void)
{
	static const __u64 odd[] = { 1, 2, 4094, 1ULL << 32, 1ULL << 63, ~3ULL };
	static const __u64 hot[] = { 0, 4, 64 };

	if (chance(10))
		return PICK(odd);
	if (chance(60))
		return PICK(hot);
	return 4 * below(SMALL_PAGES * page / 4);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void op_wait(void)
{
	struct shmchan_wait *w = arg_struct(sizeof(*w), SHMCHAN_WAIT_SIZE_VER0);

	w->offset = any_offset();
	w->expected = below(2);
	/* Mostly a deadline a few ms ahead; else the interval timer's SIGALRM */
	if (chance(90)) {
		w->flags |= SHMCHAN_WAIT_DEADLINE;
		w->deadline_ns = now_ns() + below(3000000);
	}
	if (chance(20)) {
		w->flags |= SHMCHAN_WAIT_DEATHS;
		w->deaths = below(4);
	}
	if (chance(3))
		w->flags |= 1U << (2 + below(30));
	if (chance(2))
		w->__reserved2 = 1;
	do_ioctl(OP_WAIT, any_fd(), SHMCHAN_IOC_WAIT, w);
}

static void op_wake(void)
{
	static const __u32 counts[] = { 0, 1, 2, SHMCHAN_WAKE_ALL };
	struct shmchan_wake *w = arg_struct(sizeof(*w), SHMCHAN_WAKE_SIZE_VER0);

	w->offset = any_offset();
	w->count = PICK(counts);
	if (chance(3))
		w->flags = 1U << below(32);
	do_ioctl(OP_WAKE, any_fd(), SHMCHAN_IOC_WAKE, w);
}

/* ADD, ARM or DEL of a watch: mostly small ids, so that they meet */
static void op_watch(void)
{
	static const unsigned long cmds[] = {
		SHMCHAN_IOC_WATCH_ADD, SHMCHAN_IOC_WATCH_ADD, SHMCHAN_IOC_WATCH_ARM,
		SHMCHAN_IOC_WATCH_ARM, SHMCHAN_IOC_WATCH_DEL,
	};
	struct shmchan_watch *w = arg_struct(sizeof(*w), SHMCHAN_WATCH_SIZE_VER0);
	unsigned long cmd = PICK(cmds);

	w->id = chance(90) ? (__u32)below(8) : (__u32)rnd();
	if (cmd == SHMCHAN_IOC_WATCH_ADD || chance(3))
		w->offset = any_offset();
	if (cmd != SHMCHAN_IOC_WATCH_DEL || chance(3))
		w->expected = below(2);
	if (cmd != SHMCHAN_IOC_WATCH_DEL && chance(20)) {
		w->flags |= SHMCHAN_WATCH_DEATHS;
		w->deaths = below(4);
	}
	if (chance(3))
		w->flags |= 1U << below(32);
	if (chance(3))
		w->data = rnd();
	do_ioctl(OP_WATCH, any_fd(), cmd, w);
}

/* READ or LIST into the scratch page, an odd size or an odd pointer */
static void op_watch_read(void)
{
	struct shmchan_watch_read *r = arg_struct(sizeof(*r), SHMCHAN_WATCH_READ_SIZE_VER0);
	static const __u32 esizes[] = { 32, 32, 32, 40, 0, 31, 4097 };

	r->event_size = PICK(esizes);
	r->count = chance(90) ? (__u32)below(page / 48) : (__u32)rnd();
	if (r->count > page / 48 && chance(90))
		r->count = 0;
	r->events = (__u64)(uintptr_t)(chance(95) ? scratch + page : unmapped());
	if (chance(30))
		r->flags |= SHMCHAN_WATCH_READ_LIST;
	if (chance(3))
		r->flags |= 1U << below(32);
	do_ioctl(OP_WATCH_READ, any_fd(), SHMCHAN_IOC_WATCH_READ, r);
}

/* poll() a handle for a moment: readiness must never be an error */
static void op_poll(void)
{
	struct pollfd p = { .fd = fds[below(MAX_FDS)],
			    .events = POLLIN | POLLPRI | POLLOUT };
	int r = poll(&p, 1, (int)below(3));

	note(OP_POLL, r);
	/* A handle is never writable; a closed slot is -1, which poll skips */
	if (r > 0 && (p.revents & (POLLNVAL | POLLOUT))) {
		__atomic_fetch_add(&shared->unexpected, 1, __ATOMIC_RELAXED);
		say("# pid %d: poll on a handle gave revents %#x", (int)getpid(),
		    p.revents);
	}
}

/* Any command number (ours or not), any size, random bytes, odd pointers. */
static void op_garbage(void)
{
	static const unsigned int types[] = {
		SHMCHAN_IOC_MAGIC, SHMCHAN_IOC_MAGIC, SHMCHAN_IOC_MAGIC, 'T', 0,
	};
	unsigned int nr = below(14);
	unsigned long cmd = _IOC(below(4), PICK(types), nr, below(1 << 14));
	struct shmchan_create *c = (void *)scratch;
	void *arg = scratch;
	size_t i;

	for (i = 0; i < page / 8; i++)
		((uint64_t *)scratch)[i] = rnd();
	*(__u32 *)scratch = chance(50) ? (__u32)below(128) : (__u32)rnd();
	/* The name field of CREATE/OPEN/DESTROY (same offset in all three) */
	c->name = any_name();
	/* Never populate a random length */
	if (nr == _IOC_NR(SHMCHAN_IOC_CREATE))
		c->flags &= ~SHMCHAN_CREATE_POPULATE;
	switch (below(8)) {
	case 0:
		arg = NULL;
		break;
	case 1:
		arg = unmapped();
		break;
	case 2:
		arg = unmapped() - 4;	/* the size field only */
		break;
	}
	do_ioctl(OP_GARBAGE, any_fd(), cmd, arg);
}

/*
 * mmap() of a handle: the header's errnos, and the mm core's own; for
 * remap_file_pages() also EIDRM (the last mapping of a transient channel
 * without handles).
 */
static void map_errno(const char *call, int err, bool remap)
{
	static const int ok[] = {
		EINVAL, ENXIO, EACCES, EPERM, ENOMEM, EBADFD,	/* the module */
		EBADF, ENODEV, EOVERFLOW,			/* the mm core */
	};
	size_t i;

	if (remap && err == EIDRM)
		return;
	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (err == ok[i])
			return;
	__atomic_fetch_add(&shared->unexpected, 1, __ATOMIC_RELAXED);
	say("# pid %d: %s failed with unexpected errno %d (%s)", (int)getpid(),
	    call, err, strerror(err));
}

static void mmap_errno(int err)
{
	map_errno("mmap", err, false);
}

static void op_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	struct mapping *m = free_map();
	size_t len = (1 + below(8)) * page;
	off_t off = below(8) * page;
	int prot = PICK(prots), flags = MAP_SHARED;
	void *p;

	if (!m)
		return;
	if (chance(5))
		len = chance(50) ? 0 : SIZE_MAX - page + 1;
	if (chance(5))
		off = chance(50) ? (off_t)1 << 40 : (off_t)(~0ULL >> 1) & ~(off_t)(page - 1);
	/* The status page: read-only, one page, or a neighbour of it */
	if (chance(15)) {
		off = (off_t)SHMCHAN_STATUS_OFFSET;
		len = chance(80) ? page : len;
		if (chance(10))
			off += chance(50) ? (off_t)page : -(off_t)page;
	}
	if (chance(5))
		flags = MAP_PRIVATE;
	p = mmap(NULL, len, prot, flags, any_fd(), off);
	note(OP_MMAP, p == MAP_FAILED ? -1 : 0);
	if (p == MAP_FAILED) {
		mmap_errno(errno);
		return;
	}
	m->addr = p;
	m->len = len;
	m->prot = prot;
	m->dontfork = false;
}

static void op_munmap(void)
{
	struct mapping *m = any_map(), *rest;
	size_t pages, cut;

	if (!m)
		return;
	pages = m->len / page;
	if (pages < 2 || chance(50)) {
		note(OP_MUNMAP, munmap(m->addr, m->len));
		m->addr = NULL;
		return;
	}
	cut = below(pages);
	if (munmap(m->addr + cut * page, page)) {
		note(OP_MUNMAP, -1);
		return;
	}
	note(OP_MUNMAP, 0);
	/* Keep both pieces if there is a slot, else drop the second one */
	rest = free_map();
	if (cut + 1 < pages) {
		if (rest) {
			*rest = *m;
			rest->addr = m->addr + (cut + 1) * page;
			rest->len = (pages - cut - 1) * page;
		} else {
			munmap(m->addr + (cut + 1) * page, (pages - cut - 1) * page);
		}
	}
	m->len = cut * page;
	if (!cut)
		m->addr = NULL;
}

static void op_mremap(void)
{
	struct mapping *m = any_map();
	size_t len;
	void *p;

	if (!m)
		return;
	switch (below(3)) {
	case 0:	/* grow: refused */
		len = m->len + page;
		break;
	case 1:	/* shrink */
		len = m->len > page ? m->len - page : m->len;
		break;
	default: /* move */
		len = m->len;
		break;
	}
	p = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
	note(OP_MREMAP, p == MAP_FAILED ? -1 : 0);
	if (p == MAP_FAILED)
		return;
	m->addr = p;
	m->len = len;
}

static void op_mprotect(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	struct mapping *m = any_map();
	int prot = PICK(prots);

	if (!m)
		return;
	if (mprotect(m->addr, m->len, prot)) {
		note(OP_MPROTECT, -1);
		return;
	}
	note(OP_MPROTECT, 0);
	m->prot = prot;
}

static void op_madvise(void)
{
	static const int advice[] = {
		MADV_DONTNEED, MADV_REMOVE, MADV_WILLNEED, MADV_DONTFORK,
		MADV_DOFORK, MADV_FREE, MADV_PAGEOUT, MADV_COLD,
	};
	struct mapping *m = any_map();
	int adv = PICK(advice), ret;

	if (!m)
		return;
	ret = madvise(m->addr, m->len, adv);
	note(OP_MADVISE, ret);
	if (!ret && (adv == MADV_DONTFORK || adv == MADV_DOFORK))
		m->dontfork = adv == MADV_DONTFORK;
}

/*
 * remap_file_pages(): the mm core maps the VMA's file again at another
 * offset, through its ->mmap; it must not get around the module's checks.
 */
static void op_remap(void)
{
	struct mapping *m = any_map();
	size_t pgoff = chance(80) ? below(8) : (size_t)1 << 30;

	int ret;

	if (!m)
		return;
	ret = remap_file_pages(m->addr, m->len, 0, pgoff, 0);
	note(OP_REMAP, ret);
	if (ret) {
		map_errno("remap_file_pages", errno, true);
		/* a failed remap may have unmapped the range already */
		munmap(m->addr, m->len);
		m->addr = NULL;
	}
}

static void on_fault(int sig)
{
	if (touching)
		siglongjmp(touch_env, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read or write a few words of a mapping, as its protection allows. */
static void op_touch(void)
{
	struct mapping *m = any_map();
	int sig;

	if (!m || !(m->prot & PROT_READ))
		return;
	touch_word = (volatile __u32 *)(m->addr + 4 * below(m->len / 4));
	sig = sigsetjmp(touch_env, 1);
	if (sig) {
		touching = 0;
		__atomic_fetch_add(&shared->bad_signals, 1, __ATOMIC_RELAXED);
		say("# pid %d: signal %d (%s) touching %p of a %zu-byte mapping with prot %d",
		    (int)getpid(), sig, strsignal(sig), (void *)touch_word,
		    m->len, m->prot);
		m->addr = NULL;	/* leave it alone from now on */
		return;
	}
	touching = 1;
	if (m->prot & PROT_WRITE)
		*touch_word = below(2);
	else
		(void)*touch_word;
	touching = 0;
	note(OP_TOUCH, 0);
}

static void worker_loop(uint64_t seed, long budget);

/* A child that shares the worker's handles and mappings for a while. */
static void op_fork(void)
{
	int i = below(MAX_KIDS), j;
	pid_t pid;

	if (kids[i] > 0)
		return;
	pid = fork();
	note(OP_FORK, pid);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(kids, 0, sizeof(kids));
		for (j = 0; j < MAX_MAPS; j++)
			if (maps[j].dontfork)
				maps[j].addr = NULL;
		/* Die at once (a death notice), or after some operations */
		worker_loop(rnd(), chance(30) ? 0 : (long)below(400));
		_exit(0);
	}
	kids[i] = pid;
}

static void op_kill(void)
{
	int i = below(MAX_KIDS);

	if (kids[i] <= 0)
		return;
	note(OP_KILL, kill(kids[i], chance(50) ? SIGKILL : SIGTERM));
	waitpid(kids[i], NULL, 0);
	kids[i] = 0;
}

/* Reap children that finished by themselves. */
static void reap_kids(void)
{
	int i;

	for (i = 0; i < MAX_KIDS; i++)
		if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == kids[i])
			kids[i] = 0;
}

static void (*const op_fn[NOPS])(void) = {
	[OP_OPEN_DEV] = op_open_dev, [OP_CLOSE] = op_close,
	[OP_CREATE] = op_create, [OP_OPEN] = op_open,
	[OP_DESTROY] = op_destroy, [OP_STAT] = op_stat,
	[OP_SETATTR] = op_setattr, [OP_WAIT] = op_wait, [OP_WAKE] = op_wake,
	[OP_FEATURES] = op_features, [OP_GARBAGE] = op_garbage,
	[OP_MMAP] = op_mmap, [OP_MUNMAP] = op_munmap, [OP_MREMAP] = op_mremap,
	[OP_MPROTECT] = op_mprotect, [OP_MADVISE] = op_madvise,
	[OP_TOUCH] = op_touch, [OP_FORK] = op_fork, [OP_KILL] = op_kill,
	[OP_REMAP] = op_remap, [OP_WATCH] = op_watch,
	[OP_WATCH_READ] = op_watch_read, [OP_POLL] = op_poll,
};

static enum op pick_op(void)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < NOPS; i++)
		total += op_weight[i];
	r = below(total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return i;
}

/* Run @budget operations (< 0: until killed) from generator @seed. */
static void worker_loop(uint64_t seed, long budget)
{
	rng = seed;
	while (budget < 0 || budget-- > 0) {
		op_fn[pick_op()]();
		reap_kids();
	}
}

static void noop(int sig)
{
	(void)sig;
}

static void worker(uint64_t seed, int index)
{
	static const uid_t uids[] = { 0, 1000, 1001 };
	uid_t uid = uids[index % 3];
	struct itimerval tick = { { 0, 20000 }, { 0, 20000 } };
	struct sigaction sa = { .sa_handler = noop };
	int i;

	setpgid(0, 0);
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))) {
		say("# worker %d: cannot become uid %d: %s", index, (int)uid,
		    strerror(errno));
		_exit(1);
	}
	/* after setresuid(), which clears it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < MAX_FDS; i++)
		fds[i] = -1;
	scratch = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || mprotect(unmapped(), page, PROT_NONE))
		_exit(1);
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	/* SIGALRM without SA_RESTART: interrupts waits that have no deadline */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &tick, NULL);
	worker_loop(seed, -1);
}

/* ---- after the run: is everything back? ------------------------------------------- */

static int tap_n;
static int tap_failed;
static uint64_t the_seed;

static void tap(bool ok, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("%s %d %s", ok ? "ok" : "not ok", ++tap_n, buf);
	if (!ok) {
		tap_failed = 1;
		say("# FAILED with seed %" PRIu64 ": reproduce with"
		    " make fuzz SEED=%" PRIu64, the_seed, the_seed);
	}
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * Walk /proc/shmchan: count the channels, sum their sizes, and count those
 * of creator @cuid (if not -1) or named fz.* (*ours).
 */
struct listing {
	long channels, ours;
	unsigned long long bytes;
	long user_channels[2];		/* cuid 1000, 1001 */
	unsigned long long user_bytes[2];
};

static int read_listing(struct listing *l)
{
	char line[1024], name[512];
	unsigned long long size;
	unsigned int cuid;
	FILE *f = fopen("/proc/shmchan", "re");

	memset(l, 0, sizeof(*l));
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		/* size mode uid gid cuid cgid cpid lpid nmaps nhandles nwaiters ctime deaths state name */
		if (sscanf(line, "%llu %*o %*u %*u %u %*u %*d %*d %*u %*u %*u %*d %*u %*s %511s",
			   &size, &cuid, name) != 3)
			continue;
		l->channels++;
		l->bytes += size;
		if (!strncmp(name, "fz.", 3))
			l->ours++;
		if (cuid == 1000 || cuid == 1001) {
			l->user_channels[cuid - 1000]++;
			l->user_bytes[cuid - 1000] += size;
		}
	}
	fclose(f);
	return 0;
}

static const char *const param_dir = "/sys/module/shmchan/parameters/";

static int param_get(const char *name, unsigned long long *val)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s%s", param_dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%llu", val) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int param_set(const char *name, unsigned long long val)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s%s", param_dir, name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	ok = fprintf(f, "%llu\n", val) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* CREATE "fz.probe.N" of @len bytes on a new handle; returns 0 or -errno. */
static int probe_create(int n, size_t len, int *fd)
{
	char name[32];
	struct shmchan_create c = {
		.size = sizeof(c), .length = len, .mode = 0600,
		.flags = SHMCHAN_CREATE_EXCL,
	};

	snprintf(name, sizeof(name), "fz.probe.%d", n);
	c.name = (__u64)(uintptr_t)name;
	*fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ioctl(*fd, SHMCHAN_IOC_CREATE, &c) == 0)
		return 0;
	return -errno;
}

static void probe_destroy(int n, int fd)
{
	char name[32];
	struct shmchan_destroy d = { .size = sizeof(d) };

	snprintf(name, sizeof(name), "fz.probe.%d", n);
	d.name = (__u64)(uintptr_t)name;
	if (fd >= 0) {
		ioctl(fd, SHMCHAN_IOC_DESTROY, &d);
		close(fd);
	}
}

/*
 * With @param set to @room, one more channel of @len fits and a second one
 * fails with @err: the module's count equals what the listing shows.
 * Runs as @uid (in a child when not root). Returns true if it held.
 */
static bool probe_limit(const char *param, unsigned long long room, size_t len,
			int err, uid_t uid)
{
	unsigned long long saved;
	int r1 = 1, r2 = 1, fd1 = -1, fd2 = -1, status;
	pid_t pid;

	if (param_get(param, &saved) || param_set(param, room)) {
		say("# cannot set %s%s", param_dir, param);
		return false;
	}
	pid = fork();
	if (pid == 0) {
		if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			    setresuid(uid, uid, uid)))
			_exit(99);
		r1 = probe_create(1, len, &fd1);
		r2 = probe_create(2, len, &fd2);
		probe_destroy(1, fd1);
		probe_destroy(2, fd2);
		if (r1 || r2 != -err)
			say("# %s=%llu as uid %d: first create %d, second %d (want 0, %d)",
			    param, room, (int)uid, r1, r2, -err);
		_exit(r1 == 0 && r2 == -err ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	param_set(param, saved);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool check_accounting(void)
{
	struct listing l;
	bool ok = true;
	int u;

	if (read_listing(&l))
		return false;
	ok &= probe_limit("max_channels", l.channels + 1, page, ENOSPC, 0);
	ok &= probe_limit("max_total_size", l.bytes + page, page, ENOSPC, 0);
	for (u = 0; u < 2; u++) {
		ok &= probe_limit("max_user_channels", l.user_channels[u] + 1,
				  page, EDQUOT, 1000 + u);
		ok &= probe_limit("max_user_size", l.user_bytes[u] + page,
				  page, EDQUOT, 1000 + u);
	}
	return ok;
}

static void destroy_names(void)
{
	struct shmchan_destroy d = { .size = sizeof(d) };
	int fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);
	int i;

	for (i = 0; fd >= 0 && i < NNAMES; i++) {
		d.name = (__u64)(uintptr_t)names[i];
		ioctl(fd, SHMCHAN_IOC_DESTROY, &d);
	}
	if (fd >= 0)
		close(fd);
}

/* Poll @cond for up to @ms milliseconds. */
#define POLL_UNTIL(cond, ms) ({						\
	int __left = (ms);						\
	bool __ok;							\
	while (!(__ok = (cond)) && __left > 0) {			\
		usleep(10000);						\
		__left -= 10;						\
	}								\
	__ok;								\
})

static bool no_channels_of_ours(void)
{
	struct listing l;

	return read_listing(&l) == 0 && l.ours == 0;
}

/* ---- main --------------------------------------------------------------------------- */

static unsigned long env_num(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-s SEED] [-t SECONDS] [-p PROCS] [-v]\n"
		"  defaults: $FUZZ_SEED (else from the clock), $FUZZ_SECONDS (20),\n"
		"  $FUZZ_PROCS (4, at most %d)\n", prog, MAX_PROCS);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long seconds = env_num("FUZZ_SECONDS", 20);
	unsigned long procs = env_num("FUZZ_PROCS", 4);
	uint64_t seed = env_num("FUZZ_SEED", 0);
	pid_t workers[MAX_PROCS];
	unsigned long total = 0;
	long shmem_base, shmem_now = -1;
	int opt, i, status;
	bool died = false;

	while ((opt = getopt(argc, argv, "s:t:p:v")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			procs = strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!procs || procs > MAX_PROCS)
		usage(argv[0]);
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	the_seed = seed;
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IONBF, 0);

	say("TAP version 13");
	say("# shmchan-fuzz: seed %" PRIu64 ", %lu s, %lu processes", seed,
	    seconds, procs);
	if (geteuid() != 0 || access(SHMCHAN_DEVICE, F_OK)) {
		say("1..0 # SKIP needs root and %s", SHMCHAN_DEVICE);
		return KSFT_SKIP;
	}
	say("1..5");

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	/* Orphaned grandchildren come to us, so that all can be reaped */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	destroy_names();
	shmem_base = meminfo_kb("Shmem");

	for (i = 0; i < (int)procs; i++) {
		/* the workers' generators: seed, seed + 1, ... through splitmix */
		workers[i] = fork();
		if (workers[i] == 0) {
			worker(seed + i, i);
			_exit(0);
		}
	}
	sleep(seconds);

	/* Kill every worker's process group, then reap everything. */
	for (i = 0; i < (int)procs; i++) {
		kill(-workers[i], SIGKILL);
		kill(workers[i], SIGKILL);
	}
	for (;;) {
		pid_t pid = wait(&status);

		if (pid < 0 && errno == ECHILD)
			break;
		if (pid > 0 && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL &&
		    WTERMSIG(status) != SIGTERM) {
			say("# process %d died of signal %d (%s)", (int)pid,
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
			died = true;
		}
	}

	for (i = 0; i < NOPS; i++) {
		total += shared->ops[i];
		say("# %-9s %8lu calls, %8lu succeeded", op_names[i],
		    shared->ops[i], shared->ok[i]);
	}
	say("# %lu operations in %lu s", total, seconds);

	tap(shared->unexpected == 0,
	    "every error is documented, no write command on an O_RDONLY handle, no give-away (%lu not)",
	    shared->unexpected);
	tap(!died && shared->bad_signals == 0,
	    "no process died of an unexpected signal");
	destroy_names();
	tap(POLL_UNTIL(no_channels_of_ours(), 10000),
	    "no fz.* channel left in /proc/shmchan");
	tap(check_accounting(), "the module's accounting is back to zero"
	    " (probed through the limits)");
	POLL_UNTIL((shmem_now = meminfo_kb("Shmem")) <= shmem_base + SHMEM_SLACK_KB,
		   10000);
	tap(shmem_now <= shmem_base + SHMEM_SLACK_KB,
	    "Shmem back to baseline: %ld kB before, %ld kB after", shmem_base,
	    shmem_now);
	return tap_failed;
}
