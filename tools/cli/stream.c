// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): send and recv, a byte stream through a libshmchan message
 * queue. Placeholder until the queue API exists in libshmchan.
 */
#include "cli.h"

const char cmd_send_help[] =
"Usage: shmchan send [OPTIONS] NAME [FILE]\n";

const char cmd_recv_help[] =
"Usage: shmchan recv [OPTIONS] NAME [FILE]\n";

int cmd_send(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("not available: libshmchan has no message queue yet");
}

int cmd_recv(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("not available: libshmchan has no message queue yet");
}
