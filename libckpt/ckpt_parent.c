/*
 * ckpt_parent.c - the parent of an incremental image: which image it is,
 * whether it is still there, and the PARENT record that names it.
 *
 * The parent of an incremental image is the last image this process
 * saved (by ckpt_save() or ckpt-save, full or incremental), if
 *   - libckpt knows its path: the image went to a file (not a pipe), whose
 *     final name the caller gave (c->img_path: the shim made it, ckpt-save
 *     sent it).  The fd cannot tell: it is an O_TMPFILE with no name, or
 *     a temporary name, until the image is complete;
 *   - that file still holds it: its header has the same ctime_ns, pid and
 *     hdr_crc (a failed forked writer, a deleted or replaced file make
 *     the next image full instead of naming a parent that is gone).
 * The identity is the header's, not the END record's image_crc: with the
 * forked writer only the copy that writes the pages ever knows that one.
 *
 * An incremental image written under its parent's name would replace the
 * parent it needs: refused.  Runs in the signal handler: raw calls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "libckpt/ckpt_incr.h"

#define PARENT_PATH_MAX	4096

static struct {
	int valid;
	uint64_t ctime_ns;
	int32_t pid;
	uint32_t hdr_crc;
	uint32_t path_len;
	char path[PARENT_PATH_MAX];	/* NUL-terminated too */
	/*
	 * ckpt_excl_gen() at its cut: a ckpt_include() since then puts back
	 * pages that no image after it holds (they were left out, and are
	 * not inherited): the next image is full.
	 */
	unsigned excl_gen;
} last;

void ckpt_parent_forget(void)
{
	last.valid = 0;
}

/* The final path of the image being written: length, or -1 when none. */
static int image_path(const struct ckpt_ctx *c)
{
	size_t n = c->img_path ? ckpt_strlen(c->img_path) : 0;

	return n && c->img_path[0] == '/' && n < PARENT_PATH_MAX ? (int)n : -1;
}

/* 1 when the file at last.path is still the image we saved there. */
static int parent_on_disk(void)
{
	struct img_header h;
	ssize_t n;
	int fd = ckpt_open(last.path, O_RDONLY | O_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	do
		n = pread(fd, &h, sizeof(h), 0);
	while (n < 0 && errno == EINTR);
	ckpt_close(fd);
	return n == (ssize_t)sizeof(h) && ckpt_memeq(h.magic, IMG_MAGIC, IMG_MAGIC_LEN) &&
	       h.ctime_ns == last.ctime_ns && h.pid == last.pid && h.hdr_crc == last.hdr_crc;
}

int ckpt_parent_usable(struct ckpt_ctx *c)
{
	int n;

	if (!last.valid || last.excl_gen != c->dirty->excl_gen)
		return 0;
	n = image_path(c);
	if (n == (int)last.path_len && ckpt_memeq(c->img_path, last.path, n))
		return ckpt_fail(c, -EINVAL, "an incremental image cannot replace its own parent "
				 "%s: give each image of a chain its own name", last.path);
	return parent_on_disk();
}

void ckpt_parent_remember(struct ckpt_ctx *c)
{
	int n = image_path(c);

	if (n > 0) {
		__builtin_memcpy(last.path, c->img_path, n);
		last.path[n] = '\0';
	}

	/* A mappable image's pages are not in PAGES records: never a parent. */
	last.valid = n > 0 && !(c->hdr_flags & IMG_F_MAPPABLE);
	last.path_len = n > 0 ? (uint32_t)n : 0;
	last.excl_gen = c->dirty ? c->dirty->excl_gen : ckpt_excl_gen();
	last.ctime_ns = c->hdr.ctime_ns;
	last.pid = c->hdr.pid;
	last.hdr_crc = c->hdr.hdr_crc;
}

struct parent_ranges {
	struct img_range *rg;
	uint32_t n;
};

static int add_range(uint64_t s, uint64_t e, int excluded, void *arg)
{
	struct parent_ranges *p = arg;

	if (excluded)
		return 0;
	if (p->n == IMG_PARENT_RANGES_MAX)
		return -E2BIG;
	p->rg[p->n++] = (struct img_range){ s, e };
	return 0;
}

/*
 * PARENT: identity, the ranges of the VMAs tracked since the parent (less
 * what the program excluded: those pages read as zeros, whatever an older
 * image holds), the path.
 */
int ckpt_parent_write(struct ckpt_ctx *c)
{
	struct ckpt_dirty_run *run = c->dirty;
	struct parent_ranges pr = { (struct img_range *)run->parent_tail, 0 };
	struct img_range *rg = pr.rg;
	struct img_parent p = {
		.ctime_ns = last.ctime_ns, .pid = last.pid, .hdr_crc = last.hdr_crc,
		.path_len = last.path_len,
	};

	if (!(c->hdr_flags & IMG_F_INCREMENTAL))
		return 0;
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];

		if (ckpt_dirty_owns(c, i) &&
		    (ckpt_excl_applies(v) ? ckpt_excl_each(v->start, v->end, add_range, &pr) :
		     add_range(v->start, v->end, 0, &pr)) < 0)
			return ckpt_fail(c, -E2BIG, "an incremental image can name at most %u "
					 "inherited ranges, and the excluded memory "
					 "(ckpt_exclude) splits them into more: save a full image",
					 IMG_PARENT_RANGES_MAX);
	}
	p.nranges = pr.n;
	__builtin_memcpy(rg + p.nranges, last.path, last.path_len);
	img_write_record(&c->w, IMG_REC_PARENT, &p, sizeof(p), rg,
			 p.nranges * sizeof(*rg) + last.path_len);
	return c->w.error;
}
