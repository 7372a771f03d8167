/*
 * test_img_unix.c - unix sockets: the reader's checks of UNIX_MSG records
 * (libckpt/img_unix.c) and of the UNIX kind's data (fds/fd_unix.c), and
 * the checkpoint's reading of queues in this very process (fds/
 * fd_unix_queue.c): every message seen with its length, credentials and
 * sender, the peers linked, and every queue left as it was (the program's
 * SO_PEEK_OFF and SO_PASSCRED too).
 */
#define FD_SAVE		/* the save half of fds/ (the pic objects linked here have it) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fds/fd_unix.h"
#include "libckpt/ckpt.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

/* A UNIX_MSG record (m, then tail) read back: the checker's verdict. */
static int msg_ok(const struct img_unix_msg *m, const void *tail, size_t tlen)
{
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	int fd = trw_memfd(), ok;

	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_UNIX_MSG, m, sizeof(*m), tail, tlen);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	ok = img_get_unix_msg(&r, &rec) != NULL;
	img_reader_close(&r);
	close(fd);
	return ok;
}

static void test_check_msg(void)
{
	/* 2 fds (files 3, 4), a 6-byte address, 5 bytes */
	const unsigned char tail[] = { 3, 0, 0, 0, 4, 0, 0, 0, 0, 'a', 'b', 's', 'x', 'y',
				       'h', 'e', 'l', 'l', 'o' };
	const struct img_unix_msg good = { .file = 2, .how = IMG_UNIX_FROM_SOCKET, .len = 5,
					   .nfds = 2, .addr_len = 6, .sender = 77,
					   .flags = IMG_UNIX_MSG_CREDS, .pid = 10, .uid = 1, .gid = 2 };
	struct img_unix_msg m = good;
	const unsigned char zero_fd[] = { 0, 0, 0, 0 };

	CU_ASSERT(msg_ok(&good, tail, sizeof(tail)));
	m.nfds = 0;
	m.addr_len = 0;
	m.len = 0;
	m.how = IMG_UNIX_FROM_PEER;
	m.sender = 0;
	m.flags = 0;
	m.pid = m.uid = m.gid = 0;
	CU_ASSERT(msg_ok(&m, NULL, 0));		/* an empty datagram */
	trw_expect_get(IMG_REC_UNIX_MSG, &good, sizeof(good), tail, sizeof(tail) - 1,
		       "payload bytes for 2 fds");
	m = good;
	m.how = 4;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "how 4");
	m = good;
	m.how = IMG_UNIX_FROM_PEER;	/* a sender only for FROM_SOCKET */
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "sender 77");
	m = good;
	m.flags = 0;			/* credentials without the flag */
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "pid 10");
	m = good;
	m.pid = 0;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "pid 0");
	m = good;
	m.file = 0;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "file 0");
	m = good;
	m.reserved = 1;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "corrupt");
	m = good;
	m.addr_len = 200;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "200-byte address");
	m = good;
	m.nfds = 300;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "300 fds");
	m = good;
	m.len = IMG_UNIX_MSG_MAX + 1;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), tail, sizeof(tail), "corrupt");
	m = good;
	m.nfds = 1;
	m.addr_len = 0;
	m.len = 0;
	trw_expect_get(IMG_REC_UNIX_MSG, &m, sizeof(m), zero_fd, 4, "names file 0");
	trw_expect_get(IMG_REC_UNIX_MSG, &good, 20, NULL, 0, "not a valid UNIX_MSG");
}

/* A FILE record of kind UNIX with k (and names), refused with part (NULL: accepted). */
static void expect_unix(const struct img_file_unix *k, const char *names, const char *part)
{
	unsigned char tail[512];
	size_t dlen = sizeof(*k) + k->name_len + k->peer_name_len;
	struct img_file f = { .id = 4, .kind = IMG_FILE_UNIX, .mode = 0140777, .flags = O_RDWR,
			      .ino = 100, .path_len = 13, .data_len = (uint32_t)dlen };

	memcpy(tail, k, sizeof(*k));
	memcpy(tail + sizeof(*k), names, k->name_len + k->peer_name_len);
	memcpy(tail + dlen, "socket:[100]x", 13);
	if (part) {
		trw_expect_get(IMG_REC_FILE, &f, sizeof(f), tail, dlen + 13, part);
	} else {
		static unsigned char buf[4096];
		struct img_writer w;
		struct img_header h = { .pid = 1 };
		struct img_reader r;
		struct img_rec rec;
		int fd = trw_memfd();

		img_writer_init(&w, fd, buf, sizeof(buf));
		img_write_header(&w, &h);
		img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), tail, dlen + 13);
		CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
		CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
		CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
		CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
		if (!img_get_file(&r, &rec))
			fprintf(stderr, "\nrefused: %s\n", r.err);
		CU_ASSERT_PTR_NOT_NULL(img_get_file(&r, &rec));
		img_reader_close(&r);
		close(fd);
	}
}

static void test_check_kind(void)
{
	const struct img_file_unix pair = { .type = SOCK_STREAM, .state = IMG_UNIX_CONNECTED,
					    .peer = 101, .peek_off = -1 };
	struct img_file_unix k = pair;

	expect_unix(&pair, "", NULL);
	k.state = IMG_UNIX_LISTEN;
	k.peer = 0;
	k.backlog = 5;
	k.name_len = 6;
	expect_unix(&k, "/tmp/x", NULL);
	k.type = SOCK_DGRAM;		/* datagram sockets do not listen */
	expect_unix(&k, "/tmp/x", "not a state a socket can be in");
	k = pair;
	k.type = 3;			/* SOCK_RAW */
	expect_unix(&k, "", "type 3");
	k = pair;
	k.peer = 0;			/* connected, no peer, not gone */
	expect_unix(&k, "", "not a state");
	k.uflags = IMG_UNIX_PEER_GONE | IMG_UNIX_PEER_RESET;
	expect_unix(&k, "", NULL);
	k = pair;
	k.uflags = IMG_UNIX_PEER_RESET;	/* reset needs a gone peer */
	expect_unix(&k, "", "not a state");
	k = pair;
	k.uflags = IMG_UNIX_ACCEPTED;	/* accepted needs its listener's name */
	expect_unix(&k, "", "not a state");
	k.name_len = 7;
	expect_unix(&k, "\0abcdef", NULL);
	k = pair;
	k.state = IMG_UNIX_PENDING;	/* waiting needs a listener, no peer */
	k.peer = 0;
	expect_unix(&k, "", "not a state");
	k.listener = 9;
	k.backlog = 2;
	expect_unix(&k, "", NULL);
	k = pair;
	k.peer = 100;			/* itself */
	expect_unix(&k, "", "not a state");
	k = pair;
	k.name_len = 6;
	k.peer_name_len = 200;
	expect_unix(&k, "/tmp/x", "kind data do not hold its names");
	k = pair;
	k.uflags = 0x100;
	expect_unix(&k, "", "flags 0x100");
	k = pair;
	k.peek_off = -2;
	expect_unix(&k, "", "not a state");
	k = pair;
	k.uflags = IMG_UNIX_NAME_GONE;	/* only a path name can be gone */
	k.name_len = 4;
	expect_unix(&k, "\0abc", "not a state");
}

/* The checkpoint's table of this process's unix sockets (pass 0), fd's entry. */
static struct usk_sock *entry(struct ckpt_ctx *c, int fd)
{
	struct stat st;

	CU_ASSERT_FATAL(fstat(fd, &st) == 0);
	return usk_find(usk_state(c), st.st_ino);
}

static void test_capture(void)
{
	struct ckpt_ctx c;
	int dg[2], st[2], one = 1, off = 0, v;
	socklen_t l = sizeof(v);
	char buf[16];
	struct usk_sock *a, *b, *s;
	struct usk_state *u;

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0);
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, st) == 0);
	CU_ASSERT(send(dg[0], "one", 3, 0) == 3 && send(dg[0], "", 0, 0) == 0 &&
		  send(dg[0], "three", 5, 0) == 5);
	CU_ASSERT(setsockopt(dg[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0);
	CU_ASSERT(send(dg[0], "4", 1, 0) == 1);		/* with credentials */
	CU_ASSERT(send(st[1], "abc", 3, 0) == 3 && send(st[1], "def", 3, 0) == 3);
	/* the program reads the stream with SO_PEEK_OFF itself */
	CU_ASSERT(setsockopt(st[0], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) == 0);
	CU_ASSERT(recv(st[0], buf, 2, MSG_PEEK) == 2);

	memset(&c, 0, sizeof(c));
	c.img_fd = c.ctl_fd = c.pagemap_fd = c.mem_fd = -1;
	CU_ASSERT_FATAL(ckpt_scratch_map(&c) == 0);
	CU_ASSERT_EQUAL_FATAL(fd_save_begin(&c, 0), 0);
	u = usk_state(&c);
	a = entry(&c, dg[0]);
	b = entry(&c, dg[1]);
	s = entry(&c, st[0]);
	CU_ASSERT_FATAL(a && b && s);
	CU_ASSERT(a->k.state == IMG_UNIX_CONNECTED && a->k.peer == b->ino && b->k.peer == a->ino);
	CU_ASSERT(b->k.uflags & IMG_UNIX_PASSCRED);
	CU_ASSERT_EQUAL(b->nmsg, 4);
	CU_ASSERT_EQUAL(a->nmsg, 0);
	if (b->nmsg == 4) {
		const struct usk_msg *m = &u->msgs[b->msg0];

		CU_ASSERT(m[0].len == 3 && !memcmp(u->data + m[0].data, "one", 3) && m[0].head);
		CU_ASSERT(m[1].len == 0 && !(m[1].flags & IMG_UNIX_MSG_CREDS));
		CU_ASSERT(m[2].len == 5 && !memcmp(u->data + m[2].data, "three", 5));
		CU_ASSERT((m[3].flags & IMG_UNIX_MSG_CREDS) && m[3].pid == getpid() &&
			  m[3].uid == getuid());
		CU_ASSERT(m[0].how == IMG_UNIX_FROM_PEER && m[3].how == IMG_UNIX_FROM_PEER);
	}
	CU_ASSERT_EQUAL(s->k.peek_off, 2);
	CU_ASSERT(s->nmsg >= 1 && u->msgs[s->msg0].len + (s->nmsg > 1 ? u->msgs[s->msg0 + 1].len : 0) == 6);
	CU_ASSERT_EQUAL(fd_save_end(&c, 0, 1), 0);
	munmap(c.scratch, c.scratch_len);

	/* every queue as it was, the program's settings too */
	CU_ASSERT(getsockopt(st[0], SOL_SOCKET, SO_PEEK_OFF, &v, &l) == 0 && v == 2);
	CU_ASSERT(getsockopt(dg[0], SOL_SOCKET, SO_PASSCRED, &v, &l) == 0 && v == 0);
	CU_ASSERT(recv(dg[1], buf, sizeof(buf), MSG_DONTWAIT) == 3);
	CU_ASSERT(recv(dg[1], buf, sizeof(buf), MSG_DONTWAIT) == 0);
	CU_ASSERT(recv(dg[1], buf, sizeof(buf), MSG_DONTWAIT) == 5);
	CU_ASSERT(recv(dg[1], buf, sizeof(buf), MSG_DONTWAIT) == 1);
	CU_ASSERT(recv(dg[1], buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);
	CU_ASSERT(recv(st[0], buf, sizeof(buf), MSG_DONTWAIT) == 6 && !memcmp(buf, "abcdef", 6));
	close(dg[0]);
	close(dg[1]);
	close(st[0]);
	close(st[1]);
}

UNIT_SUITE(img_unix,
	{ "UNIX_MSG: the reader's checks", test_check_msg },
	{ "UNIX kind data: states and fields a socket can have", test_check_kind },
	{ "unix queues read without consuming them", test_capture },
);
