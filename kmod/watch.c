// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan watches: a bound handle watches words of its channel, and poll(),
 * select() and epoll on the handle report when one fired. The ABI and its
 * rules (states, WAKE's count, epoll modes) are under "Watches" in
 * uapi/linux/shmchan.h.
 *
 * A watch (struct shmchan_watcher) is a WAIT that does not sleep: it embeds
 * the struct shmchan_waiter a task would have on its stack, allocated and
 * owned by the handle (struct shmchan_watches). Arming it queues that entry
 * with wait.c's own checks under the word's bucket lock, so a WAKE finds it
 * exactly as it finds a task in WAIT, counts it, and ends its wait; instead
 * of waking a task, the end of the wait calls shmchan_watch_fire(), which
 * puts the watch on the handle's ready list and wakes its poll waitqueue.
 *
 * Who touches a watch, under what:
 *  - its owner, the WATCH ioctls and the handle's release, serialized by
 *    the handle's ->lock (a mutex: arming looks up the word's page and may
 *    sleep). Only the owner arms, disarms, re-arms and frees a watch, and
 *    only the owner changes its ->expected, ->deaths and ->armed.
 *  - WAKE and the revoke and death sweeps, under the bucket lock (and the
 *    channel's wait_lock for a sweep), while the watch is queued: they take
 *    it off the queue and call shmchan_watch_fire().
 *  - shmchan_watch_fire() and poll, under the handle's ->ready_lock (a
 *    spinlock inside the bucket lock): ->events, ->ready_node, ->ready and
 *    ->ndied.
 *
 * Races that must not be lost:
 *  - a WAKE against the arm: the word is compared under the bucket lock
 *    (shmchan_wait_queue()), so a WAKE after a change of the word finds the
 *    watch queued, or the arm saw the change and fires the watch itself.
 *  - a WAKE or a sweep holding the bucket lock against DEL or the handle's
 *    release: shmchan_waiter_disarm() takes the channel's wait_lock and the
 *    bucket lock before the watch is freed, so a waker that reached it has
 *    finished with it (fire included: it runs under the bucket lock, not
 *    after), and none can reach it later. The handle (ready list,
 *    waitqueue) is freed after all of its watches.
 *  - a firing against poll: the firing marks the watch under ->ready_lock,
 *    then wakes the waitqueue; poll joins the waitqueue first, then reads
 *    under ->ready_lock, so it sees the mark or is woken.
 *  - the revoke against poll: the REVOKED bit is set before the sweep that
 *    fires every armed watch (and wakes its pollers); poll reads the bit
 *    after joining the waitqueue.
 *  - a death against the arm: as for WAIT (ndeathwaiters, then a barrier,
 *    raised before the first arm that asks for deaths, kept while the
 *    watch asks for them).
 *  - READ against a firing: a fired watch is not queued, so no waker can
 *    touch the watches READ took off the ready list; it re-arms them as
 *    their owner.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "internal.h"
#include "rules.h"

/**
 * struct shmchan_watcher - one watch of a handle
 * @w: its queue entry (wait.c); ->watch set; on the bucket while armed
 * @set: the handle's watches, which outlive it
 * @ready_node: link in @set->ready while @events is not 0; under
 *	@set->ready_lock
 * @events: pending SHMCHAN_WATCH_EV_* (WOKEN, CHANGED, DIED); under
 *	@set->ready_lock
 * @armed: the last arm queued it (it may have fired since); owner only
 * @id: its id in @set->ids; constant
 * @expected: the value of the last arm; owner only
 * @deaths: the death count of the last arm; owner only
 * @data: what ADD gave, for READ; constant
 */
struct shmchan_watcher {
	struct shmchan_waiter w;
	struct shmchan_watches *set;
	struct list_head ready_node;
	u32 events;
	bool armed;
	u32 id;
	u32 expected;
	u32 deaths;
	u64 data;
};

void shmchan_watches_init(struct shmchan_watches *ws)
{
	mutex_init(&ws->lock);
	spin_lock_init(&ws->ready_lock);
	INIT_LIST_HEAD(&ws->ready);
	ws->ndied = 0;
	xa_init_flags(&ws->ids, XA_FLAGS_ALLOC);
	init_waitqueue_head(&ws->wq);
}

/* Add @ev to @wt's pending events: onto the ready list if it was not. */
static void shmchan_watcher_mark(struct shmchan_watcher *wt, u32 ev)
{
	struct shmchan_watches *ws = wt->set;

	lockdep_assert_held(&ws->ready_lock);
	if (!wt->events)
		list_add_tail(&wt->ready_node, &ws->ready);
	if ((ev & SHMCHAN_WATCH_EV_DIED) && !(wt->events & SHMCHAN_WATCH_EV_DIED))
		ws->ndied++;
	wt->events |= ev;
}

/* Take @wt's pending events off it and off the ready list; returns them. */
static u32 shmchan_watcher_take(struct shmchan_watcher *wt)
{
	struct shmchan_watches *ws = wt->set;
	u32 ev = wt->events;

	lockdep_assert_held(&ws->ready_lock);
	if (ev) {
		list_del_init(&wt->ready_node);
		if (ev & SHMCHAN_WATCH_EV_DIED)
			ws->ndied--;
		wt->events = 0;
	}
	return ev;
}

/* The poll events a firing with @ev signals */
static __poll_t shmchan_watch_poll_bits(u32 ev)
{
	__poll_t mask = EPOLLIN | EPOLLRDNORM;

	if (ev & SHMCHAN_WATCH_EV_DIED)
		mask |= EPOLLPRI;
	return mask;
}

/* @wt fired with @ev (not 0): pending, and its handle's pollers woken. */
static void shmchan_watcher_fired(struct shmchan_watcher *wt, u32 ev)
{
	struct shmchan_watches *ws = wt->set;

	spin_lock(&ws->ready_lock);
	shmchan_watcher_mark(wt, ev);
	spin_unlock(&ws->ready_lock);
	/* Every firing wakes the pollers: an edge for each, see the uapi */
	wake_up_poll(&ws->wq, shmchan_watch_poll_bits(ev));
}

/**
 * shmchan_watch_fire - a WAKE or a sweep ended an armed watch's wait
 * @w: the watch's entry, taken off the bucket with its new @state
 * @state: SHMCHAN_WAITER_WOKEN, _REVOKED or _PEER_DIED
 *
 * Called by shmchan_waiter_finish() under the bucket lock (and, for a
 * sweep, the channel's wait_lock): the watch cannot be freed meanwhile,
 * since its owner disarms it under those locks before freeing it.
 */
void shmchan_watch_fire(struct shmchan_waiter *w, int state)
{
	struct shmchan_watcher *wt = container_of(w, struct shmchan_watcher, w);

	switch (state) {
	case SHMCHAN_WAITER_WOKEN:
		shmchan_watcher_fired(wt, SHMCHAN_WATCH_EV_WOKEN);
		break;
	case SHMCHAN_WAITER_PEER_DIED:
		shmchan_watcher_fired(wt, SHMCHAN_WATCH_EV_DIED);
		break;
	default:
		/* Revoked: no event of its own; poll sees the channel's bit */
		wake_up_poll(&wt->set->wq, EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP);
		break;
	}
}

/*
 * The owner takes @wt off its word's queue (if a waker has not) and drops
 * its pending events: afterwards nothing but the owner can reach it.
 */
static void shmchan_watcher_disarm(struct shmchan_watcher *wt)
{
	shmchan_waiter_disarm(&wt->w);
	wt->armed = false;
	spin_lock(&wt->set->ready_lock);
	shmchan_watcher_take(wt);
	spin_unlock(&wt->set->ready_lock);
}

/*
 * Whether @wt asks for death notices: chan->ndeathwaiters counts it while
 * it does, raised (with the barrier shmchan_wait_notify_death() pairs
 * with) before an arm that asks for them. @wt is disarmed.
 */
static void shmchan_watcher_set_deaths(struct shmchan_watcher *wt, bool deaths)
{
	struct shmchan_channel *chan = wt->w.chan;

	if (deaths == wt->w.deaths)
		return;
	wt->w.deaths = deaths;
	if (deaths) {
		atomic_inc(&chan->ndeathwaiters);
		/* Pairs with shmchan_wait_notify_death(): see it or be seen */
		smp_mb__after_atomic();
	} else {
		atomic_dec(&chan->ndeathwaiters);
	}
}

/*
 * Arm the disarmed @wt with its ->expected and ->deaths. Returns 0 (armed),
 * the events it fired with at once (CHANGED, DIED: then pending, pollers
 * woken), or -EIDRM, -ENOMEM, -EINTR (left idle).
 */
static int shmchan_watcher_arm(struct shmchan_watcher *wt)
{
	u32 ev;
	int ret;

	ret = shmchan_waiter_arm(&wt->w, wt->expected, wt->deaths);
	switch (ret) {
	case 0:
		wt->armed = true;
		return 0;
	case -EAGAIN:
		ev = SHMCHAN_WATCH_EV_CHANGED;
		break;
	case -EOWNERDEAD:
		ev = SHMCHAN_WATCH_EV_DIED;
		break;
	default:
		return ret;
	}
	shmchan_watcher_fired(wt, ev);
	return ev;
}

static void shmchan_watcher_free(struct shmchan_watcher *wt)
{
	shmchan_watcher_disarm(wt);
	shmchan_watcher_set_deaths(wt, false);
	kfree(wt);
}

/**
 * shmchan_watches_release - free every watch of a closing handle
 * @ws: the handle's watches
 *
 * The open file's last reference is gone: no ioctl runs, and epoll and
 * poll() have left the waitqueue (epoll's eventpoll_release() runs before
 * ->release, poll() holds the file). Each watch is disarmed under the
 * locks a waker holds before it is freed; called before the handle drops
 * its channel.
 */
void shmchan_watches_release(struct shmchan_watches *ws)
{
	struct shmchan_watcher *wt;
	unsigned long id;

	mutex_lock(&ws->lock);
	xa_for_each(&ws->ids, id, wt) {
		xa_erase(&ws->ids, id);
		shmchan_watcher_free(wt);
	}
	mutex_unlock(&ws->lock);
	xa_destroy(&ws->ids);
	mutex_destroy(&ws->lock);
}

static struct shmchan_watcher *shmchan_watcher_find(struct shmchan_watches *ws,
						    u32 id)
{
	lockdep_assert_held(&ws->lock);
	return xa_load(&ws->ids, id);
}

/**
 * shmchan_watch_add - SHMCHAN_IOC_WATCH_ADD
 * @ws: the handle's watches
 * @chan: the handle's channel
 * @args: the checked arguments; @args->id and ->result are set
 *
 * Return: @args->result (0: armed), or -EINVAL, -ENOSPC, -EIDRM, -ENOMEM,
 * -EINTR.
 */
int shmchan_watch_add(struct shmchan_watches *ws, struct shmchan_channel *chan,
		      struct shmchan_watch *args)
{
	struct shmchan_watcher *wt;
	u32 id;
	int ret;

	ret = shmchan_check_word_offset(chan->length, args->offset);
	if (ret)
		return ret;
	if (shmchan_chan_revoked(chan))
		return -EIDRM;
	wt = kzalloc(sizeof(*wt), GFP_KERNEL_ACCOUNT);
	if (!wt)
		return -ENOMEM;
	INIT_LIST_HEAD(&wt->w.node);
	INIT_LIST_HEAD(&wt->w.chan_node);
	INIT_LIST_HEAD(&wt->ready_node);
	wt->w.chan = chan;
	wt->w.offset = args->offset;
	wt->w.watch = true;
	wt->set = ws;
	wt->expected = args->expected;
	wt->deaths = args->deaths;
	wt->data = args->data;

	if (mutex_lock_killable(&ws->lock)) {
		kfree(wt);
		return -EINTR;
	}
	ret = xa_alloc(&ws->ids, &id, wt, XA_LIMIT(0, SHMCHAN_WATCH_MAX - 1),
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		kfree(wt);
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto unlock;
	}
	wt->id = id;
	shmchan_watcher_set_deaths(wt, args->flags & SHMCHAN_WATCH_DEATHS);
	ret = shmchan_watcher_arm(wt);
	if (ret < 0) {
		xa_erase(&ws->ids, id);
		shmchan_watcher_free(wt);
		goto unlock;
	}
	args->id = id;
	args->result = ret;
unlock:
	mutex_unlock(&ws->lock);
	return ret;
}

/**
 * shmchan_watch_arm - SHMCHAN_IOC_WATCH_ARM
 * @ws: the handle's watches
 * @chan: the handle's channel
 * @args: the checked arguments; @args->result is set
 *
 * Return: @args->result (0: armed), or -ENOENT, -EIDRM, -ENOMEM, -EINTR.
 */
int shmchan_watch_arm(struct shmchan_watches *ws, struct shmchan_channel *chan,
		      struct shmchan_watch *args)
{
	struct shmchan_watcher *wt;
	int ret;

	if (mutex_lock_killable(&ws->lock))
		return -EINTR;
	wt = shmchan_watcher_find(ws, args->id);
	ret = -ENOENT;
	if (!wt)
		goto unlock;
	ret = -EIDRM;
	if (shmchan_chan_revoked(chan))
		goto unlock;
	shmchan_watcher_disarm(wt);
	wt->expected = args->expected;
	wt->deaths = args->deaths;
	shmchan_watcher_set_deaths(wt, args->flags & SHMCHAN_WATCH_DEATHS);
	ret = shmchan_watcher_arm(wt);
	if (ret >= 0)
		args->result = ret;
unlock:
	mutex_unlock(&ws->lock);
	return ret;
}

/**
 * shmchan_watch_del - SHMCHAN_IOC_WATCH_DEL
 * @ws: the handle's watches
 * @args: the checked arguments
 *
 * Return: 0 or -ENOENT (or -EINTR for a fatal signal).
 */
int shmchan_watch_del(struct shmchan_watches *ws,
		      const struct shmchan_watch *args)
{
	struct shmchan_watcher *wt;

	if (mutex_lock_killable(&ws->lock))
		return -EINTR;
	wt = xa_erase(&ws->ids, args->id);
	if (wt)
		shmchan_watcher_free(wt);
	mutex_unlock(&ws->lock);
	return wt ? 0 : -ENOENT;
}

/* Write @n entries of @ev to userspace, @esize bytes apart. */
static int shmchan_watch_copy_events(const struct shmchan_watch_read *args,
				     const struct shmchan_watch_event *ev,
				     unsigned int n)
{
	u8 __user *dst = u64_to_user_ptr(args->events);
	size_t ksize = sizeof(*ev);
	size_t esize = args->event_size;
	unsigned int i;

	for (i = 0; i < n; i++, dst += esize) {
		if (copy_to_user(dst, &ev[i], min(ksize, esize)))
			return -EFAULT;
		if (esize > ksize && clear_user(dst + ksize, esize - ksize))
			return -EFAULT;
	}
	return 0;
}

static void shmchan_watch_event_fill(struct shmchan_watch_event *ev,
				     const struct shmchan_watcher *wt, u32 events)
{
	ev->id = wt->id;
	ev->events = events;
	ev->data = wt->data;
	ev->offset = wt->w.offset;
	ev->expected = wt->expected;
	ev->__reserved = 0;
}

/* READ with SHMCHAN_WATCH_READ_LIST: every watch, nothing changed */
static int shmchan_watch_list(struct shmchan_watches *ws,
			      const struct shmchan_watch_read *args,
			      struct shmchan_watch_event *ev, unsigned int max)
{
	struct shmchan_watcher *wt;
	unsigned int n = 0, total = 0;
	unsigned long id;

	lockdep_assert_held(&ws->lock);
	xa_for_each(&ws->ids, id, wt) {
		u32 events;

		total++;
		if (n == max)
			continue;
		spin_lock(&ws->ready_lock);
		events = wt->events;
		spin_unlock(&ws->ready_lock);
		if (!events && wt->armed)
			events = SHMCHAN_WATCH_EV_ARMED;
		shmchan_watch_event_fill(&ev[n++], wt, events);
	}
	return shmchan_watch_copy_events(args, ev, n) ?: total;
}

/* READ: take up to @max fired watches, report them, re-arm them */
static int shmchan_watch_consume(struct shmchan_watches *ws,
				 const struct shmchan_watch_read *args,
				 struct shmchan_watch_event *ev,
				 struct shmchan_watcher **taken, unsigned int max)
{
	struct shmchan_watcher *wt, *tmp;
	unsigned int n = 0, i;
	int ret;

	lockdep_assert_held(&ws->lock);
	spin_lock(&ws->ready_lock);
	list_for_each_entry_safe(wt, tmp, &ws->ready, ready_node) {
		if (n == max)
			break;
		shmchan_watch_event_fill(&ev[n], wt, shmchan_watcher_take(wt));
		taken[n++] = wt;
	}
	spin_unlock(&ws->ready_lock);

	ret = shmchan_watch_copy_events(args, ev, n);
	if (ret) {
		/* Nothing consumed: back to the front, in their order */
		spin_lock(&ws->ready_lock);
		for (i = n; i-- > 0;) {
			shmchan_watcher_mark(taken[i], ev[i].events);
			list_move(&taken[i]->ready_node, &ws->ready);
		}
		spin_unlock(&ws->ready_lock);
		return ret;
	}
	for (i = 0; i < n; i++) {
		/* Off any list (a woken one is still on the channel's) */
		shmchan_watcher_disarm(taken[i]);
		ret = shmchan_watcher_arm(taken[i]);
		/*
		 * Revoked: poll and the next call say so. Its word past the
		 * channel's length after a shrink (-EINVAL): left idle, as a
		 * revoked one, never fired again for a word that is gone (ARM
		 * says EINVAL). Out of memory or killed: fire it, so that its
		 * owner looks at the word rather than wait for a wake it could
		 * miss.
		 */
		if (ret < 0 && ret != -EIDRM && ret != -EINVAL)
			shmchan_watcher_fired(taken[i], SHMCHAN_WATCH_EV_CHANGED);
	}
	return n;
}

/**
 * shmchan_watch_read - SHMCHAN_IOC_WATCH_READ
 * @ws: the handle's watches
 * @chan: the handle's channel
 * @args: the checked arguments
 *
 * Return: the entries written (READ_LIST: the number of watches), or
 * -EIDRM, -EFAULT, -ENOMEM, -EINTR.
 */
int shmchan_watch_read(struct shmchan_watches *ws, struct shmchan_channel *chan,
		       const struct shmchan_watch_read *args)
{
	unsigned int max = min_t(u32, args->count, SHMCHAN_WATCH_MAX);
	struct shmchan_watcher **taken = NULL;
	struct shmchan_watch_event *ev = NULL;
	int ret;

	if (shmchan_chan_revoked(chan))
		return -EIDRM;
	if (mutex_lock_killable(&ws->lock))
		return -EINTR;
	/* No more entries than watches: a small buffer for the usual case */
	if (!(args->flags & SHMCHAN_WATCH_READ_LIST)) {
		unsigned long id;
		void *p;
		unsigned int nw = 0;

		xa_for_each(&ws->ids, id, p) {
			if (nw == max)
				break;
			nw++;
		}
		max = nw;
	}
	ret = -ENOMEM;
	if (max) {
		ev = kvcalloc(max, sizeof(*ev), GFP_KERNEL_ACCOUNT);
		taken = kvcalloc(max, sizeof(*taken), GFP_KERNEL_ACCOUNT);
		if (!ev || !taken)
			goto unlock;
	}
	if (args->flags & SHMCHAN_WATCH_READ_LIST)
		ret = shmchan_watch_list(ws, args, ev, max);
	else
		ret = shmchan_watch_consume(ws, args, ev, taken, max);
unlock:
	mutex_unlock(&ws->lock);
	kvfree(taken);
	kvfree(ev);
	return ret;
}

/**
 * shmchan_watch_poll - poll() on a handle
 * @ws: the handle's watches
 * @chan: the handle's channel, or NULL (unbound: never ready)
 * @file: the handle's file
 * @pt: the poll table
 *
 * Return: EPOLLIN | EPOLLRDNORM while a watch is fired, with EPOLLPRI if
 * one fired with a death; all of them and EPOLLERR | EPOLLHUP once the
 * channel is revoked.
 */
__poll_t shmchan_watch_poll(struct shmchan_watches *ws,
			    struct shmchan_channel *chan, struct file *file,
			    poll_table *pt)
{
	__poll_t mask = 0;

	poll_wait(file, &ws->wq, pt);
	if (!chan)
		return 0;
	/* After joining the waitqueue: see the revoke or be woken by it */
	smp_mb();
	if (shmchan_chan_revoked(chan))
		return EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP;
	spin_lock(&ws->ready_lock);
	if (!list_empty(&ws->ready))
		mask = EPOLLIN | EPOLLRDNORM;
	if (ws->ndied)
		mask |= EPOLLPRI;
	spin_unlock(&ws->ready_lock);
	return mask;
}
