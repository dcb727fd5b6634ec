/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan's rules for the numbers userspace hands in: argument struct
 * sizes, names, lengths, word offsets, mmap ranges, limits, mode bits.
 *
 * Everything here is arithmetic on plain values, with no channel, lock or
 * task state, and static inline: shmchan.ko and its KUnit tests
 * (shmchan_kunit.c, built only against a kernel with CONFIG_KUNIT) compile
 * the very same code, and the module exports nothing for the tests.
 */
#ifndef SHMCHAN_RULES_H
#define SHMCHAN_RULES_H

#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/siphash.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <uapi/linux/shmchan.h>

/* The permission bits a channel has */
#define SHMCHAN_MODE_MASK	0777

/* Access wanted of a channel, laid out like the "other" rwx bits */
#define SHMCHAN_MAY_READ	04
#define SHMCHAN_MAY_WRITE	02

/**
 * shmchan_check_args_size - check the size field of an argument struct
 * @usize: the size userspace says its struct has
 * @min_size: the size of the struct's first published version
 *
 * Return: 0, -EINVAL (below @min_size) or -E2BIG (above a page).
 */
static inline int shmchan_check_args_size(u32 usize, u32 min_size)
{
	if (usize < min_size)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return 0;
}

/**
 * shmchan_copy_args - copy an extensible argument struct in
 * @dst: the module's struct, @ksize bytes
 * @ksize: the module's size of the struct
 * @min_size: the size of the struct's first published version
 * @src: userspace's struct
 * @usize: its size, as userspace says
 *
 * A shorter struct is zero-extended, a longer one must have a zero tail
 * (see "Extensible structs" in uapi/linux/shmchan.h).
 *
 * Return: 0, -EINVAL, -E2BIG or -EFAULT.
 */
static inline int shmchan_copy_args(void *dst, size_t ksize, u32 min_size,
				    const void __user *src, u32 usize)
{
	int ret;

	ret = shmchan_check_args_size(usize, min_size);
	if (ret)
		return ret;
	return copy_struct_from_user(dst, ksize, src, usize);
}

/**
 * shmchan_check_name - check a name copied in from userspace
 * @name: the bytes copied, NUL-terminated if @len <= SHMCHAN_NAME_MAX
 * @len: what strncpy_from_user() returned for SHMCHAN_NAME_MAX + 1 bytes
 *
 * Return: 0, @len if it is an error, -EINVAL (empty, or a byte outside
 * 0x21-0x7e, or '/') or -ENAMETOOLONG (no NUL within SHMCHAN_NAME_MAX + 1
 * bytes).
 */
static inline int shmchan_check_name(const char *name, long len)
{
	long i;

	if (len < 0)
		return len;
	if (len == 0)
		return -EINVAL;
	if (len > SHMCHAN_NAME_MAX)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++) {
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '/')
			return -EINVAL;
	}
	return 0;
}

/* The name table (chan.c) has 1 << SHMCHAN_NAME_HASH_BITS buckets */
#define SHMCHAN_NAME_HASH_BITS	12

/**
 * shmchan_name_hash - the name table's hash of a channel name
 * @key: the table's secret key, drawn at random when the module loads
 * @name: a checked name
 *
 * Keyed (SipHash): without @key nobody can tell which names share a bucket,
 * so one user can't pile colliding names into one bucket and slow every
 * lookup, which all run under the registry lock.
 *
 * Return: the hash, to be given to hash_add() and hash_for_each_possible().
 */
static inline u32 shmchan_name_hash(const siphash_key_t *key, const char *name)
{
	return (u32)siphash(name, strlen(name), key);
}

/**
 * shmchan_name_bucket - the bucket of the name table a name goes into
 * @key: the table's key
 * @name: a checked name
 *
 * Return: what hash_add() makes of shmchan_name_hash(), for the tests.
 */
static inline u32 shmchan_name_bucket(const siphash_key_t *key,
				      const char *name)
{
	return hash_32(shmchan_name_hash(key, name), SHMCHAN_NAME_HASH_BITS);
}

/*
 * The longest channel: its pages end at or below SHMCHAN_STATUS_OFFSET,
 * where mmap() of a handle finds the status page instead, and within what
 * a shmem file can hold (far more on every kernel this builds for).
 */
#define SHMCHAN_LENGTH_MAX \
	min_t(u64, SHMCHAN_STATUS_OFFSET, MAX_LFS_FILESIZE & PAGE_MASK)

/**
 * shmchan_check_length - check a new channel's length and round it up
 * @length: the length asked for
 * @aligned: @length rounded up to a whole page, on success
 *
 * Checked before any limit or allocation, so that a length no channel can
 * have is always EFBIG.
 *
 * Return: 0, -EINVAL (zero) or -EFBIG (above SHMCHAN_LENGTH_MAX once
 * rounded up).
 */
static inline int shmchan_check_length(u64 length, u64 *aligned)
{
	if (!length)
		return -EINVAL;
	if (length > SHMCHAN_LENGTH_MAX)
		return -EFBIG;
	/* SHMCHAN_LENGTH_MAX is page-aligned: this does not pass it */
	*aligned = PAGE_ALIGN(length);
	return 0;
}

/**
 * shmchan_check_word_offset - check the offset of a WAIT or WAKE word
 * @length: the channel's length
 * @offset: the word's offset
 *
 * Return: 0, or -EINVAL if the word is not 4-byte aligned or not wholly
 * inside the channel.
 */
static inline int shmchan_check_word_offset(u64 length, u64 offset)
{
	if (offset % sizeof(u32) || length < sizeof(u32) ||
	    offset > length - sizeof(u32))
		return -EINVAL;
	return 0;
}

/**
 * shmchan_check_map_range - check that a mapping lies inside a channel
 * @length: the channel's length, a multiple of PAGE_SIZE
 * @pgoff: the mapping's offset in pages
 * @npages: its length in pages
 *
 * Return: 0 or -ENXIO.
 */
static inline int shmchan_check_map_range(u64 length, unsigned long pgoff,
					  unsigned long npages)
{
	u64 chan_pages = length >> PAGE_SHIFT;

	if (pgoff > chan_pages || npages > chan_pages - pgoff)
		return -ENXIO;
	return 0;
}

/**
 * shmchan_limit_exceeded - would @add more on top of @have pass @limit?
 * @have: what is in use
 * @add: what is asked for
 * @limit: the limit, 0 for none
 *
 * An addition that wraps around passes any limit.
 */
static inline bool shmchan_limit_exceeded(u64 have, u64 add, u64 limit)
{
	return limit && (have + add > limit || have + add < have);
}

/**
 * shmchan_check_size_limit - check one channel's length against a limit
 * @length: the page-aligned length
 * @limit: max_channel_size, 0 for none
 *
 * Return: 0 or -EFBIG.
 */
static inline int shmchan_check_size_limit(u64 length, u64 limit)
{
	return limit && length > limit ? -EFBIG : 0;
}

/**
 * shmchan_mode_allows - System V style check of permission bits
 * @mode: the channel's mode
 * @owner: the caller is the channel's owner or creator
 * @group: the caller is in the owner's or the creator's group
 * @want: SHMCHAN_MAY_READ and/or SHMCHAN_MAY_WRITE
 *
 * The owner's bits apply to the owner, else the group's to the group,
 * else the others'; capabilities are the caller's business.
 */
static inline bool shmchan_mode_allows(umode_t mode, bool owner, bool group,
				       int want)
{
	umode_t granted = mode;

	if (owner)
		granted >>= 6;
	else if (group)
		granted >>= 3;
	return !(want & ~granted & 07);
}

/**
 * shmchan_check_wait_args - check SHMCHAN_IOC_WAIT's flags and fields
 * @args: the copied-in arguments
 *
 * Return: 0 or -EINVAL (unknown flags, reserved fields set, a deadline or
 * a death count without its flag).
 */
static inline int shmchan_check_wait_args(const struct shmchan_wait *args)
{
	if (args->flags & ~SHMCHAN_WAIT_FLAGS || args->__reserved ||
	    args->__reserved2)
		return -EINVAL;
	if (!(args->flags & SHMCHAN_WAIT_DEADLINE) && args->deadline_ns)
		return -EINVAL;
	if (!(args->flags & SHMCHAN_WAIT_DEATHS) && args->deaths)
		return -EINVAL;
	return 0;
}

/**
 * shmchan_check_wake_args - check SHMCHAN_IOC_WAKE's flags and fields
 * @args: the copied-in arguments
 *
 * Return: 0 or -EINVAL (flags or the reserved field set).
 */
static inline int shmchan_check_wake_args(const struct shmchan_wake *args)
{
	if (args->flags || args->__reserved)
		return -EINVAL;
	return 0;
}

/* Which WATCH command a struct shmchan_watch is checked for */
enum shmchan_watch_cmd {
	SHMCHAN_WATCH_CMD_ADD,
	SHMCHAN_WATCH_CMD_ARM,
	SHMCHAN_WATCH_CMD_DEL,
};

/**
 * shmchan_check_watch_args - check WATCH_ADD's, _ARM's or _DEL's fields
 * @args: the copied-in arguments (@id and @result are not checked)
 * @cmd: enum shmchan_watch_cmd
 *
 * Return: 0 or -EINVAL (unknown flags; a death count without its flag;
 * for ARM an offset or data, for DEL any field but @id).
 */
static inline int shmchan_check_watch_args(const struct shmchan_watch *args,
					   int cmd)
{
	if (cmd == SHMCHAN_WATCH_CMD_DEL)
		return args->flags || args->offset || args->expected ||
		       args->deaths || args->data ? -EINVAL : 0;
	if (args->flags & ~SHMCHAN_WATCH_FLAGS)
		return -EINVAL;
	if (!(args->flags & SHMCHAN_WATCH_DEATHS) && args->deaths)
		return -EINVAL;
	if (cmd == SHMCHAN_WATCH_CMD_ARM && (args->offset || args->data))
		return -EINVAL;
	return 0;
}

/**
 * shmchan_check_watch_read_args - check WATCH_READ's flags and entry size
 * @args: the copied-in arguments
 *
 * Return: 0, -EINVAL (unknown flags, an entry size below the first
 * version's) or -E2BIG (an entry size above a page).
 */
static inline int
shmchan_check_watch_read_args(const struct shmchan_watch_read *args)
{
	if (args->flags & ~SHMCHAN_WATCH_READ_FLAGS)
		return -EINVAL;
	return shmchan_check_args_size(args->event_size,
				       SHMCHAN_WATCH_EVENT_SIZE_VER0);
}

/**
 * shmchan_wait_deadline - a WAIT's absolute CLOCK_MONOTONIC deadline
 * @deadline_ns: as userspace gave it
 *
 * Return: the deadline, KTIME_MAX (never) for any value beyond it.
 */
static inline ktime_t shmchan_wait_deadline(u64 deadline_ns)
{
	return deadline_ns > KTIME_MAX ? KTIME_MAX : ns_to_ktime(deadline_ns);
}

#endif /* SHMCHAN_RULES_H */
