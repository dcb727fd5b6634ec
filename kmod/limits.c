// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan limits: module parameters bounding how many channels, and how
 * many bytes of them, exist in all and per creating user.
 *
 * The device is open to everyone and channels outlive their processes, so
 * without these one user could exhaust memory or names for all. A channel
 * is charged to its creator's uid from creation until it is freed; a
 * later change of owner does not move the charge. CAP_SYS_RESOURCE is
 * exempt from the per-user limits, not from the global ones.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uidgid.h>

#include "internal.h"

#define SHMCHAN_USER_HASH_BITS	6

/* 0 means no limit; root changes them at run time under /sys/module. */
static unsigned int max_channels = 65536;
module_param(max_channels, uint, 0644);
MODULE_PARM_DESC(max_channels, "Channels in all (0: no limit; ENOSPC)");

/* Byte limits left at this value are set from the RAM size at load. */
#define SHMCHAN_LIMIT_AUTO	ULLONG_MAX

static unsigned long long max_total_size = SHMCHAN_LIMIT_AUTO;
module_param(max_total_size, ullong, 0644);
MODULE_PARM_DESC(max_total_size,
		 "Bytes of all channels (default: RAM size; 0: no limit; ENOSPC)");

static unsigned int max_user_channels = 4096;
module_param(max_user_channels, uint, 0644);
MODULE_PARM_DESC(max_user_channels,
		 "Channels made by one user (0: no limit; EDQUOT)");

static unsigned long long max_user_size = SHMCHAN_LIMIT_AUTO;
module_param(max_user_size, ullong, 0644);
MODULE_PARM_DESC(max_user_size,
		 "Bytes of the channels made by one user (default: half the RAM; 0: no limit; EDQUOT)");

static unsigned long long max_channel_size;
module_param(max_channel_size, ullong, 0644);
MODULE_PARM_DESC(max_channel_size, "Bytes of one channel (0: no limit; EFBIG)");

/**
 * struct shmchan_user - what one creating user has
 * @node: link in shmchan_users
 * @uid: the user
 * @channels: channels charged to the user
 * @bytes: their bytes
 */
struct shmchan_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int channels;
	u64 bytes;
};

/*
 * shmchan_limits_lock protects shmchan_users, every shmchan_user, and the
 * totals. A leaf lock: nothing else is taken under it.
 */
static DEFINE_MUTEX(shmchan_limits_lock);
static DEFINE_HASHTABLE(shmchan_users, SHMCHAN_USER_HASH_BITS);
static unsigned int shmchan_total_channels;
static u64 shmchan_total_bytes;

static bool shmchan_over(u64 have, u64 add, u64 limit)
{
	return limit && (have + add > limit || have + add < have);
}

static struct shmchan_user *shmchan_user_get_locked(kuid_t uid)
{
	struct shmchan_user *user;

	lockdep_assert_held(&shmchan_limits_lock);

	hash_for_each_possible(shmchan_users, user, node, __kuid_val(uid)) {
		if (uid_eq(user->uid, uid))
			return user;
	}
	user = kzalloc(sizeof(*user), GFP_KERNEL_ACCOUNT);
	if (!user)
		return NULL;
	user->uid = uid;
	hash_add(shmchan_users, &user->node, __kuid_val(uid));
	return user;
}

static int shmchan_limits_check_locked(struct shmchan_user *user, u64 bytes)
{
	lockdep_assert_held(&shmchan_limits_lock);

	if (shmchan_over(shmchan_total_channels, 1, READ_ONCE(max_channels)) ||
	    shmchan_over(shmchan_total_bytes, bytes, READ_ONCE(max_total_size)))
		return -ENOSPC;
	if (capable(CAP_SYS_RESOURCE))
		return 0;
	if (shmchan_over(user->channels, 1, READ_ONCE(max_user_channels)) ||
	    shmchan_over(user->bytes, bytes, READ_ONCE(max_user_size)))
		return -EDQUOT;
	return 0;
}

static void shmchan_user_put_locked(struct shmchan_user *user)
{
	lockdep_assert_held(&shmchan_limits_lock);

	if (user->channels)
		return;
	hash_del(&user->node);
	kfree(user);
}

/**
 * shmchan_limits_init - give the byte limits left to their default a value
 */
void shmchan_limits_init(void)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;

	if (max_total_size == SHMCHAN_LIMIT_AUTO)
		max_total_size = ram;
	if (max_user_size == SHMCHAN_LIMIT_AUTO)
		max_user_size = ram / 2;
}

/**
 * shmchan_limits_check_length - check one channel's size against its limit
 * @length: the page-aligned length
 *
 * Return: 0 or -EFBIG.
 */
int shmchan_limits_check_length(u64 length)
{
	u64 limit = READ_ONCE(max_channel_size);

	return limit && length > limit ? -EFBIG : 0;
}

/**
 * shmchan_limits_charge - account a new channel to the calling user
 * @chan: the channel, with ->cuid and ->length set
 *
 * Return: 0, -ENOSPC, -EDQUOT or -ENOMEM.
 */
int shmchan_limits_charge(struct shmchan_channel *chan)
{
	struct shmchan_user *user;
	int ret;

	mutex_lock(&shmchan_limits_lock);
	user = shmchan_user_get_locked(chan->cuid);
	if (!user) {
		ret = -ENOMEM;
		goto unlock;
	}
	ret = shmchan_limits_check_locked(user, chan->length);
	if (ret) {
		shmchan_user_put_locked(user);
		goto unlock;
	}
	user->channels++;
	user->bytes += chan->length;
	shmchan_total_channels++;
	shmchan_total_bytes += chan->length;
	chan->user = user;
unlock:
	mutex_unlock(&shmchan_limits_lock);
	return ret;
}

/**
 * shmchan_limits_uncharge - undo shmchan_limits_charge() of @chan
 * @chan: the channel
 */
void shmchan_limits_uncharge(struct shmchan_channel *chan)
{
	struct shmchan_user *user = chan->user;

	mutex_lock(&shmchan_limits_lock);
	user->channels--;
	user->bytes -= chan->length;
	shmchan_total_channels--;
	shmchan_total_bytes -= chan->length;
	shmchan_user_put_locked(user);
	mutex_unlock(&shmchan_limits_lock);
	chan->user = NULL;
}
