// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * One function per ioctl that needs no new handle: features and destroy
 * (on a device file of their own), stat, setattr, wait and wake (on a
 * bound handle).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NSEC_PER_SEC 1000000000ULL

/*
 * Runs @request on @fd with a zeroed copy of the caller's struct: @size
 * bytes, @size in its first field. The caller's struct is written only on
 * success.
 */
static int sized_check(const void *out, size_t size)
{
	if (!out || size < sizeof(uint32_t))
		return -EINVAL;
	if (size > SHMCHAN_SIZED_MAX)
		return -E2BIG;
	return 0;
}

static int sized_call(int fd, unsigned long request, void *out, size_t size)
{
	uint64_t buf[SHMCHAN_SIZED_MAX / sizeof(uint64_t)];
	uint32_t size32 = (uint32_t)size;
	int ret;

	ret = sized_check(out, size);
	if (ret)
		return ret;

	memset(buf, 0, size);
	memcpy(buf, &size32, sizeof(size32));

	ret = shmchan__ioctl(fd, request, buf);
	if (ret < 0)
		return ret;

	memcpy(out, buf, size);
	return 0;
}

SHMCHAN_EXPORT
int shmchan_features_sized(struct shmchan_features *out, size_t size)
{
	int fd, ret;

	ret = sized_check(out, size);
	if (ret)
		return ret;

	fd = shmchan__open_device();
	if (fd < 0)
		return fd;

	ret = sized_call(fd, SHMCHAN_IOC_FEATURES, out, size);
	close(fd);
	return ret;
}

SHMCHAN_EXPORT
int shmchan_destroy(const char *name, unsigned int flags)
{
	struct shmchan_destroy arg;
	int ret;

	if (!name)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.name = (uintptr_t)name;

	ret = shmchan__device_ioctl(SHMCHAN_IOC_DESTROY, &arg);
	return ret < 0 ? ret : 0;
}

SHMCHAN_EXPORT
int shmchan_stat_sized(struct shmchan *ch, struct shmchan_stat *out,
		       size_t size)
{
	if (!ch)
		return -EINVAL;

	return sized_call(ch->fd, SHMCHAN_IOC_STAT, out, size);
}

/*
 * A timespec as nanoseconds for deadline_ns. tv_nsec outside [0, 1e9) is
 * -EINVAL in *err. A negative tv_sec is a deadline long past (0); one too
 * far to count in 63 bits is clamped to INT64_MAX, about 292 years after
 * boot, which is as good as none.
 */
uint64_t shmchan__deadline_ns(const struct timespec *ts, int *err)
{
	uint64_t sec;

	*err = 0;
	if (ts->tv_nsec < 0 || (uint64_t)ts->tv_nsec >= NSEC_PER_SEC) {
		*err = -EINVAL;
		return 0;
	}
	if (ts->tv_sec < 0)
		return 0;

	sec = (uint64_t)ts->tv_sec;
	if (sec > ((uint64_t)INT64_MAX - (uint64_t)ts->tv_nsec) / NSEC_PER_SEC)
		return INT64_MAX;
	return sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

/*
 * For the calls that take an optional absolute deadline (wait, waitv,
 * resize wait): with @abs_deadline, sets @flag in *@flags and the deadline
 * in *@deadline_ns; without, leaves both alone. 0, or -EINVAL for a bad
 * tv_nsec.
 */
int shmchan__set_deadline(const struct timespec *abs_deadline, uint32_t flag,
			  __u32 *flags, __u64 *deadline_ns)
{
	int err;

	if (!abs_deadline)
		return 0;
	*flags |= flag;
	*deadline_ns = shmchan__deadline_ns(abs_deadline, &err);
	return err;
}

/*
 * Waits are the one call without an EINTR retry: the deadline is absolute so a retry would be
 * correct, but it would also make the wait impossible to interrupt for a
 * program whose handler was installed without SA_RESTART on purpose.
 * SA_RESTART handlers get the kernel's own restart.
 */
static int wait_common(struct shmchan *ch, uint64_t offset, uint32_t expected,
		       const uint32_t *deaths,
		       const struct timespec *abs_deadline)
{
	struct shmchan_wait arg;
	int ret;

	if (!ch)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.offset = offset;
	arg.expected = expected;
	ret = shmchan__set_deadline(abs_deadline, SHMCHAN_WAIT_DEADLINE,
				    &arg.flags, &arg.deadline_ns);
	if (ret)
		return ret;
	if (deaths) {
		arg.flags |= SHMCHAN_WAIT_DEATHS;
		arg.deaths = *deaths;
	}

	ret = shmchan__ioctl_once(ch->fd, SHMCHAN_IOC_WAIT, &arg);
	return ret < 0 ? ret : 0;
}

SHMCHAN_EXPORT
int shmchan_wait(struct shmchan *ch, uint64_t offset, uint32_t expected,
		 const struct timespec *abs_deadline)
{
	return wait_common(ch, offset, expected, NULL, abs_deadline);
}

SHMCHAN_EXPORT
int shmchan_wait_deaths(struct shmchan *ch, uint64_t offset,
			uint32_t expected, uint32_t deaths,
			const struct timespec *abs_deadline)
{
	return wait_common(ch, offset, expected, &deaths, abs_deadline);
}

/* As wait_common(): -EINTR is not retried. */
SHMCHAN_EXPORT
int shmchan_waitv(const struct shmchan_waitv_word *words, unsigned int count,
		  const struct timespec *abs_deadline, uint64_t woken[2])
{
	struct shmchan_waitv_entry entries[SHMCHAN_WAITV_MAX];
	struct shmchan_waitv arg;
	unsigned int i;
	int ret;

	if (!words || !count || count > SHMCHAN_WAITV_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		if (!words[i].ch)
			return -EINVAL;
		memset(&entries[i], 0, sizeof(entries[i]));
		entries[i].fd = words[i].ch->fd;
		entries[i].flags = words[i].flags;
		entries[i].offset = words[i].offset;
		entries[i].expected = words[i].expected;
		entries[i].deaths = words[i].deaths;
	}

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.entries = (uint64_t)(uintptr_t)entries;
	arg.count = count;
	ret = shmchan__set_deadline(abs_deadline, SHMCHAN_WAITV_DEADLINE,
				    &arg.flags, &arg.deadline_ns);
	if (ret)
		return ret;

	ret = shmchan__ioctl_once(words[0].ch->fd, SHMCHAN_IOC_WAITV, &arg);
	if (ret >= 0 && woken) {
		woken[0] = arg.woken[0];
		woken[1] = arg.woken[1];
	}
	return ret;
}

SHMCHAN_EXPORT
int shmchan_wake(struct shmchan *ch, uint64_t offset, uint32_t count)
{
	struct shmchan_wake arg;

	if (!ch)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.offset = offset;
	arg.count = count;

	return shmchan__ioctl(ch->fd, SHMCHAN_IOC_WAKE, &arg);
}

SHMCHAN_EXPORT
int shmchan_setattr(struct shmchan *ch, unsigned int flags, mode_t mode,
		    uid_t uid, gid_t gid)
{
	struct shmchan_setattr arg;
	int ret;

	if (!ch)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.mode = mode;
	arg.uid = uid;
	arg.gid = gid;

	ret = shmchan__ioctl(ch->fd, SHMCHAN_IOC_SETATTR, &arg);
	return ret < 0 ? ret : 0;
}
