// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): create, resize, rm, wait and wake, through libshmchan.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char cmd_create_help[] =
"Usage: shmchan create [OPTIONS] NAME SIZE\n"
"\n"
"Create the channel NAME of SIZE bytes (rounded up to whole pages). SIZE\n"
"takes the suffixes K, M, G and T (KiB, MiB, GiB, TiB): 4096, 64K, 256M.\n"
"If NAME exists and is at least SIZE bytes, it is left as it is (with a\n"
"note on stderr), unless --exclusive is given.\n"
"\n"
"Names are 1 to 255 printable ASCII characters, without spaces or '/'.\n"
"\n"
"Options:\n"
"  -m, --mode MODE    permission bits, octal (default: 0666 less the umask)\n"
"  -x, --exclusive    fail if NAME exists\n"
"  -p, --populate     allocate all its memory now (fail now if it cannot be)\n"
"  -M, --max SIZE     reserve room to grow it to SIZE later ('shmchan resize')\n"
"  -H, --huge         back it with 2 MiB huge pages where the kernel can\n"
"  -h, --help         show this help\n";

const char cmd_resize_help[] =
"Usage: shmchan resize [OPTIONS] NAME SIZE\n"
"\n"
"Set the length of channel NAME to SIZE bytes (rounded up to whole pages,\n"
"suffixes as for 'shmchan create'), within the reserve it was created with\n"
"('shmchan create --max'). Processes that mapped the reserve see the new\n"
"pages at once, without mapping again. A shrink is refused while anything\n"
"is mapped, or waited on, past the new length; what was there is lost.\n"
"\n"
"Options:\n"
"  -g, --grow         only grow: a SIZE at or below the length changes nothing\n"
"  -q, --quiet        do not print the new length\n"
"  -h, --help         show this help\n";

const char cmd_rm_help[] =
"Usage: shmchan rm [OPTIONS] NAME...\n"
"       shmchan rm [OPTIONS] --all\n"
"\n"
"Remove channels by name, like ipcrm. The name is gone at once; processes\n"
"that have the channel open or mapped keep using it until they let go.\n"
"Only the owner, the creator or root may remove a channel.\n"
"\n"
"Options:\n"
"  -a, --all          remove every channel you own or created (root: all)\n"
"  -r, --revoke       also end every wait and wake on it (EIDRM)\n"
"  -v, --verbose      name each channel removed\n"
"  -h, --help         show this help\n";

const char cmd_wait_help[] =
"Usage: shmchan wait [OPTIONS] NAME OFFSET VALUE\n"
"\n"
"Sleep while the 32-bit word at byte OFFSET of channel NAME holds VALUE,\n"
"until 'shmchan wake' (or any waker) wakes it. Returns at once when the\n"
"word holds another value. OFFSET is a multiple of 4; numbers may be hex\n"
"(0x...).\n"
"\n"
"Options:\n"
"  -t, --timeout T    give up after T (seconds; or with ms, s, m, h, d)\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 when woken or the word differs, 1 on timeout or error.\n";

const char cmd_wake_help[] =
"Usage: shmchan wake [OPTIONS] NAME OFFSET [COUNT]\n"
"\n"
"Wake up to COUNT (default: all) of the tasks waiting on the 32-bit word at\n"
"byte OFFSET of channel NAME, and print how many were woken.\n"
"\n"
"Options:\n"
"  -s, --set VALUE    first store VALUE in the word (needs write access)\n"
"  -q, --quiet        do not print the number woken\n"
"  -h, --help         show this help\n";

/*
 * The operands of create and resize, NAME SIZE (@argv after the options),
 * and the module: EXIT_OK, or the status to exit with after the message.
 */
static int name_size_args(int argc, char **argv, uint64_t *size)
{
	if (cli_want_args(argc, 1, 2, "NAME") ||
	    cli_want_args(argc, 2, 2, "SIZE"))
		return EXIT_USAGE;
	if (cli_check_name(argv[0]) || cli_parse_size(argv[1], size))
		return EXIT_USAGE;
	if (cli_need_module())
		return EXIT_FAIL;
	return EXIT_OK;
}

/* --------------------------------------------------------------- create */

/* EINVAL on an existing channel: it is smaller than asked, or its reserve. */
static int create_einval(const char *name, uint64_t size, bool max)
{
	struct chan_list list;
	const struct chan_info *c;
	char have[16], want[16];
	int status;

	if (chan_list_read(&list))
		return cli_chan_fail(name, EINVAL);
	c = chan_list_find(&list, name);
	if (c && c->size < size)
		status = cli_fail("%s: exists with a size of %s, less than %s",
				  name, cli_human_size(c->size, have, sizeof(have)),
				  cli_human_size(size, want, sizeof(want)));
	else if (c && max)
		status = cli_fail("%s: exists with a smaller reserve than --max", name);
	else
		status = cli_chan_fail(name, EINVAL);
	chan_list_free(&list);
	return status;
}

/*
 * ENOSPC or EDQUOT: say so when this one channel is larger than the byte
 * limit itself, rather than suggest that the others have used it up.
 */
static int create_limit_fail(const char *name, uint64_t size, int err)
{
	const char *param = err == ENOSPC ? "max_total_size" : "max_user_size";
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), limit;
	char want[16], have[16];

	/* The module counts whole pages (near 2^64: over any limit anyway) */
	if (size <= UINT64_MAX - page)
		size = (size + page - 1) & ~(page - 1);
	if (cli_module_param(param, &limit) || !limit || size <= limit)
		return cli_chan_fail(name, err);
	return cli_fail("%s: %s is more than %s may take together (%s=%s)",
			name, cli_human_size(size, want, sizeof(want)),
			err == ENOSPC ? "all channels" : "your user's channels",
			param, cli_human_size(limit, have, sizeof(have)));
}

/* Does the module take SHMCHAN_CREATE_HUGE? */
static bool huge_supported(void)
{
	struct shmchan_features f;

	return !shmchan_features(&f) && (f.create_flags & SHMCHAN_CREATE_HUGE);
}

static mode_t default_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

int cmd_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode",      required_argument, NULL, 'm' },
		{ "exclusive", no_argument,       NULL, 'x' },
		{ "populate",  no_argument,       NULL, 'p' },
		{ "max",       required_argument, NULL, 'M' },
		{ "huge",      no_argument,       NULL, 'H' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = 0;
	mode_t mode = default_mode();
	struct shmchan *ch;
	uint64_t size, max = 0;
	char human[16], octal[8];
	int c, status = EXIT_OK, ret;

	while ((c = cli_getopt(argc, argv, "m:xpM:Hh", longopts, &status)) != -1) {
		switch (c) {
		case 'm':
			if (cli_parse_mode(optarg, &mode))
				return EXIT_USAGE;
			break;
		case 'M':
			if (cli_parse_size(optarg, &max))
				return EXIT_USAGE;
			break;
		case 'x': flags |= SHMCHAN_CREATE_EXCL; break;
		case 'p': flags |= SHMCHAN_CREATE_POPULATE; break;
		case 'H': flags |= SHMCHAN_CREATE_HUGE; break;
		default: return status;
		}
	}
	argv += optind;
	ret = name_size_args(argc - optind, argv, &size);
	if (ret)
		return ret;

	if (max && max < size)
		return cli_usage("--max %s is less than SIZE %s",
				 cli_human_size(max, human, sizeof(human)), argv[1]);
	ret = max ? shmchan_create_max(argv[0], size, max, mode, flags, &ch) :
		    shmchan_create(argv[0], size, mode, flags, &ch);
	if (ret == -E2BIG && max)
		return cli_fail("%s: the loaded module cannot grow channels (no --max)", argv[0]);
	if (ret == -EINVAL && (flags & SHMCHAN_CREATE_HUGE) && !huge_supported())
		return cli_fail("%s: --huge: the module or kernel has no huge pages "
				"for channels", argv[0]);
	if (ret == -EINVAL)
		return create_einval(argv[0], size, max != 0);
	if (ret == -ENOSPC || ret == -EDQUOT)
		return create_limit_fail(argv[0], size, -ret);
	if (ret)
		return cli_chan_fail(argv[0], -ret);
	if (!shmchan_was_created(ch)) {
		struct shmchan_stat st;

		if (!shmchan_stat(ch, &st))
			cli_msg("%s: exists already (%s, mode %s): left as it is",
				argv[0],
				cli_human_size(st.length, human, sizeof(human)),
				cli_mode_octal(st.mode, octal, sizeof(octal)));
	}
	shmchan_close(ch);
	return EXIT_OK;
}

/* --------------------------------------------------------------- resize */

int cmd_resize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "grow",  no_argument, NULL, 'g' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help",  no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char have[16], want[16];
	unsigned int flags = 0;
	struct shmchan_stat st;
	struct shmchan *ch;
	bool quiet = false;
	uint64_t size, now;
	int c, status = EXIT_OK, ret;

	while ((c = cli_getopt(argc, argv, "gqh", longopts, &status)) != -1) {
		switch (c) {
		case 'g': flags |= SHMCHAN_RESIZE_GROW; break;
		case 'q': quiet = true; break;
		default: return status;
		}
	}
	argv += optind;
	ret = name_size_args(argc - optind, argv, &size);
	if (ret)
		return ret;

	ret = shmchan_open(argv[0], 0, &ch);
	if (ret)
		return cli_chan_fail(argv[0], -ret);
	ret = shmchan_resize(ch, size, flags, &now);
	if (ret == -ENOTTY) {
		status = cli_fail("%s: the loaded module cannot resize channels", argv[0]);
	} else if (ret == -EFBIG && !shmchan_stat(ch, &st) && size > st.max_length) {
		status = cli_fail("%s: %s is more than its reserve of %s (shmchan create --max)",
				  argv[0], cli_human_size(size, want, sizeof(want)),
				  cli_human_size(st.max_length, have, sizeof(have)));
	} else if (ret == -EBUSY) {
		status = cli_fail("%s: mapped or waited on past %s: not shrunk", argv[0],
				  cli_human_size(size, want, sizeof(want)));
	} else if (ret) {
		status = cli_chan_fail(argv[0], -ret);
	} else if (!quiet) {
		printf("%s: %" PRIu64 " bytes (%s)\n", argv[0], now,
		       cli_human_size(now, have, sizeof(have)));
	}
	shmchan_close(ch);
	return status;
}

/* ------------------------------------------------------------------- rm */

static int rm_one(const char *name, unsigned int flags, bool verbose)
{
	int ret = shmchan_destroy(name, flags);

	if (ret)
		return cli_chan_fail(name, -ret);
	if (verbose)
		printf("removed %s\n", name);
	return EXIT_OK;
}

static bool may_remove(const struct chan_info *c)
{
	uid_t me = geteuid();

	if (c->state & SHMCHAN_STATE_DESTROYED)
		return false;
	return !me || c->uid == me || c->cuid == me;
}

static int rm_all(unsigned int flags, bool verbose)
{
	struct chan_list list;
	int status = EXIT_OK, ret;
	size_t i;

	if (cli_read_listing(&list))
		return EXIT_FAIL;
	for (i = 0; i < list.n; i++) {
		if (!may_remove(&list.v[i]))
			continue;
		ret = shmchan_destroy(list.v[i].name, flags);
		/* Removed by someone else since the listing was read. */
		if (ret == -ENOENT)
			continue;
		if (ret)
			status = cli_chan_fail(list.v[i].name, -ret);
		else if (verbose)
			printf("removed %s\n", list.v[i].name);
	}
	chan_list_free(&list);
	return status;
}

int cmd_rm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all",     no_argument, NULL, 'a' },
		{ "revoke",  no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help",    no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, verbose = false;
	unsigned int flags = 0;
	int c, i, n, status;

	while ((c = cli_getopt(argc, argv, "arvh", longopts, &status)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'r': flags |= SHMCHAN_DESTROY_REVOKE; break;
		case 'v': verbose = true; break;
		default: return status;
		}
	}
	argv += optind;
	n = argc - optind;
	if (all && n)
		return cli_usage("--all takes no NAME");
	if (!all && cli_want_args(n, 1, -1, "NAME (or --all)"))
		return EXIT_USAGE;
	for (i = 0; i < n; i++)
		if (cli_check_name(argv[i]))
			return EXIT_USAGE;
	if (cli_need_module())
		return EXIT_FAIL;

	if (all)
		return rm_all(flags, verbose);
	status = EXIT_OK;
	for (i = 0; i < n; i++)
		if (rm_one(argv[i], flags, verbose))
			status = EXIT_FAIL;
	return status;
}

/* ------------------------------------------------------------ wait/wake */

/* Open @name and check that a word at @offset fits in it. */
static int open_word(const char *name, uint64_t offset, unsigned int flags,
		     struct shmchan **out)
{
	struct shmchan *ch;
	uint64_t length;
	int ret;

	ret = shmchan_open(name, flags, &ch);
	if (ret)
		return cli_chan_fail(name, -ret);
	length = shmchan_length(ch);
	if (offset > length - 4) {
		shmchan_close(ch);
		return cli_fail("%s: offset %" PRIu64 " is past the end (the channel has %" PRIu64 " bytes)",
				name, offset, length);
	}
	*out = ch;
	return EXIT_OK;
}

static void deadline_after(const struct timespec *t, struct timespec *out)
{
	clock_gettime(CLOCK_MONOTONIC, out);
	out->tv_sec += t->tv_sec;
	out->tv_nsec += t->tv_nsec;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

/*
 * A death notice (a process that had the channel open exited) is not a
 * wake: keep waiting, as the word is rechecked by the module each time.
 */
static int wait_loop(struct shmchan *ch, const char *name, uint64_t offset,
		     uint32_t value, const struct timespec *deadline,
		     const char *timeout)
{
	int ret;

	do
		ret = shmchan_wait(ch, offset, value, deadline);
	while (ret == -EINTR || ret == -EOWNERDEAD);

	switch (ret) {
	case 0:
	case -EAGAIN:
		return EXIT_OK;
	case -ETIMEDOUT:
		return cli_fail("%s: timed out after %s", name, timeout);
	}
	return cli_chan_fail(name, -ret);
}

int cmd_wait(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timespec timeout, deadline;
	const char *timeout_arg = NULL;
	struct shmchan *ch;
	uint64_t offset;
	uint32_t value;
	int c, status = EXIT_OK;

	while ((c = cli_getopt(argc, argv, "t:h", longopts, &status)) != -1) {
		if (c != 't')
			return status;
		if (cli_parse_duration(optarg, &timeout))
			return EXIT_USAGE;
		timeout_arg = optarg;
	}
	argv += optind;
	if (cli_want_args(argc - optind, 1, 3, "NAME") ||
	    cli_want_args(argc - optind, 2, 3, "OFFSET") ||
	    cli_want_args(argc - optind, 3, 3, "VALUE"))
		return EXIT_USAGE;
	if (cli_check_name(argv[0]) || cli_parse_offset(argv[1], &offset) ||
	    cli_parse_u32(argv[2], "value", &value))
		return EXIT_USAGE;
	if (cli_need_module())
		return EXIT_FAIL;

	if (timeout_arg)
		deadline_after(&timeout, &deadline);
	if (open_word(argv[0], offset, SHMCHAN_OPEN_RDONLY, &ch))
		return EXIT_FAIL;
	status = wait_loop(ch, argv[0], offset, value,
			   timeout_arg ? &deadline : NULL, timeout_arg);
	shmchan_close(ch);
	return status;
}

/* Store @value in the word at @offset, through a mapping of its page. */
static int set_word(struct shmchan *ch, const char *name, uint64_t offset,
		    uint32_t value)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = offset & ~(page - 1);
	void *addr;
	int ret;

	ret = shmchan_map_range(ch, start, page, PROT_READ | PROT_WRITE, &addr);
	if (ret)
		return cli_fail("%s: cannot map it: %s", name, strerror(-ret));
	__atomic_store_n((uint32_t *)((char *)addr + (offset - start)), value,
			 __ATOMIC_SEQ_CST);
	shmchan_unmap(addr, page);
	return EXIT_OK;
}

static int parse_count(const char *s, uint32_t *count)
{
	if (!strcmp(s, "all")) {
		*count = SHMCHAN_WAKE_ALL;
		return 0;
	}
	if (cli_parse_u32(s, "count", count))
		return -1;
	if (!*count) {
		cli_usage("count 0: wakes nobody (use a number from 1, or 'all')");
		return -1;
	}
	return 0;
}

int cmd_wake(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "set",   required_argument, NULL, 's' },
		{ "quiet", no_argument,       NULL, 'q' },
		{ "help",  no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t count = SHMCHAN_WAKE_ALL, value = 0;
	bool set = false, quiet = false;
	struct shmchan *ch;
	uint64_t offset;
	int c, status = EXIT_OK, ret;

	while ((c = cli_getopt(argc, argv, "s:qh", longopts, &status)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_u32(optarg, "value", &value))
				return EXIT_USAGE;
			set = true;
			break;
		case 'q': quiet = true; break;
		default: return status;
		}
	}
	argv += optind;
	if (cli_want_args(argc - optind, 1, 3, "NAME") ||
	    cli_want_args(argc - optind, 2, 3, "OFFSET"))
		return EXIT_USAGE;
	if (cli_check_name(argv[0]) || cli_parse_offset(argv[1], &offset) ||
	    (argc - optind == 3 && parse_count(argv[2], &count)))
		return EXIT_USAGE;
	if (cli_need_module())
		return EXIT_FAIL;

	if (open_word(argv[0], offset, set ? 0 : SHMCHAN_OPEN_RDONLY, &ch))
		return EXIT_FAIL;
	status = set ? set_word(ch, argv[0], offset, value) : EXIT_OK;
	if (!status) {
		ret = shmchan_wake(ch, offset, count);
		if (ret < 0)
			status = cli_chan_fail(argv[0], -ret);
		else if (!quiet)
			printf("woke %d\n", ret);
	}
	shmchan_close(ch);
	return status;
}
