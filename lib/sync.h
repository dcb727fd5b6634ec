/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * What sync.c and sync_watch.c share: the layout of the two-word objects
 * (semaphore, condition, event) and the bits of their waiters word.
 * Nothing here is exported.
 */
#ifndef LIBSHMCHAN_SYNC_H
#define LIBSHMCHAN_SYNC_H

#include "peers.h"

/*
 * Two 32-bit words: the value waited on, and who waits for it.
 *
 * @waiters: the sleepers' count in P_COUNT (a task sleeping in a wait of
 * the library counts itself there: at most one per task, and a system
 * has fewer than 2^22 tasks, the kernel's PID_MAX_LIMIT), P_WATCHED while
 * a watcher may have a watch armed on @val (sync_watch.c; set by
 * watchers, cleared only by wakers), and P_EPOCH, a count of those clears
 * (mod 2^9) that tells a watcher whether one went by while it armed.
 */
struct pair {
	_Atomic uint32_t val;
	_Atomic uint32_t waiters;
};

#define P_COUNT		0x003fffffU
#define P_EPOCH		0x7fc00000U
#define P_EPOCH_ONE	0x00400000U
#define P_WATCHED	0x80000000U

/* The object at @obj, @size bytes, @align-aligned, inside the channel. */
int shmchan__sync_off(const struct shmchan_sync *s, const void *obj,
		      size_t size, size_t align, uint64_t *off);

/* sync_watch.c: what shmchan_sync_free() and a fork's child do. */
void shmchan__sync_unwatch_all(struct shmchan_sync *s);
void shmchan__sync_forget(struct shmchan_sync *s);

#endif
