/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan-bench, the orchestrator's side: the plan of a run, the figure
 * store and its tables, the suites and the targets. bench.h is the
 * measuring side (the runner and the peer: cells, mechanisms, drivers).
 *
 * Where things are (adding a mechanism or a target touches one place):
 *   main.c          the command line, the plans, the run order and the
 *                   suites' shares of the time
 *   env.c           the machine: the environment header, the vCPUs'
 *                   parallelism, whether the queue is there
 *   figures.c       output (stdout + summary.txt, CSV files), the figure
 *                   store, the matrices every suite prints
 *   suite_ipc.c     latency, throughput, wake, pair: two processes and a
 *                   mechanism between them
 *   suite_region.c  setup, oneshot, scale: regions and their names
 *   targets.c       the targets (a table: one entry per target) and the
 *                   table of shmchan against the alternatives
 *   mechs.c         THE TABLE OF MECHANISMS (one line per mechanism), and
 *                   which of them run
 *   mech_*.c        the mechanisms, one file per family (mech_*.cc: C++)
 *   drive.c         the drivers: round trips, streams, one-core references
 *   setup.c, scale.c  the runners of the setup, oneshot and scale suites
 */
#ifndef SHMCHAN_BENCH_SUITES_H
#define SHMCHAN_BENCH_SUITES_H

#include "bench.h"

/* ------------------------------------------------------------ plan (main.c) */

enum { S_LATENCY, S_THROUGHPUT, S_SETUP, S_ONESHOT, S_SCALE, S_WAKE,
       S_PAIR, S_HUGE, S_COUNT, S_LOCAL = S_COUNT };
extern const char *const suite_names[S_COUNT];

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
	double par_wait;			/* par_settle() before throughput */
	double limit;				/* seconds for the whole run */
};

extern struct plan P;			/* this run's */
extern const char *only_mechs;		/* --mechs, or NULL */

/* Why the current suite skips its next figure (out of time), or NULL. */
const char *late(void);

int nsizes(const uint64_t *v);
int ncounts(const long *v, bool zero_first);

static inline double cell_timeout(double budget)
{
	return 60 + 20 * budget;
}

/* ------------------------------------------------------------ output (figures.c) */

extern const char *out_dir;
extern FILE *summary;

/* Print to stdout and summary.txt. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What say() prints between these goes to the top of summary.txt. */
void say_top_begin(void);
void say_top_end(void);
/* Close summary.txt (the top text moved to its top). */
void summary_close(void);
/* Progress on stderr. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
FILE *csv_open(const char *name, const char *header);
/* A number with 3-4 significant digits (a ring of static buffers). */
const char *num(double v);

/* ------------------------------------------------------------ figures (figures.c) */

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

extern struct fig *figs;
extern int nfigs;

struct fig *fig_add(int suite, const char *key, const char *label,
		    const char *sub, uint64_t x, const struct cell *c,
		    const double *v);
const struct fig *fig_get(int suite, const char *key, const char *sub,
			  uint64_t x);
bool fig_ok(const struct fig *f);
/* A cell of a matrix: the median, or why there is none. */
const char *fig_cell(const struct fig *f, double scale);
/* The ratio of two figures' medians, or NAN when one is missing. */
double ratio_of(int suite, const char *a, const char *b, const char *sub,
		uint64_t x);
double med(int suite, const char *key, const char *sub, uint64_t x);
/* slowest / fastest of a key's figures over @xs */
double flatness(int suite, const char *key, const char *sub,
		const uint64_t *xs, int nx);

void report_errors(int suite);
/* Matrix of one suite: rows are keys (in @keys order), columns @xs. */
enum { M_MEDIAN, M_SPREAD, M_RATIO, M_P50 };
void matrix(int suite, const char *const *keys, const char *const *labels,
	    const char *sub, const uint64_t *xs, int nx, int what,
	    double scale, const char *base, bool higher_better,
	    bool x_is_count);

/* ------------------------------------------------------------ mechanisms (mechs.c) */

bool mech_wanted(const struct mech *m, unsigned int def_cap);
/* Why @m cannot run here, or NULL. */
const char *mech_missing(const struct mech *m);

/* ------------------------------------------------------------ suites */

void suite_latency(void);		/* suite_ipc.c */
void suite_throughput(void);
void suite_wake(void);
void suite_pair(void);
void suite_setup(void);			/* suite_region.c */
void suite_oneshot(void);
void suite_scale(void);

/*
 * The copy floor (latency suite): sizes from COPY_FLOOR_MIN get a memcpy
 * row and a floor row (zero-copy round trip + 4 memcpy); the target is
 * copy round trip / floor at most COPY_FLOOR_GOAL.
 */
#define COPY_FLOOR_MIN	(4 * KiB)
#define COPY_FLOOR_GOAL	1.2

/* What the pair suite found (for the targets). */
struct pairs {
	int n;
	double ratio[MAX_REPS], raw[MAX_REPS], futex[MAX_REPS];
	struct stat3 r;
	double q1, q3, med_ratio_of_medians;
	char why[240];
};
extern struct pairs pairs;

/* WAITV of one word against WAIT, in ABBA pairs (mech_waitv.c) */
struct waitv_pairs {
	int n;
	double waitv[MAX_REPS], wait[MAX_REPS], ratio[MAX_REPS]; /* seconds */
	struct stat3 r;		/* of ratio[] */
	char why[240];		/* when n is 0 */
};
extern struct waitv_pairs wpairs;

/*
 * The "huge" suite (mech_huge.c): 4 KiB pages against SHMCHAN_CREATE_HUGE;
 * huge_read_ratio is 4 KiB / huge random-read time, NAN unless every 2 MiB
 * got a huge folio (huge_why says why not)
 */
int suite_huge_run(const char *out_dir, FILE *out, uint64_t want, int reps,
		   double timeout);
extern double huge_read_ratio;
extern char huge_why[160];
void waitv_pairs_run(struct waitv_pairs *wp, int npairs, double budget,
		     void (*out)(const char *fmt, ...));
/* The scale suite's x values (existing channels). */
extern uint64_t scale_xs[MAX_SIZES];

/* ------------------------------------------------------------ targets (targets.c) */

void targets(void);
/* "shmchan against the alternatives": the peers (M_PEER) against the queue */
void alternatives(void);

/* ------------------------------------------------------------ machine (env.c) */

void setup_cpus(void);
void probe_queue(void);
void environment(const char *suites_run);
/* Measure the vCPUs' parallelism now, noted as before @when. */
void par_measure(const char *when);
/*
 * When the last parallelism measured is below PAR_OK, wait and measure
 * again, for at most @max_wait seconds; the summary says so.
 */
#define PAR_OK		1.6
void par_settle(double max_wait);
/* What par_settle() did, for the targets ("" when it had nothing to do). */
const char *par_settle_note(void);
/* The lower of the parallelism measured before @suite and after it. */
double par_around(int suite);
/* The parallelism figures, and the warning when some were low. */
void par_report(double t0);

#endif /* SHMCHAN_BENCH_SUITES_H */
