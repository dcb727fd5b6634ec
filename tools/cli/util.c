// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): messages, option parsing, argument checks and formatting
 * shared by the subcommands.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const struct cli_cmd *cli_current;

/* ------------------------------------------------------------ messages */

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("shmchan: ", stderr);
	if (cli_current)
		fprintf(stderr, "%s: ", cli_current->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

static void try_help(void)
{
	fprintf(stderr, "Try 'shmchan %s --help'.\n",
		cli_current ? cli_current->name : "");
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	try_help();
	return EXIT_USAGE;
}

int cli_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *status)
{
	char opts[64];
	int c;

	/* ':' first: a missing argument is ':' rather than '?'; we print. */
	snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	switch (c) {
	case 'h':
		fputs(cli_current->help, stdout);
		*status = EXIT_OK;
		return '?';
	case ':':
		*status = cli_usage("option '%s' needs an argument",
				    argv[optind - 1]);
		return '?';
	case '?':
		if (optopt)
			*status = cli_usage("unknown option '-%c'", optopt);
		else
			*status = cli_usage("unknown option '%s'",
					    argv[optind - 1]);
		return '?';
	}
	return c;
}

int cli_want_args(int argc, int min, int max, const char *what)
{
	if (argc < min)
		return cli_usage("missing %s", what);
	if (max >= 0 && argc > max)
		return cli_usage("too many arguments");
	return 0;
}

/* -------------------------------------------------------------- parsing */

int cli_check_name(const char *name)
{
	size_t len = strlen(name), i;

	if (!len) {
		cli_usage("a channel name cannot be empty");
		return -1;
	}
	if (len > SHMCHAN_NAME_MAX) {
		cli_usage("name too long: %zu bytes, at most %d", len,
			  SHMCHAN_NAME_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c >= 0x21 && c <= 0x7e && c != '/')
			continue;
		if (isprint(c))
			cli_usage("%s: invalid character '%c' at position %zu: names are printable ASCII without spaces or '/'",
				  name, c, i + 1);
		else
			cli_usage("invalid byte 0x%02x at position %zu of the name: names are printable ASCII without spaces or '/'",
				  c, i + 1);
		return -1;
	}
	return 0;
}

/*
 * strtoull without its surprises: no sign, no whitespace, and decimal
 * unless it starts with 0x, as the help says: a leading 0 is no octal
 * ("010" is ten, "08" eight).
 */
static int parse_number(const char *s, uint64_t *out, char **end)
{
	unsigned long long v;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		if (!isxdigit((unsigned char)s[0]))
			return -EINVAL;
	} else if (!isdigit((unsigned char)s[0])) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, end, base);
	if (errno)
		return -errno;
	*out = v;
	return 0;
}

static int unit_shift(const char *suffix)
{
	static const char units[] = "KMGTPE";
	const char *u;

	if (!*suffix)
		return 0;
	if (!strcasecmp(suffix, "B"))
		return 0;
	u = strchr(units, toupper((unsigned char)suffix[0]));
	if (!u || !suffix[0])
		return -1;
	if (suffix[1] && strcasecmp(suffix + 1, "B") &&
	    strcasecmp(suffix + 1, "iB"))
		return -1;
	return 10 * (int)(u - units + 1);
}

int cli_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	char *end;
	int shift, ret;

	ret = parse_number(s, &v, &end);
	shift = ret ? -1 : unit_shift(end);
	if (ret == -ERANGE || (shift > 0 && v > (UINT64_MAX >> shift))) {
		cli_usage("size %s: too large", s);
		return -1;
	}
	if (ret || shift < 0) {
		cli_usage("invalid size '%s': a number of bytes, with K, M, G or T for KiB, MiB, GiB or TiB",
			  s);
		return -1;
	}
	v <<= shift;
	if (!v) {
		cli_usage("size 0: a channel holds at least one byte");
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_mode(const char *s, mode_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (!*s || *end || errno || !isdigit((unsigned char)s[0]) || v > 0777) {
		cli_usage("invalid mode '%s': octal permission bits, 0 to 0777",
			  s);
		return -1;
	}
	*out = v;
	return 0;
}

/* A whole number of at most @max, or a usage error naming it @what. */
static int parse_bounded(const char *s, const char *what, uint64_t max,
			 const char *max_text, uint64_t *out)
{
	uint64_t v;
	char *end;
	int ret;

	ret = parse_number(s, &v, &end);
	if (!ret && *end)
		ret = -EINVAL;
	if (ret == -EINVAL) {
		cli_usage("invalid %s '%s': a number (decimal, or hex with 0x)",
			  what, s);
		return -1;
	}
	if (ret || v > max) {
		cli_usage("%s %s: %s (at most %" PRIu64 ")", what, s, max_text,
			  max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_u64(const char *s, const char *what, uint64_t *out)
{
	return parse_bounded(s, what, UINT64_MAX, "too large", out);
}

int cli_parse_u32(const char *s, const char *what, uint32_t *out)
{
	uint64_t v;

	if (parse_bounded(s, what, UINT32_MAX, "above 32 bits", &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int cli_parse_offset(const char *s, uint64_t *out)
{
	if (cli_parse_u64(s, "offset", out))
		return -1;
	if (*out % 4) {
		cli_usage("offset %s: not a multiple of 4 (words are 32-bit and aligned)",
			  s);
		return -1;
	}
	return 0;
}

/* "1.5", "250ms", "2m": like timeout(1), plus ms. */
int cli_parse_duration(const char *s, struct timespec *out)
{
	static const struct { const char *suffix; double mul; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "m", 60 },
		{ "h", 3600 }, { "d", 86400 },
	};
	double v;
	char *end;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	if (!isdigit((unsigned char)s[0]) || errno || v < 0)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		v *= units[i].mul;
		if (v > (double)INT32_MAX)
			v = INT32_MAX;
		out->tv_sec = (time_t)v;
		out->tv_nsec = (long)((v - (double)out->tv_sec) * 1e9);
		return 0;
	}
bad:
	cli_usage("invalid duration '%s': seconds, or a number with ms, s, m, h or d",
		  s);
	return -1;
}

/* ------------------------------------------------------------ formatting */

const char *cli_human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* ls -h rounds up, so that a size is never shown smaller than it is. */
	if (v < 10 && (uint64_t)(v * 10) != v * 10)
		v = (double)((uint64_t)(v * 10) + 1) / 10;
	else if (v >= 10 && (uint64_t)v != v)
		v = (double)((uint64_t)v + 1);
	if (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (v < 10)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

const char *cli_mode_octal(unsigned int mode, char *buf, size_t len)
{
	snprintf(buf, len, "%04o", mode & 0777);
	return buf;
}

const char *cli_mode_rwx(unsigned int mode, char *buf, size_t len)
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	if (len < 10)
		return "";
	for (i = 0; i < 9; i++)
		buf[i] = mode & (0400 >> i) ? rwx[i] : '-';
	buf[9] = '\0';
	return buf;
}

const char *cli_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned int)uid);
	return buf;
}

const char *cli_group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr && gr->gr_name)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned int)gid);
	return buf;
}

const char *cli_time(int64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%" PRId64, sec);
	return buf;
}

void cli_json_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* ------------------------------------------------------------ the module */

bool cli_module_loaded(void)
{
	struct stat st;

	return !stat(SHMCHAN_DEVICE, &st) && S_ISCHR(st.st_mode);
}

int cli_need_module(void)
{
	if (cli_module_loaded())
		return 0;
	return cli_fail("module not loaded (no %s): load it with 'shmchan load'",
			SHMCHAN_DEVICE);
}

int cli_module_param(const char *param, uint64_t *out)
{
	char path[128], buf[32];
	unsigned long long v;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), SHMCHAN_SYS_MODULE "/parameters/%s", param);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%llu", &v) != 1)
		ret = -EPROTO;
	else
		*out = v;
	fclose(f);
	return ret;
}

/* " (max_channels=8, max_total_size=1.0G)": the limits that are set. */
static void limits_text(char *buf, size_t len, const char *const params[])
{
	size_t used = 0;
	uint64_t v;
	char human[24];
	int n = 0;

	buf[0] = '\0';
	for (; *params; params++) {
		if (cli_module_param(*params, &v) || !v)
			continue;
		if (strstr(*params, "size"))
			cli_human_size(v, human, sizeof(human));
		else
			snprintf(human, sizeof(human), "%" PRIu64, v);
		used += snprintf(buf + used, len - used, "%s%s=%s",
				 n++ ? ", " : " (", *params, human);
		if (used >= len)
			return;
	}
	if (n)
		snprintf(buf + used, len - used, ")");
}

/*
 * Permission denied on @name: say where its mode and owner can be seen.
 * The listing shows the caller only the channels it may read, so for one
 * it cannot read, 'shmchan ls -l' is no help: only root sees it there.
 */
static int perm_denied(const char *name)
{
	struct chan_list list;
	bool listed;

	if (chan_list_read(&list))
		return cli_fail("%s: permission denied", name);
	listed = chan_list_find(&list, name) != NULL;
	chan_list_free(&list);
	if (listed)
		return cli_fail("%s: permission denied (see its mode and owner with 'shmchan ls -l')",
				name);
	return cli_fail("%s: permission denied; 'shmchan ls' shows you only the channels you may read, so not this one: root sees its mode and owner with 'shmchan stat %s'",
			name, name);
}

int cli_chan_fail(const char *name, int err)
{
	static const char *const global[] = { "max_channels", "max_total_size", NULL };
	static const char *const user[] = { "max_user_channels", "max_user_size", NULL };
	static const char *const one[] = { "max_channel_size", NULL };
	char limits[128];

	switch (err) {
	case ENOENT:
		if (!cli_module_loaded())
			return cli_need_module();
		return cli_fail("%s: no such channel", name);
	case ENODEV:
	case ENXIO:
		return cli_need_module();
	case EEXIST:
		return cli_fail("%s: channel exists", name);
	case EACCES:
		return perm_denied(name);
	case EPERM:
		return cli_fail("%s: operation not permitted: only its owner, its creator or root may do this",
				name);
	case ENOSPC:
		limits_text(limits, sizeof(limits), global);
		return cli_fail("%s: the module's limit on all channels is reached%s",
				name, limits);
	case EDQUOT:
		limits_text(limits, sizeof(limits), user);
		return cli_fail("%s: your user's channel quota is reached%s",
				name, limits);
	case EFBIG:
		limits_text(limits, sizeof(limits), one);
		return cli_fail("%s: size above what one channel may have%s",
				name, limits);
	case EBADF:
		/* the module's answer on a device the library could only read */
		return cli_fail("%s: %s is read-only for you: creating, removing or changing a channel, or opening it for writing, needs write access to it (see shmchan(4))",
				name, SHMCHAN_DEVICE);
	case EIDRM:
		return cli_fail("%s: the channel was revoked", name);
	case ENOMEM:
		return cli_fail("%s: out of memory", name);
	}
	return cli_fail("%s: %s", name, strerror(err));
}
