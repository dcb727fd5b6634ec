// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: a pipe and a UNIX stream socket, one per direction (the
 * socket's two ends serve both). The sender fills a private buffer and the
 * kernel copies it across; the receiver reads it into its own buffer and
 * sums it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* ------------------------------------------------------------ pipe, socket */

struct fdpair {
	int rd[2], wr[2];	/* per direction: read end, write end */
	char *buf;
};

static int fdpair_attach(struct link *l, int side)
{
	struct fdpair *f = l->priv;

	(void)side;
	f->buf = xmalloc(l->size);
	return 0;
}

static int fdpair_send(struct link *l, int side, uint64_t seed)
{
	struct fdpair *f = l->priv;

	fill(f->buf, l->size, seed);
	return write_all(f->wr[side], f->buf, l->size);
}

static int fdpair_recv(struct link *l, int side, uint64_t *seed)
{
	struct fdpair *f = l->priv;
	int r = read_all(f->rd[1 - side], f->buf, l->size);

	if (r)
		return r;
	return msg_check(f->buf, l->size, seed);
}

static void fdpair_fini(struct link *l)
{
	struct fdpair *f = l->priv;
	int d;

	for (d = 0; d < 2; d++) {
		close(f->rd[d]);
		if (f->wr[d] != f->rd[d])
			close(f->wr[d]);
	}
}

static int pipe_init(struct link *l)
{
	struct fdpair *f = calloc(1, sizeof(*f));
	int p[2], d;

	l->priv = f;
	for (d = 0; d < 2; d++) {
		if (pipe(p))
			return -errno;
		f->rd[d] = p[0];
		f->wr[d] = p[1];
	}
	snprintf(l->note, sizeof(l->note), "pipe buffer %ld KiB",
		 (long)fcntl(f->wr[0], F_GETPIPE_SZ) / 1024);
	return 0;
}

static int unix_init(struct link *l)
{
	struct fdpair *f = calloc(1, sizeof(*f));
	int sv[2];

	l->priv = f;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	/* direction 0: side 0 writes sv[0], side 1 reads sv[1] */
	f->wr[0] = sv[0];
	f->rd[0] = sv[1];
	f->wr[1] = sv[1];
	f->rd[1] = sv[0];
	return 0;
}

static void unix_fini(struct link *l)
{
	struct fdpair *f = l->priv;

	close(f->wr[0]);
	close(f->wr[1]);
}

/* ------------------------------------------------------------ the family */

const struct mech mech_pipe = {
	"pipe", "pipe", M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF,
	pipe_init, fdpair_attach, fdpair_send, fdpair_recv, NULL, fdpair_fini,
};
const struct mech mech_unix = {
	"unix", "UNIX socket", M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF,
	unix_init, fdpair_attach, fdpair_send, fdpair_recv, NULL, unix_fini,
};
