// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan: named shared-memory channels with futex-like wait/wake.
 *
 * This file owns the misc device /dev/shmchan, its handles and the ioctl
 * dispatcher: it copies argument structs in and out and calls one function
 * per command. See uapi/linux/shmchan.h for the ABI.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "internal.h"
#include "rules.h"

/**
 * struct shmchan_handle - an open file of /dev/shmchan
 * @bind_lock: serializes CREATE and OPEN on this handle (see internal.h)
 * @chan: the bound channel or NULL; set once under @bind_lock with release
 *	semantics, read with acquire semantics
 * @writable: bound read-write; set before @chan is published
 * @users_lock: serializes changes to @users, @last_user and @untracked
 * @users: the processes that used this handle and still hold it: their
 *	tgid's struct pid (a reference each), indexed by its number in the
 *	initial pid namespace; read without the lock (RCU, inside xa_load)
 * @last_user: an entry of @users, the last one added or found under
 *	@users_lock, or NULL; a hint read without the lock
 * @untracked: a user could not be recorded (no memory): from then on
 *	every exit holding the handle counts as a death, as if it had used it
 *
 * Who counts as a dead peer through a handle: a process that used it
 * (shmchan_handle_note_use()) and exits holding it. See the top of
 * uapi/linux/shmchan.h and %SHMCHAN_FEATURE_DEATH_NOTICE for the rule.
 * @dev_write: the device file was opened for writing (FMODE_WRITE), which
 *	CREATE, DESTROY, SETATTR and a read-write OPEN need; constant
 * @watches: the handle's watches and poll waitqueue (watch.c)
 */
struct shmchan_handle {
	struct mutex bind_lock; /* serializes binding; outside the registry lock */
	struct shmchan_channel *chan;
	bool writable;
	struct mutex users_lock; /* leaf; see internal.h */
	struct xarray users;
	struct pid *last_user;
	bool untracked;
	bool dev_write;
	struct shmchan_watches watches;
};

static struct shmchan_channel *shmchan_handle_chan(struct shmchan_handle *h)
{
	/* Pairs with shmchan_handle_bind(): ->writable is valid once seen */
	return smp_load_acquire(&h->chan);
}

static void shmchan_handle_bind(struct shmchan_handle *h,
				struct shmchan_channel *chan, bool writable)
{
	lockdep_assert_held(&h->bind_lock);

	h->writable = writable;
	/* Publish ->writable before ->chan; see shmchan_handle_chan() */
	smp_store_release(&h->chan, chan);
}

/* ---------------------------------------------------------------------- */

static void shmchan_handle_note_use_slow(struct shmchan_handle *h,
					 struct pid *tgid)
{
	unsigned long nr = pid_nr(tgid);
	struct pid *old;
	int ret = 0;

	/*
	 * Recorded already, while another process used @h last: no lock.
	 * Processes that take turns on a shared handle stay off the mutex.
	 */
	if (xa_load(&h->users, nr) == tgid)
		return;
	mutex_lock(&h->users_lock);
	old = xa_load(&h->users, nr);
	/* Unless another of our threads recorded it meanwhile */
	if (old != tgid) {
		/*
		 * @old is a process that lost the handle without a flush in
		 * its own context (a descriptor table shared with another
		 * process) and whose number has been reused since: gone.
		 */
		old = xa_store(&h->users, nr, get_pid(tgid), GFP_KERNEL_ACCOUNT);
		ret = xa_err(old);
		if (ret) {
			put_pid(tgid);
			/* Count too much rather than miss a death. */
			WRITE_ONCE(h->untracked, true);
			goto unlock;
		}
		/*
		 * The hint moves off @old before @old may be freed: a new
		 * struct pid at its address must never match a stale hint.
		 */
		WRITE_ONCE(h->last_user, tgid);
		put_pid(old);
	}
	WRITE_ONCE(h->last_user, tgid);
unlock:
	mutex_unlock(&h->users_lock);
}

/*
 * The calling process uses @h, bound: from now on its exit with @h still
 * open counts as a death of a peer of the channel (shmchan_flush_file()).
 * On the hot path (WAIT, WAKE) by the process that used @h last, this is
 * one load and one compare.
 *
 * The hint is only ever an entry of @users: set under the lock once the
 * entry is there, cleared under the lock before the entry is dropped, so
 * a stale pointer cannot match a new process whose struct pid reuses the
 * memory. Only the process itself drops its entry (its close or its
 * exit), so a match means the entry is there, but for a close racing this
 * very call in another thread, after which the process no longer holds
 * the handle and its exit is no death through it anyway.
 */
static void shmchan_handle_note_use(struct shmchan_handle *h)
{
	struct pid *tgid = task_tgid(current);

	if (READ_ONCE(h->last_user) == tgid)
		return;
	shmchan_handle_note_use_slow(h, tgid);
}

/*
 * A channel command on @h, whose channel the caller read as @chan: false
 * if @h is unbound (EBADFD), else the calling process is noted as a user
 * of @h, as every command on a bound handle makes it one.
 */
static bool shmchan_handle_use(struct shmchan_handle *h,
			       struct shmchan_channel *chan)
{
	if (!chan)
		return false;
	shmchan_handle_note_use(h);
	return true;
}

static const struct file_operations shmchan_fops;

/**
 * shmchan_file_use_chan - the channel of a WAITV entry's descriptor
 * @file: a file the caller holds a reference to
 *
 * Like a channel command on the handle: the calling process is noted as
 * a user of it (a waiter killed in its wait is a dead peer).
 *
 * Return: the channel, valid while @file is held (the bound handle holds a
 * reference); ERR_PTR(-EBADF) if @file is no handle of /dev/shmchan,
 * ERR_PTR(-EBADFD) if it is not bound.
 */
struct shmchan_channel *shmchan_file_use_chan(struct file *file)
{
	struct shmchan_handle *h;
	struct shmchan_channel *chan;

	if (file->f_op != &shmchan_fops)
		return ERR_PTR(-EBADF);
	h = file->private_data;
	chan = shmchan_handle_chan(h);
	if (!shmchan_handle_use(h, chan))
		return ERR_PTR(-EBADFD);
	return chan;
}

/* Whether the calling process has an entry in @h's users; no lock. */
static bool shmchan_handle_is_user(struct shmchan_handle *h)
{
	struct pid *tgid = task_tgid(current);

	return xa_load(&h->users, pid_nr(tgid)) == tgid;
}

/*
 * The calling process no longer holds @h (or exits): drop its entry.
 * Returns whether it had one, that is, whether it used @h.
 */
static bool shmchan_handle_forget_user(struct shmchan_handle *h)
{
	struct pid *tgid = task_tgid(current);
	unsigned long nr = pid_nr(tgid);
	bool used = false;

	/* Nothing to do, without the lock, for a process that never used it */
	if (!shmchan_handle_is_user(h))
		return false;
	mutex_lock(&h->users_lock);
	if (xa_load(&h->users, nr) == tgid) {
		if (h->last_user == tgid)
			WRITE_ONCE(h->last_user, NULL);
		xa_erase(&h->users, nr);
		used = true;
	}
	mutex_unlock(&h->users_lock);
	if (used)
		put_pid(tgid);
	return used;
}

static void shmchan_handle_users_init(struct shmchan_handle *h)
{
	mutex_init(&h->users_lock);
	xa_init(&h->users);
}

static void shmchan_handle_users_destroy(struct shmchan_handle *h)
{
	struct pid *pid;
	unsigned long nr;

	xa_for_each(&h->users, nr, pid)
		put_pid(pid);
	xa_destroy(&h->users);
	mutex_destroy(&h->users_lock);
}

/* ---------------------------------------------------------------------- */

/* SHMCHAN_CREATE_HUGE only where the kernel has huge pages for us */
static u32 shmchan_create_flags(void)
{
	if (shmchan_huge_supported())
		return SHMCHAN_CREATE_FLAGS;
	return SHMCHAN_CREATE_FLAGS & ~SHMCHAN_CREATE_HUGE;
}

static long shmchan_ioc_features(struct shmchan_handle *h, void *arg)
{
	struct shmchan_features *f = arg;

	f->abi_version = SHMCHAN_ABI_VERSION;
	f->create_flags = shmchan_create_flags();
	f->open_flags = SHMCHAN_OPEN_FLAGS;
	f->destroy_flags = SHMCHAN_DESTROY_FLAGS;
	f->stat_flags = 0;
	f->wait_flags = SHMCHAN_WAIT_FLAGS;
	f->wake_flags = 0;
	f->name_max = SHMCHAN_NAME_MAX;
	f->__reserved = 0;
	f->features = SHMCHAN_FEATURE_SHMEM | SHMCHAN_FEATURE_REVOKE |
		      SHMCHAN_FEATURE_TRANSIENT | SHMCHAN_FEATURE_DEATH_NOTICE |
		      SHMCHAN_FEATURE_LISTING | SHMCHAN_FEATURE_SETATTR |
		      SHMCHAN_FEATURE_STATUS_PAGE | SHMCHAN_FEATURE_WATCH |
		      SHMCHAN_FEATURE_WAITV |
		      SHMCHAN_FEATURE_IPC_NS | SHMCHAN_FEATURE_MLOCK |
		      SHMCHAN_FEATURE_RESIZE |
		      (shmchan_huge_supported() ? SHMCHAN_FEATURE_HUGE : 0);
	f->setattr_flags = SHMCHAN_SETATTR_FLAGS;
	f->__reserved2 = 0;
	f->watch_flags = SHMCHAN_WATCH_FLAGS | SHMCHAN_WATCH_READ_FLAGS;
	f->waitv_flags = SHMCHAN_WAITV_FLAGS;
	f->resize_flags = SHMCHAN_RESIZE_FLAGS;
	f->__reserved3 = 0;
	return 0;
}

/*
 * Bind @h to the channel @find looks up by the user's name @uname, unless
 * it is bound already. @find gets the checked name and @args.
 */
static long shmchan_bind_named(struct shmchan_handle *h, u64 uname, void *args,
			       int (*find)(const char *name, void *args,
					   struct shmchan_channel **chanp,
					   bool *writable))
{
	char name[SHMCHAN_NAME_MAX + 1];
	struct shmchan_channel *chan;
	bool writable;
	long ret;

	ret = shmchan_name_from_user(name, uname);
	if (ret)
		return ret;

	/*
	 * Killable: another thread or process sharing this handle may hold
	 * the lock for a whole CREATE_POPULATE. A fatal signal must not have
	 * to wait for that; the caller is dying, so EINTR is never seen.
	 */
	if (mutex_lock_killable(&h->bind_lock))
		return -EINTR;
	if (h->chan)
		ret = -EBUSY;
	else
		ret = find(name, args, &chan, &writable);
	if (!ret)
		shmchan_handle_bind(h, chan, writable);
	mutex_unlock(&h->bind_lock);
	if (!ret)
		shmchan_handle_note_use(h);
	return ret;
}

static int shmchan_find_create(const char *name, void *arg,
			       struct shmchan_channel **chanp, bool *writable)
{
	struct shmchan_create *args = arg;
	bool created = false;
	int ret;

	ret = shmchan_chan_create(name, args, chanp, &created);
	if (ret)
		return ret;
	*writable = true;
	args->length = shmchan_chan_length(*chanp);
	args->max_length = (*chanp)->max_length;
	args->result = created ? SHMCHAN_CREATED : 0;
	return 0;
}

static long shmchan_ioc_create(struct shmchan_handle *h, void *arg)
{
	struct shmchan_create *args = arg;

	if (args->flags & ~shmchan_create_flags())
		return -EINVAL;
	if (!h->dev_write)
		return -EBADF;
	return shmchan_bind_named(h, args->name, args, shmchan_find_create);
}

static int shmchan_find_open(const char *name, void *arg,
			     struct shmchan_channel **chanp, bool *writable)
{
	struct shmchan_open *args = arg;
	int ret;

	*writable = !(args->flags & SHMCHAN_OPEN_RDONLY);
	ret = shmchan_chan_open(name, *writable, chanp);
	if (ret)
		return ret;
	args->length = shmchan_chan_length(*chanp);
	return 0;
}

static long shmchan_ioc_open(struct shmchan_handle *h, void *arg)
{
	struct shmchan_open *args = arg;

	if (args->flags & ~SHMCHAN_OPEN_FLAGS)
		return -EINVAL;
	/* A read-write binding could never be mapped writable: see below */
	if (!(args->flags & SHMCHAN_OPEN_RDONLY) && !h->dev_write)
		return -EBADF;
	return shmchan_bind_named(h, args->name, args, shmchan_find_open);
}

static long shmchan_ioc_destroy(struct shmchan_handle *h, void *arg)
{
	struct shmchan_destroy *args = arg;
	char name[SHMCHAN_NAME_MAX + 1];
	long ret;

	if (args->flags & ~SHMCHAN_DESTROY_FLAGS)
		return -EINVAL;
	if (!h->dev_write)
		return -EBADF;
	ret = shmchan_name_from_user(name, args->name);
	if (ret)
		return ret;
	return shmchan_chan_destroy(name, args->flags);
}

static long shmchan_ioc_stat(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_stat *st = arg;

	if (st->flags)
		return -EINVAL;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	shmchan_chan_fill_stat(chan, st);
	if (h->writable)
		st->state |= SHMCHAN_STATE_WRITABLE;
	if (chan->huge)
		st->state |= SHMCHAN_STATE_HUGE;
	/* A walk of the page cache: only for a caller that has the field */
	if (st->size >= SHMCHAN_STAT_SIZE_VER3)
		st->huge_folios = shmchan_huge_folios(chan);
	return 0;
}

static long shmchan_ioc_wait(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_wait *args = arg;
	long ret;

	ret = shmchan_check_wait_args(args);
	if (ret)
		return ret;
	/* Before it sleeps: a waiter killed in its wait is a dead peer */
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_wait(chan, args);
}

static long shmchan_ioc_wake(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_wake *args = arg;
	long ret;

	ret = shmchan_check_wake_args(args);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_wake(chan, args);
}

static long shmchan_ioc_setattr(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_setattr *args = arg;

	if (args->flags & ~SHMCHAN_SETATTR_FLAGS || args->__reserved)
		return -EINVAL;
	if (!h->dev_write)
		return -EBADF;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_chan_setattr(chan, args);
}

/*
 * The WATCH commands: checked as the other channel commands are (fields,
 * then EBADFD), and each one a use of the handle.
 */
static long shmchan_ioc_watch_add(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_watch *args = arg;
	long ret;

	ret = shmchan_check_watch_args(args, SHMCHAN_WATCH_CMD_ADD);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_watch_add(&h->watches, chan, args);
}

static long shmchan_ioc_watch_arm(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_watch *args = arg;
	long ret;

	ret = shmchan_check_watch_args(args, SHMCHAN_WATCH_CMD_ARM);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_watch_arm(&h->watches, chan, args);
}

static long shmchan_ioc_watch_del(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_watch *args = arg;
	long ret;

	ret = shmchan_check_watch_args(args, SHMCHAN_WATCH_CMD_DEL);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_watch_del(&h->watches, args);
}

static long shmchan_ioc_watch_read(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_watch_read *args = arg;
	long ret;

	ret = shmchan_check_watch_read_args(args);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_watch_read(&h->watches, chan, args);
}

/* On any handle: the entries name the handles waited on (waitv.c) */
static long shmchan_ioc_waitv(struct shmchan_handle *h, void *arg)
{
	return shmchan_waitv(arg);
}

static long shmchan_ioc_resize(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_resize *args = arg;

	if (args->flags & ~SHMCHAN_RESIZE_FLAGS || args->__reserved)
		return -EINVAL;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	/* Writers only, as ftruncate(2) of a file not open for writing */
	if (!h->writable)
		return -EBADF;
	return shmchan_resize(chan, args);
}

static long shmchan_ioc_resize_wait(struct shmchan_handle *h, void *arg)
{
	struct shmchan_channel *chan = shmchan_handle_chan(h);
	struct shmchan_resize_wait *args = arg;
	long ret;

	ret = shmchan_check_resize_wait_args(args->flags, args->__reserved,
					     args->deadline_ns);
	if (ret)
		return ret;
	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	return shmchan_resize_wait(chan, args);
}

/* ---------------------------------------------------------------------- */

/**
 * struct shmchan_ioctl_op - how one command's struct is handled
 * @fn: does the work on the copied-in struct
 * @size: the module's sizeof the struct
 * @min_size: the size of its first published version
 * @copy_out: the struct carries results back to userspace
 */
struct shmchan_ioctl_op {
	long (*fn)(struct shmchan_handle *h, void *arg);
	u32 size;
	u32 min_size;
	bool copy_out;
};

#define SHMCHAN_IOCTL_OP(_cmd, _fn, _struct, _ver0, _out)		\
	[_IOC_NR(_cmd)] = {						\
		.fn = _fn,						\
		.size = sizeof(struct _struct),				\
		.min_size = _ver0,					\
		.copy_out = _out,					\
	}

static const struct shmchan_ioctl_op shmchan_ioctl_ops[] = {
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_FEATURES, shmchan_ioc_features,
			 shmchan_features, SHMCHAN_FEATURES_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_CREATE, shmchan_ioc_create,
			 shmchan_create, SHMCHAN_CREATE_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_OPEN, shmchan_ioc_open,
			 shmchan_open, SHMCHAN_OPEN_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_DESTROY, shmchan_ioc_destroy,
			 shmchan_destroy, SHMCHAN_DESTROY_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_STAT, shmchan_ioc_stat,
			 shmchan_stat, SHMCHAN_STAT_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WAIT, shmchan_ioc_wait,
			 shmchan_wait, SHMCHAN_WAIT_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WAKE, shmchan_ioc_wake,
			 shmchan_wake, SHMCHAN_WAKE_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_SETATTR, shmchan_ioc_setattr,
			 shmchan_setattr, SHMCHAN_SETATTR_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WATCH_ADD, shmchan_ioc_watch_add,
			 shmchan_watch, SHMCHAN_WATCH_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WATCH_ARM, shmchan_ioc_watch_arm,
			 shmchan_watch, SHMCHAN_WATCH_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WATCH_DEL, shmchan_ioc_watch_del,
			 shmchan_watch, SHMCHAN_WATCH_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WATCH_READ, shmchan_ioc_watch_read,
			 shmchan_watch_read, SHMCHAN_WATCH_READ_SIZE_VER0, false),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_WAITV, shmchan_ioc_waitv,
			 shmchan_waitv, SHMCHAN_WAITV_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_RESIZE, shmchan_ioc_resize,
			 shmchan_resize, SHMCHAN_RESIZE_SIZE_VER0, true),
	SHMCHAN_IOCTL_OP(SHMCHAN_IOC_RESIZE_WAIT, shmchan_ioc_resize_wait,
			 shmchan_resize_wait, SHMCHAN_RESIZE_WAIT_SIZE_VER0, true),
};

/* Room for the largest argument struct. */
union shmchan_ioctl_buf {
	struct shmchan_features features;
	struct shmchan_create create;
	struct shmchan_open open;
	struct shmchan_destroy destroy;
	struct shmchan_stat stat;
	struct shmchan_wait wait;
	struct shmchan_wake wake;
	struct shmchan_setattr setattr;
	struct shmchan_watch watch;
	struct shmchan_watch_read watch_read;
	struct shmchan_waitv waitv;
	struct shmchan_resize resize;
	struct shmchan_resize_wait resize_wait;
};

/*
 * Copy results back for the part of the struct both sides know. Any longer
 * tail was checked to be zero on the way in, so it reads as "unknown" to a
 * newer program.
 */
static int shmchan_copy_out(void __user *uarg, u32 usize, const void *kbuf,
			    u32 ksize)
{
	if (copy_to_user(uarg, kbuf, min(usize, ksize)))
		return -EFAULT;
	return 0;
}

static long shmchan_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct shmchan_handle *h = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct shmchan_ioctl_op *op;
	union shmchan_ioctl_buf buf;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize;
	long ret;

	/* Dispatch on type and number: the size bits vary with the struct. */
	if (_IOC_TYPE(cmd) != SHMCHAN_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(shmchan_ioctl_ops) || !shmchan_ioctl_ops[nr].fn)
		return -ENOTTY;
	op = &shmchan_ioctl_ops[nr];

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	ret = shmchan_copy_args(&buf, op->size, op->min_size, uarg, usize);
	if (ret)
		return ret;
	/*
	 * Find out now, before anything is done, that the results can be
	 * written back: a CREATE or OPEN must not bind the handle (or make a
	 * channel) and then fail with EFAULT. Only a racing munmap() by the
	 * caller itself can still make the final copy fail.
	 */
	if (op->copy_out && shmchan_copy_out(uarg, usize, &buf, op->size))
		return -EFAULT;

	ret = op->fn(h, &buf);
	if (ret < 0 || !op->copy_out)
		return ret;
	return shmchan_copy_out(uarg, usize, &buf, op->size) ?: ret;
}

/* ---------------------------------------------------------------------- */

static int shmchan_open_file(struct inode *inode, struct file *file)
{
	struct shmchan_handle *h;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	mutex_init(&h->bind_lock);
	shmchan_handle_users_init(h);
	shmchan_watches_init(&h->watches);
	/*
	 * The device node's mode says who may change the set of channels:
	 * CREATE, DESTROY and SETATTR, like write(2), want a file opened for
	 * writing (EBADF otherwise, as block devices answer BLKDISCARD on a
	 * read-only file). OPEN, STAT, WAIT, WAKE and mmap of what is opened
	 * are governed by each channel's own mode. A read-write OPEN wants it
	 * too: mmap() with PROT_WRITE of a file not opened for writing fails
	 * in the mm core before the module sees it, so such a binding would
	 * only claim a write access it can never use.
	 */
	h->dev_write = file->f_mode & FMODE_WRITE;
	file->private_data = h;
	return 0;
}

static int shmchan_release_file(struct inode *inode, struct file *file)
{
	struct shmchan_handle *h = file->private_data;

	/* Before the channel may go: a watch's entry points to it */
	shmchan_watches_release(&h->watches);
	if (h->chan)
		shmchan_chan_unbind(h->chan);
	shmchan_handle_users_destroy(h);
	mutex_destroy(&h->bind_lock);
	kfree(h);
	/*
	 * The last descriptor of a handle often goes at its holder's exit,
	 * just before (or, from a delayed fput, just after) the holder drops
	 * its IPC namespace: a sweep soon (ns.c).
	 */
	shmchan_ns_kick();
	return 0;
}

static int shmchan_fd_is(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/*
 * Every close of a descriptor of the handle, in the context of the process
 * whose table held it (close(), dup2() over it, exec's close-on-exec, the
 * table's teardown at exit).
 *
 * At exit (the last thread's exit_files(), before its parent can reap it)
 * a process that used the handle is a dead peer: one death, even if it
 * held the handle in several descriptors, whose later flushes find no
 * entry. A process that never used it (a helper forked with it, its
 * descriptors close-on-exec or not) is none.
 *
 * Otherwise the process lets go of one descriptor: once its table holds
 * none, its entry goes, so a process that closed the handle is no peer at
 * its exit, and the set stays bounded by the processes that hold it. A
 * close racing a use in another thread can leave an entry behind; it is
 * dropped with the handle or when the number is reused.
 */
static int shmchan_flush_file(struct file *file, fl_owner_t id)
{
	struct shmchan_handle *h = file->private_data;
	struct shmchan_channel *chan = shmchan_handle_chan(h);

	if (!chan)
		return 0;
	if (current->flags & PF_EXITING) {
		/*
		 * Only the death of the whole process: a thread that unshared
		 * its descriptor table (unshare(CLONE_FILES)) tears it down
		 * alone while its process lives on, keeping its entry. do_exit()
		 * brings signal->live to 0 before exit_files() of the last
		 * thread.
		 */
		if (atomic_read(&current->signal->live))
			return 0;
		if (shmchan_handle_forget_user(h) || READ_ONCE(h->untracked))
			shmchan_chan_note_death(chan);
		/* The last task of an IPC namespace may be going (ns.c) */
		shmchan_ns_kick();
		return 0;
	}
	/*
	 * A closer that never used @h has no entry to drop: no scan of its
	 * table (a helper closing inherited descriptors costs nothing).
	 * Otherwise @id is the table the descriptor was in, gone from it
	 * already: the entry goes once no other descriptor holds @h.
	 */
	if (!shmchan_handle_is_user(h))
		return 0;
	if (id && !iterate_fd(id, 0, shmchan_fd_is, file))
		shmchan_handle_forget_user(h);
	return 0;
}

static int shmchan_mmap_file(struct file *file, struct vm_area_struct *vma)
{
	struct shmchan_handle *h = file->private_data;
	struct shmchan_channel *chan = shmchan_handle_chan(h);

	if (!shmchan_handle_use(h, chan))
		return -EBADFD;
	/* Channels end at or below SHMCHAN_STATUS_OFFSET (rules.h). */
	if (vma->vm_pgoff >= SHMCHAN_STATUS_OFFSET >> PAGE_SHIFT)
		return shmchan_status_mmap(chan, vma);
	return shmchan_mmap_channel(chan, h->writable, vma);
}

/* Watches' readiness (watch.c); not a use of the handle */
static __poll_t shmchan_poll_file(struct file *file, poll_table *pt)
{
	struct shmchan_handle *h = file->private_data;

	return shmchan_watch_poll(&h->watches, shmchan_handle_chan(h), file, pt);
}

static const struct file_operations shmchan_fops = {
	.owner = THIS_MODULE,
	.open = shmchan_open_file,
	.flush = shmchan_flush_file,
	.release = shmchan_release_file,
	.unlocked_ioctl = shmchan_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = shmchan_mmap_file,
	.poll = shmchan_poll_file,
	/* PMD-aligned addresses for large mappings (huge.c) */
	.get_unmapped_area = shmchan_get_unmapped_area,
	.llseek = noop_llseek,
};

static struct miscdevice shmchan_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "shmchan",
	.fops = &shmchan_fops,
	.mode = 0666,
};

static int __init shmchan_init(void)
{
	int ret;

	shmchan_wait_init();
	shmchan_limits_init();
	shmchan_registry_init();
	shmchan_huge_init();
	ret = shmchan_proc_init();
	if (ret) {
		pr_err("cannot create /proc/shmchan: %d\n", ret);
		goto put_huge;
	}
	ret = misc_register(&shmchan_miscdev);
	if (ret) {
		pr_err("cannot register /dev/shmchan: %d\n", ret);
		goto remove_proc;
	}
	return 0;

remove_proc:
	shmchan_proc_exit();
put_huge:
	shmchan_huge_exit();
	return ret;
}

static void __exit shmchan_exit(void)
{
	misc_deregister(&shmchan_miscdev);
	shmchan_proc_exit();
	shmchan_ns_exit();
	shmchan_registry_exit();
	shmchan_huge_exit();
}

module_init(shmchan_init);
module_exit(shmchan_exit);

MODULE_DESCRIPTION("Named shared-memory channels with wait/wake");
MODULE_LICENSE("GPL");
