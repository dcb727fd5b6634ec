// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: copy vs map, measured.
 *
 * Suites (all by default, in this order):
 *   latency     round trips between two processes, every mechanism
 *   throughput  one-way streams, the mechanisms that have flow control,
 *               with single-core memcpy (and fill + sum) as references
 *   setup       create + map + touch + unmap + destroy of a region
 *   oneshot     one transfer: a pipe against a channel made for it
 *   scale       create/open/destroy with many channels in existence
 *   wake        wait/wake round trip with unrelated waiters parked
 *   pair        shmchan wait/wake against the futex, interleaved
 * then the targets of issue 6, each against its measured ratio.
 *
 * Output: tables on stdout (also summary.txt), CSV files and env.txt in
 * --out. It never fails because of a figure: the exit status is 0 unless
 * the program itself could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

const char *shmchan_missing;
const char *queue_missing;

/* ------------------------------------------------------------ plan */

enum { S_LATENCY, S_THROUGHPUT, S_SETUP, S_ONESHOT, S_SCALE, S_WAKE,
       S_PAIR, S_HUGE, S_COUNT, S_LOCAL = S_COUNT };
static const char *const suite_names[S_COUNT] = {
	"latency", "throughput", "setup", "oneshot", "scale", "wake", "pair",
	"huge",
};

struct plan {
	const char *name;
	uint64_t sizes[MAX_SIZES];		/* latency and throughput */
	double lat_budget, stream_budget;
	int reps;
	uint64_t stream_max;			/* bytes per figure */
	uint64_t setup_sizes[MAX_SIZES];
	int setup_rounds;
	double setup_budget;			/* per round and kind */
	uint64_t oneshot_sizes[MAX_SIZES];
	double oneshot_budget;
	long scale_counts[MAX_SIZES];
	int scale_ops, scale_sweeps;
	long wake_counts[MAX_SIZES];
	int pairs;
	double pair_budget;
	uint64_t huge_size;			/* mech_huge.c's channel */
	double limit;				/* seconds for the whole run */
};

static const struct plan full_plan = {
	.name = "full",
	.sizes = { 8, 64, 512, 4 * KiB, 32 * KiB, 256 * KiB, MiB, 16 * MiB },
	.lat_budget = 1.0, .stream_budget = 1.2, .reps = 7,
	.stream_max = GiB,
	.setup_sizes = { 4 * KiB, 64 * KiB, MiB, 16 * MiB, 256 * MiB, GiB },
	.setup_rounds = 3, .setup_budget = 0.2,
	.oneshot_sizes = { 4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB,
			   128 * KiB, 256 * KiB, 512 * KiB, MiB, 2 * MiB,
			   4 * MiB, 8 * MiB, 16 * MiB },
	.oneshot_budget = 0.3,
	.scale_counts = { 10, 100, 1000, 10000 },
	.scale_ops = 100, .scale_sweeps = 6,
	.wake_counts = { 0, 10, 100, 1000 },
	.pairs = 12, .pair_budget = 0.4,
	.huge_size = GiB,
	.limit = 540,
};

static const struct plan quick_plan = {
	.name = "quick",
	.sizes = { 8, 64, 4 * KiB, 64 * KiB, MiB },
	.lat_budget = 0.25, .stream_budget = 0.3, .reps = 5,
	.stream_max = 256 * MiB,
	.setup_sizes = { 4 * KiB, MiB, 64 * MiB },
	.setup_rounds = 2, .setup_budget = 0.05,
	.oneshot_sizes = { 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB,
			   4 * MiB, 16 * MiB },
	.oneshot_budget = 0.1,
	.scale_counts = { 10, 1000, 10000 },
	.scale_ops = 60, .scale_sweeps = 2,
	.wake_counts = { 0, 1000 },
	.pairs = 6, .pair_budget = 0.2,
	.huge_size = 256 * MiB,
	.limit = 100,
};

static struct plan P;

/*
 * Time: each suite gets a share of the run's limit, plus whatever the
 * suites before it left unused. A suite past its deadline skips its
 * remaining figures (the largest sizes come last), so that the run ends
 * in time on a slow or busy host.
 */
static const double suite_share[S_COUNT] = {
	0.33, 0.25, 0.21, 0.06, 0.05, 0.05, 0.05, 0,
};
static double run_limit, run_start, suite_deadline;

static void suite_begin(int s)
{
	double cum = 0;
	int i;

	for (i = 0; i <= s; i++)
		cum += suite_share[i];
	suite_deadline = run_start + run_limit * cum;
}

/* Why the current suite skips its next figure, or NULL. */
static const char *late(void)
{
	static char why[96];

	if (!run_limit || now() < suite_deadline)
		return NULL;
	snprintf(why, sizeof(why), "no time left (run limit %.0f s)", run_limit);
	return why;
}
static const char *out_dir = "shmchan-bench-out";
static FILE *summary;
static const char *only_mechs;

static int nsizes(const uint64_t *v)
{
	int n = 0;

	while (n < MAX_SIZES && v[n])
		n++;
	return n;
}

static int ncounts(const long *v, bool zero_first)
{
	int n = zero_first ? 1 : 0;

	while (n < MAX_SIZES && v[n])
		n++;
	return n;
}

/* ------------------------------------------------------------ output */

/* Print to stdout and summary.txt. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (summary) {
		va_start(ap, fmt);
		vfprintf(summary, fmt, ap);
		va_end(ap);
	}
	fflush(stdout);
}

/* Progress on stderr. */
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static FILE *csv_open(const char *name, const char *header)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%s\n", header);
	return f;
}

/* A number with 3-4 significant digits. */
static const char *num(double v)
{
	static char ring[16][32];
	static int next;
	char *s = ring[next++ % 16];
	double a = fabs(v);

	if (isnan(v))
		snprintf(s, 32, "-");
	else if (a == 0)
		snprintf(s, 32, "0");
	else if (a < 0.01)
		snprintf(s, 32, "%.4f", v);
	else if (a < 1)
		snprintf(s, 32, "%.3f", v);
	else if (a < 10)
		snprintf(s, 32, "%.2f", v);
	else if (a < 100)
		snprintf(s, 32, "%.1f", v);
	else
		snprintf(s, 32, "%.0f", v);
	return s;
}

/* ------------------------------------------------------------ figures */

/*
 * struct fig - one figure of one suite
 * @key: the mechanism (or kind) name, @sub the phase or operation
 * @x: message size, region size, existing channels or waiters
 * @s: statistics of the repetitions' values (seconds, or bytes/s)
 */
struct fig {
	int suite;
	char key[40];
	char label[48];
	char sub[32];
	uint64_t x;
	struct stat3 s;
	double p50, p90;	/* single round trips (latency, wake) */
	int status;
	char err[240];
	char note[240];
	uint64_t ops, bytes;
};

static struct fig *figs;
static int nfigs, capfigs;

static struct fig *fig_add(int suite, const char *key, const char *label,
			   const char *sub, uint64_t x, const struct cell *c,
			   const double *v)
{
	struct fig *f;

	if (nfigs == capfigs) {
		capfigs = capfigs ? 2 * capfigs : 256;
		figs = realloc(figs, sizeof(*figs) * (size_t)capfigs);
		if (!figs)
			die("out of memory");
	}
	f = &figs[nfigs++];
	memset(f, 0, sizeof(*f));
	f->suite = suite;
	snprintf(f->key, sizeof(f->key), "%s", key);
	snprintf(f->label, sizeof(f->label), "%s", label);
	snprintf(f->sub, sizeof(f->sub), "%s", sub ? sub : "");
	f->x = x;
	f->status = c->status;
	snprintf(f->err, sizeof(f->err), "%s", c->err);
	snprintf(f->note, sizeof(f->note), "%s", c->note);
	f->ops = c->ops;
	f->bytes = c->bytes;
	if (c->status == 0)
		f->s = stats(v ? v : c->v, c->n);
	if ((suite == S_LATENCY || suite == S_WAKE) && c->status == 0) {
		f->p50 = c->extra[0][0];
		f->p90 = c->extra[1][0];
	}
	return f;
}

static const struct fig *fig_get(int suite, const char *key, const char *sub,
				 uint64_t x)
{
	int i;

	for (i = 0; i < nfigs; i++)
		if (figs[i].suite == suite && !strcmp(figs[i].key, key) &&
		    !strcmp(figs[i].sub, sub ? sub : "") && figs[i].x == x)
			return &figs[i];
	return NULL;
}

static bool fig_ok(const struct fig *f)
{
	return f && f->status == 0 && f->s.n > 0;
}

/* A cell of a matrix: the median, or why there is none. */
static const char *fig_cell(const struct fig *f, double scale)
{
	if (!f)
		return "-";
	if (f->status == CELL_SKIP)
		return "skip";
	if (f->status == -ETIMEDOUT)
		return "timeout";
	if (f->status)
		return "FAIL";
	return num(f->s.med * scale);
}

static void report_errors(int suite)
{
	int i, j, shown = 0;

	for (i = 0; i < nfigs; i++) {
		const struct fig *f = &figs[i];

		if (f->suite != suite || !f->status)
			continue;
		/* one line per key and reason */
		for (j = 0; j < i; j++)
			if (figs[j].suite == suite && figs[j].status &&
			    !strcmp(figs[j].key, f->key) &&
			    !strcmp(figs[j].err, f->err))
				break;
		if (j < i)
			continue;
		if (!shown++)
			say("  not measured:\n");
		say("    %s%s%s @ %s: %s %s\n", f->key, f->sub[0] ? " " : "",
		    f->sub, suite == S_SCALE || suite == S_WAKE ?
		    num((double)f->x) : size_str(f->x),
		    f->status == CELL_SKIP ? "skipped," : "failed,", f->err);
	}
}

/* Matrix of one suite: rows are keys (in @keys order), columns @xs. */
enum { M_MEDIAN, M_SPREAD, M_RATIO, M_P50 };
static void matrix(int suite, const char *const *keys, const char *const *labels,
		   const char *sub, const uint64_t *xs, int nx, int what,
		   double scale, const char *base, bool higher_better,
		   bool x_is_count)
{
	int i, j;

	say("  %-24s", "");
	for (j = 0; j < nx; j++)
		say(" %9s", x_is_count ? num((double)xs[j]) : size_str(xs[j]));
	say("\n");
	for (i = 0; keys[i]; i++) {
		bool any = false;

		for (j = 0; j < nx; j++)
			any |= fig_get(suite, keys[i], sub, xs[j]) != NULL;
		if (!any)
			continue;
		say("  %-24s", labels[i]);
		for (j = 0; j < nx; j++) {
			const struct fig *f = fig_get(suite, keys[i], sub, xs[j]);
			const struct fig *b = base ? fig_get(suite, base, sub, xs[j])
						   : NULL;

			if (what == M_MEDIAN || !fig_ok(f)) {
				say(" %9s", fig_cell(f, scale));
			} else if (what == M_P50) {
				say(" %9s", f->p50 > 0 ? num(f->p50 * scale) : "-");
			} else if (what == M_SPREAD) {
				say(" %8.0f%%", f->s.med ? 100 * (f->s.max - f->s.min) /
						f->s.med : 0);
			} else if (fig_ok(b)) {
				double r = higher_better ? f->s.med / b->s.med
							 : b->s.med / f->s.med;

				say(" %9s", num(r));
			} else {
				say(" %9s", "-");
			}
		}
		say("\n");
	}
}

/* ------------------------------------------------------------ mechanisms */

static bool mech_wanted(const struct mech *m, unsigned int def_cap)
{
	const char *p;
	size_t n;

	if (!only_mechs)
		return m->caps & def_cap;
	n = strlen(m->name);
	for (p = only_mechs; (p = strstr(p, m->name)); p += n)
		if ((p == only_mechs || p[-1] == ',') &&
		    (p[n] == 0 || p[n] == ','))
			return true;
	return false;
}

/* Why @m cannot run here, or NULL. */
static const char *mech_missing(const struct mech *m)
{
	if ((m->caps & M_SHMCHAN) && shmchan_missing)
		return shmchan_missing;
	if ((m->caps & M_QUEUE) && queue_missing)
		return queue_missing;
	if ((m->caps & M_SPIN) && ncpus < 2)
		return "busy-polling needs two CPUs";
	return NULL;
}

static double cell_timeout(double budget)
{
	return 60 + 20 * budget;
}

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

static void suite_latency(void)
{
	const char *keys[32], *labels[32];
	struct cell *c = cell_new();
	int nx = nsizes(P.sizes), nk = 0, i, j;
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

static void suite_throughput(void)
{
	const char *keys[32], *labels[32];
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

/* ------------------------------------------------------------ setup */

static void suite_setup(void)
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

static void suite_oneshot(void)
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

static double flatness(int suite, const char *key, const char *sub,
		       const uint64_t *xs, int nx)
{
	double lo = INFINITY, hi = 0;
	int j;

	for (j = 0; j < nx; j++) {
		const struct fig *f = fig_get(suite, key, sub, xs[j]);

		if (!fig_ok(f))
			return NAN;
		lo = fmin(lo, f->s.med);
		hi = fmax(hi, f->s.med);
	}
	return hi / lo;
}

static uint64_t scale_xs[MAX_SIZES];

static void suite_scale(void)
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

/* ------------------------------------------------------------ wake */

static void suite_wake(void)
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

static struct {
	int n;
	double ratio[MAX_REPS], raw[MAX_REPS], futex[MAX_REPS];
	struct stat3 r;
	double q1, q3, med_ratio_of_medians;
	char why[240];
} pairs;

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

static void suite_pair(void)
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

/* ------------------------------------------------------------ targets */

static double par_around(int suite);
static int targets_met, targets_missed, targets_unknown;
static FILE *tcsv;

static void target(const char *what, double value, const char *op,
		   double goal, const char *detail)
{
	const char *res;

	if (isnan(value)) {
		res = "not measured";
		targets_unknown++;
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

static double ratio_of(int suite, const char *a, const char *b,
		       const char *sub, uint64_t x)
{
	const struct fig *fa = fig_get(suite, a, sub, x);
	const struct fig *fb = fig_get(suite, b, sub, x);

	if (!fig_ok(fa) || !fig_ok(fb))
		return NAN;
	return fa->s.med / fb->s.med;
}

static double med(int suite, const char *key, const char *sub, uint64_t x)
{
	const struct fig *f = fig_get(suite, key, sub, x);

	return fig_ok(f) ? f->s.med : NAN;
}

static void targets(void)
{
	char d[240];
	double v;
	int op;

	tcsv = csv_open("targets.csv", "target,measured,op,goal,result,detail");
	say("\n== Targets (issue 6), each a ratio within this run ==\n");
	say("  %-50s %8s  %-8s %-12s %s\n", "target", "measured", "goal",
	    "result", "detail");

	if (pairs.n) {
		snprintf(d, sizeof(d),
			 "median of %d ABBA pairs; quartiles %s-%s, min-max %s-%s",
			 pairs.n, num(pairs.q1), num(pairs.q3), num(pairs.r.min),
			 num(pairs.r.max));
		target("wait/wake round trip / futex round trip", pairs.r.med,
		       "<=", 1.1, d);
	} else {
		v = ratio_of(S_LATENCY, "shmchan-raw", "futex", NULL, 8);
		snprintf(d, sizeof(d), "8 B, latency suite (no pair suite: %s)",
			 pairs.why[0] ? pairs.why : "not run");
		target("wait/wake round trip / futex round trip", v, "<=", 1.1, d);
	}

	v = ratio_of(S_LATENCY, "queue-adapt", "busy-poll", NULL, 64);
	snprintf(d, sizeof(d), "64 B both; against busy-poll at 8 B (one cache line): %s;"
		 " queue path in one process %s us, busy-poll round trip %s us;"
		 " vCPUs %sx parallel",
		 num(med(S_LATENCY, "queue-adapt", NULL, 64) /
		     med(S_LATENCY, "busy-poll", NULL, 8)),
		 num(med(S_LOCAL, "queue-local", NULL, 64) * 1e6),
		 num(med(S_LATENCY, "busy-poll", NULL, 64) * 1e6),
		 num(par_around(S_LATENCY)));
	target("queue 64 B adaptive / busy-poll floor", v, "<=", 3, d);

	v = ratio_of(S_LATENCY, "pipe", "queue-adapt", NULL, 64);
	snprintf(d, sizeof(d), "round trip, 64 B; the busy-poll floor is %sx faster than the pipe",
		 num(ratio_of(S_LATENCY, "pipe", "busy-poll", NULL, 64)));
	target("pipe / queue 64 B adaptive (times faster)", v, ">=", 20, d);

	v = ratio_of(S_THROUGHPUT, "queue-block", "pipe", NULL, MiB);
	snprintf(d, sizeof(d), "1 MiB messages; adaptive mode: %s",
		 num(ratio_of(S_THROUGHPUT, "queue-adapt", "pipe", NULL, MiB)));
	target("queue throughput (copy, blocking) / pipe", v, ">=", 1.5, d);

	v = ratio_of(S_THROUGHPUT, "zc-block", "pipe", NULL, MiB);
	snprintf(d, sizeof(d), "1 MiB messages; adaptive mode: %s",
		 num(ratio_of(S_THROUGHPUT, "zc-adapt", "pipe", NULL, MiB)));
	target("zero-copy throughput (blocking) / pipe", v, ">=", 3, d);

	v = ratio_of(S_THROUGHPUT, "memcpy", "zc-block", NULL, MiB);
	snprintf(d, sizeof(d), "1 MiB; adaptive mode: %s; zero copy moves %sx what one"
		 " core fills and sums alone (2 at best, filling and summing on"
		 " two CPUs at once; the vCPUs were %sx parallel)",
		 num(ratio_of(S_THROUGHPUT, "memcpy", "zc-adapt", NULL, MiB)),
		 num(ratio_of(S_THROUGHPUT, "zc-block", "fill+sum", NULL, MiB)),
		 num(par_around(S_THROUGHPUT)));
	target("memcpy (1 core) / zero-copy throughput", v, "<=", 2, d);

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
		v = at ? ratio_of(S_SETUP, "shmchan", "memfd", "create+map+touch",
				  at) : NAN;
		snprintf(d, sizeof(d), "%s%s; with populate: %s",
			 at ? size_str(at) : "1 GiB",
			 at && at != GiB ? " (1 GiB not measured)" : "",
			 num(at ? ratio_of(S_SETUP, "shmchan-populate", "memfd",
					   "create+map+touch", at) : NAN));
		target("shmchan create+map+touch / memfd", v, "<=", 1.1, d);
	}

	for (op = 0; op < OP_COUNT; op++) {
		int nx = ncounts(P.scale_counts, false);
		char what[80];

		snprintf(what, sizeof(what), "%s: slowest / fastest, %ld..%ld channels",
			 op_names[op], P.scale_counts[0], P.scale_counts[nx - 1]);
		snprintf(d, sizeof(d), "shm_open: %s",
			 num(flatness(S_SCALE, "shm_open", op_names[op],
				      scale_xs, nx)));
		target(what, flatness(S_SCALE, "shmchan", op_names[op], scale_xs,
				      nx), "<=", 1.5, d);
	}
	say("  %d met, %d missed, %d not measured\n", targets_met, targets_missed,
	    targets_unknown);
	fclose(tcsv);
}

/* ------------------------------------------------------------ environment */

static double par_start;
static double parallelism(void);
static double par[S_COUNT + 2];
static const char *par_when[S_COUNT + 2];
static int npar;

/* The vCPUs' parallelism around a suite: the lower of the figures
 * measured before it and after it (before the next one). */
static double par_around(int suite)
{
	int i;

	for (i = 0; i + 1 < npar; i++)
		if (par_when[i] == suite_names[suite])
			return fmin(par[i], par[i + 1]);
	return NAN;
}

static void environment(const char *suites_run)
{
	char path[4096], model[256] = "unknown";
	struct utsname u;
	struct shmchan_features ft;
	FILE *f, *cpu;
	char line[512];

	uname(&u);
	cpu = fopen("/proc/cpuinfo", "r");
	while (cpu && fgets(line, sizeof(line), cpu))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			snprintf(model, sizeof(model), "%s", p ? p + 2 : line);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (cpu)
		fclose(cpu);
	snprintf(path, sizeof(path), "%s/env.txt", out_dir);
	f = fopen(path, "w");
	say("shmchan-bench, %s run (%s)\n", P.name, suites_run);
	say("kernel %s %s, %d CPU(s): %s\n", u.release, u.machine, ncpus, model);
	if (ncpus >= 2)
		say("placement: runner (sender) pinned to CPU %d, peer (receiver) to CPU %d\n",
		    cpu_of[0], cpu_of[1]);
	else
		say("placement: one CPU, both processes share it; busy-polling skipped\n");
	if (shmchan_missing)
		say("shmchan: %s\n", shmchan_missing);
	else if (!shmchan_features(&ft))
		say("shmchan: module ABI %u%s\n", ft.abi_version,
		    queue_missing ? ", queue not available" : "");
	par_start = parallelism();
	say("parallelism: two CPUs did %sx the work of one in the same time "
	    "(2 = fully parallel)\n", num(par_start));
	say("repetitions: %d per figure after a warm-up; figures are medians, "
	    "spreads are (max - min) / median\n", P.reps);
	if (f) {
		fprintf(f, "plan=%s\nsuites=%s\nkernel=%s\nmachine=%s\ncpus=%d\n"
			"cpu_model=%s\nrunner_cpu=%d\npeer_cpu=%d\n"
			"parallelism_start=%.3f\nshmchan=%s\n",
			P.name, suites_run, u.release, u.machine, ncpus, model,
			cpu_of[0], cpu_of[1], par_start,
			shmchan_missing ? shmchan_missing : "loaded");
		fclose(f);
	}
}

/*
 * How parallel are the two CPUs really? Under TCG on a busy host the two
 * vCPUs may share one host CPU. A loop on one CPU, then the same loop on
 * both at once: 2.00 means they ran fully in parallel, 1.00 not at all.
 */
static double spin_for(uint64_t n)
{
	volatile uint64_t x = 0;
	double t0 = now();
	uint64_t i;

	for (i = 0; i < n; i++)
		x += i;
	return now() - t0;
}

static void parallel_cell(struct cell *c, const void *arg)
{
	_Atomic int *go = shared_anon(sizeof(*go));
	uint64_t n = 1 << 16;
	double t1, t0, t2;
	pid_t pid;
	int st;

	(void)arg;
	pin(0);
	while (spin_for(n) < 0.05)
		n *= 2;
	t1 = spin_for(n);
	pid = fork();
	if (pid == 0) {
		pin(1);
		while (!*go)
			;
		spin_for(n);
		_exit(0);
	}
	*go = 1;
	t0 = now();
	spin_for(n);
	waitpid(pid, &st, 0);
	t2 = now() - t0;
	c->v[0] = 2 * t1 / t2;
	c->n = 1;
}

static double parallelism(void)
{
	struct cell *c = cell_new();
	double v;

	if (ncpus < 2)
		return NAN;
	run_cell(c, parallel_cell, NULL, 60);
	v = c->status ? NAN : c->v[0];
	munmap(c, sizeof(*c));
	return v;
}

/* Is the queue implemented? A create of a throwaway queue tells. */
static void probe_queue(void)
{
	struct shmchan_queue *q;
	char name[64];
	int r;

	if (shmchan_missing) {
		queue_missing = shmchan_missing;
		return;
	}
	snprintf(name, sizeof(name), "shmchan-bench.%d.probe", (int)getpid());
	r = shmchan_queue_create(name, 2 * 4096 + 65536, 0600,
				 SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV |
				 SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT, &q);
	if (r) {
		static char why[128];

		snprintf(why, sizeof(why), "libshmchan's queue: %s", strerror(-r));
		queue_missing = why;
		return;
	}
	shmchan_queue_close(q);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
"usage: shmchan-bench [--quick] [--out DIR] [--suites LIST] [--mechs LIST]\n"
"                     [--sizes LIST] [--budget S] [--reps N] [--spin-ns N]\n"
"  --quick        the short plan (under 2 minutes in the VM); default: full\n"
"  --out DIR      where CSV files, env.txt and summary.txt go (made if missing)\n"
"  --suites LIST  comma-separated: latency,throughput,setup,oneshot,scale,wake,pair,\n"
"                 huge\n"
"  --mechs LIST   mechanisms for latency and throughput (--list names them)\n"
"  --sizes LIST   message sizes for latency and throughput, e.g. 64,4K,1M\n"
"  --setup-sizes LIST  region sizes for the setup suite\n"
"  --max-seconds S  time for the whole run (full 540, quick 100; 0: no limit);\n"
"                 each suite has a share, and skips what does not fit\n"
"  --budget S     seconds per latency/throughput figure\n"
"  --reps N       repetitions per figure\n"
"  --spin-ns N    spin of the queue's adaptive mode (default 50000)\n"
"  --list         list the mechanisms\n");
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K': v *= KiB; break;
	case 'm': case 'M': v *= MiB; break;
	case 'g': case 'G': v *= GiB; break;
	case 0: break;
	default: die("bad size '%s'", s);
	}
	if (v < 8 || (uint64_t)v % 8)
		die("size '%s' is not a multiple of 8 bytes", s);
	return (uint64_t)v;
}

static void parse_sizes(const char *list, uint64_t *v)
{
	char *dup = strdup(list), *tok, *save;
	int i = 0;

	memset(v, 0, sizeof(*v) * MAX_SIZES);
	for (tok = strtok_r(dup, ",", &save); tok && i < MAX_SIZES - 1;
	     tok = strtok_r(NULL, ",", &save))
		v[i++] = parse_size(tok);
	free(dup);
}

static void setup_cpus(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	ncpus = CPU_COUNT(&set);
	for (i = 0; i < CPU_SETSIZE && (cpu_of[0] < 0 || cpu_of[1] < 0); i++)
		if (CPU_ISSET(i, &set)) {
			if (cpu_of[0] < 0)
				cpu_of[0] = i;
			else
				cpu_of[1] = i;
		}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "suites", required_argument, NULL, 's' },
		{ "mechs", required_argument, NULL, 'm' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "budget", required_argument, NULL, 'b' },
		{ "reps", required_argument, NULL, 'r' },
		{ "spin-ns", required_argument, NULL, 'p' },
		{ "setup-sizes", required_argument, NULL, 'S' },
		{ "max-seconds", required_argument, NULL, 'T' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *suites = "latency,throughput,setup,oneshot,scale,wake,pair,huge";
	const char *sizes = NULL, *setup_sizes = NULL;
	double budget = 0, max_seconds = -1;
	int reps = 0, o, i, s;
	struct shmchan_features ft;
	char path[4096];
	double t0 = now();

	P = full_plan;
	while ((o = getopt_long(argc, argv, "qfo:s:m:z:S:T:b:r:p:lh", lopts,
				NULL)) != -1) {
		switch (o) {
		case 'q': P = quick_plan; break;
		case 'f': P = full_plan; break;
		case 'o': out_dir = optarg; break;
		case 's': suites = optarg; break;
		case 'm': only_mechs = optarg; break;
		case 'z': sizes = optarg; break;
		case 'S': setup_sizes = optarg; break;
		case 'T': max_seconds = atof(optarg); break;
		case 'b': budget = atof(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'p': opt_spin_ns = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l':
			for (i = 0; mechs[i]; i++)
				printf("%-14s %-22s%s%s%s\n", mechs[i]->name,
				       mechs[i]->label,
				       mechs[i]->caps & M_LAT ? " latency" : "",
				       mechs[i]->caps & M_STREAM ? " stream" : "",
				       mechs[i]->caps & M_SHMCHAN ? " (module)" : "");
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (only_mechs)
		for (const char *p = only_mechs; *p;) {
			char name[64];
			size_t n = strcspn(p, ",");

			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			if (!mech_find(name) && strcmp(name, "memcpy") &&
			    strcmp(name, "fill+sum"))
				die("unknown mechanism '%s' (see --list)", name);
			p += n + (p[n] == ',');
		}
	if (sizes)
		parse_sizes(sizes, P.sizes);
	if (setup_sizes)
		parse_sizes(setup_sizes, P.setup_sizes);
	if (budget > 0)
		P.lat_budget = P.stream_budget = budget;
	run_limit = max_seconds >= 0 ? max_seconds : P.limit;
	run_start = t0;
	if (reps > 0)
		P.reps = reps < MAX_REPS ? reps : MAX_REPS;

	mkdir(out_dir, 0755);
	snprintf(path, sizeof(path), "%s/summary.txt", out_dir);
	summary = fopen(path, "w");
	if (!summary)
		die("%s: %s", path, strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	oom_adj(-1000);		/* as root: never this process */
	ticks_calibrate();
	setup_cpus();
	if (shmchan_features(&ft))
		shmchan_missing = "module not loaded (/dev/shmchan missing): "
				  "run in the VM with make bench";
	probe_queue();
	environment(suites);

	for (s = 0; s < S_COUNT; s++) {
		const char *p = strstr(suites, suite_names[s]);
		size_t n = strlen(suite_names[s]);

		if (!p || (p != suites && p[-1] != ',') || (p[n] && p[n] != ','))
			continue;
		par[npar] = parallelism();
		par_when[npar++] = suite_names[s];
		suite_begin(s);
		switch (s) {
		case S_LATENCY: suite_latency(); break;
		case S_THROUGHPUT: suite_throughput(); break;
		case S_SETUP: suite_setup(); break;
		case S_ONESHOT: suite_oneshot(); break;
		case S_SCALE: suite_scale(); break;
		case S_WAKE: suite_wake(); break;
		case S_PAIR: suite_pair(); break;
		case S_HUGE:
			suite_huge_run(out_dir, summary, P.huge_size, P.reps, 300);
			break;
		}
	}
	par[npar] = parallelism();
	par_when[npar++] = "end";
	targets();
	{
		double lo = INFINITY;
		char path2[4096];
		FILE *f;

		snprintf(path2, sizeof(path2), "%s/env.txt", out_dir);
		f = fopen(path2, "a");
		say("\nparallelism of the two CPUs (2 = fully parallel), before each suite:");
		for (i = 0; i < npar; i++) {
			say(" %s %s", par_when[i], num(par[i]));
			if (f)
				fprintf(f, "parallelism_%s=%.3f\n", par_when[i], par[i]);
			if (!isnan(par[i]))
				lo = fmin(lo, par[i]);
		}
		say("\n");
		if (lo < 1.6)
			say("WARNING: the two vCPUs ran in parallel only %sx at times: the host\n"
			    "was busy (other VMs?) and its scheduling delays are in these figures;\n"
			    "blocking wakeups and busy-polling suffer most. Rerun on a quiet host.\n",
			    num(lo));
		if (f) {
			fprintf(f, "seconds=%.0f\n", now() - t0);
			fclose(f);
		}
	}
	say("took %.0f s; results in %s\n", now() - t0, out_dir);
	fclose(summary);
	return 0;
}
