// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan(1): send and recv, a byte stream through a libshmchan message
 * queue, like a named pipe over shared memory.
 *
 * The stream is a sequence of messages, each a piece of the input, then
 * one empty message that marks its end. So a receiver tells a complete
 * stream (the empty message came) from a sender that died or gave up
 * (-EPIPE before it). Either side may start first: each creates the queue
 * channel if it does not exist, a receiver waits for the first message,
 * and a sender fills the ring and waits for a receiver. Once the whole
 * stream is in, the receiver removes the channel's name (unless --keep),
 * so that the next send/recv pair starts with a fresh queue.
 *
 * Both sides copy nothing themselves: the sender read()s straight into a
 * record reserved in the ring, the receiver write()s straight from the
 * record it peeks at. A message too long to peek at (one sent in rounds
 * by another sender) is received by copy instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_QUEUE_SIZE	(1024 * 1024)

const char cmd_send_help[] =
"Usage: shmchan send [OPTIONS] NAME [FILE]\n"
"\n"
"Stream FILE (default: standard input) through the queue channel NAME to\n"
"'shmchan recv NAME', like a named pipe over shared memory:\n"
"\n"
"  shmchan recv x > copy & shmchan send x < file\n"
"\n"
"The channel is created as a queue if it does not exist; either command may\n"
"start first. The stream may be of any length. send returns once all of it\n"
"is in the queue.\n"
"\n"
"Options:\n"
"  -s, --size SIZE    size of the channel if it is created (default: 1M)\n"
"  -m, --mode MODE    its permission bits (default: 0666 less the umask)\n"
"  -h, --help         show this help\n";

const char cmd_recv_help[] =
"Usage: shmchan recv [OPTIONS] NAME [FILE]\n"
"\n"
"Receive the stream that 'shmchan send NAME' sends through the queue\n"
"channel NAME, and write it to FILE (default: standard output). Ends when\n"
"the whole stream is in, then removes the channel's name so that the next\n"
"stream starts afresh. Fails if the sender quits or dies before the end.\n"
"\n"
"Options:\n"
"  -s, --size SIZE    size of the channel if it is created (default: 1M)\n"
"  -m, --mode MODE    its permission bits (default: 0666 less the umask)\n"
"  -k, --keep         do not remove the channel at the end\n"
"  -h, --help         show this help\n";

struct stream_opts {
	uint64_t size;
	mode_t mode;
	bool keep;
	const char *name;
	const char *file;	/* NULL: standard input or output */
};

/* Returns -1 to go on, else the exit status (--help, bad usage). */
static int parse_stream_args(int argc, char **argv, bool recv,
			     struct stream_opts *o)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep", no_argument,       NULL, 'k' },
		{ "help", no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	mode_t mask = umask(0);
	int c, status = EXIT_OK;

	umask(mask);
	o->size = DEFAULT_QUEUE_SIZE;
	o->mode = 0666 & ~mask;
	o->keep = false;
	while ((c = cli_getopt(argc, argv, recv ? "s:m:kh" : "s:m:h", longopts,
			       &status)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_size(optarg, &o->size))
				return EXIT_USAGE;
			break;
		case 'm':
			if (cli_parse_mode(optarg, &o->mode))
				return EXIT_USAGE;
			break;
		case 'k':
			if (!recv)
				return cli_usage("unknown option '--keep'");
			o->keep = true;
			break;
		default:
			return status;
		}
	}
	if (cli_want_args(argc - optind, 1, 2, "NAME"))
		return EXIT_USAGE;
	o->name = argv[optind];
	o->file = argc - optind == 2 && strcmp(argv[optind + 1], "-") ?
		  argv[optind + 1] : NULL;
	if (cli_check_name(o->name))
		return EXIT_USAGE;
	return cli_need_module() ? EXIT_FAIL : -1;
}

/*
 * Open the queue, or create it at --size if there is none. Not create
 * alone: a size above that of an existing channel would be refused.
 */
static int open_or_create(const struct stream_opts *o, unsigned int role,
			  struct shmchan_queue **q)
{
	int ret, tries;

	for (tries = 0; tries < 3; tries++) {
		ret = shmchan_queue_open(o->name, role, q);
		if (ret != -ENOENT)
			return ret;
		ret = shmchan_queue_create(o->name, o->size, o->mode,
					   role | SHMCHAN_QUEUE_EXCL, q);
		/* Made by the other side meanwhile: open that one. */
		if (ret != -EEXIST)
			return ret;
	}
	return ret;
}

static int open_queue(const struct stream_opts *o, unsigned int role,
		      struct shmchan_queue **q)
{
	int ret = open_or_create(o, role, q);

	switch (ret) {
	case 0:
		return EXIT_OK;
	case -EPROTO:
		return cli_fail("%s: not a queue channel (made by 'shmchan create'?, or by another version): remove it or use another name",
				o->name);
	case -EUSERS:
		return cli_fail("%s: the queue has as many peers as it can take",
				o->name);
	case -EINVAL:
		return cli_fail("%s: a queue needs at least 8192 bytes (--size)",
				o->name);
	}
	return cli_chan_fail(o->name, -ret);
}

/* ----------------------------------------------------------------- send */

/*
 * Read one piece of the input into a reserved record and send it. Returns
 * its length, 0 at the end of the input, or -errno: of the queue, or of
 * the input with *input set.
 */
static ssize_t send_piece(struct shmchan_queue *q, int fd, size_t chunk,
			  bool *input)
{
	void *ptr;
	ssize_t n;
	int ret;

	do
		ret = shmchan_queue_reserve(q, chunk, &ptr, SHMCHAN_FOREVER);
	while (ret == -EINTR);
	if (ret)
		return ret;
	do
		n = read(fd, ptr, chunk);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		ret = n < 0 ? -errno : 0;
		*input = n < 0;
		shmchan_queue_cancel(q);
		return ret;
	}
	ret = shmchan_queue_commit(q, (size_t)n);
	return ret ? ret : n;
}

static int send_end(struct shmchan_queue *q)
{
	int ret;

	do
		ret = shmchan_queue_send(q, "", 0, SHMCHAN_FOREVER);
	while (ret == -EINTR);
	return ret;
}

static int send_fail(const struct stream_opts *o, int err, bool reading,
		     uint64_t sent)
{
	if (reading)
		return cli_fail("%s: %s", o->file ? o->file : "standard input",
				strerror(err));
	if (err == EPIPE && !sent)
		return cli_fail("%s: its receivers have left (remove it with 'shmchan rm %s' to start a new stream)",
				o->name, o->name);
	if (err == EPIPE)
		return cli_fail("%s: the receiver left after %" PRIu64 " bytes",
				o->name, sent);
	return cli_chan_fail(o->name, err);
}

static int send_stream(struct shmchan_queue *q, int fd,
		       const struct stream_opts *o)
{
	struct shmchan_queue_info info;
	uint64_t sent = 0;
	bool input = false;
	size_t chunk;
	ssize_t n;
	int ret;

	ret = shmchan_queue_info(q, &info);
	if (ret)
		return cli_chan_fail(o->name, -ret);
	/* A quarter of the ring: the receiver drains while we fill. */
	chunk = info.round_size ? info.round_size : info.max_msg;

	while ((n = send_piece(q, fd, chunk, &input)) > 0)
		sent += (uint64_t)n;
	if (n < 0)
		return send_fail(o, (int)-n, input, sent);
	ret = send_end(q);
	if (ret)
		return send_fail(o, -ret, false, sent);
	return EXIT_OK;
}

int cmd_send(int argc, char **argv)
{
	struct stream_opts o;
	struct shmchan_queue *q;
	int fd = STDIN_FILENO, status;

	status = parse_stream_args(argc, argv, false, &o);
	if (status >= 0)
		return status;
	if (o.file) {
		struct stat sb;

		fd = open(o.file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cli_fail("%s: %s", o.file, strerror(errno));
		/* Before the queue is made: a directory opens but never reads. */
		if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			close(fd);
			return cli_fail("%s: %s", o.file, strerror(EISDIR));
		}
	}
	status = open_queue(&o, SHMCHAN_QUEUE_SEND, &q);
	if (!status) {
		status = send_stream(q, fd, &o);
		shmchan_queue_close(q);
	}
	if (o.file)
		close(fd);
	return status;
}

/* ----------------------------------------------------------------- recv */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct receiver {
	struct shmchan_queue *q;
	int fd;
	void *buf;		/* for messages received by copy */
	size_t cap;
	uint64_t received;
};

/*
 * A message sent in rounds cannot be peeked at: receive it by copy into a
 * buffer grown to fit. Returns its length or -errno.
 */
static ssize_t recv_copy(struct receiver *r)
{
	int64_t len;
	ssize_t n;
	void *buf;

	for (;;) {
		n = shmchan_queue_recv(r->q, r->buf, r->cap, SHMCHAN_FOREVER);
		if (n != -EMSGSIZE && n != -EINTR)
			break;
		if (n == -EINTR)
			continue;
		len = shmchan_queue_peek_len(r->q, SHMCHAN_FOREVER);
		if (len < 0)
			return (ssize_t)len;
		buf = realloc(r->buf, (size_t)len);
		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = (size_t)len;
	}
	if (n > 0) {
		int ret = write_all(r->fd, r->buf, (size_t)n);

		if (ret)
			return -EIO;
	}
	return n;
}

/*
 * Receive one message and write it out. Returns its length (0 for the end
 * of the stream), -EIO for an output error (errno set), or -errno.
 */
static ssize_t recv_piece(struct receiver *r)
{
	const void *ptr;
	ssize_t n;
	int ret;

	do
		n = shmchan_queue_peek(r->q, &ptr, SHMCHAN_FOREVER);
	while (n == -EINTR);
	if (n == -EMSGSIZE)
		return recv_copy(r);
	if (n < 0)
		return n;
	ret = n ? write_all(r->fd, ptr, (size_t)n) : 0;
	shmchan_queue_release(r->q);
	if (ret) {
		errno = -ret;
		return -EIO;
	}
	return n;
}

static int recv_stream(struct receiver *r, const struct stream_opts *o)
{
	ssize_t n;

	while ((n = recv_piece(r)) > 0)
		r->received += (uint64_t)n;
	if (n == -EIO)
		return cli_fail("%s: %s", o->file ? o->file : "standard output",
				strerror(errno));
	if (n == -EPIPE)
		return cli_fail("%s: the sender left before the end of the stream (%" PRIu64 " bytes received)",
				o->name, r->received);
	if (n < 0)
		return cli_chan_fail(o->name, (int)-n);
	return EXIT_OK;
}

static int open_output(const struct stream_opts *o)
{
	int fd;

	if (!o->file)
		return STDOUT_FILENO;
	fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		cli_msg("%s: %s", o->file, strerror(errno));
	return fd;
}

int cmd_recv(int argc, char **argv)
{
	struct receiver r = { 0 };
	struct stream_opts o;
	int status, ret;

	status = parse_stream_args(argc, argv, true, &o);
	if (status >= 0)
		return status;
	r.fd = open_output(&o);
	if (r.fd < 0)
		return EXIT_FAIL;
	status = open_queue(&o, SHMCHAN_QUEUE_RECV, &r.q);
	if (!status) {
		status = recv_stream(&r, &o);
		/* Done with this stream, or it broke: the next starts afresh. */
		if (!o.keep) {
			ret = shmchan_destroy(o.name, 0);
			if (ret && ret != -ENOENT && !status)
				status = cli_chan_fail(o.name, -ret);
		}
		shmchan_queue_close(r.q);
	}
	free(r.buf);
	if (o.file && close(r.fd) && !status)
		status = cli_fail("%s: %s", o.file, strerror(errno));
	return status;
}
