// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Handle lifetime: binding a new handle by create or open, closing it, and
 * the accessors for what binding reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int handle_new(struct shmchan **out)
{
	struct shmchan *ch;
	int fd;

	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;

	fd = shmchan__open_device();
	if (fd < 0) {
		free(ch);
		return fd;
	}

	ch->fd = fd;
	*out = ch;
	return 0;
}

static void handle_free(struct shmchan *ch)
{
	close(ch->fd);
	free(ch);
}

/* The module accepted @name, so it fits; the bound is only a safety net. */
static void handle_set_name(struct shmchan *ch, const char *name)
{
	size_t len = strnlen(name, SHMCHAN_NAME_MAX);

	memcpy(ch->name, name, len);
	ch->name[len] = '\0';
}

static int create_common(const char *name, uint64_t length,
			 uint64_t max_length, mode_t mode, unsigned int flags,
			 struct shmchan **out)
{
	struct shmchan_create arg;
	struct shmchan *ch;
	int ret;

	if (!name || !out)
		return -EINVAL;

	ret = handle_new(&ch);
	if (ret)
		return ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.name = (uintptr_t)name;
	arg.length = length;
	arg.mode = mode;
	/* 0: the module's struct tail reads as before (a module without it) */
	arg.max_length = max_length;

	ret = shmchan__ioctl(ch->fd, SHMCHAN_IOC_CREATE, &arg);
	if (ret < 0) {
		handle_free(ch);
		return ret;
	}

	ch->created = arg.result & SHMCHAN_CREATED;
	ch->writable = true;
	ch->length = arg.length;
	handle_set_name(ch, name);
	*out = ch;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_create(const char *name, uint64_t length, mode_t mode,
		   unsigned int flags, struct shmchan **out)
{
	return create_common(name, length, 0, mode, flags, out);
}

SHMCHAN_EXPORT
int shmchan_create_max(const char *name, uint64_t length, uint64_t max_length,
		       mode_t mode, unsigned int flags, struct shmchan **out)
{
	return create_common(name, length, max_length, mode, flags, out);
}

SHMCHAN_EXPORT
int shmchan_open(const char *name, unsigned int flags, struct shmchan **out)
{
	struct shmchan_open arg;
	struct shmchan *ch;
	int ret;

	if (!name || !out)
		return -EINVAL;

	ret = handle_new(&ch);
	if (ret)
		return ret;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.name = (uintptr_t)name;

	ret = shmchan__ioctl(ch->fd, SHMCHAN_IOC_OPEN, &arg);
	if (ret < 0) {
		handle_free(ch);
		return ret;
	}

	ch->writable = !(flags & SHMCHAN_OPEN_RDONLY);
	ch->length = arg.length;
	handle_set_name(ch, name);
	*out = ch;
	return 0;
}

SHMCHAN_EXPORT
void shmchan_close(struct shmchan *ch)
{
	if (ch)
		handle_free(ch);
}

SHMCHAN_EXPORT
int shmchan_fd(const struct shmchan *ch)
{
	return ch ? ch->fd : -EINVAL;
}

SHMCHAN_EXPORT
uint64_t shmchan_length(const struct shmchan *ch)
{
	/* Set again by shmchan_resize() and shmchan_resize_wait() */
	return ch ? __atomic_load_n(&ch->length, __ATOMIC_RELAXED) : 0;
}

SHMCHAN_EXPORT
int shmchan_was_created(const struct shmchan *ch)
{
	return ch ? ch->created : -EINVAL;
}

SHMCHAN_EXPORT
int shmchan_is_writable(const struct shmchan *ch)
{
	return ch ? ch->writable : -EINVAL;
}

SHMCHAN_EXPORT
const char *shmchan_name(const struct shmchan *ch)
{
	return ch ? ch->name : NULL;
}
