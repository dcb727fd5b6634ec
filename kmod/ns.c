// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan and IPC namespaces: channel names are scoped per IPC namespace,
 * as System V IPC is, and a namespace's channels are destroyed (as by
 * DESTROY) when it dies.
 *
 * Holding a namespace
 *   A namespace that has channels is *tracked*: it has a struct shmchan_ns
 *   in shmchan_ns_table, which holds one reference to the ipc_namespace,
 *   taken with get_ipc_ns() (an inline of <linux/ipc_namespace.h>) from
 *   the nsproxy of the task that made the first channel. put_ipc_ns() is
 *   not exported to modules on 6.1, so the reference is dropped through
 *   the namespace's own operations, ns.ops->put() (ipcns_put(), which is
 *   put_ipc_ns()): the same call by which the kernel drops the reference
 *   of an nsfs inode or of a setns() target. Holding an open nsfs file
 *   instead (open_related_ns() is exported) would end in that very call
 *   when the file goes, but needs a descriptor in the caller's table for a
 *   moment, which another thread can close or dup meanwhile, and fails
 *   with EMFILE; opening /proc/thread-self/ns/ipc needs a /proc in the
 *   caller's mount namespace, which a chroot or a container may lack.
 *
 * Learning that a namespace died
 *   No notifier tells a module that an IPC namespace goes, and ours keeps
 *   it from going. So "died" means: nothing but shmchan holds it. Every
 *   nsproxy that names it holds a reference, and so does its nsfs inode
 *   while any file or bind mount of /proc/PID/ns/ipc is open; others are
 *   held only for a moment (mqueuefs lookups, /proc/sysvipc readers, our
 *   own /proc/shmchan readers, which do count as users, as sysvipc's do).
 *   A namespace whose count is down to our one reference has no task and
 *   no nsfs file or mount left, and nothing can give it one again: setns()
 *   needs such a file or a task in it, clone() a task in it. So once the
 *   count has been seen at 1 the namespace is dead for good, and a
 *   momentary reference only delays the verdict, never fakes it.
 *   Every task making, opening or destroying a channel holds its own
 *   namespace, so no call can be inside a namespace being declared dead.
 *
 *   The count is read by a sweep (a delayed work item) while any
 *   namespace other than the initial one is tracked: first soon after
 *   something that may have ended one (a handle's holder exits, a handle
 *   or a mapping goes, from a task outside the initial namespace; its
 *   nsproxy is dropped a little after that), then at doubling intervals up
 *   to SHMCHAN_NS_SWEEP_MAX. A namespace that dies without such an event
 *   (its last task never used shmchan, or it left with setns()) is found
 *   within SHMCHAN_NS_SWEEP_MAX. A sweep reads one counter per tracked
 *   namespace under the registry lock.
 *
 * Death
 *   The sweep unpublishes every channel of a dead namespace under the
 *   registry lock, as DESTROY does (no revoke: handles and mappings held
 *   elsewhere, passed over a socket or inherited, keep working and keep
 *   the memory until they let go), untracks the namespace and drops its
 *   reference, so that the namespace itself (its System V objects, its
 *   mqueues) is freed as the kernel would have freed it, just later.
 *   The struct shmchan_ns stays while channels of it are alive; it no
 *   longer names a namespace, so no lookup and no listing matches it.
 *
 * References to a struct shmchan_ns (ns->ref)
 *   - each channel of it, from its allocation until it is freed;
 *   - a CREATE in progress (shmchan_ns_get_current() to the end of it).
 *   The last one untracks it if it still is (dropping the namespace).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "internal.h"

#define SHMCHAN_NS_HASH_BITS	8

/* The first sweep after an event, and the longest interval between two */
#define SHMCHAN_NS_SWEEP_MIN	(HZ / 50)
#define SHMCHAN_NS_SWEEP_MAX	(2 * HZ)

/*
 * The tracked namespaces, keyed by their ipc_namespace, and how many of
 * them are not the initial one; under shmchan_registry_lock.
 */
static DEFINE_HASHTABLE(shmchan_ns_table, SHMCHAN_NS_HASH_BITS);
static unsigned int shmchan_ns_sweepable;
/* Ids for the name hash; under shmchan_registry_lock, never reused */
static u64 shmchan_ns_last_id;

static void shmchan_ns_sweep(struct work_struct *work);
static DECLARE_DELAYED_WORK(shmchan_ns_work, shmchan_ns_sweep);
/*
 * shmchan_ns_sweep_lock protects when the sweep is due (shmchan_ns_due)
 * and the next interval (shmchan_ns_delay). A leaf: see internal.h.
 */
static DEFINE_SPINLOCK(shmchan_ns_sweep_lock);
static unsigned long shmchan_ns_due;
static unsigned long shmchan_ns_delay = SHMCHAN_NS_SWEEP_MIN;

static bool shmchan_ipc_is_initial(struct ipc_namespace *ipc)
{
	return ipc->ns.inum == PROC_IPC_INIT_INO;
}

/**
 * shmchan_ipc_get_current - a reference to the caller's IPC namespace
 *
 * Safe without a lock: the caller's nsproxy holds the namespace, and only
 * the caller changes its own nsproxy.
 *
 * Return: the namespace, or NULL for a task past exit_task_namespaces().
 */
struct ipc_namespace *shmchan_ipc_get_current(void)
{
	struct nsproxy *nsp = current->nsproxy;

	return nsp ? get_ipc_ns(nsp->ipc_ns) : NULL;
}

/**
 * shmchan_ipc_put - drop a reference from shmchan_ipc_get_current()
 * @ipc: the namespace
 *
 * put_ipc_ns() through the namespace's operations (see the top of this
 * file). It takes the kernel's mq_lock and may queue the namespace's
 * freeing; it never sleeps and never calls back into shmchan, so it may
 * be called under shmchan_registry_lock.
 */
void shmchan_ipc_put(struct ipc_namespace *ipc)
{
	if (IS_ENABLED(CONFIG_IPC_NS))
		ipc->ns.ops->put(&ipc->ns);
}

/* The tracked namespace of @ipc, or NULL. */
static struct shmchan_ns *shmchan_ns_lookup_locked(struct ipc_namespace *ipc)
{
	struct shmchan_ns *ns;

	lockdep_assert_held(&shmchan_registry_lock);

	hash_for_each_possible(shmchan_ns_table, ns, node, (unsigned long)ipc) {
		if (ns->ipc == ipc)
			return ns;
	}
	return NULL;
}

/**
 * shmchan_ns_find_current_locked - the caller's namespace, if tracked
 *
 * Return: the struct shmchan_ns of the caller's IPC namespace, valid while
 * shmchan_registry_lock is held, or NULL if it has no channel.
 */
struct shmchan_ns *shmchan_ns_find_current_locked(void)
{
	struct nsproxy *nsp = current->nsproxy;

	lockdep_assert_held(&shmchan_registry_lock);

	return nsp ? shmchan_ns_lookup_locked(nsp->ipc_ns) : NULL;
}

/**
 * shmchan_ns_matches_locked - whether @ns is the IPC namespace @ipc
 * @ns: a channel's namespace
 * @ipc: a namespace the caller holds a reference to
 *
 * Return: true while @ns is tracked for @ipc; a dead or untracked @ns
 * matches nothing.
 */
bool shmchan_ns_matches_locked(struct shmchan_ns *ns, struct ipc_namespace *ipc)
{
	lockdep_assert_held(&shmchan_registry_lock);

	return ns->ipc == ipc;
}

/* Ask for a sweep in @delay jiffies, unless one is due sooner. */
static void shmchan_ns_arm(unsigned long delay)
{
	unsigned long due = jiffies + delay;

	lockdep_assert_held(&shmchan_ns_sweep_lock);

	if (delayed_work_pending(&shmchan_ns_work) &&
	    time_before_eq(shmchan_ns_due, due))
		return;
	shmchan_ns_due = due;
	mod_delayed_work(system_wq, &shmchan_ns_work, delay);
}

/* Stop tracking @ns and drop its namespace: it died or has no channel. */
static void shmchan_ns_untrack_locked(struct shmchan_ns *ns)
{
	struct ipc_namespace *ipc = ns->ipc;

	lockdep_assert_held(&shmchan_registry_lock);

	if (!ipc)
		return;
	hash_del(&ns->node);
	if (!shmchan_ipc_is_initial(ipc))
		WRITE_ONCE(shmchan_ns_sweepable, shmchan_ns_sweepable - 1);
	ns->ipc = NULL;
	shmchan_ipc_put(ipc);
}

/**
 * shmchan_ns_get_current - the caller's namespace, tracked, with a reference
 *
 * Starts tracking the caller's IPC namespace if it has no channel yet.
 *
 * Return: the struct shmchan_ns, to be given back with shmchan_ns_put(),
 * or ERR_PTR(-ENOMEM), or ERR_PTR(-ESRCH) for a task without namespaces
 * (one past exit_task_namespaces(), which makes no ioctl).
 */
struct shmchan_ns *shmchan_ns_get_current(void)
{
	struct shmchan_ns *ns, *fresh;
	struct ipc_namespace *ipc;
	bool arm = false;

	if (!current->nsproxy)
		return ERR_PTR(-ESRCH);
	ipc = current->nsproxy->ipc_ns;

	mutex_lock(&shmchan_registry_lock);
	ns = shmchan_ns_lookup_locked(ipc);
	if (ns)
		kref_get(&ns->ref);
	mutex_unlock(&shmchan_registry_lock);
	if (ns)
		return ns;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return ERR_PTR(-ENOMEM);
	kref_init(&fresh->ref);
	INIT_LIST_HEAD(&fresh->chans);

	mutex_lock(&shmchan_registry_lock);
	/* Another thread of this namespace may have been first */
	ns = shmchan_ns_lookup_locked(ipc);
	if (ns) {
		kref_get(&ns->ref);
	} else {
		ns = fresh;
		fresh = NULL;
		/* Our caller's nsproxy holds it: it cannot be at zero */
		ns->ipc = get_ipc_ns(ipc);
		ns->id = ++shmchan_ns_last_id;
		hash_add(shmchan_ns_table, &ns->node, (unsigned long)ipc);
		if (!shmchan_ipc_is_initial(ipc)) {
			WRITE_ONCE(shmchan_ns_sweepable, shmchan_ns_sweepable + 1);
			arm = true;
		}
	}
	mutex_unlock(&shmchan_registry_lock);
	kfree(fresh);

	/* A namespace to watch: make sure a sweep is on its way */
	if (arm) {
		spin_lock(&shmchan_ns_sweep_lock);
		shmchan_ns_arm(shmchan_ns_delay);
		spin_unlock(&shmchan_ns_sweep_lock);
	}
	return ns;
}

/**
 * shmchan_ns_get - another reference to @ns
 * @ns: a namespace the caller holds a reference to
 */
void shmchan_ns_get(struct shmchan_ns *ns)
{
	kref_get(&ns->ref);
}

/* Called with shmchan_registry_lock held by kref_put_mutex(); drops it. */
static void shmchan_ns_release(struct kref *ref)
{
	struct shmchan_ns *ns = container_of(ref, struct shmchan_ns, ref);

	lockdep_assert_held(&shmchan_registry_lock);
	WARN_ON(!list_empty(&ns->chans));
	shmchan_ns_untrack_locked(ns);
	mutex_unlock(&shmchan_registry_lock);
	kfree(ns);
}

/**
 * shmchan_ns_put - drop a reference to @ns
 * @ns: the namespace
 *
 * Must not be called with shmchan_registry_lock held.
 */
void shmchan_ns_put(struct shmchan_ns *ns)
{
	kref_put_mutex(&ns->ref, shmchan_ns_release, &shmchan_registry_lock);
}

/*
 * Nothing but our reference holds @ns's namespace: no task and no nsfs
 * file or mount is left, and none can come back (see the top).
 *
 * The relaxed read is enough: every task that made or destroyed a channel
 * of the namespace did so under the registry lock, which we hold, while
 * holding its reference; if its critical section came after ours, its
 * reference was there when we read (and its drop, after its section,
 * cannot be what we saw), and if it came before, we see all it did.
 */
static bool shmchan_ns_dead_locked(struct shmchan_ns *ns)
{
	lockdep_assert_held(&shmchan_registry_lock);

	return !shmchan_ipc_is_initial(ns->ipc) &&
	       refcount_read(&ns->ipc->ns.count) == 1;
}

static void shmchan_ns_sweep(struct work_struct *work)
{
	struct shmchan_ns *ns;
	struct hlist_node *tmp;
	unsigned int bkt;
	LIST_HEAD(unpublished);
	bool again;

	mutex_lock(&shmchan_registry_lock);
	hash_for_each_safe(shmchan_ns_table, bkt, tmp, ns, node) {
		if (!shmchan_ns_dead_locked(ns))
			continue;
		/* Its channels: unpublished now, the registry's refs below */
		shmchan_registry_unpublish_ns_locked(ns, &unpublished);
		shmchan_ns_untrack_locked(ns);
	}
	again = shmchan_ns_sweepable;
	mutex_unlock(&shmchan_registry_lock);

	/* Outside the lock: this may free the channels, and @ns with them */
	shmchan_registry_put_list(&unpublished);

	spin_lock(&shmchan_ns_sweep_lock);
	if (again) {
		shmchan_ns_delay = min_t(unsigned long, 2 * shmchan_ns_delay,
					 SHMCHAN_NS_SWEEP_MAX);
		shmchan_ns_arm(shmchan_ns_delay);
	}
	spin_unlock(&shmchan_ns_sweep_lock);
}

/**
 * shmchan_ns_kick - something happened that may have ended a namespace
 *
 * Called when a task outside the initial IPC namespace (or one whose
 * namespaces are gone already, late in its exit) lets go of a handle or
 * a mapping, or exits holding a handle. The task drops its nsproxy a
 * little later, so the sweep comes SHMCHAN_NS_SWEEP_MIN after, and then
 * backs off again. A kick never postpones a sweep that is due sooner, so
 * a steady stream of them cannot starve it.
 */
void shmchan_ns_kick(void)
{
	struct nsproxy *nsp = current->nsproxy;

	if (!READ_ONCE(shmchan_ns_sweepable))
		return;
	if (nsp && shmchan_ipc_is_initial(nsp->ipc_ns))
		return;
	spin_lock(&shmchan_ns_sweep_lock);
	shmchan_ns_delay = SHMCHAN_NS_SWEEP_MIN;
	shmchan_ns_arm(SHMCHAN_NS_SWEEP_MIN);
	spin_unlock(&shmchan_ns_sweep_lock);
}

/**
 * shmchan_ns_exit - stop the sweep at module unload
 *
 * Called before shmchan_registry_exit(), with no handle or mapping left,
 * so nothing kicks it again; the namespaces still tracked are dropped as
 * their last channels are freed there.
 */
void shmchan_ns_exit(void)
{
	cancel_delayed_work_sync(&shmchan_ns_work);
}
