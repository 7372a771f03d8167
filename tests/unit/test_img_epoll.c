/*
 * test_img_epoll.c - epoll (fds/fd_epoll.c, libckpt/img_epoll.c) and the
 * checkpoint's EINTR (wrappers/wrap_poll.c):
 *  - an EPOLL FILE and its EPOLL_ITEM records read back as written, the
 *    events in words;
 *  - the readers refuse a malformed EPOLL FILE (kind data, flags, path)
 *    and EPOLL_ITEM (ids, fd, EPOLLEXCLUSIVE with what it refuses);
 *  - libckpt's handler moves the checkpoint generation only when it cut
 *    a system call short with EINTR and no application handler is due,
 *    and back when an application signal came during the checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <ucontext.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"
#include "wrappers/wrap.h"

#define EP_PATH "anon_inode:[eventpoll]"

static void expect_epoll_file(const struct img_file_epoll *d, size_t dlen, uint32_t flags,
			      const char *path, const char *part)
{
	unsigned char tail[256];
	struct img_file f = { .id = 4, .kind = IMG_FILE_EPOLL, .flags = flags, .mode = 0600,
			      .path_len = strlen(path), .data_len = dlen };

	memcpy(tail, d, dlen);
	memcpy(tail + dlen, path, f.path_len);
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), tail, dlen + f.path_len, part);
}

static void test_epoll_roundtrip(void)
{
	static unsigned char buf[4096];
	const struct img_file_epoll d = { 2, 0 };
	struct img_file f = { .id = 3, .kind = IMG_FILE_EPOLL, .flags = O_RDWR | O_NONBLOCK,
			      .mode = 0600, .path_len = sizeof(EP_PATH) - 1, .data_len = sizeof(d) };
	const struct img_epoll_item it[2] = {
		{ .epoll = 3, .target = 7, .tfd = 5, .events = EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLET,
		  .data = 0xdeadbeefcafef00dull },
		{ .epoll = 3, .target = 8, .tfd = 9, .events = EPOLLONESHOT, .data = 1 },
	};
	unsigned char tail[64];
	struct img_header h = { .pid = 1 };
	struct img_writer w;
	struct img_reader r;
	struct img_rec rec;
	const struct img_file *rf;
	const struct img_epoll_item *ri;
	char ev[200];
	int fd = trw_memfd();

	memcpy(tail, &d, sizeof(d));
	memcpy(tail + sizeof(d), EP_PATH, f.path_len);
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), tail, sizeof(d) + f.path_len);
	for (int i = 0; i < 2; i++)
		img_write_record(&w, IMG_REC_EPOLL_ITEM, &it[i], sizeof(it[i]), NULL, 0);
	CU_ASSERT_EQUAL_FATAL(img_write_end(&w), 0);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_open(&r, fd), 0);
	CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rf = img_get_file(&r, &rec));
	CU_ASSERT_EQUAL(rf->kind, IMG_FILE_EPOLL);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ri = img_get_epoll_item(&r, &rec));
		CU_ASSERT(!memcmp(ri, &it[i], sizeof(*ri)));
	}
	img_reader_close(&r);
	close(fd);
	img_epoll_events(it[0].events, ev, sizeof(ev));
	CU_ASSERT_STRING_EQUAL(ev, "EPOLLIN|EPOLLERR|EPOLLHUP|EPOLLET");
	img_epoll_events(it[1].events, ev, sizeof(ev));
	CU_ASSERT_STRING_EQUAL(ev, "disabled EPOLLONESHOT");
	img_epoll_events(EPOLLOUT | 0x100000, ev, sizeof(ev));
	CU_ASSERT_STRING_EQUAL(ev, "EPOLLOUT|0x100000");
}

static void test_epoll_check(void)
{
	const struct img_file_epoll d = { 2, 0 }, d_res = { 2, 1 }, d_many = { IMG_EPOLL_ITEMS_MAX + 1, 0 };
	const struct img_epoll_item good = { .epoll = 3, .target = 7, .tfd = 5,
					     .events = EPOLLIN | EPOLLERR | EPOLLHUP };
	struct img_epoll_item e;

	expect_epoll_file(&d, 4, O_RDWR, EP_PATH, "4 bytes of kind data");
	expect_epoll_file(&d_res, sizeof(d), O_RDWR, EP_PATH, "8 bytes of kind data");
	expect_epoll_file(&d_many, sizeof(d), O_RDWR, EP_PATH, "1048577 items");
	expect_epoll_file(&d, sizeof(d), O_RDONLY, EP_PATH, "flags 0");
	expect_epoll_file(&d, sizeof(d), O_RDWR | O_APPEND, EP_PATH, "flags 02002");
	expect_epoll_file(&d, sizeof(d), O_RDWR, "anon_inode:[pidfd]", "a path of 18 bytes");
	expect_epoll_file(&d, sizeof(d), O_RDWR, EP_PATH "x", "a path of 23 bytes");
	e = good;
	e.epoll = 0;
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "epoll 0");
	e = good;
	e.target = 0;
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "target 0");
	e = good;
	e.target = 3;			/* an epoll cannot watch itself */
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "epoll 3, target 3");
	e = good;
	e.tfd = -1;
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "fd -1");
	e = good;
	e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "EPOLLEXCLUSIVE");
	e = good;
	e.events = EPOLLPRI | EPOLLEXCLUSIVE;
	trw_expect_get(IMG_REC_EPOLL_ITEM, &e, sizeof(e), NULL, 0, "EPOLLEXCLUSIVE");
	trw_expect_get(IMG_REC_EPOLL_ITEM, &good, sizeof(good) - 4, NULL, 0, "not a valid EPOLL_ITEM");
	trw_expect_get(IMG_REC_EPOLL_ITEM, &good, sizeof(good), "x", 1, "not a valid EPOLL_ITEM");
}

/* A context as libckpt's handler sees it: rax, rip just after `syscall` (or not), mask. */
static unsigned char code[8192] __attribute__((aligned(4096)));

static void uc_make(ucontext_t *uc, long rax, int after_syscall, const sigset_t *mask)
{
	unsigned char *at = code + 100;

	at[0] = 0x0f;
	at[1] = 0x05;
	at[2] = 0x90;
	memset(uc, 0, sizeof(*uc));
	uc->uc_mcontext.gregs[REG_RAX] = rax;
	uc->uc_mcontext.gregs[REG_RIP] = (long)(after_syscall ? at + 2 : at + 3);
	uc->uc_sigmask = *mask;
}

static volatile int usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

static void test_ckpt_interrupted(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old;
	sigset_t none, usr1, prev, during;
	ucontext_t uc;
	unsigned gen = wrap_ckpt_gen;

	sigemptyset(&none);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CU_ASSERT_EQUAL_FATAL(sigprocmask(SIG_BLOCK, NULL, &prev), 0);
	uc_make(&uc, -EINTR, 1, &none);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);	/* a wait cut short: its own */
	CU_ASSERT(wrap_ckpt_at > 0);
	/* the application's signals wait until the handler's end: none came */
	sigprocmask(SIG_BLOCK, NULL, &during);
	CU_ASSERT(sigismember(&during, SIGUSR1) && !sigismember(&during, SIGSEGV));
	wrap_ckpt_finish(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);
	sigprocmask(SIG_SETMASK, &prev, NULL);	/* (the kernel's sigreturn does this) */
	uc_make(&uc, 0, 1, &none);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);	/* a call that returned 0 */
	uc_make(&uc, -EINTR, 0, &none);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);	/* code, not a system call */
	wrap_ckpt_interrupted(NULL);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);
	/* an application signal pending, which the interrupted context does not block */
	CU_ASSERT_EQUAL_FATAL(sigaction(SIGUSR1, &sa, &old), 0);
	CU_ASSERT_EQUAL_FATAL(sigprocmask(SIG_BLOCK, &usr1, NULL), 0);
	raise(SIGUSR1);
	uc_make(&uc, -EINTR, 1, &none);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 1);	/* its handler runs next: its EINTR */
	uc_make(&uc, -EINTR, 1, &usr1);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 2);	/* blocked there: not due */
	wrap_ckpt_finish(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 2);	/* (still blocked there) */
	sigprocmask(SIG_SETMASK, &prev, NULL);
	CU_ASSERT_EQUAL(usr1_seen, 1);
	/* one that comes during the checkpoint: the generation moves back at the end */
	uc_make(&uc, -EINTR, 1, &none);
	wrap_ckpt_interrupted(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 3);
	raise(SIGUSR1);				/* blocked meanwhile: pending */
	CU_ASSERT_EQUAL(usr1_seen, 1);
	wrap_ckpt_finish(&uc);
	CU_ASSERT_EQUAL(wrap_ckpt_gen, gen + 2);	/* its handler runs next: its EINTR */
	sigprocmask(SIG_SETMASK, &prev, NULL);
	CU_ASSERT_EQUAL(usr1_seen, 2);
	sigaction(SIGUSR1, &old, NULL);
}

UNIT_SUITE(img_epoll,
	{ "EPOLL FILE and EPOLL_ITEM records round trip, events in words", test_epoll_roundtrip },
	{ "EPOLL FILE and EPOLL_ITEM checkers", test_epoll_check },
	{ "the handler moves the generation only for a wait of its own", test_ckpt_interrupted },
);
