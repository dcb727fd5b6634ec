// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Checks of libshmchan that need no module: argument validation, and clean
 * -ENOENT (with no file descriptor left behind) when the device is absent.
 * Built twice, against the shared and the static library.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <shmchan.h>

#include "check.h"

#define SENTINEL ((struct shmchan *)0x5a5a)

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n++;
	closedir(dir);
	return n;
}

static void null_arguments(void)
{
	struct shmchan *ch = SENTINEL;
	struct shmchan_stat st;
	struct timespec ts = { 0, 0 };
	void *addr = NULL;

	CHECK(shmchan_features(NULL), -EINVAL);
	CHECK(shmchan_features_sized(NULL, sizeof(struct shmchan_features)),
	      -EINVAL);
	CHECK(shmchan_features_sized((void *)&st, 0), -EINVAL);
	CHECK(shmchan_features_sized((void *)&st, 3), -EINVAL);

	CHECK(shmchan_create(NULL, 4096, 0600, 0, &ch), -EINVAL);
	CHECK(shmchan_create("unit", 4096, 0600, 0, NULL), -EINVAL);
	CHECK(shmchan_open(NULL, 0, &ch), -EINVAL);
	CHECK(shmchan_open("unit", 0, NULL), -EINVAL);
	CHECK(ch == SENTINEL, 1);
	CHECK(shmchan_destroy(NULL, 0), -EINVAL);

	CHECK(shmchan_stat(NULL, &st), -EINVAL);
	CHECK(shmchan_stat_sized(NULL, &st, sizeof(st)), -EINVAL);
	CHECK(shmchan_wait(NULL, 0, 0, NULL), -EINVAL);
	CHECK(shmchan_wait(NULL, 0, 0, &ts), -EINVAL);
	CHECK(shmchan_wait_deaths(NULL, 0, 0, 0, NULL), -EINVAL);
	CHECK(shmchan_wait_deaths(NULL, 0, 0, 0, &ts), -EINVAL);
	CHECK(shmchan_setattr(NULL, SHMCHAN_SETATTR_MODE, 0600, 0, 0), -EINVAL);
	CHECK(shmchan_wake(NULL, 0, 1), -EINVAL);
	CHECK(shmchan_wake(NULL, 0, SHMCHAN_WAKE_ALL), -EINVAL);

	CHECK(shmchan_map(NULL, PROT_READ, &addr), -EINVAL);
	CHECK(shmchan_map_range(NULL, 0, 4096, PROT_READ, &addr), -EINVAL);
	CHECK(shmchan_unmap(NULL, 4096), -EINVAL);
	CHECK(addr == NULL, 1);

	CHECK(shmchan_fd(NULL), -EINVAL);
	CHECK(shmchan_length(NULL), 0);
	CHECK(shmchan_was_created(NULL), -EINVAL);
	CHECK(shmchan_is_writable(NULL), -EINVAL);
	CHECK(shmchan_name(NULL) == NULL, 1);
	shmchan_close(NULL);
}

static void device_absent(void)
{
	struct shmchan_features feat, zero;
	struct shmchan *ch = SENTINEL;
	int fds = count_fds();

	memset(&feat, 0, sizeof(feat));
	memset(&zero, 0, sizeof(zero));

	CHECK(shmchan_features(&feat), -ENOENT);
	CHECK(shmchan_features_sized(&feat, SHMCHAN_FEATURES_SIZE_VER0), -ENOENT);
	CHECK(memcmp(&feat, &zero, sizeof(feat)), 0);
	CHECK(shmchan_create("unit", 4096, 0600, 0, &ch), -ENOENT);
	CHECK(shmchan_create("unit", 4096, 0600, SHMCHAN_CREATE_EXCL, &ch),
	      -ENOENT);
	CHECK(shmchan_open("unit", 0, &ch), -ENOENT);
	CHECK(shmchan_open("unit", SHMCHAN_OPEN_RDONLY, &ch), -ENOENT);
	CHECK(shmchan_destroy("unit", 0), -ENOENT);
	CHECK(ch == SENTINEL, 1);
	CHECK(count_fds(), fds);
}

/* Sizes the library refuses before asking the module (above a page). */
static void sizes(void)
{
	static unsigned char big[8192];

	CHECK(shmchan_features_sized((struct shmchan_features *)big,
				     sizeof(big)), -E2BIG);
	CHECK(shmchan_features_sized((struct shmchan_features *)big, 4097),
	      -E2BIG);
	CHECK(big[0], 0);
}

int main(void)
{
	null_arguments();
	sizes();

	if (access(SHMCHAN_DEVICE, F_OK) == 0)
		skip(SHMCHAN_DEVICE " exists: device-absent cases not run");
	else
		device_absent();

	return checks_done("unit");
}
