// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): ls and stat, both read from /proc/shmchan, which shows every
 * channel the caller may open and changes nothing (opening a channel to
 * stat it would count as an attach and move its last pid).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

const char cmd_ls_help[] =
"Usage: shmchan ls [OPTIONS]\n"
"\n"
"List the channels you may open (root: all of them), like ipcs -m, sorted by\n"
"name. Channels destroyed while still in use are listed too, in state\n"
"'destroyed', until their last handle and mapping are gone.\n"
"\n"
"Options:\n"
"  -l, --long         also the waiters, creator and last pids, creation time\n"
"  -b, --bytes        sizes in bytes instead of 4.0K, 256M, 1.5G\n"
"  -n, --numeric      user and group ids instead of names\n"
"      --noheadings   no header line\n"
"      --json         every field of every channel as JSON\n"
"  -h, --help         show this help\n"
"\n"
"A name too long for its column is printed on a line of its own, and the\n"
"rest of its row on the next line.\n";

const char cmd_stat_help[] =
"Usage: shmchan stat [OPTIONS] NAME...\n"
"\n"
"Show every attribute of the named channels: size, mode, owner, creator,\n"
"creator pid, last pid to open or map it, creation time, number of mappings,\n"
"handles and waiters, and state (destroyed, revoked, transient).\n"
"\n"
"Options:\n"
"      --json         as JSON, in the format of 'shmchan ls --json'\n"
"  -h, --help         show this help\n";

struct ls_opts {
	bool longfmt, bytes, numeric, headings, json;
};

/* ------------------------------------------------------------ the table */

#define CELL 48

struct column {
	const char *header;
	bool right;		/* numbers are right-aligned */
	bool longfmt;		/* only with --long */
	void (*fmt)(const struct chan_info *c, const struct ls_opts *o,
		    char *buf, size_t len);
};

static void fmt_owner(const struct chan_info *c, const struct ls_opts *o,
		      char *buf, size_t len)
{
	if (o->numeric)
		snprintf(buf, len, "%u", c->uid);
	else
		cli_user_name(c->uid, buf, len);
}

static void fmt_group(const struct chan_info *c, const struct ls_opts *o,
		      char *buf, size_t len)
{
	if (o->numeric)
		snprintf(buf, len, "%u", c->gid);
	else
		cli_group_name(c->gid, buf, len);
}

static void fmt_mode(const struct chan_info *c, const struct ls_opts *o,
		     char *buf, size_t len)
{
	(void)o;
	cli_mode_octal(c->mode, buf, len);
}

static void fmt_size(const struct chan_info *c, const struct ls_opts *o,
		     char *buf, size_t len)
{
	if (o->bytes)
		snprintf(buf, len, "%" PRIu64, c->size);
	else
		cli_human_size(c->size, buf, len);
}

#define FMT_U64(field)							\
static void fmt_##field(const struct chan_info *c,			\
			const struct ls_opts *o, char *buf, size_t len)	\
{									\
	(void)o;							\
	snprintf(buf, len, "%llu", (unsigned long long)c->field);	\
}
FMT_U64(nmaps)
FMT_U64(nhandles)
FMT_U64(nwaiters)

static void fmt_cpid(const struct chan_info *c, const struct ls_opts *o,
		     char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%d", c->cpid);
}

static void fmt_lpid(const struct chan_info *c, const struct ls_opts *o,
		     char *buf, size_t len)
{
	(void)o;
	snprintf(buf, len, "%d", c->lpid);
}

static void fmt_ctime(const struct chan_info *c, const struct ls_opts *o,
		      char *buf, size_t len)
{
	(void)o;
	cli_time(c->ctime, buf, len);
}

static void fmt_state(const struct chan_info *c, const struct ls_opts *o,
		      char *buf, size_t len)
{
	(void)o;
	chan_state_words(c->state, buf, len);
}

/* After NAME, which is handled apart since it may be far wider. */
static const struct column columns[] = {
	{ "OWNER",   false, false, fmt_owner },
	{ "GROUP",   false, false, fmt_group },
	{ "MODE",    false, false, fmt_mode },
	{ "SIZE",    true,  false, fmt_size },
	{ "MAPS",    true,  false, fmt_nmaps },
	{ "HANDLES", true,  false, fmt_nhandles },
	{ "WAITERS", true,  true,  fmt_nwaiters },
	{ "CPID",    true,  true,  fmt_cpid },
	{ "LPID",    true,  true,  fmt_lpid },
	{ "CREATED", false, true,  fmt_ctime },
	{ "STATE",   false, false, fmt_state },
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))
#define GAP 2
/* The NAME column never gets narrower than this to fit a terminal. */
#define NAME_MIN_WIDTH 16
/* Its widest when the output is not a terminal. */
#define NAME_PIPE_WIDTH 32

struct row {
	const char *name;
	char cell[NCOLUMNS][CELL];
};

static bool shown(const struct column *col, const struct ls_opts *o)
{
	return !col->longfmt || o->longfmt;
}

static size_t name_cap(size_t rest)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) ||
	    !ws.ws_col)
		return NAME_PIPE_WIDTH;
	if (ws.ws_col <= rest + GAP + NAME_MIN_WIDTH)
		return NAME_MIN_WIDTH;
	return ws.ws_col - rest - GAP;
}

static void print_cells(const char *const cells[], const size_t width[],
			const struct ls_opts *o)
{
	size_t i;
	bool first = true;

	for (i = 0; i < NCOLUMNS; i++) {
		if (!shown(&columns[i], o))
			continue;
		if (!first)
			printf("%*s", GAP, "");
		first = false;
		if (columns[i].right)
			printf("%*s", (int)width[i], cells[i]);
		else if (i == NCOLUMNS - 1)
			fputs(cells[i], stdout);
		else
			printf("%-*s", (int)width[i], cells[i]);
	}
	putchar('\n');
}

static void print_row(const char *name, const char *const cells[],
		      size_t name_width, const size_t width[],
		      const struct ls_opts *o)
{
	if (strlen(name) > name_width) {
		/* Like df: a long name alone, its columns on the next line. */
		printf("%s\n%*s", name, (int)(name_width + GAP), "");
	} else {
		printf("%-*s%*s", (int)name_width, name, GAP, "");
	}
	print_cells(cells, width, o);
}

static void print_table(const struct row *rows, size_t n,
			const struct ls_opts *o)
{
	const char *cells[NCOLUMNS];
	size_t width[NCOLUMNS], name_width = 4, rest = 0, cap, i, r, len;

	for (i = 0; i < NCOLUMNS; i++) {
		width[i] = strlen(columns[i].header);
		for (r = 0; r < n; r++) {
			len = strlen(rows[r].cell[i]);
			if (len > width[i])
				width[i] = len;
		}
		if (shown(&columns[i], o))
			rest += width[i] + (rest ? GAP : 0);
	}
	/* As wide as the longest name that fits; longer ones go alone. */
	cap = name_cap(rest);
	for (r = 0; r < n; r++) {
		len = strlen(rows[r].name);
		if (len > name_width && len <= cap)
			name_width = len;
	}

	if (o->headings) {
		for (i = 0; i < NCOLUMNS; i++)
			cells[i] = columns[i].header;
		print_row("NAME", cells, name_width, width, o);
	}
	for (r = 0; r < n; r++) {
		for (i = 0; i < NCOLUMNS; i++)
			cells[i] = rows[r].cell[i];
		print_row(rows[r].name, cells, name_width, width, o);
	}
}

static int ls_table(const struct chan_list *list, const struct ls_opts *o)
{
	struct row *rows = NULL;
	size_t r, i;

	if (list->n) {
		rows = calloc(list->n, sizeof(*rows));
		if (!rows)
			return cli_fail("%s", strerror(ENOMEM));
	}
	for (r = 0; r < list->n; r++) {
		rows[r].name = list->v[r].name;
		for (i = 0; i < NCOLUMNS; i++)
			if (shown(&columns[i], o))
				columns[i].fmt(&list->v[r], o, rows[r].cell[i],
					       CELL);
	}
	print_table(rows, list->n, o);
	free(rows);
	return EXIT_OK;
}

static void json_list(const struct chan_info *const *v, size_t n)
{
	size_t i;

	fputs("{\"channels\": [", stdout);
	for (i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", stdout);
		chan_info_json(stdout, v[i]);
	}
	fputs(n ? "\n]}\n" : "]}\n", stdout);
}

static int ls_json(const struct chan_list *list)
{
	const struct chan_info **v = NULL;
	size_t i;

	if (list->n) {
		v = calloc(list->n, sizeof(*v));
		if (!v)
			return cli_fail("%s", strerror(ENOMEM));
	}
	for (i = 0; i < list->n; i++)
		v[i] = &list->v[i];
	json_list(v, list->n);
	free(v);
	return EXIT_OK;
}

enum { OPT_JSON = 0x100, OPT_NOHEADINGS };

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "long",       no_argument, NULL, 'l' },
		{ "bytes",      no_argument, NULL, 'b' },
		{ "numeric",    no_argument, NULL, 'n' },
		{ "noheadings", no_argument, NULL, OPT_NOHEADINGS },
		{ "json",       no_argument, NULL, OPT_JSON },
		{ "help",       no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ls_opts o = { .headings = true };
	struct chan_list list;
	int c, status = EXIT_OK;

	while ((c = cli_getopt(argc, argv, "lbnh", longopts, &status)) != -1) {
		switch (c) {
		case 'l': o.longfmt = true; break;
		case 'b': o.bytes = true; break;
		case 'n': o.numeric = true; break;
		case OPT_NOHEADINGS: o.headings = false; break;
		case OPT_JSON: o.json = true; break;
		default: return status;
		}
	}
	if (cli_want_args(argc - optind, 0, 0, ""))
		return EXIT_USAGE;
	if (cli_read_listing(&list))
		return EXIT_FAIL;
	status = o.json ? ls_json(&list) : ls_table(&list, &o);
	chan_list_free(&list);
	return status;
}

/* ----------------------------------------------------------------- stat */

static void stat_print(const struct chan_info *c)
{
	char a[64], b[64], st[64];

	printf("name:      %s\n", c->name);
	printf("size:      %" PRIu64 " (%s)\n", c->size,
	       cli_human_size(c->size, a, sizeof(a)));
	printf("mode:      %s (%s)\n", cli_mode_octal(c->mode, a, sizeof(a)),
	       cli_mode_rwx(c->mode, b, sizeof(b)));
	printf("owner:     uid %u (%s), gid %u (%s)\n",
	       c->uid, cli_user_name(c->uid, a, sizeof(a)),
	       c->gid, cli_group_name(c->gid, b, sizeof(b)));
	printf("creator:   uid %u (%s), gid %u (%s), pid %d\n",
	       c->cuid, cli_user_name(c->cuid, a, sizeof(a)),
	       c->cgid, cli_group_name(c->cgid, b, sizeof(b)), c->cpid);
	printf("last pid:  %d\n", c->lpid);
	printf("created:   %s (%" PRId64 ")\n", cli_time(c->ctime, a, sizeof(a)),
	       c->ctime);
	printf("mappings:  %" PRIu64 "\n", c->nmaps);
	printf("handles:   %" PRIu64 "\n", c->nhandles);
	printf("waiters:   %" PRIu64 "\n", c->nwaiters);
	if (c->has_deaths)
		printf("deaths:    %" PRIu32 "\n", c->deaths);
	printf("state:     %s\n", chan_state_words(c->state, st, sizeof(st)));
}

static void from_stat(const char *name, const struct shmchan_stat *st,
		      struct chan_info *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->size = st->length;
	c->mode = st->mode;
	c->uid = st->uid;
	c->gid = st->gid;
	c->cuid = st->cuid;
	c->cgid = st->cgid;
	c->cpid = st->cpid;
	c->lpid = st->lpid;
	c->nmaps = st->nmaps;
	c->nhandles = st->nhandles;
	c->nwaiters = st->nwaiters;
	c->ctime = st->ctime_sec;
	c->has_deaths = true;
	c->deaths = st->deaths;
	c->state = st->state & (SHMCHAN_STATE_DESTROYED |
				SHMCHAN_STATE_REVOKED | SHMCHAN_STATE_TRANSIENT);
}

/*
 * A name the listing does not show: open it to learn why (no such channel,
 * or permission denied). Should it open after all (it was made meanwhile),
 * report what SHMCHAN_IOC_STAT says.
 */
static int stat_unlisted(const char *name, struct chan_info *c)
{
	struct shmchan_stat st;
	struct shmchan *ch;
	int ret;

	ret = shmchan_open(name, SHMCHAN_OPEN_RDONLY, &ch);
	if (ret)
		return cli_chan_fail(name, -ret);
	ret = shmchan_stat(ch, &st);
	shmchan_close(ch);
	if (ret)
		return cli_chan_fail(name, -ret);
	from_stat(name, &st, c);
	return EXIT_OK;
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct chan_info **found;
	struct chan_info *extra;
	struct chan_list list;
	bool json = false;
	int c, i, n, status = EXIT_OK;
	size_t nfound = 0;

	while ((c = cli_getopt(argc, argv, "h", longopts, &status)) != -1) {
		if (c != OPT_JSON)
			return status;
		json = true;
	}
	argv += optind;
	n = argc - optind;
	if (cli_want_args(n, 1, -1, "NAME"))
		return EXIT_USAGE;
	for (i = 0; i < n; i++)
		if (cli_check_name(argv[i]))
			return EXIT_USAGE;
	if (cli_read_listing(&list))
		return EXIT_FAIL;

	found = calloc(n, sizeof(*found));
	extra = calloc(n, sizeof(*extra));
	if (!found || !extra) {
		status = cli_fail("%s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < n; i++) {
		found[nfound] = chan_list_find(&list, argv[i]);
		if (!found[nfound]) {
			if (stat_unlisted(argv[i], &extra[i])) {
				status = EXIT_FAIL;
				continue;
			}
			found[nfound] = &extra[i];
		}
		if (!json) {
			if (nfound)
				putchar('\n');
			stat_print(found[nfound]);
		}
		nfound++;
	}
	if (json)
		json_list(found, nfound);
out:
	free(found);
	free(extra);
	chan_list_free(&list);
	return status;
}
