/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan-bench: copy vs map, measured.
 *
 * One program, a table of mechanisms. Each mechanism connects two
 * processes (a "link") and moves messages of one size between them, in
 * both directions (round trips) or in one (a stream). Whatever the
 * mechanism, the sender writes every payload (a pattern derived from a
 * seed) and the receiver reads every byte of it and checks its sum, so no
 * figure comes from skipping work.
 *
 * Processes: the orchestrator (main) forks a *runner* per measurement, in
 * a process group of its own, so that a mechanism that hangs or crashes
 * costs one figure (timeout, then SIGKILL of the group), not the run. The
 * runner forks the *peer*; runner and peer are pinned to two different
 * CPUs when there are two.
 */
#ifndef SHMCHAN_BENCH_H
#define SHMCHAN_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus		/* mechanisms written in C++ (mech_*.cc) */
extern "C" {
#endif

#define KiB		1024ULL
#define MiB		(1024ULL * KiB)
#define GiB		(1024ULL * MiB)

#define MAX_REPS	64
#define MAX_SIZES	32

/* Message seeds: a counter in the low bits, and marks. */
#define SEED_STOP	UINT64_MAX		/* peer: leave the loop */
#define SEED_END	(1ULL << 62)		/* stream: last of a rep, ack it */
#define SEED_REPLY	(1ULL << 61)		/* round trip: the peer's answer */
#define SEED_COUNT	((1ULL << 61) - 1)

/* ------------------------------------------------------------ util.c */

double now(void);				/* CLOCK_MONOTONIC, seconds */
/*
 * A cheap clock for single operations: the TSC on x86 (clock_gettime()
 * costs 1.5 us in the TCG guest, whose clocksource has no vDSO), in
 * ticks of tick_sec seconds, calibrated against now() at start.
 */
extern double tick_sec;
void ticks_calibrate(void);
static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return (uint64_t)(now() * 1e9);
#endif
}
void fill(void *buf, size_t len, uint64_t first);	/* word i = first + i */
uint64_t sum(const void *buf, size_t len);	/* sum of 64-bit words */
/* What sum() gives for a message of @len bytes filled from @seed. */
uint64_t expect_sum(size_t len, uint64_t seed);
/*
 * A message of @len bytes received whole: its seed (the first word) into
 * *@seed; 0 if it sums as fill() from that seed left it, else -EBADMSG.
 */
int msg_check(const void *buf, size_t len, uint64_t *seed);

int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);	/* -EPIPE at end of file */

void *xmalloc(size_t len);			/* touched, page aligned */
void *shared_anon(size_t len);			/* MAP_SHARED|ANON, touched */

extern int ncpus;				/* CPUs we may run on */
extern int cpu_of[2];				/* runner's and peer's CPU */
void pin(int side);				/* no-op with one CPU */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
const char *size_str(uint64_t bytes);		/* "64 KiB", static ring */

/* Statistics over repetitions. */
struct stat3 {
	double med, min, max;
	int n;
};
struct stat3 stats(const double *v, int n);

/* mech_huge.c: the "huge" suite, 4 KiB pages against SHMCHAN_CREATE_HUGE */
int suite_huge_run(const char *out_dir, FILE *out, uint64_t want, int reps,
		   double timeout);

/* ------------------------------------------------------------ cells */

/*
 * struct cell - one figure, written by the runner (and the peer, on error)
 * in memory shared with the orchestrator
 * @status: 0, or a negative errno (-ETIMEDOUT: killed at the timeout),
 *	or CELL_SKIP with @err saying why
 * @v: the repetitions' values (seconds per operation, or bytes/s)
 * @ops: operations per repetition; @bytes moved per repetition
 * @extra: suite-specific values (setup phases)
 */
#define CELL_SKIP	1
#define CELL_EXTRA	24
struct cell {
	int status;
	char err[240];
	char note[240];
	int n;
	double v[MAX_REPS];
	double extra[CELL_EXTRA][MAX_REPS];
	uint64_t ops;
	uint64_t bytes;
};

void cell_fail(struct cell *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cell_skip(struct cell *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * run_cell - run @fn(@c, @arg) in a runner process; kill it after
 * @timeout seconds. *@c is cleared first and holds the result after.
 */
void run_cell(struct cell *c, void (*fn)(struct cell *, const void *),
	      const void *arg, double timeout);
struct cell *cell_new(void);			/* in shared memory */
void oom_adj(int v);				/* /proc/self/oom_score_adj */
long mem_available_kib(void);			/* MemAvailable, or -1 */

/* ------------------------------------------------------------ mechanisms */

struct link;

/* caps */
#define M_LAT		(1U << 0)	/* can do round trips */
#define M_STREAM	(1U << 1)	/* can stream (has flow control) */
#define M_SHMCHAN	(1U << 2)	/* needs the module */
#define M_SPIN		(1U << 3)	/* busy-polls: needs two CPUs */
#define M_LAT_DEF	(1U << 4)	/* in the default latency set */
#define M_STREAM_DEF	(1U << 5)	/* in the default stream set */
#define M_QUEUE		(1U << 6)	/* needs libshmchan's queue */
#define M_PEER		(1U << 7)	/* a library users pick instead of
					 * shmchan: in "shmchan against the
					 * alternatives" */

/*
 * struct mech - one way to move a message between two processes
 * @init: in the runner, before fork: objects both processes inherit
 * @attach: in each process after fork, the runner (side 0) first: objects
 *	of its own (named ones the runner makes and the peer opens)
 * @send: write a message of l->size bytes from @seed, and send it from
 *	@side (side 0 sends in direction 0, side 1 in direction 1)
 * @recv: receive one at @side, read every byte, check the sum; *@seed is
 *	the message's seed. -EBADMSG if the sum is wrong.
 * @detach: in each process, before it exits
 * @fini: in the runner after the peer has exited
 * All return 0 or a negative errno. An @init that returns -ENOPKG says
 * the mechanism cannot run here (l->note says why): its figures are
 * skipped with that reason, not failed.
 */
struct mech {
	const char *name;	/* short, for CSV and --mechs */
	const char *label;	/* for tables and plots */
	unsigned int caps;
	int (*init)(struct link *l);
	int (*attach)(struct link *l, int side);
	int (*send)(struct link *l, int side, uint64_t seed);
	int (*recv)(struct link *l, int side, uint64_t *seed);
	void (*detach)(struct link *l, int side);
	void (*fini)(struct link *l);
};

/*
 * MECH_NOT_BUILT - the stand-in of a mechanism whose library was missing
 * when the benchmark was built (the Makefile's detection): every figure of
 * it is "skipped, not built: @why".
 */
#define MECH_NOT_BUILT(var, nm, lbl, caps, why)				\
	static int var##_not_built(struct link *l)			\
	{								\
		snprintf(l->note, sizeof(l->note), "not built: %s", why); \
		return -ENOPKG;						\
	}								\
	const struct mech var = {					\
		nm, lbl, caps, var##_not_built, NULL, NULL, NULL, NULL, NULL, \
	}

/*
 * struct link - a mechanism connecting the runner and the peer
 * @size: message size in bytes (a multiple of 8)
 * @stream: one-way stream (direction 0 only) rather than round trips
 * @waiters: unrelated waiters to park on other words (wake suite)
 * @priv: the mechanism's state; made by init, copied into the peer by fork
 * @note: what the mechanism wants said about this figure (limits used)
 */
struct link {
	const struct mech *m;
	size_t size;
	bool stream;
	long waiters;
	char tag[64];		/* unique prefix for named objects */
	void *priv;
	char note[240];
};

/* The table of mechanisms, NULL-terminated: mechs.c (add one there). */
extern const struct mech *const mechs[];
const struct mech *mech_find(const char *name);

/* Options mechanisms read. */
extern uint32_t opt_spin_ns;		/* adaptive spin of the queue */

/* Shared helpers of the mechanisms */
int park_waiters_futex(uint32_t *words, long n, pid_t *helper);
struct shmchan;
int park_waiters_shmchan(struct shmchan *ch, uint64_t offset, long n,
			 pid_t *helper);
void unpark(pid_t helper);
int seq_recv_done(uint32_t now, uint32_t *seq, const void *data, size_t size,
		  uint64_t *seed);

/* shmchan availability: 0, or why not (mechs.c; set by main) */
extern const char *shmchan_missing;
extern const char *queue_missing;

/* ------------------------------------------------------------ drivers */

struct lat_arg {
	const struct mech *m;
	size_t size;
	long waiters;
	double budget;		/* seconds for the whole figure */
	int reps;
};
/* Round trips: c->v[] = seconds per round trip */
void lat_cell(struct cell *c, const void *arg);

struct stream_arg {
	const struct mech *m;
	size_t size;
	double budget;
	int reps;
	uint64_t max_bytes;	/* in all repetitions together */
};
/* One-way stream: c->v[] = bytes per second */
void stream_cell(struct cell *c, const void *arg);
void memcpy_cell(struct cell *c, const void *arg);
void fillsum_cell(struct cell *c, const void *arg);
/* the queue's path in one process: c->v[] = seconds per send + receive */
void qlocal_cell(struct cell *c, const void *arg);

/* setup.c */
struct setup_arg {
	int kind;		/* SETUP_* */
	size_t size;
	int reps;
	double budget;
};
enum { SETUP_MEMFD, SETUP_SHM_OPEN, SETUP_SHMGET, SETUP_SHMCHAN,
       SETUP_SHMCHAN_POP, SETUP_KINDS };
enum { PH_CREATE, PH_MAP, PH_TOUCH, PH_UNMAP, PH_DESTROY, PH_COUNT };
extern const char *const setup_names[SETUP_KINDS];
extern const char *const setup_labels[SETUP_KINDS];
extern const char *const phase_names[PH_COUNT];
/* c->extra[phase][rep] = seconds; c->v[rep] = total */
void setup_cell(struct cell *c, const void *arg);

struct oneshot_arg {
	int kind;		/* ONESHOT_* */
	size_t size;
	double budget;
	int max_reps;
};
enum { ONESHOT_PIPE, ONESHOT_MAP, ONESHOT_MAP_POP, ONESHOT_KINDS };
extern const char *const oneshot_names[ONESHOT_KINDS];
extern const char *const oneshot_labels[ONESHOT_KINDS];
/* c->v[rep] = seconds for one transfer */
void oneshot_cell(struct cell *c, const void *arg);

/* scale.c */
#define MAX_COUNTS	6
struct scale_arg {
	int kind;		/* SCALE_* */
	long counts[MAX_COUNTS];	/* objects already there, ascending */
	int ncounts;
	int ops;		/* operations of each kind per measurement */
	int sweeps;		/* up through the counts, then down, ... */
};
enum { SCALE_SHMCHAN, SCALE_SHM_OPEN, SCALE_KINDS };
enum { OP_CREATE, OP_OPEN, OP_DESTROY, OP_COUNT };
extern const char *const scale_names[SCALE_KINDS];
extern const char *const scale_labels[SCALE_KINDS];
extern const char *const op_names[OP_COUNT];
/*
 * c->extra[op * MAX_COUNTS + i][sweep] = median seconds per operation
 * with counts[i] objects there, in that sweep
 */
void scale_cell(struct cell *c, const void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SHMCHAN_BENCH_H */
