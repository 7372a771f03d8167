/*
 * ckpt_edit.c - rewrites an image the way a hostile owner could, for the
 * trust tests (tests/e2e/t_trust*.sh): the format is public and its
 * checksums are CRC32C, so anyone who can write an image can make any
 * edit to it look intact.  Only a test tool; nothing installs it.
 *
 *   ckpt-edit IMAGE EDIT...          rewrites IMAGE in place
 *     --replace OLD NEW              every occurrence of the bytes OLD, in
 *                                    the payload of every record but page
 *                                    data, becomes NEW (same length; paths
 *                                    in PROC, FD/FILE and VMA records...)
 *     --restat PATH                  every VMA record of the file PATH
 *                                    gets PATH's identity (dev, ino, size,
 *                                    mtime) as stat() gives it now
 *     --uid N, --gid N               the PROC record's uid or gid
 *     --caps EFF PRM INH             every THREAD record's capability sets
 *                                    (numbers as strtoull reads them)
 *     --fd-inherit N                 fd N's FILE becomes "inherited": the
 *                                    restarted process is to get
 *                                    ckpt-restart's own fd N
 *     --pipe-capacity N              every pipe's and FIFO's capacity (its
 *                                    first FILE's) becomes N bytes
 * then every record's crc and the END record's image crc are computed
 * again.  It is generic where it can be (byte replacement, whatever the
 * record type) so that a change of the FD records does not break it; the
 * field setters use img_format.h.  A mappable image (page data outside
 * its records) is refused.  Exit 0, or 1 with a message: an edit that
 * changed nothing is an error (the test would prove nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libckpt/img.h"

static unsigned char *img;
static size_t img_len;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ckpt-edit: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void load(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open %s", path);
	img_len = st.st_size;
	img = malloc(img_len + 1);
	if (!img || read(fd, img, img_len) != (ssize_t)img_len)
		die("cannot read %s", path);
	close(fd);
	if (img_len < sizeof(struct img_header) || memcmp(img, IMG_MAGIC, IMG_MAGIC_LEN))
		die("%s is not an image", path);
	if (((struct img_header *)img)->flags & IMG_F_MAPPABLE)
		die("%s is a mappable image: not supported", path);
}

/* Calls fn on each record (header, payload) up to and including END. */
static void each(int (*fn)(struct img_rec_hdr *h, unsigned char *p, void *arg), void *arg)
{
	size_t off = sizeof(struct img_header);

	while (off + sizeof(struct img_rec_hdr) <= img_len) {
		struct img_rec_hdr *h = (struct img_rec_hdr *)(img + off);

		if (h->len > img_len - off - sizeof(*h))
			die("%s", "a record runs past the end of the file");
		if (fn(h, img + off + sizeof(*h), arg) || h->type == IMG_REC_END)
			return;
		off += sizeof(*h) + h->len;
	}
	die("%s", "no END record");
}

struct repl { const char *old, *new; size_t len; int n; };

static int do_replace(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct repl *r = arg;

	if (h->type == IMG_REC_PAGES || h->type == IMG_REC_END)
		return 0;
	for (size_t i = 0; i + r->len <= h->len; i++) {
		if (!memcmp(p + i, r->old, r->len)) {
			memcpy(p + i, r->new, r->len);
			r->n++;
		}
	}
	return 0;
}

struct restat { const char *path; struct stat st; int n; };

static int do_restat(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct restat *r = arg;
	struct img_vma *v = (struct img_vma *)p;

	if (h->type != IMG_REC_VMA || v->path_len != strlen(r->path) ||
	    memcmp(v + 1, r->path, v->path_len))
		return 0;
	v->dev = r->st.st_dev;
	v->ino = r->st.st_ino;
	v->size = r->st.st_size;
	v->mtime_ns = (int64_t)r->st.st_mtim.tv_sec * 1000000000 + r->st.st_mtim.tv_nsec;
	r->n++;
	return 0;
}

struct field { uint32_t type; size_t off, size; uint64_t val[3]; int nval; int n; };

static int do_field(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct field *f = arg;

	if (h->type != f->type || h->len < f->off + f->size * f->nval)
		return 0;
	for (int i = 0; i < f->nval; i++)
		memcpy(p + f->off + i * f->size, &f->val[i], f->size);
	f->n++;
	return 0;
}

struct inh { int32_t fd; uint32_t file; int n; };

static int find_fd(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct inh *r = arg;
	struct img_fd *d = (struct img_fd *)p;

	if (h->type == IMG_REC_FD && h->len >= sizeof(*d) && d->fd == r->fd)
		r->file = d->file;
	return 0;
}

static int set_inherit(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct inh *r = arg;
	struct img_file *f = (struct img_file *)p;

	if (h->type == IMG_REC_FILE && h->len >= sizeof(*f) && f->id == r->file) {
		f->kind = IMG_FILE_INHERIT;
		r->n++;
	}
	return 0;
}

struct cap { uint32_t bytes; int n; };

static int set_capacity(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	struct cap *r = arg;
	struct img_file *f = (struct img_file *)p;
	struct img_file_pipe *d = (struct img_file_pipe *)(f + 1);

	if (h->type == IMG_REC_FILE && h->len >= sizeof(*f) + sizeof(*d) &&
	    (f->kind == IMG_FILE_PIPE || f->kind == IMG_FILE_FIFO) && !d->same_as) {
		d->capacity = r->bytes;
		r->n++;
	}
	return 0;
}

static int do_crc(struct img_rec_hdr *h, unsigned char *p, void *arg)
{
	if (h->type == IMG_REC_END) {
		struct img_end *e = (struct img_end *)p;

		e->image_crc = img_crc32c(0, img, (unsigned char *)h - img);
		e->nbytes = (unsigned char *)h - img;
	}
	h->crc = img_crc32c(0, h, offsetof(struct img_rec_hdr, crc));
	h->crc = img_crc32c(h->crc, p, h->len);
	return 0;
}

static uint64_t num(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (!*s || *end)
		die("not a number: %s", s);
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("%s", "usage: ckpt-edit IMAGE EDIT... (see tests/tools/ckpt_edit.c)");
	load(argv[1]);
	for (int i = 2; i < argc; i++) {
		const char *op = argv[i];
		int need = !strcmp(op, "--replace") ? 2 : !strcmp(op, "--caps") ? 3 : 1;

		if (i + need >= argc)
			die("%s needs more arguments", op);
		if (!strcmp(op, "--replace")) {
			struct repl r = { argv[i + 1], argv[i + 2], strlen(argv[i + 1]), 0 };

			if (strlen(r.new) != r.len || !r.len)
				die("--replace %s: NEW must be as long as OLD", r.old);
			each(do_replace, &r);
			if (!r.n)
				die("--replace: %s is nowhere in the image", r.old);
		} else if (!strcmp(op, "--restat")) {
			struct restat r = { .path = argv[i + 1] };

			if (stat(r.path, &r.st) < 0)
				die("cannot stat %s", r.path);
			each(do_restat, &r);
			if (!r.n)
				die("--restat: no mapping of %s", r.path);
		} else if (!strcmp(op, "--uid") || !strcmp(op, "--gid") || !strcmp(op, "--caps")) {
			struct field f = { IMG_REC_PROC, offsetof(struct img_proc, uid), 4, { 0 }, 1, 0 };

			if (!strcmp(op, "--gid"))
				f.off = offsetof(struct img_proc, gid);
			if (!strcmp(op, "--caps"))
				f = (struct field){ IMG_REC_THREAD, offsetof(struct img_thread, cap_effective),
						    8, { 0 }, 3, 0 };
			for (int k = 0; k < f.nval; k++)
				f.val[k] = num(argv[i + 1 + k]);
			each(do_field, &f);
			if (!f.n)
				die("%s: no record to change", op);
		} else if (!strcmp(op, "--fd-inherit")) {
			struct inh r = { (int32_t)num(argv[i + 1]), 0, 0 };

			each(find_fd, &r);
			each(set_inherit, &r);
			if (!r.n)
				die("--fd-inherit %s: no such fd", argv[i + 1]);
		} else if (!strcmp(op, "--pipe-capacity")) {
			struct cap r = { (uint32_t)num(argv[i + 1]), 0 };

			each(set_capacity, &r);
			if (!r.n)
				die("--pipe-capacity %s: no pipe in the image", argv[i + 1]);
		} else {
			die("unknown edit %s", op);
		}
		i += need;
	}
	each(do_crc, NULL);

	int fd = open(argv[1], O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, img, img_len) != (ssize_t)img_len || close(fd) < 0)
		die("cannot write %s", argv[1]);
	return 0;
}
