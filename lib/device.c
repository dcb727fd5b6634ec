// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The control device: opening it and issuing ioctls on it, with errors
 * turned into negative errno values.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static int open_device_mode(int flags)
{
	int fd;

	do
		fd = open(SHMCHAN_DEVICE, flags | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);

	return fd < 0 ? -errno : fd;
}

/*
 * Read-write even for a read-only binding when the device allows it: a
 * shared writable mmap needs a file opened for writing, and so do create,
 * destroy, setattr and a read-write open. Where the device's mode lets
 * this user only read it (shmchan(4) has a recipe for that), fall back to
 * read-only: read-only opens, waits and wakes still work, and the module
 * answers the rest with EBADF, which goes back to the caller as it is.
 */
int shmchan__open_device(void)
{
	int fd = open_device_mode(O_RDWR);

	if (fd == -EACCES)
		fd = open_device_mode(O_RDONLY);
	return fd;
}

/* For commands that do not block: EINTR means nothing was done, so retry. */
int shmchan__ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, request, arg);
	while (ret < 0 && errno == EINTR);

	return ret < 0 ? -errno : ret;
}

/* For commands that block: EINTR goes back to the caller. */
int shmchan__ioctl_once(int fd, unsigned long request, void *arg)
{
	int ret = ioctl(fd, request, arg);

	return ret < 0 ? -errno : ret;
}

/* A command that needs no binding, on a device file of its own. */
int shmchan__device_ioctl(unsigned long request, void *arg)
{
	int fd, ret;

	fd = shmchan__open_device();
	if (fd < 0)
		return fd;

	ret = shmchan__ioctl(fd, request, arg);
	close(fd);
	return ret;
}
