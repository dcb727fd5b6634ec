// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan wait/wake on 32-bit words of a channel.
 *
 * Waiters queue in a global hash of buckets keyed by (channel, offset), as
 * futexes do, so a wake only looks at the waiters that share its bucket,
 * however many wait on other words. A waiter reads the word under its
 * bucket's lock and queues itself before dropping it; a waker takes the same
 * lock, so a wake that follows a change of the word always finds every
 * waiter that saw the old value.
 *
 * Each waiter is also on its channel's list of waiters (chan->waiters, under
 * chan->wait_lock, taken outside the bucket lock), so that a revoke or a
 * death notice ends the waits of that one channel without looking at any
 * other channel's waiters. WAKE does not touch that list or its lock: its
 * cost stays one bucket lock.
 *
 * Who takes a waiter off which list:
 *  - WAKE, under the bucket lock: off the bucket's list, then it sets the
 *    state (SHMCHAN_WAITER_WOKEN); the waiter leaves the channel's list
 *    itself, under chan->wait_lock.
 *  - a sweep (revoke, death), under chan->wait_lock and the bucket lock:
 *    off both lists, then it sets the state; the waiter, seeing that state,
 *    returns without taking any lock.
 *  - the waiter itself, for a timeout or a signal: off both, under both.
 * Every waker sets the state last (release) and touches the waiter no more:
 * the entry lives on the waiter's stack (or in its WAITV array, waitv.c),
 * and it is valid for as long as the waiter is on a list a waker may walk
 * under a lock the waiter takes again before it returns.
 *
 * A queued entry may also be a watch (watch.c: ->watch set, no task): a
 * waiter that belongs to a handle instead of a sleeping task, armed with
 * shmchan_waiter_arm() and taken off with shmchan_waiter_disarm() by its
 * owner. WAKE and the sweeps treat it as any waiter (it counts against a
 * WAKE's count, in queue order), but ending its wait marks it fired and
 * wakes its handle's pollers (shmchan_watch_fire()), under the bucket
 * lock, instead of waking a task. It stays allocated until its owner has
 * disarmed it, which takes both locks: that is what keeps a waker from
 * touching a freed watch.
 */
#include <linux/cache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/spinlock.h>

#include "internal.h"
#include "rules.h"

#define SHMCHAN_WAIT_HASH_BITS	8

/**
 * struct shmchan_wait_bucket - waiters whose (channel, offset) hash here
 * @lock: protects @waiters and the ->state of every waiter on it
 * @waiters: struct shmchan_waiter, oldest first
 */
struct shmchan_wait_bucket {
	/*
	 * Innermost lock; protects @waiters and their ->state, which is
	 * written under it; a waiter reads it without the lock (acquire) once
	 * it is no longer SHMCHAN_WAITER_QUEUED, see shmchan_waiter_finish().
	 */
	spinlock_t lock;
	struct list_head waiters;
} ____cacheline_aligned_in_smp;

/* Wakeups a waker keeps for after it dropped the bucket lock */
#define SHMCHAN_WAKE_BATCH	16

/**
 * struct shmchan_wake_batch - tasks to wake once the bucket lock is dropped
 * @n: entries in @tasks
 * @tasks: each with a task reference, put once woken
 *
 * A task woken while its waker still holds the bucket lock would run
 * straight into that lock; past the batch's size they are woken at once.
 */
struct shmchan_wake_batch {
	unsigned int n;
	struct task_struct *tasks[SHMCHAN_WAKE_BATCH];
};

static struct shmchan_wait_bucket shmchan_wait_table[1 << SHMCHAN_WAIT_HASH_BITS];

void shmchan_wait_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shmchan_wait_table); i++) {
		spin_lock_init(&shmchan_wait_table[i].lock);
		INIT_LIST_HEAD(&shmchan_wait_table[i].waiters);
	}
}

static struct shmchan_wait_bucket *
shmchan_wait_bucket(const struct shmchan_channel *chan, u64 offset)
{
	u64 key = (u64)(unsigned long)chan ^ (offset * GOLDEN_RATIO_64);

	return &shmchan_wait_table[hash_64(key, SHMCHAN_WAIT_HASH_BITS)];
}

/* A word must be aligned, wholly inside the channel, and not revoked. */
static int shmchan_check_word(const struct shmchan_channel *chan, u64 offset)
{
	int ret;

	ret = shmchan_check_word_offset(shmchan_chan_length(chan), offset);
	if (ret)
		return ret;
	if (shmchan_chan_revoked(chan))
		return -EIDRM;
	return 0;
}

/*
 * Take @w off its bucket (and, for a sweep, which holds the channel's
 * wait_lock, off the channel's list too) with its new @state, and wake its
 * task, now or, with a @batch that has room, once the caller dropped the
 * locks.
 */
static void shmchan_waiter_finish(struct shmchan_wait_bucket *hb,
				  struct shmchan_waiter *w, int state,
				  struct shmchan_wake_batch *batch, bool sweep)
{
	struct task_struct *task = w->task;

	lockdep_assert_held(&hb->lock);

	list_del_init(&w->node);
	if (sweep) {
		lockdep_assert_held(&w->chan->wait_lock);
		list_del_init(&w->chan_node);
	}
	atomic_dec(&w->chan->nwaiters);
	if (w->watch) {
		/*
		 * A watch has no task and no stack frame that goes away: its
		 * owner frees it only after taking it off every list under
		 * this lock (shmchan_waiter_disarm()), so it is marked fired
		 * and its handle's pollers woken here, under the lock.
		 */
		WRITE_ONCE(w->state, state);
		shmchan_watch_fire(w, state);
		return;
	}
	/* The task may exit as soon as it sees its state: hold it */
	get_task_struct(task);
	/*
	 * The last access to @w, which lives on the waiter's stack: seeing
	 * the new state, the waiter returns without taking the lock.
	 */
	smp_store_release(&w->state, state);
	if (batch && batch->n < ARRAY_SIZE(batch->tasks)) {
		batch->tasks[batch->n++] = task;
		return;
	}
	wake_up_process(task);
	put_task_struct(task);
}

/* Wake what shmchan_waiter_finish() kept in @batch; no lock held. */
static void shmchan_wake_batch_run(struct shmchan_wake_batch *batch)
{
	unsigned int i;

	for (i = 0; i < batch->n; i++) {
		wake_up_process(batch->tasks[i]);
		put_task_struct(batch->tasks[i]);
	}
}

static u32 shmchan_read_word(struct page *page, u64 offset)
{
	u32 *kaddr = kmap_local_page(page);
	u32 val = READ_ONCE(kaddr[offset_in_page(offset) / sizeof(u32)]);

	kunmap_local(kaddr);
	return val;
}

/*
 * Queue @w unless the channel was revoked, a death the caller has not seen
 * happened, or the word moved on. A revoke or a death notice sets what is
 * checked here, then sweeps the channel's list under chan->wait_lock, which
 * is held here from the check until @w is on that list: either the check
 * sees the new state, or the sweep (taking the lock after us) finds @w.
 * The bucket lock makes the same promise to WAKE for the word.
 */
static int shmchan_wait_queue(struct shmchan_wait_bucket *hb,
			      struct shmchan_waiter *w, struct page *page,
			      u32 expected, u32 deaths)
{
	struct shmchan_channel *chan = w->chan;
	int ret = 0;

	spin_lock(&chan->wait_lock);
	spin_lock(&hb->lock);
	/*
	 * A hole punched since the page was looked up leaves it orphaned:
	 * its word is no longer the channel's. Checked under the bucket lock,
	 * so any later write by userspace lands in a page a waker finds us
	 * queued for. The folio's mapping, not the page's: a tail page of a
	 * huge shmem folio has none of its own (shmem_enabled in sysfs), and
	 * our reference keeps the folio from being split meanwhile.
	 */
	if (READ_ONCE(page_folio(page)->mapping) != chan->shm_file->f_mapping)
		ret = -ESTALE;
	else if (shmchan_chan_revoked(chan))
		ret = -EIDRM;
	/*
	 * A shrink sets the length under the wait_lock once it found no
	 * waiter past it (shmchan_wait_any_past()): either it sees us, or
	 * we see its length here, and never sleep on a word it frees.
	 */
	else if (shmchan_check_word_offset(shmchan_chan_length(chan), w->offset))
		ret = -EINVAL;
	else if (w->deaths && shmchan_chan_deaths(chan) != deaths)
		ret = -EOWNERDEAD;
	else if (shmchan_read_word(page, w->offset) != expected)
		ret = -EAGAIN;
	if (!ret) {
		list_add_tail(&w->node, &hb->waiters);
		list_add_tail(&w->chan_node, &chan->waiters);
		/* Counted while queued: a STAT that sees it may WAKE it. */
		atomic_inc(&chan->nwaiters);
	}
	spin_unlock(&hb->lock);
	spin_unlock(&chan->wait_lock);
	return ret;
}

/* Sleep until woken, revoked, signalled or past the deadline. */
static void shmchan_wait_sleep(struct shmchan_waiter *w, ktime_t *deadline)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* Pairs with the release in shmchan_waiter_finish() */
		if (smp_load_acquire(&w->state) != SHMCHAN_WAITER_QUEUED ||
		    signal_pending(current))
			break;
		if (!schedule_hrtimeout_range(deadline, current->timer_slack_ns,
					      HRTIMER_MODE_ABS))
			break;
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Leave the lists still holding @w; the result follows from how the wait
 * ended. Revoked or told of a death: the sweep took @w off both lists and
 * is done with it, no lock needed. Woken: off the bucket's list, still on
 * the channel's. Timed out or signalled: maybe still on both, and a waker
 * may be about to end the wait; under both locks the state read is final.
 */
static int shmchan_wait_dequeue(struct shmchan_wait_bucket *hb,
				struct shmchan_waiter *w)
{
	struct shmchan_channel *chan = w->chan;
	/* Pairs with the release in shmchan_waiter_finish() */
	int state = smp_load_acquire(&w->state);

	if (state == SHMCHAN_WAITER_QUEUED || state == SHMCHAN_WAITER_WOKEN) {
		spin_lock(&chan->wait_lock);
		if (state == SHMCHAN_WAITER_QUEUED) {
			spin_lock(&hb->lock);
			state = w->state;
			if (state == SHMCHAN_WAITER_QUEUED) {
				list_del(&w->node);
				atomic_dec(&chan->nwaiters);
			}
			spin_unlock(&hb->lock);
		}
		/* A sweep that ended the wait meanwhile unlinked it already */
		list_del_init(&w->chan_node);
		spin_unlock(&chan->wait_lock);
	}
	switch (state) {
	case SHMCHAN_WAITER_WOKEN:
		return 0;
	case SHMCHAN_WAITER_REVOKED:
		return -EIDRM;
	case SHMCHAN_WAITER_PEER_DIED:
		return -EOWNERDEAD;
	default:
		return signal_pending(current) ? -ERESTARTSYS : -ETIMEDOUT;
	}
}

/**
 * shmchan_waiter_queue - queue @w on its word, unless the word moved on
 * @w: a waiter with ->chan, ->offset (checked), ->task, ->deaths set and
 *	->state SHMCHAN_WAITER_QUEUED
 * @expected: queue only while the word holds this
 * @deaths: with ->deaths, queue only while the channel's death count is this
 *
 * Takes @w's channel wait_lock, then its bucket lock, and drops both. On
 * success @w is on both lists until shmchan_waiter_dequeue(), which the
 * caller must call before @w goes away, however the wait ended.
 *
 * Return: 0, or -EIDRM, -EOWNERDEAD, -EAGAIN, -EINTR, -ENOMEM; on error @w
 * is on no list.
 */
int shmchan_waiter_queue(struct shmchan_waiter *w, u32 expected, u32 deaths)
{
	struct shmchan_channel *chan = w->chan;
	struct shmchan_wait_bucket *hb = shmchan_wait_bucket(chan, w->offset);
	struct page *page;
	int ret;

	if (w->deaths) {
		atomic_inc(&chan->ndeathwaiters);
		/* Pairs with shmchan_wait_notify_death(): see it or be seen */
		smp_mb__after_atomic();
	}
	for (;;) {
		/* Pin the word's page (allocating it if never touched). */
		page = shmem_read_mapping_page(chan->shm_file->f_mapping,
					       w->offset >> PAGE_SHIFT);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		ret = shmchan_wait_queue(hb, w, page, expected, deaths);
		put_page(page);
		if (ret != -ESTALE)
			break;
		/*
		 * Raced with a hole punch: look the page up again, but never
		 * spin unkillable should that keep happening.
		 */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	if (ret && w->deaths)
		atomic_dec(&chan->ndeathwaiters);
	return ret;
}

/**
 * shmchan_waiter_dequeue - take @w off the lists it may still be on
 * @w: a waiter shmchan_waiter_queue() queued
 *
 * Return: 0 if WAKE woke @w, -EIDRM (revoked), -EOWNERDEAD (a death), else
 * -ERESTARTSYS with a signal pending or -ETIMEDOUT. The result is final:
 * no waker touches @w once this returns.
 */
int shmchan_waiter_dequeue(struct shmchan_waiter *w)
{
	int ret;

	ret = shmchan_wait_dequeue(shmchan_wait_bucket(w->chan, w->offset), w);
	if (w->deaths)
		atomic_dec(&w->chan->ndeathwaiters);
	return ret;
}

/**
 * shmchan_waiter_pending - @w is still queued, no waker ended its wait yet
 * @w: a queued waiter of the calling task
 *
 * Pairs with the release in shmchan_waiter_finish(): once false, the state
 * shmchan_waiter_dequeue() reports is the one the waker set.
 */
bool shmchan_waiter_pending(const struct shmchan_waiter *w)
{
	/* Pairs with the release in shmchan_waiter_finish() */
	return smp_load_acquire(&w->state) == SHMCHAN_WAITER_QUEUED;
}

/**
 * shmchan_wait - SHMCHAN_IOC_WAIT on @chan
 * @chan: the handle's channel
 * @args: the checked arguments
 *
 * Return: 0 when woken, or -EINVAL, -EIDRM, -EOWNERDEAD, -EAGAIN,
 * -ETIMEDOUT, -ERESTARTSYS, -ENOMEM (see struct shmchan_wait).
 */
int shmchan_wait(struct shmchan_channel *chan, const struct shmchan_wait *args)
{
	struct shmchan_waiter w = {
		.chan = chan,
		.offset = args->offset,
		.task = current,
		.state = SHMCHAN_WAITER_QUEUED,
		.deaths = args->flags & SHMCHAN_WAIT_DEATHS,
	};
	ktime_t deadline, *deadlinep = NULL;
	int ret;

	ret = shmchan_check_word(chan, args->offset);
	if (ret)
		return ret;
	if (args->flags & SHMCHAN_WAIT_DEADLINE) {
		deadline = shmchan_wait_deadline(args->deadline_ns);
		deadlinep = &deadline;
	}

	ret = shmchan_waiter_queue(&w, args->expected, args->deaths);
	if (ret)
		return ret;
	shmchan_wait_sleep(&w, deadlinep);
	return shmchan_waiter_dequeue(&w);
}

/**
 * shmchan_waiter_arm - queue a waiter that does not sleep: a watch
 * @w: the entry, its ->chan, ->offset, ->deaths and ->watch set, on no list
 * @expected: queue only while the word holds this value
 * @deaths: with ->deaths, queue only while the death count is this
 *
 * As WAIT queues a task, under the same locks and with the same checks,
 * but returns at once: from here on a WAKE of the word or a sweep may end
 * the wait (shmchan_waiter_finish() calls shmchan_watch_fire()) until the
 * owner calls shmchan_waiter_disarm(). A caller with ->deaths raised
 * chan->ndeathwaiters, then a full barrier, as shmchan_wait() does.
 *
 * Return: 0 queued, or (not queued) -EAGAIN (the word differs),
 * -EOWNERDEAD, -EIDRM, -ENOMEM or -EINTR (a fatal signal).
 */
int shmchan_waiter_arm(struct shmchan_waiter *w, u32 expected, u32 deaths)
{
	struct shmchan_wait_bucket *hb = shmchan_wait_bucket(w->chan, w->offset);
	struct page *page;
	int ret;

	w->state = SHMCHAN_WAITER_QUEUED;
	for (;;) {
		page = shmem_read_mapping_page(w->chan->shm_file->f_mapping,
					       w->offset >> PAGE_SHIFT);
		if (IS_ERR(page))
			return PTR_ERR(page);
		ret = shmchan_wait_queue(hb, w, page, expected, deaths);
		put_page(page);
		if (ret != -ESTALE)
			return ret;
		/* A hole punch raced the lookup: as in shmchan_wait() */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

/**
 * shmchan_waiter_disarm - take a watch's entry off every list
 * @w: an entry shmchan_waiter_arm() queued, or one on no list (its
 *	->node and ->chan_node initialized)
 *
 * Under the channel's wait_lock and the bucket lock, so that once this
 * returns no WAKE or sweep can reach @w: its owner may re-arm or free it.
 * A WAKE leaves a woken entry on the channel's list (it may not take the
 * wait_lock); it goes here.
 *
 * Return: true if @w was still queued (no waker had ended its wait).
 */
bool shmchan_waiter_disarm(struct shmchan_waiter *w)
{
	struct shmchan_channel *chan = w->chan;
	struct shmchan_wait_bucket *hb = shmchan_wait_bucket(chan, w->offset);
	bool queued = false;

	spin_lock(&chan->wait_lock);
	spin_lock(&hb->lock);
	if (!list_empty(&w->node)) {
		list_del_init(&w->node);
		atomic_dec(&chan->nwaiters);
		queued = true;
	}
	spin_unlock(&hb->lock);
	list_del_init(&w->chan_node);
	spin_unlock(&chan->wait_lock);
	return queued;
}

/**
 * shmchan_wake - SHMCHAN_IOC_WAKE on @chan
 * @chan: the handle's channel
 * @args: the checked arguments
 *
 * Return: the number of waiters woken, -EINVAL or -EIDRM.
 */
int shmchan_wake(struct shmchan_channel *chan, const struct shmchan_wake *args)
{
	u32 count = min_t(u32, args->count, INT_MAX);
	struct shmchan_wake_batch batch = { .n = 0 };
	struct shmchan_wait_bucket *hb;
	struct shmchan_waiter *w, *tmp;
	int woken = 0;
	int ret;

	ret = shmchan_check_word(chan, args->offset);
	if (ret)
		return ret;

	hb = shmchan_wait_bucket(chan, args->offset);
	spin_lock(&hb->lock);
	list_for_each_entry_safe(w, tmp, &hb->waiters, node) {
		if (woken == count)
			break;
		if (w->chan != chan || w->offset != args->offset)
			continue;
		shmchan_waiter_finish(hb, w, SHMCHAN_WAITER_WOKEN, &batch,
				      false);
		woken++;
	}
	spin_unlock(&hb->lock);
	shmchan_wake_batch_run(&batch);
	return woken;
}

/*
 * End the waits on @chan, whatever their word, with @state: all of them,
 * or only those that asked for death notices. Only @chan's own waiters are
 * looked at, each under its bucket's lock; a waiter already woken by WAKE
 * (still on the list until it runs) is left to return 0.
 */
static void shmchan_wait_sweep(struct shmchan_channel *chan, int state,
			       bool deaths_only)
{
	struct shmchan_wake_batch batch = { .n = 0 };
	struct shmchan_waiter *w, *tmp;

	spin_lock(&chan->wait_lock);
	list_for_each_entry_safe(w, tmp, &chan->waiters, chan_node) {
		struct shmchan_wait_bucket *hb;

		if (deaths_only && !w->deaths)
			continue;
		hb = shmchan_wait_bucket(chan, w->offset);
		spin_lock(&hb->lock);
		if (w->state == SHMCHAN_WAITER_QUEUED)
			shmchan_waiter_finish(hb, w, state, &batch, true);
		spin_unlock(&hb->lock);
	}
	spin_unlock(&chan->wait_lock);
	shmchan_wake_batch_run(&batch);
}

/**
 * shmchan_wait_revoke - end every wait on @chan with -EIDRM
 * @chan: a channel whose SHMCHAN_STATE_REVOKED bit is set
 *
 * A waiter that queues after the sweep here sees the bit under the
 * channel's wait_lock and does not queue.
 */
void shmchan_wait_revoke(struct shmchan_channel *chan)
{
	shmchan_wait_sweep(chan, SHMCHAN_WAITER_REVOKED, false);
}

/**
 * shmchan_wait_notify_death - end the death-aware waits on @chan
 * @chan: a channel whose death count was just raised
 *
 * Waits made with %SHMCHAN_WAIT_DEATHS end with -EOWNERDEAD; one that
 * queues after the sweep here sees the new count under the channel's
 * wait_lock instead. Other waits, and other channels' waiters, go on
 * undisturbed.
 */
void shmchan_wait_notify_death(struct shmchan_channel *chan)
{
	/*
	 * The caller raised ->status->deaths, then a full barrier. A
	 * death-aware waiter raises ->ndeathwaiters, then a full barrier,
	 * then reads ->status->deaths: either it sees the new count or the
	 * sweep finds it.
	 */
	if (!atomic_read(&chan->ndeathwaiters))
		return;
	shmchan_wait_sweep(chan, SHMCHAN_WAITER_PEER_DIED, true);
}

/**
 * shmchan_wait_any_past - whether a WAIT sleeps on a word at or past @length
 * @chan: the channel, its wait_lock held
 * @length: a new, smaller length (grow.c's shrink)
 *
 * With the wait_lock held from this check until the new length is set,
 * no waiter can queue past it meanwhile: shmchan_wait_queue() checks the
 * length under the same lock.
 *
 * Return: true if one does (the shrink is refused with -EBUSY).
 */
bool shmchan_wait_any_past(struct shmchan_channel *chan, u64 length)
{
	struct shmchan_waiter *w;

	lockdep_assert_held(&chan->wait_lock);

	/*
	 * Only waits still queued: a woken waiter (WAIT, WAITV) leaves the
	 * list on its own, and a watch WAKE fired stays on it until its
	 * owner reads it; neither sleeps on the word any more.
	 */
	list_for_each_entry(w, &chan->waiters, chan_node) {
		if (READ_ONCE(w->state) == SHMCHAN_WAITER_QUEUED &&
		    w->offset + sizeof(u32) > length)
			return true;
	}
	return false;
}
