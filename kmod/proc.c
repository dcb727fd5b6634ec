// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan listing: /proc/shmchan, one line per live channel, like
 * /proc/sysvipc/shm. The format is part of the ABI (uapi/linux/shmchan.h).
 *
 * Like /proc/sysvipc/shm, a file lists the channels of the IPC namespace
 * its opener was in at open(), whatever proc mount it came from and
 * whoever reads it later, and holds that namespace while it is open (so
 * the namespace cannot die, and its address cannot be reused, under it).
 */
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "internal.h"

#define SHMCHAN_PROC_NAME	"shmchan"

static void shmchan_proc_show_state(struct seq_file *m, u32 state)
{
	if (!(state & (SHMCHAN_STATE_DESTROYED | SHMCHAN_STATE_REVOKED |
		       SHMCHAN_STATE_TRANSIENT))) {
		seq_putc(m, '-');
		return;
	}
	if (state & SHMCHAN_STATE_DESTROYED)
		seq_putc(m, 'D');
	if (state & SHMCHAN_STATE_REVOKED)
		seq_putc(m, 'R');
	if (state & SHMCHAN_STATE_TRANSIENT)
		seq_putc(m, 'T');
}

/*
 * Whether @chan is listed is decided by the credentials of whoever opened
 * the file, as the ids are translated into the opener's namespaces and as
 * /proc/sysvipc readers expect: a descriptor opened by an unprivileged
 * user and read by root (passed to it, or read after a setuid) must not
 * show root's channels, and one opened by root shows them to whoever it
 * is handed to, like any open file. The check uses the current task's
 * credentials, so they are the opener's for its duration.
 */
static bool shmchan_proc_may_list(struct seq_file *m,
				  struct shmchan_channel *chan)
{
	const struct cred *old = override_creds(m->file->f_cred);
	bool visible = shmchan_chan_may_list(chan);

	revert_creds(old);
	return visible;
}

static int shmchan_proc_show(struct seq_file *m, void *v)
{
	struct shmchan_channel *chan = shmchan_registry_seq_chan(v);
	struct shmchan_stat st;

	if (!chan) {
		seq_puts(m, "size mode uid gid cuid cgid cpid lpid nmaps nhandles nwaiters ctime deaths state name\n");
		return 0;
	}
	/* The opener's namespace only; m->private is held, see the top */
	if (!shmchan_channel_in_ns_locked(chan, m->private))
		return 0;
	if (!shmchan_proc_may_list(m, chan))
		return 0;

	/* Ids as the namespaces of the reader and of this proc mount see them */
	shmchan_chan_fill_stat_ns(chan, &st, seq_user_ns(m),
				  proc_pid_ns(file_inode(m->file)->i_sb));
	seq_printf(m, "%llu %04o %u %u %u %u %d %d %llu %llu %llu %lld %u ",
		   st.length, st.mode, st.uid, st.gid, st.cuid, st.cgid,
		   st.cpid, st.lpid, st.nmaps, st.nhandles, st.nwaiters,
		   st.ctime_sec, st.deaths);
	shmchan_proc_show_state(m, st.state);
	seq_printf(m, " %s\n", chan->name);
	return 0;
}

static const struct seq_operations shmchan_proc_seq_ops = {
	.start = shmchan_registry_seq_start,
	.next = shmchan_registry_seq_next,
	.stop = shmchan_registry_seq_stop,
	.show = shmchan_proc_show,
};

static int shmchan_proc_open(struct inode *inode, struct file *file)
{
	struct ipc_namespace *ipc = shmchan_ipc_get_current();
	int ret;

	if (!ipc)
		return -ENOENT;
	ret = seq_open(file, &shmchan_proc_seq_ops);
	if (ret) {
		shmchan_ipc_put(ipc);
		return ret;
	}
	((struct seq_file *)file->private_data)->private = ipc;
	return 0;
}

/* Also called by remove_proc_entry() at unload for files still open */
static int shmchan_proc_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct ipc_namespace *ipc = m->private;

	seq_release(inode, file);
	shmchan_ipc_put(ipc);
	/* The reader may have been the namespace's last holder (ns.c) */
	shmchan_ns_kick();
	return 0;
}

static const struct proc_ops shmchan_proc_ops = {
	.proc_open = shmchan_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = shmchan_proc_release,
};

int shmchan_proc_init(void)
{
	if (!proc_create(SHMCHAN_PROC_NAME, 0444, NULL, &shmchan_proc_ops))
		return -ENOMEM;
	return 0;
}

void shmchan_proc_exit(void)
{
	remove_proc_entry(SHMCHAN_PROC_NAME, NULL);
}
