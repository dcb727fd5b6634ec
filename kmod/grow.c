// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan: growing (and shrinking) a channel while it is mapped.
 *
 * A channel's reserve (->max_length, fixed at CREATE) is how far it may be
 * mapped; its length is how much of it exists. The length is the shmem
 * file's i_size, and shmem's own fault path refuses every page at or past
 * i_size with SIGBUS before it looks a page up (shmem_get_folio_gfp() with
 * SGP_CACHE; filemap's fault-around stops at i_size too). So a mapping
 * of the reserve needs nothing of ours past the length: a fault there is
 * SIGBUS and installs no PTE, and once RESIZE raised i_size the next
 * access faults again and gets the page. No stale entry can exist past
 * the length because none was ever made there.
 *
 * The size is changed with notify_change(ATTR_SIZE) under the inode lock,
 * as ftruncate(2) does, so that shmem does its part: the overcommit
 * accounting of a file set up without VM_NORESERVE (shmem_reacct_size(),
 * ENOMEM), and, for a shrink, unmapping and truncating the pages past
 * the new end (twice, against racing faults).
 *
 * Order of a grow: limits, then i_size, then ->length, then the status
 * page's length and generation, then the wake-up. Whoever reads the new
 * ->length (WAIT's checks, STAT) finds i_size raised already. A shrink
 * goes the other way: ->length first (under the wait_lock, see
 * shmchan_wait_any_past()), then i_size, then the limits.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/stddef.h>
#include <linux/wait.h>

#include "compat.h"
#include "internal.h"
#include "rules.h"

/* The kernel's words must be where userspace reads them. */
static_assert(offsetof(struct shmchan_status_words, generation) ==
	      offsetof(struct shmchan_status, generation));
static_assert(offsetof(struct shmchan_status_words, length) ==
	      offsetof(struct shmchan_status, length));

/**
 * shmchan_grow_init - set up a new channel's reserve and resize state
 * @chan: the channel being made; ->length and its status page are set
 * @max_length: its reserve, checked, at least ->length
 */
void shmchan_grow_init(struct shmchan_channel *chan, u64 max_length)
{
	chan->max_length = max_length;
	mutex_init(&chan->resize_lock);
	init_waitqueue_head(&chan->resize_wq);
	WRITE_ONCE(chan->status->length, chan->length);
}

/*
 * The generation, then the length: a length read after a generation is
 * that generation's or a later one's (the writer sets the length first,
 * then raises the generation with release semantics).
 */
static u32 shmchan_grow_snapshot(struct shmchan_channel *chan, u64 *length)
{
	u32 gen = atomic_read_acquire(&chan->status->generation);

	*length = shmchan_chan_length(chan);
	return gen;
}

/**
 * shmchan_grow_fill_stat - STAT's length, reserve and generation
 * @chan: the channel
 * @st: the STAT being filled in
 */
void shmchan_grow_fill_stat(struct shmchan_channel *chan,
			    struct shmchan_stat *st)
{
	st->generation = shmchan_grow_snapshot(chan, &st->length);
	st->max_length = chan->max_length;
	st->__reserved = 0;
}

/*
 * Whether any VMA of the channel, in any process, reaches at or past
 * @length. Every mapping of the channel is a VMA on the shmem inode's
 * i_mmap tree (the views share its address_space); the status page is
 * not. Walked in order under i_mmap_rwsem: a rare call, as long as the
 * channel's mappings are many. A VMA linked after the walk was made by
 * an mmap() that raced the shrink: it faults SIGBUS past the new end.
 */
static bool shmchan_grow_mapped_past(struct shmchan_channel *chan, u64 length)
{
	struct address_space *mapping = chan->shm_file->f_mapping;
	pgoff_t end = length >> PAGE_SHIFT;
	struct rb_node *node;
	bool past = false;

	down_read(&mapping->i_mmap_rwsem);
	for (node = rb_first_cached(&mapping->i_mmap); node;
	     node = rb_next(node)) {
		struct vm_area_struct *vma =
			rb_entry(node, struct vm_area_struct, shared.rb);

		if (vma->vm_pgoff + vma_pages(vma) > end) {
			past = true;
			break;
		}
	}
	up_read(&mapping->i_mmap_rwsem);
	return past;
}

/* Set the shmem file's size, as ftruncate() would; the caller checked it. */
static int shmchan_grow_set_size(struct shmchan_channel *chan, u64 length)
{
	struct dentry *dentry = chan->shm_file->f_path.dentry;
	struct inode *inode = d_inode(dentry);
	struct iattr attr = {
		.ia_valid = ATTR_SIZE,
		.ia_size = length,
	};
	int ret;

	inode_lock(inode);
	ret = shmchan_notify_change(dentry, &attr);
	inode_unlock(inode);
	/* shmem's overcommit accounting says ENOMEM; ENOSPC would be ours */
	return ret == -ENOSPC ? -ENOMEM : ret;
}

/* The length is @length now: tell the status page and the waiters. */
static void shmchan_grow_publish(struct shmchan_channel *chan, u64 length)
{
	lockdep_assert_held(&chan->resize_lock);

	WRITE_ONCE(chan->status->length, length);
	/* Pairs with shmchan_grow_snapshot(): the length before the count */
	atomic_inc_return_release(&chan->status->generation);
	/*
	 * The race not to lose: a RESIZE_WAIT that read the old generation
	 * and is about to sleep. It queues itself on ->resize_wq under the
	 * queue's lock, then (full barrier) compares the generation. We
	 * raised the generation above, before taking that lock here: either
	 * the waiter queued first and is woken now, or it takes the lock
	 * after us and its compare sees the new generation.
	 */
	wake_up_all(&chan->resize_wq);
}

static int shmchan_grow_up(struct shmchan_channel *chan, u64 old, u64 new)
{
	unsigned long fsize = rlimit(RLIMIT_FSIZE);
	int ret;

	/*
	 * Checked here first so that the caller gets EFBIG, as from
	 * ftruncate(), but no SIGXFSZ from inode_newsize_ok().
	 */
	if (fsize != RLIM_INFINITY && new > fsize)
		return -EFBIG;
	ret = shmchan_limits_resize(chan, old, new);
	if (ret)
		return ret;
	ret = shmchan_grow_set_size(chan, new);
	if (ret) {
		shmchan_limits_resize(chan, new, old);
		return ret;
	}
	WRITE_ONCE(chan->length, new);
	return 0;
}

static int shmchan_grow_down(struct shmchan_channel *chan, u64 old, u64 new)
{
	bool busy;
	int ret;

	if (shmchan_grow_mapped_past(chan, new))
		return -EBUSY;
	/* No WAIT may queue past @new from here on: see shmchan_wait_queue() */
	spin_lock(&chan->wait_lock);
	busy = shmchan_wait_any_past(chan, new);
	if (!busy)
		WRITE_ONCE(chan->length, new);
	spin_unlock(&chan->wait_lock);
	if (busy)
		return -EBUSY;

	ret = shmchan_grow_set_size(chan, new);
	if (WARN_ON_ONCE(ret)) {
		/* shmem does not refuse a shrink; keep the old length if it did */
		WRITE_ONCE(chan->length, old);
		return ret;
	}
	shmchan_limits_resize(chan, old, new);
	return 0;
}

/**
 * shmchan_resize - SHMCHAN_IOC_RESIZE on @chan
 * @chan: the handle's channel; the handle is read-write
 * @args: flags checked; the out fields are filled in on success
 *
 * Return: 0, or -EINVAL, -EFBIG, -EBUSY, -ENOSPC, -EDQUOT, -ENOMEM, -EIDRM,
 * -EINTR (see struct shmchan_resize).
 */
int shmchan_resize(struct shmchan_channel *chan, struct shmchan_resize *args)
{
	u64 old, new;
	int ret;

	ret = shmchan_check_resize_length(args->length, chan->max_length, &new);
	if (ret)
		return ret;
	/* Another RESIZE may run for long (a shrink's truncation): killable */
	if (mutex_lock_killable(&chan->resize_lock))
		return -EINTR;
	if (shmchan_chan_revoked(chan)) {
		ret = -EIDRM;
		goto unlock;
	}
	old = chan->length;
	if (new == old || (new < old && (args->flags & SHMCHAN_RESIZE_GROW)))
		goto done;
	/*
	 * A HUGE channel shrinks by whole huge folios only: one cut in two
	 * must be split, and a split can fail (a page pinned or just looked
	 * up); the whole folio would then stay, and a PMD mapping of it
	 * would reach past the new length without SIGBUS.
	 */
	if (new < old && chan->huge && !IS_ALIGNED(new, PMD_SIZE)) {
		ret = -EINVAL;
		goto unlock;
	}
	ret = new > old ? shmchan_grow_up(chan, old, new) :
			  shmchan_grow_down(chan, old, new);
	if (ret)
		goto unlock;
	shmchan_grow_publish(chan, new);
done:
	args->length = chan->length;
	args->max_length = chan->max_length;
	args->generation = atomic_read(&chan->status->generation);
unlock:
	mutex_unlock(&chan->resize_lock);
	return ret;
}

/* Whether a RESIZE_WAIT for a change from @gen is over, and how. */
static int shmchan_resize_wait_done(struct shmchan_channel *chan, u32 gen)
{
	if (shmchan_chan_revoked(chan))
		return -EIDRM;
	if (atomic_read(&chan->status->generation) != gen)
		return 0;
	return -EAGAIN;
}

/**
 * shmchan_resize_wait - SHMCHAN_IOC_RESIZE_WAIT on @chan
 * @chan: the handle's channel
 * @args: checked; ->generation and ->length are filled in on success
 *
 * Return: 0, or -ETIMEDOUT, -ERESTARTSYS, -EIDRM.
 */
int shmchan_resize_wait(struct shmchan_channel *chan,
			struct shmchan_resize_wait *args)
{
	ktime_t deadline, *deadlinep = NULL;
	DEFINE_WAIT(wait);
	int ret;

	if (args->flags & SHMCHAN_WAIT_DEADLINE) {
		deadline = shmchan_wait_deadline(args->deadline_ns);
		deadlinep = &deadline;
	}
	for (;;) {
		/*
		 * Queue, then compare: see shmchan_grow_publish() for why a
		 * resize between the caller's read of the generation and
		 * this sleep is never missed. A revoke sets its bit, then
		 * wakes the queue the same way (shmchan_grow_revoke()).
		 */
		prepare_to_wait(&chan->resize_wq, &wait, TASK_INTERRUPTIBLE);
		ret = shmchan_resize_wait_done(chan, args->generation);
		if (ret != -EAGAIN)
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (!schedule_hrtimeout_range(deadlinep, current->timer_slack_ns,
					      HRTIMER_MODE_ABS)) {
			/* Timed out, unless the change came meanwhile */
			ret = shmchan_resize_wait_done(chan, args->generation);
			if (ret == -EAGAIN)
				ret = -ETIMEDOUT;
			break;
		}
	}
	finish_wait(&chan->resize_wq, &wait);
	if (ret)
		return ret;
	args->generation = shmchan_grow_snapshot(chan, &args->length);
	return 0;
}

/**
 * shmchan_grow_revoke - end every RESIZE_WAIT on @chan with -EIDRM
 * @chan: a channel whose SHMCHAN_STATE_REVOKED bit is set
 *
 * The bit was set before this wake-up: a waiter queued already is woken
 * and sees it, one that queues later sees it when it compares.
 */
void shmchan_grow_revoke(struct shmchan_channel *chan)
{
	wake_up_all(&chan->resize_wq);
}
