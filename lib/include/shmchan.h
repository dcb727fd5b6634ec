/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libshmchan: the thin layer over /dev/shmchan.
 *
 * One function per ioctl of <linux/shmchan.h>, plus mmap helpers, around
 * an opaque handle. The argument structs, flags and constants are those of
 * the uapi header, which this header includes rather than repeats.
 *
 * Conventions
 *   - Every function that can fail returns 0 (or a non-negative value where
 *     it says so) on success and a negative errno value on failure. None
 *     of them sets errno as its result, and none of them prints.
 *   - On failure, output arguments are left as they were.
 *   - A NULL pointer where a pointer is required is -EINVAL; everything
 *     else (flags, names, lengths, offsets, modes) is checked by the module.
 *   - The device is opened with O_CLOEXEC. If it does not exist (module not
 *     loaded), the functions that open it return -ENOENT; call
 *     shmchan_features() to tell that apart from a missing channel.
 *   - EINTR is retried inside the library for every call that does not
 *     block, and returned for shmchan_wait(), which does (see there).
 *
 * Threads and processes
 *   A handle does not change after shmchan_create()/shmchan_open() return,
 *   so any number of threads may use one handle at once. Only
 *   shmchan_close() must not race with another call on the same handle.
 *   After fork() the child has its own copy of the handle (and of its file
 *   descriptor); each process closes its own.
 */
#ifndef LIBSHMCHAN_SHMCHAN_H
#define LIBSHMCHAN_SHMCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <linux/shmchan.h>

#ifdef __cplusplus
extern "C" {
#endif

/** struct shmchan - a handle: an open file of the device bound to a channel */
struct shmchan;

/* Declared here too: strict C99 <time.h> does not define it. */
struct timespec;

/*
 * shmchan_features - ask the loaded module what it supports
 * @out: filled on success
 *
 * Opens the device itself; needs no handle. Returns 0, or -ENOENT when the
 * device does not exist (module not loaded).
 *
 * An inline over shmchan_features_sized(), so that the struct's size is
 * the one this program was compiled with: a program built against an
 * older or newer <linux/shmchan.h> than the library gets its own layout
 * filled, by the module's rules for extensible structs.
 */
int shmchan_features_sized(struct shmchan_features *out, size_t size);

static inline int shmchan_features(struct shmchan_features *out)
{
	return shmchan_features_sized(out, sizeof(*out));
}

/*
 * shmchan_create - make a channel, or open an existing one, read-write
 * @name: channel name
 * @length: wanted length in bytes; the module rounds it up to whole pages
 * @mode: permission bits (0 to 0777) for a new channel; no umask is applied
 * @flags: SHMCHAN_CREATE_* flags
 * @out: receives the new handle
 *
 * Without SHMCHAN_CREATE_EXCL an existing channel is opened;
 * shmchan_was_created() tells which happened.
 */
int shmchan_create(const char *name, uint64_t length, mode_t mode,
		   unsigned int flags, struct shmchan **out);

/*
 * shmchan_open - open an existing channel
 * @name: channel name
 * @flags: SHMCHAN_OPEN_* flags (SHMCHAN_OPEN_RDONLY for a read-only handle)
 * @out: receives the new handle
 */
int shmchan_open(const char *name, unsigned int flags, struct shmchan **out);

/*
 * shmchan_close - close a handle and free it
 *
 * Mappings made through it stay valid. NULL is allowed and does nothing.
 */
void shmchan_close(struct shmchan *ch);

/*
 * shmchan_destroy - remove a channel's name
 * @name: channel name
 * @flags: SHMCHAN_DESTROY_* flags
 *
 * Opens the device itself; needs no handle. Existing handles and mappings
 * keep working (unless SHMCHAN_DESTROY_REVOKE ends their wait/wake).
 */
int shmchan_destroy(const char *name, unsigned int flags);

/*
 * shmchan_stat - read the bound channel's attributes
 * @out: filled on success
 *
 * An inline over shmchan_stat_sized(), for the reason given at
 * shmchan_features().
 */
int shmchan_stat_sized(struct shmchan *ch, struct shmchan_stat *out,
		       size_t size);

static inline int shmchan_stat(struct shmchan *ch, struct shmchan_stat *out)
{
	return shmchan_stat_sized(ch, out, sizeof(*out));
}

/*
 * shmchan_wait - sleep while the 32-bit word at @offset equals @expected
 * @offset: byte offset of the word in the channel, a multiple of 4
 * @expected: value the word must hold for the caller to sleep
 * @abs_deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL to
 *	wait without a deadline
 *
 * Returns 0 when woken by shmchan_wake(), -EAGAIN if the word did not hold
 * @expected, -ETIMEDOUT at the deadline, -EIDRM once the channel is
 * revoked, -EOWNERDEAD when a process that had the channel open or mapped
 * exited during the wait (SHMCHAN_FEATURE_DEATH_NOTICE), and -EINTR when a
 * signal handler installed without SA_RESTART ran: the library does not
 * retry, so that such a handler can interrupt the wait. The caller rechecks
 * the word in every case.
 */
int shmchan_wait(struct shmchan *ch, uint64_t offset, uint32_t expected,
		 const struct timespec *abs_deadline);

/*
 * shmchan_wait_deaths - shmchan_wait(), unless a death was missed
 * @deaths: the channel's death count (shmchan_stat().deaths) the caller
 *	last saw
 *
 * Fails with -EOWNERDEAD at once if the channel's death count is no longer
 * @deaths, so that an exit between reading the count and sleeping is not
 * missed. Needs SHMCHAN_FEATURE_DEATH_NOTICE: an older module refuses
 * the request (-EINVAL or -E2BIG).
 */
int shmchan_wait_deaths(struct shmchan *ch, uint64_t offset,
			uint32_t expected, uint32_t deaths,
			const struct timespec *abs_deadline);

/*
 * shmchan_wake - wake tasks waiting on the 32-bit word at @offset
 * @count: most tasks to wake, oldest first; SHMCHAN_WAKE_ALL for all
 *
 * Returns the number of tasks woken.
 */
int shmchan_wake(struct shmchan *ch, uint64_t offset, uint32_t count);

/*
 * shmchan_setattr - change the bound channel's mode and owner, like IPC_SET
 * @flags: SHMCHAN_SETATTR_MODE, _UID, _GID: which of the others to apply
 * @mode: permission bits (0 to 0777)
 * @uid: new owner, @gid: new group, in the caller's user namespace
 *
 * Allowed to the owner, the creator, or CAP_SYS_ADMIN. Existing handles
 * and mappings keep their access; later opens are checked anew.
 */
int shmchan_setattr(struct shmchan *ch, unsigned int flags, mode_t mode,
		    uid_t uid, gid_t gid);

/*
 * shmchan_map - map the whole channel, MAP_SHARED
 * @prot: PROT_READ, optionally | PROT_WRITE (read-write handle only)
 * @addr: receives the address; unmap with shmchan_unmap(addr,
 *	shmchan_length(ch))
 */
int shmchan_map(struct shmchan *ch, int prot, void **addr);

/*
 * shmchan_map_range - map part of the channel, MAP_SHARED
 * @offset: byte offset in the channel, a multiple of the page size
 * @length: bytes to map
 */
int shmchan_map_range(struct shmchan *ch, uint64_t offset, size_t length,
		      int prot, void **addr);

/*
 * shmchan_unmap - undo shmchan_map() or shmchan_map_range()
 *
 * Needs no handle: a mapping outlives the handle it was made through.
 */
int shmchan_unmap(void *addr, size_t length);

/*
 * Accessors. They make no system call and cannot fail but for a NULL
 * handle, which gives -EINVAL (0 for shmchan_length(), NULL for
 * shmchan_name()).
 */

/* shmchan_fd - the handle's file descriptor; the handle owns it */
int shmchan_fd(const struct shmchan *ch);

/* shmchan_length - the channel's length in bytes */
uint64_t shmchan_length(const struct shmchan *ch);

/* shmchan_was_created - 1 if shmchan_create() made the channel, else 0 */
int shmchan_was_created(const struct shmchan *ch);

/* shmchan_is_writable - 1 if the handle is bound read-write, else 0 */
int shmchan_is_writable(const struct shmchan *ch);

/* shmchan_name - the name the handle was bound by, valid until close */
const char *shmchan_name(const struct shmchan *ch);

#ifdef __cplusplus
}
#endif

#endif /* LIBSHMCHAN_SHMCHAN_H */
