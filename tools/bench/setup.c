// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: what a region costs to set up and tear down, and when
 * mapping one beats copying through a pipe for a single transfer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

const char *const setup_names[SETUP_KINDS] = {
	"memfd", "shm_open", "shmget", "shmchan", "shmchan-populate",
};
const char *const setup_labels[SETUP_KINDS] = {
	"memfd", "shm_open", "SysV shmget", "shmchan", "shmchan (populate)",
};
const char *const phase_names[PH_COUNT] = {
	"create", "map", "touch", "unmap", "destroy",
};

/* One write per page: the first touch of each. */
static void touch(char *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), i;

	for (i = 0; i < len; i += pg)
		((volatile char *)p)[i] = 1;
}

/* One create .. destroy cycle; t[] receives the phases' seconds. */
static int setup_once(int kind, size_t size, int seq, double t[PH_COUNT])
{
	char name[96];
	struct shmchan *ch = NULL;
	uint64_t t0, t1;
	void *p = NULL;
	int fd = -1, id = -1, r;

	snprintf(name, sizeof(name), "shmchan-bench.%d.%d", (int)getpid(), seq);
	t0 = ticks();
	switch (kind) {
	case SETUP_MEMFD:
		fd = memfd_create("shmchan-bench", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)size))
			return -errno;
		break;
	case SETUP_SHM_OPEN:
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)size))
			return -errno;
		break;
	case SETUP_SHMGET:
		id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
		if (id < 0)
			return -errno;
		break;
	case SETUP_SHMCHAN:
	case SETUP_SHMCHAN_POP:
		r = shmchan_create(name, size, 0600, SHMCHAN_CREATE_EXCL |
				   (kind == SETUP_SHMCHAN_POP ?
				    SHMCHAN_CREATE_POPULATE : 0), &ch);
		if (r)
			return r;
		break;
	}
	t1 = ticks();
	t[PH_CREATE] = (double)(t1 - t0) * tick_sec;

	t0 = t1;
	r = 0;
	if (kind == SETUP_SHMGET) {
		p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			r = -errno;
	} else if (ch) {
		r = shmchan_map(ch, PROT_READ | PROT_WRITE, &p);
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			r = -errno;
	}
	if (r) {
		if (kind == SETUP_SHMGET)
			shmctl(id, IPC_RMID, NULL);
		else if (ch) {
			shmchan_destroy(name, 0);
			shmchan_close(ch);
		} else {
			close(fd);
			if (kind == SETUP_SHM_OPEN)
				shm_unlink(name);
		}
		return r;
	}
	t1 = ticks();
	t[PH_MAP] = (double)(t1 - t0) * tick_sec;

	t0 = t1;
	touch(p, size);
	t1 = ticks();
	t[PH_TOUCH] = (double)(t1 - t0) * tick_sec;

	t0 = t1;
	if (kind == SETUP_SHMGET)
		shmdt(p);
	else
		munmap(p, size);
	t1 = ticks();
	t[PH_UNMAP] = (double)(t1 - t0) * tick_sec;

	t0 = t1;
	switch (kind) {
	case SETUP_MEMFD:
		close(fd);
		break;
	case SETUP_SHM_OPEN:
		close(fd);
		shm_unlink(name);
		break;
	case SETUP_SHMGET:
		shmctl(id, IPC_RMID, NULL);
		break;
	default:
		r = shmchan_destroy(name, 0);
		shmchan_close(ch);
		if (r)
			return r;
	}
	t[PH_DESTROY] = (double)(ticks() - t0) * tick_sec;
	return 0;
}

void setup_cell(struct cell *c, const void *arg)
{
	const struct setup_arg *a = arg;
	double t[PH_COUNT], end;
	int n, ph, r;

	if ((a->kind == SETUP_SHMCHAN || a->kind == SETUP_SHMCHAN_POP) &&
	    shmchan_missing) {
		cell_skip(c, "%s", shmchan_missing);
		return;
	}
	pin(0);
	/* warm-up: one cycle of a small size (code and metadata paths) */
	r = setup_once(a->kind, 4096, -1, t);
	if (r) {
		cell_fail(c, r, "%s", setup_names[a->kind]);
		return;
	}
	end = now() + a->budget;
	for (n = 0; n < a->reps && n < MAX_REPS;) {
		r = setup_once(a->kind, a->size, n, t);
		if (r) {
			cell_fail(c, r, "%s %s", setup_names[a->kind],
				  size_str(a->size));
			return;
		}
		c->v[n] = 0;
		for (ph = 0; ph < PH_COUNT; ph++) {
			c->extra[ph][n] = t[ph];
			c->v[n] += t[ph];
		}
		n++;
		if (now() > end)
			break;
	}
	c->n = n;
	c->ops = 1;
	c->bytes = a->size;
}

/* ------------------------------------------------------------ one shot */

const char *const oneshot_names[ONESHOT_KINDS] = {
	"pipe", "shmchan-map", "shmchan-map-populate",
};
const char *const oneshot_labels[ONESHOT_KINDS] = {
	"pipe (copy)", "shmchan (map)", "shmchan (map, populate)",
};

static int oneshot_peer(const struct oneshot_arg *a, int in, int ack,
			const char *tag)
{
	char *buf = a->kind == ONESHOT_PIPE ? xmalloc(a->size) : NULL;
	uint64_t seed;
	char name[96], b = 'a';
	int r;

	for (;;) {
		struct shmchan *ch;
		void *p;

		if (a->kind == ONESHOT_PIPE) {
			r = read_all(in, buf, a->size);
			if (r)
				return r == -EPIPE ? 0 : r;
			seed = *(uint64_t *)buf;
			if (sum(buf, a->size) != expect_sum(a->size, seed))
				return -EBADMSG;
		} else {
			r = read_all(in, &seed, sizeof(seed));
			if (r)
				return r == -EPIPE ? 0 : r;
			snprintf(name, sizeof(name), "%s.%llu", tag,
				 (unsigned long long)seed);
			r = shmchan_open(name, SHMCHAN_OPEN_RDONLY, &ch);
			if (r)
				return r;
			p = mmap(NULL, a->size, PROT_READ,
				 MAP_SHARED | (a->kind == ONESHOT_MAP_POP ?
					       MAP_POPULATE : 0),
				 shmchan_fd(ch), 0);
			if (p == MAP_FAILED)
				return -errno;
			r = sum(p, a->size) != expect_sum(a->size, seed) ||
			    *(uint64_t *)p != seed;
			munmap(p, a->size);
			shmchan_close(ch);
			if (r)
				return -EBADMSG;
		}
		r = write_all(ack, &b, 1);
		if (r)
			return r;
	}
}

static double oneshot_once(struct cell *c, const struct oneshot_arg *a,
			   int out, int ack, char *buf, const char *tag,
			   uint64_t seed)
{
	uint64_t t0 = ticks();
	char name[96], b;
	int r;

	if (a->kind == ONESHOT_PIPE) {
		fill(buf, a->size, seed);
		r = write_all(out, buf, a->size);
	} else {
		struct shmchan *ch;
		void *p;

		snprintf(name, sizeof(name), "%s.%llu", tag,
			 (unsigned long long)seed);
		r = shmchan_create(name, a->size, 0600, SHMCHAN_CREATE_EXCL |
				   (a->kind == ONESHOT_MAP_POP ?
				    SHMCHAN_CREATE_POPULATE : 0), &ch);
		if (r) {
			cell_fail(c, r, "create %s", name);
			return -1;
		}
		p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 shmchan_fd(ch), 0);
		if (p == MAP_FAILED) {
			cell_fail(c, -errno, "mmap");
			return -1;
		}
		fill(p, a->size, seed);
		r = write_all(out, &seed, sizeof(seed));
		if (!r)
			r = read_all(ack, &b, 1);
		munmap(p, a->size);
		if (!r)
			r = shmchan_destroy(name, 0);
		shmchan_close(ch);
		if (r) {
			cell_fail(c, r, "%s", oneshot_names[a->kind]);
			return -1;
		}
		return (double)(ticks() - t0) * tick_sec;
	}
	if (!r)
		r = read_all(ack, &b, 1);
	if (r) {
		cell_fail(c, r, "%s", oneshot_names[a->kind]);
		return -1;
	}
	return (double)(ticks() - t0) * tick_sec;
}

void oneshot_cell(struct cell *c, const void *arg)
{
	const struct oneshot_arg *a = arg;
	int data[2], ack[2], n, st;
	char tag[64], *buf = NULL;
	double end, t;
	pid_t peer;

	if (a->kind != ONESHOT_PIPE && shmchan_missing) {
		cell_skip(c, "%s", shmchan_missing);
		return;
	}
	snprintf(tag, sizeof(tag), "shmchan-bench.%d", (int)getpid());
	if (pipe(data) || pipe(ack)) {
		cell_fail(c, -errno, "pipe");
		return;
	}
	peer = fork();
	if (peer == 0) {
		int r;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(data[1]);
		close(ack[0]);
		pin(1);
		r = oneshot_peer(a, data[0], ack[1], tag);
		if (r)
			cell_fail(c, r, "%s: peer", oneshot_names[a->kind]);
		_exit(r ? 1 : 0);
	}
	close(data[0]);
	close(ack[1]);
	pin(0);
	if (a->kind == ONESHOT_PIPE)
		buf = xmalloc(a->size);
	/* warm-up: one transfer */
	if (oneshot_once(c, a, data[1], ack[0], buf, tag, 0) < 0)
		goto out;
	end = now() + a->budget;
	for (n = 0; n < a->max_reps && n < MAX_REPS; n++) {
		if (n >= 3 && now() > end)
			break;
		t = oneshot_once(c, a, data[1], ack[0], buf, tag,
				 (uint64_t)n + 1);
		if (t < 0)
			goto out;
		c->v[n] = t;
	}
	c->n = n;
	c->ops = 1;
	c->bytes = a->size;
out:
	close(data[1]);
	waitpid(peer, &st, 0);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		cell_fail(c, -EIO, "%s: the peer failed", oneshot_names[a->kind]);
}
