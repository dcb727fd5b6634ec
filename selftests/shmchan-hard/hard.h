/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the shmchan-hard suite, on top of ../shmchan/shmchan_test.h:
 * SETATTR, running a check as another user or with chosen capabilities,
 * module parameters, the /proc/shmchan listing, /proc/meminfo, and the
 * SHMCHAN_TEST_SCALE divisor for slow kernels.
 */
#ifndef SHMCHAN_HARD_H
#define SHMCHAN_HARD_H

#include "shmchan_test.h"

#include <grp.h>
#include <linux/capability.h>

/* ---- SETATTR ------------------------------------------------------------- */

static inline int sc_setattr(int fd, __u32 flags, __u32 mode, __u32 uid, __u32 gid)
{
	struct shmchan_setattr s = {
		.size = sizeof(s),
		.flags = flags,
		.mode = mode,
		.uid = uid,
		.gid = gid,
	};

	return sc_ioctl(fd, SHMCHAN_IOC_SETATTR, &s);
}

static inline int sc_chmod(int fd, __u32 mode)
{
	return sc_setattr(fd, SHMCHAN_SETATTR_MODE, mode, 0, 0);
}

/* ---- slow kernels ---------------------------------------------------------- */

/* SHMCHAN_TEST_SCALE=N divides sizes and counts of slow tests (default 1). */
static inline unsigned long hard_scaled(unsigned long n)
{
	const char *s = getenv("SHMCHAN_TEST_SCALE");
	unsigned long div = s ? strtoul(s, NULL, 0) : 1;

	if (div < 1)
		div = 1;
	return n / div ? n / div : 1;
}

/* ---- other users and capabilities ----------------------------------------- */

/*
 * Run @fn(@arg) in a child as @uid with primary group @gid and no
 * supplementary groups; returns its exit status (see sc_reap(): 0 ok,
 * 1000 + signal, ...). @fn reports with CHILD_* and returns 0 for success.
 */
static inline int hard_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		if (sc_become(uid, gid))
			CHILD_FAIL("cannot become %d:%d: %s", (int)uid, (int)gid,
				   strerror(errno));
		_exit(fn(arg));
	}
	if (pid < 0)
		return -1;
	return sc_reap(pid, 30000);
}

/*
 * Keep exactly the capabilities in @caps (a CAP_* bit mask below 64) as
 * the effective and permitted set of the calling process. Returns 0 or
 * -errno.
 */
static inline int hard_capset(__u64 caps)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {
		{ .effective = (__u32)caps, .permitted = (__u32)caps },
		{ .effective = (__u32)(caps >> 32), .permitted = (__u32)(caps >> 32) },
	};

	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

#define HARD_CAP(c)	(1ULL << (c))

/*
 * Become @uid:@gid but keep the capabilities in @caps (PR_SET_KEEPCAPS
 * across setresuid, then capset). For children only. Returns 0 or -errno.
 */
static inline int hard_become_with_caps(uid_t uid, gid_t gid, __u64 caps)
{
	if (prctl(PR_SET_KEEPCAPS, 1))
		return -errno;
	if (sc_become(uid, gid))
		return -errno;
	return hard_capset(caps);
}

/* ---- the listing --------------------------------------------------------------- */

/* One line of /proc/shmchan. */
struct hard_entry {
	unsigned long long size, nmaps, nhandles, nwaiters;
	unsigned int mode, uid, gid, cuid, cgid;
	int cpid, lpid;
	long long ctime;
	char state[8];
	char name[SHMCHAN_NAME_MAX + 1];
};

/*
 * Find @name in the listing read from @fd, an open /proc/shmchan, from its
 * start (@fd stays open): 1 and *@e filled if listed, 0 if not, -errno if
 * the listing cannot be read or parsed.
 */
static inline int hard_listing_find_fd(int fd, const char *name, struct hard_entry *e)
{
	char line[1024];
	struct hard_entry tmp;
	FILE *f;
	int found = 0;

	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	if (fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -errno;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %o %u %u %u %u %d %d %llu %llu %llu %lld %*u %7s %255s",
			   &tmp.size, &tmp.mode, &tmp.uid, &tmp.gid, &tmp.cuid,
			   &tmp.cgid, &tmp.cpid, &tmp.lpid, &tmp.nmaps,
			   &tmp.nhandles, &tmp.nwaiters, &tmp.ctime, tmp.state,
			   tmp.name) != 14) {
			found = -EPROTO;
			break;
		}
		if (!strcmp(tmp.name, name)) {
			if (e)
				*e = tmp;
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The same for the caller's own open of /proc/shmchan. */
static inline int hard_listing_find(const char *name, struct hard_entry *e)
{
	int fd = open("/proc/shmchan", O_RDONLY | O_CLOEXEC);
	int found;

	if (fd < 0)
		return -errno;
	found = hard_listing_find_fd(fd, name, e);
	close(fd);
	return found;
}

/* Number of channels the caller sees in /proc/shmchan, or -errno. */
static inline long hard_listing_count(unsigned long long *bytes)
{
	char line[1024];
	unsigned long long size;
	FILE *f = fopen("/proc/shmchan", "re");
	long n = 0;

	if (!f)
		return -errno;
	if (bytes)
		*bytes = 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu", &size) != 1)
			continue;
		n++;
		if (bytes)
			*bytes += size;
	}
	fclose(f);
	return n;
}

/* ---- memory --------------------------------------------------------------------- */

/* A field of /proc/meminfo in kB, or -1. */
static inline long hard_meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * Wait up to @ms for Shmem to come back to at most @base_kb + @slack_kb;
 * returns the last value seen.
 */
static inline long hard_shmem_settle(long base_kb, long slack_kb, int ms)
{
	long kb;

	for (;;) {
		kb = hard_meminfo_kb("Shmem");
		if (kb <= base_kb + slack_kb || ms <= 0)
			return kb;
		usleep(10000);
		ms -= 10;
	}
}

/* Declare a kernel report this test provokes on purpose (tools/vm/dmesg-scan). */
static inline void hard_allow_dmesg(const char *file, const char *regex)
{
	const char *out = getenv("SHMCHAN_OUT");
	char path[512];
	FILE *f;

	if (!out)
		return;
	snprintf(path, sizeof(path), "%s/dmesg-allow/%s", out, file);
	f = fopen(path, "ae");
	if (!f)
		return;
	fprintf(f, "%s\n", regex);
	fclose(f);
}

#endif /* SHMCHAN_HARD_H */
