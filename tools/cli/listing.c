// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): reading /proc/shmchan.
 *
 * The listing's header line names its columns (see <linux/shmchan.h>), and
 * the columns are found by those names, so a module that adds columns
 * does not break this reader. Every column but the name is one word; the
 * name, last, is one word too, since names hold no spaces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum col {
	COL_SIZE, COL_MODE, COL_UID, COL_GID, COL_CUID, COL_CGID, COL_CPID,
	COL_LPID, COL_NMAPS, COL_NHANDLES, COL_NWAITERS, COL_CTIME, COL_STATE,
	COL_NAME, COL_DEATHS, NCOLS,
	NCOLS_REQUIRED = COL_DEATHS	/* later ones are newer than the first module */
};

static const char *const col_names[NCOLS] = {
	"size", "mode", "uid", "gid", "cuid", "cgid", "cpid", "lpid", "nmaps",
	"nhandles", "nwaiters", "ctime", "state", "name", "deaths",
};

#define MAX_WORDS 64

static size_t split(char *line, char *words[], size_t max)
{
	size_t n = 0;
	char *save, *w;

	for (w = strtok_r(line, " \t\n", &save); w && n < max;
	     w = strtok_r(NULL, " \t\n", &save))
		words[n++] = w;
	return n;
}

/*
 * Column index of each known column in the header (-1 for an optional one
 * that is missing); -EPROTO when a required one is missing.
 */
static int parse_header(char *line, int pos[NCOLS])
{
	char *words[MAX_WORDS];
	size_t n = split(line, words, MAX_WORDS), i;
	int c;

	for (c = 0; c < NCOLS; c++) {
		pos[c] = -1;
		for (i = 0; i < n; i++)
			if (!strcmp(words[i], col_names[c]))
				pos[c] = (int)i;
		if (pos[c] < 0 && c < NCOLS_REQUIRED)
			return -EPROTO;
	}
	return 0;
}

static int num(const char *s, int base, long long min, unsigned long long max,
	       unsigned long long *out)
{
	char *end;

	errno = 0;
	if (s[0] == '-') {
		long long v = strtoll(s, &end, base);

		if (errno || *end || v < min)
			return -EPROTO;
		*out = (unsigned long long)v;
		return 0;
	}
	*out = strtoull(s, &end, base);
	if (errno || *end || !*s || *out > max)
		return -EPROTO;
	return 0;
}

static unsigned int parse_state(const char *s)
{
	unsigned int state = 0;

	for (; *s; s++) {
		if (*s == 'D')
			state |= SHMCHAN_STATE_DESTROYED;
		else if (*s == 'R')
			state |= SHMCHAN_STATE_REVOKED;
		else if (*s == 'T')
			state |= SHMCHAN_STATE_TRANSIENT;
	}
	return state;
}

static int parse_line(char *line, const int pos[NCOLS], struct chan_info *c)
{
	char *w[MAX_WORDS];
	unsigned long long v[NCOLS];
	size_t n = split(line, w, MAX_WORDS);
	int i, ret = 0;

	for (i = 0; i < NCOLS; i++)
		if (pos[i] >= 0 && (size_t)pos[i] >= n)
			return -EPROTO;
	ret |= num(w[pos[COL_SIZE]], 10, 0, UINT64_MAX, &v[COL_SIZE]);
	ret |= num(w[pos[COL_MODE]], 8, 0, 0777, &v[COL_MODE]);
	for (i = COL_UID; i <= COL_CGID; i++)
		ret |= num(w[pos[i]], 10, 0, UINT32_MAX, &v[i]);
	for (i = COL_CPID; i <= COL_LPID; i++)
		ret |= num(w[pos[i]], 10, INT32_MIN, INT32_MAX, &v[i]);
	for (i = COL_NMAPS; i <= COL_NWAITERS; i++)
		ret |= num(w[pos[i]], 10, 0, UINT64_MAX, &v[i]);
	ret |= num(w[pos[COL_CTIME]], 10, INT64_MIN, INT64_MAX, &v[COL_CTIME]);
	if (pos[COL_DEATHS] >= 0)
		ret |= num(w[pos[COL_DEATHS]], 10, 0, UINT32_MAX, &v[COL_DEATHS]);
	if (ret || strlen(w[pos[COL_NAME]]) > SHMCHAN_NAME_MAX)
		return -EPROTO;

	memset(c, 0, sizeof(*c));
	strcpy(c->name, w[pos[COL_NAME]]);
	c->size = v[COL_SIZE];
	c->mode = (unsigned int)v[COL_MODE];
	c->uid = (uint32_t)v[COL_UID];
	c->gid = (uint32_t)v[COL_GID];
	c->cuid = (uint32_t)v[COL_CUID];
	c->cgid = (uint32_t)v[COL_CGID];
	c->cpid = (int32_t)v[COL_CPID];
	c->lpid = (int32_t)v[COL_LPID];
	c->nmaps = v[COL_NMAPS];
	c->nhandles = v[COL_NHANDLES];
	c->nwaiters = v[COL_NWAITERS];
	c->ctime = (int64_t)v[COL_CTIME];
	c->state = parse_state(w[pos[COL_STATE]]);
	c->has_deaths = pos[COL_DEATHS] >= 0;
	c->deaths = c->has_deaths ? (uint32_t)v[COL_DEATHS] : 0;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct chan_info *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	if (d)
		return d;
	d = (int)(x->state & SHMCHAN_STATE_DESTROYED) -
	    (int)(y->state & SHMCHAN_STATE_DESTROYED);
	if (d)
		return d;
	return (x->ctime > y->ctime) - (x->ctime < y->ctime);
}

static int append(struct chan_list *list, size_t *cap,
		  const struct chan_info *c)
{
	if (list->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct chan_info *v = realloc(list->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		list->v = v;
		*cap = ncap;
	}
	list->v[list->n++] = *c;
	return 0;
}

static int read_lines(FILE *f, struct chan_list *list)
{
	struct chan_info c;
	int pos[NCOLS], ret;
	size_t cap = 0, len = 0;
	char *line = NULL;

	if (getline(&line, &len, f) < 0) {
		ret = ferror(f) ? -errno : -EPROTO;
		goto out;
	}
	ret = parse_header(line, pos);
	while (!ret && getline(&line, &len, f) >= 0) {
		ret = parse_line(line, pos, &c);
		if (!ret)
			ret = append(list, &cap, &c);
	}
	if (!ret && ferror(f))
		ret = -EIO;
out:
	free(line);
	return ret;
}

int chan_list_read(struct chan_list *list)
{
	FILE *f;
	int ret;

	list->v = NULL;
	list->n = 0;
	f = fopen(SHMCHAN_PROC_LISTING, "re");
	if (!f)
		return -errno;
	ret = read_lines(f, list);
	fclose(f);
	if (ret) {
		chan_list_free(list);
		return ret;
	}
	if (list->n)
		qsort(list->v, list->n, sizeof(*list->v), by_name);
	return 0;
}

void chan_list_free(struct chan_list *list)
{
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

const struct chan_info *chan_list_find(const struct chan_list *list,
				       const char *name)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (!(list->v[i].state & SHMCHAN_STATE_DESTROYED) &&
		    !strcmp(list->v[i].name, name))
			return &list->v[i];
	return NULL;
}

int cli_read_listing(struct chan_list *list)
{
	int ret = chan_list_read(list);

	if (!ret)
		return 0;
	if (ret == -ENOENT) {
		if (!cli_module_loaded())
			return cli_need_module();
		return cli_fail("no %s: the loaded module is too old to list channels",
				SHMCHAN_PROC_LISTING);
	}
	if (ret == -EPROTO)
		return cli_fail("%s: format not understood", SHMCHAN_PROC_LISTING);
	return cli_fail("%s: %s", SHMCHAN_PROC_LISTING, strerror(-ret));
}

const char *chan_state_words(unsigned int state, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 state & SHMCHAN_STATE_DESTROYED ? "destroyed," : "",
		 state & SHMCHAN_STATE_REVOKED ? "revoked," : "",
		 state & SHMCHAN_STATE_TRANSIENT ? "transient," : "");
	if (!buf[0])
		snprintf(buf, len, "-");
	else
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

void chan_info_json(FILE *out, const struct chan_info *c)
{
	char mode[8], user[64], group[64];

	fputs("{\"name\": ", out);
	cli_json_string(out, c->name);
	fprintf(out, ", \"size\": %llu, \"mode\": \"%s\"",
		(unsigned long long)c->size,
		cli_mode_octal(c->mode, mode, sizeof(mode)));
	fprintf(out, ", \"uid\": %u, \"user\": ", c->uid);
	cli_json_string(out, cli_user_name(c->uid, user, sizeof(user)));
	fprintf(out, ", \"gid\": %u, \"group\": ", c->gid);
	cli_json_string(out, cli_group_name(c->gid, group, sizeof(group)));
	fprintf(out, ", \"cuid\": %u, \"cgid\": %u, \"cpid\": %d, \"lpid\": %d",
		c->cuid, c->cgid, c->cpid, c->lpid);
	fprintf(out, ", \"maps\": %llu, \"handles\": %llu, \"waiters\": %llu",
		(unsigned long long)c->nmaps, (unsigned long long)c->nhandles,
		(unsigned long long)c->nwaiters);
	fprintf(out, ", \"ctime\": %lld", (long long)c->ctime);
	if (c->has_deaths)
		fprintf(out, ", \"deaths\": %u", (unsigned int)c->deaths);
	fprintf(out, ", \"destroyed\": %s, \"revoked\": %s, \"transient\": %s}",
		c->state & SHMCHAN_STATE_DESTROYED ? "true" : "false",
		c->state & SHMCHAN_STATE_REVOKED ? "true" : "false",
		c->state & SHMCHAN_STATE_TRANSIENT ? "true" : "false");
}
