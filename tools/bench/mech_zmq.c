// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: ZeroMQ, one PAIR socket per process over ipc:// (a UNIX
 * socket in /tmp), carrying both directions. The messaging library people
 * reach for.
 *
 * Its best ordinary path: the sender fills a zmq_msg_t it allocated
 * (zmq_msg_init_size) and hands it over with zmq_msg_send (no copy in the
 * API); the receiver sums the received zmq_msg_t in place. The library
 * still copies through the kernel socket on each side. At most 4 messages
 * wait on each side (ZMQ_SNDHWM, ZMQ_RCVHWM: the default of 1000 would
 * queue 16 GiB of 16 MiB messages), so a stream has flow control.
 *
 * The context (and its I/O thread) is made in each process after the
 * fork, so it inherits that process's CPU: ZeroMQ's own thread runs on the
 * sender's CPU on one side and the receiver's on the other.
 *
 * Built when pkg-config finds libzmq (Debian: libzmq3-dev); otherwise the
 * Makefile defines PEER_MISSING and the mechanism is skipped with why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define ZMQ_CAPS	(M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF | M_PEER)

#ifdef PEER_MISSING

MECH_NOT_BUILT(mech_zmq, "zmq-pair", "ZeroMQ PAIR (ipc)", ZMQ_CAPS, PEER_MISSING);

#else

#include <zmq.h>

struct zlink {
	char path[108];		/* the socket file */
	void *ctx, *sock;
};

static int zmq_err(const char *what)
{
	int e = zmq_errno();

	fprintf(stderr, "zmq-pair: %s: %s\n", what, zmq_strerror(e));
	return e > 0 ? -e : -EIO;
}

static int z_init(struct link *l)
{
	struct zlink *z = calloc(1, sizeof(*z));

	l->priv = z;
	snprintf(z->path, sizeof(z->path), "/tmp/%s.zmq", l->tag);
	snprintf(l->note, sizeof(l->note), "libzmq %d.%d.%d, HWM 4", ZMQ_VERSION_MAJOR,
		 ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
	return 0;
}

static int z_attach(struct link *l, int side)
{
	struct zlink *z = l->priv;
	char url[128];
	int hwm = 4, linger = 0;

	z->ctx = zmq_ctx_new();
	if (!z->ctx)
		return zmq_err("zmq_ctx_new");
	z->sock = zmq_socket(z->ctx, ZMQ_PAIR);
	if (!z->sock)
		return zmq_err("zmq_socket");
	/* the runner's pair_stop() waits for the peer before closing, so
	 * nothing is left to linger over */
	if (zmq_setsockopt(z->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) ||
	    zmq_setsockopt(z->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
	    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger)))
		return zmq_err("zmq_setsockopt");
	snprintf(url, sizeof(url), "ipc://%s", z->path);
	if (side == 0) {
		unlink(z->path);
		if (zmq_bind(z->sock, url))
			return zmq_err("zmq_bind");
	} else if (zmq_connect(z->sock, url)) {
		return zmq_err("zmq_connect");
	}
	return 0;
}

static int z_send(struct link *l, int side, uint64_t seed)
{
	struct zlink *z = l->priv;
	zmq_msg_t msg;

	(void)side;
	if (zmq_msg_init_size(&msg, l->size))
		return zmq_err("zmq_msg_init_size");
	fill(zmq_msg_data(&msg), l->size, seed);
	while (zmq_msg_send(&msg, z->sock, 0) < 0) {
		if (zmq_errno() != EINTR) {
			zmq_msg_close(&msg);
			return zmq_err("zmq_msg_send");
		}
	}
	return 0;
}

static int z_recv(struct link *l, int side, uint64_t *seed)
{
	struct zlink *z = l->priv;
	zmq_msg_t msg;
	const void *p;
	int r;

	(void)side;
	zmq_msg_init(&msg);
	while (zmq_msg_recv(&msg, z->sock, 0) < 0) {
		if (zmq_errno() != EINTR) {
			zmq_msg_close(&msg);
			return zmq_err("zmq_msg_recv");
		}
	}
	if (zmq_msg_size(&msg) != l->size) {
		zmq_msg_close(&msg);
		return -EBADMSG;
	}
	p = zmq_msg_data(&msg);
	r = msg_check(p, l->size, seed);
	zmq_msg_close(&msg);
	return r;
}

static void z_detach(struct link *l, int side)
{
	struct zlink *z = l->priv;

	(void)side;
	if (z->sock)
		zmq_close(z->sock);
	if (z->ctx)
		zmq_ctx_term(z->ctx);
}

static void z_fini(struct link *l)
{
	struct zlink *z = l->priv;

	unlink(z->path);
}

const struct mech mech_zmq = {
	"zmq-pair", "ZeroMQ PAIR (ipc)", ZMQ_CAPS,
	z_init, z_attach, z_send, z_recv, z_detach, z_fini,
};

#endif /* PEER_MISSING */
