// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench, suite "huge": a large channel in 4 KiB pages against one
 * made with SHMCHAN_CREATE_HUGE (2 MiB folios, mapped by PMDs): what it
 * costs to set up (create, map, first touch of every page) and what
 * random 8-byte reads over all of it cost, where every read misses the
 * dTLB. Prints both, their ratio, and how many huge folios the kernel
 * gave (STAT huge_folios): the ratio means something only where it gave
 * them. Target: random reads at least 1.3x faster with huge pages.
 *
 * Self-contained: main.c only calls suite_huge_run().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <shmchan.h>

#include "suites.h"

double huge_read_ratio = NAN;
char huge_why[160] = "huge suite not run";

#define HUGE_PMD	(2ULL * MiB)
#define HUGE_READS	(1UL << 20)	/* random reads per repetition */

enum { HV_SMALL, HV_HUGE, HV_COUNT };

static const char *const hv_names[HV_COUNT] = { "4k", "huge" };

/* extra[] slots of a cell */
enum { HX_SETUP, HX_FOLIOS, HX_READ_NS };

struct huge_arg {
	int variant;
	uint64_t size;
	int reps;
};

/* Random 8-byte reads over @p: ns per read. */
static double random_reads(const volatile uint64_t *p, uint64_t words, uint64_t *seed)
{
	uint64_t x = *seed, acc = 0, mask = words - 1;
	uint64_t t0, t1;
	unsigned long i;

	t0 = ticks();
	for (i = 0; i < HUGE_READS; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		acc += p[(x >> 17) & mask];
	}
	t1 = ticks();
	*seed = x ^ acc;	/* keeps the reads */
	return (double)(t1 - t0) * tick_sec * 1e9 / HUGE_READS;
}

/* In a runner: one channel, set up, then read at random @reps times. */
static void huge_cell(struct cell *c, const void *varg)
{
	const struct huge_arg *a = varg;
	unsigned int flags = SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT;
	struct shmchan_stat st;
	struct shmchan *ch;
	uint64_t seed = 88172645463325252ULL, t0;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), i;
	char name[64];
	char *p;
	int r, k;

	if (a->variant == HV_HUGE)
		flags |= SHMCHAN_CREATE_HUGE;
	snprintf(name, sizeof(name), "shmchan-bench.huge.%d", (int)getpid());
	t0 = ticks();
	r = shmchan_create(name, a->size, 0600, flags, &ch);
	if (r) {
		cell_fail(c, r, "create %s: %s", hv_names[a->variant], strerror(-r));
		return;
	}
	p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, shmchan_fd(ch), 0);
	if (p == MAP_FAILED) {
		cell_fail(c, -errno, "mmap: %s", strerror(errno));
		shmchan_close(ch);
		return;
	}
	/* 4 KiB pages for sure, whatever shmem_enabled says */
	if (a->variant == HV_SMALL)
		madvise(p, a->size, MADV_NOHUGEPAGE);
	for (i = 0; i < a->size; i += pg)
		((volatile char *)p)[i] = 1;
	c->extra[HX_SETUP][0] = (double)(ticks() - t0) * tick_sec;
	if (shmchan_stat(ch, &st) == 0)
		c->extra[HX_FOLIOS][0] = (double)st.huge_folios;
	/* warm: page tables in place, then the measured repetitions */
	random_reads((const uint64_t *)p, a->size / 8, &seed);
	for (k = 0; k < a->reps && k < MAX_REPS; k++)
		c->v[k] = random_reads((const uint64_t *)p, a->size / 8, &seed);
	c->n = k;
	c->ops = seed;		/* never printed; keeps the loads */
	munmap(p, a->size);
	shmchan_close(ch);
}

/* The largest power of two up to @want that fits twice in MemAvailable. */
static uint64_t huge_fit(uint64_t want)
{
	long avail = mem_available_kib();
	uint64_t size = want;

	if (avail < 0)
		return size;
	while (size > 4 * HUGE_PMD && size * 2 > (uint64_t)avail * KiB)
		size /= 2;
	return size;
}

/**
 * suite_huge_run - the huge suite
 * @out_dir: where huge.csv goes
 * @out: the summary, also printed on stdout
 * @want: the channel size asked for (1 GiB in the full plan)
 * @reps: repetitions of the random reads
 * @timeout: seconds a variant may take before it is killed
 *
 * Return: 0, or -1 if a variant could not be measured (said in @out).
 */
int suite_huge_run(const char *out_dir, FILE *out, uint64_t want, int reps,
		   double timeout)
{
	struct cell *cells[HV_COUNT];
	struct stat3 s[HV_COUNT];
	uint64_t size = huge_fit(want);
	char path[4096];
	FILE *csv;
	int v, bad = 0;

	snprintf(path, sizeof(path), "%s/huge.csv", out_dir);
	csv = fopen(path, "w");
	if (csv)
		fprintf(csv, "variant,size,setup_s,huge_folios,read_ns_median,"
			"read_ns_min,read_ns_max,reps\n");
	for (v = 0; v < HV_COUNT; v++) {
		struct huge_arg a = { v, size, reps };

		cells[v] = cell_new();
		run_cell(cells[v], huge_cell, &a, timeout);
		if (cells[v]->status) {
			fprintf(out, "huge: %s: %s\n", hv_names[v], cells[v]->err);
			printf("huge: %s: %s\n", hv_names[v], cells[v]->err);
			bad = 1;
			continue;
		}
		s[v] = stats(cells[v]->v, cells[v]->n);
		if (csv)
			fprintf(csv, "%s,%llu,%.6f,%.0f,%.3f,%.3f,%.3f,%d\n",
				hv_names[v], (unsigned long long)size,
				cells[v]->extra[HX_SETUP][0],
				cells[v]->extra[HX_FOLIOS][0], s[v].med,
				s[v].min, s[v].max, cells[v]->n);
	}
	if (csv)
		fclose(csv);
	if (bad)
		return -1;

	for (FILE *f = out; f; f = f == out ? stdout : NULL) {
		double want_folios = (double)(size / HUGE_PMD);
		double ratio = s[HV_SMALL].med / s[HV_HUGE].med;

		fprintf(f, "\nhuge pages: a %s channel, 4 KiB pages against "
			"SHMCHAN_CREATE_HUGE\n", size_str(size));
		if (size < want)
			fprintf(f, "  (asked for %s: MemAvailable too small for it)\n",
				size_str(want));
		fprintf(f, "  %-28s %12s %12s %8s\n", "", "4 KiB", "huge", "ratio");
		fprintf(f, "  %-28s %11.3fs %11.3fs %7.2fx\n",
			"setup (create+map+touch)", cells[HV_SMALL]->extra[HX_SETUP][0],
			cells[HV_HUGE]->extra[HX_SETUP][0],
			cells[HV_SMALL]->extra[HX_SETUP][0] /
			cells[HV_HUGE]->extra[HX_SETUP][0]);
		fprintf(f, "  %-28s %10.2fns %10.2fns %7.2fx\n",
			"random 8-byte read (median)", s[HV_SMALL].med,
			s[HV_HUGE].med, ratio);
		fprintf(f, "  huge folios the kernel gave: %.0f of %.0f (4 KiB run: %.0f)\n",
			cells[HV_HUGE]->extra[HX_FOLIOS][0], want_folios,
			cells[HV_SMALL]->extra[HX_FOLIOS][0]);
		if (cells[HV_HUGE]->extra[HX_FOLIOS][0] < want_folios) {
			fprintf(f, "  target not judged: not every 2 MiB got a huge folio\n");
			snprintf(huge_why, sizeof(huge_why),
				 "%.0f of %.0f huge folios: not judged",
				 cells[HV_HUGE]->extra[HX_FOLIOS][0], want_folios);
		} else {
			huge_read_ratio = ratio;
			snprintf(huge_why, sizeof(huge_why),
				 "%s channel, %.0f of %.0f huge folios; setup %.2fx",
				 size_str(size), want_folios, want_folios,
				 cells[HV_SMALL]->extra[HX_SETUP][0] /
				 cells[HV_HUGE]->extra[HX_SETUP][0]);
		}
		if (!isnan(huge_read_ratio))
			fprintf(f, "  target (random reads >= 1.3x faster): %s\n",
				ratio >= 1.3 ? "met" : "MISSED");
	}
	return 0;
}
