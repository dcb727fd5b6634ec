// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the kernel's message queues, POSIX mq and SysV msgq, one
 * queue per direction. The sender fills each chunk's buffer and the kernel
 * copies it in; the receiver sums each chunk it receives. A message larger
 * than the queue's limit goes in chunks of the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>

#include "bench.h"

static long read_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* ------------------------------------------------------------ chunks */

/*
 * Both queues carry a message of l->size in chunks of at most @chunk
 * bytes, each through one call that may be interrupted: @put sends @n
 * bytes of @data (0, or -1 with errno), @get receives one chunk into
 * @data (its length, or -1 with errno).
 */
static int send_chunks(struct link *l, int side, uint64_t seed, void *data,
		       size_t chunk, int (*put)(struct link *l, int side, size_t n))
{
	size_t off, n;

	for (off = 0; off < l->size; off += n) {
		n = l->size - off < chunk ? l->size - off : chunk;
		fill(data, n, seed + off / 8);
		while (put(l, side, n))
			if (errno != EINTR)
				return -errno;
	}
	return 0;
}

static int recv_chunks(struct link *l, int side, uint64_t *seed,
		       const void *data,
		       ssize_t (*get)(struct link *l, int side))
{
	uint64_t s = 0;
	size_t off;
	ssize_t n;

	for (off = 0; off < l->size; off += (size_t)n) {
		n = get(l, side);
		if (n < 0) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			return -errno;
		}
		if (off == 0)
			*seed = *(const uint64_t *)data;
		s += sum(data, (size_t)n);
	}
	return off == l->size && s == expect_sum(l->size, *seed) ? 0 : -EBADMSG;
}

/* ------------------------------------------------------------ POSIX mq */

struct pmq {
	mqd_t q[2];
	size_t chunk;
	char *buf;
};

static int pmq_init(struct link *l)
{
	struct pmq *p = calloc(1, sizeof(*p));
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	long maxmsg = read_long("/proc/sys/fs/mqueue/msg_max", 10);
	size_t chunk = l->size < 16 * MiB ? l->size : 16 * MiB;
	char name[96];
	int d, err = 0;

	l->priv = p;
	if (maxmsg > 10)
		maxmsg = 10;
	/* As root the queue may go past msgsize_max and RLIMIT_MSGQUEUE;
	 * otherwise messages go in chunks of what is allowed. */
	setrlimit(RLIMIT_MSGQUEUE, &unlimited);
	for (;;) {
		struct mq_attr attr = { .mq_maxmsg = maxmsg,
					.mq_msgsize = (long)chunk };

		for (d = 0; d < 2; d++) {
			snprintf(name, sizeof(name), "/%s.%d", l->tag, d);
			p->q[d] = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600,
					  &attr);
			if (p->q[d] == (mqd_t)-1) {
				err = -errno;
				break;
			}
			mq_unlink(name);	/* the descriptors stay */
		}
		if (d == 2)
			break;
		if (d == 1)
			mq_close(p->q[0]);
		if ((err != -EINVAL && err != -EMFILE && err != -ENOMEM) ||
		    chunk <= 8)
			return err;
		chunk = (chunk / 2) & ~(size_t)7;
	}
	p->chunk = chunk;
	if (chunk < l->size)
		snprintf(l->note, sizeof(l->note),
			 "in %zu-byte messages (limit), %ld in flight", chunk,
			 maxmsg);
	else
		snprintf(l->note, sizeof(l->note), "%ld in flight", maxmsg);
	return 0;
}

static int pmq_attach(struct link *l, int side)
{
	struct pmq *p = l->priv;

	(void)side;
	p->buf = xmalloc(p->chunk);
	return 0;
}

static int pmq_put(struct link *l, int side, size_t n)
{
	struct pmq *p = l->priv;

	return mq_send(p->q[side], p->buf, n, 0);
}

static ssize_t pmq_get(struct link *l, int side)
{
	struct pmq *p = l->priv;

	return mq_receive(p->q[1 - side], p->buf, p->chunk, NULL);
}

static int pmq_send(struct link *l, int side, uint64_t seed)
{
	struct pmq *p = l->priv;

	return send_chunks(l, side, seed, p->buf, p->chunk, pmq_put);
}

static int pmq_recv(struct link *l, int side, uint64_t *seed)
{
	struct pmq *p = l->priv;

	return recv_chunks(l, side, seed, p->buf, pmq_get);
}

static void pmq_fini(struct link *l)
{
	struct pmq *p = l->priv;

	mq_close(p->q[0]);
	mq_close(p->q[1]);
}

/* ------------------------------------------------------------ SysV msgq */

struct smq {
	int id[2];
	size_t chunk;
	struct {
		long mtype;
		char data[];
	} *msg;
};

static int smq_init(struct link *l)
{
	struct smq *p = calloc(1, sizeof(*p));
	long msgmax = read_long("/proc/sys/kernel/msgmax", 8192);
	int d;

	l->priv = p;
	p->chunk = (size_t)msgmax & ~(size_t)7;
	if (p->chunk > l->size)
		p->chunk = l->size;
	for (d = 0; d < 2; d++) {
		p->id[d] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (p->id[d] < 0)
			return -errno;
	}
	if (p->chunk < l->size)
		snprintf(l->note, sizeof(l->note),
			 "in %zu-byte messages (msgmax)", p->chunk);
	return 0;
}

static int smq_attach(struct link *l, int side)
{
	struct smq *p = l->priv;

	(void)side;
	p->msg = xmalloc(sizeof(long) + p->chunk);
	return 0;
}

static int smq_put(struct link *l, int side, size_t n)
{
	struct smq *p = l->priv;

	p->msg->mtype = 1;
	return msgsnd(p->id[side], p->msg, n, 0);
}

static ssize_t smq_get(struct link *l, int side)
{
	struct smq *p = l->priv;

	return msgrcv(p->id[1 - side], p->msg, p->chunk, 0, 0);
}

static int smq_send(struct link *l, int side, uint64_t seed)
{
	struct smq *p = l->priv;

	return send_chunks(l, side, seed, p->msg->data, p->chunk,
			   smq_put);
}

static int smq_recv(struct link *l, int side, uint64_t *seed)
{
	struct smq *p = l->priv;

	return recv_chunks(l, side, seed, p->msg->data, smq_get);
}

static void smq_fini(struct link *l)
{
	struct smq *p = l->priv;

	msgctl(p->id[0], IPC_RMID, NULL);
	msgctl(p->id[1], IPC_RMID, NULL);
}

/* ------------------------------------------------------------ the family */

const struct mech mech_pmq = {
	"posix-mq", "POSIX mq", M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF,
	pmq_init, pmq_attach, pmq_send, pmq_recv, NULL, pmq_fini,
};
const struct mech mech_smq = {
	"sysv-msgq", "SysV msgq", M_LAT | M_STREAM | M_LAT_DEF,
	smq_init, smq_attach, smq_send, smq_recv, NULL, smq_fini,
};
