// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the cost of create, open and destroy with many other
 * channels in existence (shm_open in /dev/shm as the yardstick).
 *
 * The runner makes @existing idle channels (one page each, no handle, no
 * mapping), then per repetition times @ops creates of new names, @ops
 * opens of them and @ops destroys; handles are closed between the opens
 * and the destroys, untimed. The idle channels are destroyed at the end.
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

void scale_cell(struct cell *c, const void *arg)
{
	const struct scale_arg *a = arg;
	struct rlimit nofile;
	struct obj *made, *opened;
	char name[96];
	long i, bg = 0;
	double t0;
	int rep, r = 0;

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
	for (bg = 0; bg < a->existing; bg++) {
		struct obj o;

		name_of(name, sizeof(name), "bg", 0, bg);
		r = obj_create(a->kind, name, &o);
		if (r) {
			cell_fail(c, r, "%s: making idle object %ld",
				  scale_names[a->kind], bg);
			goto out;
		}
		obj_close(a->kind, &o);
	}
	/* rep -1: warm-up */
	for (rep = -1; rep < a->reps && rep < MAX_REPS; rep++) {
		double t[OP_COUNT];

		t0 = now();
		for (i = 0; i < a->ops && !r; i++) {
			name_of(name, sizeof(name), "op", rep, i);
			r = obj_create(a->kind, name, &made[i]);
		}
		t[OP_CREATE] = now() - t0;
		t0 = now();
		for (i = 0; i < a->ops && !r; i++) {
			name_of(name, sizeof(name), "op", rep, i);
			r = obj_open(a->kind, name, &opened[i]);
		}
		t[OP_OPEN] = now() - t0;
		if (r) {
			cell_fail(c, r, "%s: create/open", scale_names[a->kind]);
			goto out;
		}
		for (i = 0; i < a->ops; i++) {
			obj_close(a->kind, &made[i]);
			obj_close(a->kind, &opened[i]);
		}
		t0 = now();
		for (i = 0; i < a->ops && !r; i++) {
			name_of(name, sizeof(name), "op", rep, i);
			r = obj_destroy(a->kind, name);
		}
		t[OP_DESTROY] = now() - t0;
		if (r) {
			cell_fail(c, r, "%s: destroy", scale_names[a->kind]);
			goto out;
		}
		if (rep < 0)
			continue;
		c->v[rep] = 0;
		for (i = 0; i < OP_COUNT; i++) {
			c->extra[i][rep] = t[i] / a->ops;
			c->v[rep] += t[i] / a->ops;
		}
		c->n = rep + 1;
	}
	c->ops = (uint64_t)a->ops;
out:
	while (bg-- > 0) {
		name_of(name, sizeof(name), "bg", 0, bg);
		obj_destroy(a->kind, name);
	}
}
