// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the machine. The CPUs we may run on, the header of the
 * summary (kernel, CPU, placement, module), whether the queue is there,
 * and how parallel the two vCPUs really are (measured before each suite:
 * under TCG on a busy host they may take turns on one host CPU).
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmchan.h>

#include "suites.h"

static double par_start;
static double parallelism(void);
static double par[S_COUNT + 2];
static const char *par_when[S_COUNT + 2];
static int npar;

/* The vCPUs' parallelism around a suite: the lower of the figures
 * measured before it and after it (before the next one). */
double par_around(int suite)
{
	int i;

	for (i = 0; i + 1 < npar; i++)
		if (par_when[i] == suite_names[suite])
			return fmin(par[i], par[i + 1]);
	return NAN;
}

void environment(const char *suites_run)
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
	/* a stall of the host only lengthens a run: the shorter of two is
	 * one CPU's time (one run alone gave figures above 2) */
	t1 = fmin(spin_for(n), spin_for(n));
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
void probe_queue(void)
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

void setup_cpus(void)
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

void par_measure(const char *when)
{
	par[npar] = parallelism();
	par_when[npar++] = when;
}

static char settle_note[200];

const char *par_settle_note(void)
{
	return settle_note;
}

/*
 * Before the throughput suite: when the host lets the two vCPUs only take
 * turns, two processes move half of what they could, and memcpy / zero
 * copy would measure the host, not shmchan. Wait (other VMs' bursts pass)
 * and measure again, bounded; the figure kept for the suite is the last.
 */
void par_settle(double max_wait)
{
	double first, v, t0 = now();
	int tries = 0;

	if (!npar || isnan(par[npar - 1]) || par[npar - 1] >= PAR_OK)
		return;
	first = v = par[npar - 1];
	progress("parallelism %.2f below %.1f: waiting up to %.0f s\n", first,
		 PAR_OK, max_wait);
	/* above 2.2 is a measurement stalled, not a parallel host */
	while ((v < PAR_OK || v > 2.2) && now() - t0 + 3 <= max_wait) {
		usleep(3000000);
		v = parallelism();
		tries++;
	}
	par[npar - 1] = v;
	snprintf(settle_note, sizeof(settle_note),
		 "parallelism before the throughput suite %s (below %s): waited %.0f s,"
		 " %d re-measures, then %s%s", num(first), num(PAR_OK), now() - t0,
		 tries, num(v), v < PAR_OK ? ": still low, a host taking turns" : "");
	say("\nnote: %s\n", settle_note);
}

void par_report(double t0)
{
	double lo = INFINITY;
	char path2[4096];
	FILE *f;
	int i;

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
