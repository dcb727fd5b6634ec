// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan mappings.
 *
 * mmap() of a bound handle maps the channel's shmem pages through a *view*:
 * a file of this module on the channel's shmem inode, opened read-write or
 * read-only as the handle is, made for that one mmap() call (and one for
 * each remap_file_pages() of its VMAs). The view becomes the VMA's file,
 * as the per-attach file of ipc/shm.c does:
 *
 *  - faults, futex keys, memcg charging and /proc/PID/maps
 *    ("/shmchan:NAME (deleted)") are shmem's, since the inode is;
 *  - the view's own ->mmap runs for every mapping made of it, also the
 *    ones remap_file_pages() makes from an existing VMA, so the access
 *    checks and the counting can't be bypassed;
 *  - the view's f_op->owner keeps the module loaded while any VMA exists,
 *    and its last fput() happens in the VFS after our code has returned;
 *  - its vm_ops wrap shmem's, so the module sees every VMA come and go;
 *  - it counts the VMAs made from it, so that one the mm frees without
 *    ->close (merged away) still gives its user back (see
 *    shmchan_view_release()).
 *
 * The VMAs are not VM_DONTEXPAND (VM_SPECIAL), so that mlock() locks them
 * and charges RLIMIT_MEMLOCK as for any file. mremap() may then grow one,
 * in place (no hook is called: 6.1 vma_adjust(), 6.12 vma_merge_extend())
 * or moved (copy_vma() calls ->open, then vm_ops->mremap): whatever part
 * of it lies past the channel's end faults with SIGBUS, as past a file's
 * EOF, in shmchan_vm_fault() and shmchan_vm_map_pages() (shmem would
 * too, at its i_size; the rule is stated here so that it holds whatever
 * the length).
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/slab.h>

#include "compat.h"
#include "internal.h"
#include "rules.h"

/**
 * struct shmchan_view - the private data of a view file
 * @chan: the channel; holds a reference
 * @writable: the view may be mapped for writing
 * @shmem_ops: shmem's vm_ops, which ours forward to; set by the one mmap
 *	of the view, under that mm's mmap_lock, and never changed after
 * @nvmas: VMAs whose file the view is and that hold a user of the channel
 *	(shmchan_chan_map_new/get): raised by ->mmap and vm_ops->open, lowered
 *	by vm_ops->close; what is left at the view's release is VMAs the mm
 *	freed without ->close
 */
struct shmchan_view {
	struct shmchan_channel *chan;
	bool writable;
	const struct vm_operations_struct *shmem_ops;
	atomic_t nvmas;
};

static struct shmchan_view *shmchan_vma_view(struct vm_area_struct *vma)
{
	return vma->vm_file->private_data;
}

/*
 * Who counts as a dead peer through a mapping: a process whose address
 * space goes (exit, or exec) with a VMA of the channel that it made itself
 * (mmap) or touched (a page fault in it). Each such VMA is marked *used*
 * in ->vm_private_data, which shmem leaves alone in its VMAs (6.1 puts a
 * mempolicy there only in on-stack pseudo VMAs, 6.12 not at all) and
 * which the mm core copies into the VMAs it makes from ours (split,
 * mremap, fork). The mark is set from the fault path under mmap_lock
 * taken for reading (or, on 6.12, the VMA's own lock), by any number of
 * threads at once, always to the same value: READ_ONCE/WRITE_ONCE.
 */
static const char shmchan_vma_used_mark;
#define SHMCHAN_VMA_USED	((void *)&shmchan_vma_used_mark)

static bool shmchan_vma_used(struct vm_area_struct *vma)
{
	return READ_ONCE(vma->vm_private_data) == SHMCHAN_VMA_USED;
}

/* @vma's own process touches it: a fault, not GUP from another process. */
static void shmchan_vma_note_touch(struct vm_area_struct *vma)
{
	if (!shmchan_vma_used(vma) && vma->vm_mm == current->mm)
		WRITE_ONCE(vma->vm_private_data, SHMCHAN_VMA_USED);
}

static void shmchan_vm_open(struct vm_area_struct *vma)
{
	/*
	 * fork() copies the parent's VMAs into the child's mm, from the
	 * parent: the copy starts unused, so that a child that never touches
	 * the channel (it execs, or _exits) is no dead peer, and neither is
	 * the mm of a fork() that failed half-way. A split or mremap() copy
	 * is made in the VMA's own mm and keeps the mark.
	 */
	if (vma->vm_mm != current->mm)
		WRITE_ONCE(vma->vm_private_data, NULL);
	atomic_inc(&shmchan_vma_view(vma)->nvmas);
	shmchan_chan_map_get(shmchan_vma_view(vma)->chan);
}

static void shmchan_vm_close(struct vm_area_struct *vma)
{
	struct shmchan_channel *chan = shmchan_vma_view(vma)->chan;

	atomic_dec(&shmchan_vma_view(vma)->nvmas);

	/*
	 * The whole address space goes: its process exited (or exec()ed
	 * away from it). mm_users is 0 only in exit_mmap(), which runs in the
	 * task that dropped the last user: normally the exiting task itself
	 * (exit_mm(), before its parent can reap it), but it may be a task
	 * that held the mm for a while (a /proc/PID reader, ptrace), which is
	 * why the test is on the VMA, never on current. A vfork() child
	 * shares the mm and never brings mm_users to 0 by exec or exit.
	 */
	if (!atomic_read(&vma->vm_mm->mm_users)) {
		if (shmchan_vma_used(vma))
			shmchan_chan_note_death(chan);
		/* Its exit may end an IPC namespace: a sweep soon (ns.c) */
		shmchan_ns_kick();
	}
	shmchan_chan_map_put(chan);
}

/* The channel's length in pages: where a grown mapping stops being its */
static pgoff_t shmchan_vma_chan_pages(struct vm_area_struct *vma)
{
	return shmchan_chan_length(shmchan_vma_view(vma)->chan) >> PAGE_SHIFT;
}

static vm_fault_t shmchan_vm_fault(struct vm_fault *vmf)
{
	/* Past the channel's end (mremap grew the mapping): as past EOF */
	if (vmf->pgoff >= shmchan_vma_chan_pages(vmf->vma))
		return VM_FAULT_SIGBUS;
	shmchan_vma_note_touch(vmf->vma);
	return shmchan_vma_view(vmf->vma)->shmem_ops->fault(vmf);
}

/* Fault-around: a read fault it satisfies never reaches ->fault. */
static vm_fault_t shmchan_vm_map_pages(struct vm_fault *vmf,
				       pgoff_t start_pgoff, pgoff_t end_pgoff)
{
	const struct vm_operations_struct *ops =
		shmchan_vma_view(vmf->vma)->shmem_ops;
	pgoff_t npages = shmchan_vma_chan_pages(vmf->vma);

	/* Never past the channel's end; ->fault gives SIGBUS there */
	if (start_pgoff >= npages)
		return 0;
	end_pgoff = min(end_pgoff, npages - 1);
	shmchan_vma_note_touch(vmf->vma);
	if (!ops->map_pages)
		return 0;
	return ops->map_pages(vmf, start_pgoff, end_pgoff);
}

#ifdef CONFIG_NUMA
static int shmchan_vm_set_policy(struct vm_area_struct *vma,
				 struct mempolicy *mpol)
{
	const struct vm_operations_struct *ops = shmchan_vma_view(vma)->shmem_ops;

	if (!ops->set_policy)
		return 0;
	return ops->set_policy(vma, mpol);
}

#ifdef SHMCHAN_GET_POLICY_HAS_ILX
static struct mempolicy *shmchan_vm_get_policy(struct vm_area_struct *vma,
					       unsigned long addr, pgoff_t *ilx)
{
	const struct vm_operations_struct *ops = shmchan_vma_view(vma)->shmem_ops;

	if (!ops->get_policy)
		return NULL;
	return ops->get_policy(vma, addr, ilx);
}
#else
static struct mempolicy *shmchan_vm_get_policy(struct vm_area_struct *vma,
					       unsigned long addr)
{
	const struct vm_operations_struct *ops = shmchan_vma_view(vma)->shmem_ops;

	if (!ops->get_policy)
		return NULL;
	return ops->get_policy(vma, addr);
}
#endif
#endif

static const struct vm_operations_struct shmchan_vm_ops = {
	.open = shmchan_vm_open,
	.close = shmchan_vm_close,
	.fault = shmchan_vm_fault,
	.map_pages = shmchan_vm_map_pages,
#ifdef CONFIG_NUMA
	.set_policy = shmchan_vm_set_policy,
	.get_policy = shmchan_vm_get_policy,
#endif
};

/*
 * Shared only (VM_MAYSHARE: a MAP_SHARED mapping of a file not open for
 * writing has no VM_SHARED), inside the channel, writable only through a
 * writable handle, never executable.
 */
static int shmchan_check_vma(struct shmchan_channel *chan, bool writable,
			     struct vm_area_struct *vma)
{
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* The whole reserve: past the length, a fault is SIGBUS (grow.c) */
	ret = shmchan_check_map_range(chan->max_length, vma->vm_pgoff,
				      vma_pages(vma));
	if (ret)
		return ret;
	if (!writable && (vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return 0;
}

/* Map @vma through @view: shmem sets it up, then our vm_ops wrap shmem's. */
static int shmchan_view_mmap(struct file *view, struct vm_area_struct *vma)
{
	struct shmchan_view *priv = view->private_data;
	struct shmchan_channel *chan = priv->chan;
	int ret;

	ret = shmchan_check_vma(chan, priv->writable, vma);
	if (ret)
		return ret;
	/* Not always from a user: see shmchan_chan_map_new() */
	ret = shmchan_chan_map_new(chan);
	if (ret)
		return ret;

	ret = call_mmap(chan->shm_file, vma);
	if (ret)
		goto unuse;
	if (WARN_ON_ONCE(!vma->vm_ops || !vma->vm_ops->fault)) {
		ret = -EINVAL;
		goto unuse;
	}
	priv->shmem_ops = vma->vm_ops;
	vma->vm_ops = &shmchan_vm_ops;

	/*
	 * mprotect() cannot add exec, nor write to a read-only handle's
	 * mapping. Not VM_DONTEXPAND: see the top of this file. That flag
	 * (VM_SPECIAL) also kept the mm from merging a VMA into a neighbour
	 * of the same file: 6.12's mmap_region() retries a merge when ->mmap
	 * changed the flags, as we do here, and frees the new VMA without
	 * ->close. Each VMA made by ->mmap has a view of its own, so that
	 * view's release gives its user back (shmchan_view_release()).
	 */
	shmchan_vma_flags_clear(vma, VM_MAYEXEC |
				(priv->writable ? 0 : VM_MAYWRITE));
	/* Made by this process itself (mmap, remap_file_pages): used. */
	vma->vm_private_data = SHMCHAN_VMA_USED;
	atomic_inc(&priv->nvmas);
	shmchan_chan_note_attach(chan);
	return 0;

unuse:
	shmchan_chan_map_put(chan);
	return ret;
}

static int shmchan_view_release(struct inode *inode, struct file *view)
{
	struct shmchan_view *priv = view->private_data;
	int lost = atomic_read(&priv->nvmas);

	/*
	 * Every VMA holds its file, so none of the view's is left: those
	 * still counted were freed by the mm without ->close, merged into a
	 * neighbour of the same channel after our ->mmap (6.12 mmap_region's
	 * retry merge, whose fput() of the view brings us here). Their users
	 * go now, or a transient channel would keep its name for good.
	 */
	WARN_ON_ONCE(lost < 0);
	while (lost-- > 0)
		shmchan_chan_map_put(priv->chan);
	shmchan_chan_put(priv->chan);
	kfree(priv);
	return 0;
}

/* madvise(MADV_REMOVE) punches holes through the VMA's file. */
static long shmchan_view_fallocate(struct file *view, int mode, loff_t offset,
				   loff_t len)
{
	struct shmchan_view *priv = view->private_data;
	struct file *shm_file = priv->chan->shm_file;

	return shm_file->f_op->fallocate(shm_file, mode, offset, len);
}

static int shmchan_view_remap(struct file *view, struct vm_area_struct *vma);

static const struct file_operations shmchan_view_fops = {
	.owner = THIS_MODULE,
	/* remap_file_pages(): a new view for the new VMA, as mmap() makes */
	.mmap = shmchan_view_remap,
	/* mremap() moving a mapping keeps its alignment (huge.c) */
	.get_unmapped_area = shmchan_get_unmapped_area,
	.release = shmchan_view_release,
	.fsync = noop_fsync,
	.fallocate = shmchan_view_fallocate,
	.llseek = noop_llseek,
};

/* A view of @chan, read-write or read-only; it holds a channel reference. */
static struct file *shmchan_view_create(struct shmchan_channel *chan,
					bool writable)
{
	struct inode *inode = file_inode(chan->shm_file);
	struct shmchan_view *priv;
	struct file *view;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL_ACCOUNT);
	if (!priv)
		return ERR_PTR(-ENOMEM);
	priv->chan = chan;
	priv->writable = writable;

	/* The view's dentry takes this inode reference. */
	ihold(inode);
	view = alloc_file_pseudo(inode, chan->shm_file->f_path.mnt,
				 chan->shm_file->f_path.dentry->d_name.name,
				 writable ? O_RDWR : O_RDONLY, &shmchan_view_fops);
	if (IS_ERR(view)) {
		iput(inode);
		kfree(priv);
		return view;
	}
	/*
	 * The last fput() drops a module reference for f_op->owner, which
	 * alloc_file_pseudo() did not take. Held by our caller's handle, so
	 * the module can't be going away.
	 */
	__module_get(THIS_MODULE);
	view->private_data = priv;
	shmchan_chan_get(chan);
	return view;
}

/* Map @vma through a new view of @chan, which becomes its file. */
static int shmchan_map_new_view(struct shmchan_channel *chan, bool writable,
				struct vm_area_struct *vma)
{
	struct file *view;
	int ret;

	view = shmchan_view_create(chan, writable);
	if (IS_ERR(view))
		return PTR_ERR(view);
	ret = shmchan_view_mmap(view, vma);
	if (!ret)
		vma_set_file(vma, view);
	/* The VMA holds its own reference now, if it was made. */
	fput(view);
	return ret;
}

/* ->mmap of a view: remap_file_pages() remaps part of one of its VMAs. */
static int shmchan_view_remap(struct file *view, struct vm_area_struct *vma)
{
	struct shmchan_view *priv = view->private_data;

	return shmchan_map_new_view(priv->chan, priv->writable, vma);
}

/**
 * shmchan_mmap_channel - map @chan into @vma, from mmap() of a handle
 * @chan: the handle's channel
 * @writable: the handle is read-write
 * @vma: the new VMA
 *
 * Return: 0, -EINVAL (not MAP_SHARED), -ENXIO (outside the channel),
 * -EACCES (PROT_WRITE on a read-only handle), -EPERM (PROT_EXEC) or -ENOMEM.
 */
int shmchan_mmap_channel(struct shmchan_channel *chan, bool writable,
			 struct vm_area_struct *vma)
{
	int ret;

	/* Refuse cheaply before making a view. */
	ret = shmchan_check_vma(chan, writable, vma);
	if (ret)
		return ret;
	return shmchan_map_new_view(chan, writable, vma);
}
