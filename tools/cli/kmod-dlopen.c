// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): opening libkmod at run time (see kmod-dlopen.h).
 */
#include <dlfcn.h>
#include <string.h>

#define CLI_KMOD_DLOPEN_IMPL
#include "cli.h"
#include "kmod-dlopen.h"

struct cli_kmod cli_kmod;

static int load(const char *name, void **fn)
{
	*fn = dlsym(cli_kmod.dl, name);
	if (*fn)
		return 0;
	cli_msg("%s has no %s: %s", CLI_KMOD_SONAME, name, dlerror());
	return -1;
}

int cli_kmod_open(void)
{
	if (cli_kmod.dl)
		return 0;
	cli_kmod.dl = dlopen(CLI_KMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!cli_kmod.dl) {
		cli_msg("cannot load %s (Debian package libkmod2): %s",
			CLI_KMOD_SONAME, dlerror());
		return -1;
	}
#define CLI_KMOD_LOAD(f)					\
	if (load(#f, (void **)&cli_kmod.f)) {			\
		cli_kmod_close();				\
		return -1;					\
	}
	CLI_KMOD_FUNCS(CLI_KMOD_LOAD)
#undef CLI_KMOD_LOAD
	return 0;
}

void cli_kmod_close(void)
{
	if (cli_kmod.dl)
		dlclose(cli_kmod.dl);
	memset(&cli_kmod, 0, sizeof(cli_kmod));
}
