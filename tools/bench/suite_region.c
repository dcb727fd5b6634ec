// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the suites of regions and their names: setup (create +
 * map + touch + unmap + destroy, against memfd, shm_open and shmget),
 * oneshot (one transfer: copy through a pipe, or map a channel made for
 * it) and scale (create/open/destroy with many channels in existence).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "suites.h"

/* ------------------------------------------------------------ setup */

void suite_setup(void)
{
	static const char *sub_total = "total", *sub_cmt = "create+map+touch";
	struct cell *c = cell_new();
	int nx = nsizes(P.setup_sizes), k, j, r, i, ph;
	const char *keys[SETUP_KINDS + 1], *labels[SETUP_KINDS + 1];
	FILE *csv;

	for (k = 0; k < SETUP_KINDS; k++) {
		keys[k] = setup_names[k];
		labels[k] = setup_labels[k];
	}
	keys[k] = NULL;
	for (j = 0; j < nx; j++) {
		/* values per kind: one per round (the median of its cycles) */
		double v[SETUP_KINDS][PH_COUNT + 2][MAX_REPS];
		struct cell agg[SETUP_KINDS];
		/* under TCG a first touch costs tens of microseconds a page
		 * (the guest clears it with an emulated rep stosb): big
		 * regions get fewer rounds */
		int rounds = P.setup_sizes[j] >= 512 * MiB ? 1 :
			     P.setup_sizes[j] >= 128 * MiB ? 2 : P.setup_rounds;

		memset(agg, 0, sizeof(agg));
		for (r = 0; r < rounds; r++) {
			/* kinds interleaved within a round */
			for (k = 0; k < SETUP_KINDS; k++) {
				struct setup_arg a = { k, P.setup_sizes[j], MAX_REPS,
						       P.setup_budget };

				long avail = mem_available_kib();

				if (agg[k].status)
					continue;
				if (late() && r > 0)
					break;	/* keep the rounds measured */
				if (late()) {
					cell_skip(c, "%s", late());
					agg[k] = *c;
					continue;
				}
				/* room for the region and the page tables */
				if (avail >= 0 && (uint64_t)avail * 1024 * 8 / 10 <
						  P.setup_sizes[j]) {
					cell_skip(c, "%s needs more memory than the %ld MiB"
						  " available (VM_MEM)",
						  size_str(P.setup_sizes[j]), avail / 1024);
					agg[k] = *c;
					continue;
				}
				run_cell(c, setup_cell, &a, 120);
				if (c->status) {
					agg[k] = *c;
					continue;
				}
				for (ph = 0; ph < PH_COUNT; ph++)
					v[k][ph][r] = stats(c->extra[ph], c->n).med;
				v[k][PH_COUNT][r] = stats(c->v, c->n).med;
				for (i = 0; i < c->n; i++)
					c->v[i] = c->extra[PH_CREATE][i] +
						  c->extra[PH_MAP][i] +
						  c->extra[PH_TOUCH][i];
				v[k][PH_COUNT + 1][r] = stats(c->v, c->n).med;
				agg[k].n = r + 1;
				agg[k].ops += (uint64_t)c->n;
			}
		}
		for (k = 0; k < SETUP_KINDS; k++) {
			const struct fig *f;

			agg[k].bytes = P.setup_sizes[j];
			for (ph = 0; ph < PH_COUNT; ph++)
				fig_add(S_SETUP, setup_names[k], setup_labels[k],
					phase_names[ph], P.setup_sizes[j], &agg[k],
					v[k][ph]);
			fig_add(S_SETUP, setup_names[k], setup_labels[k],
				sub_cmt, P.setup_sizes[j], &agg[k],
				v[k][PH_COUNT + 1]);
			f = fig_add(S_SETUP, setup_names[k], setup_labels[k],
				    sub_total, P.setup_sizes[j], &agg[k],
				    v[k][PH_COUNT]);
			progress("setup   %8s %-22s %10s us %s\n",
				 size_str(P.setup_sizes[j]), setup_labels[k],
				 fig_cell(f, 1e6), f->status ? f->err : "");
		}
	}

	say("\n== Setup cost: create + map + touch every page + unmap + destroy ==\n");
	say("  microseconds for the whole cycle, median over %d interleaved rounds"
	    " (2 from 128 MiB, 1 from 512 MiB)\n", P.setup_rounds);
	matrix(S_SETUP, keys, labels, sub_total, P.setup_sizes, nx, M_MEDIAN,
	       1e6, NULL, false, false);
	say("  create + map + touch only, microseconds\n");
	matrix(S_SETUP, keys, labels, sub_cmt, P.setup_sizes, nx, M_MEDIAN,
	       1e6, NULL, false, false);
	say("  ratio to memfd, create + map + touch: memfd's time / this time\n");
	matrix(S_SETUP, keys, labels, sub_cmt, P.setup_sizes, nx, M_RATIO, 1,
	       "memfd", false, false);
	say("  phases at %s, microseconds\n", size_str(P.setup_sizes[nx - 1]));
	say("  %-24s", "");
	for (ph = 0; ph < PH_COUNT; ph++)
		say(" %9s", phase_names[ph]);
	say("\n");
	for (k = 0; k < SETUP_KINDS; k++) {
		say("  %-24s", setup_labels[k]);
		for (ph = 0; ph < PH_COUNT; ph++)
			say(" %9s", fig_cell(fig_get(S_SETUP, setup_names[k],
						     phase_names[ph],
						     P.setup_sizes[nx - 1]), 1e6));
		say("\n");
	}
	report_errors(S_SETUP);

	csv = csv_open("setup.csv", "mechanism,label,size,phase,median_us,"
		       "min_us,max_us,rounds,ratio_vs_memfd,status,note");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i], *b;

		if (f->suite != S_SETUP || (f->status && strcmp(f->sub, sub_total)))
			continue;
		b = fig_get(S_SETUP, "memfd", f->sub, f->x);
		fprintf(csv, "%s,%s,%llu,%s,%.3f,%.3f,%.3f,%d,", f->key, f->label,
			(unsigned long long)f->x, f->sub, f->s.med * 1e6,
			f->s.min * 1e6, f->s.max * 1e6, f->s.n);
		if (fig_ok(f) && fig_ok(b))
			fprintf(csv, "%.4f", b->s.med / f->s.med);
		fprintf(csv, ",%s,\"%s\"\n", f->status == 0 ? "ok" :
			f->status == CELL_SKIP ? "skip" : "fail", f->err);
	}
	fclose(csv);
}

/* ------------------------------------------------------------ one shot */

/*
 * Where map's time crosses below the pipe's for good: the start of the
 * last run of sizes where mapping wins, to the largest (log-log
 * interpolation between the two sizes around it). Printed once: noisy
 * figures may win and lose again below it.
 */
static void crossover(int kind, const uint64_t *xs, int nx)
{
	double prev_r = 0, r = 0, x = 0;
	int j, first_win = -1;

	for (j = 0; j < nx; j++) {
		const struct fig *p = fig_get(S_ONESHOT, "pipe", NULL, xs[j]);
		const struct fig *m = fig_get(S_ONESHOT, oneshot_names[kind],
					      NULL, xs[j]);

		if (!fig_ok(p) || !fig_ok(m)) {
			say("  %s: not measured at every size\n",
			    oneshot_labels[kind]);
			return;
		}
		r = p->s.med / m->s.med;	/* > 1: mapping wins */
		if (r > 1 && first_win < 0) {
			first_win = j;
			if (j > 0) {
				double a = log(prev_r), b = log(r);
				double t = a == b ? 0 : -a / (b - a);

				x = exp(log((double)xs[j - 1]) +
					t * (log((double)xs[j]) -
					     log((double)xs[j - 1])));
			}
		}
		if (r <= 1)
			first_win = -1;		/* must keep winning */
		prev_r = r;
	}
	if (first_win == 0)
		say("  %s wins at every size measured, from %s\n",
		    oneshot_labels[kind], size_str(xs[0]));
	else if (first_win < 0)
		say("  %s does not win at any size up to %s (at %s it takes"
		    " %sx the pipe's time)\n", oneshot_labels[kind],
		    size_str(xs[nx - 1]), size_str(xs[nx - 1]), num(1 / r));
	else
		say("  %s starts to win at about %s (between %s and %s);"
		    " at %s it takes %s of the pipe's time\n",
		    oneshot_labels[kind],
		    size_str(((uint64_t)x + 512) / 1024 * 1024),
		    size_str(xs[first_win - 1]), size_str(xs[first_win]),
		    size_str(xs[nx - 1]), num(1 / r));
}

void suite_oneshot(void)
{
	const char *keys[ONESHOT_KINDS + 1], *labels[ONESHOT_KINDS + 1];
	struct cell *c = cell_new();
	int nx = nsizes(P.oneshot_sizes), k, j, i;
	FILE *csv;

	for (k = 0; k < ONESHOT_KINDS; k++) {
		keys[k] = oneshot_names[k];
		labels[k] = oneshot_labels[k];
	}
	keys[k] = NULL;
	for (j = 0; j < nx; j++) {
		for (k = 0; k < ONESHOT_KINDS; k++) {
			struct oneshot_arg a = { k, P.oneshot_sizes[j],
						 P.oneshot_budget, MAX_REPS };
			const struct fig *f;

			if (late())
				cell_skip(c, "%s", late());
			else
				run_cell(c, oneshot_cell, &a, cell_timeout(a.budget));
			f = fig_add(S_ONESHOT, oneshot_names[k], oneshot_labels[k],
				    NULL, P.oneshot_sizes[j], c, NULL);
			progress("oneshot %8s %-22s %10s us %s\n",
				 size_str(P.oneshot_sizes[j]), oneshot_labels[k],
				 fig_cell(f, 1e6), f->status ? f->err : "");
		}
	}
	say("\n== Copy vs map, one transfer: send once, the receiver reads every byte ==\n");
	say("  pipe: fill a buffer, write it, the peer reads and sums it, acks\n");
	say("  map: create a channel, map, fill, pass its name; the peer opens, maps,\n"
	    "  sums, unmaps, acks; unmap and destroy. Microseconds, median\n");
	matrix(S_ONESHOT, keys, labels, NULL, P.oneshot_sizes, nx, M_MEDIAN, 1e6,
	       NULL, false, false);
	say("  ratio: pipe's time / this time (above 1: mapping wins)\n");
	matrix(S_ONESHOT, keys, labels, NULL, P.oneshot_sizes, nx, M_RATIO, 1,
	       "pipe", false, false);
	for (k = 1; k < ONESHOT_KINDS; k++)
		crossover(k, P.oneshot_sizes, nx);
	report_errors(S_ONESHOT);

	csv = csv_open("oneshot.csv", "mechanism,label,size,median_us,min_us,"
		       "max_us,reps,ratio_vs_pipe,status,note");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i], *b;

		if (f->suite != S_ONESHOT)
			continue;
		b = fig_get(S_ONESHOT, "pipe", NULL, f->x);
		fprintf(csv, "%s,%s,%llu,%.3f,%.3f,%.3f,%d,", f->key, f->label,
			(unsigned long long)f->x, f->s.med * 1e6, f->s.min * 1e6,
			f->s.max * 1e6, f->s.n);
		if (fig_ok(f) && fig_ok(b))
			fprintf(csv, "%.4f", b->s.med / f->s.med);
		fprintf(csv, ",%s,\"%s\"\n", f->status == 0 ? "ok" :
			f->status == CELL_SKIP ? "skip" : "fail", f->err);
	}
	fclose(csv);
}

/* ------------------------------------------------------------ scale */

uint64_t scale_xs[MAX_SIZES];

void suite_scale(void)
{
	struct cell *c = cell_new();
	int nx = ncounts(P.scale_counts, false), k, j, op, i;
	FILE *csv;

	if (nx > MAX_COUNTS)
		nx = MAX_COUNTS;
	for (j = 0; j < nx; j++)
		scale_xs[j] = (uint64_t)P.scale_counts[j];
	for (k = 0; k < SCALE_KINDS; k++) {
		struct scale_arg a = { .kind = k, .ncounts = nx,
				       .ops = P.scale_ops, .sweeps = P.scale_sweeps };

		memcpy(a.counts, P.scale_counts, sizeof(long) * (size_t)nx);
		run_cell(c, scale_cell, &a, 900);
		for (j = 0; j < nx; j++)
			for (op = 0; op < OP_COUNT; op++) {
				const struct fig *f =
					fig_add(S_SCALE, scale_names[k],
						scale_labels[k], op_names[op],
						scale_xs[j], c,
						c->extra[op * MAX_COUNTS + j]);

				progress("scale   %8ld %-14s %-8s %10s us %s\n",
					 P.scale_counts[j], scale_labels[k],
					 op_names[op], fig_cell(f, 1e6),
					 f->status ? f->err : "");
			}
	}
	say("\n== Scale: create / open / destroy with N objects already there ==\n");
	say("  microseconds per operation: per sweep the median of %d operations,\n"
	    "  then the median of %d sweeps (up and down through N); flat = slowest / fastest\n",
	    P.scale_ops, P.scale_sweeps);
	say("  %-24s", "N =");
	for (j = 0; j < nx; j++)
		say(" %9ld", P.scale_counts[j]);
	say(" %9s\n", "flat");
	for (k = 0; k < SCALE_KINDS; k++)
		for (op = 0; op < OP_COUNT; op++) {
			char label[64];

			snprintf(label, sizeof(label), "%s %s", scale_labels[k],
				 op_names[op]);
			say("  %-24s", label);
			for (j = 0; j < nx; j++)
				say(" %9s", fig_cell(fig_get(S_SCALE, scale_names[k],
							     op_names[op],
							     scale_xs[j]), 1e6));
			say(" %9s\n", num(flatness(S_SCALE, scale_names[k],
						   op_names[op], scale_xs, nx)));
		}
	report_errors(S_SCALE);

	csv = csv_open("scale.csv", "mechanism,existing,op,median_us,min_us,"
		       "max_us,reps,status,note");
	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i];

		if (f->suite != S_SCALE)
			continue;
		fprintf(csv, "%s,%llu,%s,%.3f,%.3f,%.3f,%d,%s,\"%s\"\n", f->key,
			(unsigned long long)f->x, f->sub, f->s.med * 1e6,
			f->s.min * 1e6, f->s.max * 1e6, f->s.n,
			f->status == 0 ? "ok" : f->status == CELL_SKIP ? "skip"
								       : "fail",
			f->err);
	}
	fclose(csv);
}
