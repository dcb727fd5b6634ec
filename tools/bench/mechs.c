// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: the table of mechanisms, and which of them run.
 *
 * To add a mechanism:
 *   1. write it in a file of its family, mech_<family>.c (or .cc for C++),
 *      as `const struct mech mech_<name> = { ... };` (struct mech in
 *      bench.h says what each hook does); a new file is built by itself
 *      (the Makefile takes every mech_*.c and mech_*.cc);
 *   2. add one MECH(mech_<name>) line to MECHS below, where its rows should
 *      appear in the tables (rows are printed in this order).
 * Its caps say which suites run it: M_LAT (round trips) and M_STREAM
 * (streams) make it eligible, M_LAT_DEF and M_STREAM_DEF put it in the
 * default sets (the others run with --mechs). Nothing else needs to know
 * about it: suites, CSV files and plots go by this table.
 *
 * One line per mechanism, so that branches adding mechanisms at the same
 * time merge by keeping both lines.
 */
#include <string.h>

#include "suites.h"

#define MECHS(MECH)							\
	/* copying, through the kernel (mech_fd.c, mech_msgq.c) */	\
	MECH(mech_pipe)							\
	MECH(mech_unix)							\
	MECH(mech_pmq)							\
	MECH(mech_smq)							\
	/* shared memory + a notification (mech_shm.c) */		\
	MECH(mech_eventfd)						\
	MECH(mech_futex)						\
	MECH(mech_sem)							\
	MECH(mech_raw)							\
	MECH(mech_waitv)						\
	/* the libraries users pick instead (M_PEER; mech_boost.cc,	\
	 * mech_zmq.c, mech_nng.c) */					\
	MECH(mech_boost_mq)						\
	MECH(mech_boost_cond)						\
	MECH(mech_zmq)							\
	MECH(mech_nng)							\
	/* libshmchan's queue (mech_queue.c) */				\
	MECH(mech_queue_block)						\
	MECH(mech_queue_adapt)						\
	MECH(mech_queue_busy)						\
	MECH(mech_zc_block)						\
	MECH(mech_zc_adapt)						\
	MECH(mech_zc_busy)						\
	/* event loops: the queue and eventfd + shm in epoll_wait()	\
	 * (mech_epoll.c) */						\
	MECH(mech_queue_epoll)						\
	MECH(mech_eventfd_epoll)					\
	/* the floor (mech_shm.c) */					\
	MECH(mech_busy)							\
	MECH(mech_busy_pause)

#define MECH_DECLARE(var)	extern const struct mech var;
#define MECH_ENTRY(var)		&var,

MECHS(MECH_DECLARE)

const struct mech *const mechs[] = {
	MECHS(MECH_ENTRY)
	NULL,
};

/* shmchan availability: 0, or why not (set by main) */
const char *shmchan_missing;
const char *queue_missing;

const struct mech *mech_find(const char *name)
{
	int i;

	for (i = 0; mechs[i]; i++)
		if (!strcmp(mechs[i]->name, name))
			return mechs[i];
	return NULL;
}

bool mech_wanted(const struct mech *m, unsigned int def_cap)
{
	const char *p;
	size_t n;

	if (!only_mechs)
		return m->caps & def_cap;
	n = strlen(m->name);
	for (p = only_mechs; (p = strstr(p, m->name)); p += n)
		if ((p == only_mechs || p[-1] == ',') &&
		    (p[n] == 0 || p[n] == ','))
			return true;
	return false;
}

/* Why @m cannot run here, or NULL. */
const char *mech_missing(const struct mech *m)
{
	if ((m->caps & M_SHMCHAN) && shmchan_missing)
		return shmchan_missing;
	if ((m->caps & M_QUEUE) && queue_missing)
		return queue_missing;
	if ((m->caps & M_SPIN) && ncpus < 2)
		return "busy-polling needs two CPUs";
	return NULL;
}
