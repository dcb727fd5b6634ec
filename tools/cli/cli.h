/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmchan(1): what the subcommands share.
 *
 * Conventions, kept by every subcommand:
 *   - a subcommand is `int cmd_NAME(int argc, char **argv)`, argv[0] being
 *     its own name; it returns the process's exit status;
 *   - exit status EXIT_OK on success, EXIT_FAIL on an operational error
 *     (with a message "shmchan: CMD: WHAT: REASON" on stderr), EXIT_USAGE
 *     on bad usage (the message, then a pointer to --help);
 *   - names, sizes and numbers are checked here before anything reaches
 *     the kernel;
 *   - every handle is closed and every mapping unmapped before return, so
 *     that the module never takes the command's exit for a peer's death.
 */
#ifndef SHMCHAN_CLI_H
#define SHMCHAN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <shmchan.h>

/* The project's version: tools/cli/Makefile passes it from tools/version. */
#ifndef SHMCHAN_TOOL_VERSION
#error "SHMCHAN_TOOL_VERSION is not defined: build with tools/cli/Makefile"
#endif

/* Where the module publishes things, besides SHMCHAN_DEVICE. */
#define SHMCHAN_PROC_LISTING	"/proc/shmchan"
#define SHMCHAN_SYS_MODULE	"/sys/module/shmchan"
#define SHMCHAN_MODULE_NAME	"shmchan"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* A subcommand: its name, its entry point and its --help text. */
struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;	/* one line, for `shmchan --help` */
	const char *help;	/* the whole text of `shmchan NAME --help` */
};

/* The subcommand being run; messages are prefixed with its name. */
extern const struct cli_cmd *cli_current;

/* ------------------------------------------------------------ messages */

/* "shmchan: CMD: ...\n" on stderr. */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_msg(), then EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_msg(), a pointer to --help, then EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse the options of the current subcommand. -h/--help is added to
 * @longopts' meaning by the caller listing it ({"help", no_argument, NULL,
 * 'h'}) and handled here: the help is printed and *status set to EXIT_OK.
 * Returns the option character, -1 at the end, or '?' after an unknown
 * option or a missing argument (the message is printed and *status set to
 * EXIT_USAGE); the caller returns *status for both.
 */
int cli_getopt(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *status);

/* Usage checks of positional arguments after cli_getopt(). */
int cli_want_args(int argc, int min, int max, const char *what);

/* -------------------------------------------------------------- parsing */

/* Each prints its own usage message and returns -1 when @s is bad. */
int cli_check_name(const char *name);
int cli_parse_size(const char *s, uint64_t *out);
int cli_parse_mode(const char *s, mode_t *out);
int cli_parse_u32(const char *s, const char *what, uint32_t *out);
int cli_parse_u64(const char *s, const char *what, uint64_t *out);
int cli_parse_offset(const char *s, uint64_t *out);
int cli_parse_duration(const char *s, struct timespec *out);

/* ------------------------------------------------------------ formatting */

/* "4.0K", "256M", "1.5G": ls -h style, into @buf of at least 8 bytes. */
const char *cli_human_size(uint64_t bytes, char *buf, size_t len);
/* "0660" */
const char *cli_mode_octal(unsigned int mode, char *buf, size_t len);
/* "rw-rw----" */
const char *cli_mode_rwx(unsigned int mode, char *buf, size_t len);
/* The user or group name, or the number when it has none. */
const char *cli_user_name(uid_t uid, char *buf, size_t len);
const char *cli_group_name(gid_t gid, char *buf, size_t len);
/* "2026-11-27 05:06:01" in local time */
const char *cli_time(int64_t sec, char *buf, size_t len);
/* A JSON string literal for @s, quotes included. */
void cli_json_string(FILE *out, const char *s);

/* ------------------------------------------------------------ the module */

/* true if the control device exists (the module is loaded). */
bool cli_module_loaded(void);
/*
 * Fails with "module not loaded" unless the device exists. Returns 0 or
 * EXIT_FAIL (after the message).
 */
int cli_need_module(void);
/*
 * The message for @err (a positive errno value) returned by a call on the
 * channel @name: "no such channel", "channel exists", or the module's
 * limits spelled out for ENOSPC, EDQUOT and EFBIG.
 */
int cli_chan_fail(const char *name, int err);
/* A module parameter from /sys/module/shmchan/parameters, or -errno. */
int cli_module_param(const char *param, uint64_t *out);

/* ------------------------------------------------------------- listing */

/* One line of /proc/shmchan. */
struct chan_info {
	char name[SHMCHAN_NAME_MAX + 1];
	uint64_t size;
	unsigned int mode;
	uint32_t uid, gid, cuid, cgid;
	int32_t cpid, lpid;
	uint64_t nmaps, nhandles, nwaiters;
	int64_t ctime;
	unsigned int state;		/* SHMCHAN_STATE_* */
	bool has_deaths;		/* a module that lists them */
	uint32_t deaths;
};

struct chan_list {
	struct chan_info *v;
	size_t n;
};

/*
 * Read /proc/shmchan, sorted by name (a destroyed channel after the live
 * one of its name). Returns 0, -ENOENT when there is no listing, -EPROTO
 * when its format is not understood, or another -errno.
 */
int chan_list_read(struct chan_list *list);
void chan_list_free(struct chan_list *list);
/* The live (not destroyed) channel called @name, or NULL. */
const struct chan_info *chan_list_find(const struct chan_list *list,
				       const char *name);
/* Reads the listing, or prints why it cannot and returns EXIT_FAIL. */
int cli_read_listing(struct chan_list *list);
/* "destroyed,revoked", "transient" or "-" */
const char *chan_state_words(unsigned int state, char *buf, size_t len);
/* One channel as a JSON object (no newline). */
void chan_info_json(FILE *out, const struct chan_info *c);

/* --------------------------------------------------------- subcommands */

int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_wake(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_status(int argc, char **argv);

extern const char cmd_ls_help[], cmd_stat_help[], cmd_create_help[],
	cmd_resize_help[],
	cmd_rm_help[], cmd_send_help[], cmd_recv_help[], cmd_wait_help[],
	cmd_wake_help[], cmd_load_help[], cmd_unload_help[],
	cmd_status_help[];

#endif /* SHMCHAN_CLI_H */
