// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The queue's peers: slots and peer maps, joining and leaving, reaping
 * the dead (their locks, half-written and claimed records), a handle used
 * in a forked child, the per-call check of the status word, and
 * shmchan_queue_wait_peer().
 */
#include "queue.h"

/* ------------------------------------------------------------ slots */

static void map_set(_Atomic uint32_t map[2], uint32_t slot, bool on)
{
	uint32_t bit = 1U << (slot % 32);

	/* release: a peer that sees us gone sees what we did before */
	if (on)
		atomic_fetch_or_explicit(&map[slot / 32], bit,
					 memory_order_release);
	else
		atomic_fetch_and_explicit(&map[slot / 32], ~bit,
					  memory_order_release);
}

/* Dead producer @i: release its lock, abort its half-written record. */
static void q_recover_prod(struct shmchan_queue *q, uint32_t i)
{
	struct q_hdr *h = q->h;
	bool held = q_steal(q, &h->prod_lock, i);
	uint64_t b, st, expect;
	struct q_rec *r;

	b = atomic_load_explicit(&h->slots[i].busy, memory_order_relaxed);
	if (b != POS_NONE &&
	    b < atomic_load_explicit(&h->prod_head, memory_order_acquire)) {
		r = rec_at(q, b);
		st = atomic_load_explicit(&r->state, memory_order_relaxed);
		expect = st;
		if (st_tag(st) == tag_of(b) && (st & ST_PHASE) == ST_BUSY &&
		    st_slot(st) == i &&
		    atomic_compare_exchange_strong_explicit(
				&r->state, &expect,
				st_tag(st) | (st & ST_KIND) | ST_READY | ST_ABORT,
				memory_order_release, memory_order_relaxed))
			q_kick(q, false, true);
	}
	if (held) {
		/* Only the holder sets `rounds`: the dead one was half-way. */
		if (atomic_load_explicit(&h->rounds, memory_order_relaxed) != POS_NONE)
			atomic_store_explicit(&h->rounds, POS_NONE,
					      memory_order_release);
		q_unlock(q, &h->prod_lock);
	}
}

/* Dead consumer @i: release its lock, free the record it had claimed. */
static void q_recover_cons(struct shmchan_queue *q, uint32_t i)
{
	struct q_hdr *h = q->h;
	bool held = q_steal(q, &h->cons_lock, i);
	uint64_t c, st;

	c = atomic_load_explicit(&h->slots[i].claim, memory_order_relaxed);
	if (c != POS_NONE &&
	    c < atomic_load_explicit(&h->cons_head, memory_order_acquire)) {
		st = atomic_load_explicit(&rec_at(q, c)->state,
					  memory_order_relaxed);
		if (st_tag(st) == tag_of(c) && (st & ST_PHASE) == ST_READY)
			q_done(q, c, st);
	}
	if (held)
		q_unlock(q, &h->cons_lock);
	/* it may have died freeing, with nobody left to free after it */
	q_reclaim(q);
}

/* Slot @i held state @st of a dead peer: repair what it left, free it. */
static void q_reap(struct shmchan_queue *q, uint32_t i, uint32_t st)
{
	struct q_slot *s = &q->h->slots[i];
	uint32_t roles = (st >> 4) & ROLES;

	/* acq_rel: one reaper wins; it sees the slot as its peer left it */
	if (!atomic_compare_exchange_strong_explicit(
			&s->state, &st, (st & ~SLOT_PHASE) | SLOT_REAPING,
			memory_order_acq_rel, memory_order_relaxed))
		return;
	map_set(q->h->senders, i, false);
	map_set(q->h->receivers, i, false);
	if (roles & SHMCHAN_QUEUE_SEND)
		q_recover_prod(q, i);
	if (roles & SHMCHAN_QUEUE_RECV)
		q_recover_cons(q, i);
	atomic_store_explicit(&s->busy, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&s->claim, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&s->start, 0, memory_order_relaxed);
	/* release: the slot's next owner sees it clean */
	atomic_store_explicit(&s->state, 0, memory_order_release);
	q_kick_all(q);
}

void q_scan(struct shmchan_queue *q)
{
	struct q_slot *s;
	uint64_t start;
	uint32_t i, st;
	pid_t pid;

	for (i = 0; i < Q_MAX_PEERS; i++) {
		if (i == q->slot)
			continue;
		s = &q->h->slots[i];
		st = atomic_load_explicit(&s->state, memory_order_acquire);
		if ((st & SLOT_PHASE) != SLOT_SETUP &&
		    (st & SLOT_PHASE) != SLOT_LIVE)
			continue;
		pid = (pid_t)(st >> 8);
		start = atomic_load_explicit(&s->start, memory_order_relaxed);
		if (pid == q->pid && (!start || start == q->start))
			continue;	/* another handle of this process */
		if (!shmchan__alive(pid, start, UINT64_MAX, false))
			q_reap(q, i, st);
	}
}

int q_register(struct shmchan_queue *q, unsigned int roles)
{
	struct q_hdr *h = q->h;
	uint32_t i, v, setup = (uint32_t)q->pid << 8 | SLOT_SETUP;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < Q_MAX_PEERS; i++) {
			v = 0;
			/* acquire: see the slot as its reaper left it */
			if (atomic_compare_exchange_strong_explicit(
					&h->slots[i].state, &v, setup,
					memory_order_acquire,
					memory_order_relaxed))
				goto found;
		}
		/* Full: the dead may hold places; look once more. */
		q_scan(q);
	}
	return -EUSERS;
found:
	atomic_store_explicit(&h->slots[i].start, q->start, memory_order_relaxed);
	atomic_store_explicit(&h->slots[i].busy, POS_NONE, memory_order_relaxed);
	atomic_store_explicit(&h->slots[i].claim, POS_NONE, memory_order_relaxed);
	/* release: a scanner that sees LIVE sees our start time */
	atomic_store_explicit(&h->slots[i].state,
			      (uint32_t)q->pid << 8 | roles << 4 | SLOT_LIVE,
			      memory_order_release);
	q->slot = i;
	q->me = i + 1;
	/* The map bit before `seen`: a peer that sees us seen (acquire, in
	 * senders_gone()) sees the bit too, so never "seen, none left"
	 * while we join. */
	if (roles & SHMCHAN_QUEUE_SEND)
		map_set(h->senders, i, true);
	if (roles & SHMCHAN_QUEUE_RECV)
		map_set(h->receivers, i, true);
	/* release: publishes the map bits above */
	atomic_fetch_or_explicit(&h->seen, roles, memory_order_release);
	q_peers_changed(q);
	return 0;
}

/* Leave: out of the maps (release: after our last record), slot freed. */
void q_leave(struct shmchan_queue *q)
{
	struct q_slot *s = &q->h->slots[q->slot];

	map_set(q->h->senders, q->slot, false);
	map_set(q->h->receivers, q->slot, false);
	atomic_store_explicit(&s->start, 0, memory_order_relaxed);
	atomic_store_explicit(&s->state, 0, memory_order_release);
	q_kick_all(q);
}

/*
 * A handle made before a fork(), used in the child: the slot, the
 * reservation and the peeked message are the parent's, who goes on with
 * them. The child becomes a peer of its own, in a new slot with the same
 * roles, so that what it publishes and claims is noted as its own, and if
 * it dies it is reaped like any peer. Until this succeeds the handle has
 * no slot (and the parent's is never touched: see shmchan_queue_close()).
 */
static void q_disown(struct shmchan_queue *q)
{
	q->rsv_pos = POS_NONE;
	q->peek_pos = POS_NONE;
	q->slot = Q_MAX_PEERS;
	q->me = 0;
	q_poll_forget(q);
}

static int q_forked(struct shmchan_queue *q)
{
	int ret;

	ret = shmchan__self(&q->pid, &q->start);
	if (ret)
		return ret;
	ret = q_register(q, q->roles);
	if (ret)
		return ret;
	q->gen = shmchan__fork_generation();
	return 0;
}

int q_enter_slow(struct shmchan_queue *q, uint64_t w)
{
	bool forked = q->gen != shmchan__fork_generation();
	int ret;

	if (forked)
		q_disown(q);
	/* The module never clears REVOKED: every call fails from now on. */
	if (shmchan__status_revoked(w))
		return -EIDRM;
	if (forked) {
		ret = q_forked(q);
		if (ret)
			return ret;
	}
	if (shmchan__status_deaths(w) != shmchan__status_deaths(q->status_seen)) {
		/*
		 * The count first, then the scan, as in q_sleep(): a death
		 * after the load fails our next wait and changes the word
		 * again. A peer whose death the count shows is PF_EXITING at
		 * least, which shmchan__alive() takes for dead: so a peer
		 * reaped by its parent (waitpid() returned) before this call
		 * is reaped here, and the caller sees -EPIPE if it was the
		 * last of its side.
		 */
		q->deaths = shmchan__status_deaths(w);
		q_scan(q);
	}
	q->status_seen = w;
	return 0;
}

/* ------------------------------------------------------------ API */

/* Has the queue a peer of each of @roles, other than this handle? */
static bool q_has_peers(const struct shmchan_queue *q, unsigned int roles)
{
	uint32_t mine[2] = { 0, 0 };
	_Atomic uint32_t *map;

	if (q->slot < Q_MAX_PEERS)
		mine[q->slot / 32] = 1U << (q->slot % 32);
	if (roles & SHMCHAN_QUEUE_SEND) {
		map = q->h->senders;
		if (!((atomic_load_explicit(&map[0], memory_order_relaxed) & ~mine[0]) |
		      (atomic_load_explicit(&map[1], memory_order_relaxed) & ~mine[1])))
			return false;
	}
	if (roles & SHMCHAN_QUEUE_RECV) {
		map = q->h->receivers;
		if (!((atomic_load_explicit(&map[0], memory_order_relaxed) & ~mine[0]) |
		      (atomic_load_explicit(&map[1], memory_order_relaxed) & ~mine[1])))
			return false;
	}
	return true;
}

SHMCHAN_EXPORT
int shmchan_queue_wait_peer(struct shmchan_queue *q, unsigned int roles,
			    int64_t timeout_ns)
{
	struct shmchan__deadline d;
	uint32_t v;
	int ret;

	if (!q || !roles || roles & ~ROLES)
		return -EINVAL;
	shmchan__deadline_init(&d, timeout_ns);
	ret = q_enter(q);
	if (ret)
		return ret;
	/* Without a status page no load tells of deaths: look once, so that
	 * a peer dead before the call is not counted. */
	if (!q->status.page)
		q_scan(q);
	for (;;) {
		/*
		 * The sequence before the maps (acquire: pairs with the
		 * release of the bump in q_peers_changed(), which follows
		 * the joiner's map bit). A peer that joins after this load
		 * changes the word before it wakes, so the module's compare
		 * fails or the wake finds us asleep: the race a lost wake-up
		 * would lose.
		 */
		v = atomic_load_explicit(&q->h->peer_seq, memory_order_acquire);
		if (q_has_peers(q, roles))
			return 0;
		if (d.nowait)
			return -EAGAIN;
		ret = q_sleep(q, &q->h->peer_seq, v, &d);
		if (ret)
			return ret;
		ret = q_enter(q);
		if (ret)
			return ret;
	}
}
