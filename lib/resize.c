// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Growing a channel while it is mapped: SHMCHAN_IOC_RESIZE and
 * SHMCHAN_IOC_RESIZE_WAIT (SHMCHAN_FEATURE_RESIZE). The handle's
 * shmchan_length() follows what these calls learn.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* What the handle knows of the channel's length now */
static void note_length(struct shmchan *ch, uint64_t length)
{
	__atomic_store_n(&ch->length, length, __ATOMIC_RELAXED);
}

SHMCHAN_EXPORT
int shmchan_resize(struct shmchan *ch, uint64_t length, unsigned int flags,
		   uint64_t *new_length)
{
	struct shmchan_resize arg;
	int ret;

	if (!ch)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.length = length;

	/* EINTR only for a fatal signal: the retry never runs */
	ret = shmchan__ioctl(ch->fd, SHMCHAN_IOC_RESIZE, &arg);
	if (ret < 0)
		return ret;
	note_length(ch, arg.length);
	if (new_length)
		*new_length = arg.length;
	return 0;
}

/* Blocks: EINTR goes back to the caller, as for shmchan_wait() */
SHMCHAN_EXPORT
int shmchan_resize_wait(struct shmchan *ch, uint32_t generation,
			const struct timespec *abs_deadline,
			uint32_t *new_generation, uint64_t *new_length)
{
	struct shmchan_resize_wait arg;
	int ret;

	if (!ch)
		return -EINVAL;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.generation = generation;
	ret = shmchan__set_deadline(abs_deadline, SHMCHAN_WAIT_DEADLINE,
				    &arg.flags, &arg.deadline_ns);
	if (ret)
		return ret;

	ret = shmchan__ioctl_once(ch->fd, SHMCHAN_IOC_RESIZE_WAIT, &arg);
	if (ret < 0)
		return ret;
	note_length(ch, arg.length);
	if (new_generation)
		*new_generation = arg.generation;
	if (new_length)
		*new_length = arg.length;
	return 0;
}
