// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan-bench: shared memory plus a notification (eventfd, futex, SysV
 * semaphore, shmchan wait/wake, busy-polling): one region per direction, a
 * 32-bit sequence word at its start and the payload 8 bytes in (so an
 * 8-byte message and its sequence word share one cache line). The sender
 * fills the payload in place, publishes the sequence (release) and
 * notifies; the receiver waits for the sequence to move, then sums the
 * payload in place. Round trips strictly alternate, so one region per
 * direction is enough; these have no flow control and do not stream.
 *
 * Also the parked waiters of the wake suite (park_waiters_*()).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmchan.h>

#include "bench.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ------------------------------------------------------------ shm + notify */

enum { SN_EVENTFD, SN_FUTEX, SN_SEM, SN_SHMCHAN, SN_BUSY, SN_BUSY_PAUSE };

struct shmn {
	int kind;
	char *base;
	size_t len;
	size_t off[2];		/* region of each direction */
	size_t wait_off;	/* words of parked waiters */
	uint32_t seq[2];	/* per process: last sent/seen per direction */
	int efd[2];
	int semid;
	struct shmchan *ch;
	pid_t helper;
};

static inline _Atomic uint32_t *seq_word(struct shmn *s, int d)
{
	return (_Atomic uint32_t *)(s->base + s->off[d]);
}

static long futex(void *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static int shmn_init(struct link *l, int kind)
{
	struct shmn *s = calloc(1, sizeof(*s));
	long pg = sysconf(_SC_PAGESIZE);
	size_t region = ((8 + l->size) + (size_t)pg - 1) & ~((size_t)pg - 1);
	size_t wait_len = ((size_t)l->waiters * 4 + (size_t)pg - 1) &
			  ~((size_t)pg - 1);
	int fd, d, r;

	l->priv = s;
	s->kind = kind;
	s->off[0] = 0;
	s->off[1] = region;
	s->wait_off = 2 * region;
	s->len = 2 * region + (wait_len ? wait_len : (size_t)pg);
	s->semid = -1;

	switch (kind) {
	case SN_EVENTFD:
	case SN_SEM:
	case SN_BUSY:
	case SN_BUSY_PAUSE:
		if (kind == SN_SEM) {
			int id = shmget(IPC_PRIVATE, s->len, IPC_CREAT | 0600);

			if (id < 0)
				return -errno;
			s->base = shmat(id, NULL, 0);
			shmctl(id, IPC_RMID, NULL);	/* goes with the last detach */
			if (s->base == (void *)-1)
				return -errno;
			s->semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
			if (s->semid < 0)
				return -errno;
		} else {
			s->base = shared_anon(s->len);
		}
		if (kind == SN_EVENTFD) {
			for (d = 0; d < 2; d++) {
				s->efd[d] = eventfd(0, EFD_CLOEXEC);
				if (s->efd[d] < 0)
					return -errno;
			}
		}
		break;
	case SN_FUTEX:
		fd = memfd_create("shmchan-bench", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)s->len)) {
			close(fd);
			return -errno;
		}
		s->base = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		close(fd);
		if (s->base == MAP_FAILED)
			return -errno;
		memset(s->base, 0, s->len);
		if (l->waiters) {
			r = park_waiters_futex((uint32_t *)(s->base + s->wait_off),
					       l->waiters, &s->helper);
			if (r)
				return r;
		}
		break;
	case SN_SHMCHAN:
		if (shmchan_missing)
			return -ENODEV;
		r = shmchan_create(l->tag, s->len, 0600,
				   SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT,
				   &s->ch);
		if (r)
			return r;
		r = shmchan_map(s->ch, PROT_READ | PROT_WRITE, (void **)&s->base);
		if (r)
			return r;
		memset(s->base, 0, s->len);
		if (l->waiters) {
			r = park_waiters_shmchan(s->ch, s->wait_off, l->waiters,
						 &s->helper);
			if (r)
				return r;
		}
		break;
	}
	return 0;
}

static int shmn_send(struct link *l, int side, uint64_t seed)
{
	struct shmn *s = l->priv;
	_Atomic uint32_t *w = seq_word(s, side);
	struct sembuf op = { (unsigned short)side, 1, 0 };
	uint64_t one = 1;

	fill(s->base + s->off[side] + 8, l->size, seed);
	atomic_store_explicit(w, ++s->seq[side], memory_order_release);
	switch (s->kind) {
	case SN_EVENTFD:
		return write_all(s->efd[side], &one, sizeof(one));
	case SN_FUTEX:
		return futex(w, FUTEX_WAKE, 1) < 0 ? -errno : 0;
	case SN_SEM:
		while (semop(s->semid, &op, 1))
			if (errno != EINTR)
				return -errno;
		return 0;
	case SN_SHMCHAN: {
		int r = shmchan_wake(s->ch, s->off[side], 1);

		return r < 0 ? r : 0;
	}
	}
	return 0;
}

static int shmn_recv(struct link *l, int side, uint64_t *seed)
{
	struct shmn *s = l->priv;
	int d = 1 - side;
	_Atomic uint32_t *w = seq_word(s, d);
	struct sembuf op = { (unsigned short)d, -1, 0 };
	uint32_t last = s->seq[d];
	const char *data = s->base + s->off[d] + 8;
	uint64_t v;
	int r;

	switch (s->kind) {
	case SN_EVENTFD:
		r = read_all(s->efd[d], &v, sizeof(v));
		if (r)
			return r;
		break;
	case SN_SEM:
		while (semop(s->semid, &op, 1))
			if (errno != EINTR)
				return -errno;
		break;
	case SN_FUTEX:
		while (atomic_load_explicit(w, memory_order_acquire) == last)
			if (futex(w, FUTEX_WAIT, last) < 0 && errno != EAGAIN &&
			    errno != EINTR)
				return -errno;
		break;
	case SN_SHMCHAN:
		while (atomic_load_explicit(w, memory_order_acquire) == last) {
			r = shmchan_wait(s->ch, s->off[d], last, NULL);
			if (r && r != -EAGAIN && r != -EINTR)
				return r;
		}
		break;
	case SN_BUSY:
		/* the floor: nothing but the load (no PAUSE, which under
		 * QEMU TCG leaves the translated code each time) */
		while (atomic_load_explicit(w, memory_order_acquire) == last)
			;
		break;
	case SN_BUSY_PAUSE:
		while (atomic_load_explicit(w, memory_order_acquire) == last)
			cpu_relax();
		break;
	}
	return seq_recv_done(atomic_load_explicit(w, memory_order_acquire),
			     &s->seq[d], data, l->size, seed);
}

static void shmn_fini(struct link *l)
{
	struct shmn *s = l->priv;

	if (s->helper)
		unpark(s->helper);
	if (s->semid >= 0)
		semctl(s->semid, 0, IPC_RMID);
	if (s->kind == SN_SEM)
		shmdt(s->base);
	else if (s->kind == SN_SHMCHAN)
		shmchan_close(s->ch);
}

static int eventfd_init(struct link *l) { return shmn_init(l, SN_EVENTFD); }
static int futex_init(struct link *l) { return shmn_init(l, SN_FUTEX); }
static int sem_init(struct link *l) { return shmn_init(l, SN_SEM); }
static int raw_init(struct link *l) { return shmn_init(l, SN_SHMCHAN); }
static int busy_init(struct link *l) { return shmn_init(l, SN_BUSY); }
static int busyp_init(struct link *l) { return shmn_init(l, SN_BUSY_PAUSE); }

/* ------------------------------------------------------------ parked waiters */

/*
 * A helper process with @n threads, each asleep on its own word (value 0)
 * and never woken: the "unrelated waiters" of the wake suite. It is
 * SIGKILLed by unpark().
 */
struct parked {
	uint32_t *words;		/* futex */
	struct shmchan *ch;		/* shmchan */
	uint64_t offset;
	_Atomic long *started;
};

static struct parked parked;

static void *park_thread(void *arg)
{
	long i = (long)arg;

	atomic_fetch_add(parked.started, 1);
	for (;;) {
		if (parked.ch)
			shmchan_wait(parked.ch, parked.offset + 4 * (uint64_t)i,
				     0, NULL);
		else
			futex(&parked.words[i], FUTEX_WAIT, 0);
	}
	return NULL;
}

static int park(long n, pid_t *helper)
{
	_Atomic long *started = shared_anon(sizeof(*started));
	double deadline = now() + 60;
	pid_t pid;

	parked.started = started;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		pthread_attr_t a;
		pthread_t t;
		long i;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 * 1024);
		for (i = 0; i < n; i++)
			if (pthread_create(&t, &a, park_thread, (void *)i))
				_exit(1);
		for (;;)
			pause();
	}
	*helper = pid;
	while (atomic_load(started) < n) {
		if (now() > deadline || waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		usleep(1000);
	}
	return 0;
}

/*
 * The receiving end of a round trip through a sequence word and the
 * payload after it (shmchan-raw and its kin, shmchan-waitv1), once the
 * peer's word reads @now and we last saw *@seq: it moved by exactly one,
 * and the @size bytes at @data are the message (its seed in *@seed).
 */
int seq_recv_done(uint32_t now, uint32_t *seq, const void *data, size_t size,
		  uint64_t *seed)
{
	if (now != *seq + 1)
		return -EPROTO;
	*seq = now;
	return msg_check(data, size, seed);
}

int park_waiters_futex(uint32_t *words, long n, pid_t *helper)
{
	int r;

	parked.words = words;
	parked.ch = NULL;
	r = park(n, helper);
	if (r)
		return r;
	/* Between counting itself and sleeping a thread runs a few
	 * instructions; futexes cannot be counted, so give them time. */
	usleep(200000);
	return 0;
}

int park_waiters_shmchan(struct shmchan *ch, uint64_t offset, long n,
			 pid_t *helper)
{
	struct shmchan_stat st;
	double deadline = now() + 60;
	int r;

	parked.words = NULL;
	parked.ch = ch;
	parked.offset = offset;
	r = park(n, helper);
	if (r)
		return r;
	for (;;) {
		r = shmchan_stat(ch, &st);
		if (r)
			return r;
		if (st.nwaiters >= (uint64_t)n)
			return 0;
		if (now() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

void unpark(pid_t helper)
{
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
}

/* ------------------------------------------------------------ the family */

const struct mech mech_eventfd = {
	"eventfd-shm", "eventfd + shm", M_LAT | M_LAT_DEF,
	eventfd_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
const struct mech mech_futex = {
	"futex", "futex on memfd", M_LAT | M_LAT_DEF,
	futex_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
const struct mech mech_sem = {
	"sysv-shm-sem", "SysV shm + sem", M_LAT | M_LAT_DEF,
	sem_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
const struct mech mech_raw = {
	"shmchan-raw", "shmchan wait/wake", M_LAT | M_LAT_DEF | M_SHMCHAN,
	raw_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
const struct mech mech_busy = {
	"busy-poll", "busy-poll (floor)", M_LAT | M_LAT_DEF | M_SPIN,
	busy_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
const struct mech mech_busy_pause = {
	"busy-poll-pause", "busy-poll with PAUSE", M_LAT | M_SPIN,
	busyp_init, NULL, shmn_send, shmn_recv, NULL, shmn_fini,
};
