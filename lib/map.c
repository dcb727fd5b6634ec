// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Mapping a channel's memory. Always MAP_SHARED, the only kind the module
 * allows; every other rule (bounds, PROT_WRITE, PROT_EXEC) is the module's.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"

_Static_assert(sizeof(off_t) == 8, "build with -D_FILE_OFFSET_BITS=64");

static int map_range(struct shmchan *ch, uint64_t offset, size_t length,
		     int prot, void **addr)
{
	void *p;

	/* Not representable as off_t: past the end of any channel. */
	if (offset > (uint64_t)INT64_MAX)
		return -ENXIO;

	p = mmap(NULL, length, prot, MAP_SHARED, ch->fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;

	*addr = p;
	return 0;
}

SHMCHAN_EXPORT
int shmchan_map_range(struct shmchan *ch, uint64_t offset, size_t length,
		      int prot, void **addr)
{
	if (!ch || !addr)
		return -EINVAL;

	return map_range(ch, offset, length, prot, addr);
}

SHMCHAN_EXPORT
int shmchan_map(struct shmchan *ch, int prot, void **addr)
{
	size_t length;

	if (!ch || !addr)
		return -EINVAL;
	/* Only on 32-bit: the channel is larger than an address space. */
	length = (size_t)shmchan_length(ch);
	if (length != shmchan_length(ch))
		return -EFBIG;

	return map_range(ch, 0, length, prot, addr);
}

SHMCHAN_EXPORT
int shmchan_unmap(void *addr, size_t length)
{
	if (!addr)
		return -EINVAL;

	return munmap(addr, length) ? -errno : 0;
}
