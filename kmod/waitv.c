// SPDX-License-Identifier: GPL-2.0
/*
 * SHMCHAN_IOC_WAITV: one task waits on up to SHMCHAN_WAITV_MAX words, of
 * one channel or several, until any of them is woken.
 *
 * Each entry is an ordinary waiter of wait.c (struct shmchan_waiter) with
 * the calling task as its task: it is queued on its word's bucket and on
 * its channel's list of waiters, so WAKE, revoke and death sweeps treat it
 * as any WAIT and need nothing new. The entries are queued one after
 * another, each under its own channel's wait_lock and bucket lock, which
 * are dropped before the next entry's are taken: never two buckets, never
 * two channels at once (see the lock order in internal.h).
 *
 * Races this must not lose:
 *  - a wake between reading a word and queueing it: each word is compared
 *    under its bucket lock, as for WAIT (shmchan_waiter_queue());
 *  - a wake of entry j while entry k is queued, or found changed: the
 *    task goes on queueing; if a later entry fails, the earlier ones are
 *    dequeued and one that was woken meanwhile makes the call succeed;
 *  - a wake of entry k while the task, woken on entry j, dequeues the
 *    others: each dequeue reads the entry's final state under its locks,
 *    so a wake that reached k before k was dequeued is seen and set in
 *    &shmchan_waitv.woken. WAKE counted it as a task woken; the caller
 *    learns of every entry it consumed, not just the one returned.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "rules.h"

/* Entries kept on the stack; more are allocated */
#define SHMCHAN_WAITV_ONSTACK	4

/**
 * struct shmchan_waitv_slot - one entry of a WAITV call
 * @w: its waiter; on the lists from shmchan_waiter_queue() until
 *	shmchan_waiter_dequeue()
 * @file: the entry's descriptor's file, held for the whole call: the bound
 *	handle holds @w.chan, so the channel outlives the wait even if the
 *	descriptor is closed meanwhile
 * @expected: the entry's expected value
 * @deaths: the entry's death count, with @w.deaths
 */
struct shmchan_waitv_slot {
	struct shmchan_waiter w;
	struct file *file;
	u32 expected;
	u32 deaths;
};

static void shmchan_waitv_put_files(struct shmchan_waitv_slot *slots,
				    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		fput(slots[i].file);
}

/*
 * Copy in and check every entry, and take its file, before any is queued.
 * Returns 0 with all @count files held, or an error with none held.
 */
static int shmchan_waitv_prepare(const struct shmchan_waitv *args,
				 struct shmchan_waitv_slot *slots)
{
	const struct shmchan_waitv_entry __user *uentries =
		u64_to_user_ptr(args->entries);
	struct shmchan_waitv_entry e;
	struct shmchan_channel *chan;
	unsigned int i;
	int ret;

	for (i = 0; i < args->count; i++) {
		struct shmchan_waitv_slot *s = &slots[i];

		if (copy_from_user(&e, &uentries[i], sizeof(e))) {
			ret = -EFAULT;
			goto put_files;
		}
		ret = shmchan_check_waitv_entry(&e);
		if (ret)
			goto put_files;
		/* A negative fd is no descriptor: fget() finds nothing */
		s->file = fget(e.fd);
		if (!s->file) {
			ret = -EBADF;
			goto put_files;
		}
		chan = shmchan_file_use_chan(s->file);
		if (IS_ERR(chan)) {
			ret = PTR_ERR(chan);
			i++;
			goto put_files;
		}
		ret = shmchan_check_word_offset(shmchan_chan_length(chan), e.offset);
		if (ret) {
			i++;
			goto put_files;
		}
		s->w = (struct shmchan_waiter) {
			.chan = chan,
			.offset = e.offset,
			.task = current,
			.state = SHMCHAN_WAITER_QUEUED,
			.deaths = e.flags & SHMCHAN_WAITV_DEATHS,
		};
		s->expected = e.expected;
		s->deaths = e.deaths;
	}
	return 0;

put_files:
	shmchan_waitv_put_files(slots, i);
	return ret;
}

/* Whether a waker ended the wait of any of the @n queued entries. */
static bool shmchan_waitv_any_ended(const struct shmchan_waitv_slot *slots,
				    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!shmchan_waiter_pending(&slots[i].w))
			return true;
	}
	return false;
}

/*
 * Sleep until a waker ends any entry's wait, a signal, or the deadline.
 * Every waker sets an entry's state, then wakes the task: the check after
 * set_current_state() sees the state or the wakeup puts the task back to
 * running, as for WAIT.
 */
static void shmchan_waitv_sleep(const struct shmchan_waitv_slot *slots,
				unsigned int n, ktime_t *deadline)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (shmchan_waitv_any_ended(slots, n) || signal_pending(current))
			break;
		if (!schedule_hrtimeout_range(deadline, current->timer_slack_ns,
					      HRTIMER_MODE_ABS))
			break;
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Dequeue the @n queued entries and make the call's result of how each
 * ended: the lowest woken index if any was woken (all set in @woken), else
 * @queue_err (why queueing stopped, if it did), else EIDRM before
 * EOWNERDEAD before the timeout or signal every pending entry reports.
 */
static int shmchan_waitv_finish(struct shmchan_waitv_slot *slots,
				unsigned int n, int queue_err, u64 *woken)
{
	int first = -1, err = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int ret = shmchan_waiter_dequeue(&slots[i].w);

		if (!ret) {
			woken[i / 64] |= BIT_ULL(i % 64);
			if (first < 0)
				first = i;
		} else if (ret == -EIDRM || (ret == -EOWNERDEAD && err != -EIDRM) ||
			   !err) {
			err = ret;
		}
	}
	if (first >= 0)
		return first;
	/* Queueing stopped early: the pending entries' results mean nothing */
	if (queue_err)
		return queue_err;
	return err;
}

/**
 * shmchan_waitv - SHMCHAN_IOC_WAITV
 * @args: the copied-in arguments; @args->woken is filled in on success
 *
 * Return: the index of the woken entry (the lowest, if several), or
 * -EINVAL, -EBADF, -EBADFD, -EFAULT, -EAGAIN, -EIDRM, -EOWNERDEAD,
 * -ETIMEDOUT, -ERESTARTSYS, -EINTR, -ENOMEM (see struct shmchan_waitv).
 */
int shmchan_waitv(struct shmchan_waitv *args)
{
	struct shmchan_waitv_slot onstack[SHMCHAN_WAITV_ONSTACK];
	struct shmchan_waitv_slot *slots = onstack;
	ktime_t deadline, *deadlinep = NULL;
	unsigned int i;
	int ret;

	ret = shmchan_check_waitv_args(args);
	if (ret)
		return ret;
	args->woken[0] = 0;
	args->woken[1] = 0;
	if (args->flags & SHMCHAN_WAITV_DEADLINE) {
		deadline = shmchan_wait_deadline(args->deadline_ns);
		deadlinep = &deadline;
	}
	if (args->count > ARRAY_SIZE(onstack)) {
		slots = kmalloc_array(args->count, sizeof(*slots), GFP_KERNEL);
		if (!slots)
			return -ENOMEM;
	}

	ret = shmchan_waitv_prepare(args, slots);
	if (ret)
		goto free_slots;

	for (i = 0; i < args->count; i++) {
		ret = shmchan_waiter_queue(&slots[i].w, slots[i].expected,
					   slots[i].deaths);
		if (ret)
			break;
	}
	/* A wake or a sweep may have ended an early entry already: no sleep */
	if (!ret)
		shmchan_waitv_sleep(slots, i, deadlinep);
	ret = shmchan_waitv_finish(slots, i, ret, args->woken);

	shmchan_waitv_put_files(slots, args->count);
free_slots:
	if (slots != onstack)
		kfree(slots);
	return ret;
}
