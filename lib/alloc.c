// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Placeholder: the implementation follows. */
#include <errno.h>

#include "internal.h"

SHMCHAN_EXPORT
int shmchan_heap_create(struct shmchan_sync *s, uint64_t offset, uint64_t length, struct shmchan_heap **out)
{
	(void)s;
	(void)offset;
	(void)length;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_heap_open(struct shmchan_sync *s, uint64_t offset, struct shmchan_heap **out)
{
	(void)s;
	(void)offset;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_heap_close(struct shmchan_heap *h)
{
	(void)h;
}

SHMCHAN_EXPORT
int shmchan_heap_alloc(struct shmchan_heap *h, uint64_t size, uint64_t *offset)
{
	(void)h;
	(void)size;
	(void)offset;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_heap_free(struct shmchan_heap *h, uint64_t offset)
{
	(void)h;
	(void)offset;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_heap_stats(struct shmchan_heap *h, struct shmchan_heap_stats *out)
{
	(void)h;
	(void)out;
	return -ENOSYS;
}
