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
 * then the targets, each against its measured ratio.
 *
 * This file: the command line, the plans and the run order. suites.h
 * says where everything else is.
 *
 * Output: tables on stdout (also summary.txt), CSV files and env.txt in
 * --out. It never fails because of a figure: the exit status is 0 unless
 * the program itself could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shmchan.h>

#include "suites.h"

/* ------------------------------------------------------------ plan */

const char *const suite_names[S_COUNT] = {
	"latency", "throughput", "setup", "oneshot", "scale", "wake", "pair",
	"huge",
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
	.par_wait = 45,
	.limit = 560,
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
	.par_wait = 15,
	.limit = 120,
};

struct plan P;
const char *only_mechs;

/*
 * Time: each suite gets a share of the run's limit, plus whatever the
 * suites before it left unused. A suite past its deadline skips its
 * remaining figures (the largest sizes come last), so that the run ends
 * in time on a slow or busy host.
 */
static const double suite_share[S_COUNT] = {
	0.36, 0.27, 0.18, 0.05, 0.05, 0.05, 0.04, 0,
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
const char *late(void)
{
	static char why[96];

	if (!run_limit || now() < suite_deadline)
		return NULL;
	snprintf(why, sizeof(why), "no time left (run limit %.0f s)", run_limit);
	return why;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
"usage: shmchan-bench [--quick] [--out DIR] [--suites LIST] [--mechs LIST]\n"
"                     [--sizes LIST] [--budget S] [--reps N] [--spin-ns N]\n"
"  --quick        the short plan (under 3 minutes in the VM); default: full\n"
"  --out DIR      where CSV files, env.txt and summary.txt go (made if missing)\n"
"  --suites LIST  comma-separated: latency,throughput,setup,oneshot,scale,wake,pair,\n"
"                 huge\n"
"  --mechs LIST   mechanisms for latency and throughput (--list names them)\n"
"  --sizes LIST   message sizes for latency and throughput, e.g. 64,4K,1M\n"
"  --setup-sizes LIST  region sizes for the setup suite\n"
"  --max-seconds S  time for the whole run (full 560, quick 120; 0: no limit);\n"
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
		par_measure(suite_names[s]);
		if (s == S_THROUGHPUT)	/* the memcpy / zero-copy target */
			par_settle(P.par_wait);
		suite_begin(s);
		switch (s) {
		case S_LATENCY: suite_latency(); break;
		case S_THROUGHPUT: suite_throughput(); break;
		case S_SETUP: suite_setup(); break;
		case S_ONESHOT: suite_oneshot(); break;
		case S_SCALE: suite_scale(); break;
		case S_WAKE: suite_wake(); break;
		case S_PAIR:
			suite_pair();
			waitv_pairs_run(&wpairs, P.pairs, P.pair_budget, say);
			break;
		case S_HUGE:
			suite_huge_run(out_dir, summary, P.huge_size, P.reps, 300);
			break;
		}
	}
	par_measure("end");
	alternatives();
	targets();
	par_report(t0);
	say("took %.0f s; results in %s\n", now() - t0, out_dir);
	summary_close();
	return 0;
}
