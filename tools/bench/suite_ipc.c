// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the suites of two processes and a mechanism between them:
 * latency (round trips, every mechanism, and the queue's path in one
 * process), throughput (one-way streams, with one core's memcpy and fill +
 * sum beside them), wake (round trips with unrelated waiters parked) and
 * pair (shmchan wait/wake against the futex, interleaved).
 *
 * Each runs its figures (sizes outside, mechanisms inside), then prints
 * its tables and writes its CSV file.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "suites.h"

/* ------------------------------------------------------------ latency */

/*
 * The software path alone, in one process at one size: what a round trip
 * costs before any cache line crosses CPUs or anyone sleeps.
 */
static void local_path(uint64_t size)
{
	static const struct {
		const char *key, *label;
	} rows[] = {
		{ "queue-local", "queue: send + receive" },
		{ "zc-local", "zero copy: reserve..release" },
		{ "fillsum-local", "fill + sum of the payload" },
	};
	struct cell *c = cell_new();
	int i;

	for (i = 0; i < 3; i++) {
		struct stream_arg a = { i == 1 ? mech_find("zc-block") : NULL,
					size, P.lat_budget, P.reps, GiB };
		int j;

		if (i == 2) {
			run_cell(c, fillsum_cell, &a, cell_timeout(a.budget));
			for (j = 0; j < c->n; j++)	/* bytes/s -> s */
				c->v[j] = (double)size / c->v[j];
		} else {
			run_cell(c, qlocal_cell, &a, cell_timeout(a.budget));
		}
		fig_add(S_LOCAL, rows[i].key, rows[i].label, NULL, size, c, NULL);
	}
	say("  one process, no peer, %s (the software path of one direction;"
	    " microseconds):\n", size_str(size));
	for (i = 0; i < 3; i++)
		say("    %-30s %9s\n", rows[i].label,
		    fig_cell(fig_get(S_LOCAL, rows[i].key, NULL, size), 1e6));
	munmap(c, sizeof(*c));
}

/*
 * The copy path's floor. A copy round trip moves each message twice more
 * than a zero-copy one (into the ring, and out of it), four copies per
 * round trip: its floor is the zero-copy round trip (same mode) plus four
 * memcpy of the message size, timed here, in the same run, between the
 * mechanisms' figures of that size.
 */
static void memcpy_row(struct cell *c, uint64_t size)
{
	struct stream_arg a = { NULL, size, P.lat_budget / 3, P.reps, GiB };
	const char *why = late();
	int i;

	if (why) {
		cell_skip(c, "%s", why);
	} else {
		run_cell(c, memcpy_cell, &a, cell_timeout(a.budget));
		for (i = 0; i < c->n; i++)	/* bytes/s -> s per copy */
			c->v[i] = (double)size / c->v[i];
	}
	fig_add(S_LATENCY, "memcpy", "memcpy (one copy)", NULL, size, c, NULL);
}

static void copy_floor(const uint64_t *xs, int nx)
{
	static const char *const keys[] = {
		"queue-adapt", "zc-adapt", "memcpy", "copy-floor", NULL,
	};
	static const char *const labels[] = {
		"queue (adaptive)", "zero-copy (adaptive)", "memcpy (one copy)",
		"floor: zc + 4 memcpy", NULL,
	};
	uint64_t fx[MAX_SIZES];
	struct cell *c = cell_new();
	int j, n = 0;

	for (j = 0; j < nx; j++) {
		double zc = med(S_LATENCY, "zc-adapt", NULL, xs[j]);
		double mc = med(S_LATENCY, "memcpy", NULL, xs[j]);

		if (xs[j] < COPY_FLOOR_MIN)
			continue;
		fx[n++] = xs[j];
		memset(c, 0, sizeof(*c));
		if (isnan(zc) || isnan(mc)) {
			cell_skip(c, "needs zero-copy (adaptive) and memcpy at this size");
		} else {
			c->v[0] = zc + 4 * mc;
			c->n = 1;
			snprintf(c->note, sizeof(c->note),
				 "zero-copy (adaptive) round trip + 4 memcpy");
		}
		fig_add(S_LATENCY, "copy-floor", labels[3], NULL, xs[j], c, NULL);
	}
	munmap(c, sizeof(*c));
	if (!n)
		return;
	say("  the queue's copy path against its floor: a copy round trip copies each\n"
	    "  message twice more than zero copy (into the ring, out of it), so its floor\n"
	    "  is the zero-copy round trip + 4 copies (memcpy, one core, timed in this run);\n"
	    "  microseconds, and copy / floor (target: at most %s)\n", num(COPY_FLOOR_GOAL));
	matrix(S_LATENCY, keys, labels, NULL, fx, n, M_MEDIAN, 1e6, NULL, false,
	       false);
	say("  %-24s", "copy / floor");
	for (j = 0; j < n; j++)
		say(" %9s", num(ratio_of(S_LATENCY, "queue-adapt", "copy-floor",
					 NULL, fx[j])));
	say("\n");
}

void suite_latency(void)
{
	const struct mech *qa = mech_find("queue-adapt"), *za = mech_find("zc-adapt");
	const char *keys[64], *labels[64];
	struct cell *c = cell_new();
	int nx = nsizes(P.sizes), nk = 0, i, j;
	/* the copy floor when both sides of it are measured */
	bool want_floor = mech_wanted(qa, M_LAT_DEF) && mech_wanted(za, M_LAT_DEF) &&
			  !mech_missing(qa) && !mech_missing(za);
	FILE *csv;

	for (i = 0; mechs[i]; i++)
		if ((mechs[i]->caps & M_LAT) && mech_wanted(mechs[i], M_LAT_DEF)) {
			keys[nk] = mechs[i]->name;
			labels[nk++] = mechs[i]->label;
		}
	keys[nk] = NULL;
	/* sizes outside, mechanisms inside: drift hits all alike */
	for (j = 0; j < nx; j++) {
		for (i = 0; i < nk; i++) {
			const struct mech *m = mech_find(keys[i]);
			struct lat_arg a = { m, P.sizes[j], 0, P.lat_budget, P.reps };
			const char *why = mech_missing(m);
			const struct fig *f;

			if (why || (why = late()))
				cell_skip(c, "%s", why);
			else
				run_cell(c, lat_cell, &a, cell_timeout(a.budget));
			f = fig_add(S_LATENCY, m->name, m->label, NULL,
				    P.sizes[j], c, NULL);
			progress("latency %8s %-22s %10s us %s\n",
				 size_str(P.sizes[j]), m->label,
				 fig_cell(f, 1e6), f->status ? f->err : "");
		}
		if (want_floor && P.sizes[j] >= COPY_FLOOR_MIN)
			memcpy_row(c, P.sizes[j]);
	}

	say("\n== Round-trip latency: two processes, a message of each size each way ==\n");
	say("  microseconds per round trip, median of the repetitions\n");
	matrix(S_LATENCY, keys, labels, NULL, P.sizes, nx, M_MEDIAN, 1e6,
	       NULL, false, false);
	say("  spread: (max - min) / median over the repetitions\n");
	matrix(S_LATENCY, keys, labels, NULL, P.sizes, nx, M_SPREAD, 1,
	       NULL, false, false);
	say("  the typical single round trip (median of all of them), microseconds:\n"
	    "  far below the mean above when some round trips stalled (host scheduling)\n");
	matrix(S_LATENCY, keys, labels, NULL, P.sizes, nx, M_P50, 1e6,
	       NULL, false, false);
	say("  ratio to pipe: pipe's time / this time (above 1: faster than a pipe)\n");
	matrix(S_LATENCY, keys, labels, NULL, P.sizes, nx, M_RATIO, 1,
	       "pipe", false, false);
	if (want_floor)
		copy_floor(P.sizes, nx);
	report_errors(S_LATENCY);
	local_path(64);

	csv = csv_open("latency.csv",
		       "mechanism,label,size,median_us,min_us,max_us,reps,"
		       "round_trips_per_rep,ratio_vs_pipe,status,note,"
		       "single_p50_us,single_p90_us");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i], *b;

		if (f->suite != S_LATENCY)
			continue;
		b = fig_get(S_LATENCY, "pipe", NULL, f->x);
		fprintf(csv, "%s,%s,%llu,%.4f,%.4f,%.4f,%d,%llu,", f->key,
			f->label, (unsigned long long)f->x, f->s.med * 1e6,
			f->s.min * 1e6, f->s.max * 1e6, f->s.n,
			(unsigned long long)f->ops);
		if (fig_ok(f) && fig_ok(b))
			fprintf(csv, "%.4f", b->s.med / f->s.med);
		fprintf(csv, ",%s,\"%s\",%.4f,%.4f\n", f->status == 0 ? "ok" :
			f->status == CELL_SKIP ? "skip" : "fail",
			f->status ? f->err : f->note, f->p50 * 1e6, f->p90 * 1e6);
	}
	fclose(csv);
}

/* ------------------------------------------------------------ throughput */

void suite_throughput(void)
{
	const char *keys[64], *labels[64];
	struct cell *c = cell_new();
	int nx = nsizes(P.sizes), nk = 0, i, j;
	FILE *csv;

	for (i = 0; mechs[i]; i++)
		if ((mechs[i]->caps & M_STREAM) &&
		    mech_wanted(mechs[i], M_STREAM_DEF)) {
			keys[nk] = mechs[i]->name;
			labels[nk++] = mechs[i]->label;
		}
	keys[nk] = "memcpy";
	labels[nk++] = "memcpy (one core)";
	keys[nk] = "fill+sum";
	labels[nk++] = "fill + sum (one core)";
	keys[nk] = NULL;
	for (j = 0; j < nx; j++) {
		for (i = 0; i < nk; i++) {
			const struct mech *m = mech_find(keys[i]);
			struct stream_arg a = { m, P.sizes[j], P.stream_budget,
						P.reps, P.stream_max };
			const char *why = m ? mech_missing(m) : NULL;
			const struct fig *f;

			if (why || (why = late()))
				cell_skip(c, "%s", why);
			else if (!m)
				run_cell(c, strcmp(keys[i], "memcpy") ? fillsum_cell
								     : memcpy_cell,
					 &a, cell_timeout(a.budget));
			else
				run_cell(c, stream_cell, &a, cell_timeout(a.budget));
			f = fig_add(S_THROUGHPUT, keys[i], labels[i], NULL,
				    P.sizes[j], c, NULL);
			progress("stream  %8s %-22s %10s MB/s %s\n",
				 size_str(P.sizes[j]), labels[i],
				 fig_cell(f, 1e-6), f->status ? f->err : "");
		}
	}

	say("\n== Throughput: one-way stream, up to %s per figure ==\n",
	    size_str(P.stream_max));
	say("  MB/s (10^6 bytes/s), median of the repetitions\n");
	matrix(S_THROUGHPUT, keys, labels, NULL, P.sizes, nx, M_MEDIAN, 1e-6,
	       NULL, true, false);
	say("  spread: (max - min) / median over the repetitions\n");
	matrix(S_THROUGHPUT, keys, labels, NULL, P.sizes, nx, M_SPREAD, 1,
	       NULL, true, false);
	say("  ratio to pipe: this throughput / pipe's\n");
	matrix(S_THROUGHPUT, keys, labels, NULL, P.sizes, nx, M_RATIO, 1,
	       "pipe", true, false);
	report_errors(S_THROUGHPUT);

	csv = csv_open("throughput.csv",
		       "mechanism,label,size,median_MBps,min_MBps,max_MBps,reps,"
		       "bytes_per_rep,ratio_vs_pipe,status,note");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i], *b;

		if (f->suite != S_THROUGHPUT)
			continue;
		b = fig_get(S_THROUGHPUT, "pipe", NULL, f->x);
		fprintf(csv, "%s,%s,%llu,%.3f,%.3f,%.3f,%d,%llu,", f->key,
			f->label, (unsigned long long)f->x, f->s.med * 1e-6,
			f->s.min * 1e-6, f->s.max * 1e-6, f->s.n,
			(unsigned long long)f->bytes);
		if (fig_ok(f) && fig_ok(b))
			fprintf(csv, "%.4f", f->s.med / b->s.med);
		fprintf(csv, ",%s,\"%s\"\n", f->status == 0 ? "ok" :
			f->status == CELL_SKIP ? "skip" : "fail",
			f->status ? f->err : f->note);
	}
	fclose(csv);
}

/* ------------------------------------------------------------ wake */

void suite_wake(void)
{
	static const char *const keys[] = { "shmchan-raw", "futex", NULL };
	const char *labels[3];
	struct cell *c = cell_new();
	uint64_t xs[MAX_SIZES];
	int nx = ncounts(P.wake_counts, true), k, j, i;
	FILE *csv;

	for (j = 0; j < nx; j++)
		xs[j] = (uint64_t)P.wake_counts[j];
	for (k = 0; keys[k]; k++)
		labels[k] = mech_find(keys[k])->label;
	labels[k] = NULL;
	for (j = 0; j < nx; j++) {
		for (k = 0; keys[k]; k++) {
			const struct mech *m = mech_find(keys[k]);
			struct lat_arg a = { m, 8, P.wake_counts[j], P.lat_budget,
					     P.reps };
			const char *why = mech_missing(m);
			const struct fig *f;

			if (why || (why = late()))
				cell_skip(c, "%s", why);
			else
				run_cell(c, lat_cell, &a, cell_timeout(a.budget) + 60);
			f = fig_add(S_WAKE, keys[k], labels[k], NULL, xs[j], c,
				    NULL);
			progress("wake    %8ld %-22s %10s us %s\n",
				 P.wake_counts[j], labels[k], fig_cell(f, 1e6),
				 f->status ? f->err : "");
		}
	}
	say("\n== Wake latency with unrelated waiters asleep on other words ==\n");
	say("  8-byte round trip, microseconds (median); the waiters sleep on other\n"
	    "  words of the same channel (memfd for the futex) and are never woken\n");
	say("  %-24s", "waiters =");
	for (j = 0; j < nx; j++)
		say(" %9ld", P.wake_counts[j]);
	say(" %9s\n", "flat");
	for (k = 0; keys[k]; k++) {
		say("  %-24s", labels[k]);
		for (j = 0; j < nx; j++)
			say(" %9s", fig_cell(fig_get(S_WAKE, keys[k], NULL, xs[j]),
					     1e6));
		say(" %9s\n", num(flatness(S_WAKE, keys[k], NULL, xs, nx)));
	}
	report_errors(S_WAKE);

	csv = csv_open("wake.csv", "mechanism,waiters,median_us,min_us,max_us,"
		       "reps,ratio_vs_0,status,note,single_p50_us");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i], *b;

		if (f->suite != S_WAKE)
			continue;
		b = fig_get(S_WAKE, f->key, NULL, 0);
		fprintf(csv, "%s,%llu,%.3f,%.3f,%.3f,%d,", f->key,
			(unsigned long long)f->x, f->s.med * 1e6, f->s.min * 1e6,
			f->s.max * 1e6, f->s.n);
		if (fig_ok(f) && fig_ok(b))
			fprintf(csv, "%.4f", f->s.med / b->s.med);
		fprintf(csv, ",%s,\"%s\",%.3f\n", f->status == 0 ? "ok" :
			f->status == CELL_SKIP ? "skip" : "fail", f->err,
			f->p50 * 1e6);
	}
	fclose(csv);
}

/* ------------------------------------------------------------ pair */

struct pairs pairs;

static double quantile(const double *v, int n, double q)
{
	double t[MAX_REPS], pos;
	int i, lo;

	memcpy(t, v, sizeof(*t) * (size_t)n);
	for (i = 1; i < n; i++) {	/* insertion sort: n is small */
		double x = t[i];
		int j = i - 1;

		while (j >= 0 && t[j] > x) {
			t[j + 1] = t[j];
			j--;
		}
		t[j + 1] = x;
	}
	pos = q * (n - 1);
	lo = (int)pos;
	return lo + 1 < n ? t[lo] + (pos - lo) * (t[lo + 1] - t[lo]) : t[lo];
}

void suite_pair(void)
{
	const struct mech *raw = mech_find("shmchan-raw");
	const struct mech *fx = mech_find("futex");
	struct cell *c = cell_new();
	FILE *csv;
	int i;

	if (mech_missing(raw)) {
		snprintf(pairs.why, sizeof(pairs.why), "%s", mech_missing(raw));
		return;
	}
	csv = csv_open("pair.csv", "pair,futex_us,shmchan_raw_us,ratio");
	for (i = 0; i < P.pairs && i < MAX_REPS && (i < 3 || !late()); i++) {
		/* ABBA: the order flips every pair */
		const struct mech *first = i % 2 ? raw : fx;
		const struct mech *second = i % 2 ? fx : raw;
		struct lat_arg a = { first, 8, 0, P.pair_budget, 3 };
		double t1, t2;

		run_cell(c, lat_cell, &a, cell_timeout(a.budget));
		if (c->status) {
			snprintf(pairs.why, sizeof(pairs.why), "%s", c->err);
			break;
		}
		t1 = stats(c->v, c->n).med;
		a.m = second;
		run_cell(c, lat_cell, &a, cell_timeout(a.budget));
		if (c->status) {
			snprintf(pairs.why, sizeof(pairs.why), "%s", c->err);
			break;
		}
		t2 = stats(c->v, c->n).med;
		pairs.raw[i] = first == raw ? t1 : t2;
		pairs.futex[i] = first == raw ? t2 : t1;
		pairs.ratio[i] = pairs.raw[i] / pairs.futex[i];
		fprintf(csv, "%d,%.3f,%.3f,%.4f\n", i, pairs.futex[i] * 1e6,
			pairs.raw[i] * 1e6, pairs.ratio[i]);
		progress("pair    %2d futex %s us, shmchan %s us: %s\n", i,
			 num(pairs.futex[i] * 1e6), num(pairs.raw[i] * 1e6),
			 num(pairs.ratio[i]));
	}
	fclose(csv);
	pairs.n = i;
	if (!pairs.n)
		return;
	pairs.r = stats(pairs.ratio, pairs.n);
	pairs.q1 = quantile(pairs.ratio, pairs.n, 0.25);
	pairs.q3 = quantile(pairs.ratio, pairs.n, 0.75);
	pairs.med_ratio_of_medians = stats(pairs.raw, pairs.n).med /
				     stats(pairs.futex, pairs.n).med;
	say("\n== shmchan wait/wake against the futex: %d interleaved pairs (ABBA) ==\n",
	    pairs.n);
	say("  8-byte round trips; each run %.2f s, its figure the median of 3 repetitions\n",
	    P.pair_budget);
	say("  futex:   median %s us, min %s, max %s\n",
	    num(stats(pairs.futex, pairs.n).med * 1e6),
	    num(stats(pairs.futex, pairs.n).min * 1e6),
	    num(stats(pairs.futex, pairs.n).max * 1e6));
	say("  shmchan: median %s us, min %s, max %s\n",
	    num(stats(pairs.raw, pairs.n).med * 1e6),
	    num(stats(pairs.raw, pairs.n).min * 1e6),
	    num(stats(pairs.raw, pairs.n).max * 1e6));
	say("  ratio shmchan/futex per pair: median %s, quartiles %s-%s, min %s, max %s\n",
	    num(pairs.r.med), num(pairs.q1), num(pairs.q3), num(pairs.r.min),
	    num(pairs.r.max));
}
