/*
 * fd_hugetlb.c - the object behind an anonymous MAP_HUGETLB mapping
 * ("/anon_hugepage (deleted)" in /proc/PID/maps): a hugetlbfs file no fd
 * can reach.  Its FILE record only says which huge page size the VMAs
 * that name it (img_vma.file, with IMG_VMA_ANON) use; their pages are in
 * PAGES records like any anonymous memory's, and a restart maps them
 * anonymous with MAP_HUGETLB of that size (restart_jump.c, rst_stage).
 * No fd is of this kind: libckpt/ckpt_fmapped.c writes the record.
 *
 * A restart needs that many free huge pages of that size: --check and
 * the restart refuse (exit 4) where the machine has fewer reserved and
 * free, saying how to reserve them.
 */
#include <stdio.h>
#include "fds/fd_kind.h"

static int hugetlb_valid(const struct img_file *f, const char *path, const void *data,
			 char *err, size_t len)
{
	const struct img_file_hugetlb *h = data;

	if (f->data_len != sizeof(*h) || h->reserved || (h->page_shift != 21 && h->page_shift != 30)) {
		snprintf(err, len, "%u bytes of kind data, page shift %u", f->data_len,
			 f->data_len == sizeof(*h) ? h->page_shift : 0);
		return -1;
	}
	return 0;
}

const struct fd_kind_info fd_hugetlb_info = { IMG_FILE_HUGETLB, "huge pages", hugetlb_valid };

#ifdef FD_SAVE
static int hugetlb_match(struct ckpt_ctx *c, const struct fd_probe *p)
{
	return 0;	/* never an fd (an fd on such an object is refused as a special file) */
}

const struct fd_save_ops fd_hugetlb_save = { .kind = IMG_FILE_HUGETLB, .match = hugetlb_match };
#endif

#ifdef FD_RESTORE
#include "restart/rst.h"

/*
 * Every mapping of this object needs its huge pages: those staged already
 * hold theirs (restart_load.c reserves them), the others take them when
 * the restorer maps them, after the point of no return.
 */
static int hugetlb_verify(struct rst_state *s, const struct rst_file *f)
{
	const struct img_file_hugetlb *h = f->data;
	uint64_t pages = 0;

	for (int i = 0; i < s->nvmas; i++)
		if (s->vmas[i].v.file == f->f.id && (s->check_only || !s->vmas[i].staging))
			pages += (s->vmas[i].v.end - s->vmas[i].v.start) >> h->page_shift;
	if (!pages)
		return 0;
	return rst_hugetlb_check(s, h->page_shift, pages, rst_file_what(f));
}

const struct fd_restore_ops fd_hugetlb_restore = { .kind = IMG_FILE_HUGETLB,
						   .verify = hugetlb_verify };
#endif
