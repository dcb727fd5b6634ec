// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the cost of create, open and destroy with many other
 * channels in existence (shm_open in /dev/shm as the yardstick).
 *
 * The runner sweeps up through the counts and back down, again and again:
 * at each count it makes (or destroys) idle objects until that many exist
 * (one page each, no handle, no mapping), then times @ops creates of new
 * names, @ops opens of them and @ops destroys, each operation on its own;
 * handles are closed between the opens and the destroys, untimed. The
 * figure of a sweep is the median operation, so that a preempted one (the
 * VM's vCPU descheduled by the host) does not count; sweeping up and down
 * spreads slow drift over every count alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

const char *const scale_names[SCALE_KINDS] = { "shmchan", "shm_open" };
const char *const scale_labels[SCALE_KINDS] = { "shmchan", "shm_open" };
const char *const op_names[OP_COUNT] = { "create", "open", "destroy" };

struct obj {
	struct shmchan *ch;
	int fd;
};

static int obj_create(int kind, const char *name, struct obj *o)
{
	if (kind == SCALE_SHMCHAN)
		return shmchan_create(name, 4096, 0600, SHMCHAN_CREATE_EXCL,
				      &o->ch);
	o->fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (o->fd < 0 || ftruncate(o->fd, 4096))
		return -errno;
	return 0;
}

static int obj_open(int kind, const char *name, struct obj *o)
{
	if (kind == SCALE_SHMCHAN)
		return shmchan_open(name, 0, &o->ch);
	o->fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	return o->fd < 0 ? -errno : 0;
}

static void obj_close(int kind, struct obj *o)
{
	if (kind == SCALE_SHMCHAN)
		shmchan_close(o->ch);
	else
		close(o->fd);
}

static int obj_destroy(int kind, const char *name)
{
	if (kind == SCALE_SHMCHAN)
		return shmchan_destroy(name, 0);
	return shm_unlink(name) ? -errno : 0;
}

static void name_of(char *buf, size_t len, const char *what, int rep, long i)
{
	snprintf(buf, len, "shmchan-bench.%d.%s.%d.%ld", (int)getpid(), what,
		 rep, i);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Make or destroy idle objects until @want exist. */
static int set_idle(int kind, long *have, long want)
{
	char name[96];
	struct obj o;
	int r;

	for (; *have < want; (*have)++) {
		name_of(name, sizeof(name), "bg", 0, *have);
		r = obj_create(kind, name, &o);
		if (r)
			return r;
		obj_close(kind, &o);
	}
	for (; *have > want; (*have)--) {
		name_of(name, sizeof(name), "bg", 0, *have - 1);
		r = obj_destroy(kind, name);
		if (r)
			return r;
	}
	return 0;
}

/* @ops of each operation; t[op] = the median operation's seconds. */
static int measure(int kind, int ops, int seq, struct obj *made,
		   struct obj *opened, double *tv, double t[OP_COUNT])
{
	char name[96];
	uint64_t t0;
	int i, r = 0;

	for (i = 0; i < ops && !r; i++) {
		name_of(name, sizeof(name), "op", seq, i);
		t0 = ticks();
		r = obj_create(kind, name, &made[i]);
		tv[i] = (double)(ticks() - t0) * tick_sec;
	}
	if (r)
		return r;
	t[OP_CREATE] = median(tv, ops);
	for (i = 0; i < ops && !r; i++) {
		name_of(name, sizeof(name), "op", seq, i);
		t0 = ticks();
		r = obj_open(kind, name, &opened[i]);
		tv[i] = (double)(ticks() - t0) * tick_sec;
	}
	if (r)
		return r;
	t[OP_OPEN] = median(tv, ops);
	for (i = 0; i < ops; i++) {
		obj_close(kind, &made[i]);
		obj_close(kind, &opened[i]);
	}
	for (i = 0; i < ops && !r; i++) {
		name_of(name, sizeof(name), "op", seq, i);
		t0 = ticks();
		r = obj_destroy(kind, name);
		tv[i] = (double)(ticks() - t0) * tick_sec;
	}
	t[OP_DESTROY] = median(tv, ops);
	return r;
}

void scale_cell(struct cell *c, const void *arg)
{
	const struct scale_arg *a = arg;
	struct rlimit nofile;
	struct obj *made, *opened;
	double *tv, t[OP_COUNT];
	long have = 0;
	int sw, j, op, r, seq = 0;

	if (a->kind == SCALE_SHMCHAN && shmchan_missing) {
		cell_skip(c, "%s", shmchan_missing);
		return;
	}
	if (!getrlimit(RLIMIT_NOFILE, &nofile)) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	pin(0);
	made = calloc((size_t)a->ops, sizeof(*made));
	opened = calloc((size_t)a->ops, sizeof(*opened));
	tv = calloc((size_t)a->ops, sizeof(*tv));
	/* warm-up */
	r = measure(a->kind, a->ops, seq++, made, opened, tv, t);
	for (sw = 0; !r && sw < a->sweeps && sw < MAX_REPS; sw++) {
		for (j = 0; !r && j < a->ncounts; j++) {
			int i = sw % 2 ? a->ncounts - 1 - j : j;

			r = set_idle(a->kind, &have, a->counts[i]);
			if (r)
				break;
			r = measure(a->kind, a->ops, seq++, made, opened, tv, t);
			for (op = 0; !r && op < OP_COUNT; op++)
				c->extra[op * MAX_COUNTS + i][sw] = t[op];
		}
		if (!r)
			c->n = sw + 1;
	}
	if (r)
		cell_fail(c, r, "%s with %ld there", scale_names[a->kind], have);
	c->ops = (uint64_t)a->ops;
	set_idle(a->kind, &have, 0);
}
