// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan mappings.
 *
 * mmap() of a bound handle maps the channel's shmem file: the VMA's file
 * becomes that file (so faults, futex keys, memcg charging and
 * /proc/PID/maps are shmem's), and its vm_ops wrap shmem's so that the
 * module sees every VMA come and go, as ipc/shm.c does for SysV segments.
 *
 * Each mmap() call gets a struct shmchan_mapping and an anchor file
 * (anon inode, owned by this module) that every VMA made from that call
 * holds. The anchor's last fput() happens in the VFS after our code has
 * returned, so the module cannot be unloaded while a mapping exists, yet
 * never drops its own last reference from inside its own text.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"
#include "internal.h"

/**
 * struct shmchan_mapping - what one mmap() call of a channel needs
 * @chan: the channel; holds a reference
 * @shmem_ops: shmem's vm_ops, which ours forward to; constant
 */
struct shmchan_mapping {
	struct shmchan_channel *chan;
	const struct vm_operations_struct *shmem_ops;
};

static struct shmchan_mapping *shmchan_vma_mapping(struct vm_area_struct *vma)
{
	struct file *anchor = vma->vm_private_data;

	return anchor->private_data;
}

static int shmchan_anchor_release(struct inode *inode, struct file *file)
{
	struct shmchan_mapping *map = file->private_data;

	shmchan_chan_put(map->chan);
	kfree(map);
	return 0;
}

static const struct file_operations shmchan_anchor_fops = {
	.owner = THIS_MODULE,
	.release = shmchan_anchor_release,
};

static void shmchan_vm_open(struct vm_area_struct *vma)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vma);

	get_file(vma->vm_private_data);
	shmchan_chan_map_get(map->chan);
}

static void shmchan_vm_close(struct vm_area_struct *vma)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vma);

	/* The whole address space goes: the process exits (or execs). */
	if (!atomic_read(&vma->vm_mm->mm_users))
		shmchan_chan_note_death(map->chan);
	shmchan_chan_map_put(map->chan);
	fput(vma->vm_private_data);
}

static vm_fault_t shmchan_vm_fault(struct vm_fault *vmf)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vmf->vma);

	return map->shmem_ops->fault(vmf);
}

static vm_fault_t shmchan_vm_map_pages(struct vm_fault *vmf,
				       pgoff_t start_pgoff, pgoff_t end_pgoff)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vmf->vma);

	if (!map->shmem_ops->map_pages)
		return 0;
	return map->shmem_ops->map_pages(vmf, start_pgoff, end_pgoff);
}

#ifdef CONFIG_NUMA
static int shmchan_vm_set_policy(struct vm_area_struct *vma,
				 struct mempolicy *mpol)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vma);

	if (!map->shmem_ops->set_policy)
		return 0;
	return map->shmem_ops->set_policy(vma, mpol);
}

#ifdef SHMCHAN_GET_POLICY_HAS_ILX
static struct mempolicy *shmchan_vm_get_policy(struct vm_area_struct *vma,
					       unsigned long addr, pgoff_t *ilx)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vma);

	if (!map->shmem_ops->get_policy)
		return NULL;
	return map->shmem_ops->get_policy(vma, addr, ilx);
}
#else
static struct mempolicy *shmchan_vm_get_policy(struct vm_area_struct *vma,
					       unsigned long addr)
{
	struct shmchan_mapping *map = shmchan_vma_mapping(vma);

	if (!map->shmem_ops->get_policy)
		return NULL;
	return map->shmem_ops->get_policy(vma, addr);
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

/* Shared only, inside the channel, writable only through a writable handle. */
static int shmchan_check_vma(struct shmchan_channel *chan, bool writable,
			     struct vm_area_struct *vma)
{
	unsigned long chan_pages = chan->length >> PAGE_SHIFT;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > chan_pages ||
	    vma_pages(vma) > chan_pages - vma->vm_pgoff)
		return -ENXIO;
	if (!writable && (vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return 0;
}

/**
 * shmchan_mmap_channel - map @chan into @vma
 * @chan: the handle's channel
 * @writable: the handle is read-write
 * @vma: the new VMA, from mmap() of the handle
 *
 * Return: 0, -EINVAL (not MAP_SHARED), -ENXIO (outside the channel),
 * -EACCES (PROT_WRITE on a read-only handle), -EPERM (PROT_EXEC) or -ENOMEM.
 */
int shmchan_mmap_channel(struct shmchan_channel *chan, bool writable,
			 struct vm_area_struct *vma)
{
	struct shmchan_mapping *map;
	struct file *anchor;
	int ret;

	ret = shmchan_check_vma(chan, writable, vma);
	if (ret)
		return ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	shmchan_chan_get(chan);
	map->chan = chan;

	anchor = anon_inode_getfile("[shmchan-map]", &shmchan_anchor_fops, map,
				    O_RDONLY);
	if (IS_ERR(anchor)) {
		ret = PTR_ERR(anchor);
		goto put_chan;
	}

	ret = call_mmap(chan->shm_file, vma);
	if (ret)
		goto put_anchor;

	map->shmem_ops = vma->vm_ops;
	vma_set_file(vma, chan->shm_file);
	vma->vm_private_data = anchor;
	vma->vm_ops = &shmchan_vm_ops;
	/* No growth past the channel, no write or exec added by mprotect(). */
	shmchan_vma_flags_set(vma, VM_DONTEXPAND);
	shmchan_vma_flags_clear(vma, VM_MAYEXEC | (writable ? 0 : VM_MAYWRITE));
	shmchan_chan_map_get(chan);
	shmchan_chan_note_attach(chan);
	return 0;

put_anchor:
	/* The anchor's release drops the channel and frees @map. */
	fput(anchor);
	return ret;
put_chan:
	shmchan_chan_put(chan);
	kfree(map);
	return ret;
}
