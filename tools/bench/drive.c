// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the two drivers every mechanism runs under (round trips
 * and one-way streams), and the one-core references (memcpy, fill + sum).
 *
 * Both drivers calibrate the same way: warm-up batches that double until
 * they have taken a sixth of the budget (at least one operation), then
 * `reps` repetitions sized to share the rest; the figure is the median
 * over the repetitions, with their min and max.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static struct cell *cur;		/* for the SIGCHLD handler */
static volatile pid_t cur_peer;
static volatile sig_atomic_t peer_may_exit;

static void on_sigchld(int sig)
{
	int st;

	(void)sig;
	if (peer_may_exit || cur_peer <= 0 ||
	    waitpid(cur_peer, &st, WNOHANG) != cur_peer)
		return;		/* not the peer (a helper), or expected */
	/* The peer died while we may be blocked waiting for it. */
	if (cur && cur->status == 0) {
		cur->status = -EIO;
		strcpy(cur->err, "the peer died early");
	}
	_exit(1);
}

struct pair {
	struct link l;
	pid_t peer;
	int go[2];		/* runner -> peer: attach now */
	int rdy[2];		/* peer -> runner: attached; acks */
};

static void peer_main(struct cell *c, struct pair *p)
{
	struct link *l = &p->l;
	uint64_t seed, want = 0;
	char b = 'r';
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	pin(1);
	if (read_all(p->go[0], &b, 1))
		_exit(1);
	r = l->m->attach ? l->m->attach(l, 1) : 0;
	if (r) {
		cell_fail(c, r, "%s: peer: attach", l->m->name);
		_exit(1);
	}
	if (write_all(p->rdy[1], &b, 1))
		_exit(1);
	for (;;) {
		r = l->m->recv(l, 1, &seed);
		if (r) {
			cell_fail(c, r, "%s: peer: receive", l->m->name);
			_exit(1);
		}
		if (seed == SEED_STOP)
			break;
		if ((seed & SEED_COUNT) != want || (seed & SEED_REPLY)) {
			cell_fail(c, -EBADMSG,
				  "%s: peer: message %llu arrived where %llu was due",
				  l->m->name,
				  (unsigned long long)(seed & SEED_COUNT),
				  (unsigned long long)want);
			_exit(1);
		}
		want++;
		if (l->stream) {
			if ((seed & SEED_END) && write_all(p->rdy[1], &b, 1))
				_exit(1);
			continue;
		}
		r = l->m->send(l, 1, (seed & SEED_COUNT) | SEED_REPLY);
		if (r) {
			cell_fail(c, r, "%s: peer: send", l->m->name);
			_exit(1);
		}
	}
	if (l->m->detach)
		l->m->detach(l, 1);
	_exit(0);
}

/* Make the link, fork the peer, attach both sides. 0 or -1 (c says why). */
static int pair_start(struct cell *c, struct pair *p, const struct mech *m,
		      size_t size, bool stream, long waiters)
{
	struct sigaction sa;
	char b;
	int r;

	memset(p, 0, sizeof(*p));
	p->l.m = m;
	p->l.size = size;
	p->l.stream = stream;
	p->l.waiters = waiters;
	snprintf(p->l.tag, sizeof(p->l.tag), "shmchan-bench.%d", (int)getpid());
	cur = c;
	r = m->init ? m->init(&p->l) : 0;
	if (r == -ENOPKG) {		/* not here: skipped, l.note says why */
		cell_skip(c, "%s", p->l.note[0] ? p->l.note : "not available");
		return -1;
	}
	if (r) {
		cell_fail(c, r, "%s: init", m->name);
		return -1;
	}
	if (pipe(p->go) || pipe(p->rdy)) {
		cell_fail(c, -errno, "pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	peer_may_exit = 0;
	cur_peer = 0;
	p->peer = fork();
	if (p->peer < 0) {
		cell_fail(c, -errno, "fork");
		return -1;
	}
	if (p->peer == 0)
		peer_main(c, p);
	cur_peer = p->peer;
	pin(0);
	r = m->attach ? m->attach(&p->l, 0) : 0;
	if (r) {
		cell_fail(c, r, "%s: attach", m->name);
		return -1;
	}
	b = 'g';
	if (write_all(p->go[1], &b, 1) || read_all(p->rdy[0], &b, 1)) {
		cell_fail(c, -EPIPE, "%s: the peer did not attach", m->name);
		return -1;
	}
	return 0;
}

static void pair_stop(struct cell *c, struct pair *p, uint64_t *cnt)
{
	const struct mech *m = p->l.m;
	int st, r;

	peer_may_exit = 1;
	r = m->send(&p->l, 0, SEED_STOP);
	if (r)
		cell_fail(c, r, "%s: send (stop)", m->name);
	(void)cnt;
	if (waitpid(p->peer, &st, 0) == p->peer &&
	    !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		cell_fail(c, -EIO, "%s: the peer failed", m->name);
	if (m->detach)
		m->detach(&p->l, 0);
	if (m->fini)
		m->fini(&p->l);
	if (p->l.note[0])
		snprintf(c->note, sizeof(c->note), "%s", p->l.note);
}

/* ------------------------------------------------------------ round trips */

/* Single round trips of the measured repetitions, when op_t is set. */
static double *op_t;
static size_t op_n, op_cap;

/* @k round trips; seconds, or a negative value on error (c says why). */
static double rt_batch(struct cell *c, struct pair *p, uint64_t *cnt,
		       uint64_t k)
{
	const struct mech *m = p->l.m;
	double t0 = now();
	uint64_t i, seed, prev = ticks(), t;
	int r;

	for (i = 0; i < k; i++, (*cnt)++) {
		if (op_t && i) {
			t = ticks();
			if (op_n < op_cap)
				op_t[op_n++] = (double)(t - prev) * tick_sec;
			prev = t;
		}
		r = m->send(&p->l, 0, *cnt);
		if (r) {
			cell_fail(c, r, "%s: send", m->name);
			return -1;
		}
		r = m->recv(&p->l, 0, &seed);
		if (r) {
			cell_fail(c, r, "%s: receive", m->name);
			return -1;
		}
		if (seed != (*cnt | SEED_REPLY)) {
			cell_fail(c, -EBADMSG, "%s: answer %llx to message %llu",
				  m->name, (unsigned long long)seed,
				  (unsigned long long)*cnt);
			return -1;
		}
	}
	t = ticks();
	if (op_t && op_n < op_cap)
		op_t[op_n++] = (double)(t - prev) * tick_sec;
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Calibrate: batches of 1, 2, 4... operations until the warm-up has taken
 * @warm seconds. Returns seconds per operation of the last batch.
 */
static double warm_up(struct cell *c, struct pair *p, uint64_t *cnt,
		      double warm, uint64_t k,
		      double (*batch)(struct cell *, struct pair *, uint64_t *,
				      uint64_t))
{
	double spent = 0, t;

	for (;;) {
		t = batch(c, p, cnt, k);
		if (t < 0)
			return -1;
		spent += t;
		if (spent >= warm)
			return t / (double)k;
		if (t < warm / 4)
			k *= 2;
	}
}

/* Operations per repetition, and the number of repetitions. */
static uint64_t plan(double per_op, double budget, int *reps)
{
	double rep_time = budget * 5 / 6 / *reps;
	double k = rep_time / (per_op > 0 ? per_op : 1e-9);

	if (k < 1) {
		/* One operation is longer than a repetition's share: fewer
		 * repetitions (never fewer than 2), one operation each. */
		int n = (int)(budget / per_op);

		*reps = n < 2 ? 2 : n < *reps ? n : *reps;
		return 1;
	}
	return (uint64_t)k;
}

void lat_cell(struct cell *c, const void *arg)
{
	const struct lat_arg *a = arg;
	struct pair p;
	uint64_t cnt = 0, k;
	double per, t;
	int reps = a->reps, i;

	if (pair_start(c, &p, a->m, a->size, false, a->waiters))
		return;
	per = warm_up(c, &p, &cnt, a->budget / 6, 1, rt_batch);
	if (per < 0)
		return;
	k = plan(per, a->budget, &reps);
	op_cap = 1 << 18;
	op_t = malloc(op_cap * sizeof(*op_t));
	op_n = 0;
	for (i = 0; i < reps && i < MAX_REPS; i++) {
		t = rt_batch(c, &p, &cnt, k);
		if (t < 0)
			return;
		c->v[i] = t / (double)k;
	}
	c->n = i;
	c->ops = k;
	c->bytes = 2 * a->size * k;
	if (op_t && op_n) {
		/* the typical single round trip, and the slow tail */
		qsort(op_t, op_n, sizeof(*op_t), cmp_double);
		c->extra[0][0] = op_t[op_n / 2];
		c->extra[1][0] = op_t[op_n * 9 / 10];
	}
	pair_stop(c, &p, &cnt);
}

/* ------------------------------------------------------------ streams */

static double stream_batch(struct cell *c, struct pair *p, uint64_t *cnt,
			   uint64_t k)
{
	const struct mech *m = p->l.m;
	double t0 = now();
	uint64_t i;
	char b;
	int r;

	for (i = 0; i < k; i++, (*cnt)++) {
		r = m->send(&p->l, 0, *cnt | (i == k - 1 ? SEED_END : 0));
		if (r) {
			cell_fail(c, r, "%s: send", m->name);
			return -1;
		}
	}
	r = read_all(p->rdy[0], &b, 1);
	if (r) {
		cell_fail(c, r, "%s: no acknowledgement", m->name);
		return -1;
	}
	return now() - t0;
}

void stream_cell(struct cell *c, const void *arg)
{
	const struct stream_arg *a = arg;
	struct pair p;
	uint64_t cnt = 0, k, k0, cap;
	double per, t;
	int reps = a->reps, i;

	if (pair_start(c, &p, a->m, a->size, true, 0))
		return;
	/* from one message up: a slow mechanism must not spend its whole
	 * budget (or the timeout) in the first batch */
	k0 = 1;
	per = warm_up(c, &p, &cnt, a->budget / 6, k0, stream_batch);
	if (per < 0)
		return;
	k = plan(per, a->budget, &reps);
	cap = a->max_bytes / (uint64_t)reps / a->size;
	if (k > cap)
		k = cap ? cap : 1;
	for (i = 0; i < reps && i < MAX_REPS; i++) {
		t = stream_batch(c, &p, &cnt, k);
		if (t < 0)
			return;
		c->v[i] = (double)(k * a->size) / t;
	}
	c->n = i;
	c->ops = k;
	c->bytes = k * a->size;
	pair_stop(c, &p, &cnt);
}

/* ------------------------------------------------------------ one core */

struct local {
	size_t size;
	char *src, *dst;
	bool fillsum;
};

static double local_batch(struct local *lo, uint64_t k, uint64_t *bad)
{
	double t0 = now();
	uint64_t i;

	for (i = 0; i < k; i++) {
		if (lo->fillsum) {
			fill(lo->dst, lo->size, i);
			if (sum(lo->dst, lo->size) != expect_sum(lo->size, i))
				(*bad)++;
		} else {
			memcpy(lo->dst, lo->src, lo->size);
			__asm__ volatile("" : : "r"(lo->dst) : "memory");
		}
	}
	return now() - t0;
}

static void local_cell(struct cell *c, const struct stream_arg *a,
		       bool fillsum)
{
	struct local lo = { a->size, NULL, NULL, fillsum };
	uint64_t k = (4 * MiB) / a->size, bad = 0, cap;
	double spent = 0, t, per;
	int reps = a->reps, i;

	pin(0);
	lo.src = xmalloc(a->size);
	lo.dst = xmalloc(a->size);
	fill(lo.src, a->size, 1);
	if (!k)
		k = 1;
	for (;;) {
		t = local_batch(&lo, k, &bad);
		spent += t;
		if (spent >= a->budget / 6)
			break;
		if (t < a->budget / 24)
			k *= 2;
	}
	per = t / (double)k;
	k = plan(per, a->budget, &reps);
	cap = a->max_bytes / (uint64_t)reps / a->size;
	if (k > cap)
		k = cap ? cap : 1;
	for (i = 0; i < reps && i < MAX_REPS; i++)
		c->v[i] = (double)(k * a->size) / local_batch(&lo, k, &bad);
	c->n = i;
	c->ops = k;
	c->bytes = k * a->size;
	if (bad)
		cell_fail(c, -EBADMSG, "fill + sum: wrong sums");
}

void memcpy_cell(struct cell *c, const void *arg)
{
	local_cell(c, arg, false);
}

void fillsum_cell(struct cell *c, const void *arg)
{
	local_cell(c, arg, true);
}
