/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shmchan: named shared-memory channels with futex-like wait/wake.
 *
 * This header is the whole contract between shmchan.ko and userspace.
 *
 * Handles
 *   Every open file of /dev/shmchan is a *handle*. SHMCHAN_IOC_CREATE or
 *   SHMCHAN_IOC_OPEN binds it to exactly one channel; from then on mmap(),
 *   SHMCHAN_IOC_STAT, SHMCHAN_IOC_WAIT, SHMCHAN_IOC_WAKE, the WATCH
 *   commands and poll() on that file act on that channel.
 *   SHMCHAN_IOC_FEATURES and SHMCHAN_IOC_DESTROY work on any handle, bound
 *   or not.
 *
 * The device's permissions
 *   The mode and owner of /dev/shmchan say who may change the set of
 *   channels. SHMCHAN_IOC_CREATE, SHMCHAN_IOC_DESTROY, SHMCHAN_IOC_SETATTR
 *   and a read-write SHMCHAN_IOC_OPEN (without %SHMCHAN_OPEN_RDONLY) need
 *   a handle opened for writing (O_RDWR), as write(2) does, and fail with
 *   EBADF on an O_RDONLY one (after the checks of their struct and flags).
 *   A read-only OPEN, STAT, WAIT, WAKE, the WATCH commands, FEATURES and
 *   mmap() work on an O_RDONLY handle; each channel's own mode decides what may be opened.
 *   A read-write OPEN needs write access to the device because mmap()
 *   with PROT_WRITE and MAP_SHARED of a file not opened for writing is
 *   refused (EACCES) by the kernel before the module is asked: such a
 *   binding could never write. So with the device at mode 0664, group
 *   "shmchan", only that group's members (and root) create, remove and
 *   administer channels and write into them; other users open existing
 *   channels read-only and wait and wake on them. The default mode 0666
 *   leaves all of this to the channels' modes.
 *
 * Extensible structs
 *   Every argument struct starts with ``__u32 size``, which userspace sets
 *   to sizeof() the struct it was compiled with. The module dispatches on
 *   the ioctl's type and number only, never on the size encoded in the
 *   command, so one command serves every version of its struct:
 *
 *   - size smaller than the first published version: EINVAL;
 *   - size smaller than the module's struct: the missing tail is taken as
 *     zero (an older program on a newer module);
 *   - size larger than the module's struct: the unknown tail must be zero,
 *     else E2BIG (a newer program on an older module);
 *   - size larger than a page: E2BIG.
 *
 *   Output is written back for min(size, module's size) bytes, @size
 *   itself left as the caller wrote it; bytes beyond the module's size
 *   were checked to be zero on the way in and stay so, which a newer
 *   program reads as "not known to this module".
 *
 *   Flags fields reject unknown bits with EINVAL, reserved fields must be
 *   zero (EINVAL), and "out" fields are ignored on input.
 *
 * Errors common to every command
 *   ENOTTY   unknown command
 *   EFAULT   the argument or a pointer inside it is not readable/writable
 *   EINVAL   size below the first version, unknown flags, reserved not zero
 *   E2BIG    size above a page, or a non-zero tail the module does not know
 *   EBADFD   a channel command (mmap, STAT, WAIT, WAKE, SETATTR, the
 *            WATCH commands) on an unbound handle
 *   EBADF    CREATE, DESTROY, SETATTR or a read-write OPEN on a handle
 *            not opened for writing (see "The device's permissions")
 *   EBUSY    CREATE or OPEN on a handle that is already bound
 *
 *   CREATE and OPEN on one handle are serialized: a second one waits
 *   for the first (which may be a long %SHMCHAN_CREATE_POPULATE done by
 *   another thread or process sharing the file). That wait ends at once
 *   on a fatal signal (SIGKILL), as the caller is dying.
 *
 * Names
 *   1 to SHMCHAN_NAME_MAX bytes followed by a NUL, each byte a graphic
 *   ASCII character (0x21-0x7e) other than '/'. An empty name or a bad
 *   byte is EINVAL; no NUL within SHMCHAN_NAME_MAX + 1 bytes is
 *   ENAMETOOLONG.
 *
 * mmap
 *   Only MAP_SHARED (MAP_PRIVATE: EINVAL), only within the channel
 *   (offset + length past its end: ENXIO), PROT_WRITE only on a read-write
 *   handle (EACCES), never PROT_EXEC (EPERM). A mapping cannot grow
 *   (mremap: EFAULT) and outlives close() of the handle, fork() and
 *   DESTROY. remap_file_pages() works on a shared mapping, but over the
 *   whole of the last mapping of a transient channel that has no handle
 *   left it fails with EIDRM and leaves the range unmapped: the kernel
 *   unmaps the old pages first, which ends such a channel (its name is
 *   gone, and it does not come back without one). /proc/PID/maps names
 *   a mapping "/shmchan:NAME (deleted)". Pages come
 *   from shmem, so PTHREAD_PROCESS_SHARED objects and futexes work in a
 *   channel, and each page is charged to the memory cgroup of the task
 *   that first touches it.
 *
 *   At offset %SHMCHAN_STATUS_OFFSET, above every channel, the same call
 *   maps the channel's status page instead (%SHMCHAN_FEATURE_STATUS_PAGE):
 *   one page, PROT_READ only, MAP_SHARED only; see struct shmchan_status.
 *   Any offset between the channel's end and the status page, or past
 *   it, is ENXIO. /proc/PID/maps names it "anon_inode:[shmchan_status]".
 *
 * Death notices (%SHMCHAN_FEATURE_DEATH_NOTICE)
 *   The module counts the deaths of a channel's *participants* in
 *   &shmchan_stat.deaths (also &shmchan_status.deaths), and each death ends
 *   the waits that ask for it (%SHMCHAN_WAIT_DEATHS) with EOWNERDEAD. A
 *   process (all its threads) becomes a participant
 *   - through a handle, once it uses that handle itself: CREATE or OPEN
 *     bound it, or it issued STAT, WAIT, WAKE, SETATTR, a WATCH command
 *     or mmap() on it (poll() is no use)
 *     (FEATURES and DESTROY are no use of the handle's channel);
 *   - through a mapping of the channel (the status page is none), once it
 *     made that mapping itself (mmap(), remap_file_pages()) or touched it:
 *     any access by it or by the kernel for it (read(2) into it, a futex
 *     on it) that faults a page of it in.
 *   A death is counted
 *   - when a participant through a handle exits (SIGKILL included) still
 *     holding that handle: once per handle, however many descriptors of
 *     it the process has;
 *   - when the address space of a participant through a mapping goes with
 *     that mapping in it, at exit or at exec(): once per mapping (a VMA:
 *     the pieces munmap() or mprotect() cut one into count one each).
 *   So one exit counts at least once, and more than once for a process
 *   that used several handles or mappings: compare counts for equality,
 *   never count peers with them. A death is counted, and its waiters are
 *   woken, before the dead process can be reaped: once waitpid() in its
 *   parent has returned, STAT and the status page show it. (A process
 *   that holds the dead one's address space, such as a reader of
 *   /proc/PID/mem or a tracer, delays the mapping's count until it lets
 *   go of it.)
 *   Not deaths: close() of a handle (once no descriptor of the handle is
 *   left in the process, its exit is no death through it), munmap(), and
 *   the exit of a process that holds a handle or a mapping it never used.
 *   fork(): a child inherits descriptors and mappings, not participation.
 *   A child that exits or execs without using them is no death however it
 *   was made (fork(), vfork(), posix_spawn(), system(), popen()); one that
 *   uses an inherited handle or touches an inherited mapping becomes a
 *   participant through it, like any process.
 *   exec(): close-on-exec descriptors are closed as by close(), no death;
 *   a handle kept open across exec() keeps the process a participant
 *   through it. The address space exec() replaces takes its mappings with
 *   it: each one the process used counts a death, as at exit, and the new
 *   program is no participant until it uses something itself.
 *   Limits: a process that shares its descriptor table with another
 *   process (clone(2) with CLONE_FILES, without CLONE_THREAD) counts
 *   through its handles only if it is the last of them to exit; a thread
 *   that unshared its descriptor table and exits is no death of its
 *   process, which keeps its participation. If the
 *   module runs out of memory recording a use, it counts from then on
 *   every exit of a process holding that handle, used or not.
 *
 * Listing
 *   /proc/shmchan (mode 0444) has a header line, then one line per channel,
 *   destroyed ones included while they are still in use, with the columns
 *   size mode uid gid cuid cgid cpid lpid nmaps nhandles nwaiters ctime
 *   deaths state name: mode in octal, ids as STAT reports them, ctime in
 *   CLOCK_REALTIME seconds, deaths as &shmchan_stat.deaths, state a string
 *   of letters (D destroyed, R revoked, T transient; "-" for none) and the
 *   name last, so that names of any length keep the columns parseable.
 *   Readers find columns by the names in the header: later versions may
 *   add columns before the name. An open file of /proc/shmchan shows
 *   only the channels its opener could open read-only (CAP_IPC_OWNER:
 *   all), judged by the credentials of the open(), as /proc/sysvipc
 *   readers expect: a descriptor handed to or kept by a more privileged
 *   reader shows no more than its opener may see, and ids are
 *   translated into the opener's user namespace.
 *
 * Limits (module parameters, /sys/module/shmchan/parameters/, root may
 * change them at run time; 0 means no limit)
 *   max_channels (65536), max_total_size (RAM size)
 *                                  all channels together (ENOSPC)
 *   max_user_channels (4096), max_user_size (half the RAM)
 *                                  channels made by one user (EDQUOT;
 *                                  CAP_SYS_RESOURCE is exempt)
 *   max_channel_size (0)           one new channel (EFBIG)
 *   Channels are accounted to their creator's uid until they are freed,
 *   and to the owner of each user namespace between the creator's and
 *   the initial one (uids mapped into a namespace count against the user
 *   who made it, as well as for themselves); the byte figures are channel
 *   lengths, touched or not.
 *
 * Locking
 *   Channel memory cannot be mlock()ed (its mappings are VM_DONTEXPAND,
 *   which mlock() skips).
 */
#ifndef _UAPI_LINUX_SHMCHAN_H
#define _UAPI_LINUX_SHMCHAN_H

#include <linux/ioctl.h>
#include <linux/types.h>

/** SHMCHAN_ABI_VERSION - version reported by SHMCHAN_IOC_FEATURES */
#define SHMCHAN_ABI_VERSION	1

/** SHMCHAN_NAME_MAX - longest channel name in bytes, without the NUL */
#define SHMCHAN_NAME_MAX	255

/** SHMCHAN_DEVICE - path of the control device */
#define SHMCHAN_DEVICE		"/dev/shmchan"

#define SHMCHAN_IOC_MAGIC	0xB8

/* ------------------------------------------------------------------------ */

/** SHMCHAN_FEATURE_SHMEM - pages are shmem: process-shared futexes work */
#define SHMCHAN_FEATURE_SHMEM		(1ULL << 0)
/** SHMCHAN_FEATURE_REVOKE - DESTROY understands SHMCHAN_DESTROY_REVOKE */
#define SHMCHAN_FEATURE_REVOKE		(1ULL << 1)
/** SHMCHAN_FEATURE_TRANSIENT - CREATE understands SHMCHAN_CREATE_TRANSIENT */
#define SHMCHAN_FEATURE_TRANSIENT	(1ULL << 2)
/**
 * SHMCHAN_FEATURE_DEATH_NOTICE - the module counts the deaths of a
 * channel's participants, the processes that used it (see "Death notices"
 * at the top), in &shmchan_stat.deaths, and WAIT understands
 * %SHMCHAN_WAIT_DEATHS: such waits, and only those, end with EOWNERDEAD
 * when one happens.
 */
#define SHMCHAN_FEATURE_DEATH_NOTICE	(1ULL << 3)
/** SHMCHAN_FEATURE_LISTING - /proc/shmchan lists the channels */
#define SHMCHAN_FEATURE_LISTING		(1ULL << 4)
/** SHMCHAN_FEATURE_SETATTR - SHMCHAN_IOC_SETATTR changes mode and owner */
#define SHMCHAN_FEATURE_SETATTR		(1ULL << 5)
/**
 * SHMCHAN_FEATURE_STATUS_PAGE - mmap() at %SHMCHAN_STATUS_OFFSET maps the
 * channel's &struct shmchan_status read-only
 */
#define SHMCHAN_FEATURE_STATUS_PAGE	(1ULL << 6)
/**
 * SHMCHAN_FEATURE_WATCH - a bound handle can watch words of its channel
 * (SHMCHAN_IOC_WATCH_ADD and the other WATCH commands) and poll(),
 * select() and epoll report their readiness; see "Watches" below
 */
#define SHMCHAN_FEATURE_WATCH		(1ULL << 7)

/**
 * struct shmchan_features - what the loaded module offers
 * @size: in: sizeof(struct shmchan_features) as userspace knows it
 * @abi_version: out: %SHMCHAN_ABI_VERSION of the module
 * @create_flags: out: every flag SHMCHAN_IOC_CREATE accepts
 * @open_flags: out: every flag SHMCHAN_IOC_OPEN accepts
 * @destroy_flags: out: every flag SHMCHAN_IOC_DESTROY accepts
 * @stat_flags: out: every flag SHMCHAN_IOC_STAT accepts
 * @wait_flags: out: every flag SHMCHAN_IOC_WAIT accepts
 * @wake_flags: out: every flag SHMCHAN_IOC_WAKE accepts
 * @name_max: out: %SHMCHAN_NAME_MAX of the module
 * @__reserved: out: zero
 * @features: out: SHMCHAN_FEATURE_* bits
 * @setattr_flags: out: every flag SHMCHAN_IOC_SETATTR accepts
 * @__reserved2: out: zero
 * @watch_flags: out: every flag SHMCHAN_IOC_WATCH_ADD, _ARM and _READ
 *	accept (their bits are distinct); 0 without %SHMCHAN_FEATURE_WATCH
 * @waitv_flags: out: every flag of WAITV (%SHMCHAN_FEATURE_WAITV), else 0
 * @resize_flags: out: every flag of RESIZE (%SHMCHAN_FEATURE_RESIZE),
 *	else 0
 * @__reserved3: out: zero
 *
 * Used with SHMCHAN_IOC_FEATURES on any handle. Never fails but for the
 * common errors.
 */
struct shmchan_features {
	__u32 size;
	__u32 abi_version;
	__u32 create_flags;
	__u32 open_flags;
	__u32 destroy_flags;
	__u32 stat_flags;
	__u32 wait_flags;
	__u32 wake_flags;
	__u32 name_max;
	__u32 __reserved;
	__u64 features;
	__u32 setattr_flags;
	__u32 __reserved2;
	__u32 watch_flags;
	__u32 waitv_flags;
	__u32 resize_flags;
	__u32 __reserved3;
};

#define SHMCHAN_FEATURES_SIZE_VER0	48
#define SHMCHAN_FEATURES_SIZE_VER1	56	/* + setattr_flags */
#define SHMCHAN_FEATURES_SIZE_VER2	72	/* + watch_, waitv_, resize_flags */

/* ------------------------------------------------------------------------ */

/** SHMCHAN_CREATE_EXCL - fail with EEXIST if the name exists */
#define SHMCHAN_CREATE_EXCL		(1U << 0)
/**
 * SHMCHAN_CREATE_TRANSIENT - the name goes away by itself when the last
 * handle is closed and the last mapping is unmapped (also after SIGKILL).
 * Applies only when this call makes the channel.
 */
#define SHMCHAN_CREATE_TRANSIENT	(1U << 1)
/**
 * SHMCHAN_CREATE_POPULATE - allocate every page now, charged to the caller's
 * memory cgroup, so that a channel that cannot be backed fails here with
 * ENOMEM instead of a SIGBUS at fault time. Applies only when this call
 * makes the channel.
 */
#define SHMCHAN_CREATE_POPULATE		(1U << 2)
#define SHMCHAN_CREATE_FLAGS	(SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT | \
				 SHMCHAN_CREATE_POPULATE)

/** SHMCHAN_CREATED - set in &shmchan_create.result when a channel was made */
#define SHMCHAN_CREATED			(1U << 0)

/**
 * struct shmchan_create - make a channel, or open an existing one
 * @size: in: sizeof(struct shmchan_create) as userspace knows it
 * @flags: in: SHMCHAN_CREATE_* flags
 * @name: in: user pointer to the NUL-terminated name
 * @length: in: wanted length in bytes, rounded up to whole pages; out: the
 *	channel's length
 * @mode: in: permission bits (0 to 0777) for a new channel
 * @result: out: %SHMCHAN_CREATED if this call made the channel, else 0
 *
 * Used with SHMCHAN_IOC_CREATE. Binds the handle read-write to the channel.
 * Without %SHMCHAN_CREATE_EXCL an existing channel of that name is opened
 * as by SHMCHAN_IOC_OPEN (its mode, owner and flags stay as they are).
 *
 * Errors: EBADF (the handle was not opened for writing), EINVAL (length
 * 0, length larger than an existing channel, mode above 0777, bad name),
 * EFBIG (@length above %SHMCHAN_STATUS_OFFSET,
 * 2^43 bytes: checked before the name is looked up and before any limit;
 * or, for a new channel, @length rounded up to whole pages above the
 * module's max_channel_size parameter), EEXIST (%SHMCHAN_CREATE_EXCL and
 * the name exists), EACCES (opening an existing channel the caller may not
 * read and write), ENOSPC (the module's max_channels or max_total_size
 * would be exceeded), EDQUOT (the caller's user would exceed
 * max_user_channels or max_user_size; CAP_SYS_RESOURCE is exempt),
 * ENOMEM (no memory to commit or, with %SHMCHAN_CREATE_POPULATE, to back
 * the channel), EINTR (a fatal signal during %SHMCHAN_CREATE_POPULATE;
 * other signals do not interrupt it).
 *
 * On an existing channel the checks go in this order: EEXIST, then
 * EACCES, then EINVAL for the length, so that a caller who may not open
 * the channel learns nothing about its length.
 */
struct shmchan_create {
	__u32 size;
	__u32 flags;
	__u64 name;
	__u64 length;
	__u32 mode;
	__u32 result;
};

#define SHMCHAN_CREATE_SIZE_VER0	32

/* ------------------------------------------------------------------------ */

/** SHMCHAN_OPEN_RDONLY - bind read-only: mmap without PROT_WRITE only */
#define SHMCHAN_OPEN_RDONLY		(1U << 0)
#define SHMCHAN_OPEN_FLAGS		(SHMCHAN_OPEN_RDONLY)

/**
 * struct shmchan_open - bind a handle to an existing channel
 * @size: in: sizeof(struct shmchan_open) as userspace knows it
 * @flags: in: SHMCHAN_OPEN_* flags; without %SHMCHAN_OPEN_RDONLY the
 *	handle is read-write
 * @name: in: user pointer to the NUL-terminated name
 * @length: out: the channel's length in bytes
 *
 * Used with SHMCHAN_IOC_OPEN.
 *
 * Errors: ENOENT (no channel of that name), EACCES (the mode bits deny the
 * access asked for; CAP_IPC_OWNER overrides them), EBADF (read-write, on a
 * handle not opened for writing), EINVAL/ENAMETOOLONG (bad name).
 */
struct shmchan_open {
	__u32 size;
	__u32 flags;
	__u64 name;
	__u64 length;
};

#define SHMCHAN_OPEN_SIZE_VER0		24

/* ------------------------------------------------------------------------ */

/**
 * SHMCHAN_DESTROY_REVOKE - also wake every waiter of the channel with
 * EIDRM, and make every later WAIT or WAKE on it fail with EIDRM.
 */
#define SHMCHAN_DESTROY_REVOKE		(1U << 0)
#define SHMCHAN_DESTROY_FLAGS		(SHMCHAN_DESTROY_REVOKE)

/**
 * struct shmchan_destroy - remove a channel's name
 * @size: in: sizeof(struct shmchan_destroy) as userspace knows it
 * @flags: in: SHMCHAN_DESTROY_* flags
 * @name: in: user pointer to the NUL-terminated name
 *
 * Used with SHMCHAN_IOC_DESTROY, on any handle. The name is gone at once:
 * OPEN gives ENOENT and CREATE makes a new, different channel. Handles and
 * mappings of the old channel keep working (memory and wait/wake) until the
 * last of them is gone, then its memory is freed.
 *
 * Errors: ENOENT (no such name), EPERM (caller is neither the owner nor the
 * creator and lacks CAP_SYS_ADMIN), EBADF (the handle was not opened for
 * writing), EINVAL/ENAMETOOLONG (bad name).
 */
struct shmchan_destroy {
	__u32 size;
	__u32 flags;
	__u64 name;
};

#define SHMCHAN_DESTROY_SIZE_VER0	16

/* ------------------------------------------------------------------------ */

/** SHMCHAN_STATE_DESTROYED - the channel's name was removed */
#define SHMCHAN_STATE_DESTROYED		(1U << 0)
/** SHMCHAN_STATE_REVOKED - the channel was destroyed with revoke */
#define SHMCHAN_STATE_REVOKED		(1U << 1)
/** SHMCHAN_STATE_TRANSIENT - the channel was made transient */
#define SHMCHAN_STATE_TRANSIENT		(1U << 2)
/** SHMCHAN_STATE_WRITABLE - this handle is bound read-write */
#define SHMCHAN_STATE_WRITABLE		(1U << 3)

/**
 * struct shmchan_stat - the bound channel's attributes
 * @size: in: sizeof(struct shmchan_stat) as userspace knows it
 * @flags: in: must be 0 (no flags defined yet)
 * @length: out: length in bytes
 * @mode: out: permission bits
 * @uid: out: owner user id, in the caller's user namespace
 * @gid: out: owner group id, in the caller's user namespace
 * @cuid: out: creator user id
 * @cgid: out: creator group id
 * @cpid: out: creator process id in the caller's pid namespace (0 if not
 *	visible there)
 * @ctime_sec: out: creation time, CLOCK_REALTIME seconds
 * @ctime_nsec: out: creation time, nanoseconds
 * @state: out: SHMCHAN_STATE_* bits
 * @nmaps: out: number of mappings (VMAs) of the channel, in all processes
 * @nhandles: out: number of handles bound to the channel
 * @nwaiters: out: number of tasks blocked in SHMCHAN_IOC_WAIT on it, plus
 *	the armed watches on its words (%SHMCHAN_FEATURE_WATCH): what WAKEs
 *	could reach now
 * @lpid: out: the process that last bound a handle to the channel or
 *	mapped it, in the caller's pid namespace (0 if not visible there)
 * @deaths: out: how many deaths of participants of the channel were
 *	counted (wraps); see "Death notices" at the top for who is one and
 *	how often an exit counts, and %SHMCHAN_WAIT_DEATHS
 *
 * Used with SHMCHAN_IOC_STAT on a bound handle.
 */
struct shmchan_stat {
	__u32 size;
	__u32 flags;
	__u64 length;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 cuid;
	__u32 cgid;
	__s32 cpid;
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 state;
	__u64 nmaps;
	__u64 nhandles;
	__u64 nwaiters;
	__s32 lpid;
	__u32 deaths;
};

#define SHMCHAN_STAT_SIZE_VER0		80
#define SHMCHAN_STAT_SIZE_VER1		88	/* + lpid, deaths */

/* ------------------------------------------------------------------------ */

/** SHMCHAN_WAIT_DEADLINE - @deadline_ns holds an absolute deadline */
#define SHMCHAN_WAIT_DEADLINE		(1U << 0)
/**
 * SHMCHAN_WAIT_DEATHS - ask for death notices: fail with EOWNERDEAD at once
 * unless @deaths still equals the channel's death count
 * (&shmchan_stat.deaths, &shmchan_status.deaths), and end with EOWNERDEAD
 * when a death of a participant of the channel is counted during the wait
 * (see "Death notices" at the top). So a library can see a peer die
 * between reading the count and sleeping, or while asleep. Waits without
 * this flag are not disturbed by deaths.
 */
#define SHMCHAN_WAIT_DEATHS		(1U << 1)
#define SHMCHAN_WAIT_FLAGS		(SHMCHAN_WAIT_DEADLINE | SHMCHAN_WAIT_DEATHS)

/**
 * struct shmchan_wait - sleep while a 32-bit word holds a value
 * @size: in: sizeof(struct shmchan_wait) as userspace knows it
 * @flags: in: SHMCHAN_WAIT_* flags
 * @offset: in: byte offset of the word in the channel; a multiple of 4
 * @expected: in: sleep only while the word equals this value
 * @__reserved: in: must be 0
 * @deadline_ns: in: with %SHMCHAN_WAIT_DEADLINE, absolute CLOCK_MONOTONIC
 *	time in nanoseconds at which to give up (values above INT64_MAX
 *	mean never); without it, must be 0
 * @deaths: in: with %SHMCHAN_WAIT_DEATHS, the death count the caller last
 *	saw; without it, must be 0
 * @__reserved2: in: must be 0
 *
 * Used with SHMCHAN_IOC_WAIT on a bound handle. The word is read under the
 * same lock SHMCHAN_IOC_WAKE takes, so a wake issued after the word was
 * changed cannot be missed by a waiter that saw the old value. As with
 * futexes, a wake reaches only the tasks asleep at that moment: one that
 * is not (stopped by a signal, restarting, not yet asleep) compares the
 * word again when it goes to sleep, so change the word, then wake.
 *
 * Returns 0 when woken by SHMCHAN_IOC_WAKE. Errors: EAGAIN (the word does
 * not hold @expected), ETIMEDOUT (the deadline passed), EINTR (a signal
 * arrived; restarted instead under SA_RESTART, which is safe since the
 * deadline is absolute), EIDRM (the channel was revoked, before or during
 * the wait), EOWNERDEAD (with %SHMCHAN_WAIT_DEATHS only: a participant's
 * death was counted since the caller read @deaths, before or during the
 * wait), EINVAL
 * (offset unaligned or past the end), ENOMEM.
 */
struct shmchan_wait {
	__u32 size;
	__u32 flags;
	__u64 offset;
	__u32 expected;
	__u32 __reserved;
	__u64 deadline_ns;
	__u32 deaths;
	__u32 __reserved2;
};

#define SHMCHAN_WAIT_SIZE_VER0		32
#define SHMCHAN_WAIT_SIZE_VER1		40	/* + deaths */

/* ------------------------------------------------------------------------ */

/** SHMCHAN_WAKE_ALL - a @count that wakes every waiter of the word */
#define SHMCHAN_WAKE_ALL		(~0U)

/**
 * struct shmchan_wake - wake tasks waiting on a 32-bit word
 * @size: in: sizeof(struct shmchan_wake) as userspace knows it
 * @flags: in: must be 0 (no flags defined yet)
 * @offset: in: byte offset of the word in the channel; a multiple of 4
 * @count: in: wake at most this many waiters, oldest first
 * @__reserved: in: must be 0
 *
 * Used with SHMCHAN_IOC_WAKE on a bound handle. Only waiters of this word
 * of this channel are woken. Returns the number of tasks woken (at most
 * INT_MAX). Errors: EINVAL (offset unaligned or past the end), EIDRM (the
 * channel was revoked).
 */
struct shmchan_wake {
	__u32 size;
	__u32 flags;
	__u64 offset;
	__u32 count;
	__u32 __reserved;
};

#define SHMCHAN_WAKE_SIZE_VER0		24

/* ------------------------------------------------------------------------ */

/** SHMCHAN_SETATTR_MODE - set the permission bits from @mode */
#define SHMCHAN_SETATTR_MODE		(1U << 0)
/** SHMCHAN_SETATTR_UID - set the owner from @uid */
#define SHMCHAN_SETATTR_UID		(1U << 1)
/** SHMCHAN_SETATTR_GID - set the owner's group from @gid */
#define SHMCHAN_SETATTR_GID		(1U << 2)
#define SHMCHAN_SETATTR_FLAGS		(SHMCHAN_SETATTR_MODE | SHMCHAN_SETATTR_UID | \
					 SHMCHAN_SETATTR_GID)

/**
 * struct shmchan_setattr - change the bound channel's mode and owner
 * @size: in: sizeof(struct shmchan_setattr) as userspace knows it
 * @flags: in: SHMCHAN_SETATTR_* flags saying which fields to apply
 * @mode: in: permission bits (0 to 0777), with %SHMCHAN_SETATTR_MODE
 * @uid: in: new owner, in the caller's user namespace, with
 *	%SHMCHAN_SETATTR_UID
 * @gid: in: new group, in the caller's user namespace, with
 *	%SHMCHAN_SETATTR_GID
 * @__reserved: in: must be 0
 *
 * Used with SHMCHAN_IOC_SETATTR on a bound handle, like IPC_SET of SysV
 * shm: allowed to the owner, the creator, or CAP_SYS_ADMIN. Handles and
 * mappings that exist keep the access they were granted; later OPEN and
 * CREATE calls are checked against the new attributes. The creator ids
 * and the accounting of the channel to its creator do not change.
 *
 * Who may give the channel to whom follows chown(2), not IPC_SET:
 *
 * - a new owner (@uid other than the present one) needs CAP_CHOWN in the
 *   user namespace the channel was created in, and only for ids that
 *   namespace maps (owner and group, old and new); otherwise CAP_CHOWN in
 *   the initial user namespace. Setting the present owner is no change
 *   and always allowed;
 * - a new group (@gid other than the present one) must be one the caller,
 *   owner or creator, belongs to (its own group or a supplementary one),
 *   unless the caller has that CAP_CHOWN.
 *
 * IPC_SET lets an owner hand a segment to any uid. Here that would let a
 * user plant channels that STAT and the listing show as root's (or any
 * victim's) while the creator still controls them, so that a program
 * trusting the owner to tell who made a channel is misled; chown(2)
 * rules keep the owner a statement the kernel vouches for. Mode changes
 * stay as for IPC_SET.
 *
 * Errors: EBADF (the handle was not opened for writing), EPERM (not
 * allowed: not the owner, creator or CAP_SYS_ADMIN, or
 * a new owner or group the rules above refuse; nothing is changed),
 * EINVAL (mode above 0777, an id that does not map into the kernel,
 * unknown flags).
 */
struct shmchan_setattr {
	__u32 size;
	__u32 flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 __reserved;
};

#define SHMCHAN_SETATTR_SIZE_VER0	24

/* ------------------------------------------------------------------------ */

/**
 * SHMCHAN_STATUS_OFFSET - mmap() offset of a bound handle's status page
 *
 * mmap(NULL, length, PROT_READ, MAP_SHARED, fd, SHMCHAN_STATUS_OFFSET) on
 * a bound handle, length at most one page, maps the channel's &struct
 * shmchan_status: one page the module keeps up to date, the same for
 * every mapper, read-only for all of them (PROT_WRITE: EACCES, PROT_EXEC:
 * EPERM, MAP_PRIVATE: EINVAL, more than one page: ENXIO). It outlives the
 * handle and DESTROY like any mapping of the channel, but is not one of
 * its mappings: it is not counted in &shmchan_stat.nmaps, does not keep
 * a transient channel's name, and does not make the caller's process a
 * participant at exit (see %SHMCHAN_FEATURE_DEATH_NOTICE; the mmap() call
 * itself is a use of the handle). It stays readable after the channel is
 * freed, with the values it had last. A channel is at most this many
 * bytes long (a longer CREATE is EFBIG), so no channel byte has this
 * offset (32-bit programs need a 64-bit off_t).
 */
#define SHMCHAN_STATUS_OFFSET		(1ULL << 43)

/**
 * struct shmchan_status - what the module tells every mapper of a channel
 * @deaths: &shmchan_stat.deaths, as %SHMCHAN_WAIT_DEATHS compares it
 * @state: SHMCHAN_STATE_DESTROYED, SHMCHAN_STATE_REVOKED and
 *	SHMCHAN_STATE_TRANSIENT bits of the channel, as &shmchan_stat.state
 *	has them (never WRITABLE, which is the handle's)
 * @__reserved: zero; later versions may define fields here
 *
 * The page behind %SHMCHAN_STATUS_OFFSET. @deaths and @state share one
 * naturally aligned 64-bit word: a single 64-bit atomic load reads both
 * as they were at one moment, which is all a library's fast path needs
 * to learn, without a system call, that a peer died or that the channel
 * was revoked. Each field is changed before the waits it ends are woken,
 * so a waiter woken with EOWNERDEAD or EIDRM reads the new value.
 *
 * 32-bit x86: the load must not write. GCC's 64-bit atomic load (x87 or
 * SSE) does not; a compiler that uses cmpxchg8b for it faults on this
 * read-only page. There, read @deaths, then @state, then @deaths again,
 * until both reads of @deaths agree.
 *
 * The page is charged to the memory cgroup of the channel's creator and
 * lives as long as a mapping of it, also after its channel is freed; it
 * counts against none of the module's limits (a mapping counts against
 * vm.max_map_count, as any does).
 */
struct shmchan_status {
	__u32 deaths;
	__u32 state;
	__u64 __reserved[7];
};

#define SHMCHAN_STATUS_SIZE_VER0	64

/* ------------------------------------------------------------------------ */

/*
 * Watches (%SHMCHAN_FEATURE_WATCH)
 *
 *   A watch is a WAIT that does not block: it belongs to a bound handle,
 *   names a word of the handle's channel and an expected value, and while
 *   it is *armed* it sits in the same queue as the tasks blocked in WAIT
 *   on that word. When a WAKE reaches it, it *fires*; poll(), select()
 *   and epoll on the handle then report it readable. A program with an
 *   event loop arms a watch where it would otherwise call WAIT, and goes
 *   back to its loop.
 *
 *   States. A watch is armed (queued on its word), fired (not queued,
 *   with pending events: SHMCHAN_WATCH_EV_*), or idle (not queued, no
 *   events: after an ARM that failed with ENOMEM or EIDRM, or a revoke;
 *   ARM it again). ADD and ARM arm
 *   it with an expected value; if the word does not hold that value at
 *   that moment (or, with %SHMCHAN_WATCH_DEATHS, a death was counted
 *   since @deaths), it is not queued but fired at once, and the call
 *   says so (its return value and @result). READ reports the fired
 *   watches and re-arms each with the values of its last arm; ARM
 *   re-arms one watch with new values and discards its pending events.
 *
 *   No lost wake. The word is compared with the expected value under the
 *   lock WAKE takes for that word, and the watch is queued before that
 *   lock is dropped, exactly as WAIT does: a WAKE that follows a change
 *   of the word either finds the watch queued, or the arm saw the new
 *   value and fired. Linux's FUTEX_FD (removed in 2.6.26) armed a
 *   descriptor without any value to compare, so a wake between reading
 *   the word and arming was lost; here the arm carries the value it read
 *   and is refused (fires) if the word moved, so there is no such window.
 *
 *   WAKE's count. An armed watch is one waiter of its word, in the same
 *   first-come order as the tasks in WAIT: WAKE with count 1 reaches
 *   either the oldest task or the oldest watch, counts it, and returns
 *   it in its result. So a protocol that is correct with N threads
 *   blocked in WAIT stays correct when some of them are event loops with
 *   watches: a wake meant for one consumer reaches exactly one, and is
 *   never spent on nobody. A fired watch is not queued: until it is
 *   re-armed it neither takes nor absorbs further wakes (the wake it got
 *   is pending on the handle until READ or ARM consumes it).
 *
 *   poll. The handle is readable (EPOLLIN | EPOLLRDNORM) while at least
 *   one of its watches is fired; EPOLLPRI is added while a fired watch
 *   has %SHMCHAN_WATCH_EV_DIED. Once the channel is revoked, poll reports
 *   EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP for good and the WATCH
 *   commands but DEL fail with EIDRM; the revoke wakes the pollers of
 *   every handle with an armed watch. An unbound handle, or one without
 *   fired watches, is never ready. poll() is not a use of the handle
 *   (see "Death notices"). A handle is never writable.
 *
 *   epoll behaves as with an eventfd whose counter is "the handle has
 *   fired watches":
 *   - level-triggered: reported at every epoll_wait() until READ or ARM
 *     leaves no watch fired;
 *   - edge-triggered (EPOLLET): reported once per firing: each watch that
 *     fires (by WAKE, at arm, by a death notice or the revoke) wakes the
 *     pollers again, even if others are still pending, so no firing is
 *     missed; consume with READ until it returns 0;
 *   - EPOLLONESHOT: reported once, then disabled until EPOLL_CTL_MOD;
 *   - several epoll sets (or poll() and epoll together): every one of
 *     them is woken by each firing, and they see the same state: READ
 *     through any descriptor of the handle consumes it for all;
 *   - close(): the handle's watches live as long as the open file does.
 *     epoll drops the registration when the last descriptor of the open
 *     file is closed (a dup() or a forked child's copy keeps it alive and
 *     registered); the watches are freed with the open file;
 *   - fork(): the child shares the handle (the same open file), its
 *     watches and their state; a firing wakes every poller in either
 *     process, and a READ in one consumes for both. An epoll instance
 *     inherited by the child is the same instance.
 *
 *   Each handle holds at most %SHMCHAN_WATCH_MAX watches (ADD: ENOSPC),
 *   charged to the caller's memory cgroup. Watches go with the handle's
 *   open file, or with DEL. read(2) and write(2) on a handle are not
 *   supported (EINVAL).
 */

/** SHMCHAN_WATCH_MAX - the most watches one handle may hold */
#define SHMCHAN_WATCH_MAX		1024

/**
 * SHMCHAN_WATCH_DEATHS - ADD and ARM: ask for death notices, as
 * %SHMCHAN_WAIT_DEATHS does for WAIT: the watch fires with
 * %SHMCHAN_WATCH_EV_DIED at once unless @deaths still equals the channel's
 * death count, and when a death of a participant is counted while armed.
 * On ARM it replaces the watch's previous choice.
 */
#define SHMCHAN_WATCH_DEATHS		(1U << 0)
#define SHMCHAN_WATCH_FLAGS		(SHMCHAN_WATCH_DEATHS)

/**
 * SHMCHAN_WATCH_READ_LIST - READ: list every watch of the handle, fired
 * or not, and change nothing
 */
#define SHMCHAN_WATCH_READ_LIST		(1U << 16)
#define SHMCHAN_WATCH_READ_FLAGS	(SHMCHAN_WATCH_READ_LIST)

/** SHMCHAN_WATCH_EV_WOKEN - a WAKE reached the armed watch */
#define SHMCHAN_WATCH_EV_WOKEN		(1U << 0)
/** SHMCHAN_WATCH_EV_CHANGED - the word did not hold the expected value at arm */
#define SHMCHAN_WATCH_EV_CHANGED	(1U << 1)
/**
 * SHMCHAN_WATCH_EV_DIED - with %SHMCHAN_WATCH_DEATHS: a death was counted
 * since the @deaths of the arm (at arm, or while armed)
 */
#define SHMCHAN_WATCH_EV_DIED		(1U << 2)
/** SHMCHAN_WATCH_EV_ARMED - %SHMCHAN_WATCH_READ_LIST only: armed, queued */
#define SHMCHAN_WATCH_EV_ARMED		(1U << 3)

/**
 * struct shmchan_watch - add, arm or delete one watch
 * @size: in: sizeof(struct shmchan_watch) as userspace knows it
 * @flags: in: ADD, ARM: SHMCHAN_WATCH_* flags (%SHMCHAN_WATCH_DEATHS);
 *	DEL: must be 0
 * @offset: in: ADD: byte offset of the word in the channel, a multiple
 *	of 4; ARM, DEL: must be 0 (a watch keeps its word)
 * @expected: in: ADD, ARM: the watch is armed while the word holds this
 *	value; DEL: must be 0
 * @deaths: in: ADD, ARM: with %SHMCHAN_WATCH_DEATHS, the death count the
 *	caller last saw; else (and for DEL) must be 0
 * @id: out (ADD): the new watch's id, the smallest one free in the
 *	handle, below %SHMCHAN_WATCH_MAX; in (ARM, DEL): the watch
 * @result: out (ADD, ARM): 0 if the watch is armed, else the
 *	SHMCHAN_WATCH_EV_CHANGED and/or _DIED events it fired with at once
 *	(it is then fired: pending and reported by poll and READ); ignored
 *	on input
 * @data: in: ADD: any value, handed back by READ with the watch's events
 *	(as epoll's data); ARM, DEL: must be 0
 *
 * SHMCHAN_IOC_WATCH_ADD makes a watch on a word of the handle's channel
 * and arms it. SHMCHAN_IOC_WATCH_ARM re-arms watch @id with @expected
 * (and the death choice of @flags and @deaths): its pending events are
 * discarded, and if it was armed it is queued again, behind the waiters
 * already there. Both return @result (0: armed). SHMCHAN_IOC_WATCH_DEL
 * removes watch @id, armed or not, with its pending events; its id may
 * be given out again. See "Watches" above.
 *
 * Errors: EINVAL (ADD: offset unaligned or past the end; a field that
 * must be 0 is not, or a death count without %SHMCHAN_WATCH_DEATHS),
 * ENOENT (ARM, DEL: no watch @id on this handle), ENOSPC (ADD: the
 * handle has %SHMCHAN_WATCH_MAX watches), EIDRM (ADD, ARM: the channel
 * was revoked; DEL works on a revoked channel), ENOMEM.
 */
struct shmchan_watch {
	__u32 size;
	__u32 flags;
	__u64 offset;
	__u32 expected;
	__u32 deaths;
	__u32 id;
	__u32 result;
	__u64 data;
};

#define SHMCHAN_WATCH_SIZE_VER0		40

/**
 * struct shmchan_watch_event - one watch, as READ reports it
 * @id: the watch's id
 * @events: SHMCHAN_WATCH_EV_* bits: the events it fired with (READ), or
 *	its state (%SHMCHAN_WATCH_READ_LIST: the pending events, or
 *	%SHMCHAN_WATCH_EV_ARMED, or 0 for an idle watch)
 * @data: the @data given to ADD
 * @offset: the word's offset
 * @expected: the value of its last arm
 * @__reserved: zero
 */
struct shmchan_watch_event {
	__u32 id;
	__u32 events;
	__u64 data;
	__u64 offset;
	__u32 expected;
	__u32 __reserved;
};

#define SHMCHAN_WATCH_EVENT_SIZE_VER0	32

/**
 * struct shmchan_watch_read - which watches fired
 * @size: in: sizeof(struct shmchan_watch_read) as userspace knows it
 * @flags: in: SHMCHAN_WATCH_READ_* flags
 * @events: in: user pointer to an array of @count entries of
 *	@event_size bytes each, struct shmchan_watch_event
 * @count: in: the entries in @events (more than %SHMCHAN_WATCH_MAX are
 *	never used); 0 is allowed
 * @event_size: in: sizeof(struct shmchan_watch_event) as userspace knows
 *	it, at least %SHMCHAN_WATCH_EVENT_SIZE_VER0: the module writes its
 *	own struct into each entry and zeroes the rest of a larger one
 *
 * Used with SHMCHAN_IOC_WATCH_READ; never blocks (wait with poll()).
 * Without flags, takes up to @count fired watches, oldest firing first,
 * writes each one's id, events and data, and re-arms it with the values
 * of its last ADD or ARM: a watch whose word still does not hold them (or
 * whose death count is still behind) fires again at once, to be reported
 * by the next READ, so that READ alone acts level-triggered on "the word
 * differs"; ARM with the new value instead to wait for the next change.
 * Returns the number of entries written (0: none fired). With
 * %SHMCHAN_WATCH_READ_LIST, writes up to @count watches in the order of
 * their ids, changes nothing, and returns how many watches the handle has
 * (which may be more than @count).
 *
 * Errors: EINVAL (unknown flags, @event_size below
 * %SHMCHAN_WATCH_EVENT_SIZE_VER0), E2BIG (@event_size above a page),
 * EFAULT (@events not writable: nothing is consumed), EIDRM (the channel
 * was revoked).
 */
struct shmchan_watch_read {
	__u32 size;
	__u32 flags;
	__u64 events;
	__u32 count;
	__u32 event_size;
};

#define SHMCHAN_WATCH_READ_SIZE_VER0	24

/* ------------------------------------------------------------------------ */

#define SHMCHAN_IOC_FEATURES	_IOWR(SHMCHAN_IOC_MAGIC, 0x00, struct shmchan_features)
#define SHMCHAN_IOC_CREATE	_IOWR(SHMCHAN_IOC_MAGIC, 0x01, struct shmchan_create)
#define SHMCHAN_IOC_OPEN	_IOWR(SHMCHAN_IOC_MAGIC, 0x02, struct shmchan_open)
#define SHMCHAN_IOC_DESTROY	_IOW(SHMCHAN_IOC_MAGIC, 0x03, struct shmchan_destroy)
#define SHMCHAN_IOC_STAT	_IOWR(SHMCHAN_IOC_MAGIC, 0x04, struct shmchan_stat)
#define SHMCHAN_IOC_WAIT	_IOW(SHMCHAN_IOC_MAGIC, 0x05, struct shmchan_wait)
#define SHMCHAN_IOC_WAKE	_IOW(SHMCHAN_IOC_MAGIC, 0x06, struct shmchan_wake)
#define SHMCHAN_IOC_SETATTR	_IOW(SHMCHAN_IOC_MAGIC, 0x07, struct shmchan_setattr)
#define SHMCHAN_IOC_WATCH_ADD	_IOWR(SHMCHAN_IOC_MAGIC, 0x08, struct shmchan_watch)
#define SHMCHAN_IOC_WATCH_ARM	_IOWR(SHMCHAN_IOC_MAGIC, 0x09, struct shmchan_watch)
#define SHMCHAN_IOC_WATCH_DEL	_IOW(SHMCHAN_IOC_MAGIC, 0x0A, struct shmchan_watch)
#define SHMCHAN_IOC_WATCH_READ	_IOW(SHMCHAN_IOC_MAGIC, 0x0B, struct shmchan_watch_read)

#endif /* _UAPI_LINUX_SHMCHAN_H */
