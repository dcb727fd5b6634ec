// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * White-box checks of libshmchan that need no module: the deadline
 * conversion, and errors of the system calls coming back as -errno, using
 * handles built by hand around files that are not the device. Linked with
 * the static library, where internal symbols are reachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "check.h"

static long long deadline(time_t sec, long nsec, int *err)
{
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };

	return (long long)shmchan__deadline_ns(&ts, err);
}

static void deadlines(void)
{
	int err = 1;

	CHECK(deadline(0, 0, &err), 0);
	CHECK(err, 0);
	CHECK(deadline(1, 5, &err), 1000000005LL);
	CHECK(deadline(12345, 999999999, &err), 12345999999999LL);
	CHECK(err, 0);

	/* Past, and far future (only a 64-bit time_t reaches INT64_MAX ns). */
	CHECK(deadline(-1, 0, &err), 0);
	CHECK(err, 0);
	if (sizeof(time_t) >= 8) {
		CHECK(deadline((time_t)9223372036LL, 854775807, &err),
		      INT64_MAX);
		CHECK(deadline((time_t)9223372036LL, 854775808, &err),
		      INT64_MAX);
		CHECK(deadline((time_t)INT64_MAX, 999999999, &err), INT64_MAX);
		CHECK(err, 0);
	}

	/* Bad nanoseconds. */
	deadline(1, -1, &err);
	CHECK(err, -EINVAL);
	deadline(1, 1000000000, &err);
	CHECK(err, -EINVAL);
	deadline(-1, 1000000000, &err);
	CHECK(err, -EINVAL);
}

/* A handle around any file, as if bound. */
static struct shmchan fake(int fd, uint64_t length)
{
	struct shmchan ch = { .fd = fd, .length = length, .writable = true };

	return ch;
}

static void errors_come_back_negative(void)
{
	struct shmchan bad = fake(-1, 4096);
	struct shmchan_stat st;
	struct timespec ts = { 0, 1000000000 };
	void *addr = NULL;
	struct shmchan null;
	int fd;

	/* A closed descriptor: EBADF from every call. */
	CHECK(shmchan_stat(&bad, &st), -EBADF);
	CHECK(shmchan_wait(&bad, 0, 0, NULL), -EBADF);
	CHECK(shmchan_wait_deaths(&bad, 0, 0, 3, NULL), -EBADF);
	CHECK(shmchan_wake(&bad, 0, 1), -EBADF);
	CHECK(shmchan_setattr(&bad, SHMCHAN_SETATTR_MODE, 0600, 0, 0), -EBADF);
	CHECK(shmchan_map(&bad, PROT_READ, &addr), -EBADF);
	CHECK(addr == NULL, 1);

	CHECK(shmchan_stat_sized(&bad, NULL, sizeof(st)), -EINVAL);
	CHECK(shmchan_stat_sized(&bad, &st, 2), -EINVAL);
	CHECK(shmchan_stat_sized(&bad, &st, SHMCHAN_SIZED_MAX + 1), -E2BIG);

	/* The deadline is checked before the module is asked. */
	CHECK(shmchan_wait(&bad, 0, 0, &ts), -EINVAL);
	CHECK(shmchan_wait_deaths(&bad, 0, 0, 0, &ts), -EINVAL);

	/* Offsets not representable as off_t. */
	CHECK(shmchan_map_range(&bad, (uint64_t)INT64_MAX + 1, 4096, PROT_READ,
				&addr), -ENXIO);
	CHECK(shmchan_map_range(&bad, UINT64_MAX, 4096, PROT_READ, &addr),
	      -ENXIO);

	/* A file that is not the device: ENOTTY, and ENODEV from mmap. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK_TRUE(fd >= 0);
	null = fake(fd, 4096);
	CHECK(shmchan_stat(&null, &st), -ENOTTY);
	CHECK(shmchan_wait(&null, 0, 0, NULL), -ENOTTY);
	CHECK(shmchan_wake(&null, 0, SHMCHAN_WAKE_ALL), -ENOTTY);
	CHECK(shmchan_setattr(&null, 0, 0, 0, 0), -ENOTTY);
	CHECK(shmchan_map(&null, PROT_READ, &addr), -ENODEV);
	CHECK(addr == NULL, 1);
	close(fd);

	/* munmap errors. */
	CHECK(shmchan_unmap((void *)1, 4096), -EINVAL);
}

static void accessors(void)
{
	struct shmchan *ch = calloc(1, sizeof(*ch));
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	CHECK_TRUE(ch && fd >= 0);
	ch->fd = fd;
	ch->length = 1ULL << 40;
	ch->created = true;
	strcpy(ch->name, "a-name");

	CHECK(shmchan_fd(ch), fd);
	CHECK(shmchan_length(ch), 1ULL << 40);
	CHECK(shmchan_was_created(ch), 1);
	CHECK(shmchan_is_writable(ch), 0);
	CHECK(strcmp(shmchan_name(ch), "a-name"), 0);

	/* close() frees the handle and closes its descriptor. */
	shmchan_close(ch);
	CHECK(fcntl(fd, F_GETFD), -1);
	CHECK(errno, EBADF);
}

int main(void)
{
	deadlines();
	errors_come_back_negative();
	accessors();
	return checks_done("internal");
}
