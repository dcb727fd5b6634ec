// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: nng (nanomsg-next-gen), one pair0 socket per process over
 * ipc:// (a UNIX socket in /tmp), carrying both directions.
 *
 * Its best ordinary path: the sender fills an nng_msg it allocated and
 * hands it over with nng_sendmsg (no copy in the API); the receiver sums
 * the received nng_msg's body in place. The library still copies through
 * the kernel socket. Up to 4 messages wait on each side (NNG_OPT_SENDBUF,
 * NNG_OPT_RECVBUF), and the receive size limit (1 MiB by default) is
 * lifted so that 16 MiB messages pass.
 *
 * nng starts its threads in each process after the fork (at the first
 * socket), so they run on that process's CPU.
 *
 * Built when <nng/nng.h> compiles and -lnng links (Debian: libnng-dev,
 * which has no pkg-config file); otherwise the Makefile defines
 * PEER_MISSING and the mechanism is skipped with why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define NNG_CAPS	(M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF | M_PEER)

#ifdef PEER_MISSING

MECH_NOT_BUILT(mech_nng, "nng-pair", "nng pair (ipc)", NNG_CAPS, PEER_MISSING);

#else

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>

struct nlink {
	char path[108];		/* the socket file */
	nng_socket sock;
	bool open;
};

static int nng_fail(const char *what, int rv)
{
	fprintf(stderr, "nng-pair: %s: %s\n", what, nng_strerror(rv));
	return rv == NNG_ENOMEM ? -ENOMEM : rv == NNG_ECLOSED ? -EPIPE : -EIO;
}

static int n_init(struct link *l)
{
	struct nlink *n = calloc(1, sizeof(*n));

	l->priv = n;
	snprintf(n->path, sizeof(n->path), "/tmp/%s.nng", l->tag);
	snprintf(l->note, sizeof(l->note), "nng %d.%d.%d, buffers of 4",
		 NNG_MAJOR_VERSION, NNG_MINOR_VERSION, NNG_PATCH_VERSION);
	return 0;
}

static int n_attach(struct link *l, int side)
{
	struct nlink *n = l->priv;
	char url[128];
	int rv;

	rv = nng_pair0_open(&n->sock);
	if (rv)
		return nng_fail("nng_pair0_open", rv);
	n->open = true;
	rv = nng_socket_set_size(n->sock, NNG_OPT_RECVMAXSZ, 0);	/* no limit */
	if (!rv)
		rv = nng_socket_set_int(n->sock, NNG_OPT_SENDBUF, 4);
	if (!rv)
		rv = nng_socket_set_int(n->sock, NNG_OPT_RECVBUF, 4);
	if (rv)
		return nng_fail("nng_socket_set", rv);
	snprintf(url, sizeof(url), "ipc://%s", n->path);
	if (side == 0) {
		unlink(n->path);
		rv = nng_listen(n->sock, url, NULL, 0);
	} else {
		/* the runner listens before it lets the peer attach */
		rv = nng_dial(n->sock, url, NULL, 0);
	}
	return rv ? nng_fail(side ? "nng_dial" : "nng_listen", rv) : 0;
}

static int n_send(struct link *l, int side, uint64_t seed)
{
	struct nlink *n = l->priv;
	nng_msg *m;
	int rv;

	(void)side;
	rv = nng_msg_alloc(&m, l->size);
	if (rv)
		return nng_fail("nng_msg_alloc", rv);
	fill(nng_msg_body(m), l->size, seed);
	rv = nng_sendmsg(n->sock, m, 0);
	if (rv) {
		nng_msg_free(m);	/* still ours when the send failed */
		return nng_fail("nng_sendmsg", rv);
	}
	return 0;
}

static int n_recv(struct link *l, int side, uint64_t *seed)
{
	struct nlink *n = l->priv;
	const void *p;
	nng_msg *m;
	int rv;

	(void)side;
	rv = nng_recvmsg(n->sock, &m, 0);
	if (rv)
		return nng_fail("nng_recvmsg", rv);
	if (nng_msg_len(m) != l->size) {
		nng_msg_free(m);
		return -EBADMSG;
	}
	p = nng_msg_body(m);
	rv = msg_check(p, l->size, seed);
	nng_msg_free(m);
	return rv;
}

static void n_detach(struct link *l, int side)
{
	struct nlink *n = l->priv;

	(void)side;
	if (n->open)
		nng_close(n->sock);
}

static void n_fini(struct link *l)
{
	struct nlink *n = l->priv;

	unlink(n->path);
}

const struct mech mech_nng = {
	"nng-pair", "nng pair (ipc)", NNG_CAPS,
	n_init, n_attach, n_send, n_recv, n_detach, n_fini,
};

#endif /* PEER_MISSING */
