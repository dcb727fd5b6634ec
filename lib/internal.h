/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libshmchan internals: the handle, and the helpers shared between files.
 * Nothing here is exported. Symbols with external linkage are named
 * shmchan__* so that they cannot clash with a program linking the static
 * library.
 */
#ifndef LIBSHMCHAN_INTERNAL_H
#define LIBSHMCHAN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "shmchan.h"

/* Marks a definition as public API; libshmchan.map lists the same names. */
#define SHMCHAN_EXPORT __attribute__((visibility("default")))

/*
 * struct shmchan - a handle
 * @fd: open file of SHMCHAN_DEVICE, bound to the channel
 * @created: SHMCHAN_IOC_CREATE reported SHMCHAN_CREATED
 * @writable: bound read-write
 * @length: the channel's length as reported when binding; a channel never
 *	changes length, so this stays true
 * @name: the name it was bound by (the kernel checked it fits)
 *
 * Every field is written before the handle is handed out and only read
 * after, so calls on one handle from many threads need no lock. The queue,
 * sync and segment layers are built as their own objects on top of a
 * handle (they hold a struct shmchan * and their own mapping); should they
 * ever need state shared per handle, it goes here with its own lock, and
 * this rule is restated.
 */
struct shmchan {
	int fd;
	bool created;
	bool writable;
	uint64_t length;
	char name[SHMCHAN_NAME_MAX + 1];
};

/*
 * Structs the caller provides (features, stat) come with the caller's
 * sizeof, through the inlines of shmchan.h, and are passed to the module at
 * that size: the module's rules for extensible structs then keep old and
 * new programs working with old and new modules, and the library never
 * writes past a caller's struct whichever uapi header either was built
 * with. Structs the library builds itself (create, open, destroy, wait,
 * wake) use the library's sizeof; their zeroed tails mean "as before".
 * No uapi struct can reach this size: the module refuses more than a page.
 */
#define SHMCHAN_SIZED_MAX 4096

/* device.c */
int shmchan__open_device(void);
int shmchan__ioctl(int fd, unsigned long request, void *arg);
int shmchan__ioctl_once(int fd, unsigned long request, void *arg);
int shmchan__device_ioctl(unsigned long request, void *arg);

/* chan.c */
uint64_t shmchan__deadline_ns(const struct timespec *ts, int *err);
int shmchan__set_deadline(const struct timespec *abs_deadline, uint32_t flag,
			  __u32 *flags, __u64 *deadline_ns);

#endif /* LIBSHMCHAN_INTERNAL_H */
