// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan and huge pages.
 *
 * Two things give a channel's huge shmem folios to its mappers:
 *
 *  - memory in huge folios. The channels of SHMCHAN_CREATE_HUGE live on a
 *    tmpfs of our own, mounted at load with huge=within_size: shmem then
 *    allocates a 2 MiB folio for every 2 MiB-aligned 2 MiB of the file that
 *    lies within its size, whatever the system-wide default for shmem
 *    (/sys/kernel/mm/transparent_hugepage/shmem_enabled, which only "deny"
 *    and "force" override). Other channels stay on the kernel's internal
 *    shm mount, which follows that default;
 *  - addresses that let a folio be mapped whole by one PMD: the mapping's
 *    address and its file offset congruent modulo the PMD size. Every
 *    mmap() of a handle and every mremap() move of a channel mapping asks
 *    ->get_unmapped_area of the file concerned (the handle, or the view
 *    that is the VMA's file), which both point here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>

#include "compat.h"
#include "internal.h"
#include "rules.h"

/*
 * The tmpfs of SHMCHAN_CREATE_HUGE channels, or NULL when the kernel has
 * no huge pages for shmem. Set at load, before /dev/shmchan exists, and
 * unmounted at unload, after the last channel is gone: constant while
 * anyone can use it, so read without a lock.
 */
static struct vfsmount *shmchan_huge_mnt;

/**
 * shmchan_huge_init - mount the tmpfs of huge channels, if the kernel can
 *
 * Without transparent huge pages tmpfs refuses huge=; the module then
 * works without SHMCHAN_FEATURE_HUGE (and refuses SHMCHAN_CREATE_HUGE as
 * an unknown flag). Never fails the load.
 */
void __init shmchan_huge_init(void)
{
	/* Parsed in place: a writable copy */
	char opts[] = "huge=within_size";
	struct file_system_type *type;
	struct vfsmount *mnt;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		return;
	/* Built in (CONFIG_SHMEM): no module reference to drop */
	type = get_fs_type("tmpfs");
	if (!type)
		return;
	/* SB_KERNMOUNT: no size or inode limit but ours, as the shm mount */
	mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name, opts);
	if (IS_ERR(mnt)) {
		pr_info("no huge pages for channels: tmpfs huge=within_size: %ld\n",
			PTR_ERR(mnt));
		return;
	}
	shmchan_huge_mnt = mnt;
}

/* At unload, after shmchan_registry_exit(): no channel file is left. */
void shmchan_huge_exit(void)
{
	if (shmchan_huge_mnt)
		kern_unmount(shmchan_huge_mnt);
}

/**
 * shmchan_huge_supported - whether SHMCHAN_CREATE_HUGE can be honoured
 *
 * Return: true if the huge tmpfs is mounted (SHMCHAN_FEATURE_HUGE).
 */
bool shmchan_huge_supported(void)
{
	return shmchan_huge_mnt;
}

/**
 * shmchan_huge_file_setup - the shmem file of a SHMCHAN_CREATE_HUGE channel
 * @name: its name, for /proc/PID/maps
 * @size: its length
 *
 * Accounted as shmem_file_setup() accounts (no VM_NORESERVE).
 *
 * Return: the file, or an ERR_PTR: -EINVAL without the huge tmpfs (the
 * flag is then unknown), -ENOMEM, -ENOSPC (out of memory to commit).
 */
struct file *shmchan_huge_file_setup(const char *name, loff_t size)
{
	if (!shmchan_huge_mnt)
		return ERR_PTR(-EINVAL);
	return shmem_file_setup_with_mnt(shmchan_huge_mnt, name, size, 0);
}

/**
 * shmchan_huge_folios - how many PMD-size folios hold @chan's pages now
 * @chan: the channel
 *
 * A snapshot: folios come (faults) and go (splits) meanwhile.
 *
 * Return: their number; 0 without transparent huge pages.
 */
u64 shmchan_huge_folios(struct shmchan_channel *chan)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	struct address_space *mapping = chan->shm_file->f_mapping;
	pgoff_t index = 0, end = (shmchan_chan_length(chan) >> PAGE_SHIFT) - 1;
	struct folio_batch fbatch;
	unsigned int i;
	u64 n = 0;

	folio_batch_init(&fbatch);
	/* Swapped-out pages are value entries: filemap_get_folios skips them */
	while (filemap_get_folios(mapping, &index, end, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			if (folio_order(fbatch.folios[i]) == HPAGE_PMD_ORDER)
				n++;
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return n;
#else
	return 0;
#endif
}

/* The address the process's layout gives, as without us. */
static unsigned long shmchan_default_area(struct file *file,
					  unsigned long addr, unsigned long len,
					  unsigned long pgoff, unsigned long flags)
{
	return shmchan_mm_get_unmapped_area(current->mm, file, addr, len, pgoff,
					    flags);
}

/**
 * shmchan_get_unmapped_area - ->get_unmapped_area of handles and views
 * @file: the handle (mmap) or the view (mremap's move)
 * @addr: the hint, or the address with MAP_FIXED
 * @len: the length
 * @pgoff: the file offset in pages
 * @flags: the mmap() flags
 *
 * A mapping of at least a PMD's size gets an address congruent to its
 * file offset modulo the PMD size (shmchan_huge_align()), so that every
 * huge folio it covers whole can be mapped by one PMD; a hint the layout
 * honours as it is, or MAP_FIXED, is kept. The status page (an offset at
 * SHMCHAN_STATUS_OFFSET) is one page and never aligned. The search asks
 * for PMD_SIZE - PAGE_SIZE more than @len and puts the mapping inside.
 *
 * Return: the address, or a negative errno as the layout gives it.
 */
unsigned long shmchan_get_unmapped_area(struct file *file, unsigned long addr,
					unsigned long len, unsigned long pgoff,
					unsigned long flags)
{
	unsigned long got, inflated;

	if (len > TASK_SIZE)
		return -ENOMEM;
	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) || len < PMD_SIZE ||
	    (flags & MAP_FIXED))
		return shmchan_default_area(file, addr, len, pgoff, flags);
	if (addr) {
		got = shmchan_default_area(file, addr, len, pgoff, flags);
		if (got == addr || IS_ERR_VALUE(got))
			return got;
	}
	inflated = len + PMD_SIZE - PAGE_SIZE;
	if (inflated < len || inflated > TASK_SIZE)
		return shmchan_default_area(file, addr, len, pgoff, flags);
	/* No file: an arch must not colour this search for it (see shmem) */
	got = shmchan_default_area(NULL, 0, inflated, 0, flags);
	if (IS_ERR_VALUE(got) || offset_in_page(got))
		return shmchan_default_area(file, addr, len, pgoff, flags);
	return shmchan_huge_align(got, pgoff, PMD_SIZE);
}
