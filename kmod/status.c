// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan status pages.
 *
 * Each channel has one zeroed page of its own, struct shmchan_status in
 * the uapi header, which holds the channel's death count and state bits:
 * the module keeps them there and nowhere else, so STAT, WAIT's checks and
 * every mapper read the same words. mmap() of a bound handle at
 * SHMCHAN_STATUS_OFFSET maps that page read-only, so a library learns of a
 * death or a revoke with one load instead of a system call.
 *
 * A status mapping is not a mapping of the channel: its VMA's file is a
 * small anonymous-inode file of this module (one per mmap() call, like
 * map.c's views), which holds a reference on the page and on the module,
 * not on the handle or the channel. So it is not counted in nmaps or
 * users, keeps no transient name, and stays valid, frozen at its last
 * values, after the channel is freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/stddef.h>

#include "compat.h"
#include "internal.h"

/* The kernel's words must be where userspace reads them. */
static_assert(offsetof(struct shmchan_status_words, deaths) ==
	      offsetof(struct shmchan_status, deaths));
static_assert(offsetof(struct shmchan_status_words, state) ==
	      offsetof(struct shmchan_status, state));
static_assert(sizeof(atomic_t) == sizeof(__u32));
static_assert(sizeof(struct shmchan_status) == SHMCHAN_STATUS_SIZE_VER0);
static_assert(sizeof(struct shmchan_status) <= PAGE_SIZE);

/* The page offset of the status page in mmap() of a handle */
#define SHMCHAN_STATUS_PGOFF	(SHMCHAN_STATUS_OFFSET >> PAGE_SHIFT)

/**
 * shmchan_status_init - give a new channel its status page
 * @chan: the channel being made; ->transient is set
 *
 * Return: 0 or -ENOMEM.
 */
int shmchan_status_init(struct shmchan_channel *chan)
{
	/* Not highmem: the module writes it through page_address() */
	chan->status_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!chan->status_page)
		return -ENOMEM;
	chan->status = page_address(chan->status_page);
	if (chan->transient)
		atomic_set(&chan->status->state, SHMCHAN_STATE_TRANSIENT);
	return 0;
}

/**
 * shmchan_status_put - the channel is freed: drop its page reference
 * @chan: the channel
 *
 * Status mappings that still exist hold their own references.
 */
void shmchan_status_put(struct shmchan_channel *chan)
{
	put_page(chan->status_page);
}

/**
 * shmchan_status_set - set SHMCHAN_STATE_* bits of @chan
 * @chan: the channel
 * @bits: SHMCHAN_STATE_DESTROYED, SHMCHAN_STATE_REVOKED
 *
 * Bits are never cleared. The caller sets them before it wakes the waits
 * they end (a revoke's sweep takes every bucket lock after this).
 */
void shmchan_status_set(struct shmchan_channel *chan, u32 bits)
{
	atomic_or(bits, &chan->status->state);
}

/* Refault the page, say after madvise(MADV_DONTNEED) zapped its entry. */
static vm_fault_t shmchan_status_fault(struct vm_fault *vmf)
{
	struct page *page = vmf->vma->vm_file->private_data;

	if (vmf->pgoff != SHMCHAN_STATUS_PGOFF)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * Non-NULL vm_ops: a VMA without them would pass for anonymous memory,
 * and a fault after a zap would then get a fresh anonymous page.
 */
static const struct vm_operations_struct shmchan_status_vm_ops = {
	.fault = shmchan_status_fault,
};

static int shmchan_status_release(struct inode *inode, struct file *file)
{
	put_page(file->private_data);
	return 0;
}

/* The file of status VMAs; mmap() of it again (remap_file_pages) fails. */
static const struct file_operations shmchan_status_fops = {
	.owner = THIS_MODULE,
	.release = shmchan_status_release,
	.llseek = noop_llseek,
};

/* Shared, exactly the status page, read-only, not executable */
static int shmchan_status_check_vma(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff != SHMCHAN_STATUS_PGOFF || vma_pages(vma) != 1)
		return -ENXIO;
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return 0;
}

/**
 * shmchan_status_mmap - map @chan's status page into @vma
 * @chan: the handle's channel
 * @vma: the new VMA, at or above SHMCHAN_STATUS_OFFSET
 *
 * Return: 0, -EINVAL (not MAP_SHARED), -ENXIO (not exactly the status
 * page), -EACCES (PROT_WRITE), -EPERM (PROT_EXEC) or -ENOMEM.
 */
int shmchan_status_mmap(struct shmchan_channel *chan,
			struct vm_area_struct *vma)
{
	struct page *page = chan->status_page;
	struct file *file;
	int ret;

	ret = shmchan_status_check_vma(vma);
	if (ret)
		return ret;

	/* The file's reference on the page, put by its ->release */
	get_page(page);
	file = anon_inode_getfile("[shmchan_status]", &shmchan_status_fops,
				  page, O_RDONLY);
	if (IS_ERR(file)) {
		put_page(page);
		return PTR_ERR(file);
	}

	/* Read-only for good; neither grown by mremap() nor dumped. */
	shmchan_vma_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	shmchan_vma_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_ops = &shmchan_status_vm_ops;
	ret = vm_insert_page(vma, vma->vm_start, page);
	if (!ret)
		vma_set_file(vma, file);
	/* The VMA holds its own reference now, if it was made. */
	fput(file);
	return ret;
}
