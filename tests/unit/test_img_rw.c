/*
 * test_img_rw.c - the image writer and reader together: round trips,
 * every truncation, every flipped byte, the reader's messages, payload
 * checkers (pipes and write errors: test_img_pipe.c).
 *
 * Images live in memfds, so nothing is left on disk.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

/* ---- the sample image: a list of records, written and then expected ---- */

struct trw_rec {
	uint32_t type;
	const void *a;
	size_t alen;
	const void *b;
	size_t blen;
	const unsigned char *pages;	/* PAGES: what the data decodes to */
};

#define TRW_MAX_RECS 28

static struct {
	int ready;
	struct img_header hdr;
	struct img_proc proc;
	char proc_paths[64];
	struct img_proc_attr pattr;
	struct img_seccomp sc;
	uint64_t sc_prog[2];
	struct img_file file[2];
	struct img_fd fd[3];
	struct img_thread thr[2];
	struct img_siginfo sig[2];
	struct img_timer tmr[2];
	unsigned char fpstate[512];
	struct img_vma vma[3];
	struct img_pages pg[4];
	unsigned char raw1[IMG_PAGE_SIZE];		/* RAW, 1 page */
	unsigned char text4[4 * IMG_PAGE_SIZE];		/* SNAPPY, 4 pages */
	unsigned char rand2[2 * IMG_PAGE_SIZE];		/* SNAPPY, incompressible */
	unsigned char zero2[2 * IMG_PAGE_SIZE];		/* ZERO */
	unsigned char snappy_text[32 + 4 * IMG_PAGE_SIZE * 7 / 6];
	unsigned char snappy_rand[32 + 2 * IMG_PAGE_SIZE * 7 / 6];
	struct trw_rec recs[TRW_MAX_RECS];
	int nrecs;
} trw;

static uint16_t trw_scratch[IMG_SNAPPY_SCRATCH / 2];
static uint64_t trw_rng = 12345;

uint64_t trw_rand(void)
{
	trw_rng ^= trw_rng << 13;
	trw_rng ^= trw_rng >> 7;
	trw_rng ^= trw_rng << 17;
	return trw_rng;
}

static void trw_add(uint32_t type, const void *a, size_t alen, const void *b,
		    size_t blen, const unsigned char *pages)
{
	struct trw_rec *r = &trw.recs[trw.nrecs++];

	r->type = type;
	r->a = a;
	r->alen = alen;
	r->b = b;
	r->blen = blen;
	r->pages = pages;
}

static void trw_sample_init(void)
{
	static const char *cwd = "/home/user/work", *exe = "/usr/bin/app";
	static const char *fdpath[2] = { "/tmp/log \"quoted\"\n", "/dev/null" };
	static const char *vmapath = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	size_t n;

	if (trw.ready)
		return;
	trw.ready = 1;

	trw.hdr.pid = 4242;
	trw.hdr.flags = IMG_F_SELF;
	trw.hdr.ctime_ns = 1700000000123456789ull;
	strcpy(trw.hdr.kernel, "6.1.0-13-amd64");

	trw.proc.pid = 4242;
	trw.proc.ppid = 1;
	trw.proc.pgid = 4242;
	trw.proc.sid = 4000;
	trw.proc.uid = 1000;
	trw.proc.gid = 1000;
	trw.proc.umask = 022;
	trw.proc.nthreads = 2;
	trw.proc.ckpt_signal = 35;
	trw.proc.auxv_words = 4;
	strcpy(trw.proc.comm, "app");
	trw.proc.mm.start_code = 0x400000;
	trw.proc.mm.end_code = 0x401000;
	trw.proc.mm.start_brk = trw.proc.mm.brk = 0x600000;
	trw.proc.auxv[0] = 6;
	trw.proc.auxv[1] = 4096;
	for (int i = 0; i < IMG_NRLIMIT; i++)
		trw.proc.rlim[i].cur = trw.proc.rlim[i].max = ~0ull;
	trw.proc.rlim[7].cur = 1024;		/* RLIMIT_NOFILE */
	trw.proc.sigact[SIGINT - 1].handler = 0x401234;
	trw.proc.sigact[SIGINT - 1].flags = 0x14000000;
	trw.proc.sigact[SIGPIPE - 1].handler = 1;	/* SIG_IGN */
	trw.proc.sigpending = 1ull << (SIGUSR1 - 1);
	trw.proc.cwd_len = (uint32_t)strlen(cwd);
	trw.proc.exe_len = (uint32_t)strlen(exe);
	memcpy(trw.proc_paths, cwd, trw.proc.cwd_len);
	memcpy(trw.proc_paths + trw.proc.cwd_len, exe, trw.proc.exe_len);
	trw_add(IMG_REC_PROC, &trw.proc, sizeof(trw.proc), trw.proc_paths,
		trw.proc.cwd_len + trw.proc.exe_len, NULL);
	trw.pattr = (struct img_proc_attr){ .oom_score_adj = -17, .flags = IMG_PA_SUBREAPER,
		.dumpable = 1, .thp_disable = 3, .coredump_filter = 0x33, .membarrier = 16,
		.nseccomp = 1, .cpu_ns = 123456789 };
	trw_add(IMG_REC_PROC_ATTR, &trw.pattr, sizeof(trw.pattr), NULL, 0, NULL);
	trw.sc = (struct img_seccomp){ .parent = -1, .how = IMG_SECCOMP_SYSCALL, .flags = 2,
		.ninsns = 2 };
	trw.sc_prog[0] = 0x0000000000000020ull;		/* ld [0] */
	trw.sc_prog[1] = 0x7fff000000000006ull;		/* ret ALLOW */
	trw_add(IMG_REC_SECCOMP, &trw.sc, sizeof(trw.sc), trw.sc_prog, sizeof(trw.sc_prog), NULL);

	for (int i = 0; i < 2; i++) {
		trw.file[i].id = 1 + i;
		trw.file[i].kind = i ? IMG_FILE_CHR : IMG_FILE_REG;
		trw.file[i].flags = i ? 2 : 02101;
		trw.file[i].pos = i ? 0 : 12345;
		trw.file[i].dev = 0x803;
		trw.file[i].ino = 99 + i;
		trw.file[i].rdev = i ? 0x103 : 0;	/* 1:3, /dev/null */
		trw.file[i].mode = i ? 020666 : 0100644;
		trw.file[i].path_len = (uint32_t)strlen(fdpath[i]);
		trw_add(IMG_REC_FILE, &trw.file[i], sizeof(trw.file[i]), fdpath[i],
			trw.file[i].path_len, NULL);
	}
	for (int i = 0; i < 3; i++) {		/* fd 5 shares fd 3's file (dup) */
		trw.fd[i].fd = 3 + i;
		trw.fd[i].file = i == 1 ? 2 : 1;
		trw.fd[i].fdflags = i == 2 ? IMG_FD_CLOEXEC : 0;
		trw_add(IMG_REC_FD, &trw.fd[i], sizeof(trw.fd[i]), NULL, 0, NULL);
	}

	for (int i = 0; i < 2; i++) {
		trw.thr[i].tid = 4242 + i;
		trw.thr[i].flags = i ? 0 : IMG_THREAD_LEADER;
		for (int g = 0; g < IMG_NGREG; g++)
			trw.thr[i].gregs[g] = trw_rand();
		trw.thr[i].fs_base = 0x7f0000001000ull + i;
		trw.thr[i].sigmask = 0x10000;
		trw.thr[i].rseq_len = 32;
		trw.thr[i].rseq_addr = 0x7f0000002000ull;
		trw.thr[i].xfeatures = 0x2e7;
		trw.thr[i].fpstate_len = i ? 0 : sizeof(trw.fpstate);
		trw.thr[i].attr_flags = IMG_TA_AFFINITY | (i ? IMG_TA_NO_NEW_PRIVS : 0);
		trw.thr[i].affinity[0] = 1u << i;
		trw.thr[i].timer_slack_ns = 50000;
		trw.thr[i].seccomp_mode = i ? 2 : 0;
		trw.thr[i].seccomp_leaf = i ? 0 : -1;
	}
	for (size_t k = 0; k < sizeof(trw.fpstate); k++)
		trw.fpstate[k] = (unsigned char)trw_rand();
	trw_add(IMG_REC_THREAD, &trw.thr[0], sizeof(trw.thr[0]), trw.fpstate,
		sizeof(trw.fpstate), NULL);
	trw_add(IMG_REC_THREAD, &trw.thr[1], sizeof(trw.thr[1]), NULL, 0, NULL);

	/* a sigqueue'd signal for the second thread, a kill() for the process */
	for (int i = 0; i < 2; i++) {
		int32_t si[6] = { i ? SIGUSR1 : SIGRTMIN + 1, 0, i ? 0 : -1, 0, 77, 1000 };

		trw.sig[i].tid = i ? 0 : 4243;
		memcpy(trw.sig[i].info, si, sizeof(si));
		trw.sig[i].info[24] = (unsigned char)(100 + i);	/* si_value */
		trw_add(IMG_REC_SIGINFO, &trw.sig[i], sizeof(trw.sig[i]), NULL, 0, NULL);
	}

	/* alarm(), and a periodic POSIX timer signalling the second thread */
	trw.tmr[0] = (struct img_timer){ .kind = IMG_TIMER_ITIMER, .id = 0, .value_ns = 1500000000 };
	trw.tmr[1] = (struct img_timer){ .kind = IMG_TIMER_POSIX, .id = 3, .clock = 1,
		.notify = IMG_SIGEV_THREAD_ID, .signo = SIGUSR2, .notify_tid = 4243, .sigval = 99,
		.value_ns = 250000000, .interval_ns = 100000000 };
	for (int i = 0; i < 2; i++)
		trw_add(IMG_REC_TIMER, &trw.tmr[i], sizeof(trw.tmr[i]), NULL, 0, NULL);

	trw.vma[0] = (struct img_vma){ .start = 0x7f1000000000ull, .end = 0x7f1000004000ull,
		.prot = 5, .flags = IMG_VMA_FILE | IMG_VMA_PAGES, .dev = 0x803, .ino = 7,
		.size = 2000000, .pgoff = 0x1000, .path_len = (uint32_t)strlen(vmapath) };
	trw.vma[1] = (struct img_vma){ .start = 0x600000, .end = 0x621000,
		.prot = 3, .flags = IMG_VMA_ANON | IMG_VMA_HEAP | IMG_VMA_PAGES };
	trw.vma[2] = (struct img_vma){ .start = 0x7ffc00000000ull, .end = 0x7ffc00021000ull,
		.prot = 3, .flags = IMG_VMA_ANON | IMG_VMA_STACK | IMG_VMA_GROWSDOWN | IMG_VMA_PAGES };
	trw_add(IMG_REC_VMA, &trw.vma[0], sizeof(trw.vma[0]), vmapath, trw.vma[0].path_len, NULL);
	trw_add(IMG_REC_VMA, &trw.vma[1], sizeof(trw.vma[1]), NULL, 0, NULL);
	trw_add(IMG_REC_VMA, &trw.vma[2], sizeof(trw.vma[2]), NULL, 0, NULL);

	for (size_t k = 0; k < sizeof(trw.raw1); k++)
		trw.raw1[k] = (unsigned char)trw_rand();
	for (size_t k = 0; k < sizeof(trw.rand2); k++)
		trw.rand2[k] = (unsigned char)trw_rand();
	for (size_t k = 0; k < sizeof(trw.text4); k++)
		trw.text4[k] = "hello, checkpoint world "[k % 24] ^ (k % 1000 == 0);

	trw.pg[0] = (struct img_pages){ .addr = trw.vma[0].start, .npages = 1, .codec = IMG_CODEC_RAW };
	trw_add(IMG_REC_PAGES, &trw.pg[0], sizeof(trw.pg[0]), trw.raw1, sizeof(trw.raw1), trw.raw1);

	trw.pg[1] = (struct img_pages){ .addr = 0x601000, .npages = 4, .codec = IMG_CODEC_SNAPPY };
	n = img_snappy_compress(trw.text4, sizeof(trw.text4), trw.snappy_text, trw_scratch);
	trw_add(IMG_REC_PAGES, &trw.pg[1], sizeof(trw.pg[1]), trw.snappy_text, n, trw.text4);

	trw.pg[2] = (struct img_pages){ .addr = 0x605000, .npages = 2, .codec = IMG_CODEC_SNAPPY };
	n = img_snappy_compress(trw.rand2, sizeof(trw.rand2), trw.snappy_rand, trw_scratch);
	trw_add(IMG_REC_PAGES, &trw.pg[2], sizeof(trw.pg[2]), trw.snappy_rand, n, trw.rand2);

	trw.pg[3] = (struct img_pages){ .addr = 0x7ffc00010000ull, .npages = 2, .codec = IMG_CODEC_ZERO };
	trw_add(IMG_REC_PAGES, &trw.pg[3], sizeof(trw.pg[3]), NULL, 0, trw.zero2);
}

int trw_write_sample(int fd, void *buf, size_t cap)
{
	struct img_writer w;
	struct img_header h = trw.hdr;

	trw_sample_init();
	h = trw.hdr;
	img_writer_init(&w, fd, buf, cap);
	img_write_header(&w, &h);
	for (int i = 0; i < trw.nrecs; i++) {
		const struct trw_rec *r = &trw.recs[i];
		img_write_record(&w, r->type, r->a, r->alen, r->b, r->blen);
	}
	return img_write_end(&w);
}

int trw_memfd(void)
{
	int fd = memfd_create("trw", MFD_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

/* Replaces the content of memfd fd with buf[0..len), positioned at 0. */
static void trw_set(int fd, const void *buf, size_t len)
{
	CU_ASSERT_FATAL(ftruncate(fd, 0) == 0);
	CU_ASSERT_FATAL(pwrite(fd, buf, len, 0) == (ssize_t)len);
	CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
}

/* The whole content of fd (from 0), malloc'd. */
static unsigned char *trw_slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char *p = malloc((size_t)end + 1);

	CU_ASSERT_FATAL(end >= 0 && p);
	CU_ASSERT_FATAL(pread(fd, p, (size_t)end, 0) == end);
	*len = (size_t)end;
	return p;
}

unsigned char *trw_sample_bytes(size_t *len)
{
	static unsigned char buf[8192];
	int fd = trw_memfd();
	unsigned char *p;

	CU_ASSERT_FATAL(trw_write_sample(fd, buf, sizeof(buf)) == 0);
	p = trw_slurp(fd, len);
	close(fd);
	return p;
}

/*
 * Reads a whole image from fd as every consumer would: each record through
 * its checker, pages decoded.  0 if END was reached, else -1 with *code and
 * err (may be NULL) telling why.
 */
/* Set by the "mapped" tests: readers read through img_reader_map(). */
static int trw_mapped;

int trw_parse(int fd, enum img_err *code, char *err, size_t errlen)
{
	static unsigned char dst[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	struct img_reader r;
	struct img_rec rec;
	int rc = -1, k;

	if (img_reader_open(&r, fd) < 0)
		goto out;
	if (trw_mapped && img_reader_map(&r) < 0)
		CU_FAIL("img_reader_map refused a memfd");
	while ((k = img_reader_next(&r, &rec)) == 1) {
		const void *ok = NULL;

		switch (rec.type) {
		case IMG_REC_PROC:   ok = img_get_proc(&r, &rec); break;
		case IMG_REC_FILE:   ok = img_get_file(&r, &rec); break;
		case IMG_REC_FD:     ok = img_get_fd(&r, &rec); break;
		case IMG_REC_THREAD: ok = img_get_thread(&r, &rec); break;
		case IMG_REC_VMA:    ok = img_get_vma(&r, &rec); break;
		case IMG_REC_PARENT: ok = img_get_parent(&r, &rec); break;
		case IMG_REC_SIGINFO: ok = img_get_siginfo(&r, &rec); break;
		case IMG_REC_TIMER:  ok = img_get_timer(&r, &rec); break;
		case IMG_REC_PROC_ATTR: ok = img_get_proc_attr(&r, &rec); break;
		case IMG_REC_SECCOMP: ok = img_get_seccomp(&r, &rec); break;
		case IMG_REC_PAGES: {
			const struct img_pages *p = img_get_pages(&r, &rec);
			char perr[256];

			if (p && img_pages_decode(p, p + 1, rec.len - sizeof(*p), dst,
						  perr, sizeof(perr)) < 0) {
				r.code = IMG_ERR_CORRUPT;
				snprintf(r.err, sizeof(r.err), "%s", perr);
				p = NULL;
			}
			ok = p;
			break;
		}
		}
		if (!ok)
			goto out;
	}
	if (k == 0)
		rc = 0;
out:
	if (code)
		*code = r.code;
	if (err)
		snprintf(err, errlen, "%s", r.err);
	img_reader_close(&r);
	return rc;
}

/* trw_parse() of buf[0..len) through memfd fd. */
static int trw_parse_bytes(int fd, const void *buf, size_t len, enum img_err *code,
			   char *err, size_t errlen)
{
	trw_set(fd, buf, len);
	return trw_parse(fd, code, err, errlen);
}

/* Recomputes the header crc after a test edited the header. */
static void trw_fix_hdr(unsigned char *img)
{
	struct img_header h;

	memcpy(&h, img, sizeof(h));
	h.hdr_crc = 0;
	h.hdr_crc = img_crc32c(0, &h, sizeof(h));
	memcpy(img, &h, sizeof(h));
}

/* Recomputes the crc of the record at off after a test edited it. */
static void trw_fix_rec(unsigned char *img, size_t off)
{
	struct img_rec_hdr rh;

	memcpy(&rh, img + off, sizeof(rh));
	rh.crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
	rh.crc = img_crc32c(rh.crc, img + off + sizeof(rh), (size_t)rh.len);
	memcpy(img + off, &rh, sizeof(rh));
}

/* ---- round trip ---- */

static void trw_check_roundtrip(int fd)
{
	static unsigned char dst[IMG_PAGES_MAX * IMG_PAGE_SIZE];
	struct img_reader r;
	struct img_rec rec;
	uint64_t off = sizeof(struct img_header), npad = 0;
	char err[256];
	int i;

	CU_ASSERT_FATAL(img_reader_open(&r, fd) == 0);
	CU_ASSERT(r.is_file);
	if (trw_mapped)
		CU_ASSERT_FATAL(img_reader_map(&r) == 0);
	CU_ASSERT(memcmp(r.hdr.magic, IMG_MAGIC, IMG_MAGIC_LEN) == 0);
	CU_ASSERT_EQUAL(r.hdr.version, IMG_VERSION);
	CU_ASSERT_EQUAL(r.hdr.arch, IMG_ARCH_X86_64);
	CU_ASSERT_EQUAL(r.hdr.page_size, IMG_PAGE_SIZE);
	CU_ASSERT_EQUAL(r.hdr.pid, trw.hdr.pid);
	CU_ASSERT_EQUAL(r.hdr.flags, trw.hdr.flags);
	CU_ASSERT_EQUAL(r.hdr.ctime_ns, trw.hdr.ctime_ns);
	CU_ASSERT_STRING_EQUAL(r.hdr.kernel, trw.hdr.kernel);
	CU_ASSERT_EQUAL(r.nbytes, sizeof(struct img_header));

	for (i = 0; i < trw.nrecs; i++) {
		const struct trw_rec *e = &trw.recs[i];
		const unsigned char *data;
		const void *fixed = NULL;

		if (off % 8) {		/* a PAD record first: the reader skips it */
			off += sizeof(struct img_rec_hdr) + (8 - off % 8);
			npad++;
		}
		CU_ASSERT_EQUAL_FATAL(img_reader_next(&r, &rec), 1);
		CU_ASSERT_EQUAL(rec.offset % 8, 0);
		CU_ASSERT_EQUAL((uintptr_t)rec.data % 8, 0);
		CU_ASSERT_EQUAL(rec.type, e->type);
		CU_ASSERT_EQUAL(rec.version, 1);
		CU_ASSERT_EQUAL(rec.offset, off);
		CU_ASSERT_EQUAL_FATAL(rec.len, e->alen + e->blen);
		data = rec.data;
		CU_ASSERT(memcmp(data, e->a, e->alen) == 0);
		CU_ASSERT(e->blen == 0 || memcmp(data + e->alen, e->b, e->blen) == 0);
		off += sizeof(struct img_rec_hdr) + rec.len;

		switch (rec.type) {
		case IMG_REC_PROC: {
			const struct img_proc *p = img_get_proc(&r, &rec);
			fixed = p;
			CU_ASSERT_FATAL(p != NULL);
			CU_ASSERT_EQUAL(p->pid, 4242);
			CU_ASSERT_STRING_EQUAL(p->comm, "app");
			CU_ASSERT(memcmp(p + 1, "/home/user/work/usr/bin/app", 27) == 0);
			break;
		}
		case IMG_REC_FILE:
			fixed = img_get_file(&r, &rec);
			break;
		case IMG_REC_FD:
			fixed = img_get_fd(&r, &rec);
			break;
		case IMG_REC_THREAD: {
			const struct img_thread *t = img_get_thread(&r, &rec);
			fixed = t;
			CU_ASSERT_FATAL(t != NULL);
			CU_ASSERT(e->blen == 0 || memcmp(t + 1, e->b, e->blen) == 0);
			break;
		}
		case IMG_REC_SIGINFO:
			fixed = img_get_siginfo(&r, &rec);
			break;
		case IMG_REC_TIMER:
			fixed = img_get_timer(&r, &rec);
			break;
		case IMG_REC_PROC_ATTR:
			fixed = img_get_proc_attr(&r, &rec);
			break;
		case IMG_REC_SECCOMP:
			fixed = img_get_seccomp(&r, &rec);
			break;
		case IMG_REC_VMA:
			fixed = img_get_vma(&r, &rec);
			break;
		case IMG_REC_PAGES: {
			const struct img_pages *p = img_get_pages(&r, &rec);
			fixed = p;
			CU_ASSERT_FATAL(p != NULL);
			memset(dst, 0xEE, sizeof(dst));
			CU_ASSERT_EQUAL(img_pages_decode(p, p + 1, rec.len - sizeof(*p), dst,
							 err, sizeof(err)), 0);
			CU_ASSERT(memcmp(dst, e->pages, p->npages * IMG_PAGE_SIZE) == 0);
			break;
		}
		}
		/* Every field of the fixed struct, in one comparison. */
		CU_ASSERT_FATAL(fixed != NULL);
		CU_ASSERT(memcmp(fixed, e->a, e->alen) == 0);
		CU_ASSERT_EQUAL(r.nrecords, (uint64_t)i + 1 + npad);
	}
	if (off % 8)
		off += sizeof(struct img_rec_hdr) + (8 - off % 8);
	CU_ASSERT_EQUAL(img_reader_next(&r, &rec), 0);
	CU_ASSERT_EQUAL(rec.type, IMG_REC_END);
	CU_ASSERT_EQUAL(rec.offset, off);
	CU_ASSERT_EQUAL(img_reader_next(&r, &rec), 0);	/* stays at END */
	CU_ASSERT_EQUAL(r.code, IMG_OK);
	img_reader_close(&r);
	img_reader_close(&r);				/* idempotent */
}

static void test_rw_roundtrip(void)
{
	static unsigned char buf[1 << 20];
	static const size_t caps[] = { 0, 1, 40, 100, 4096, sizeof(buf) };
	unsigned char *first = NULL;
	size_t first_len = 0;

	trw_sample_init();
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int fd = trw_memfd();
		unsigned char *img;
		size_t len;

		CU_ASSERT_EQUAL_FATAL(trw_write_sample(fd, caps[i] ? buf : NULL, caps[i]), 0);
		CU_ASSERT_FATAL(lseek(fd, 0, SEEK_SET) == 0);
		trw_check_roundtrip(fd);
		/* The buffer size changes how bytes are written, not which. */
		img = trw_slurp(fd, &len);
		if (!first) {
			first = img;
			first_len = len;
		} else {
			CU_ASSERT_EQUAL(len, first_len);
			CU_ASSERT(len == first_len && memcmp(img, first, len) == 0);
			free(img);
		}
		close(fd);
	}
	free(first);
}

static void test_rw_writer_state(void)
{
	static unsigned char buf[4096];
	struct img_writer w;
	struct img_header h = { .pid = 1 };
	struct img_end e;
	size_t len;
	int fd = trw_memfd();
	unsigned char *img;
	uint32_t payload = 0xdeadbeef;

	img_writer_init(&w, fd, buf, sizeof(buf));
	CU_ASSERT_EQUAL(img_write_header(&w, &h), 0);
	CU_ASSERT_EQUAL(w.nbytes, 128);
	CU_ASSERT_EQUAL(w.crc, img_crc32c(0, &h, sizeof(h)));
	CU_ASSERT_EQUAL(h.version, IMG_VERSION);
	CU_ASSERT_EQUAL(img_write_record(&w, 77, &payload, 4, NULL, 0), 0);
	CU_ASSERT_EQUAL(w.nrecords, 1);
	CU_ASSERT_EQUAL(w.nbytes, 128 + 24 + 4);
	uint32_t crc_before_end = w.crc;
	CU_ASSERT_EQUAL(img_write_end(&w), 0);
	CU_ASSERT_EQUAL(w.len, 0);		/* flushed */
	img = trw_slurp(fd, &len);
	/* END would start at 156: a PAD record of 4 zero bytes puts it at 184 */
	CU_ASSERT_EQUAL_FATAL(len, 128 + 24 + 4 + (24 + 4) + 24 + 24);
	CU_ASSERT_EQUAL(img_crc32c(0, img, 128 + 28), crc_before_end);
	memcpy(&e, img + 184 + 24, sizeof(e));
	CU_ASSERT_EQUAL(e.nrecords, 2);
	CU_ASSERT_EQUAL(e.nbytes, 184);
	CU_ASSERT_EQUAL(e.image_crc, img_crc32c(0, img, 184));
	CU_ASSERT_EQUAL(e.reserved, 0);
	free(img);
	close(fd);
}

/* ---- damage ---- */

static void test_rw_truncation_everywhere(void)
{
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	int fd = trw_memfd();
	enum img_err code;
	char err[256];

	CU_ASSERT_EQUAL(trw_parse_bytes(fd, img, len, &code, err, sizeof(err)), 0);
	for (size_t cut = 0; cut < len; cut++) {
		int rc = trw_parse_bytes(fd, img, cut, &code, err, sizeof(err));

		CU_ASSERT_EQUAL_FATAL(rc, -1);
		CU_ASSERT_EQUAL_FATAL(code, IMG_ERR_CORRUPT);
		CU_ASSERT_FATAL(strchr(err, '\n') == NULL && err[0]);
		if (cut > 0 && cut < 128)
			CU_ASSERT_FATAL(strstr(err, "inside the header") != NULL);
		if (cut >= 128)
			CU_ASSERT_FATAL(strstr(err, "truncated at offset") != NULL);
	}
	free(img);
	close(fd);
}

static void trw_flip_everywhere(unsigned char mask)
{
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	int fd = trw_memfd();
	enum img_err code;
	char err[256];

	for (size_t at = 0; at < len; at++) {
		img[at] ^= mask;
		int rc = trw_parse_bytes(fd, img, len, &code, err, sizeof(err));
		img[at] ^= mask;

		if (rc != -1)
			fprintf(stderr, "flip 0x%02x at %zu not detected\n", mask, at);
		CU_ASSERT_EQUAL_FATAL(rc, -1);
		CU_ASSERT_FATAL(code == IMG_ERR_CORRUPT || code == IMG_ERR_INCOMPAT);
		CU_ASSERT_FATAL(strchr(err, '\n') == NULL && err[0]);
	}
	free(img);
	close(fd);
}

static void test_rw_flip_01_everywhere(void) { trw_flip_everywhere(0x01); }
static void test_rw_flip_ff_everywhere(void) { trw_flip_everywhere(0xff); }

/* The same through a mapping of the file (what ckpt-restart reads). */
static void test_rw_mapped(void)
{
	trw_mapped = 1;
	test_rw_roundtrip();
	test_rw_truncation_everywhere();
	trw_flip_everywhere(0x01);
	trw_mapped = 0;
}

/* ---- messages ---- */

/* Parses img (len bytes), expects failure with code and a message part. */
static void trw_expect(const unsigned char *img, size_t len, enum img_err want,
		       const char *part)
{
	int fd = trw_memfd();
	enum img_err code;
	char err[256];

	CU_ASSERT_EQUAL(trw_parse_bytes(fd, img, len, &code, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(code, want);
	if (!strstr(err, part))
		fprintf(stderr, "\nexpected \"%s\" in \"%s\"\n", part, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, part));
	close(fd);
}

static void test_rw_header_messages(void)
{
	size_t len;
	unsigned char *img = trw_sample_bytes(&len);
	unsigned char *bad = malloc(len + 8);
	struct img_header h;

	trw_expect(img, 0, IMG_ERR_CORRUPT, "empty image");
	trw_expect(img, 100, IMG_ERR_CORRUPT,
		   "truncated: image ends inside the header (100 of 128 bytes)");

	memcpy(bad, img, len);
	bad[0] = 'X';
	trw_expect(bad, len, IMG_ERR_CORRUPT, "not a libckpt image (bad magic)");

	memcpy(bad, img, len);
	bad[offsetof(struct img_header, pid)] ^= 4;
	trw_expect(bad, len, IMG_ERR_CORRUPT, "header is corrupt: checksum mismatch");

	memcpy(bad, img, len);
	memcpy(&h, bad, sizeof(h));
	h.version = 2;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_INCOMPAT,
		   "image format version 2 is newer than this libckpt (supports 1)");

	memcpy(&h, img, sizeof(h));
	h.arch = 183;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_INCOMPAT, "aarch64 (ELF machine 183)");

	memcpy(&h, img, sizeof(h));
	h.arch = 9999;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_INCOMPAT, "ELF machine 9999");

	memcpy(&h, img, sizeof(h));
	h.page_size = 65536;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_INCOMPAT, "page size is 65536");

	memcpy(&h, img, sizeof(h));
	h.version = 0;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "version 0");

	memcpy(&h, img, sizeof(h));
	h.flags = 0x80;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "unknown flags 0x80");

	memcpy(&h, img, sizeof(h));
	h.reserved[5] = 1;
	memcpy(bad, &h, sizeof(h));
	trw_fix_hdr(bad);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "reserved byte at offset 109");
	free(bad);
	free(img);
}

static void test_rw_record_messages(void)
{
	size_t len, end_off;
	unsigned char *img = trw_sample_bytes(&len);
	unsigned char *bad = malloc(len + 8);
	struct img_rec_hdr rh;
	struct img_end e;
	char want[128];

	end_off = len - sizeof(struct img_rec_hdr) - sizeof(struct img_end);

	/* Trailing bytes after END, in a file. */
	memcpy(bad, img, len);
	memset(bad + len, 0, 8);
	snprintf(want, sizeof(want), "trailing bytes after the end of the image (at offset %zu)", len);
	trw_expect(bad, len + 1, IMG_ERR_CORRUPT, want);

	/* Payload crc: a flipped bit in the first record's payload. */
	memcpy(bad, img, len);
	bad[128 + 24 + 10] ^= 0x10;
	trw_expect(bad, len, IMG_ERR_CORRUPT,
		   "record at offset 128 (type 1) is corrupt: checksum mismatch");

	/* A self-consistent record of an unknown type. */
	memcpy(bad, img, len);
	memcpy(&rh, bad + 128, sizeof(rh));
	rh.type = 77;
	memcpy(bad + 128, &rh, sizeof(rh));
	trw_fix_rec(bad, 128);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "record at offset 128 has unknown type 77");

	memcpy(bad, img, len);
	rh.type = IMG_REC_PROC;
	rh.version = 2;
	memcpy(bad + 128, &rh, sizeof(rh));
	trw_fix_rec(bad, 128);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "unsupported version 2");

	memcpy(bad, img, len);
	memcpy(&rh, bad + 128, sizeof(rh));
	rh.reserved = 1;
	memcpy(bad + 128, &rh, sizeof(rh));
	trw_fix_rec(bad, 128);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "reserved fields are not zero");

	memcpy(bad, img, len);
	memcpy(&rh, bad + 128, sizeof(rh));
	rh.len = (uint64_t)IMG_REC_MAX + 1;
	memcpy(bad + 128, &rh, sizeof(rh));
	trw_expect(bad, len, IMG_ERR_CORRUPT, "exceeds the limit");

	memcpy(bad, img, len);
	memcpy(&rh, bad + 128, sizeof(rh));
	rh.len = 1u << 20;	/* larger than the file: truncation */
	memcpy(bad + 128, &rh, sizeof(rh));
	trw_expect(bad, len, IMG_ERR_CORRUPT, "truncated at offset 128: record (type 1) declares 1048576 payload bytes");

	/* END that miscounts, with its own crc fixed: only END can tell. */
	memcpy(bad, img, len);
	memcpy(&e, bad + end_off + 24, sizeof(e));
	e.nrecords++;
	memcpy(bad + end_off + 24, &e, sizeof(e));
	trw_fix_rec(bad, end_off);
	/* the image's records: the sample's and the PADs before some of them */
	snprintf(want, sizeof(want), "END record at offset %zu counts %d records, the image holds %d",
		 end_off, (int)e.nrecords, (int)e.nrecords - 1);
	trw_expect(bad, len, IMG_ERR_CORRUPT, want);

	memcpy(bad, img, len);
	e.nrecords--;
	e.nbytes += 8;
	memcpy(bad + end_off + 24, &e, sizeof(e));
	trw_fix_rec(bad, end_off);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "says it is at offset");

	memcpy(bad, img, len);
	e.nbytes -= 8;
	e.image_crc ^= 1;
	memcpy(bad + end_off + 24, &e, sizeof(e));
	trw_fix_rec(bad, end_off);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "image checksum mismatch");

	/* A record's crc fixed but the image crc not: END catches it. */
	memcpy(bad, img, len);
	bad[128 + 24 + 10] ^= 0x10;
	trw_fix_rec(bad, 128);
	trw_expect(bad, len, IMG_ERR_CORRUPT, "image checksum mismatch");

	/* END cut off entirely. */
	snprintf(want, sizeof(want), "truncated at offset %zu: image ends before its END record", end_off);
	trw_expect(img, end_off, IMG_ERR_CORRUPT, want);
	free(bad);
	free(img);
}

/* ---- payload checkers: self-consistent records with bad contents ---- */

static void test_rw_checkers(void)
{
	static unsigned char data[IMG_PAGE_SIZE * 2];
	struct img_proc p;
	struct img_file f;
	struct img_fd d;
	struct img_thread t;
	struct img_vma v;
	struct img_pages pg;

	trw_sample_init();

	/* Wrong type for the checker, and too short for any struct. */
	trw_expect_get(IMG_REC_FILE, &trw.file[1], sizeof(trw.file[1]), "/dev/null", 9, NULL);
	trw_expect_get(IMG_REC_VMA, &trw.vma[1], 10, NULL, 0, "too short");

	p = trw.proc;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), "/x", 1, "fields say");
	p.cwd_len = 5000;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), NULL, 0, "cwd is 5000 bytes long");
	p = trw.proc;
	p.cwd_len = 0xffffffffu;
	p.exe_len = 2;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), "/x", 1, "cwd is");
	p = trw.proc;
	p.auxv_words = IMG_AUXV_MAX + 1;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), trw.proc_paths,
		       p.cwd_len + p.exe_len, "auxv words");
	p = trw.proc;
	p.pid = 0;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), trw.proc_paths,
		       p.cwd_len + p.exe_len, "pid 0");
	p = trw.proc;
	p.cwd_len = 2;
	p.exe_len = 0;
	trw_expect_get(IMG_REC_PROC, &p, sizeof(p), "/\0", 2, "NUL byte");

	f = trw.file[1];
	f.kind = 99;
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9, "unknown kind 99");
	f = trw.file[1];
	f.id = 0;
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9, "id 0");
	f = trw.file[1];
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/nul", 8, "fields say");
	f = trw.file[1];
	f.data_len = 0xfffffff0u;
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9, "bytes of kind data");
	f = trw.file[1];
	f.rdev = 0x8801;		/* a disk, not a memory device */
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9, "not a memory device");
	f = trw.file[0];
	f.kind = IMG_FILE_OPATH;	/* its flags lack O_PATH */
	f.path_len = 6;
	trw_expect_get(IMG_REC_FILE, &f, sizeof(f), "/tmp/x", 6, "lack O_PATH");
	d = trw.fd[0];
	d.fd = -1;
	trw_expect_get(IMG_REC_FD, &d, sizeof(d), NULL, 0, "fd -1");
	d = trw.fd[0];
	d.file = 0;
	trw_expect_get(IMG_REC_FD, &d, sizeof(d), NULL, 0, "file 0");
	d = trw.fd[0];
	d.fdflags = 2;
	trw_expect_get(IMG_REC_FD, &d, sizeof(d), NULL, 0, "fd flags 0x2");
	trw_expect_get(IMG_REC_FD, &trw.fd[0], sizeof(trw.fd[0]), "x", 1, "fields say");

	t = trw.thr[1];
	t.fpstate_len = 100000;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "fpstate is 100000 bytes");
	t.fpstate_len = 16;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), data, 15, "fields say");
	t = trw.thr[1];
	t.tid = 0;
	trw_expect_get(IMG_REC_THREAD, &t, sizeof(t), NULL, 0, "tid 0");

	v = trw.vma[1];
	v.end = v.start;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "bad range");
	v = trw.vma[1];
	v.start += 1;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "bad range");
	v = trw.vma[1];
	v.end = 0x800000001000ull;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "bad range");
	v = trw.vma[1];
	v.prot = 8;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "prot");
	v = trw.vma[1];
	v.flags |= 0x800;
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "unknown flags 0x800");
	v = trw.vma[1];
	v.flags |= IMG_VMA_TREESHM;	/* only in a tree's section, shared anonymous */
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), NULL, 0, "cannot name shared memory");
	v = trw.vma[0];
	trw_expect_get(IMG_REC_VMA, &v, sizeof(v), "/lib", 4, "fields say");

	pg = (struct img_pages){ .addr = 0x1000, .npages = 0, .codec = IMG_CODEC_ZERO };
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "0 pages");
	pg.npages = IMG_PAGES_MAX + 1;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "65 pages");
	pg.npages = 1;
	pg.addr = 0x1001;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "bad address 0x1001");
	pg.addr = 0x7ffffffff000ull;
	pg.npages = 2;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "bad address");
	pg = (struct img_pages){ .addr = 0x1000, .npages = 1, .codec = 3 };
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), data, 10, "unknown codec 3");
	pg.codec = IMG_CODEC_ZERO;
	pg.reserved[1] = 1;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "reserved");
	pg.reserved[1] = 0;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), data, 1, "1 data bytes for 1 pages");
	pg.codec = IMG_CODEC_RAW;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), data, IMG_PAGE_SIZE + 1, "data bytes");
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "0 data bytes");
	pg.codec = IMG_CODEC_SNAPPY;
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0, "0 data bytes");
	trw_expect_get(IMG_REC_PAGES, &pg, sizeof(pg), data,
		       img_snappy_bound(IMG_PAGE_SIZE) + 1, "data bytes");
}

/* ---- pipes, interrupted writes, write errors ---- */

UNIT_SUITE(img_rw,
	{ "round trip, every field, every buffer size", test_rw_roundtrip },
	{ "writer counters, crc and END", test_rw_writer_state },
	{ "truncation at every offset", test_rw_truncation_everywhere },
	{ "xor 0x01 at every offset", test_rw_flip_01_everywhere },
	{ "xor 0xff at every offset", test_rw_flip_ff_everywhere },
	{ "mapped: round trip, truncation and xor 0x01 at every offset", test_rw_mapped },
	{ "header messages", test_rw_header_messages },
	{ "record and END messages", test_rw_record_messages },
	{ "payload checkers", test_rw_checkers },
);

