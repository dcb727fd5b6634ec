/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel versions shmchan builds against, and
 * nothing else.
 */
#ifndef SHMCHAN_COMPAT_H
#define SHMCHAN_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* 6.3 made vm_flags read-only and added vm_flags_set()/vm_flags_clear(). */
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
static inline void shmchan_vma_flags_set(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

static inline void shmchan_vma_flags_clear(struct vm_area_struct *vma,
					   vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}
#else
static inline void shmchan_vma_flags_set(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void shmchan_vma_flags_clear(struct vm_area_struct *vma,
					   vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* 6.3 replaced the mount's user namespace by an idmap in notify_change(). */
#include <linux/fs.h>
static inline int shmchan_notify_change(struct dentry *dentry,
					struct iattr *attr)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	return notify_change(&nop_mnt_idmap, dentry, attr, NULL);
#else
	return notify_change(&init_user_ns, dentry, attr, NULL);
#endif
}

/* 6.7 gave vm_operations_struct.get_policy an interleave index argument. */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#define SHMCHAN_GET_POLICY_HAS_ILX
#endif

/*
 * 6.10 made the layout's get_unmapped_area a flag of the mm and exported
 * mm_get_unmapped_area() in its place.
 */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
static inline unsigned long
shmchan_mm_get_unmapped_area(struct mm_struct *mm, struct file *file,
			     unsigned long addr, unsigned long len,
			     unsigned long pgoff, unsigned long flags)
{
	return mm_get_unmapped_area(mm, file, addr, len, pgoff, flags);
}
#else
static inline unsigned long
shmchan_mm_get_unmapped_area(struct mm_struct *mm, struct file *file,
			     unsigned long addr, unsigned long len,
			     unsigned long pgoff, unsigned long flags)
{
	return mm->get_unmapped_area(file, addr, len, pgoff, flags);
}
#endif

#endif /* SHMCHAN_COMPAT_H */
