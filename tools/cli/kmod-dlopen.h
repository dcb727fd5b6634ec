/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan(1): libkmod, opened with dlopen() by the commands that use it
 * (load, unload, status) rather than linked in. Linked, libkmod and what
 * it pulls in (libzstd, liblzma, OpenSSL's libcrypto) would be loaded and
 * relocated at every start of shmchan: several times the cost of a `wait`
 * or an `ls` that scripts run often. systemd opens libkmod this way too.
 *
 * Include this instead of <libkmod.h>: each kmod_* function below is then
 * a call through the table cli_kmod_open() fills.
 */
#ifndef SHMCHAN_CLI_KMOD_DLOPEN_H
#define SHMCHAN_CLI_KMOD_DLOPEN_H

#include <libkmod.h>

#define CLI_KMOD_SONAME "libkmod.so.2"

#define CLI_KMOD_FUNCS(X)						\
	X(kmod_new) X(kmod_unref) X(kmod_set_log_priority)		\
	X(kmod_list_next)						\
	X(kmod_module_new_from_name) X(kmod_module_new_from_path)	\
	X(kmod_module_new_from_lookup) X(kmod_module_get_module)	\
	X(kmod_module_unref) X(kmod_module_unref_list)			\
	X(kmod_module_get_name) X(kmod_module_get_path)			\
	X(kmod_module_get_initstate) X(kmod_module_get_refcnt)		\
	X(kmod_module_get_holders) X(kmod_module_get_size)		\
	X(kmod_module_get_info) X(kmod_module_info_get_key)		\
	X(kmod_module_info_get_value) X(kmod_module_info_free_list)	\
	X(kmod_module_insert_module) X(kmod_module_probe_insert_module) \
	X(kmod_module_remove_module)

struct cli_kmod {
	void *dl;
#define CLI_KMOD_MEMBER(f) __typeof__(f) *f;
	CLI_KMOD_FUNCS(CLI_KMOD_MEMBER)
#undef CLI_KMOD_MEMBER
};

extern struct cli_kmod cli_kmod;

/* Opens libkmod; 0, or -1 after saying why. */
int cli_kmod_open(void);
void cli_kmod_close(void);

/* kmod-dlopen.c itself needs the real names. */
#ifndef CLI_KMOD_DLOPEN_IMPL
#define kmod_new			cli_kmod.kmod_new
#define kmod_unref			cli_kmod.kmod_unref
#define kmod_set_log_priority		cli_kmod.kmod_set_log_priority
#define kmod_list_next			cli_kmod.kmod_list_next
#define kmod_module_new_from_name	cli_kmod.kmod_module_new_from_name
#define kmod_module_new_from_path	cli_kmod.kmod_module_new_from_path
#define kmod_module_new_from_lookup	cli_kmod.kmod_module_new_from_lookup
#define kmod_module_get_module		cli_kmod.kmod_module_get_module
#define kmod_module_unref		cli_kmod.kmod_module_unref
#define kmod_module_unref_list		cli_kmod.kmod_module_unref_list
#define kmod_module_get_name		cli_kmod.kmod_module_get_name
#define kmod_module_get_path		cli_kmod.kmod_module_get_path
#define kmod_module_get_initstate	cli_kmod.kmod_module_get_initstate
#define kmod_module_get_refcnt		cli_kmod.kmod_module_get_refcnt
#define kmod_module_get_holders		cli_kmod.kmod_module_get_holders
#define kmod_module_get_size		cli_kmod.kmod_module_get_size
#define kmod_module_get_info		cli_kmod.kmod_module_get_info
#define kmod_module_info_get_key	cli_kmod.kmod_module_info_get_key
#define kmod_module_info_get_value	cli_kmod.kmod_module_info_get_value
#define kmod_module_info_free_list	cli_kmod.kmod_module_info_free_list
#define kmod_module_insert_module	cli_kmod.kmod_module_insert_module
#define kmod_module_probe_insert_module	cli_kmod.kmod_module_probe_insert_module
#define kmod_module_remove_module	cli_kmod.kmod_module_remove_module
#endif

#endif /* SHMCHAN_CLI_KMOD_DLOPEN_H */
