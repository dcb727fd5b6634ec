// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: Boost.Interprocess (header-only C++), two mechanisms.
 *
 * boost-mq: message_queue, the most used shared-memory queue in C++: a
 * named segment (shm_open) holding a ring of fixed-size slots under a
 * process-shared mutex and two conditions. One queue per direction, 2
 * messages deep for round trips, 4 for streams. send() copies the
 * sender's filled buffer in, receive() copies out into the receiver's
 * buffer, which it sums: the same two copies as shmchan's queue (copy).
 *
 * boost-cond: managed_shared_memory + interprocess_mutex +
 * interprocess_condition, the hand-off one writes oneself: one slot per
 * direction with a "full" flag under the mutex. The sender waits for the
 * slot to be empty, fills it in place (outside the lock: only it writes an
 * empty slot), marks it full and signals; the receiver waits for full,
 * sums in place, marks it empty and signals. No copy, no pipelining.
 *
 * Both are made by the runner in attach(0) (the names carry its pid) and
 * opened by the peer in attach(1); the runner removes the names in fini.
 * Errors are C++ exceptions, caught here: the hooks return -errno.
 *
 * Compiled with g++ when the Boost headers are there (Debian: libboost-dev);
 * otherwise the Makefile compiles this file as C with PEER_MISSING, and
 * both mechanisms are skipped with why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BOOST_CAPS	(M_LAT | M_STREAM | M_LAT_DEF | M_STREAM_DEF | M_PEER)

#ifdef PEER_MISSING

MECH_NOT_BUILT(mech_boost_mq, "boost-mq", "Boost.Interprocess mq", BOOST_CAPS,
	       PEER_MISSING);
MECH_NOT_BUILT(mech_boost_cond, "boost-cond", "Boost shm + condition",
	       BOOST_CAPS, PEER_MISSING);

#else

#include <new>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <boost/version.hpp>

namespace bi = boost::interprocess;

/* An exception as -errno (its message on stderr: the cell says where). */
static int bi_err(const char *mech, const char *what, const std::exception &e)
{
	const bi::interprocess_exception *ie =
		dynamic_cast<const bi::interprocess_exception *>(&e);
	int n = ie ? ie->get_native_error() : 0;

	fprintf(stderr, "%s: %s: %s\n", mech, what, e.what());
	if (dynamic_cast<const std::bad_alloc *>(&e))
		return -ENOMEM;
	return n > 0 ? -n : -EIO;
}

/* ------------------------------------------------------------ message_queue */

struct bmq {
	char name[2][96];
	bi::message_queue *q[2];	/* per direction */
	char *buf;
};

static int bmq_init(struct link *l)
{
	struct bmq *b = new (std::nothrow) bmq();

	if (!b)
		return -ENOMEM;
	l->priv = b;
	for (int d = 0; d < 2; d++)
		snprintf(b->name[d], sizeof(b->name[d]), "%s.bmq%d", l->tag, d);
	snprintf(l->note, sizeof(l->note), "Boost %d.%d, %d messages deep",
		 BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
		 l->stream ? 4 : 2);
	return 0;
}

static int bmq_attach(struct link *l, int side)
{
	struct bmq *b = (struct bmq *)l->priv;
	int ndir = l->stream ? 1 : 2;

	try {
		for (int d = 0; d < ndir; d++) {
			if (side == 0) {
				bi::message_queue::remove(b->name[d]);
				b->q[d] = new bi::message_queue(bi::create_only,
					b->name[d], l->stream ? 4 : 2, l->size);
			} else {
				b->q[d] = new bi::message_queue(bi::open_only,
								b->name[d]);
			}
		}
	} catch (const std::exception &e) {
		return bi_err("boost-mq", "attach", e);
	}
	b->buf = (char *)xmalloc(l->size);
	return 0;
}

static int bmq_send(struct link *l, int side, uint64_t seed)
{
	struct bmq *b = (struct bmq *)l->priv;

	fill(b->buf, l->size, seed);
	try {
		b->q[side]->send(b->buf, l->size, 0);
	} catch (const std::exception &e) {
		return bi_err("boost-mq", "send", e);
	}
	return 0;
}

static int bmq_recv(struct link *l, int side, uint64_t *seed)
{
	struct bmq *b = (struct bmq *)l->priv;
	bi::message_queue::size_type n = 0;
	unsigned int prio;

	try {
		b->q[1 - side]->receive(b->buf, l->size, n, prio);
	} catch (const std::exception &e) {
		return bi_err("boost-mq", "receive", e);
	}
	if (n != l->size)
		return -EBADMSG;
	return msg_check(b->buf, l->size, seed);
}

static void bmq_detach(struct link *l, int side)
{
	struct bmq *b = (struct bmq *)l->priv;

	(void)side;
	for (int d = 0; d < 2; d++)
		delete b->q[d];
}

static void bmq_fini(struct link *l)
{
	struct bmq *b = (struct bmq *)l->priv;

	for (int d = 0; d < 2; d++)
		bi::message_queue::remove(b->name[d]);
}

/* ------------------------------------------------------------ shm + condition */

/* In the segment: the hand-off state of both directions. */
struct handoff {
	bi::interprocess_mutex mtx;		/* protects full[] */
	bi::interprocess_condition cv[2];	/* full[d] changed */
	bool full[2];
	bi::managed_shared_memory::handle_t data[2];	/* the slots */
};

struct bcond {
	char name[96];
	bi::managed_shared_memory *seg;
	struct handoff *h;
	char *data[2];		/* this process's addresses of the slots */
};

static int bcond_init(struct link *l)
{
	struct bcond *b = new (std::nothrow) bcond();

	if (!b)
		return -ENOMEM;
	l->priv = b;
	snprintf(b->name, sizeof(b->name), "%s.bcond", l->tag);
	snprintf(l->note, sizeof(l->note), "Boost %d.%d, one slot per direction",
		 BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000);
	return 0;
}

static int bcond_attach(struct link *l, int side)
{
	struct bcond *b = (struct bcond *)l->priv;
	/* two slots and the allocator's bookkeeping */
	size_t len = 2 * ((l->size + 4095) & ~(size_t)4095) + 256 * 1024;

	try {
		if (side == 0) {
			bi::shared_memory_object::remove(b->name);
			b->seg = new bi::managed_shared_memory(bi::create_only,
							       b->name, len);
			b->h = b->seg->construct<handoff>("handoff")();
			for (int d = 0; d < 2; d++) {
				void *p = b->seg->allocate(l->size);

				memset(p, 0, l->size);		/* touched */
				b->h->data[d] = b->seg->get_handle_from_address(p);
			}
		} else {
			b->seg = new bi::managed_shared_memory(bi::open_only,
							       b->name);
			b->h = b->seg->find<handoff>("handoff").first;
			if (!b->h)
				return -ENOENT;
		}
		for (int d = 0; d < 2; d++)
			b->data[d] = (char *)b->seg->get_address_from_handle(
				b->h->data[d]);
	} catch (const std::exception &e) {
		return bi_err("boost-cond", "attach", e);
	}
	return 0;
}

static int bcond_send(struct link *l, int side, uint64_t seed)
{
	struct bcond *b = (struct bcond *)l->priv;
	struct handoff *h = b->h;

	try {
		{
			bi::scoped_lock<bi::interprocess_mutex> lk(h->mtx);

			while (h->full[side])
				h->cv[side].wait(lk);
		}
		/* empty: the receiver is done with it, only we write it now */
		fill(b->data[side], l->size, seed);
		bi::scoped_lock<bi::interprocess_mutex> lk(h->mtx);

		h->full[side] = true;
		h->cv[side].notify_one();
	} catch (const std::exception &e) {
		return bi_err("boost-cond", "send", e);
	}
	return 0;
}

static int bcond_recv(struct link *l, int side, uint64_t *seed)
{
	struct bcond *b = (struct bcond *)l->priv;
	struct handoff *h = b->h;
	int d = 1 - side, r;

	try {
		{
			bi::scoped_lock<bi::interprocess_mutex> lk(h->mtx);

			while (!h->full[d])
				h->cv[d].wait(lk);
		}
		/* full: the sender does not touch it until we mark it empty */
		r = msg_check(b->data[d], l->size, seed);
		bi::scoped_lock<bi::interprocess_mutex> lk(h->mtx);

		h->full[d] = false;
		h->cv[d].notify_one();
	} catch (const std::exception &e) {
		return bi_err("boost-cond", "receive", e);
	}
	return r;
}

static void bcond_detach(struct link *l, int side)
{
	struct bcond *b = (struct bcond *)l->priv;

	(void)side;
	delete b->seg;
}

static void bcond_fini(struct link *l)
{
	struct bcond *b = (struct bcond *)l->priv;

	bi::shared_memory_object::remove(b->name);
}

/* ------------------------------------------------------------ the family */

extern "C" const struct mech mech_boost_mq = {
	"boost-mq", "Boost.Interprocess mq", BOOST_CAPS,
	bmq_init, bmq_attach, bmq_send, bmq_recv, bmq_detach, bmq_fini,
};
extern "C" const struct mech mech_boost_cond = {
	"boost-cond", "Boost shm + condition", BOOST_CAPS,
	bcond_init, bcond_attach, bcond_send, bcond_recv, bcond_detach,
	bcond_fini,
};

#endif /* PEER_MISSING */
