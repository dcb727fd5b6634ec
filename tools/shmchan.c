// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): list, inspect, create and remove shmchan channels, stream
 * data through them, wait and wake from shell scripts, and load or unload
 * the module.
 *
 * This file is the dispatcher: the table of subcommands and the global
 * options. Each subcommand lives in tools/cli/ (see cli.h for the rules
 * they keep).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct cli_cmd commands[] = {
	{ "ls",     cmd_ls,     "list channels, like ipcs -m",       cmd_ls_help },
	{ "stat",   cmd_stat,   "show every attribute of channels",  cmd_stat_help },
	{ "create", cmd_create, "create a channel",                  cmd_create_help },
	{ "resize", cmd_resize, "grow (or shrink) a channel",        cmd_resize_help },
	{ "rm",     cmd_rm,     "remove channels, like ipcrm",       cmd_rm_help },
	{ "send",   cmd_send,   "stream a file into a queue channel", cmd_send_help },
	{ "recv",   cmd_recv,   "stream a queue channel into a file", cmd_recv_help },
	{ "wait",   cmd_wait,   "sleep while a word holds a value",  cmd_wait_help },
	{ "wake",   cmd_wake,   "wake the waiters of a word",        cmd_wake_help },
	{ "load",   cmd_load,   "load shmchan.ko (libkmod)",         cmd_load_help },
	{ "unload", cmd_unload, "unload shmchan.ko",                 cmd_unload_help },
	{ "status", cmd_status, "show the module's state and parameters", cmd_status_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *out)
{
	size_t i;

	fputs("Usage: shmchan COMMAND [OPTIONS] [ARGS]\n"
	      "       shmchan COMMAND --help\n"
	      "\n"
	      "Named shared-memory channels of the shmchan module (/dev/shmchan).\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show the version\n"
	      "\n"
	      "Exit status: 0 on success, 1 on an error, 2 on bad usage.\n"
	      "See shmchan(1) and shmchan(4).\n", out);
}

static int top_usage(const char *fmt, const char *arg)
{
	fputs("shmchan: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'shmchan --help'.\n", stderr);
	return EXIT_USAGE;
}

/* `shmchan help [COMMAND]` */
static int help(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return top_usage("help: no command '%s'", argv[1]);
	fputs(cmd->help, stdout);
	return EXIT_OK;
}

/*
 * A standard descriptor left closed (`>&-`) would be taken by the next
 * open(): the device's, the listing's, or the file given to recv, which
 * would then receive what is meant for stdout or stderr. Hold each closed
 * one with /dev/null opened the wrong way round, so that using it fails
 * with EBADF and is reported as a write (or read) error.
 */
static void hold_closed_std_fds(void)
{
	int fd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free descriptor: @fd. Best effort without /dev. */
		open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
	}
}

static int run(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return help(1, argv);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("shmchan %s\n", SHMCHAN_TOOL_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return top_usage("unknown option '%s'", argv[1]);

	cmd = find_command(argv[1]);
	if (!cmd)
		return top_usage("unknown command '%s'", argv[1]);

	cli_current = cmd;
	return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int status;

	hold_closed_std_fds();
	status = run(argc, argv);
	/* Also for --help and --version: what was asked for was not shown. */
	if (fflush(stdout) || ferror(stdout)) {
		cli_msg("write error on standard output");
		status = EXIT_FAIL;
	}
	return status;
}
