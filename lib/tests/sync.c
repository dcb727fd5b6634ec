// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The sync helpers against the real module (run it in the VM): the robust
 * mutex (contention, errors, its owner killed with SIGKILL before and
 * while others wait), the semaphore, the condition variable, the event,
 * and what each does when the channel is revoked.
 */
#include "util.h"

/* Objects at fixed offsets of the channel. */
#define M(a)	((struct shmchan_mutex *)((a)->base + 64))
#define M2(a)	((struct shmchan_mutex *)((a)->base + 128))
#define SEM(a)	((struct shmchan_sem *)((a)->base + 192))
#define CV(a)	((struct shmchan_cond *)((a)->base + 256))
#define EV(a)	((struct shmchan_event *)((a)->base + 320))
#define COUNTER(a) ((volatile uint64_t *)((a)->base + 4096))

/* Every object above, fresh: mutexes free, semaphore 0, event clear. */
static void objects_init(struct sync_area *a)
{
	shmchan_mutex_init(M(a));
	shmchan_mutex_init(M2(a));
	ASSERT_EQ(shmchan_sem_init(SEM(a), 0), 0);
	shmchan_cond_init(CV(a));
	shmchan_event_init(EV(a), 0);
}

/* ------------------------------------------------------------ mutex */

TEST(mutex_errors, 30)
{
	const char *n = chan_name("merr");
	struct shmchan_mutex outside;
	struct sync_area a;
	pid_t pid;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sync_new(NULL, a.base, &a.s), -EINVAL);
	ASSERT_EQ(shmchan_sync_new(a.ch, NULL, &a.s), -EINVAL);
	shmchan_mutex_init(M(&a));
	ASSERT_EQ(shmchan_mutex_lock(a.s, &outside, 0), -EINVAL);
	ASSERT_EQ(shmchan_mutex_lock(a.s, (struct shmchan_mutex *)(a.base + 65536 - 8), 0), -EINVAL);
	ASSERT_EQ(shmchan_mutex_lock(a.s, (struct shmchan_mutex *)(a.base + 4), 0), -EINVAL);
	ASSERT_EQ(shmchan_mutex_lock(NULL, M(&a), 0), -EINVAL);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), -EPERM);
	ASSERT_EQ(shmchan_mutex_consistent(a.s, M(&a)), -EPERM);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), -EDEADLK);
	ASSERT_EQ(shmchan_mutex_consistent(a.s, M(&a)), -EINVAL);
	/* another process: try, then time out */
	pid = fork();
	if (pid == 0) {
		struct sync_area b;
		uint64_t t0;

		sync_area_open(&b, n, false);
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), 0), -EAGAIN);
		ASSERT_EQ(shmchan_mutex_unlock(b.s, M(&b)), -EPERM);
		t0 = now_ns();
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), SHMCHAN_MSEC(100)), -ETIMEDOUT);
		ASSERT_TRUE(now_ns() - t0 >= 100000000ULL);
		_exit(0);
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), -EPERM);
	shmchan_sync_free(a.s);
	shmchan_sync_free(NULL);
}

TEST(mutex_contention, 120)
{
	const char *n = chan_name("mcont");
	const int procs = 4, iters = (int)scaled(5000);
	struct sync_area a;
	pid_t pid[4];
	int i, k;

	sync_area_open(&a, n, true);
	shmchan_mutex_init(M(&a));
	*COUNTER(&a) = 0;
	for (i = 0; i < procs; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct sync_area b;

			sync_area_open(&b, n, false);
			for (k = 0; k < iters; k++) {
				ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), SHMCHAN_MSEC(20000)), 0);
				/* not atomic: only the mutex keeps it right */
				*COUNTER(&b) = *COUNTER(&b) + 1;
				ASSERT_EQ(shmchan_mutex_unlock(b.s, M(&b)), 0);
			}
			_exit(0);
		}
	}
	for (i = 0; i < procs; i++)
		ASSERT_EQ(reap(pid[i]), 0);
	ASSERT_EQ(*COUNTER(&a), (uint64_t)procs * iters);
}

/*
 * The owner is killed while another process sleeps on the mutex: the
 * sleeper gets it with -EOWNERDEAD, promptly.
 */
TEST(mutex_owner_killed_while_waiting, 60)
{
	const char *n = chan_name("mkill");
	_Atomic uint64_t *killed_at = shared_mem(4096);
	struct sync_area a;
	pid_t owner, killer;
	int fds[2];
	char c;

	sync_area_open(&a, n, true);
	shmchan_mutex_init(M(&a));
	ASSERT_EQ(pipe(fds), 0);
	owner = fork();
	if (owner == 0) {
		struct sync_area b;

		sync_area_open(&b, n, false);
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), 0), 0);
		*COUNTER(&b) = 12345;	/* half-way through an update */
		ASSERT_EQ(write(fds[1], "l", 1), 1);
		pause();
	}
	ASSERT_EQ(read(fds[0], &c, 1), 1);
	killer = fork();
	if (killer == 0) {
		ASSERT_EQ(await_waiters(a.ch, 1), 0);
		*killed_at = now_ns();
		kill(owner, SIGKILL);
		_exit(0);
	}
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_MSEC(20000)), -EOWNERDEAD);
	diag("-EOWNERDEAD %.3f s after the kill", secs_since(*killed_at));
	ASSERT_EQ(*COUNTER(&a), 12345);
	/* repaired: it works as before */
	ASSERT_EQ(shmchan_mutex_consistent(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(reap(owner), 128 + SIGKILL);
	ASSERT_EQ(reap(killer), 0);
}

/*
 * The owner died before anyone waited (no death notice reaches a sleeper
 * then): the next locker, blocking or not, still finds out. Unlocked
 * without repair, the mutex is unusable for good.
 */
TEST(mutex_owner_dead_before, 60)
{
	const char *n = chan_name("mdead");
	struct sync_area a;
	pid_t owner;

	sync_area_open(&a, n, true);
	shmchan_mutex_init(M(&a));
	shmchan_mutex_init(M2(&a));
	owner = fork();
	if (owner == 0) {
		struct sync_area b;

		sync_area_open(&b, n, false);
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), 0), 0);
		ASSERT_EQ(shmchan_mutex_lock(b.s, M2(&b), 0), 0);
		_exit(0);	/* dies holding both */
	}
	ASSERT_EQ(reap(owner), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_FOREVER), -EOWNERDEAD);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), -EOWNERDEAD);
	/* M: repaired. M2: not. */
	ASSERT_EQ(shmchan_mutex_consistent(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M2(&a)), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), -ENOTRECOVERABLE);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), SHMCHAN_FOREVER), -ENOTRECOVERABLE);
	shmchan_mutex_init(M2(&a));
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M2(&a)), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
}

/* ------------------------------------------------------------ semaphore */

TEST(semaphore, 60)
{
	const char *n = chan_name("sem");
	struct sync_area a;
	const int items = 2000;
	uint64_t t0;
	pid_t pid;
	int i;

	sync_area_open(&a, n, true);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), SHMCHAN_SEM_MAX + 1), -EINVAL);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 3), 0);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 3);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), 0);
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), -EAGAIN);
	t0 = now_ns();
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), SHMCHAN_MSEC(100)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 100000000ULL);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), SHMCHAN_SEM_MAX), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), -EOVERFLOW);
	ASSERT_EQ(shmchan_sem_init(SEM(&a), 0), 0);

	/* a consumer process takes what a producer posts, blocking */
	pid = fork();
	if (pid == 0) {
		struct sync_area b;

		sync_area_open(&b, n, false);
		for (i = 0; i < items; i++)
			ASSERT_EQ(shmchan_sem_wait(b.s, SEM(&b), SHMCHAN_MSEC(20000)), 0);
		_exit(0);
	}
	for (i = 0; i < items; i++) {
		ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
		if (i % 500 == 0)
			usleep(2000);	/* let it sleep now and then */
	}
	ASSERT_EQ(reap(pid), 0);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 0);
}

/* ------------------------------------------------------------ condition */

TEST(condition, 60)
{
	const char *n = chan_name("cond");
	struct sync_area a;
	pid_t pid[3];
	uint64_t t0;
	int i;

	sync_area_open(&a, n, true);
	shmchan_mutex_init(M(&a));
	shmchan_cond_init(CV(&a));
	*COUNTER(&a) = 0;

	/* timed wait: -ETIMEDOUT, with the mutex held again */
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), 0);
	t0 = now_ns();
	ASSERT_EQ(shmchan_cond_wait(a.s, CV(&a), M(&a), SHMCHAN_MSEC(100)), -ETIMEDOUT);
	ASSERT_TRUE(now_ns() - t0 >= 100000000ULL);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), -EDEADLK);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(shmchan_cond_wait(a.s, CV(&a), M(&a), 0), -EPERM);

	/* three waiters for a predicate; one broadcast wakes them all */
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct sync_area b;
			int ret = 0;

			sync_area_open(&b, n, false);
			ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), SHMCHAN_MSEC(20000)), 0);
			(*COUNTER(&b))++;
			while (*COUNTER(&b) < 100 && !ret)
				ret = shmchan_cond_wait(b.s, CV(&b), M(&b), SHMCHAN_MSEC(20000));
			ASSERT_EQ(ret, 0);
			ASSERT_EQ(shmchan_mutex_unlock(b.s, M(&b)), 0);
			_exit(0);
		}
	}
	/* all three in (the counter says so), then set the predicate */
	for (;;) {
		ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_MSEC(20000)), 0);
		if (*COUNTER(&a) == 3)
			break;
		ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
		usleep(1000);
	}
	*COUNTER(&a) = 100;
	ASSERT_EQ(shmchan_cond_broadcast(a.s, CV(&a)), 0);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(reap(pid[i]), 0);
	ASSERT_EQ(shmchan_cond_signal(a.s, CV(&a)), 0);
}

static _Atomic int *usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(usr1_seen, 1);
}

/*
 * A signal handler (without SA_RESTART) that runs while shmchan_cond_wait()
 * sleeps to get the mutex back does not make it return without the mutex:
 * it sleeps again, and returns 0 (it was signalled) holding the mutex.
 */
TEST(cond_relock_interrupted, 60)
{
	const char *n = chan_name("condintr");
	struct sync_area a;
	pid_t pid;
	int i;

	usr1_seen = shared_mem(4096);
	sync_area_open(&a, n, true);
	shmchan_mutex_init(M(&a));
	shmchan_cond_init(CV(&a));
	*COUNTER(&a) = 0;
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		struct sync_area b;
		int ret = 0;

		ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
		sync_area_open(&b, n, false);
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), 0), 0);
		while (*COUNTER(&b) != 2 && !ret)
			ret = shmchan_cond_wait(b.s, CV(&b), M(&b), SHMCHAN_MSEC(20000));
		ASSERT_EQ(ret, 0);
		ASSERT_EQ(*COUNTER(&b), 2);
		ASSERT_EQ(shmchan_mutex_unlock(b.s, M(&b)), 0);
		_exit(0);
	}
	/* asleep in the condition, then signalled while we hold the mutex */
	ASSERT_EQ(await_waiters(a.ch, 1), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_MSEC(20000)), 0);
	*COUNTER(&a) = 2;
	ASSERT_EQ(shmchan_cond_signal(a.s, CV(&a)), 0);
	/* the signal's WAKE took it off the queue: this is the relock */
	ASSERT_EQ(await_waiters(a.ch, 1), 0);
	ASSERT_EQ(kill(pid, SIGUSR1), 0);
	for (i = 0; i < 5000 && !atomic_load(usr1_seen); i++)
		usleep(1000);
	ASSERT_TRUE(atomic_load(usr1_seen));
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M(&a)), 0);
	ASSERT_EQ(reap(pid), 0);
}

/* ------------------------------------------------------------ event */

TEST(event, 60)
{
	const char *n = chan_name("event");
	struct sync_area a;
	pid_t pid;

	sync_area_open(&a, n, true);
	shmchan_event_init(EV(&a), 0);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), -EAGAIN);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), SHMCHAN_MSEC(50)), -ETIMEDOUT);
	pid = fork();
	if (pid == 0) {
		struct sync_area b;

		sync_area_open(&b, n, false);
		_exit(shmchan_event_wait(b.s, EV(&b), SHMCHAN_MSEC(20000)) ? 1 : 0);
	}
	ASSERT_EQ(await_waiters(a.ch, 1), 0);
	ASSERT_EQ(shmchan_event_set(a.s, EV(&a)), 0);
	ASSERT_EQ(reap(pid), 0);
	/* stays set until reset */
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), 0);
	shmchan_event_reset(EV(&a));
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), -EAGAIN);
	shmchan_event_init(EV(&a), 1);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), 0);
}
/* NULL, and objects outside the channel, for the cond and the event */
TEST(cond_event_errors, 30)
{
	const char *n = chan_name("cverr");
	struct shmchan_cond outside_cv;
	struct shmchan_event outside_ev;
	struct sync_area a;

	sync_area_open(&a, n, true);
	shmchan_cond_init(&outside_cv);
	shmchan_event_init(&outside_ev, 0);
	shmchan_mutex_init(M(&a));
	ASSERT_EQ(shmchan_cond_signal(NULL, CV(&a)), -EINVAL);
	ASSERT_EQ(shmchan_cond_broadcast(a.s, &outside_cv), -EINVAL);
	ASSERT_EQ(shmchan_cond_wait(a.s, NULL, M(&a), 0), -EINVAL);
	ASSERT_EQ(shmchan_event_set(a.s, &outside_ev), -EINVAL);
	ASSERT_EQ(shmchan_event_wait(NULL, EV(&a), 0), -EINVAL);
}

/* ------------------------------------------------------------ signals */

static void hold_mutex(void *arg)
{
	struct sync_area *a = arg, b;

	sync_area_open(&b, shmchan_name(a->ch), false);
	ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), 0), 0);
	*COUNTER(&b) = 1;
	pause();
}

/* A child that holds M until killed; returns once it holds it (10 s at most). */
static pid_t spawn_holder(struct sync_area *a)
{
	pid_t pid = spawn(hold_mutex, a);
	int i;

	for (i = 0; i < 10000 && !*COUNTER(a); i++)
		usleep(1000);
	ASSERT_TRUE(*COUNTER(a));
	return pid;
}

/* A signal handler without SA_RESTART ends every wait: EINTR. */
TEST(interrupted_waits, 60)
{
	const char *n = chan_name("eintr");
	struct sync_area a;
	pid_t pid;

	sync_area_open(&a, n, true);
	objects_init(&a);
	pid = spawn_holder(&a);

	start_alarms();
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), SHMCHAN_MSEC(30000)), -EINTR);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), 0);
	ASSERT_EQ(shmchan_cond_wait(a.s, CV(&a), M2(&a), SHMCHAN_MSEC(30000)), -EINTR);
	stop_alarms();
	kill(pid, SIGKILL);
	ASSERT_EQ(reap(pid), 128 + SIGKILL);
}

/* ------------------------------------------------------------ revoke */

static void need_revoke(void)
{
	struct shmchan_features f;

	if (shmchan_features(&f) || !(f.features & SHMCHAN_FEATURE_REVOKE))
		SKIP("the module has no SHMCHAN_FEATURE_REVOKE");
}

/* What a revoke_* sleeper sleeps in. */
enum sleeper { SLEEP_SEM, SLEEP_EVENT, SLEEP_MUTEX, SLEEP_COND };

/*
 * A child that opens @n and sleeps (20 s at most) on the semaphore, the
 * event, the mutex M (which someone else must hold) or the condition
 * variable CV (with M2, which it locks first): the sleep must end with
 * -EIDRM, the condition waiter's with M2 held again (the caller's to
 * unlock). It exits 0 if so.
 */
static pid_t spawn_revoked_sleeper(const char *n, enum sleeper kind)
{
	const int64_t t = SHMCHAN_MSEC(20000);
	struct sync_area b;
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid)
		return pid;
	sync_area_open(&b, n, false);
	switch (kind) {
	case SLEEP_SEM:
		ASSERT_EQ(shmchan_sem_wait(b.s, SEM(&b), t), -EIDRM);
		break;
	case SLEEP_EVENT:
		ASSERT_EQ(shmchan_event_wait(b.s, EV(&b), t), -EIDRM);
		break;
	case SLEEP_MUTEX:
		ASSERT_EQ(shmchan_mutex_lock(b.s, M(&b), t), -EIDRM);
		break;
	case SLEEP_COND:
		ASSERT_EQ(shmchan_mutex_lock(b.s, M2(&b), 0), 0);
		ASSERT_EQ(shmchan_cond_wait(b.s, CV(&b), M2(&b), t), -EIDRM);
		/* held again: the caller's to unlock */
		ASSERT_EQ(shmchan_mutex_unlock(b.s, M2(&b)), 0);
		break;
	}
	_exit(0);
}

/*
 * shmchan_destroy() with SHMCHAN_DESTROY_REVOKE ends every sleep in the
 * helpers with -EIDRM: each kind of sleeper asleep when it comes, and each
 * call that has to sleep after it; the condition waiter has its mutex
 * again. Calls that need not sleep work on the memory, which stays mapped.
 */
TEST(revoke_sleepers, 60)
{
	const char *n = chan_name("revoke");
	struct sync_area a;
	pid_t holder, pid[4];
	int i;

	need_revoke();
	sync_area_open(&a, n, true);
	objects_init(&a);
	holder = spawn_holder(&a);
	pid[0] = spawn_revoked_sleeper(n, SLEEP_SEM);
	pid[1] = spawn_revoked_sleeper(n, SLEEP_EVENT);
	pid[2] = spawn_revoked_sleeper(n, SLEEP_MUTEX);
	pid[3] = spawn_revoked_sleeper(n, SLEEP_COND);
	ASSERT_EQ(await_waiters(a.ch, 4), 0);
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(reap(pid[i]), 0);

	/* after it, a call that has to sleep fails at once */
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), SHMCHAN_MSEC(20000)), -EIDRM);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), SHMCHAN_MSEC(20000)), -EIDRM);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), SHMCHAN_MSEC(20000)), -EIDRM);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), 0);
	ASSERT_EQ(shmchan_cond_wait(a.s, CV(&a), M2(&a), SHMCHAN_MSEC(20000)), -EIDRM);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), 0), -EDEADLK);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M2(&a)), 0);

	/* a call that need not sleep does what it always does */
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), 0), -EAGAIN);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(shmchan_sem_wait(a.s, SEM(&a), SHMCHAN_MSEC(20000)), 0);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), -EAGAIN);
	ASSERT_EQ(shmchan_event_set(a.s, EV(&a)), 0);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), SHMCHAN_MSEC(20000)), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M(&a), 0), -EAGAIN);
	ASSERT_EQ(shmchan_cond_signal(a.s, CV(&a)), 0);
	ASSERT_EQ(shmchan_cond_broadcast(a.s, CV(&a)), 0);
	ASSERT_EQ(shmchan_mutex_lock(a.s, M2(&a), SHMCHAN_MSEC(20000)), 0);
	ASSERT_EQ(shmchan_cond_wait(a.s, CV(&a), M2(&a), 0), -ETIMEDOUT);
	ASSERT_EQ(shmchan_mutex_unlock(a.s, M2(&a)), 0);
	kill(holder, SIGKILL);
	ASSERT_EQ(reap(holder), 128 + SIGKILL);
}

/*
 * A post, set, signal or broadcast that finds a sleeper still counted on a
 * revoked channel (here: one stopped inside its wait, so it cannot uncount
 * itself) makes its change and returns 0: there is nobody left to wake.
 * Continued, the sleeper gets -EIDRM.
 */
TEST(revoke_wakers, 60)
{
	const char *n = chan_name("revokew");
	struct sync_area a;
	pid_t pid[3];
	int i, st;

	need_revoke();
	sync_area_open(&a, n, true);
	objects_init(&a);
	pid[0] = spawn_revoked_sleeper(n, SLEEP_SEM);
	pid[1] = spawn_revoked_sleeper(n, SLEEP_EVENT);
	pid[2] = spawn_revoked_sleeper(n, SLEEP_COND);
	ASSERT_EQ(await_waiters(a.ch, 3), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(kill(pid[i], SIGSTOP), 0);
		ASSERT_EQ(waitpid(pid[i], &st, WUNTRACED), pid[i]);
		ASSERT_TRUE(WIFSTOPPED(st));
	}
	ASSERT_EQ(shmchan_destroy(n, SHMCHAN_DESTROY_REVOKE), 0);
	ASSERT_EQ(shmchan_sem_post(a.s, SEM(&a)), 0);
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 1);
	ASSERT_EQ(shmchan_event_set(a.s, EV(&a)), 0);
	ASSERT_EQ(shmchan_cond_signal(a.s, CV(&a)), 0);
	ASSERT_EQ(shmchan_cond_broadcast(a.s, CV(&a)), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(kill(pid[i], SIGCONT), 0);
		ASSERT_EQ(reap(pid[i]), 0);
	}
	/* the sleeper took nothing: the unit is there */
	ASSERT_EQ(shmchan_sem_value(SEM(&a)), 1);
	ASSERT_EQ(shmchan_event_wait(a.s, EV(&a), 0), 0);
}

TAP_MAIN
