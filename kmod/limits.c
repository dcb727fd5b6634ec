// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan limits: module parameters bounding how many channels, and how
 * many bytes of them, exist in all and per creating user.
 *
 * The device is open to everyone and channels outlive their processes, so
 * without these one user could exhaust memory or names for all. A channel
 * is charged to its creator's uid from creation until it is freed; a
 * later change of owner does not move the charge. It is charged as well
 * to the owner of every user namespace between the creator's and the
 * initial one, as the kernel's ucounts are: the uids a user maps into a
 * namespace of its own (newuidmap, subordinate ids) are each a user here,
 * and all they make counts against that user too. CAP_SYS_RESOURCE is
 * exempt from the per-user limits, not from the global ones. *
 * The global limits (max_channels, max_total_size) are global across IPC
 * namespaces, not per namespace as SysV's shmmni/shmall are: they guard
 * the host's memory, which every container shares, and any user can make
 * IPC namespaces at will inside a user namespace of its own, so a limit
 * per namespace would bound nothing. What keeps one container from taking
 * them all is the per-user charge, which reaches the owner of its user
 * namespace; a container running as the host's root is bounded only by
 * the global limits, as it is by the host's memory anyway.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "internal.h"
#include "rules.h"

#define SHMCHAN_USER_HASH_BITS	6
/* The creator, then one owner per nested user namespace at most */
#define SHMCHAN_CHARGE_MAX	(1 + 32)

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

/**
 * struct shmchan_charge - the users one channel is charged to
 * @n: entries in @users
 * @users: the creator first, then the namespace owners, each once
 */
struct shmchan_charge {
	unsigned int n;
	struct shmchan_user *users[];
};

/*
 * shmchan_limits_lock protects shmchan_users, every shmchan_user, and the
 * totals. A leaf lock: nothing else is taken under it.
 */
static DEFINE_MUTEX(shmchan_limits_lock);
static DEFINE_HASHTABLE(shmchan_users, SHMCHAN_USER_HASH_BITS);
static unsigned int shmchan_total_channels;
static u64 shmchan_total_bytes;

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

static int shmchan_total_check_locked(u64 bytes)
{
	lockdep_assert_held(&shmchan_limits_lock);

	if (shmchan_limit_exceeded(shmchan_total_channels, 1,
				   READ_ONCE(max_channels)) ||
	    shmchan_limit_exceeded(shmchan_total_bytes, bytes,
				   READ_ONCE(max_total_size)))
		return -ENOSPC;
	return 0;
}

static int shmchan_user_check_locked(struct shmchan_user *user, u64 bytes,
				     bool exempt)
{
	lockdep_assert_held(&shmchan_limits_lock);

	if (exempt)
		return 0;
	if (shmchan_limit_exceeded(user->channels, 1,
				   READ_ONCE(max_user_channels)) ||
	    shmchan_limit_exceeded(user->bytes, bytes,
				   READ_ONCE(max_user_size)))
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
	return shmchan_check_size_limit(length, READ_ONCE(max_channel_size));
}

static bool shmchan_uid_in(const kuid_t *uids, unsigned int n, kuid_t uid)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (uid_eq(uids[i], uid))
			return true;
	}
	return false;
}

/*
 * Fill @uids with @creator, then the owners of the caller's user namespace
 * and of each one above it, each uid once. Returns how many.
 */
static unsigned int shmchan_charged_uids(kuid_t creator, kuid_t *uids)
{
	const struct user_namespace *ns;
	unsigned int n = 0;

	uids[n++] = creator;
	for (ns = current_user_ns(); ns != &init_user_ns; ns = ns->parent) {
		if (n == SHMCHAN_CHARGE_MAX)
			break;
		if (!shmchan_uid_in(uids, n, ns->owner))
			uids[n++] = ns->owner;
	}
	return n;
}

/* Look up (or add) each user of @uids into @charge and check its limits. */
static int shmchan_charge_check_locked(struct shmchan_charge *charge,
				       const kuid_t *uids, unsigned int n, u64 bytes)
{
	bool exempt = capable(CAP_SYS_RESOURCE);
	int ret;

	lockdep_assert_held(&shmchan_limits_lock);

	ret = shmchan_total_check_locked(bytes);
	while (!ret && charge->n < n) {
		struct shmchan_user *user = shmchan_user_get_locked(uids[charge->n]);

		if (!user)
			return -ENOMEM;
		charge->users[charge->n++] = user;
		ret = shmchan_user_check_locked(user, bytes, exempt);
	}
	return ret;
}

/* Add (@sign 1) or take away (@sign -1) one channel of @bytes. */
static void shmchan_charge_apply_locked(struct shmchan_charge *charge,
					u64 bytes, int sign)
{
	u64 delta = sign > 0 ? bytes : -bytes;	/* modulo 2^64 */
	unsigned int i;

	lockdep_assert_held(&shmchan_limits_lock);

	for (i = 0; i < charge->n; i++) {
		charge->users[i]->channels += sign;
		charge->users[i]->bytes += delta;
	}
	shmchan_total_channels += sign;
	shmchan_total_bytes += delta;
}

static void shmchan_charge_put_locked(struct shmchan_charge *charge)
{
	unsigned int i;

	lockdep_assert_held(&shmchan_limits_lock);

	for (i = 0; i < charge->n; i++)
		shmchan_user_put_locked(charge->users[i]);
}

/**
 * shmchan_limits_charge - account a new channel to the calling user
 * @chan: the channel, with ->cuid and ->length set
 *
 * The channel is charged to its creator and to the owners of the user
 * namespaces the caller is in (see the top of this file).
 *
 * Return: 0, -ENOSPC, -EDQUOT or -ENOMEM.
 */
int shmchan_limits_charge(struct shmchan_channel *chan)
{
	kuid_t uids[SHMCHAN_CHARGE_MAX];
	unsigned int n = shmchan_charged_uids(chan->cuid, uids);
	struct shmchan_charge *charge;
	int ret;

	charge = kzalloc(struct_size(charge, users, n), GFP_KERNEL_ACCOUNT);
	if (!charge)
		return -ENOMEM;
	mutex_lock(&shmchan_limits_lock);
	ret = shmchan_charge_check_locked(charge, uids, n, chan->length);
	if (ret) {
		shmchan_charge_put_locked(charge);
		goto unlock;
	}
	shmchan_charge_apply_locked(charge, chan->length, 1);
	chan->charge = charge;
	charge = NULL;
unlock:
	mutex_unlock(&shmchan_limits_lock);
	kfree(charge);
	return ret;
}

/**
 * shmchan_limits_uncharge - undo shmchan_limits_charge() of @chan
 * @chan: the channel
 */
void shmchan_limits_uncharge(struct shmchan_channel *chan)
{
	struct shmchan_charge *charge = chan->charge;

	mutex_lock(&shmchan_limits_lock);
	shmchan_charge_apply_locked(charge, chan->length, -1);
	shmchan_charge_put_locked(charge);
	mutex_unlock(&shmchan_limits_lock);
	chan->charge = NULL;
	kfree(charge);
}

/**
 * shmchan_limits_resize - move @chan's charge from @old bytes to @new
 * @chan: the channel, charged for @old bytes; its resize_lock held
 * @old: its length now
 * @new: the length it is about to get
 *
 * A grow is checked as CREATE checks a new channel, for the bytes it
 * adds: max_channel_size for the whole new length (EFBIG), max_total_size
 * (ENOSPC), then each charged user's max_user_size (EDQUOT), from which
 * CAP_SYS_RESOURCE of the caller exempts. The channel counts stay. A
 * shrink never fails. On failure nothing changed.
 *
 * Return: 0, -EFBIG, -ENOSPC or -EDQUOT.
 */
int shmchan_limits_resize(struct shmchan_channel *chan, u64 old, u64 new)
{
	struct shmchan_charge *charge = chan->charge;
	u64 delta = new - old;	/* modulo 2^64 for a shrink */
	bool exempt = false;
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&chan->resize_lock);

	if (new > old) {
		ret = shmchan_limits_check_length(new);
		if (ret)
			return ret;
		exempt = capable(CAP_SYS_RESOURCE);
	}
	mutex_lock(&shmchan_limits_lock);
	if (new > old) {
		if (shmchan_limit_exceeded(shmchan_total_bytes, delta,
					   READ_ONCE(max_total_size))) {
			ret = -ENOSPC;
			goto unlock;
		}
		for (i = 0; i < charge->n && !exempt; i++) {
			if (shmchan_limit_exceeded(charge->users[i]->bytes, delta,
						   READ_ONCE(max_user_size))) {
				ret = -EDQUOT;
				goto unlock;
			}
		}
	}
	for (i = 0; i < charge->n; i++)
		charge->users[i]->bytes += delta;
	shmchan_total_bytes += delta;
unlock:
	mutex_unlock(&shmchan_limits_lock);
	return ret;
}
