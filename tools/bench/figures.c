// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: output and the figure store.
 *
 * Every table goes to stdout and to summary.txt (say()); progress goes to
 * stderr. Every figure of every suite is kept in one array (fig_add), found
 * again by suite, key, sub and x (fig_get), and printed by matrix().
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

const char *out_dir = "shmchan-bench-out";
FILE *summary;
/* what say() writes to summary.txt's top, instead of in its place */
static FILE *capture;
static char *top;
static size_t top_len;

int nsizes(const uint64_t *v)
{
	int n = 0;

	while (n < MAX_SIZES && v[n])
		n++;
	return n;
}

int ncounts(const long *v, bool zero_first)
{
	int n = zero_first ? 1 : 0;

	while (n < MAX_SIZES && v[n])
		n++;
	return n;
}

/* ------------------------------------------------------------ output */

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (summary) {
		va_start(ap, fmt);
		vfprintf(capture ? capture : summary, fmt, ap);
		va_end(ap);
	}
	fflush(stdout);
}

void say_top_begin(void)
{
	if (!capture)
		capture = open_memstream(&top, &top_len);
}

void say_top_end(void)
{
	if (capture)
		fclose(capture);
	capture = NULL;
}

/* Close summary.txt, the text said between say_top_*() at its top. */
void summary_close(void)
{
	char path[4096], *rest = NULL;
	size_t n = 0, skip;
	FILE *f, *r;

	say_top_end();
	fclose(summary);
	summary = NULL;
	if (!top)
		return;
	snprintf(path, sizeof(path), "%s/summary.txt", out_dir);
	r = fopen(path, "r");
	f = open_memstream(&rest, &n);
	if (r && f) {
		char buf[65536];
		size_t k;

		while ((k = fread(buf, 1, sizeof(buf), r)) > 0)
			fwrite(buf, 1, k, f);
	}
	if (f)
		fclose(f);
	if (r)
		fclose(r);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	/* the top text starts with a blank line, as every table does */
	skip = top_len && top[0] == '\n';
	fwrite(top + skip, 1, top_len - skip, f);
	fputs("\n", f);
	if (rest)
		fwrite(rest, 1, n, f);
	fclose(f);
	free(rest);
	free(top);
	top = NULL;
}

void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

FILE *csv_open(const char *name, const char *header)
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
const char *num(double v)
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

struct fig *figs;
int nfigs;
static int capfigs;

struct fig *fig_add(int suite, const char *key, const char *label,
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

const struct fig *fig_get(int suite, const char *key, const char *sub,
			  uint64_t x)
{
	int i;

	for (i = 0; i < nfigs; i++)
		if (figs[i].suite == suite && !strcmp(figs[i].key, key) &&
		    !strcmp(figs[i].sub, sub ? sub : "") && figs[i].x == x)
			return &figs[i];
	return NULL;
}

bool fig_ok(const struct fig *f)
{
	return f && f->status == 0 && f->s.n > 0;
}

const char *fig_cell(const struct fig *f, double scale)
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

void report_errors(int suite)
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

void matrix(int suite, const char *const *keys, const char *const *labels,
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

double ratio_of(int suite, const char *a, const char *b,
		const char *sub, uint64_t x)
{
	const struct fig *fa = fig_get(suite, a, sub, x);
	const struct fig *fb = fig_get(suite, b, sub, x);

	if (!fig_ok(fa) || !fig_ok(fb))
		return NAN;
	return fa->s.med / fb->s.med;
}

double med(int suite, const char *key, const char *sub, uint64_t x)
{
	const struct fig *f = fig_get(suite, key, sub, x);

	return fig_ok(f) ? f->s.med : NAN;
}

double flatness(int suite, const char *key, const char *sub,
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

