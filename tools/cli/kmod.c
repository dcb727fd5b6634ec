// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): load, unload and status of shmchan.ko, through libkmod.
 *
 * Which module `load` inserts, first found:
 *   1. the MODULE.ko given on the command line;
 *   2. $SHMCHAN_KO (set by the VM runner);
 *   3. kmod/shmchan.ko of the build tree this command was built in (the
 *      command is tools/shmchan, the module ../kmod/shmchan.ko from it);
 *   4. the installed module, as modprobe would find it (modules.dep),
 *      with the options of modprobe.d.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "kmod-dlopen.h"

const char cmd_load_help[] =
"Usage: shmchan load [OPTIONS] [MODULE.ko] [PARAM=VALUE...]\n"
"\n"
"Load the shmchan module through libkmod, with the given parameters (see\n"
"'shmchan status' and shmchan(4): max_channels, max_total_size,\n"
"max_user_channels, max_user_size, max_channel_size). Needs root\n"
"(CAP_SYS_MODULE): without it, says so before anything else.\n"
"\n"
"Without MODULE.ko, the first of: $SHMCHAN_KO; the kmod/shmchan.ko of the\n"
"build tree this command comes from; the installed module (as modprobe\n"
"finds it, with the options set in modprobe.d).\n"
"\n"
"Options:\n"
"  -h, --help         show this help\n";

const char cmd_unload_help[] =
"Usage: shmchan unload [OPTIONS]\n"
"\n"
"Unload the shmchan module through libkmod. Needs root. Refused at once,\n"
"never waited for, while any process has a channel open or mapped (a\n"
"background 'shmchan wait' too); channels nobody uses are freed.\n"
"\n"
"Options:\n"
"  -h, --help         show this help\n";

const char cmd_status_help[] =
"Usage: shmchan status [OPTIONS]\n"
"\n"
"Show whether the shmchan module is loaded, its reference count, size and\n"
"parameters, the features it offers, its channels, and where the installed\n"
"module is.\n"
"\n"
"Options:\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 if the module is loaded, 1 if not.\n";

/* ------------------------------------------------------------ helpers */

/* Opens libkmod and makes its context; ctx_free() undoes both. */
static struct kmod_ctx *ctx_new(void)
{
	struct kmod_ctx *ctx;

	if (cli_kmod_open())
		return NULL;
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		cli_msg("cannot initialize libkmod: %s", strerror(errno));
		cli_kmod_close();
		return NULL;
	}
	kmod_set_log_priority(ctx, 0);	/* we explain errors ourselves */
	return ctx;
}

static void ctx_free(struct kmod_ctx *ctx)
{
	kmod_unref(ctx);
	cli_kmod_close();
}

/* The loaded (or known) shmchan module, by name. */
static struct kmod_module *module_by_name(struct kmod_ctx *ctx)
{
	struct kmod_module *mod = NULL;
	int ret = kmod_module_new_from_name(ctx, SHMCHAN_MODULE_NAME, &mod);

	if (ret < 0) {
		cli_msg("libkmod: %s", strerror(-ret));
		return NULL;
	}
	return mod;
}

/* KMOD_MODULE_LIVE etc., or -ENOENT when not loaded. */
static int module_state(struct kmod_module *mod)
{
	int state = kmod_module_get_initstate(mod);

	return state < 0 ? -ENOENT : state;
}

/* The installed module's path (modules.dep), or NULL. */
static const char *installed_path(struct kmod_ctx *ctx,
				  struct kmod_module **out)
{
	struct kmod_list *list = NULL, *l;
	const char *path = NULL;

	*out = NULL;
	if (kmod_module_new_from_lookup(ctx, SHMCHAN_MODULE_NAME, &list) < 0)
		return NULL;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		if (!*out && kmod_module_get_path(mod)) {
			*out = mod;
			path = kmod_module_get_path(mod);
		} else {
			kmod_module_unref(mod);
		}
	}
	kmod_module_unref_list(list);
	return path;
}

/* kmod/shmchan.ko beside this command's directory, if it exists. */
static char *build_tree_module(void)
{
	char exe[PATH_MAX], *rel, *path;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (asprintf(&rel, "%s/../kmod/shmchan.ko", dirname(exe)) < 0)
		return NULL;
	path = realpath(rel, NULL);
	free(rel);
	if (path && (stat(path, &st) || !S_ISREG(st.st_mode))) {
		free(path);
		return NULL;
	}
	return path;
}

/* ------------------------------------------------------------------ load */

struct load_args {
	const char *path;	/* MODULE.ko given, or NULL */
	char *options;		/* "a=1 b=2", allocated */
};

/* Each parameter name must be one the module declares. */
static int check_params(struct kmod_module *mod, char **params, int n)
{
	struct kmod_list *info = NULL, *l;
	char known[512] = "";
	int i, status = EXIT_OK;

	if (kmod_module_get_info(mod, &info) < 0)
		return EXIT_OK;		/* the kernel will judge */
	kmod_list_foreach(l, info) {
		const char *v = kmod_module_info_get_value(l);
		size_t k = strlen(known);

		if (strcmp(kmod_module_info_get_key(l), "parmtype") || !v)
			continue;
		snprintf(known + k, sizeof(known) - k, "%s%.*s", k ? ", " : "",
			 (int)strcspn(v, ":"), v);
	}
	kmod_module_info_free_list(info);

	for (i = 0; i < n && !status; i++) {
		size_t len = strcspn(params[i], "=");
		const char *p = known;
		bool found = false;

		while (*p && !found) {
			found = !strncmp(p, params[i], len) &&
				(p[len] == ',' || !p[len]);
			p += strcspn(p, ",");
			p += strspn(p, ", ");
		}
		if (!found)
			status = cli_usage("unknown parameter '%.*s' (the module has: %s)",
					   (int)len, params[i],
					   known[0] ? known : "none");
	}
	return status;
}

static int parse_load_args(int argc, char **argv, struct load_args *a)
{
	size_t len = 1;
	int i;

	a->path = NULL;
	for (i = 0; i < argc; i++) {
		bool is_param = strchr(argv[i], '=') && argv[i][0] != '=' &&
				!strchr(argv[i], '/');

		if (!is_param && !a->path && i == 0) {
			a->path = argv[i];
			continue;
		}
		if (!is_param)
			return cli_usage("'%s' is not PARAM=VALUE", argv[i]);
		len += strlen(argv[i]) + 1;
	}
	a->options = calloc(1, len);
	if (!a->options)
		return cli_fail("%s", strerror(ENOMEM));
	for (i = a->path ? 1 : 0; i < argc; i++) {
		if (a->options[0])
			strcat(a->options, " ");
		strcat(a->options, argv[i]);
	}
	return EXIT_OK;
}

/* The vermagic's first word: the kernel the module was built for. */
static void print_vermagic_hint(struct kmod_module *mod)
{
	struct kmod_list *info = NULL, *l;
	struct utsname u;

	if (kmod_module_get_info(mod, &info) < 0)
		return;
	uname(&u);
	kmod_list_foreach(l, info) {
		const char *v = kmod_module_info_get_value(l);

		if (!strcmp(kmod_module_info_get_key(l), "vermagic") && v)
			fprintf(stderr, "  the module is built for %.*s; this kernel is %s\n",
				(int)strcspn(v, " "), v, u.release);
	}
	kmod_module_info_free_list(info);
}

/*
 * Whether this process may ask the kernel to load a module: CAP_SYS_MODULE
 * in its effective set, whatever its uid. Asked first, so that a user
 * without it is told so rather than what comes of looking at the module
 * (its file unreadable, or already loaded). If the set cannot be read,
 * the kernel judges.
 */
static bool may_load_modules(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data))
		return true;
	return data[CAP_TO_INDEX(CAP_SYS_MODULE)].effective & CAP_TO_MASK(CAP_SYS_MODULE);
}

static int load_needs_root(void)
{
	struct stat st;

	if (!stat(SHMCHAN_SYS_MODULE, &st))
		return cli_fail("loading a module needs root (CAP_SYS_MODULE); the module is loaded already (see 'shmchan status')");
	return cli_fail("loading a module needs root (CAP_SYS_MODULE)");
}

static int explain_insert(struct kmod_module *mod, const char *path, int err)
{
	switch (err) {
	case EPERM:
		/* We have CAP_SYS_MODULE (checked first), but not where it counts. */
		return cli_fail("%s: the kernel refused to load it: it takes CAP_SYS_MODULE in the initial user namespace (not in a container), kernel.modules_disabled=0 and no lockdown",
				path);
	case EEXIST:
		return cli_fail("module already loaded (see 'shmchan status'; 'shmchan unload' first to reload)");
	case ENOEXEC:
		cli_msg("%s: invalid module format", path);
		print_vermagic_hint(mod);
		return EXIT_FAIL;
	case ENOSYS:
		return cli_fail("this kernel cannot load modules");
	case EINVAL:
		return cli_fail("%s: invalid module or parameter value (see dmesg)",
				path);
	case ENOENT:
		return cli_fail("%s: unknown symbol in the module, or no such file (see dmesg)",
				path);
	}
	return cli_fail("%s: %s", path, strerror(err));
}

/* The module to insert, by the order at the top of this file. */
static struct kmod_module *pick_module(struct kmod_ctx *ctx, const char *given,
				       bool *probe)
{
	struct kmod_module *mod = NULL;
	const char *env = getenv("SHMCHAN_KO");
	char *built = NULL;
	const char *path = given;
	int ret;

	*probe = false;
	if (!path && env && *env)
		path = env;
	if (!path)
		path = built = build_tree_module();
	if (!path) {
		if (installed_path(ctx, &mod)) {
			*probe = true;
			return mod;
		}
		cli_msg("no shmchan.ko found: give its path, or install it with 'make install'");
		return NULL;
	}
	ret = kmod_module_new_from_path(ctx, path, &mod);
	if (ret < 0)
		cli_msg("%s: %s", path, strerror(-ret));
	free(built);
	return ret < 0 ? NULL : mod;
}

static int insert(struct kmod_module *mod, bool probe, const char *options)
{
	if (probe)
		return kmod_module_probe_insert_module(mod,
			KMOD_PROBE_FAIL_ON_LOADED, options, NULL, NULL, NULL);
	return kmod_module_insert_module(mod, 0, options);
}

static int do_load(struct kmod_ctx *ctx, const struct load_args *a,
		   char **params, int nparams)
{
	struct kmod_module *mod, *loaded;
	bool probe;
	int status, ret;

	loaded = module_by_name(ctx);
	if (!loaded)
		return EXIT_FAIL;
	ret = module_state(loaded);
	kmod_module_unref(loaded);
	if (ret >= 0)
		return explain_insert(NULL, "", EEXIST);

	mod = pick_module(ctx, a->path, &probe);
	if (!mod)
		return EXIT_FAIL;
	status = check_params(mod, params, nparams);
	if (!status) {
		ret = insert(mod, probe, a->options);
		if (ret < 0)
			status = explain_insert(mod, kmod_module_get_path(mod), -ret);
		else
			printf("loaded %s%s%s\n", kmod_module_get_path(mod),
			       a->options[0] ? " " : "", a->options);
	}
	kmod_module_unref(mod);
	return status;
}

int cmd_load(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct load_args a;
	struct kmod_ctx *ctx;
	int c, status = EXIT_OK, first;

	while ((c = cli_getopt(argc, argv, "h", longopts, &status)) != -1)
		return status;
	argv += optind;
	argc -= optind;
	if (!may_load_modules())
		return load_needs_root();
	status = parse_load_args(argc, argv, &a);
	if (status)
		return status;
	first = a.path ? 1 : 0;

	ctx = ctx_new();
	if (!ctx) {
		free(a.options);
		return EXIT_FAIL;
	}
	status = do_load(ctx, &a, argv + first, argc - first);
	ctx_free(ctx);
	free(a.options);
	return status;
}

/* ---------------------------------------------------------------- unload */

/* How many channels, handles and mappings there are now. */
static void count_users(uint64_t *chans, uint64_t *handles, uint64_t *maps)
{
	struct chan_list list;
	size_t i;

	*chans = *handles = *maps = 0;
	if (chan_list_read(&list))
		return;
	for (i = 0; i < list.n; i++) {
		*chans += 1;
		*handles += list.v[i].nhandles;
		*maps += list.v[i].nmaps;
	}
	chan_list_free(&list);
}

static int explain_remove(struct kmod_module *mod, int err)
{
	uint64_t chans, handles, maps;

	switch (err) {
	case EPERM:
	case EACCES:
		return cli_fail("permission denied: unloading a module needs root (CAP_SYS_MODULE)");
	case ENOENT:
		return cli_fail("module not loaded");
	case EAGAIN:
	case EBUSY:
		count_users(&chans, &handles, &maps);
		return cli_fail("module in use (reference count %d): %" PRIu64
				" handle(s) and %" PRIu64 " mapping(s) of channels are open; the processes holding them must close them or exit (see 'shmchan ls')",
				kmod_module_get_refcnt(mod), handles, maps);
	}
	return cli_fail("%s", strerror(err));
}

int cmd_unload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	uint64_t chans, handles, maps;
	int c, status = EXIT_OK, ret;

	while ((c = cli_getopt(argc, argv, "h", longopts, &status)) != -1)
		return status;
	if (cli_want_args(argc - optind, 0, 0, ""))
		return EXIT_USAGE;

	ctx = ctx_new();
	if (!ctx)
		return EXIT_FAIL;
	mod = module_by_name(ctx);
	if (!mod) {
		ctx_free(ctx);
		return EXIT_FAIL;
	}
	status = EXIT_OK;
	if (module_state(mod) < 0) {
		status = explain_remove(mod, ENOENT);
	} else {
		count_users(&chans, &handles, &maps);
		ret = kmod_module_remove_module(mod, 0);
		if (ret < 0)
			status = explain_remove(mod, -ret);
		else if (chans)
			printf("unloaded shmchan (%" PRIu64 " channel(s) freed)\n",
			       chans);
		else
			printf("unloaded shmchan\n");
	}
	kmod_module_unref(mod);
	ctx_free(ctx);
	return status;
}

/* ---------------------------------------------------------------- status */

static const char *state_name(int state)
{
	switch (state) {
	case KMOD_MODULE_BUILTIN: return "built in";
	case KMOD_MODULE_LIVE: return "live";
	case KMOD_MODULE_COMING: return "loading";
	case KMOD_MODULE_GOING: return "unloading";
	}
	return "not loaded";
}

static void print_file(const char *label, const char *path)
{
	char buf[128];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		printf("%-12s %s\n", label, buf);
	}
	fclose(f);
}

static void print_device(void)
{
	struct stat st;
	char rwx[16];

	if (stat(SHMCHAN_DEVICE, &st)) {
		printf("%-12s %s: %s\n", "device:", SHMCHAN_DEVICE, strerror(errno));
		return;
	}
	printf("%-12s %s (character %u:%u, mode %04o %s)\n", "device:",
	       SHMCHAN_DEVICE, major(st.st_rdev), minor(st.st_rdev),
	       st.st_mode & 07777, cli_mode_rwx(st.st_mode, rwx, sizeof(rwx)));
}

static void print_features(void)
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{ SHMCHAN_FEATURE_SHMEM, "shmem" },
		{ SHMCHAN_FEATURE_REVOKE, "revoke" },
		{ SHMCHAN_FEATURE_TRANSIENT, "transient" },
		{ SHMCHAN_FEATURE_DEATH_NOTICE, "death-notice" },
		{ SHMCHAN_FEATURE_LISTING, "listing" },
		{ SHMCHAN_FEATURE_SETATTR, "setattr" },
		{ SHMCHAN_FEATURE_STATUS_PAGE, "status-page" },
		{ SHMCHAN_FEATURE_IPC_NS, "ipc-ns" },
		{ SHMCHAN_FEATURE_HUGE, "huge" },
		{ SHMCHAN_FEATURE_MLOCK, "mlock" },
	};
	struct shmchan_features f;
	size_t i;

	if (shmchan_features(&f))
		return;
	printf("%-12s %u\n", "abi version:", f.abi_version);
	printf("%-12s", "features:");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f.features & names[i].bit)
			printf(" %s", names[i].name);
	putchar('\n');
}

static void print_channels(void)
{
	struct chan_list list;
	uint64_t total = 0;
	char human[16];
	size_t i;

	if (chan_list_read(&list))
		return;
	for (i = 0; i < list.n; i++)
		total += list.v[i].size;
	printf("%-12s %zu visible to you (%s)\n", "channels:", list.n,
	       cli_human_size(total, human, sizeof(human)));
	chan_list_free(&list);
}

/* Every file of /sys/module/shmchan/parameters, sorted by name. */
static void print_params(void)
{
	struct dirent **ents;
	char path[PATH_MAX], value[64];
	int n, i;

	n = scandir(SHMCHAN_SYS_MODULE "/parameters", &ents, NULL, alphasort);
	if (n < 0)
		return;
	printf("parameters:\n");
	for (i = 0; i < n; i++) {
		FILE *f;

		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/parameters/%s",
				 SHMCHAN_SYS_MODULE, ents[i]->d_name);
			f = fopen(path, "re");
			if (f && fgets(value, sizeof(value), f)) {
				value[strcspn(value, "\n")] = '\0';
				printf("  %-18s %s%s\n", ents[i]->d_name, value,
				       strcmp(value, "0") ? "" : " (no limit)");
			}
			if (f)
				fclose(f);
		}
		free(ents[i]);
	}
	free(ents);
}

static void print_loaded(struct kmod_module *mod)
{
	struct kmod_list *holders = kmod_module_get_holders(mod), *l;

	printf("%-12s %d\n", "refcount:", kmod_module_get_refcnt(mod));
	if (holders) {
		printf("%-12s", "used by:");
		kmod_list_foreach(l, holders)
			printf(" %s", kmod_module_get_name(kmod_module_get_module(l)));
		putchar('\n');
		kmod_module_unref_list(holders);
	}
	printf("%-12s %ld bytes\n", "size:", kmod_module_get_size(mod));
	print_file("srcversion:", SHMCHAN_SYS_MODULE "/srcversion");
	print_file("taint:", SHMCHAN_SYS_MODULE "/taint");
	print_device();
	print_features();
	print_channels();
	print_params();
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kmod_module *mod, *inst;
	struct kmod_ctx *ctx;
	const char *path;
	int c, status = EXIT_OK, state;

	while ((c = cli_getopt(argc, argv, "h", longopts, &status)) != -1)
		return status;
	if (cli_want_args(argc - optind, 0, 0, ""))
		return EXIT_USAGE;

	ctx = ctx_new();
	if (!ctx)
		return EXIT_FAIL;
	mod = module_by_name(ctx);
	if (!mod) {
		ctx_free(ctx);
		return EXIT_FAIL;
	}
	state = module_state(mod);
	printf("%-12s %s\n", "module:", SHMCHAN_MODULE_NAME);
	printf("%-12s %s\n", "state:", state_name(state));
	path = installed_path(ctx, &inst);
	printf("%-12s %s\n", "installed:", path ? path : "no");
	kmod_module_unref(inst);
	if (state >= 0)
		print_loaded(mod);
	kmod_module_unref(mod);
	ctx_free(ctx);
	return state >= 0 ? EXIT_OK : EXIT_FAIL;
}
