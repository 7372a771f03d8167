/*
 * fuzz_img.c - libFuzzer target for the image reader, the payload
 * checkers and the page decoder: what ckpt-restart and ckpt-info run on
 * images that may come from anywhere.
 *
 * Every input is parsed three times:
 *   1. as it is, which exercises framing, truncation and checksums;
 *   2. after fix-up: the header crc, every record crc that fits and the
 *      END record's image crc recomputed.  A mutation of a record's
 *      contents otherwise dies at its checksum, so only this pass lets the
 *      fuzzer reach the payload checkers and snappy decoding;
 *   3. the fixed-up bytes again, read through a mapping of the file
 *      (img_reader_map), as ckpt-restart reads an image file.
 * Each must end in a clean success or a clean error: no crash, no leak,
 * no read outside what the checkers allowed (every variable tail is read
 * byte by byte, so ASan sees a checker that trusts a length too much; in
 * the mapping ASan sees nothing, only a read past its last page faults).
 *
 * Seeds: with FUZZ_SEED_DIR set, LLVMFuzzerInitialize writes a few valid
 * images there (tests/fuzz/run.sh does this before fuzzing).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "libckpt/img.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char fz_pages[IMG_PAGES_MAX * IMG_PAGE_SIZE];
static volatile unsigned fz_sink;

/* Reads every byte of a tail the checker vouched for. */
static void fz_touch(const void *p, size_t n)
{
	const unsigned char *c = p;
	unsigned s = 0;

	for (size_t i = 0; i < n; i++)
		s += c[i];
	fz_sink += s;
}

/* mapped: read through img_reader_map(), as ckpt-restart reads a file */
static void fz_parse(int fd, int mapped)
{
	struct img_reader r;
	struct img_rec rec;
	char err[256];

	if (img_reader_open(&r, fd) < 0) {
		img_reader_close(&r);
		return;
	}
	if (mapped)
		img_reader_map(&r);	/* an empty file stays unmapped */
	while (img_reader_next(&r, &rec) == 1) {
		int ok = 0;

		switch (rec.type) {
		case IMG_REC_PROC: {
			const struct img_proc *p = img_get_proc(&r, &rec);
			if ((ok = p != NULL))
				fz_touch(p + 1, (size_t)p->cwd_len + p->exe_len);
			break;
		}
		case IMG_REC_FD: {
			const struct img_fd *f = img_get_fd(&r, &rec);
			if ((ok = f != NULL))
				fz_touch(f + 1, f->path_len);
			break;
		}
		case IMG_REC_THREAD: {
			const struct img_thread *t = img_get_thread(&r, &rec);
			if ((ok = t != NULL))
				fz_touch(t + 1, t->fpstate_len);
			break;
		}
		case IMG_REC_SIGINFO:
			ok = img_get_siginfo(&r, &rec) != NULL;
			break;
		case IMG_REC_TIMER:
			ok = img_get_timer(&r, &rec) != NULL;
			break;
		case IMG_REC_VMA: {
			const struct img_vma *v = img_get_vma(&r, &rec);
			if ((ok = v != NULL)) {
				fz_touch(v + 1, v->path_len + (size_t)v->nguards * sizeof(struct img_range));
				for (uint32_t k = 0; k < v->nguards; k++)
					ok &= img_vma_guard(v, k).end > img_vma_guard(v, k).start;
			}
			break;
		}
		case IMG_REC_MLOCK:
			ok = img_get_mlock(&r, &rec) != NULL;
			break;
		case IMG_REC_PARENT: {
			const struct img_parent *p = img_get_parent(&r, &rec);
			if ((ok = p != NULL))
				fz_touch(p + 1, (size_t)p->nranges * sizeof(struct img_range) +
					 p->path_len);
			break;
		}
		case IMG_REC_PAGES: {
			const struct img_pages *p = img_get_pages(&r, &rec);
			if ((ok = p != NULL))
				ok = img_pages_decode(p, p + 1, rec.len - sizeof(*p), fz_pages,
						      err, sizeof(err)) == 0;
			break;
		}
		case IMG_REC_MPAGES: {
			/* mappable: the data lies outside the record; read and crc it */
			const struct img_mpages *m = img_get_mpages(&r, &rec);
			if ((ok = m != NULL))
				img_mpages_verify(fd, r.base, m, err, sizeof(err));
			break;
		}
		}
		if (!ok)
			break;
	}
	img_reader_close(&r);
}

/* Recomputes every checksum that the input's own lengths let us find. */
static void fz_fixup(unsigned char *b, size_t size)
{
	struct img_header h;
	uint64_t off = sizeof(h);
	uint32_t crc;

	if (size < sizeof(h))
		return;
	memcpy(&h, b, sizeof(h));
	h.hdr_crc = 0;
	h.hdr_crc = img_crc32c(0, &h, sizeof(h));
	memcpy(b, &h, sizeof(h));
	crc = img_crc32c(0, b, sizeof(h));

	while (size - off >= sizeof(struct img_rec_hdr)) {
		struct img_rec_hdr rh;
		unsigned char *payload = b + off + sizeof(rh);

		memcpy(&rh, b + off, sizeof(rh));
		if (rh.len > size - off - sizeof(rh))
			break;
		if (rh.type == IMG_REC_END && rh.len == sizeof(struct img_end)) {
			struct img_end e;

			memcpy(&e, payload, sizeof(e));
			e.image_crc = crc;
			memcpy(payload, &e, sizeof(e));
		}
		/* MPAGES: its data follows the record, outside every crc but data_crc */
		uint64_t skip = 0;
		if (rh.type == IMG_REC_MPAGES && rh.len >= sizeof(struct img_mpages)) {
			struct img_mpages m;

			memcpy(&m, payload, sizeof(m));
			if (m.data_off == off + sizeof(rh) + rh.len && m.npages <= IMG_MPAGES_MAX &&
			    m.npages * IMG_PAGE_SIZE <= size - m.data_off) {
				skip = m.npages * IMG_PAGE_SIZE;
				m.data_crc = img_crc32c(0, b + m.data_off, (size_t)skip);
				memcpy(payload, &m, sizeof(m));
			}
		}
		rh.crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
		rh.crc = img_crc32c(rh.crc, payload, (size_t)rh.len);
		memcpy(b + off, &rh, sizeof(rh));
		crc = img_crc32c(crc, b + off, sizeof(rh) + (size_t)rh.len);
		off += sizeof(rh) + rh.len + skip;
	}
}

static int fz_fd = -1;

static void fz_run(const uint8_t *data, size_t size, int mapped)
{
	if (ftruncate(fz_fd, 0) < 0 ||
	    (size && pwrite(fz_fd, data, size, 0) != (ssize_t)size) ||
	    lseek(fz_fd, 0, SEEK_SET) != 0)
		abort();
	fz_parse(fz_fd, mapped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;

	if (fz_fd < 0) {
		fz_fd = memfd_create("fuzz_img", MFD_CLOEXEC);
		if (fz_fd < 0)
			abort();
	}
	fz_run(data, size, 0);

	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	fz_fixup(copy, size);
	fz_run(copy, size, 0);
	fz_run(copy, size, 1);
	free(copy);
	return 0;
}

/* ---- seeds ---- */

static void fz_seed(const char *dir, const char *name, int full)
{
	static unsigned char buf[8192], zbuf[32 + IMG_PAGE_SIZE * 3];
	static uint16_t scratch[IMG_SNAPPY_SCRATCH / 2];
	static unsigned char page[IMG_PAGE_SIZE], two[2 * IMG_PAGE_SIZE];
	struct img_header h = { .pid = 100, .ctime_ns = 1, .flags = full == 2 ? IMG_F_MAPPABLE : 0 };
	struct img_proc p = { .pid = 100, .ppid = 1, .nthreads = 1, .auxv_words = 2,
			      .comm = "seed", .cwd_len = 1, .exe_len = 8 };
	struct img_thread t = { .tid = 100, .flags = IMG_THREAD_LEADER, .fpstate_len = 16 };
	struct img_fd f = { .fd = 0, .kind = IMG_FD_CHR, .flags = 2, .path_len = 9,
			    .shared_with = -1 };
	struct img_vma v = { .start = 0x10000, .end = 0x14000, .prot = 3,
			     .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	struct img_vma vf = { .start = 0x400000, .end = 0x401000, .prot = 5,
			      .flags = IMG_VMA_FILE, .path_len = 8 };
	struct img_pages pg;
	struct img_writer w;
	char path[4096];
	size_t z;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return;
	}
	strcpy(h.kernel, "6.1.0");
	if (full == 3)
		h.flags = IMG_F_INCREMENTAL;
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)("seed data "[i % 10] + (i % 777 == 0));
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), "/bin/seed", 9);
	if (full == 3) {	/* incremental: inherits the anonymous VMA */
		static const char ppath[] = "/seed/parent.img";
		struct img_parent par = { .ctime_ns = 1, .pid = 100, .hdr_crc = 7,
					  .nranges = 1, .path_len = sizeof(ppath) - 1 };
		unsigned char tail[sizeof(struct img_range) + sizeof(ppath)];
		struct img_range rg = { 0x10000, 0x14000 };

		memcpy(tail, &rg, sizeof(rg));
		memcpy(tail + sizeof(rg), ppath, sizeof(ppath) - 1);
		img_write_record(&w, IMG_REC_PARENT, &par, sizeof(par), tail,
				 sizeof(rg) + sizeof(ppath) - 1);
	}
	if (full == 1 || full == 3)
		img_write_record(&w, IMG_REC_FD, &f, sizeof(f), "/dev/null", 9);
	img_write_record(&w, IMG_REC_THREAD, &t, sizeof(t), page, 16);
	if (full == 1) {	/* a queued SIGUSR1 for that thread */
		struct img_siginfo q = { .tid = t.tid };
		int32_t sig = 10;

		memcpy(q.info, &sig, sizeof(sig));
		img_write_record(&w, IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0);
	}
	if (full == 1) {	/* and a periodic POSIX timer signalling it */
		struct img_timer tm = { .kind = IMG_TIMER_POSIX, .id = 2, .clock = 1,
					.notify = IMG_SIGEV_THREAD_ID, .signo = 12, .notify_tid = t.tid,
					.value_ns = 5000000, .interval_ns = 1000000 };

		img_write_record(&w, IMG_REC_TIMER, &tm, sizeof(tm), NULL, 0);
	}
	if (full == 2)
		img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
	if (full == 1 || full == 3) {
		img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
		img_write_record(&w, IMG_REC_VMA, &vf, sizeof(vf), "/bin/app", 8);
		pg = (struct img_pages){ .addr = 0x10000, .npages = 1, .codec = IMG_CODEC_RAW };
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), page, sizeof(page));
		pg = (struct img_pages){ .addr = 0x11000, .npages = 2, .codec = IMG_CODEC_SNAPPY };
		memcpy(two, page, sizeof(page));	/* 2 pages: page twice */
		memcpy(two + sizeof(page), page, sizeof(page));
		z = img_snappy_compress(two, sizeof(two), zbuf, scratch);
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), zbuf, z);
		pg = (struct img_pages){ .addr = 0x13000, .npages = 1, .codec = IMG_CODEC_ZERO };
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0);
	}
	if (full == 2) {	/* mappable: two MPAGES runs (img_format.h) */
		static const unsigned char zeros[IMG_PAGE_SIZE];

		for (int i = 0; i < 2; i++) {
			uint64_t end = w.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_mpages);
			uint64_t off = (end + IMG_PAGE_SIZE - 1) & ~(uint64_t)(IMG_PAGE_SIZE - 1);
			struct img_mpages m = { .addr = 0x10000 + (uint64_t)i * 2 * IMG_PAGE_SIZE,
						.npages = 1, .data_off = off,
						.data_crc = img_crc32c(0, page, sizeof(page)) };

			img_write_record(&w, IMG_REC_MPAGES, &m, sizeof(m), zeros, off - end);
			img_write_raw(&w, page, sizeof(page));
		}
	}
	if (img_write_end(&w) < 0)
		fprintf(stderr, "fuzz_img: cannot write seed %s\n", path);
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	if (dir && *dir) {
		fz_seed(dir, "seed-minimal.img", 0);
		fz_seed(dir, "seed-full.img", 1);
		fz_seed(dir, "seed-mappable.img", 2);
		fz_seed(dir, "seed-incremental.img", 3);
	}
	return 0;
}
