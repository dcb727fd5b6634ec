// SPDX-License-Identifier: GPL-2.0
/*
 * shmchan listing: /proc/shmchan (mode 0444), its header line, one line per
 * channel with the columns STAT reports, state letters (D, R, T or "-"),
 * destroyed channels listed while still in use, and readers seeing only the
 * channels they may open read-only.
 */
#include "shmchan_test.h"

#define LISTING "/proc/shmchan"
#define HEADER "size mode uid gid cuid cgid cpid lpid nmaps nhandles nwaiters ctime deaths state name"

struct entry {
	unsigned long long size, nmaps, nhandles, nwaiters;
	unsigned int mode, uid, gid, cuid, cgid;
	int cpid, lpid;
	long long ctime;
	unsigned int deaths;
	char state[8];
};

/*
 * Look @name up in the listing: 1 and *@e if listed, 0 if not, -errno if
 * the listing cannot be read, -EPROTO for a line that does not parse.
 */
static int lookup(const char *name, struct entry *e)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen(LISTING, "r");

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EPROTO;
	}
	while (fgets(line, sizeof(line), f)) {
		struct entry tmp;
		int pos = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llu %o %u %u %u %u %d %d %llu %llu %llu %lld %u %7s %n",
			   &tmp.size, &tmp.mode, &tmp.uid, &tmp.gid, &tmp.cuid,
			   &tmp.cgid, &tmp.cpid, &tmp.lpid, &tmp.nmaps,
			   &tmp.nhandles, &tmp.nwaiters, &tmp.ctime, &tmp.deaths,
			   tmp.state, &pos) != 14 || !pos) {
			fprintf(stderr, "# unparsable line: %s\n", line);
			found = -EPROTO;
			break;
		}
		if (strcmp(line + pos, name) == 0) {
			*e = tmp;
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

FIXTURE(list) {
	const char *name;
	size_t page;
};

FIXTURE_SETUP(list)
{
	SC_REQUIRE_DEVICE();
	self->page = SC_PAGE;
	self->name = sc_newname("list");
}

FIXTURE_TEARDOWN(list)
{
	sc_cleanup();
}

TEST_F(list, file_mode_and_header)
{
	char line[256] = "";
	struct stat sb;
	FILE *f;

	ASSERT_EQ(0, stat(LISTING, &sb));
	EXPECT_EQ(0444U, (unsigned int)(sb.st_mode & 07777));
	f = fopen(LISTING, "r");
	ASSERT_NE(SC_P(NULL), SC_P(f));
	ASSERT_NE(SC_P(NULL), SC_P(fgets(line, sizeof(line), f)));
	fclose(f);
	EXPECT_STREQ(HEADER "\n", line);
}

/* The columns say what STAT says. */
TEST_F(list, columns_match_stat)
{
	int fd = sc_new(self->name, 3 * self->page, 0640, SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;
	struct entry e;
	void *p;

	ASSERT_LE(0, fd);
	p = sc_map(fd, self->page, PROT_READ, 0);
	ASSERT_NE(SC_P(MAP_FAILED), SC_P(p));
	ASSERT_EQ(0, sc_stat(fd, &st));
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(st.length, e.size);
	EXPECT_EQ((unsigned long long)(3 * self->page), e.size);
	EXPECT_EQ(0640U, e.mode);
	EXPECT_EQ(st.uid, e.uid);
	EXPECT_EQ(st.gid, e.gid);
	EXPECT_EQ(st.cuid, e.cuid);
	EXPECT_EQ(st.cgid, e.cgid);
	EXPECT_EQ((int)getpid(), e.cpid);
	EXPECT_EQ((int)getpid(), e.lpid);
	EXPECT_EQ(1ULL, e.nmaps);
	EXPECT_EQ(1ULL, e.nhandles);
	EXPECT_EQ(0ULL, e.nwaiters);
	EXPECT_EQ((long long)st.ctime_sec, e.ctime);
	EXPECT_EQ(0U, e.deaths);
	EXPECT_STREQ("-", e.state);
	munmap(p, self->page);
	close(fd);
}

/* The deaths column follows STAT: a child that exits holding a handle. */
TEST_F(list, deaths_column)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct shmchan_stat st;
	struct entry e;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(0U, e.deaths);
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fd);
		CHILD_TRUE(sc_attach(self->name, 0) >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, sc_reap(pid, 10000));
	ASSERT_EQ(0, sc_stat(fd, &st));
	EXPECT_EQ(1U, st.deaths);
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(st.deaths, e.deaths);
	close(fd);
}

TEST_F(list, nwaiters_column)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct entry e;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_wait(fd, 0, 0, sc_now_ns() + 30 * SC_NSEC));
		_exit(0);
	}
	ASSERT_EQ(1LL, sc_poll_nwaiters(fd, 1, 10000));
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(1ULL, e.nwaiters);
	EXPECT_EQ(1, sc_wake(fd, 0, 1));
	EXPECT_EQ(0, sc_reap(pid, 10000));
	close(fd);
}

TEST_F(list, state_letters)
{
	const char *tname = sc_newname("listT");
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	int tfd = sc_new(tname, self->page, 0600,
			 SHMCHAN_CREATE_EXCL | SHMCHAN_CREATE_TRANSIENT);
	struct entry e;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(1, lookup(tname, &e));
	EXPECT_STREQ("T", e.state);

	/* Destroyed but in use: still listed, with D. */
	ASSERT_EQ(0, sc_rm(self->name, 0));
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_STREQ("D", e.state);
	EXPECT_EQ(1ULL, e.nhandles);
	ASSERT_EQ(0, sc_rm(tname, SHMCHAN_DESTROY_REVOKE));
	ASSERT_EQ(1, lookup(tname, &e));
	EXPECT_STREQ("DRT", e.state);

	/* Gone for good once unused. */
	close(fd);
	close(tfd);
	EXPECT_EQ(0, lookup(self->name, &e));
	EXPECT_EQ(0, lookup(tname, &e));
}

TEST_F(list, revoked_is_dr)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct entry e;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sc_rm(self->name, SHMCHAN_DESTROY_REVOKE));
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_STREQ("DR", e.state);
	close(fd);
}

TEST_F(list, unused_channel_listed_until_destroyed)
{
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	struct entry e;

	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(0ULL, e.nhandles);
	EXPECT_EQ(0ULL, e.nmaps);
	ASSERT_EQ(0, sc_rm(self->name, 0));
	EXPECT_EQ(0, lookup(self->name, &e));
}

/* The name is the last column, whatever graphic characters it has. */
TEST_F(list, odd_names_parse)
{
	char name[SHMCHAN_NAME_MAX + 1];
	int fd;
	struct entry e;

	snprintf(name, sizeof(name), "%s.%%s#:!~'\"\\%%n", self->name);
	sc_track(name);
	fd = sc_new(name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, lookup(name, &e));
	EXPECT_EQ((unsigned long long)self->page, e.size);
	close(fd);
}

/* Readers see only what they may open read-only; root sees all. */
TEST_F(list, reader_sees_what_it_may_open)
{
	const char *open_name = sc_newname("list644");
	int fd = sc_new(self->name, self->page, 0600, SHMCHAN_CREATE_EXCL);
	int fd2 = sc_new(open_name, self->page, 0644, SHMCHAN_CREATE_EXCL);
	struct entry e;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	if (geteuid() != 0)
		SKIP(goto out, "needs root to switch users");
	EXPECT_EQ(1, lookup(self->name, &e));
	EXPECT_EQ(1, lookup(open_name, &e));
	pid = sc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_EQ(0, sc_become(SC_NOBODY, SC_NOBODY));
		CHILD_EQ(0, lookup(self->name, &e));
		CHILD_EQ(1, lookup(open_name, &e));
		_exit(0);
	}
	EXPECT_EQ(0, sc_reap(pid, 10000));
out:
	close(fd);
	close(fd2);
}

TEST_HARNESS_MAIN
