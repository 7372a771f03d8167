/*
 * test_img_ipc.c - the IPC records' checkers (libckpt/img_ipc.c): a good
 * record of each kind is accepted and walked; each field out of range is
 * refused with a message naming it; a VMA named like a SysV attach must
 * be one; the POSIX queue kind's own checks (fds/fd_mqueue.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fds/fd_kind.h"
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

/* The checker of `type` accepts (a || b): the struct it returns. */
static const void *expect_ok(uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	static unsigned char buf[8192], keep[8192];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct img_reader r;
	struct img_rec rec;
	const void *got = NULL;
	int fd = trw_memfd();

	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, type, a, alen, b, blen);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	switch (type) {
	case IMG_REC_SYSV_SHM: got = img_get_sysv_shm(&r, &rec); break;
	case IMG_REC_SYSV_SEM: got = img_get_sysv_sem(&r, &rec); break;
	case IMG_REC_SYSV_MSG: got = img_get_sysv_msg(&r, &rec); break;
	case IMG_REC_MQ_MSGS:  got = img_get_mq_msgs(&r, &rec); break;
	case IMG_REC_VMA:      got = img_get_vma(&r, &rec); break;
	}
	if (!got)
		fprintf(stderr, "\nrefused: %s\n", r.err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	memcpy(keep, got, rec.len < sizeof(keep) ? rec.len : sizeof(keep));
	img_reader_close(&r);
	close(fd);
	return keep;
}

static const struct img_sysv_perm perm = { .id = 32769, .key = 0x5e000000, .mode = 0640,
					   .uid = 1000, .gid = 1000, .cuid = 1000, .cgid = 1000 };

static void test_shm(void)
{
	struct img_sysv_shm good = { .perm = perm, .size = 12388, .cpid = 7, .nattch = 2 }, m;

	expect_ok(IMG_REC_SYSV_SHM, &good, sizeof(good), NULL, 0);
	m = good;
	m.perm.mode = IMG_SHM_DEST | 0600;
	m.perm.key = 0;				/* removed: the kernel made it IPC_PRIVATE */
	expect_ok(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0);
	m.perm.key = 5;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "key 0x5, mode 01600");
	m = good;
	m.perm.id = -1;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "id -1");
	m = good;
	m.perm.mode = 04640;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "mode 04640");
	m = good;
	m.perm.flags = 2;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "flags 0x2");
	m = good;
	m.size = 0;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "size 0");
	m = good;
	m.reserved = 1;
	trw_expect_get(IMG_REC_SYSV_SHM, &m, sizeof(m), NULL, 0, "SYSV_SHM record at offset 128 is corrupt");
	trw_expect_get(IMG_REC_SYSV_SHM, &good, sizeof(good), "x", 1, "81 bytes");
	trw_expect_get(IMG_REC_SYSV_SHM, &good, 20, NULL, 0, "too short");
}

static void test_sem(void)
{
	struct img_sysv_sem set = { .kind = IMG_SEM_SET, .nsems = 3, .perm = perm }, m;
	struct img_sem vals[3] = { { 5, 0, 1 }, { 0, 0, 1 }, { 32767, 0, 1 } }, bad[3];
	struct img_sysv_sem undo = { .kind = IMG_SEM_UNDO, .nsems = 2, .perm = { .id = 32769 } }, u;
	struct img_semadj adj[2] = { { 0, -3, 0 }, { 2, 32767, 0 } }, badj[2];

	expect_ok(IMG_REC_SYSV_SEM, &set, sizeof(set), vals, sizeof(vals));
	expect_ok(IMG_REC_SYSV_SEM, &undo, sizeof(undo), adj, sizeof(adj));
	memcpy(bad, vals, sizeof(bad));
	bad[1].val = 32768;
	trw_expect_get(IMG_REC_SYSV_SEM, &set, sizeof(set), bad, sizeof(bad), "has value 32768");
	memcpy(bad, vals, sizeof(bad));
	bad[2].reserved = 1;
	trw_expect_get(IMG_REC_SYSV_SEM, &set, sizeof(set), bad, sizeof(bad), "semaphore 2 of set 32769");
	trw_expect_get(IMG_REC_SYSV_SEM, &set, sizeof(set), vals, 16, "3 semaphores");
	m = set;
	m.kind = 3;
	trw_expect_get(IMG_REC_SYSV_SEM, &m, sizeof(m), vals, sizeof(vals), "kind 3");
	m = set;
	m.nsems = 0;
	trw_expect_get(IMG_REC_SYSV_SEM, &m, sizeof(m), NULL, 0, "0 semaphores");
	memcpy(badj, adj, sizeof(badj));
	badj[0].adj = 0;			/* only adjustments that are not 0 are saved */
	trw_expect_get(IMG_REC_SYSV_SEM, &undo, sizeof(undo), badj, sizeof(badj), "adjustment 0");
	memcpy(badj, adj, sizeof(badj));
	badj[1].num = 0;			/* in increasing semaphore order */
	trw_expect_get(IMG_REC_SYSV_SEM, &undo, sizeof(undo), badj, sizeof(badj), "entry 1");
	u = undo;
	u.perm.mode = 0600;			/* an UNDO record names its set, no more */
	trw_expect_get(IMG_REC_SYSV_SEM, &u, sizeof(u), adj, sizeof(adj), "kind 2");
}

/* n messages of `type` each "msgN" (4 bytes), into buf as a SYSV_MSG or MQ_MSGS tail. */
static size_t msgs(unsigned char *buf, int mq, int n)
{
	size_t at = 0;

	for (int i = 0; i < n; i++) {
		if (mq) {
			struct img_mq_msg h = { .prio = 9 - i, .len = 4 };

			memcpy(buf + at, &h, sizeof(h));
			at += sizeof(h);
		} else {
			struct img_msg h = { .type = 1 + i, .len = 4 };

			memcpy(buf + at, &h, sizeof(h));
			at += sizeof(h);
		}
		memcpy(buf + at, "msg0", 4);
		buf[at + 3] = '0' + i;
		memset(buf + at + 4, 0, 4);
		at += 8;
	}
	return at;
}

static void test_msg(void)
{
	struct img_sysv_msg good = { .perm = perm, .qbytes = 16384, .nmsgs = 3, .bytes = 12 }, m;
	unsigned char tail[256];
	size_t n = msgs(tail, 0, 3);
	const struct img_sysv_msg *got = expect_ok(IMG_REC_SYSV_MSG, &good, sizeof(good), tail, n);
	const unsigned char *p = (const unsigned char *)(got + 1);

	for (int i = 0; i < 3; i++) {
		const void *text;
		uint64_t len;
		uint32_t prio;
		int64_t type;

		p += img_ipc_msg_next(p, 0, &type, &prio, &text, &len);
		CU_ASSERT(type == 1 + i && len == 4 && !memcmp(text, "msg", 3));
	}
	m = good;
	m.bytes = 13;
	trw_expect_get(IMG_REC_SYSV_MSG, &m, sizeof(m), tail, n, "13 bytes said");
	m = good;
	m.nmsgs = 4;
	trw_expect_get(IMG_REC_SYSV_MSG, &m, sizeof(m), tail, n, "message 3 of 4");
	trw_expect_get(IMG_REC_SYSV_MSG, &good, sizeof(good), tail, n - 1, "message 2 of 3");
	tail[16 + 5] = 'x';			/* padding that is not zero */
	trw_expect_get(IMG_REC_SYSV_MSG, &good, sizeof(good), tail, n, "message 0 of 3");
	n = msgs(tail, 0, 3);
	memset(tail, 0, 8);			/* type 0 */
	trw_expect_get(IMG_REC_SYSV_MSG, &good, sizeof(good), tail, n, "message 0 of 3");
	n = msgs(tail, 0, 3);
	m = good;
	m.qbytes = 1ull << 40;
	trw_expect_get(IMG_REC_SYSV_MSG, &m, sizeof(m), tail, n, "limit 1099511627776 bytes");
}

static void test_mq(void)
{
	struct img_mq_msgs good = { .file = 3, .nmsgs = 2, .bytes = 8 }, m;
	unsigned char tail[64];
	size_t n = msgs(tail, 1, 2);
	struct img_mq_msg h;

	expect_ok(IMG_REC_MQ_MSGS, &good, sizeof(good), tail, n);
	m = good;
	m.file = 0;
	trw_expect_get(IMG_REC_MQ_MSGS, &m, sizeof(m), tail, n, "file 0");
	m = good;
	m.nmsgs = 1;
	trw_expect_get(IMG_REC_MQ_MSGS, &m, sizeof(m), tail, n, "message 1 of 1");
	h = (struct img_mq_msg){ .prio = 32768, .len = 4 };
	memcpy(tail, &h, sizeof(h));
	trw_expect_get(IMG_REC_MQ_MSGS, &good, sizeof(good), tail, n, "message 0 of 2");
	m = (struct img_mq_msgs){ .file = 3 };
	expect_ok(IMG_REC_MQ_MSGS, &m, sizeof(m), NULL, 0);	/* an empty queue */
}

/* A VMA named like a SysV attach is one: shared, no pages, an id for ino, no FILE. */
static void test_vma(void)
{
	static const char name[] = "/SYSV5e000000 (deleted)";
	struct img_vma v = { .start = 0x10000, .end = 0x13000, .pgoff = 0x1000, .ino = 32769,
			     .prot = 1, .flags = IMG_VMA_FILE | IMG_VMA_SHARED,
			     .path_len = sizeof(name) - 1 }, b;
	const struct img_vma *got = expect_ok(IMG_REC_VMA, &v, sizeof(v), name, sizeof(name) - 1);

	CU_ASSERT(img_vma_sysv(got, name));
	b = v;
	b.flags = IMG_VMA_FILE | IMG_VMA_PAGES;	/* private: a deleted file without its FILE */
	trw_expect_get(IMG_REC_VMA, &b, sizeof(b), name, sizeof(name) - 1, "not a SysV shared memory attach");
	b = v;
	b.ino = 1ull << 32;
	trw_expect_get(IMG_REC_VMA, &b, sizeof(b), name, sizeof(name) - 1, "id 4294967296");
	b = v;
	b.path_len = 20;
	trw_expect_get(IMG_REC_VMA, &b, sizeof(b), "/SYSVxyz12 (deleted)", 20, "not a SysV");
}

/* The MQUEUE kind data: attributes, name, flags, notification. */
static void test_mq_kind(void)
{
	const struct fd_kind_info *k = fd_kind_info(IMG_FILE_MQUEUE);
	struct img_file f = { .id = 3, .kind = IMG_FILE_MQUEUE, .flags = O_RDWR | O_NONBLOCK,
			      .mode = S_IFREG | 0640, .data_len = sizeof(struct img_file_mqueue),
			      .path_len = 3 };
	struct img_file_mqueue good = { .maxmsg = 8, .msgsize = 128, .notify = IMG_SIGEV_SIGNAL,
					.signo = 12, .sigval = 55 }, m;
	char err[200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->valid(&f, "/mq", &good, err, sizeof(err)), 0);
	f.path_len = 13;
	CU_ASSERT_EQUAL(k->valid(&f, "/mq (deleted)", &good, err, sizeof(err)), 0);
	CU_ASSERT(k->valid(&f, "/a/b (deleted)", &good, err, sizeof(err)) < 0);
	f.path_len = 3;
	m = good;
	m.maxmsg = 0;
	CU_ASSERT(k->valid(&f, "/mq", &m, err, sizeof(err)) < 0 && strstr(err, "maxmsg 0"));
	m = good;
	m.signo = 0;
	CU_ASSERT(k->valid(&f, "/mq", &m, err, sizeof(err)) < 0 && strstr(err, "signal 0"));
	m = good;
	m.notify = 2;				/* SIGEV_THREAD is refused at the checkpoint */
	CU_ASSERT(k->valid(&f, "/mq", &m, err, sizeof(err)) < 0);
	m = good;
	m.same_as = 2;				/* the registration is the first FILE's */
	CU_ASSERT(k->valid(&f, "/mq", &m, err, sizeof(err)) < 0);
	f.flags = O_RDWR | O_APPEND;
	CU_ASSERT(k->valid(&f, "/mq", &good, err, sizeof(err)) < 0);
}

UNIT_SUITE(img_ipc,
	{ "SYSV_SHM checker", test_shm },
	{ "SYSV_SEM checker: sets and SEM_UNDO adjustments", test_sem },
	{ "SYSV_MSG checker: the messages walked", test_msg },
	{ "MQ_MSGS checker", test_mq },
	{ "a SysV attach's VMA", test_vma },
	{ "MQUEUE kind data", test_mq_kind },
);
