// SPDX-License-Identifier: GPL-2.0
/*
 * liberrnocov.so: records which errors the tests really get, for the errno
 * coverage check of `make check` (tools/errno-cov/README).
 *
 * Preloaded (LD_PRELOAD) into every program a suite runs, it wraps
 *   - ioctl(), mmap() and open() on /dev/shmchan: a failure on a descriptor
 *     of the device (the same character device number as /dev/shmchan), or
 *     an open() of it, is recorded as the command's name from
 *     <linux/shmchan.h> (SHMCHAN_IOC_CREATE, ...; "ioctl" for a command the
 *     module does not know), "mmap" or "open", and errno;
 *   - every libshmchan function that returns -errno (the wrappers are
 *     generated from lib/include/shmchan.h by gen-wrappers.py): a negative
 *     return is recorded as the function's name and -ret. Only the
 *     outermost call of a thread counts: shmchan_queue_create() failing
 *     with EEXIST is not also a failure of shmchan_create().
 *
 * Each record is one line "CALL ERRNO PROGRAM\n", appended to the file
 * named by $SHMCHAN_ERRNO_LOG with one write() to a descriptor opened with
 * O_APPEND (so the lines of concurrent processes never mix), opened and
 * closed around the write: that works after setuid() or in a new user or
 * mount namespace as long as the file is writable (tools/errno-cov/record
 * makes it 0666), and leaves no descriptor behind for a test to count.
 * A process records each (call, errno) once; its children inherit what it
 * has recorded. Without $SHMCHAN_ERRNO_LOG nothing is recorded.
 *
 * Built twice, 64- and 32-bit, into build/errno-cov/$LIB/ so that one
 * LD_PRELOAD with the dynamic loader's $LIB serves both.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/shmchan.h>
#include <shmchan.h>

struct ec_ioctl {
	unsigned long cmd;
	const char *name;
};

static __thread int ec_lib_depth;

/* (call, errno) pairs this process has recorded: 64-bit hashes, 0 = free. */
#define EC_SEEN_SLOTS 1024
static uint64_t ec_seen[EC_SEEN_SLOTS];

static void *ec_next(const char *sym)
{
	void *p = dlsym(RTLD_NEXT, sym);

	if (!p) {
		fprintf(stderr, "liberrnocov: no next %s: %s\n", sym, dlerror());
		abort();
	}
	return p;
}

static uint64_t ec_key(const char *call, int err)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *call; call++)
		h = (h ^ (unsigned char)*call) * 0x100000001b3ULL;
	h = (h ^ (unsigned int)err) * 0x100000001b3ULL;
	return h ? h : 1;
}

/* True if this process has recorded @key already. */
static int ec_seen_before(uint64_t key)
{
	unsigned int i, slot = key % EC_SEEN_SLOTS;
	uint64_t v;

	for (i = 0; i < EC_SEEN_SLOTS; i++, slot = (slot + 1) % EC_SEEN_SLOTS) {
		v = __atomic_load_n(&ec_seen[slot], __ATOMIC_RELAXED);
		if (v == key)
			return 1;
		if (!v)
			return 0;
	}
	return 0;
}

/* Remember @key; a full table, or a race with another thread, only costs a
 * repeated line.
 */
static void ec_remember(uint64_t key)
{
	unsigned int i, slot = key % EC_SEEN_SLOTS;
	uint64_t v;

	for (i = 0; i < EC_SEEN_SLOTS; i++, slot = (slot + 1) % EC_SEEN_SLOTS) {
		v = 0;
		if (__atomic_compare_exchange_n(&ec_seen[slot], &v, key, 0,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED) ||
		    v == key)
			return;
	}
}

/* "abi", or "m32/abi" for the 32-bit build of a suite. */
static const char *ec_prog(char *buf, size_t size)
{
	char exe[4096], *base, *dir;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return program_invocation_short_name;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	if (!base)
		return program_invocation_short_name;
	*base++ = '\0';
	dir = strrchr(exe, '/');
	dir = dir ? dir + 1 : exe;
	snprintf(buf, size, "%s%s", strcmp(dir, "m32") ? "" : "m32/", base);
	return buf;
}

/*
 * Not open(): that is ours, below. A test that used up its descriptors on
 * purpose (EMFILE) is recorded too, if its soft limit is below the hard
 * one: the soft limit is raised by one for the moment of the write.
 */
static int ec_open_log(const char *log)
{
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
	struct rlimit rl, more;
	int fd;

	fd = (int)syscall(SYS_openat, AT_FDCWD, log, flags);
	if (fd >= 0 || errno != EMFILE || getrlimit(RLIMIT_NOFILE, &rl) ||
	    rl.rlim_cur >= rl.rlim_max)
		return fd;
	more = rl;
	more.rlim_cur++;
	if (setrlimit(RLIMIT_NOFILE, &more))
		return -1;
	/* A descriptor above the restored limit stays usable until closed. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, log, flags);
	setrlimit(RLIMIT_NOFILE, &rl);
	return fd;
}

static void ec_record(const char *call, int err)
{
	const char *log = getenv("SHMCHAN_ERRNO_LOG");
	char line[512], prog[256], num[16];
	const char *name;
	struct rlimit rl;
	uint64_t key;
	int fd, len;
	bool lifted;

	if (!log || !*log || err <= 0 || err > 4095)
		return;
	key = ec_key(call, err);
	if (ec_seen_before(key))
		return;
	name = strerrorname_np(err);
	if (!name) {
		snprintf(num, sizeof(num), "E#%d", err);
		name = num;
	}
	len = snprintf(line, sizeof(line), "%s %s %s\n", call, name,
		       ec_prog(prog, sizeof(prog)));
	if (len <= 0 || (size_t)len >= sizeof(line))
		return;
	fd = ec_open_log(log);
	if (fd < 0)
		return;
	/*
	 * A program that lowered RLIMIT_FSIZE (grow.user_limits does) must
	 * not get SIGXFSZ from our line in a log longer than its limit: the
	 * soft limit is lifted to the hard one for this one write.
	 */
	lifted = !getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != rl.rlim_max;
	if (lifted) {
		struct rlimit hard = { rl.rlim_max, rl.rlim_max };

		lifted = !setrlimit(RLIMIT_FSIZE, &hard);
	}
	if (write(fd, line, (size_t)len) == len)
		ec_remember(key);
	if (lifted)
		setrlimit(RLIMIT_FSIZE, &rl);
	close(fd);
}

/* Called by the generated wrappers of the library's functions. */
static void ec_lib_failed(const char *fn, long long ret)
{
	int saved = errno;

	if (ret >= -4095)
		ec_record(fn, (int)-ret);
	errno = saved;
}

#include "wrappers.c"

/* The character device /dev/shmchan is now. */
static int ec_shmchan_rdev(dev_t *rdev)
{
	struct stat64 st;

	if (stat64("/dev/shmchan", &st) || !S_ISCHR(st.st_mode))
		return -1;
	*rdev = st.st_rdev;
	return 0;
}

static int ec_is_shmchan_fd(int fd)
{
	struct stat64 st;
	dev_t rdev;

	if (fstat64(fd, &st) || !S_ISCHR(st.st_mode))
		return 0;
	return !ec_shmchan_rdev(&rdev) && st.st_rdev == rdev;
}

static int ec_is_shmchan_path(const char *path)
{
	struct stat64 st;
	dev_t rdev;

	if (!path)
		return 0;
	if (!strcmp(path, "/dev/shmchan"))
		return 1;
	if (stat64(path, &st) || !S_ISCHR(st.st_mode))
		return 0;
	return !ec_shmchan_rdev(&rdev) && st.st_rdev == rdev;
}

/* A failed call on descriptor @fd: recorded if @fd is a handle. */
static void ec_fd_failed(const char *call, int fd, int err)
{
	if (!getenv("SHMCHAN_ERRNO_LOG") || ec_seen_before(ec_key(call, err)))
		goto out;
	if (ec_is_shmchan_fd(fd))
		ec_record(call, err);
out:
	errno = err;
}

static const char *ec_ioctl_name(unsigned long cmd)
{
	size_t i;

	if (_IOC_TYPE(cmd) == SHMCHAN_IOC_MAGIC) {
		for (i = 0; i < sizeof(ec_ioctls) / sizeof(ec_ioctls[0]); i++) {
			if (_IOC_NR(ec_ioctls[i].cmd) == _IOC_NR(cmd))
				return ec_ioctls[i].name;
		}
	}
	/* The module dispatches on type and number alone: ENOTTY. */
	return "ioctl";
}

int ioctl(int fd, unsigned long cmd, ...)
{
	static __typeof__(&ioctl) real;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (__typeof__(&ioctl))ec_next("ioctl");
	ret = real(fd, cmd, arg);
	if (ret < 0)
		ec_fd_failed(ec_ioctl_name(cmd), fd, errno);
	return ret;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static __typeof__(&mmap) real;
	void *p;

	if (!real)
		real = (__typeof__(&mmap))ec_next("mmap");
	p = real(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ec_fd_failed("mmap", fd, errno);
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	static __typeof__(&mmap64) real;
	void *p;

	if (!real)
		real = (__typeof__(&mmap64))ec_next("mmap64");
	p = real(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ec_fd_failed("mmap", fd, errno);
	return p;
}

/*
 * @path as a pointer the compiler knows nothing of: open()'s is declared
 * nonnull, but a test may well pass NULL (and get EFAULT).
 */
static const char *ec_launder(const char *path)
{
	__asm__("" : "+r" (path));
	return path;
}

static void ec_open_failed(const char *path)
{
	int err = errno;

	if (getenv("SHMCHAN_ERRNO_LOG") && !ec_seen_before(ec_key("open", err)) &&
	    ec_is_shmchan_path(path))
		ec_record("open", err);
	errno = err;
}

/* The open() family: mode is there only with O_CREAT or O_TMPFILE. */
#define EC_MODE(flags, mode) do {					\
	va_list ap;							\
	mode = 0;							\
	if ((flags) & (O_CREAT | __O_TMPFILE)) {			\
		va_start(ap, flags);					\
		mode = va_arg(ap, mode_t);				\
		va_end(ap);						\
	}								\
} while (0)

#define EC_OPEN(sym)							\
int sym(const char *path, int flags, ...)				\
{									\
	static int (*real)(const char *, int, ...);			\
	mode_t mode;							\
	int fd;								\
									\
	EC_MODE(flags, mode);						\
	if (!real)							\
		real = (int (*)(const char *, int, ...))ec_next(#sym);	\
	fd = real(path, flags, mode);					\
	if (fd < 0)							\
		ec_open_failed(ec_launder(path));			\
	return fd;							\
}

#define EC_OPENAT(sym)							\
int sym(int dirfd, const char *path, int flags, ...)			\
{									\
	static int (*real)(int, const char *, int, ...);		\
	mode_t mode;							\
	int fd;								\
									\
	EC_MODE(flags, mode);						\
	if (!real)							\
		real = (int (*)(int, const char *, int, ...))ec_next(#sym); \
	fd = real(dirfd, path, flags, mode);				\
	path = ec_launder(path);					\
	if (fd < 0 && (dirfd == AT_FDCWD || (path && path[0] == '/')))	\
		ec_open_failed(path);					\
	return fd;							\
}

/* _FORTIFY_SOURCE's checked opens, which take no mode. */
#define EC_OPEN_2(sym)							\
int sym(const char *path, int flags)					\
{									\
	static int (*real)(const char *, int);				\
	int fd;								\
									\
	if (!real)							\
		real = (int (*)(const char *, int))ec_next(#sym);	\
	fd = real(path, flags);						\
	if (fd < 0)							\
		ec_open_failed(ec_launder(path));			\
	return fd;							\
}

EC_OPEN(open)
EC_OPEN(open64)
EC_OPENAT(openat)
EC_OPENAT(openat64)
EC_OPEN_2(__open_2)
EC_OPEN_2(__open64_2)
