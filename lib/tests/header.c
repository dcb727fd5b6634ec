// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * <shmchan.h> must stand alone and compile as strict C99, C11 and C++
 * (make check-header builds this file each way).
 */
#include <shmchan.h>

int header_check(void);

int header_check(void)
{
	struct shmchan *ch = 0;
	struct shmchan_stat st;
	struct timespec *none = 0;

	if (shmchan_open("x", SHMCHAN_OPEN_RDONLY, &ch) < 0)
		return 1;
	(void)shmchan_wait(ch, 0, 0, none);
	(void)shmchan_stat(ch, &st);
	shmchan_close(ch);
	return 0;
}
