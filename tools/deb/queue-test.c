// SPDX-License-Identifier: GPL-2.0
/*
 * A program outside the tree, as a user of the Debian packages writes one:
 * tools/deb/guest compiles it in the test root with
 * `cc queue-test.c $(pkg-config --cflags --libs shmchan)` against the
 * installed libshmchan-dev and runs it as an ordinary user. It makes a
 * channel, maps it and writes and reads it through the mapping, then makes
 * a queue and sends a message through it to itself. Exit status 0 when all
 * of that worked; otherwise what failed is printed.
 */
#include <shmchan.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "queue-test: %s: %s\n", what, strerror(-err));
	return 1;
}

/* A channel of one page, mapped, written and read back. */
static int channel(const char *name)
{
	static const char text[] = "written through a mapping";
	struct shmchan *ch;
	void *mem;
	int ret;

	ret = shmchan_create(name, 4096, 0600, SHMCHAN_CREATE_EXCL, &ch);
	if (ret < 0)
		return fail("shmchan_create", ret);
	ret = shmchan_map(ch, PROT_READ | PROT_WRITE, &mem);
	if (ret < 0)
		return fail("shmchan_map", ret);
	memcpy(mem, text, sizeof(text));
	if (memcmp(mem, text, sizeof(text)) != 0) {
		fprintf(stderr, "queue-test: the mapping does not read back\n");
		return 1;
	}
	shmchan_unmap(mem, shmchan_length(ch));
	shmchan_close(ch);
	ret = shmchan_destroy(name, 0);
	if (ret < 0)
		return fail("shmchan_destroy", ret);
	printf("queue-test: channel %s made, mapped, written, read, removed\n", name);
	return 0;
}

/* A queue that this process both sends to and receives from. */
static int queue(const char *name)
{
	static const char msg[] = "hello through a queue";
	struct shmchan_queue *q;
	char buf[64] = "";
	ssize_t len;
	int ret;

	ret = shmchan_queue_create(name, 16384, 0600,
				   SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_RECV |
				   SHMCHAN_QUEUE_EXCL | SHMCHAN_QUEUE_TRANSIENT, &q);
	if (ret < 0)
		return fail("shmchan_queue_create", ret);
	ret = shmchan_queue_send(q, msg, sizeof(msg), SHMCHAN_MSEC(10000));
	if (ret < 0)
		return fail("shmchan_queue_send", ret);
	len = shmchan_queue_recv(q, buf, sizeof(buf), SHMCHAN_MSEC(10000));
	if (len < 0)
		return fail("shmchan_queue_recv", (int)len);
	if (len != (ssize_t)sizeof(msg) || memcmp(buf, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "queue-test: received %zd bytes, not the message\n", len);
		return 1;
	}
	shmchan_queue_close(q);
	printf("queue-test: queue %s carried \"%s\"\n", name, buf);
	return 0;
}

int main(void)
{
	char name[64];

	snprintf(name, sizeof(name), "deb-check-map-%d", (int)getpid());
	if (channel(name))
		return 1;
	snprintf(name, sizeof(name), "deb-check-queue-%d", (int)getpid());
	return queue(name);
}
