// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan channel registry: names, permissions and lifetime.
 *
 * A channel is published under its name from creation until DESTROY (or,
 * for a transient channel, until its last user goes). Unpublishing drops
 * the registry's reference; handles and mappings hold their own, so the
 * memory lives until the last of them is gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "internal.h"

#define SHMCHAN_NAME_HASH_BITS	12
#define SHMCHAN_MODE_MASK	0777

/* Access wanted of a channel, laid out like the "other" rwx bits */
#define SHMCHAN_MAY_READ	04
#define SHMCHAN_MAY_WRITE	02

/*
 * shmchan_registry_lock protects shmchan_names, every channel's ->node and
 * ->published, and the mutable attributes (->mode, ->uid, ->gid).
 * See internal.h for where it sits in the lock order.
 */
static DEFINE_MUTEX(shmchan_registry_lock);
static DEFINE_HASHTABLE(shmchan_names, SHMCHAN_NAME_HASH_BITS);

/**
 * shmchan_name_from_user - copy and check a channel name
 * @name: buffer of SHMCHAN_NAME_MAX + 1 bytes
 * @uptr: user pointer to a NUL-terminated name
 *
 * Return: 0, -EFAULT, -EINVAL (empty or a byte outside 0x21-0x7e or '/'),
 * or -ENAMETOOLONG (no NUL within SHMCHAN_NAME_MAX + 1 bytes).
 */
int shmchan_name_from_user(char *name, u64 uptr)
{
	long len, i;

	len = strncpy_from_user(name, u64_to_user_ptr(uptr),
				SHMCHAN_NAME_MAX + 1);
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

static u32 shmchan_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct shmchan_channel *shmchan_lookup_locked(const char *name)
{
	struct shmchan_channel *chan;

	lockdep_assert_held(&shmchan_registry_lock);

	hash_for_each_possible(shmchan_names, chan, node,
			       shmchan_name_hash(name)) {
		if (!strcmp(chan->name, name))
			return chan;
	}
	return NULL;
}

static void shmchan_publish_locked(struct shmchan_channel *chan)
{
	lockdep_assert_held(&shmchan_registry_lock);

	hash_add(shmchan_names, &chan->node, shmchan_name_hash(chan->name));
	chan->published = true;
}

/* The caller must drop the registry's reference once the lock is released. */
static void shmchan_unpublish_locked(struct shmchan_channel *chan)
{
	lockdep_assert_held(&shmchan_registry_lock);

	hash_del(&chan->node);
	chan->published = false;
	set_bit(SHMCHAN_DESTROYED, &chan->state);
}

static void shmchan_chan_release(struct kref *ref)
{
	struct shmchan_channel *chan =
		container_of(ref, struct shmchan_channel, ref);

	fput(chan->shm_file);
	put_pid(chan->cpid);
	kfree(chan);
}

void shmchan_chan_get(struct shmchan_channel *chan)
{
	kref_get(&chan->ref);
}

void shmchan_chan_put(struct shmchan_channel *chan)
{
	kref_put(&chan->ref, shmchan_chan_release);
}

/* A user (handle or VMA) goes away; a transient channel may lose its name. */
static void shmchan_chan_unuse(struct shmchan_channel *chan)
{
	bool unpublished = false;

	if (!atomic_dec_and_mutex_lock(&chan->users, &shmchan_registry_lock))
		return;
	if (chan->transient && chan->published) {
		shmchan_unpublish_locked(chan);
		unpublished = true;
	}
	mutex_unlock(&shmchan_registry_lock);

	if (unpublished)
		shmchan_chan_put(chan);
}

/* Bind a new handle to @chan: a reference and a user. */
static void shmchan_chan_bind_locked(struct shmchan_channel *chan)
{
	lockdep_assert_held(&shmchan_registry_lock);

	shmchan_chan_get(chan);
	atomic_inc(&chan->users);
	atomic_inc(&chan->nhandles);
}

/**
 * shmchan_chan_unbind - a handle bound to @chan is released
 * @chan: the channel
 *
 * Drops the handle's user count and its reference.
 */
void shmchan_chan_unbind(struct shmchan_channel *chan)
{
	atomic_dec(&chan->nhandles);
	shmchan_chan_unuse(chan);
	shmchan_chan_put(chan);
}

/**
 * shmchan_chan_map_get - a VMA of @chan comes into being
 * @chan: the channel; already has a user (the handle or VMA it comes from)
 */
void shmchan_chan_map_get(struct shmchan_channel *chan)
{
	atomic_inc(&chan->users);
	atomic_inc(&chan->nmaps);
}

/**
 * shmchan_chan_map_put - a VMA of @chan goes away
 * @chan: the channel
 */
void shmchan_chan_map_put(struct shmchan_channel *chan)
{
	atomic_dec(&chan->nmaps);
	shmchan_chan_unuse(chan);
}

static bool shmchan_may_access(const struct shmchan_channel *chan, int want)
{
	kuid_t euid = current_euid();
	umode_t granted = chan->mode;

	lockdep_assert_held(&shmchan_registry_lock);

	if (uid_eq(euid, chan->uid) || uid_eq(euid, chan->cuid))
		granted >>= 6;
	else if (in_group_p(chan->gid) || in_group_p(chan->cgid))
		granted >>= 3;

	if (!(want & ~granted & 07))
		return true;
	return capable(CAP_IPC_OWNER);
}

static bool shmchan_may_destroy(const struct shmchan_channel *chan)
{
	kuid_t euid = current_euid();

	lockdep_assert_held(&shmchan_registry_lock);

	return uid_eq(euid, chan->uid) || uid_eq(euid, chan->cuid) ||
	       capable(CAP_SYS_ADMIN);
}

/* Round @length up to pages; reject what no shmem file can hold. */
static int shmchan_check_length(u64 length, u64 *aligned)
{
	if (!length)
		return -EINVAL;
	if (length > MAX_LFS_FILESIZE - PAGE_SIZE)
		return -EFBIG;
	*aligned = PAGE_ALIGN(length);
	return 0;
}

/* Make a channel that is not published yet; its one reference is the caller's. */
static struct shmchan_channel *shmchan_chan_alloc(const char *name, u64 length,
						  umode_t mode, u32 flags)
{
	struct shmchan_channel *chan;
	size_t name_size = strlen(name) + 1;
	char *file_name;
	int ret;

	chan = kzalloc(struct_size(chan, name, name_size), GFP_KERNEL_ACCOUNT);
	if (!chan)
		return ERR_PTR(-ENOMEM);

	file_name = kasprintf(GFP_KERNEL, "shmchan:%s", name);
	if (!file_name) {
		ret = -ENOMEM;
		goto free_chan;
	}
	/* Accounted like SysV shm without SHM_NORESERVE: fail now, not at fault */
	chan->shm_file = shmem_file_setup(file_name, length, 0);
	kfree(file_name);
	if (IS_ERR(chan->shm_file)) {
		ret = PTR_ERR(chan->shm_file);
		goto free_chan;
	}

	kref_init(&chan->ref);
	INIT_HLIST_NODE(&chan->node);
	chan->transient = flags & SHMCHAN_CREATE_TRANSIENT;
	chan->length = length;
	chan->mode = mode;
	chan->uid = current_euid();
	chan->gid = current_egid();
	chan->cuid = chan->uid;
	chan->cgid = chan->gid;
	chan->cpid = get_pid(task_tgid(current));
	ktime_get_real_ts64(&chan->ctime);
	memcpy(chan->name, name, name_size);
	return chan;

free_chan:
	kfree(chan);
	return ERR_PTR(ret);
}

/* CREATE found @chan under its name: open it as shmget() would. */
static int shmchan_reuse_locked(struct shmchan_channel *chan, u64 length,
				u32 flags)
{
	lockdep_assert_held(&shmchan_registry_lock);

	if (flags & SHMCHAN_CREATE_EXCL)
		return -EEXIST;
	if (length > chan->length)
		return -EINVAL;
	if (!shmchan_may_access(chan, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE))
		return -EACCES;
	return 0;
}

/**
 * shmchan_chan_create - find or make the channel @name and bind to it
 * @name: a checked name
 * @args: the CREATE arguments (flags already checked)
 * @chanp: the channel, with the caller's handle reference, on success
 * @created: whether this call made the channel
 *
 * The new channel is made outside the registry lock and published only if
 * the name is still free then; otherwise it is thrown away unseen.
 *
 * Return: 0 or a negative errno, see struct shmchan_create.
 */
int shmchan_chan_create(const char *name, const struct shmchan_create *args,
			struct shmchan_channel **chanp, bool *created)
{
	struct shmchan_channel *chan, *fresh = NULL;
	u64 length;
	int ret = 0;

	ret = shmchan_check_length(args->length, &length);
	if (ret)
		return ret;
	if (args->mode & ~SHMCHAN_MODE_MASK)
		return -EINVAL;

	mutex_lock(&shmchan_registry_lock);
	for (;;) {
		chan = shmchan_lookup_locked(name);
		if (chan || fresh)
			break;
		mutex_unlock(&shmchan_registry_lock);
		fresh = shmchan_chan_alloc(name, length, args->mode,
					   args->flags);
		if (IS_ERR(fresh))
			return PTR_ERR(fresh);
		mutex_lock(&shmchan_registry_lock);
	}

	if (chan) {
		ret = shmchan_reuse_locked(chan, length, args->flags);
	} else {
		chan = fresh;
		fresh = NULL;
		shmchan_publish_locked(chan);
		*created = true;
	}
	if (!ret)
		shmchan_chan_bind_locked(chan);
	mutex_unlock(&shmchan_registry_lock);

	if (fresh)
		shmchan_chan_put(fresh);
	if (!ret)
		*chanp = chan;
	return ret;
}

/**
 * shmchan_chan_open - bind to the existing channel @name
 * @name: a checked name
 * @writable: read-write rather than read-only
 * @chanp: the channel, with the caller's handle reference, on success
 *
 * Return: 0, -ENOENT or -EACCES.
 */
int shmchan_chan_open(const char *name, bool writable,
		      struct shmchan_channel **chanp)
{
	int want = SHMCHAN_MAY_READ | (writable ? SHMCHAN_MAY_WRITE : 0);
	struct shmchan_channel *chan;
	int ret = 0;

	mutex_lock(&shmchan_registry_lock);
	chan = shmchan_lookup_locked(name);
	if (!chan)
		ret = -ENOENT;
	else if (!shmchan_may_access(chan, want))
		ret = -EACCES;
	else
		shmchan_chan_bind_locked(chan);
	mutex_unlock(&shmchan_registry_lock);

	if (!ret)
		*chanp = chan;
	return ret;
}

/**
 * shmchan_chan_destroy - remove the name @name
 * @name: a checked name
 * @flags: SHMCHAN_DESTROY_* flags (already checked)
 *
 * Return: 0, -ENOENT or -EPERM.
 */
int shmchan_chan_destroy(const char *name, u32 flags)
{
	struct shmchan_channel *chan;
	int ret = 0;

	mutex_lock(&shmchan_registry_lock);
	chan = shmchan_lookup_locked(name);
	if (!chan) {
		ret = -ENOENT;
	} else if (!shmchan_may_destroy(chan)) {
		ret = -EPERM;
	} else {
		shmchan_unpublish_locked(chan);
		if (flags & SHMCHAN_DESTROY_REVOKE)
			set_bit(SHMCHAN_REVOKED, &chan->state);
	}
	mutex_unlock(&shmchan_registry_lock);
	if (ret)
		return ret;

	if (flags & SHMCHAN_DESTROY_REVOKE)
		shmchan_wait_revoke(chan);
	shmchan_chan_put(chan);
	return 0;
}

/**
 * shmchan_chan_fill_stat - report @chan's attributes to the calling task
 * @chan: the channel
 * @st: filled in but for ->size and ->flags; ids are translated into the
 *	caller's namespaces
 */
void shmchan_chan_fill_stat(struct shmchan_channel *chan,
			    struct shmchan_stat *st)
{
	struct user_namespace *ns = current_user_ns();

	mutex_lock(&shmchan_registry_lock);
	st->mode = chan->mode;
	st->uid = from_kuid_munged(ns, chan->uid);
	st->gid = from_kgid_munged(ns, chan->gid);
	mutex_unlock(&shmchan_registry_lock);

	st->length = chan->length;
	st->cuid = from_kuid_munged(ns, chan->cuid);
	st->cgid = from_kgid_munged(ns, chan->cgid);
	st->cpid = pid_vnr(chan->cpid);
	st->ctime_sec = chan->ctime.tv_sec;
	st->ctime_nsec = chan->ctime.tv_nsec;
	st->nmaps = atomic_read(&chan->nmaps);
	st->nhandles = atomic_read(&chan->nhandles);
	st->nwaiters = atomic_read(&chan->nwaiters);
	st->state = 0;
	if (test_bit(SHMCHAN_DESTROYED, &chan->state))
		st->state |= SHMCHAN_STATE_DESTROYED;
	if (test_bit(SHMCHAN_REVOKED, &chan->state))
		st->state |= SHMCHAN_STATE_REVOKED;
	if (chan->transient)
		st->state |= SHMCHAN_STATE_TRANSIENT;
}

/**
 * shmchan_registry_exit - free every channel at module unload
 *
 * The module can only be unloaded once no handle and no mapping is left, so
 * the registry holds the last reference of every remaining channel.
 */
void shmchan_registry_exit(void)
{
	struct shmchan_channel *chan;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&shmchan_registry_lock);
	hash_for_each_safe(shmchan_names, bkt, tmp, chan, node) {
		shmchan_unpublish_locked(chan);
		WARN_ON(kref_read(&chan->ref) != 1);
		shmchan_chan_put(chan);
	}
	mutex_unlock(&shmchan_registry_lock);
}
