// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the targets, each a ratio within one run.
 *
 * To add a target: write a measure function (it returns the measured
 * ratio, NAN when a figure is missing, and may say more in t->detail) and
 * add one entry to the table `targets_table` below, with the goal. The
 * table is printed in its order, and written to targets.csv.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/*
 * struct tctx - what a measure function fills
 * @what: the target's line, when it must be made at run time (else the
 *	table's)
 * @detail: what else the reader should know (figures behind the ratio)
 * @arg: the table entry's argument
 * @host_busy: the figure is the host's (the vCPUs took turns), neither
 *	met nor missed: the result says "host busy" and @detail why
 */
struct tctx {
	char what[80];
	char detail[480];
	int arg;
	bool host_busy;
};

/*
 * struct target - one target
 * @what: what is measured (the table's first column)
 * @op: "<=" or ">=": how the measured ratio must compare with @goal
 * @measure: the measured ratio (NAN: not measured)
 * @arg: passed in tctx.arg (one function for several targets)
 */
struct target {
	const char *what;
	const char *op;
	double goal;
	double (*measure)(struct tctx *t);
	int arg;
};

static int targets_met, targets_missed, targets_unknown, targets_busy;
static FILE *tcsv;

static void target(const char *what, double value, const char *op,
		   double goal, const char *detail, bool host_busy)
{
	const char *res;

	if (isnan(value)) {
		res = "not measured";
		targets_unknown++;
	} else if (host_busy) {
		res = "host busy";
		targets_busy++;
	} else if ((!strcmp(op, "<=") && value <= goal) ||
		   (!strcmp(op, ">=") && value >= goal)) {
		res = "met";
		targets_met++;
	} else {
		res = "MISSED";
		targets_missed++;
	}
	say("  %-50s %8s  %2s %-5s %-12s %s\n", what, isnan(value) ? "-" : num(value),
	    op, num(goal), res, detail);
	fprintf(tcsv, "\"%s\",%.4f,%s,%.4f,%s,\"%s\"\n", what, value, op, goal,
		res, detail);
}

/* ------------------------------------------------------------ measures */

/*
 * Busy-polling and two-CPU throughput measure the host when its vCPUs
 * take turns: below PAR_OK around @suite, say so rather than judge.
 */
static void doubt_host(struct tctx *t, int suite)
{
	double p = par_around(suite);
	size_t n = strlen(t->detail);

	if (isnan(p) || p >= PAR_OK)
		return;
	t->host_busy = true;
	snprintf(t->detail + n, sizeof(t->detail) - n,
		 "%sthe vCPUs were only %sx parallel around the %s suite",
		 n ? "; " : "", num(p), suite_names[suite]);
}

static double t_wait_futex(struct tctx *t)
{
	if (pairs.n) {
		snprintf(t->detail, sizeof(t->detail),
			 "median of %d ABBA pairs; quartiles %s-%s, min-max %s-%s",
			 pairs.n, num(pairs.q1), num(pairs.q3), num(pairs.r.min),
			 num(pairs.r.max));
		return pairs.r.med;
	}
	snprintf(t->detail, sizeof(t->detail),
		 "8 B, latency suite (no pair suite: %s)",
		 pairs.why[0] ? pairs.why : "not run");
	return ratio_of(S_LATENCY, "shmchan-raw", "futex", NULL, 8);
}

static double t_waitv_wait(struct tctx *t)
{
	if (!wpairs.n) {
		snprintf(t->detail, sizeof(t->detail), "pair suite: %s",
			 wpairs.why[0] ? wpairs.why : "not run");
		return NAN;
	}
	snprintf(t->detail, sizeof(t->detail),
		 "median of %d ABBA pairs, 8 B; min-max %s-%s", wpairs.n,
		 num(wpairs.r.min), num(wpairs.r.max));
	return wpairs.r.med;
}

static double t_huge_reads(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail), "%s", huge_why);
	return huge_read_ratio;
}

static double t_epoll(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail),
		 "64 B round trips, both waiting in epoll_wait(): queue %s us, "
		 "eventfd + shm %s us", num(med(S_LATENCY, "queue-epoll", NULL, 64) * 1e6),
		 num(med(S_LATENCY, "eventfd-epoll", NULL, 64) * 1e6));
	return ratio_of(S_LATENCY, "queue-epoll", "eventfd-epoll", NULL, 64);
}

static double t_adapt_floor(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail),
		 "64 B both; against busy-poll at 8 B (one cache line): %s;"
		 " the queue busy-polling: %s; zero copy adaptive: %s;"
		 " queue path in one process %s us, busy-poll round trip %s us;"
		 " vCPUs %sx parallel",
		 num(med(S_LATENCY, "queue-adapt", NULL, 64) /
		     med(S_LATENCY, "busy-poll", NULL, 8)),
		 num(ratio_of(S_LATENCY, "queue-busy", "busy-poll", NULL, 64)),
		 num(ratio_of(S_LATENCY, "zc-adapt", "busy-poll", NULL, 64)),
		 num(med(S_LOCAL, "queue-local", NULL, 64) * 1e6),
		 num(med(S_LATENCY, "busy-poll", NULL, 64) * 1e6),
		 num(par_around(S_LATENCY)));
	doubt_host(t, S_LATENCY);
	return ratio_of(S_LATENCY, "queue-adapt", "busy-poll", NULL, 64);
}

/* How many times faster than peer arg's round trip the queue's is, 64 B. */
static const char *const peer_rt[] = { "boost-mq", "zmq-pair", "nng-pair" };

static double t_peer_rt(struct tctx *t)
{
	const char *peer = peer_rt[t->arg];
	const struct fig *f = fig_get(S_LATENCY, peer, NULL, 64);

	if (f && f->status)
		snprintf(t->detail, sizeof(t->detail), "%s: %s", peer, f->err);
	else
		snprintf(t->detail, sizeof(t->detail),
			 "64 B round trip: %s %s us, queue (adaptive) %s us",
			 peer, num(med(S_LATENCY, peer, NULL, 64) * 1e6),
			 num(med(S_LATENCY, "queue-adapt", NULL, 64) * 1e6));
	return ratio_of(S_LATENCY, peer, "queue-adapt", NULL, 64);
}

/* The queue's 1 MiB stream (copy, blocking) over peer arg's. */
static const char *const peer_tp[] = { "boost-mq", "zmq-pair" };

static double t_peer_tp(struct tctx *t)
{
	const char *peer = peer_tp[t->arg];
	const struct fig *f = fig_get(S_THROUGHPUT, peer, NULL, MiB);

	if (f && f->status)
		snprintf(t->detail, sizeof(t->detail), "%s: %s", peer, f->err);
	else
		snprintf(t->detail, sizeof(t->detail),
			 "1 MiB messages: %s %s MB/s, queue %s MB/s (adaptive %s)",
			 peer, num(med(S_THROUGHPUT, peer, NULL, MiB) * 1e-6),
			 num(med(S_THROUGHPUT, "queue-block", NULL, MiB) * 1e-6),
			 num(med(S_THROUGHPUT, "queue-adapt", NULL, MiB) * 1e-6));
	return ratio_of(S_THROUGHPUT, "queue-block", peer, NULL, MiB);
}

/* The worst copy round trip / floor from COPY_FLOOR_MIN up (latency suite). */
static double t_copy_floor(struct tctx *t)
{
	double worst = NAN, r;
	size_t len = 0;
	int j, n = 0, missing = 0;

	for (j = 0; j < nsizes(P.sizes); j++) {
		if (P.sizes[j] < COPY_FLOOR_MIN)
			continue;
		r = ratio_of(S_LATENCY, "queue-adapt", "copy-floor", NULL, P.sizes[j]);
		if (isnan(r)) {
			missing++;
			continue;
		}
		if (!n++ || r > worst)
			worst = r;
		len += (size_t)snprintf(t->detail + len, sizeof(t->detail) - len,
					"%s%s %s", len ? ", " : "adaptive; ",
					size_str(P.sizes[j]), num(r));
		if (len >= sizeof(t->detail))
			len = sizeof(t->detail) - 1;
	}
	if (missing)
		snprintf(t->detail + len, sizeof(t->detail) - len,
			 "%s%d size(s) not measured", len ? "; " : "", missing);
	return worst;
}

static double t_pipe_adapt(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail),
		 "round trip, 64 B; the busy-poll floor is %sx faster than the pipe",
		 num(ratio_of(S_LATENCY, "pipe", "busy-poll", NULL, 64)));
	return ratio_of(S_LATENCY, "pipe", "queue-adapt", NULL, 64);
}

static double t_queue_pipe(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail), "1 MiB messages; adaptive mode: %s",
		 num(ratio_of(S_THROUGHPUT, "queue-adapt", "pipe", NULL, MiB)));
	return ratio_of(S_THROUGHPUT, "queue-block", "pipe", NULL, MiB);
}

static double t_zc_pipe(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail), "1 MiB messages; adaptive mode: %s",
		 num(ratio_of(S_THROUGHPUT, "zc-adapt", "pipe", NULL, MiB)));
	return ratio_of(S_THROUGHPUT, "zc-block", "pipe", NULL, MiB);
}

static double t_memcpy_zc(struct tctx *t)
{
	snprintf(t->detail, sizeof(t->detail),
		 "1 MiB; adaptive mode: %s; zero copy moves %sx what one"
		 " core fills and sums alone (2 at best, filling and summing on"
		 " two CPUs at once; the vCPUs were %sx parallel)",
		 num(ratio_of(S_THROUGHPUT, "memcpy", "zc-adapt", NULL, MiB)),
		 num(ratio_of(S_THROUGHPUT, "zc-block", "fill+sum", NULL, MiB)),
		 num(par_around(S_THROUGHPUT)));
	if (par_settle_note()[0]) {
		size_t n = strlen(t->detail);

		snprintf(t->detail + n, sizeof(t->detail) - n, "; %s",
			 par_settle_note());
	}
	doubt_host(t, S_THROUGHPUT);
	return ratio_of(S_THROUGHPUT, "memcpy", "zc-block", NULL, MiB);
}

static double t_setup_memfd(struct tctx *t)
{
	/* at 1 GiB, or the largest size measured (the quick plan) */
	uint64_t at = 0;
	int j;

	for (j = 0; j < nsizes(P.setup_sizes); j++)
		if (fig_ok(fig_get(S_SETUP, "shmchan", "create+map+touch",
				   P.setup_sizes[j])) &&
		    fig_ok(fig_get(S_SETUP, "memfd", "create+map+touch",
				   P.setup_sizes[j])))
			at = P.setup_sizes[j];
	snprintf(t->detail, sizeof(t->detail), "%s%s; with populate: %s",
		 at ? size_str(at) : "1 GiB",
		 at && at != GiB ? " (1 GiB not measured)" : "",
		 num(at ? ratio_of(S_SETUP, "shmchan-populate", "memfd",
				   "create+map+touch", at) : NAN));
	return at ? ratio_of(S_SETUP, "shmchan", "memfd", "create+map+touch", at)
		  : NAN;
}

static double t_scale(struct tctx *t)
{
	int nx = ncounts(P.scale_counts, false);
	const char *op = op_names[t->arg];

	snprintf(t->what, sizeof(t->what), "%s: slowest / fastest, %ld..%ld channels",
		 op, P.scale_counts[0], P.scale_counts[nx - 1]);
	snprintf(t->detail, sizeof(t->detail), "shm_open: %s",
		 num(flatness(S_SCALE, "shm_open", op, scale_xs, nx)));
	return flatness(S_SCALE, "shmchan", op, scale_xs, nx);
}

/* ------------------------------------------------------------ the table */

static const struct target targets_table[] = {
	{ .what = "wait/wake round trip / futex round trip", .op = "<=", .goal = 1.1,
	  .measure = t_wait_futex },
	{ .what = "WAITV(1) round trip / WAIT round trip", .op = "<=", .goal = 1.1,
	  .measure = t_waitv_wait },
	{ .what = "queue 64 B round trip in epoll / eventfd + shm in epoll", .op = "<=",
	  .goal = 1.2, .measure = t_epoll },
	{ .what = "queue 64 B adaptive / busy-poll floor", .op = "<=", .goal = 2,
	  .measure = t_adapt_floor },
	{ .what = "pipe / queue 64 B adaptive (times faster)", .op = ">=", .goal = 20,
	  .measure = t_pipe_adapt },
	{ .what = "copy round trip / floor (zc + 4 memcpy), worst", .op = "<=",
	  .goal = COPY_FLOOR_GOAL, .measure = t_copy_floor },
	{ .what = "Boost mq / queue 64 B adaptive (times faster)", .op = ">=",
	  .goal = 3, .measure = t_peer_rt, .arg = 0 },
	{ .what = "ZeroMQ / queue 64 B adaptive (times faster)", .op = ">=",
	  .goal = 10, .measure = t_peer_rt, .arg = 1 },
	{ .what = "nng / queue 64 B adaptive (times faster)", .op = ">=",
	  .goal = 10, .measure = t_peer_rt, .arg = 2 },
	{ .what = "queue throughput (copy, blocking) / pipe", .op = ">=", .goal = 1.5,
	  .measure = t_queue_pipe },
	{ .what = "queue 1 MiB throughput (copy, blocking) / Boost mq", .op = ">=",
	  .goal = 2, .measure = t_peer_tp, .arg = 0 },
	{ .what = "queue 1 MiB throughput (copy, blocking) / ZeroMQ", .op = ">=",
	  .goal = 2, .measure = t_peer_tp, .arg = 1 },
	{ .what = "zero-copy throughput (blocking) / pipe", .op = ">=", .goal = 3,
	  .measure = t_zc_pipe },
	{ .what = "memcpy (1 core) / zero-copy throughput", .op = "<=", .goal = 2,
	  .measure = t_memcpy_zc },
	{ .what = "random 8 B reads over 1 GiB: 4 KiB pages / huge pages", .op = ">=",
	  .goal = 1.3, .measure = t_huge_reads },
	{ .what = "shmchan create+map+touch / memfd", .op = "<=", .goal = 1.1,
	  .measure = t_setup_memfd },
	{ .what = "create: flatness", .op = "<=", .goal = 1.5,
	  .measure = t_scale, .arg = OP_CREATE },
	{ .what = "open: flatness", .op = "<=", .goal = 1.5,
	  .measure = t_scale, .arg = OP_OPEN },
	{ .what = "destroy: flatness", .op = "<=", .goal = 1.5,
	  .measure = t_scale, .arg = OP_DESTROY },
};

void targets(void)
{
	size_t i;

	tcsv = csv_open("targets.csv", "target,measured,op,goal,result,detail");
	say("\n== Targets (issues 6 and 15), each a ratio within this run ==\n");
	say("  %-50s %8s  %-8s %-12s %s\n", "target", "measured", "goal",
	    "result", "detail");
	for (i = 0; i < sizeof(targets_table) / sizeof(targets_table[0]); i++) {
		const struct target *tg = &targets_table[i];
		struct tctx t = { .arg = tg->arg };
		double v = tg->measure(&t);

		target(t.what[0] ? t.what : tg->what, v, tg->op, tg->goal,
		       t.detail, t.host_busy);
	}
	say("  %d met, %d missed, %d not measured", targets_met, targets_missed,
	    targets_unknown);
	if (targets_busy)
		say(", %d host busy (the vCPUs took turns: rerun on a quiet host)",
		    targets_busy);
	say("\n");
	fclose(tcsv);
}

/* ------------------------------------------------------------ alternatives */

/* A row of the alternatives' table: 64 B round trip, 1 MiB stream. */
static void alt_row(const char *label, const char *lat_key, const char *tp_key,
		    bool peer)
{
	const struct fig *l = fig_get(S_LATENCY, lat_key, NULL, 64);
	const struct fig *t = fig_get(S_THROUGHPUT, tp_key, NULL, MiB);

	say("  %-24s %11s %9s %11s %9s\n", label, fig_cell(l, 1e6),
	    peer ? num(ratio_of(S_LATENCY, lat_key, "queue-adapt", NULL, 64)) : "",
	    fig_cell(t, 1e-6),
	    peer ? num(ratio_of(S_THROUGHPUT, "queue-block", tp_key, NULL, MiB)) : "");
}

void alternatives(void)
{
	int i;

	say_top_begin();
	say("\n== shmchan against the alternatives: figures of this run ==\n");
	say("  64 B round trip, microseconds, and how many times faster the queue's\n"
	    "  (adaptive) is; 1 MiB one-way stream, MB/s, and how many times more the\n"
	    "  queue (copy, blocking) moves. Same sizes, CPUs and checksums for all.\n");
	say("  %-24s %11s %9s %11s %9s\n", "", "64 B RT us", "queue x",
	    "1 MiB MB/s", "queue x");
	alt_row("shmchan queue (copy)", "queue-adapt", "queue-block", false);
	alt_row("shmchan zero copy", "zc-adapt", "zc-block", false);
	for (i = 0; mechs[i]; i++)
		if (mechs[i]->caps & M_PEER)
			alt_row(mechs[i]->label, mechs[i]->name, mechs[i]->name, true);
	/* why a peer has no figure: skipped (not built) or failed */
	for (i = 0; mechs[i]; i++) {
		const struct fig *l = fig_get(S_LATENCY, mechs[i]->name, NULL, 64);
		const struct fig *t = fig_get(S_THROUGHPUT, mechs[i]->name, NULL, MiB);
		const struct fig *f = l && l->status ? l : t && t->status ? t : NULL;

		if ((mechs[i]->caps & M_PEER) && f)
			say("  %s: %s %s\n", mechs[i]->label,
			    f->status == CELL_SKIP ? "skipped," : "failed,", f->err);
	}
	if (!fig_get(S_LATENCY, "queue-adapt", NULL, 64) ||
	    !fig_get(S_THROUGHPUT, "queue-block", NULL, MiB))
		say("  (64 B or 1 MiB not in this run's sizes, or a suite not run: \"-\")\n");
	say_top_end();
}
