// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Placeholder: the implementation follows. */
#include <errno.h>

#include "internal.h"

SHMCHAN_EXPORT
int shmchan_sync_new(struct shmchan *ch, void *base, struct shmchan_sync **out)
{
	(void)ch;
	(void)base;
	(void)out;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_sync_free(struct shmchan_sync *s)
{
	(void)s;
}

SHMCHAN_EXPORT
void shmchan_mutex_init(struct shmchan_mutex *m)
{
	(void)m;
}

SHMCHAN_EXPORT
int shmchan_mutex_lock(struct shmchan_sync *s, struct shmchan_mutex *m, int64_t timeout_ns)
{
	(void)s;
	(void)m;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_mutex_unlock(struct shmchan_sync *s, struct shmchan_mutex *m)
{
	(void)s;
	(void)m;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_mutex_consistent(struct shmchan_sync *s, struct shmchan_mutex *m)
{
	(void)s;
	(void)m;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_sem_init(struct shmchan_sem *sem, uint32_t value)
{
	(void)sem;
	(void)value;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_sem_wait(struct shmchan_sync *s, struct shmchan_sem *sem, int64_t timeout_ns)
{
	(void)s;
	(void)sem;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_sem_post(struct shmchan_sync *s, struct shmchan_sem *sem)
{
	(void)s;
	(void)sem;
	return -ENOSYS;
}

SHMCHAN_EXPORT
uint32_t shmchan_sem_value(const struct shmchan_sem *sem)
{
	(void)sem;
	return 0;
}

SHMCHAN_EXPORT
void shmchan_cond_init(struct shmchan_cond *c)
{
	(void)c;
}

SHMCHAN_EXPORT
int shmchan_cond_wait(struct shmchan_sync *s, struct shmchan_cond *c, struct shmchan_mutex *m, int64_t timeout_ns)
{
	(void)s;
	(void)c;
	(void)m;
	(void)timeout_ns;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_cond_signal(struct shmchan_sync *s, struct shmchan_cond *c)
{
	(void)s;
	(void)c;
	return -ENOSYS;
}

SHMCHAN_EXPORT
int shmchan_cond_broadcast(struct shmchan_sync *s, struct shmchan_cond *c)
{
	(void)s;
	(void)c;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_event_init(struct shmchan_event *e, int set)
{
	(void)e;
	(void)set;
}

SHMCHAN_EXPORT
int shmchan_event_set(struct shmchan_sync *s, struct shmchan_event *e)
{
	(void)s;
	(void)e;
	return -ENOSYS;
}

SHMCHAN_EXPORT
void shmchan_event_reset(struct shmchan_event *e)
{
	(void)e;
}

SHMCHAN_EXPORT
int shmchan_event_wait(struct shmchan_sync *s, struct shmchan_event *e, int64_t timeout_ns)
{
	(void)s;
	(void)e;
	(void)timeout_ns;
	return -ENOSYS;
}
