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
 *   SHMCHAN_IOC_FEATURES, SHMCHAN_IOC_DESTROY and SHMCHAN_IOC_WAITV work
 *   on any handle, bound or not (WAITV acts on the handles its entries
 *   name).
 *
 * The device's permissions
 *   The mode and owner of /dev/shmchan say who may change the set of
 *   channels. SHMCHAN_IOC_CREATE, SHMCHAN_IOC_DESTROY, SHMCHAN_IOC_SETATTR
 *   and a read-write SHMCHAN_IOC_OPEN (without %SHMCHAN_OPEN_RDONLY) need
 *   a handle opened for writing (O_RDWR), as write(2) does, and fail with
 *   EBADF on an O_RDONLY one (after the checks of their struct and flags).
 *   A read-only OPEN, STAT, WAIT, WAITV, WAKE, the WATCH commands,
 *   FEATURES and mmap() work on an O_RDONLY handle; each channel's own
 *   mode decides what may be opened.
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
 *            WATCH commands) on an unbound handle (WAITV: an entry's
 *            handle)
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
 *   Only MAP_SHARED (MAP_PRIVATE: EINVAL), only within the channel's
 *   reserve (offset + length past &shmchan_stat.max_length: ENXIO; see
 *   "Growing" below for the pages past the channel's length), PROT_WRITE
 *   only on a read-write handle (EACCES), never PROT_EXEC (EPERM). A
 *   mapping outlives close() of the handle, fork() and DESTROY. mremap()
 *   moves, shrinks and grows it as it would a mapping of a file
 *   (MREMAP_DONTUNMAP included): the pages a grown mapping covers inside
 *   the channel are the channel's as usual, and any access to a page of
 *   it past the channel's length (or its reserve) raises SIGBUS, as
 *   past the end of a file; no page that is not the channel's is ever
 *   mapped there (%SHMCHAN_FEATURE_MLOCK). (One case
 *   of the kernel's: with shmem_enabled "always" or "force", see
 *   %SHMCHAN_CREATE_HUGE, the last huge folio of a channel whose length
 *   is no multiple of 2 MiB runs past its end, and a mapping grown over
 *   all of it may get it mapped whole: that tail, part of the channel's
 *   own memory, then reads as zeroes instead of SIGBUS.)
 *   remap_file_pages() works on a shared mapping, but over the
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
 *   Any offset between the end of the channel's reserve and the status
 *   page, or past it, is ENXIO. /proc/PID/maps names it
 *   "anon_inode:[shmchan_status]".
 *
 * Growing (%SHMCHAN_FEATURE_RESIZE)
 *   A channel has a length (&shmchan_stat.length) and a reserve, its
 *   max_length, fixed at CREATE (&shmchan_create.max_length; by default
 *   the length, so a channel made without it never grows). mmap() may
 *   cover the whole reserve. A page of a mapping at or past the channel's
 *   length is not accessible: any access to it (read, write, a futex or
 *   read(2) into it) gets SIGBUS (si_code BUS_ADRERR), as past the end of
 *   a file, and installs nothing. SHMCHAN_IOC_RESIZE moves the length
 *   within the reserve, one call at a time per channel. Once it returned
 *   from a grow, every mapping of every process sees the new pages (zero
 *   filled, like any untouched page) at its next access, with no remap:
 *   an access that got SIGBUS before simply works. A shrink is refused
 *   (EBUSY) while any mapping of the channel reaches past the new length
 *   or a wait is queued on a word past it (a WAIT, a WAITV entry, an
 *   armed watch); otherwise the pages past the new
 *   length are freed (their contents are gone; a later grow gives zero
 *   pages). A mapping made while a shrink runs may reach past the new
 *   end: it gets SIGBUS there, never a page that is not the channel's.
 *   Each change of the length raises the channel's generation
 *   (&shmchan_status.generation, &shmchan_stat.generation) and ends every
 *   SHMCHAN_IOC_RESIZE_WAIT armed on the old one, so other processes
 *   learn of a resize without polling. The limits below (and the
 *   kernel's overcommit accounting, like SysV shm) apply to the length
 *   at every moment, never to the reserve; pages are charged to a memory
 *   cgroup as they are touched, as always.
 *
 *   Addresses (%SHMCHAN_FEATURE_HUGE): a mapping of 2 MiB (the PMD
 *   size) or more, without MAP_FIXED and without a hint address the
 *   kernel can honour, gets an address that is congruent to its file
 *   offset modulo 2 MiB, in every process and also when mremap() moves
 *   it, so that the huge folios of the channel (see
 *   %SHMCHAN_CREATE_HUGE) can be mapped whole by one page-table entry.
 *   Such a mapping may sit up to 2 MiB - 4 KiB further than without.
 *
 * Death notices (%SHMCHAN_FEATURE_DEATH_NOTICE)
 *   The module counts the deaths of a channel's *participants* in
 *   &shmchan_stat.deaths (also &shmchan_status.deaths), and each death ends
 *   the waits that ask for it (%SHMCHAN_WAIT_DEATHS) with EOWNERDEAD. A
 *   process (all its threads) becomes a participant
 *   - through a handle, once it uses that handle itself: CREATE or OPEN
 *     bound it, or it issued STAT, WAIT, WAKE, SETATTR, a WATCH command
 *     or mmap() on it, or named it in a WAITV entry (poll() is no use)
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
 * IPC namespaces (%SHMCHAN_FEATURE_IPC_NS)
 *   Channels are scoped like System V shared memory. A channel belongs to
 *   the IPC namespace of the process that created it, for its whole life.
 *   CREATE, OPEN and DESTROY look names up in the caller's IPC namespace
 *   only: one name may exist once in every namespace, and a channel of
 *   another namespace is ENOENT (so also no STAT, which needs a handle).
 *   /proc/shmchan lists only the channels of its opener's namespace.
 *   A handle or a mapping that crosses namespaces (passed over a UNIX
 *   socket, inherited across unshare(2) or setns(2)) keeps working on its
 *   channel, which stays in the namespace that created it.
 *   When an IPC namespace dies (no process is left in it and no file or
 *   bind mount of its /proc/PID/ns/ipc is open; a reader of /proc/shmchan
 *   opened in it also keeps it), its channels are destroyed as by DESTROY
 *   without %SHMCHAN_DESTROY_REVOKE: names gone, memory freed when the
 *   last handle and mapping, wherever they are, let go. The module notices
 *   a death within about 2 seconds (sooner when the last process exits
 *   holding a handle or a mapping), so a System V segment and a channel
 *   of one namespace may be freed that much apart.
 *   Not scoped: uids, gids and pids in STAT and the listing are those of
 *   the caller's user and pid namespaces, as before; the limits below
 *   are per user and global, not per namespace; the death notices and
 *   waits of a channel reach every participant, in any namespace.
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
 *   only the channels of its opener's IPC namespace that the opener could
 *   open read-only (CAP_IPC_OWNER: all of that namespace), judged by the
 *   credentials and namespace of the open(), as /proc/sysvipc readers
 *   expect: a descriptor handed to or kept by a more privileged reader,
 *   or by one in another namespace, shows no more than its opener may
 *   see, and ids are translated into the opener's user namespace.
 *
 * Limits (module parameters, /sys/module/shmchan/parameters/, root may
 * change them at run time; 0 means no limit)
 *   max_channels (65536), max_total_size (RAM size)
 *                                  all channels together (ENOSPC)
 *   max_user_channels (4096), max_user_size (half the RAM)
 *                                  channels made by one user (EDQUOT;
 *                                  CAP_SYS_RESOURCE is exempt)
 *   max_channel_size (0)           one channel's length (EFBIG)
 *   Channels are accounted to their creator's uid until they are freed,
 *   and to the owner of each user namespace between the creator's and
 *   the initial one (uids mapped into a namespace count against the user
 *   who made it, as well as for themselves); the byte figures are channel
 *   lengths, touched or not. SHMCHAN_IOC_RESIZE is checked against the
 *   same limits for the bytes it adds, with the same errnos, charged to
 *   the channel's creator (CAP_SYS_RESOURCE of the caller exempts it from
 *   the per-user ones); a reserve costs nothing. max_channels and
 *   max_total_size count the
 *   channels of all IPC namespaces together: they guard the host's
 *   memory, which containers share, and an unprivileged user can make
 *   new IPC namespaces at will (in a user namespace of its own), so a
 *   per-namespace limit would bound nothing. The per-user limits, which
 *   charge a rootless container's owner, are what divides them.
 *
 * Locking (%SHMCHAN_FEATURE_MLOCK)
 *   Channel mappings can be locked like those of a file: mlock(),
 *   mlock2(), munlock(), mlockall() (MCL_FUTURE covers later channel
 *   mappings too, MCL_ONFAULT works), mmap() with MAP_LOCKED. Each locked
 *   mapping counts against the caller's RLIMIT_MEMLOCK and shows in
 *   VmLck of /proc/PID/status, per mapping, as for files: two processes
 *   locking one channel count it twice. The usual errors hold: mlock()
 *   beyond the limit is ENOMEM, with a limit of 0 and no CAP_IPC_LOCK
 *   EPERM; an mmap() (MAP_LOCKED or under MCL_FUTURE) or a growing
 *   mremap() of a locked mapping beyond it is EAGAIN. Locking faults
 *   every page in (charged to the caller's memory cgroup as a first
 *   touch would be). Module versions without %SHMCHAN_FEATURE_MLOCK made
 *   mappings that mlock() silently skipped (VM_DONTEXPAND) and refused
 *   mremap() growth with EFAULT.
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
 * SHMCHAN_FEATURE_WAITV - SHMCHAN_IOC_WAITV waits on several words, of one
 * or several channels, at once; &shmchan_features.waitv_flags lists its
 * flags
 */
#define SHMCHAN_FEATURE_WAITV		(1ULL << 8)
/**
 * SHMCHAN_FEATURE_IPC_NS - channel names are scoped per IPC namespace and
 * a namespace's channels are destroyed when it dies (see "IPC namespaces"
 * at the top)
 */
#define SHMCHAN_FEATURE_IPC_NS		(1ULL << 9)
/**
 * SHMCHAN_FEATURE_HUGE - CREATE understands %SHMCHAN_CREATE_HUGE, mappings
 * of 2 MiB or more get PMD-aligned addresses (see "mmap" at the top), and
 * &shmchan_stat.huge_folios counts the huge folios of a channel. Absent
 * when the kernel has no transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE)
 * or its tmpfs refuses huge pages; %SHMCHAN_CREATE_HUGE is then EINVAL.
 */
#define SHMCHAN_FEATURE_HUGE		(1ULL << 10)
/**
 * SHMCHAN_FEATURE_MLOCK - channel mappings can be mlock()ed and mremap()
 * grows them like a file's mappings (see "Locking" and "mmap" at the top)
 */
#define SHMCHAN_FEATURE_MLOCK		(1ULL << 11)
/**
 * SHMCHAN_FEATURE_RESIZE - channels can grow within a reserve set at
 * CREATE (&shmchan_create.max_length): SHMCHAN_IOC_RESIZE,
 * SHMCHAN_IOC_RESIZE_WAIT, &shmchan_stat.max_length and .generation,
 * &shmchan_status.generation and .length; see "Growing" at the top
 */
#define SHMCHAN_FEATURE_RESIZE		(1ULL << 12)

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
 * @waitv_flags: out: every flag SHMCHAN_IOC_WAITV accepts, in &shmchan_waitv
 *	or in its entries (%SHMCHAN_WAITV_FLAGS); 0 without
 *	%SHMCHAN_FEATURE_WAITV
 * @resize_flags: out: every flag SHMCHAN_IOC_RESIZE accepts; 0 without
 *	%SHMCHAN_FEATURE_RESIZE
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
/**
 * SHMCHAN_CREATE_HUGE - back the channel with huge (2 MiB, PMD-size) shmem
 * folios wherever a whole, 2 MiB-aligned 2 MiB of the channel lies within
 * its length; the rest (a tail shorter than 2 MiB) has 4 KiB pages. The
 * channel lives on a tmpfs of the module mounted with huge=within_size,
 * so it does not depend on the system's default for shmem. Applies only
 * when this call makes the channel (then &shmchan_stat.state has
 * %SHMCHAN_STATE_HUGE); accepted only with %SHMCHAN_FEATURE_HUGE.
 *
 * What /sys/kernel/mm/transparent_hugepage/shmem_enabled gives, with and
 * without the flag (a huge folio is mapped by one page-table entry where
 * a mapping covers its 2 MiB whole and aligned, which the addresses of
 * "mmap" at the top see to):
 *
 * - always: huge folios with the flag as above; without it, huge folios
 *   for every 2 MiB of the channel, also a last one that runs past its
 *   end (its tail is then allocated but never mapped);
 * - within_size: with or without the flag, as with the flag;
 * - advise: with the flag as above; without it, huge folios only for the
 *   faults of mappings on which madvise(MADV_HUGEPAGE) was called;
 * - never (the usual default): with the flag as above; without it, none;
 * - deny: none for any channel (the emergency switch);
 * - force: huge folios for every channel, as with "always".
 *
 * Whatever the setting, no huge folio is allocated by a fault of a
 * mapping with madvise(MADV_NOHUGEPAGE) or of a process with
 * prctl(PR_SET_THP_DISABLE), or when the kernel has no free 2 MiB of
 * contiguous memory at the time (then 4 KiB pages are used: the flag is a
 * request, never an error); %SHMCHAN_CREATE_POPULATE allocates them all
 * at CREATE. The kernel may split a huge folio later (memory pressure,
 * swap, a hole punched with MADV_REMOVE): the channel's content and
 * every mapping stay as they were, with 4 KiB pages from then on.
 * Counted in &shmchan_stat.huge_folios.
 */
#define SHMCHAN_CREATE_HUGE		(1U << 3)
#define SHMCHAN_CREATE_FLAGS	(SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT | \
				 SHMCHAN_CREATE_POPULATE | SHMCHAN_CREATE_HUGE)

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
 * @max_length: in: the reserve, the most the channel may ever grow to
 *	(SHMCHAN_IOC_RESIZE), rounded up to whole pages; 0 means @length.
 *	Costs nothing but address space in the mappings that cover it.
 *	out: the channel's reserve (%SHMCHAN_FEATURE_RESIZE)
 *
 * Used with SHMCHAN_IOC_CREATE. Binds the handle read-write to the channel.
 * Without %SHMCHAN_CREATE_EXCL an existing channel of that name is opened
 * as by SHMCHAN_IOC_OPEN (its mode, owner and flags stay as they are).
 *
 * Errors: EBADF (the handle was not opened for writing), EINVAL (length
 * 0, @max_length not 0 but below @length, length larger than an existing
 * channel's present length, @max_length larger than its reserve, mode
 * above 0777, bad name),
 * EFBIG (@length or @max_length above %SHMCHAN_STATUS_OFFSET,
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
 *
 * A 32-byte struct (%SHMCHAN_CREATE_SIZE_VER0) has no @max_length: the
 * reserve is the length, and the channel never grows.
 */
struct shmchan_create {
	__u32 size;
	__u32 flags;
	__u64 name;
	__u64 length;
	__u32 mode;
	__u32 result;
	__u64 max_length;
};

#define SHMCHAN_CREATE_SIZE_VER0	32
#define SHMCHAN_CREATE_SIZE_VER1	40	/* + max_length */

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
 * SHMCHAN_STATE_HUGE - the channel was made with %SHMCHAN_CREATE_HUGE
 * (STAT only, never on the status page)
 */
#define SHMCHAN_STATE_HUGE		(1U << 4)

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
 *	the entries on it of tasks blocked in SHMCHAN_IOC_WAITV, plus the
 *	armed watches on its words (%SHMCHAN_FEATURE_WATCH): what WAKEs
 *	could reach now
 * @lpid: out: the process that last bound a handle to the channel or
 *	mapped it, in the caller's pid namespace (0 if not visible there)
 * @deaths: out: how many deaths of participants of the channel were
 *	counted (wraps); see "Death notices" at the top for who is one and
 *	how often an exit counts, and %SHMCHAN_WAIT_DEATHS
 * @max_length: out: the channel's reserve: the most its length may be
 *	grown to, and how far it may be mapped (%SHMCHAN_FEATURE_RESIZE)
 * @generation: out: how many times the length changed (wraps), as
 *	&shmchan_status.generation
 * @__reserved: out: zero
 * @huge_folios: out: how many huge (PMD-size, 2 MiB) folios hold the
 *	channel's pages at the time of the call (always 0 without
 *	%SHMCHAN_FEATURE_HUGE). Pages not touched yet are in none; a split
 *	folio counts no more. STAT walks the channel's page cache for it:
 *	on a large channel of 4 KiB pages it takes milliseconds.
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
	__u64 max_length;
	__u32 generation;
	__u32 __reserved;
	__u64 huge_folios;
};

#define SHMCHAN_STAT_SIZE_VER0		80
#define SHMCHAN_STAT_SIZE_VER1		88	/* + lpid, deaths */
#define SHMCHAN_STAT_SIZE_VER2		104	/* + max_length, generation */
#define SHMCHAN_STAT_SIZE_VER3		112	/* + huge_folios */

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

/** SHMCHAN_WAITV_MAX - most entries one SHMCHAN_IOC_WAITV waits on */
#define SHMCHAN_WAITV_MAX		128

/**
 * SHMCHAN_WAITV_DEADLINE - in &shmchan_waitv.flags: @deadline_ns holds an
 * absolute deadline, as %SHMCHAN_WAIT_DEADLINE for WAIT
 */
#define SHMCHAN_WAITV_DEADLINE		(1U << 0)
/**
 * SHMCHAN_WAITV_DEATHS - in &shmchan_waitv_entry.flags: ask for the death
 * notices of that entry's channel, as %SHMCHAN_WAIT_DEATHS for WAIT, with
 * &shmchan_waitv_entry.deaths as the count last seen
 */
#define SHMCHAN_WAITV_DEATHS		(1U << 1)
#define SHMCHAN_WAITV_FLAGS		(SHMCHAN_WAITV_DEADLINE | SHMCHAN_WAITV_DEATHS)

/**
 * struct shmchan_waitv_entry - one word SHMCHAN_IOC_WAITV waits on
 * @fd: in: a descriptor of a /dev/shmchan handle bound to the word's
 *	channel (read-only binding and an O_RDONLY descriptor will do, as
 *	for WAIT); several entries may name the same descriptor or channel
 * @flags: in: 0 or %SHMCHAN_WAITV_DEATHS
 * @offset: in: byte offset of the word in that channel; a multiple of 4
 * @expected: in: sleep only while the word equals this value
 * @deaths: in: with %SHMCHAN_WAITV_DEATHS, the channel's death count the
 *	caller last saw; without it, must be 0
 *
 * 24 bytes, the same layout for 32-bit and 64-bit programs. Never
 * written by the module.
 */
struct shmchan_waitv_entry {
	__s32 fd;
	__u32 flags;
	__u64 offset;
	__u32 expected;
	__u32 deaths;
};

/**
 * struct shmchan_waitv - sleep while each of several words holds a value
 * @size: in: sizeof(struct shmchan_waitv) as userspace knows it
 * @flags: in: 0 or %SHMCHAN_WAITV_DEADLINE
 * @entries: in: user pointer to an array of @count &struct
 *	shmchan_waitv_entry (a 64-bit field for 32-bit programs too)
 * @count: in: number of entries, 1 to %SHMCHAN_WAITV_MAX
 * @__reserved: in: must be 0
 * @deadline_ns: in: with %SHMCHAN_WAITV_DEADLINE, absolute CLOCK_MONOTONIC
 *	time in nanoseconds at which to give up (values above INT64_MAX mean
 *	never); without it, must be 0
 * @woken: out, on success only: bit i % 64 of @woken[i / 64] is set for
 *	each entry i that SHMCHAN_IOC_WAKE woke (at least the returned one)
 *
 * Used with SHMCHAN_IOC_WAITV on any handle, bound or not: the handles
 * that count are those of the entries. Like futex_waitv(2), the caller
 * sleeps until any one of the words is woken. Each word is read under the
 * lock WAKE takes for it, and the entries are queued one after another,
 * each before the next is read: a wake issued after a word changed is
 * seen, either as EAGAIN at queue time or as a wake of that entry. All
 * words must hold their values when queued; if one does not, the entries
 * queued before it are taken off again and the call fails.
 *
 * Returns the index of a woken entry (the lowest one, if several were
 * woken before the caller could take the others off). A WAKE that reached
 * an entry is counted by WAKE as a task woken, whether or not its index is
 * the one returned: a WAKE with count 1 handing a token over may have
 * woken this caller on two words at once, so a caller that uses WAITV
 * with such protocols must take every entry set in @woken as woken, never
 * only the returned one. A wake always wins: an entry woken while a later
 * entry was found changed, revoked or dead, or while the deadline passed
 * or a signal arrived, makes the call succeed with its index (the other
 * condition persists and is reported by the next call).
 *
 * Errors, with WAIT's meaning for each entry: EAGAIN (an entry's word does
 * not hold its @expected when queued), ETIMEDOUT (the deadline passed),
 * EINTR (a signal arrived; restarted instead under SA_RESTART, which is
 * safe since the deadline is absolute), EIDRM (an entry's channel was
 * revoked, before or during the wait), EOWNERDEAD (an entry with
 * %SHMCHAN_WAITV_DEATHS whose channel counted a death since its @deaths
 * was read, before or during the wait), EINVAL (@count 0 or above
 * %SHMCHAN_WAITV_MAX, unknown flags in the call or an entry, @deadline_ns
 * or an entry's @deaths set without its flag, reserved not zero, an
 * entry's offset unaligned or past its channel's end), EBADF (an entry's
 * @fd is not an open descriptor of /dev/shmchan), EBADFD (an entry's
 * handle is not bound), EFAULT (the entries cannot be read), ENOMEM.
 * The argument checks (EINVAL, EBADF, EBADFD, EFAULT) are made for every
 * entry before any is queued; EAGAIN, EIDRM and EOWNERDEAD are found
 * while queueing, in entry order. Which entry failed is not reported.
 *
 * Each entry's handle counts as used by the caller, as WAIT on it would
 * (see "Death notices" at the top). An entry's waits are counted in its
 * channel's &shmchan_stat.nwaiters while queued.
 */
struct shmchan_waitv {
	__u32 size;
	__u32 flags;
	__u64 entries;
	__u32 count;
	__u32 __reserved;
	__u64 deadline_ns;
	__u64 woken[2];
};

#define SHMCHAN_WAITV_SIZE_VER0		48

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
 * SHMCHAN_RESIZE_GROW - only grow: a @length at or below the channel's
 * present length changes nothing and succeeds (the out fields say what
 * the channel has), so that racing growers never shrink each other's work
 */
#define SHMCHAN_RESIZE_GROW		(1U << 0)
#define SHMCHAN_RESIZE_FLAGS		(SHMCHAN_RESIZE_GROW)

/**
 * struct shmchan_resize - change the bound channel's length
 * @size: in: sizeof(struct shmchan_resize) as userspace knows it
 * @flags: in: SHMCHAN_RESIZE_* flags
 * @length: in: the new length, rounded up to whole pages; out: the
 *	channel's length after the call
 * @max_length: out: the channel's reserve
 * @generation: out: the channel's generation after the call
 * @__reserved: in: must be 0
 *
 * Used with SHMCHAN_IOC_RESIZE on a handle bound read-write (see "Growing"
 * at the top). Resizes of one channel are serialized; a caller waiting
 * for another's resize to finish gives up only on a fatal signal.
 * Resizing to the present length changes nothing (the generation stays).
 * The channel may be destroyed (its name gone) and still be resized
 * through its handles; a revoked one may not.
 *
 * Errors: EBADFD (the handle is not bound), EBADF (bound read-only),
 * EINVAL (@length 0, unknown flags, reserved not zero; a shrink of a
 * %SHMCHAN_CREATE_HUGE channel to a length that is no multiple of 2 MiB,
 * which would cut a huge folio in two), EFBIG (@length
 * above &shmchan_stat.max_length, above %SHMCHAN_STATUS_OFFSET, above the
 * module's max_channel_size, or above the caller's RLIMIT_FSIZE, as for
 * ftruncate(2) but without SIGXFSZ), EBUSY (a shrink while a mapping of
 * the channel, in any process, reaches past the new length, or a WAIT
 * sleeps on a word past it), ENOSPC (the module's max_total_size would be
 * exceeded), EDQUOT (the creator's max_user_size would be exceeded;
 * CAP_SYS_RESOURCE of the caller is exempt), ENOMEM (the kernel's
 * overcommit accounting refuses the new bytes), EIDRM (the channel was
 * revoked), EINTR (a fatal signal while waiting for another resize).
 * On any error nothing changed.
 */
struct shmchan_resize {
	__u32 size;
	__u32 flags;
	__u64 length;
	__u64 max_length;
	__u32 generation;
	__u32 __reserved;
};

#define SHMCHAN_RESIZE_SIZE_VER0	32

/**
 * struct shmchan_resize_wait - sleep until the channel's length changes
 * @size: in: sizeof(struct shmchan_resize_wait) as userspace knows it
 * @flags: in: %SHMCHAN_WAIT_DEADLINE or 0
 * @generation: in: the generation the caller knows (from STAT, the status
 *	page, RESIZE or an earlier RESIZE_WAIT); out: the channel's
 *	generation on return
 * @__reserved: in: must be 0
 * @deadline_ns: in: with %SHMCHAN_WAIT_DEADLINE, absolute CLOCK_MONOTONIC
 *	deadline as for SHMCHAN_IOC_WAIT; without it, must be 0
 * @length: out: the channel's length that goes with @generation
 *
 * Used with SHMCHAN_IOC_RESIZE_WAIT on a bound handle, read-only or not.
 * Returns 0 as soon as the channel's generation differs from @generation:
 * at once if it does already, else when a resize changes it. The check
 * and the going to sleep are one step against RESIZE, so a resize that
 * raised the generation after the caller read the old one is never
 * missed. Not counted in &shmchan_stat.nwaiters; deaths do not end it.
 *
 * Errors: EBADFD (not bound), EINVAL (unknown flags, reserved not zero,
 * a deadline without its flag), ETIMEDOUT (the deadline passed), EINTR (a
 * signal; restarted under SA_RESTART, the deadline being absolute), EIDRM
 * (the channel was revoked, before or during the wait).
 */
struct shmchan_resize_wait {
	__u32 size;
	__u32 flags;
	__u32 generation;
	__u32 __reserved;
	__u64 deadline_ns;
	__u64 length;
};

#define SHMCHAN_RESIZE_WAIT_SIZE_VER0	32

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
 * freed, with the values it had last. A channel (and its reserve) is at most this many
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
 * @generation: how many times the channel's length changed (wraps);
 *	raised after @length is set, then SHMCHAN_IOC_RESIZE_WAIT waiters
 *	are woken (%SHMCHAN_FEATURE_RESIZE)
 * @__reserved0: zero
 * @length: the channel's length, as &shmchan_stat.length. Resizes are
 *	serialized: read @generation, then @length, then @generation again,
 *	and retry while the two differ, for a length that goes with a
 *	generation. A length read here is mapped already for everyone: the
 *	pages below it are accessible (grow) or, for a shrink, were not
 *	mapped past it by anyone when it was set.
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
	__u32 generation;
	__u32 __reserved0;
	__u64 length;
	__u64 __reserved[5];
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
 *   events: after an ARM that failed with ENOMEM, EIDRM or EINVAL, a
 *   revoke, or a shrink that left its word past the channel's length;
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
 * Errors: EINVAL (ADD: offset unaligned or past the end; ARM: the word
 * lies past the channel's length since a shrink, see "Growing" at the
 * top, and the watch stays idle, as READ leaves it; a field that must be
 * 0 is not, or a death count without %SHMCHAN_WATCH_DEATHS),
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
#define SHMCHAN_IOC_WAITV	_IOWR(SHMCHAN_IOC_MAGIC, 0x0C, struct shmchan_waitv)
#define SHMCHAN_IOC_RESIZE	_IOWR(SHMCHAN_IOC_MAGIC, 0x0D, struct shmchan_resize)
#define SHMCHAN_IOC_RESIZE_WAIT	_IOWR(SHMCHAN_IOC_MAGIC, 0x0E, struct shmchan_resize_wait)

#endif /* _UAPI_LINUX_SHMCHAN_H */
