// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: WAITV of one word against WAIT (issue 11, item 7).
 *
 * The mechanism "shmchan-waitv1" is shmchan-raw's round trip (a sequence
 * word per direction, the payload after it, shmchan_wake() of one waiter)
 * with the receiver sleeping in shmchan_waitv() on its one word instead of
 * shmchan_wait(). waitv_pairs_run() measures both in interleaved ABBA
 * pairs, as the futex pairs of main.c do, so that the ratio WAITV/WAIT
 * comes from runs side by side; main.c prints its summary and the target
 * (WAITV(1) at most 1.1x WAIT).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <shmchan.h>

#include "suites.h"

struct waitv_pairs wpairs;

struct wv {
	char *base;
	size_t len;
	size_t off[2];		/* region of each direction: word, then data */
	uint32_t seq[2];	/* per process: last sent/seen per direction */
	struct shmchan *ch;
};

static inline _Atomic uint32_t *wv_word(struct wv *s, int d)
{
	return (_Atomic uint32_t *)(s->base + s->off[d]);
}

static int wv_init(struct link *l)
{
	struct wv *s = calloc(1, sizeof(*s));
	long pg = sysconf(_SC_PAGESIZE);
	size_t region = ((8 + l->size) + (size_t)pg - 1) & ~((size_t)pg - 1);
	int r;

	if (!s)
		return -ENOMEM;
	if (shmchan_missing)
		return -ENODEV;
	l->priv = s;
	s->off[0] = 0;
	s->off[1] = region;
	s->len = 2 * region;
	r = shmchan_create(l->tag, s->len, 0600,
			   SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT, &s->ch);
	if (r)
		return r;
	r = shmchan_map(s->ch, PROT_READ | PROT_WRITE, (void **)&s->base);
	if (r)
		return r;
	memset(s->base, 0, s->len);
	return 0;
}

static int wv_send(struct link *l, int side, uint64_t seed)
{
	struct wv *s = l->priv;
	int r;

	fill(s->base + s->off[side] + 8, l->size, seed);
	atomic_store_explicit(wv_word(s, side), ++s->seq[side],
			      memory_order_release);
	r = shmchan_wake(s->ch, s->off[side], 1);
	return r < 0 ? r : 0;
}

static int wv_recv(struct link *l, int side, uint64_t *seed)
{
	struct wv *s = l->priv;
	int d = 1 - side;
	_Atomic uint32_t *w = wv_word(s, d);
	uint32_t last = s->seq[d];
	const char *data = s->base + s->off[d] + 8;
	struct shmchan_waitv_word one = {
		.ch = s->ch, .offset = s->off[d], .expected = last,
	};
	int r;

	while (atomic_load_explicit(w, memory_order_acquire) == last) {
		r = shmchan_waitv(&one, 1, NULL, NULL);
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return r;
	}
	return seq_recv_done(atomic_load_explicit(w, memory_order_acquire),
			     &s->seq[d], data, l->size, seed);
}

static void wv_fini(struct link *l)
{
	struct wv *s = l->priv;

	if (s && s->ch)
		shmchan_close(s->ch);
}

const struct mech mech_waitv = {
	"shmchan-waitv1", "shmchan WAITV of one word", M_LAT | M_SHMCHAN,
	wv_init, NULL, wv_send, wv_recv, NULL, wv_fini,
};

/* ------------------------------------------------------------ ABBA pairs */

/* Round trip of @m in seconds (median of 3 repetitions), or NAN. */
static double wv_round_trip(struct cell *c, const struct mech *m, double budget,
			    struct waitv_pairs *wp)
{
	struct lat_arg a = { m, 8, 0, budget, 3 };

	run_cell(c, lat_cell, &a, 10 + 4 * budget);
	if (c->status) {
		snprintf(wp->why, sizeof(wp->why), "%s: %s", m->name, c->err);
		return NAN;
	}
	return stats(c->v, c->n).med;
}

void waitv_pairs_run(struct waitv_pairs *wp, int npairs, double budget,
		     void (*out)(const char *fmt, ...))
{
	const struct mech *raw = mech_find("shmchan-raw");
	struct cell *c;
	int i;

	memset(wp, 0, sizeof(*wp));
	if (!raw || shmchan_missing) {
		snprintf(wp->why, sizeof(wp->why), "%s",
			 shmchan_missing ? shmchan_missing : "no shmchan-raw");
		return;
	}
	c = cell_new();
	for (i = 0; i < npairs && i < MAX_REPS; i++) {
		/* ABBA: the order flips every pair */
		bool waitv_first = i % 2;
		double t1, t2;

		t1 = wv_round_trip(c, waitv_first ? &mech_waitv : raw, budget, wp);
		if (isnan(t1))
			break;
		t2 = wv_round_trip(c, waitv_first ? raw : &mech_waitv, budget, wp);
		if (isnan(t2))
			break;
		wp->waitv[i] = waitv_first ? t1 : t2;
		wp->wait[i] = waitv_first ? t2 : t1;
		wp->ratio[i] = wp->waitv[i] / wp->wait[i];
	}
	wp->n = i;
	if (!wp->n)
		return;
	wp->r = stats(wp->ratio, wp->n);
	out("\n== shmchan WAITV of one word against WAIT: %d interleaved pairs (ABBA) ==\n",
	    wp->n);
	out("  8-byte round trips; each run %.2f s, its figure the median of 3 repetitions\n",
	    budget);
	out("  WAIT:     median %.3f us, min %.3f, max %.3f\n",
	    stats(wp->wait, wp->n).med * 1e6, stats(wp->wait, wp->n).min * 1e6,
	    stats(wp->wait, wp->n).max * 1e6);
	out("  WAITV(1): median %.3f us, min %.3f, max %.3f\n",
	    stats(wp->waitv, wp->n).med * 1e6, stats(wp->waitv, wp->n).min * 1e6,
	    stats(wp->waitv, wp->n).max * 1e6);
	out("  ratio WAITV/WAIT per pair: median %.3f, min %.3f, max %.3f\n",
	    wp->r.med, wp->r.min, wp->r.max);
}
