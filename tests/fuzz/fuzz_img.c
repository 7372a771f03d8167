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
#include "tests/fuzz/fz_image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed);

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
		case IMG_REC_FILE: {
			const struct img_file *f = img_get_file(&r, &rec);
			if ((ok = f != NULL))
				fz_touch(f + 1, (size_t)f->path_len + f->data_len);
			break;
		}
		case IMG_REC_FD:
			ok = img_get_fd(&r, &rec) != NULL;
			break;
		case IMG_REC_LOCK: {
			const struct img_lock *l = img_get_lock(&r, &rec);
			char range[64];

			if ((ok = l != NULL))
				img_lock_range(l, range, sizeof(range));
			break;
		}
		case IMG_REC_EPOLL_ITEM: {
			const struct img_epoll_item *e = img_get_epoll_item(&r, &rec);
			char ev[200];

			if ((ok = e != NULL))
				img_epoll_events(e->events, ev, sizeof(ev));
			break;
		}
		case IMG_REC_FILE_DATA: {
			const struct img_file_data *d = img_get_file_data(&r, &rec);
			if ((ok = d != NULL))	/* fz_pages holds IMG_PAGES_MAX pages: a chunk */
				ok = img_file_data_decode(d, d + 1, rec.len - sizeof(*d), fz_pages,
							  err, sizeof(err)) == 0;
			break;
		}
		case IMG_REC_PIPE_DATA: {
			const struct img_pipe_data *d = img_get_pipe_data(&r, &rec);
			if ((ok = d != NULL))
				fz_touch(d + 1, d->len);
			break;
		}
		case IMG_REC_INOTIFY_WATCH: {
			const struct img_inotify_watch *iw = img_get_inotify_watch(&r, &rec);
			if ((ok = iw != NULL))
				fz_touch(iw + 1, iw->path_len);
			break;
		}
		case IMG_REC_INET_QUEUE: {
			const struct img_inet_queue *q = img_get_inet_queue(&r, &rec);

			if ((ok = q != NULL))
				fz_touch(q + 1, q->len);
			break;
		}
		case IMG_REC_UNIX_MSG: {
			const struct img_unix_msg *m = img_get_unix_msg(&r, &rec);
			uint32_t ids = 0;

			if ((ok = m != NULL)) {	/* every part the accessors give */
				for (uint32_t i = 0; i < m->nfds; i++)
					ids += img_unix_msg_fd(m, i);
				fz_touch(img_unix_msg_addr(m), m->addr_len);
				fz_touch(img_unix_msg_data(m), m->len);
				ok = ids != 0 || !m->nfds;
			}
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
		case IMG_REC_PROC_ATTR:
			ok = img_get_proc_attr(&r, &rec) != NULL;
			break;
		case IMG_REC_SECCOMP: {
			const struct img_seccomp *s = img_get_seccomp(&r, &rec);
			if ((ok = s != NULL))
				fz_touch(s + 1, (size_t)s->ninsns * 8);
			break;
		}
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_SEED_DIR");

	(void)argc;
	(void)argv;
	if (dir && *dir)
		fz_seeds(dir);
	return 0;
}

/* Hostile values in well-formed, checksum-correct images (fz_image.c). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
	return fz_mutate(data, size, max, seed);
}
