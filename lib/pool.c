// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Placeholder: the implementation follows. */
#include <errno.h>

#include "internal.h"

SHMCHAN_EXPORT
int shmchan_pool_create(const char *name, uint32_t block_size, uint32_t nblocks, mode_t mode, unsigned int flags, struct shmchan_pool **out)
{
	(void)name;
	(void)block_size;
	(void)nblocks;
	(void)mode;
	(void)flags;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_open(const char *name, struct shmchan_pool **out)
{
	(void)name;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_pool_close(struct shmchan_pool *p)
{
	(void)p;
}

SHMCHAN_EXPORT
int shmchan_pool_alloc(struct shmchan_pool *p, int64_t timeout_ns, uint32_t *index)
{
	(void)p;
	(void)timeout_ns;
	(void)index;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_free(struct shmchan_pool *p, uint32_t index)
{
	(void)p;
	(void)index;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void *shmchan_pool_block(struct shmchan_pool *p, uint32_t index)
{
	(void)p;
	(void)index;
	return NULL;
}

SHMCHAN_EXPORT
int shmchan_pool_detach(struct shmchan_pool *p, uint32_t index)
{
	(void)p;
	(void)index;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_attach(struct shmchan_pool *p, uint32_t index)
{
	(void)p;
	(void)index;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_recover(struct shmchan_pool *p, unsigned int flags)
{
	(void)p;
	(void)flags;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_stats(struct shmchan_pool *p, struct shmchan_pool_stats *out)
{
	(void)p;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_send(struct shmchan_pool *p, struct shmchan_queue *q, uint32_t index, int64_t timeout_ns)
{
	(void)p;
	(void)q;
	(void)index;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_pool_recv(struct shmchan_pool *p, struct shmchan_queue *q, uint32_t *index, int64_t timeout_ns)
{
	(void)p;
	(void)q;
	(void)index;
	(void)timeout_ns;
	return -ENOSYS;
}
