// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Placeholder: the implementation follows. */
#include <errno.h>

#include "internal.h"

SHMCHAN_EXPORT
int shmchan_queue_create(const char *name, uint64_t length, mode_t mode, unsigned int flags, struct shmchan_queue **out)
{
	(void)name;
	(void)length;
	(void)mode;
	(void)flags;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_open(const char *name, unsigned int flags, struct shmchan_queue **out)
{
	(void)name;
	(void)flags;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_queue_close(struct shmchan_queue *q)
{
	(void)q;
}

SHMCHAN_EXPORT
int shmchan_queue_send(struct shmchan_queue *q, const void *msg, size_t len, int64_t timeout_ns)
{
	(void)q;
	(void)msg;
	(void)len;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
ssize_t shmchan_queue_recv(struct shmchan_queue *q, void *buf, size_t cap, int64_t timeout_ns)
{
	(void)q;
	(void)buf;
	(void)cap;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int64_t shmchan_queue_peek_len(struct shmchan_queue *q, int64_t timeout_ns)
{
	(void)q;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_reserve(struct shmchan_queue *q, size_t len, void **ptr, int64_t timeout_ns)
{
	(void)q;
	(void)len;
	(void)ptr;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_commit(struct shmchan_queue *q, size_t len)
{
	(void)q;
	(void)len;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_cancel(struct shmchan_queue *q)
{
	(void)q;
	return -ENOSYS;
}

SHMCHAN_EXPORT
ssize_t shmchan_queue_peek(struct shmchan_queue *q, const void **ptr, int64_t timeout_ns)
{
	(void)q;
	(void)ptr;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_release(struct shmchan_queue *q)
{
	(void)q;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_set_spin(struct shmchan_queue *q, uint32_t spin_ns)
{
	(void)q;
	(void)spin_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_queue_info(struct shmchan_queue *q, struct shmchan_queue_info *out)
{
	(void)q;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
struct shmchan *shmchan_queue_channel(struct shmchan_queue *q)
{
	(void)q;
	return NULL;
}
