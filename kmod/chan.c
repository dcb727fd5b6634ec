// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan channel registry: names, permissions and lifetime.
 *
 * A channel is published under its name from creation until DESTROY (or,
 * for a transient channel, until its last user goes). Unpublishing drops
 * the registry's reference; handles and mappings hold their own, so the
 * memory lives until the last of them is gone.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "internal.h"
#include "rules.h"

/*
 * shmchan_registry_lock protects shmchan_names, shmchan_all, every
 * channel's ->node, ->all_node, ->ns_node and ->published, and the tracked
 * namespaces (ns.c). See internal.h for where it sits in the lock order.
 */
DEFINE_MUTEX(shmchan_registry_lock);
/*
 * shmchan_setattr_lock serializes SETATTR, so that the owner a change is
 * judged against (chown rules, which may ask for a capability and so
 * sleep) is still the owner when the change is made. Never held with
 * shmchan_registry_lock; see internal.h.
 */
static DEFINE_MUTEX(shmchan_setattr_lock);
static DEFINE_HASHTABLE(shmchan_names, SHMCHAN_NAME_HASH_BITS);
/* Every live channel, published or not, oldest first, for the listing */
static LIST_HEAD(shmchan_all);
/* The key of the names' hash (rules.h); drawn at load, constant after */
static siphash_key_t shmchan_name_key __ro_after_init;

/**
 * shmchan_registry_init - draw the key of the name table's hash
 *
 * Called once at module load, before /dev/shmchan exists.
 */
void __init shmchan_registry_init(void)
{
	get_random_bytes(&shmchan_name_key, sizeof(shmchan_name_key));
}

/**
 * struct shmchan_attrs - a consistent copy of a channel's mutable attributes
 * @mode: permission bits
 * @uid: owner
 * @gid: owner's group
 */
struct shmchan_attrs {
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
};

static void shmchan_chan_attrs(struct shmchan_channel *chan,
			       struct shmchan_attrs *attrs)
{
	spin_lock(&chan->lock);
	attrs->mode = chan->mode;
	attrs->uid = chan->uid;
	attrs->gid = chan->gid;
	spin_unlock(&chan->lock);
}

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
	long len;

	len = strncpy_from_user(name, u64_to_user_ptr(uptr),
				SHMCHAN_NAME_MAX + 1);
	return shmchan_check_name(name, len);
}

/* The channel published as @name in the namespace @ns, or NULL */
static struct shmchan_channel *shmchan_lookup_locked(struct shmchan_ns *ns,
						     const char *name)
{
	struct shmchan_channel *chan;

	lockdep_assert_held(&shmchan_registry_lock);

	if (!ns)
		return NULL;
	hash_for_each_possible(shmchan_names, chan, node,
			       shmchan_name_hash(&shmchan_name_key, ns->id,
						 name)) {
		if (chan->ns == ns && !strcmp(chan->name, name))
			return chan;
	}
	return NULL;
}

static void shmchan_publish_locked(struct shmchan_channel *chan)
{
	lockdep_assert_held(&shmchan_registry_lock);

	hash_add(shmchan_names, &chan->node,
		 shmchan_name_hash(&shmchan_name_key, chan->ns->id, chan->name));
	list_add_tail(&chan->ns_node, &chan->ns->chans);
	chan->published = true;
}

/* The caller must drop the registry's reference once the lock is released. */
static void shmchan_unpublish_locked(struct shmchan_channel *chan)
{
	lockdep_assert_held(&shmchan_registry_lock);

	hash_del(&chan->node);
	list_del_init(&chan->ns_node);
	chan->published = false;
	shmchan_status_set(chan, SHMCHAN_STATE_DESTROYED);
}

static void shmchan_chan_free(struct shmchan_channel *chan)
{
	shmchan_limits_uncharge(chan);
	fput(chan->shm_file);
	shmchan_status_put(chan);
	put_pid(chan->cpid);
	put_pid(chan->lpid);
	put_user_ns(chan->user_ns);
	shmchan_ns_put(chan->ns);
	kfree(chan);
}

/* Only for channels no longer on shmchan_all. */
static void shmchan_chan_free_ref(struct kref *ref)
{
	shmchan_chan_free(container_of(ref, struct shmchan_channel, ref));
}

/* Called with shmchan_registry_lock held by kref_put_mutex(); drops it. */
static void shmchan_chan_release(struct kref *ref)
{
	struct shmchan_channel *chan =
		container_of(ref, struct shmchan_channel, ref);

	lockdep_assert_held(&shmchan_registry_lock);
	list_del(&chan->all_node);
	mutex_unlock(&shmchan_registry_lock);

	shmchan_chan_free(chan);
}

void shmchan_chan_get(struct shmchan_channel *chan)
{
	kref_get(&chan->ref);
}

/* Must not be called with shmchan_registry_lock held. */
void shmchan_chan_put(struct shmchan_channel *chan)
{
	kref_put_mutex(&chan->ref, shmchan_chan_release,
		       &shmchan_registry_lock);
}

/**
 * shmchan_chan_note_attach - the calling process binds or maps @chan
 * @chan: the channel
 */
void shmchan_chan_note_attach(struct shmchan_channel *chan)
{
	struct pid *pid = get_pid(task_tgid(current));

	spin_lock(&chan->lock);
	swap(chan->lpid, pid);
	spin_unlock(&chan->lock);
	put_pid(pid);
}

/**
 * shmchan_chan_note_death - a process that had @chan open or mapped exits
 * @chan: the channel
 *
 * Counts the exit and ends the death-aware waits on the channel with
 * -EOWNERDEAD, so that userspace can look for who is gone.
 */
void shmchan_chan_note_death(struct shmchan_channel *chan)
{
	/* On the status page: every mapper sees it before the wake-ups */
	atomic_inc(&chan->status->deaths);
	/* Pairs with shmchan_wait(); see shmchan_wait_notify_death() */
	smp_mb__after_atomic();
	shmchan_wait_notify_death(chan);
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
	shmchan_chan_note_attach(chan);
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
 * shmchan_chan_map_new - the view's ->mmap makes a VMA of @chan
 * @chan: the channel
 *
 * Mostly the handle being mapped is a user already. But remap_file_pages()
 * unmaps the old VMA before it maps the view anew, and that VMA may have
 * been the last user: a transient channel then lost its name, and must
 * not come back to life without one (users 0 -> 1 with the name gone).
 * Refuse that; a channel that is not transient may get its user back, as
 * its name does not depend on it. A 0 -> 1 transition is made under the
 * registry lock, as internal.h says; mmap_lock, held here, is outside it.
 *
 * Return: 0, or -EIDRM for a transient channel without users.
 */
int shmchan_chan_map_new(struct shmchan_channel *chan)
{
	int ret = 0;

	if (!atomic_inc_not_zero(&chan->users)) {
		mutex_lock(&shmchan_registry_lock);
		/* The last user's going unpublished a transient channel */
		if (chan->transient)
			ret = -EIDRM;
		else
			atomic_inc(&chan->users);
		mutex_unlock(&shmchan_registry_lock);
		if (ret)
			return ret;
	}
	atomic_inc(&chan->nmaps);
	return 0;
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

/* SysV-style check of the mode bits: owner, then group, then others. */
static bool shmchan_mode_grants(struct shmchan_channel *chan, int want)
{
	kuid_t euid = current_euid();
	struct shmchan_attrs attrs;
	bool owner, group;

	shmchan_chan_attrs(chan, &attrs);
	owner = uid_eq(euid, attrs.uid) || uid_eq(euid, chan->cuid);
	/* The group's bits are for others than the owner only */
	group = !owner && (in_group_p(attrs.gid) || in_group_p(chan->cgid));
	return shmchan_mode_allows(attrs.mode, owner, group, want);
}

static bool shmchan_may_access(struct shmchan_channel *chan, int want)
{
	return shmchan_mode_grants(chan, want) || capable(CAP_IPC_OWNER);
}

/* Destroy, revoke and setattr: the owner, the creator or CAP_SYS_ADMIN. */
static bool shmchan_may_administer(struct shmchan_channel *chan)
{
	kuid_t euid = current_euid();
	struct shmchan_attrs attrs;

	shmchan_chan_attrs(chan, &attrs);
	return uid_eq(euid, attrs.uid) || uid_eq(euid, chan->cuid) ||
	       capable(CAP_SYS_ADMIN);
}

/**
 * shmchan_chan_may_list - whether the caller may see @chan in the listing
 * @chan: the channel
 *
 * Decided by the current (subjective) credentials, which proc.c sets to
 * the opener's of the listing.
 *
 * Return: true if the caller could open it read-only.
 */
bool shmchan_chan_may_list(struct shmchan_channel *chan)
{
	/* Listing is no use of the privilege: don't audit or flag it. */
	return shmchan_mode_grants(chan, SHMCHAN_MAY_READ) ||
	       ns_capable_noaudit(&init_user_ns, CAP_IPC_OWNER);
}

/*
 * Allocate every page now, charged to the caller's memory cgroup.
 * __GFP_RETRY_MAYFAIL makes a full cgroup (or system) fail the allocation
 * instead of invoking the OOM killer on the caller. Only a fatal signal
 * interrupts: a handled one is no reason to fail, and restarting from
 * scratch could livelock under a periodic timer.
 */
static int shmchan_chan_populate(struct shmchan_channel *chan)
{
	struct address_space *mapping = chan->shm_file->f_mapping;
	gfp_t gfp = mapping_gfp_mask(mapping) | __GFP_RETRY_MAYFAIL;
	pgoff_t index, npages = chan->length >> PAGE_SHIFT;
	struct page *page;

	for (index = 0; index < npages; index++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		page = shmem_read_mapping_page_gfp(mapping, index, gfp);
		if (IS_ERR(page)) {
			/* shmem says ENOSPC when memory is short */
			return PTR_ERR(page) == -ENOSPC ? -ENOMEM : PTR_ERR(page);
		}
		put_page(page);
		cond_resched();
	}
	return 0;
}

static int shmchan_chan_setup_file(struct shmchan_channel *chan)
{
	char *file_name;

	/* /proc/PID/maps shows "/shmchan:NAME (deleted)" */
	file_name = kasprintf(GFP_KERNEL, "shmchan:%s", chan->name);
	if (!file_name)
		return -ENOMEM;
	/* Accounted like SysV shm without SHM_NORESERVE: fail now, not at fault */
	if (chan->huge)
		chan->shm_file = shmchan_huge_file_setup(file_name, chan->length);
	else
		chan->shm_file = shmem_file_setup(file_name, chan->length, 0);
	kfree(file_name);
	if (IS_ERR(chan->shm_file)) {
		int ret = PTR_ERR(chan->shm_file);

		chan->shm_file = NULL;
		/* No inode: out of memory; ENOSPC means our own limits */
		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	return 0;
}

/*
 * Make a channel that is not published yet; its one reference is the
 * caller's, and it is on the list of live channels only once published.
 */
static struct shmchan_channel *shmchan_chan_alloc(struct shmchan_ns *ns,
						  const char *name, u64 length,
						  u64 max_length, umode_t mode,
						  u32 flags)
{
	struct shmchan_channel *chan;
	size_t name_size = strlen(name) + 1;
	int ret;

	chan = kzalloc(struct_size(chan, name, name_size), GFP_KERNEL_ACCOUNT);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	kref_init(&chan->ref);
	INIT_HLIST_NODE(&chan->node);
	INIT_LIST_HEAD(&chan->all_node);
	INIT_LIST_HEAD(&chan->ns_node);
	spin_lock_init(&chan->lock);
	spin_lock_init(&chan->wait_lock);
	INIT_LIST_HEAD(&chan->waiters);
	memcpy(chan->name, name, name_size);
	chan->transient = flags & SHMCHAN_CREATE_TRANSIENT;
	chan->huge = flags & SHMCHAN_CREATE_HUGE;
	chan->length = length;
	chan->mode = mode;
	chan->uid = current_euid();
	chan->gid = current_egid();
	chan->cuid = chan->uid;
	chan->cgid = chan->gid;
	chan->cpid = get_pid(task_tgid(current));
	chan->user_ns = get_user_ns(current_user_ns());
	shmchan_ns_get(ns);
	chan->ns = ns;
	ktime_get_real_ts64(&chan->ctime);

	ret = shmchan_limits_check_length(length);
	if (ret)
		goto free_chan;
	ret = shmchan_status_init(chan);
	if (ret)
		goto free_chan;
	shmchan_grow_init(chan, max_length);
	ret = shmchan_limits_charge(chan);
	if (ret)
		goto put_status;
	ret = shmchan_chan_setup_file(chan);
	if (ret)
		goto uncharge;
	if (flags & SHMCHAN_CREATE_POPULATE) {
		ret = shmchan_chan_populate(chan);
		if (ret)
			goto put_file;
	}
	return chan;

put_file:
	fput(chan->shm_file);
uncharge:
	shmchan_limits_uncharge(chan);
put_status:
	shmchan_status_put(chan);
free_chan:
	put_pid(chan->cpid);
	put_user_ns(chan->user_ns);
	shmchan_ns_put(chan->ns);
	kfree(chan);
	return ERR_PTR(ret);
}

/* CREATE found @chan under its name: open it as shmget() would. */
static int shmchan_reuse_locked(struct shmchan_channel *chan, u64 length,
				u64 max_length, u32 flags)
{
	lockdep_assert_held(&shmchan_registry_lock);

	if (flags & SHMCHAN_CREATE_EXCL)
		return -EEXIST;
	/*
	 * Access before the length: comparing first would tell a caller who
	 * may not open the channel how long it is (EINVAL above the length,
	 * EACCES at or below it), one bisection step per call.
	 */
	if (!shmchan_may_access(chan, SHMCHAN_MAY_READ | SHMCHAN_MAY_WRITE))
		return -EACCES;
	if (length > shmchan_chan_length(chan))
		return -EINVAL;
	/* A reserve asked for explicitly must be there (0: any) */
	if (max_length > chan->max_length)
		return -EINVAL;
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
	struct shmchan_ns *ns;
	u64 length, max_length;
	int ret = 0;

	ret = shmchan_check_length(args->length, &length);
	if (ret)
		return ret;
	ret = shmchan_check_max_length(length, args->max_length, &max_length);
	if (ret)
		return ret;
	if (args->mode & ~SHMCHAN_MODE_MASK)
		return -EINVAL;

	/* The caller's IPC namespace, where the name lives (ns.c) */
	ns = shmchan_ns_get_current();
	if (IS_ERR(ns))
		return PTR_ERR(ns);
	mutex_lock(&shmchan_registry_lock);
	for (;;) {
		chan = shmchan_lookup_locked(ns, name);
		if (chan || fresh)
			break;
		mutex_unlock(&shmchan_registry_lock);
		fresh = shmchan_chan_alloc(ns, name, length, max_length,
					   args->mode, args->flags);
		if (IS_ERR(fresh)) {
			ret = PTR_ERR(fresh);
			goto put_ns;
		}
		mutex_lock(&shmchan_registry_lock);
	}

	if (chan) {
		ret = shmchan_reuse_locked(chan, length,
					   args->max_length ? max_length : 0,
					   args->flags);
	} else {
		chan = fresh;
		fresh = NULL;
		list_add_tail(&chan->all_node, &shmchan_all);
		shmchan_publish_locked(chan);
		*created = true;
	}
	if (!ret)
		shmchan_chan_bind_locked(chan);
	mutex_unlock(&shmchan_registry_lock);

	/* Lost a race for the name: never seen by anyone, free it directly. */
	if (fresh)
		shmchan_chan_free(fresh);
	if (!ret)
		*chanp = chan;
put_ns:
	shmchan_ns_put(ns);
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
	chan = shmchan_lookup_locked(shmchan_ns_find_current_locked(), name);
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
	chan = shmchan_lookup_locked(shmchan_ns_find_current_locked(), name);
	if (!chan) {
		ret = -ENOENT;
	} else if (!shmchan_may_administer(chan)) {
		ret = -EPERM;
	} else {
		shmchan_unpublish_locked(chan);
		if (flags & SHMCHAN_DESTROY_REVOKE)
			shmchan_status_set(chan, SHMCHAN_STATE_REVOKED);
	}
	mutex_unlock(&shmchan_registry_lock);
	if (ret)
		return ret;

	if (flags & SHMCHAN_DESTROY_REVOKE) {
		shmchan_wait_revoke(chan);
		shmchan_grow_revoke(chan);
	}
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
	shmchan_chan_fill_stat_ns(chan, st, current_user_ns(),
				  task_active_pid_ns(current));
}

/**
 * shmchan_chan_fill_stat_ns - report @chan's attributes for given namespaces
 * @chan: the channel
 * @st: filled in but for ->size and ->flags
 * @ns: the user namespace to translate ids into
 * @pid_ns: the pid namespace to translate pids into
 */
void shmchan_chan_fill_stat_ns(struct shmchan_channel *chan,
			       struct shmchan_stat *st,
			       struct user_namespace *ns,
			       struct pid_namespace *pid_ns)
{
	struct shmchan_attrs attrs;
	struct pid *lpid;

	shmchan_chan_attrs(chan, &attrs);
	st->mode = attrs.mode;
	st->uid = from_kuid_munged(ns, attrs.uid);
	st->gid = from_kgid_munged(ns, attrs.gid);

	spin_lock(&chan->lock);
	lpid = get_pid(chan->lpid);
	spin_unlock(&chan->lock);
	st->lpid = pid_nr_ns(lpid, pid_ns);
	put_pid(lpid);

	/* The generation before the length: see shmchan_grow_fill_stat() */
	shmchan_grow_fill_stat(chan, st);
	st->cuid = from_kuid_munged(ns, chan->cuid);
	st->cgid = from_kgid_munged(ns, chan->cgid);
	st->cpid = pid_nr_ns(chan->cpid, pid_ns);
	st->ctime_sec = chan->ctime.tv_sec;
	st->ctime_nsec = chan->ctime.tv_nsec;
	st->nmaps = atomic_read(&chan->nmaps);
	st->nhandles = atomic_read(&chan->nhandles);
	st->nwaiters = atomic_read(&chan->nwaiters);
	/* What the status page says: deaths and state bits */
	st->deaths = shmchan_chan_deaths(chan);
	st->state = atomic_read(&chan->status->state);
}

/*
 * CAP_CHOWN over @chan, for a change of its owner to @uid and/or its group
 * to @gid (invalid ids: not changed). As for files (capable_wrt_inode_uidgid),
 * the capability counts in the channel's user namespace, the creator's,
 * only if that namespace can name the channel's ids, old and new; else
 * only CAP_CHOWN in the initial namespace does. So the owner of a user
 * namespace, who has every capability in it, cannot hand a channel made
 * in there to a uid from outside it, such as root.
 */
static bool shmchan_may_chown(struct shmchan_channel *chan,
			      const struct shmchan_attrs *old, kuid_t uid,
			      kgid_t gid)
{
	struct user_namespace *ns = chan->user_ns;

	if ((uid_valid(uid) && !kuid_has_mapping(ns, uid)) ||
	    (gid_valid(gid) && !kgid_has_mapping(ns, gid)) ||
	    !kuid_has_mapping(ns, old->uid) || !kgid_has_mapping(ns, old->gid))
		ns = &init_user_ns;
	return ns_capable(ns, CAP_CHOWN);
}

/**
 * shmchan_chan_setattr - SHMCHAN_IOC_SETATTR on @chan
 * @chan: the handle's channel
 * @args: the arguments, flags checked
 *
 * Who may call it at all is as for IPC_SET: the owner, the creator or
 * CAP_SYS_ADMIN. Who may give the channel to whom is as for chown(2): a
 * new owner needs CAP_CHOWN (see shmchan_may_chown()); setting the owner
 * it has is no change; the group may become one the caller (owner or
 * creator) is in, or stay as it is, else it needs CAP_CHOWN too.
 *
 * Return: 0, -EPERM or -EINVAL.
 */
int shmchan_chan_setattr(struct shmchan_channel *chan,
			 const struct shmchan_setattr *args)
{
	struct user_namespace *ns = current_user_ns();
	kuid_t uid = INVALID_UID, euid = current_euid();
	kgid_t gid = INVALID_GID;
	struct shmchan_attrs old;
	bool owner, give;
	int ret = 0;

	if ((args->flags & SHMCHAN_SETATTR_MODE) &&
	    (args->mode & ~SHMCHAN_MODE_MASK))
		return -EINVAL;
	if (args->flags & SHMCHAN_SETATTR_UID) {
		uid = make_kuid(ns, args->uid);
		if (!uid_valid(uid))
			return -EINVAL;
	}
	if (args->flags & SHMCHAN_SETATTR_GID) {
		gid = make_kgid(ns, args->gid);
		if (!gid_valid(gid))
			return -EINVAL;
	}
	mutex_lock(&shmchan_setattr_lock);
	shmchan_chan_attrs(chan, &old);
	owner = uid_eq(euid, old.uid) || uid_eq(euid, chan->cuid);
	/*
	 * The capability only when ownership does not suffice, so that an
	 * owner's call is no audited use of CAP_SYS_ADMIN; asked under the
	 * mutex, which may sleep, never under the channel's spinlock.
	 */
	if (!owner && !capable(CAP_SYS_ADMIN)) {
		ret = -EPERM;
		goto unlock;
	}
	/* Only a change that chown(2) would allow without CAP_CHOWN is free */
	give = (uid_valid(uid) && !uid_eq(uid, old.uid)) ||
	       (gid_valid(gid) && !gid_eq(gid, old.gid) &&
		!(owner && in_group_p(gid)));
	if (give && !shmchan_may_chown(chan, &old, uid, gid)) {
		ret = -EPERM;
		goto unlock;
	}

	spin_lock(&chan->lock);
	if (args->flags & SHMCHAN_SETATTR_MODE)
		chan->mode = args->mode;
	if (uid_valid(uid))
		chan->uid = uid;
	if (gid_valid(gid))
		chan->gid = gid;
	spin_unlock(&chan->lock);
unlock:
	mutex_unlock(&shmchan_setattr_lock);
	return ret;
}

/* The listing walks shmchan_all under the registry lock, as a seq_file. */
void *shmchan_registry_seq_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&shmchan_registry_lock);
	return seq_list_start_head(&shmchan_all, *pos);
}

void *shmchan_registry_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &shmchan_all, pos);
}

void shmchan_registry_seq_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&shmchan_registry_lock);
}

/**
 * shmchan_registry_seq_chan - the channel at a listing position
 * @v: a position from the seq functions above
 *
 * Return: the channel, or NULL for the header position.
 */
struct shmchan_channel *shmchan_registry_seq_chan(void *v)
{
	lockdep_assert_held(&shmchan_registry_lock);

	if (v == &shmchan_all)
		return NULL;
	return list_entry(v, struct shmchan_channel, all_node);
}

/**
 * shmchan_registry_unpublish_ns_locked - the namespace @ns died
 * @ns: the namespace
 * @unpublished: where its channels go; each still holds the registry's
 *	reference, to be dropped with shmchan_registry_put_list() once the
 *	lock is released
 *
 * Unpublishes every channel of @ns, as DESTROY without REVOKE does: who
 * holds a handle or a mapping of one keeps it, and its memory.
 */
void shmchan_registry_unpublish_ns_locked(struct shmchan_ns *ns,
					  struct list_head *unpublished)
{
	struct shmchan_channel *chan;

	lockdep_assert_held(&shmchan_registry_lock);

	while (!list_empty(&ns->chans)) {
		chan = list_first_entry(&ns->chans, struct shmchan_channel,
					ns_node);
		shmchan_unpublish_locked(chan);
		/* ->ns_node is free: an unpublished channel never comes back */
		list_add_tail(&chan->ns_node, unpublished);
	}
}

/**
 * shmchan_registry_put_list - drop the references of unpublished channels
 * @unpublished: from shmchan_registry_unpublish_ns_locked()
 *
 * Must not be called with shmchan_registry_lock held.
 */
void shmchan_registry_put_list(struct list_head *unpublished)
{
	struct shmchan_channel *chan, *tmp;

	list_for_each_entry_safe(chan, tmp, unpublished, ns_node) {
		list_del_init(&chan->ns_node);
		shmchan_chan_put(chan);
	}
}

/**
 * shmchan_channel_in_ns_locked - whether @chan belongs to the namespace @ipc
 * @chan: a channel on the listing
 * @ipc: the reader's namespace, which the reader holds
 *
 * Return: true for a channel made in @ipc, published or destroyed but
 * alive, while @ipc lives; a dead namespace's channels are nobody's.
 */
bool shmchan_channel_in_ns_locked(struct shmchan_channel *chan,
				  struct ipc_namespace *ipc)
{
	return shmchan_ns_matches_locked(chan->ns, ipc);
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
	LIST_HEAD(dead);

	mutex_lock(&shmchan_registry_lock);
	hash_for_each_safe(shmchan_names, bkt, tmp, chan, node) {
		shmchan_unpublish_locked(chan);
		WARN_ON(kref_read(&chan->ref) != 1);
		list_move_tail(&chan->all_node, &dead);
	}
	WARN_ON(!list_empty(&shmchan_all));
	mutex_unlock(&shmchan_registry_lock);

	while (!list_empty(&dead)) {
		chan = list_first_entry(&dead, struct shmchan_channel, all_node);
		list_del_init(&chan->all_node);
		WARN_ON(!kref_put(&chan->ref, shmchan_chan_free_ref));
	}
}
