// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan demo: two processes share a channel through the raw ioctl ABI
 * of <linux/shmchan.h> (no library).
 *
 * The parent creates the transient channel "demo", maps it and forks. The
 * child opens the channel by name, maps it at an address of its own and
 * sleeps in SHMCHAN_IOC_WAIT while a word of the channel is 0. The parent
 * writes a message, sets the word to 1 and wakes the child with
 * SHMCHAN_IOC_WAKE; the child prints the message. Then the parent
 * destroys the channel.
 *
 * Needs shmchan.ko loaded: `make demo` runs it in the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/shmchan.h>
#include <shmchan.h>

#define CHANNEL		"demo"
#define LENGTH		4096
#define TIMEOUT_SEC	10

/* What the two processes agree to keep in the channel. */
struct demo_page {
	uint32_t ready;		/* 0 until the message is written, then 1 */
	uint32_t pad;
	char message[128];
};

#define READY_OFFSET	offsetof(struct demo_page, ready)

static const char *who = "parent";

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("[%-6s %5d] ", who, (int)getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void die(const char *what)
{
	fprintf(stderr, "[%-6s %5d] error: %s: %s\n", who, (int)getpid(),
		what, strerror(errno));
	exit(1);
}

static int open_device(void)
{
	int fd = open(SHMCHAN_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " SHMCHAN_DEVICE " (is shmchan.ko loaded?)");
	return fd;
}

static struct demo_page *map_channel(int fd, int prot)
{
	void *p = mmap(NULL, LENGTH, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct shmchan_stat stat_channel(int fd)
{
	struct shmchan_stat st = { .size = sizeof(st) };

	if (ioctl(fd, SHMCHAN_IOC_STAT, &st) < 0)
		die("SHMCHAN_IOC_STAT");
	return st;
}

static void print_stat(int fd)
{
	struct shmchan_stat st = stat_channel(fd);

	say("stat: %llu bytes, mode %o, %llu mapping(s), %llu handle(s), %llu waiter(s)%s",
	    (unsigned long long)st.length, st.mode,
	    (unsigned long long)st.nmaps, (unsigned long long)st.nhandles,
	    (unsigned long long)st.nwaiters,
	    st.state & SHMCHAN_STATE_TRANSIENT ? ", transient" : "");
}

/* The child: open by name, map, wait for the word, read the message. */
static int child(int inherited_fd, struct demo_page *inherited)
{
	struct shmchan_open op = {
		.size = sizeof(op),
		.flags = SHMCHAN_OPEN_RDONLY,
		.name = (uintptr_t)CHANNEL,
	};
	struct shmchan_wait wt = {
		.size = sizeof(wt),
		.flags = SHMCHAN_WAIT_DEADLINE,
		.offset = READY_OFFSET,
		.expected = 0,
		.deadline_ns = monotonic_ns() + TIMEOUT_SEC * 1000000000ULL,
	};
	struct demo_page *page;
	int fd;

	who = "child";
	fd = open_device();
	if (ioctl(fd, SHMCHAN_IOC_OPEN, &op) < 0)
		die("SHMCHAN_IOC_OPEN \"" CHANNEL "\"");
	page = map_channel(fd, PROT_READ);
	say("opened \"%s\" by name (read-only), mapped at %p (the parent's mapping is at %p)",
	    CHANNEL, (void *)page, (void *)inherited);

	/* Keep only our own handle and mapping, not those fork() copied. */
	munmap(inherited, LENGTH);
	close(inherited_fd);

	say("sleeping in SHMCHAN_IOC_WAIT while word %zu is 0", READY_OFFSET);
	while (__atomic_load_n(&page->ready, __ATOMIC_ACQUIRE) == 0) {
		if (ioctl(fd, SHMCHAN_IOC_WAIT, &wt) == 0) {
			say("woken up");
		} else if (errno != EAGAIN && errno != EINTR) {
			die("SHMCHAN_IOC_WAIT");
		}
	}
	say("word %zu is now %u; message read from the channel: \"%s\"",
	    READY_OFFSET, page->ready, page->message);
	return 0;
}

/* Wait until the child sleeps in SHMCHAN_IOC_WAIT, so the wake finds it. */
static void wait_for_waiter(int fd)
{
	uint64_t deadline = monotonic_ns() + TIMEOUT_SEC * 1000000000ULL;

	while (stat_channel(fd).nwaiters == 0) {
		if (monotonic_ns() > deadline) {
			say("the child is not waiting after %d s; waking anyway",
			    TIMEOUT_SEC);
			return;
		}
		usleep(10000);
	}
}

/* The queue part: libshmchan streams messages through a small channel. */
#define QUEUE_NAME	"demo-queue"
#define QUEUE_LENGTH	(256 << 10)
#define STREAM_MSG	(64 << 10)
#define STREAM_TOTAL	(64ULL << 20)

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The receiving child: sums what arrives until the empty end marker. */
static int stream_receiver(void)
{
	static unsigned char buf[STREAM_MSG];
	struct shmchan_queue *q;
	uint64_t sum = 0xcbf29ce484222325ULL, bytes = 0;
	ssize_t n;
	int ret;

	who = "receiver";
	ret = shmchan_queue_open(QUEUE_NAME, SHMCHAN_QUEUE_RECV, &q);
	if (ret < 0) {
		say("shmchan_queue_open: %s", strerror(-ret));
		return 1;
	}
	while ((n = shmchan_queue_recv(q, buf, sizeof(buf), SHMCHAN_FOREVER)) > 0) {
		sum = fnv1a(sum, buf, n);
		bytes += n;
	}
	shmchan_queue_close(q);
	if (n < 0) {
		say("shmchan_queue_recv: %s", strerror((int)-n));
		return 1;
	}
	say("received %llu MiB, checksum %016llx",
	    (unsigned long long)(bytes >> 20), (unsigned long long)sum);
	return 0;
}

static int stream_demo(void)
{
	static unsigned char msg[STREAM_MSG];
	uint64_t sum = 0xcbf29ce484222325ULL, sent;
	struct shmchan_queue *q;
	int ret, status;
	double start, secs;
	pid_t pid;

	ret = shmchan_queue_create(QUEUE_NAME, QUEUE_LENGTH, 0600,
				   SHMCHAN_QUEUE_SEND | SHMCHAN_QUEUE_EXCL |
				   SHMCHAN_QUEUE_TRANSIENT, &q);
	if (ret < 0) {
		say("shmchan_queue_create: %s", strerror(-ret));
		return 1;
	}
	say("queue \"%s\" on a %d KiB channel: streaming %llu MiB in %d KiB messages",
	    QUEUE_NAME, QUEUE_LENGTH >> 10,
	    (unsigned long long)(STREAM_TOTAL >> 20), STREAM_MSG >> 10);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(stream_receiver());

	start = now_sec();
	for (sent = 0; sent < STREAM_TOTAL && ret == 0; sent += STREAM_MSG) {
		memset(msg, (int)(sent / STREAM_MSG), sizeof(msg));
		sum = fnv1a(sum, msg, sizeof(msg));
		ret = shmchan_queue_send(q, msg, sizeof(msg), SHMCHAN_FOREVER);
	}
	if (ret == 0)	/* the end marker */
		ret = shmchan_queue_send(q, msg, 0, SHMCHAN_FOREVER);
	if (ret < 0)
		say("shmchan_queue_send: %s", strerror(-ret));
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	secs = now_sec() - start;
	shmchan_queue_close(q);
	if (ret < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	say("sent %llu MiB, checksum %016llx, in %.2f s: %.0f MiB/s",
	    (unsigned long long)(sent >> 20), (unsigned long long)sum, secs,
	    (sent >> 20) / secs);
	return 0;
}

int main(void)
{
	struct shmchan_create cr = {
		.size = sizeof(cr),
		.flags = SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT,
		.name = (uintptr_t)CHANNEL,
		.length = LENGTH,
		.mode = 0600,
	};
	struct shmchan_wake wk = {
		.size = sizeof(wk),
		.offset = READY_OFFSET,
		.count = 1,
	};
	struct shmchan_destroy ds = {
		.size = sizeof(ds),
		.name = (uintptr_t)CHANNEL,
	};
	struct shmchan_open op = {
		.size = sizeof(op),
		.name = (uintptr_t)CHANNEL,
	};
	struct demo_page *page;
	int fd, woken, status;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open_device();
	if (ioctl(fd, SHMCHAN_IOC_CREATE, &cr) < 0)
		die("SHMCHAN_IOC_CREATE \"" CHANNEL "\"");
	page = map_channel(fd, PROT_READ | PROT_WRITE);
	say("created channel \"%s\" (%llu bytes, transient), mapped at %p",
	    CHANNEL, (unsigned long long)cr.length, (void *)page);

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(child(fd, page));

	wait_for_waiter(fd);
	print_stat(fd);

	snprintf(page->message, sizeof(page->message),
		 "hello from process %d", (int)getpid());
	__atomic_store_n(&page->ready, 1, __ATOMIC_RELEASE);
	woken = ioctl(fd, SHMCHAN_IOC_WAKE, &wk);
	if (woken < 0)
		die("SHMCHAN_IOC_WAKE");
	say("wrote \"%s\", set word %zu to 1; SHMCHAN_IOC_WAKE woke %d waiter(s)",
	    page->message, READY_OFFSET, woken);

	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("the child failed (wait status %#x)", status);
		return 1;
	}
	say("the child exited");
	print_stat(fd);

	if (ioctl(fd, SHMCHAN_IOC_DESTROY, &ds) < 0)
		die("SHMCHAN_IOC_DESTROY");
	close(fd);
	fd = open_device();
	if (ioctl(fd, SHMCHAN_IOC_OPEN, &op) == 0 || errno != ENOENT) {
		say("\"%s\" can still be opened after SHMCHAN_IOC_DESTROY", CHANNEL);
		return 1;
	}
	say("destroyed \"%s\": opening it now fails with ENOENT", CHANNEL);
	munmap(page, LENGTH);
	close(fd);

	if (stream_demo())
		return 1;
	printf("demo: OK\n");
	return 0;
}
