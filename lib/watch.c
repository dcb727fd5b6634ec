// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Watches (SHMCHAN_FEATURE_WATCH): the thin layer over SHMCHAN_IOC_WATCH_ADD,
 * _ARM, _DEL and _READ. A watch makes the handle's descriptor pollable: it
 * is a WAIT that does not block, armed on a word with the value the caller
 * read, and the descriptor polls readable once a WAKE reached it (or the
 * word had moved at arm). The rules are the module's, in <linux/shmchan.h>.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* ADD and ARM share one struct; @id is in for ARM, out for ADD. */
static int watch_cmd(struct shmchan *ch, unsigned long cmd,
		     struct shmchan_watch *arg)
{
	int ret;

	arg->size = sizeof(*arg);
	ret = shmchan__ioctl(ch->fd, cmd, arg);
	if (ret < 0)
		return ret;
	/* 0: armed; else the SHMCHAN_WATCH_EV_* it fired with at once */
	return (int)arg->result;
}

SHMCHAN_EXPORT
int shmchan_watch_add(struct shmchan *ch, uint64_t offset, uint32_t expected,
		      unsigned int flags, uint32_t deaths, uint64_t data,
		      uint32_t *id)
{
	struct shmchan_watch arg;
	int ret;

	if (!ch || !id)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.flags = flags;
	arg.offset = offset;
	arg.expected = expected;
	arg.deaths = deaths;
	arg.data = data;
	ret = watch_cmd(ch, SHMCHAN_IOC_WATCH_ADD, &arg);
	if (ret >= 0)
		*id = arg.id;
	return ret;
}

SHMCHAN_EXPORT
int shmchan_watch_arm(struct shmchan *ch, uint32_t id, uint32_t expected,
		      unsigned int flags, uint32_t deaths)
{
	struct shmchan_watch arg;

	if (!ch)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.flags = flags;
	arg.expected = expected;
	arg.deaths = deaths;
	arg.id = id;
	return watch_cmd(ch, SHMCHAN_IOC_WATCH_ARM, &arg);
}

SHMCHAN_EXPORT
int shmchan_watch_del(struct shmchan *ch, uint32_t id)
{
	struct shmchan_watch arg;
	int ret;

	if (!ch)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.id = id;
	ret = shmchan__ioctl(ch->fd, SHMCHAN_IOC_WATCH_DEL, &arg);
	return ret < 0 ? ret : 0;
}

SHMCHAN_EXPORT
int shmchan_watch_read_sized(struct shmchan *ch, unsigned int flags,
			     struct shmchan_watch_event *events,
			     unsigned int count, size_t event_size)
{
	struct shmchan_watch_read arg;

	if (!ch || (!events && count) || event_size > UINT32_MAX)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.events = (uint64_t)(uintptr_t)events;
	arg.count = count;
	arg.event_size = (uint32_t)event_size;
	return shmchan__ioctl(ch->fd, SHMCHAN_IOC_WATCH_READ, &arg);
}
