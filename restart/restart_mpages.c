/*
 * restart_mpages.c - restarting from a mappable image: its MPAGES runs
 * are not read but mapped from the image file (MAP_PRIVATE) by the
 * restorer, over the fresh anonymous memory of their mapping.
 *
 * So a restart reads the metadata only (the reader lseeks past the page
 * data) and its cost does not grow with the memory; the process reads its
 * pages from the page cache when it touches them, and a write makes a
 * private copy, as for any private file mapping.  The image may be
 * deleted or replaced (renamed over) afterwards: the mapping keeps the
 * old inode.  A file rewritten in place would change under the process;
 * libckpt never does that (a new image goes to a temporary name, then is
 * renamed).
 *
 * What a restart does not do: read the data, so it does not check
 * data_crc.  `ckpt-restart --check` does (img_mpages_verify).
 *
 * Invariants: s->mpages is in address order, without overlap, and every
 * run lies inside one private anonymous mapping seen before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "restart/restorer.h"
#include "restart/rst.h"

int rst_load_mpages(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_mpages *p = img_get_mpages(&s->r, rec);
	uint64_t end;
	char err[256];
	int found = 0;

	if (!p) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (!s->r.is_file) {
		rst_error(s, "a mappable image cannot be restarted from a pipe: its memory is "
			  "mapped from the image file; give the file's name");
		return RST_EXIT_IMAGE;
	}
	if ((s->r.base + (int64_t)p->data_off) % IMG_PAGE_SIZE) {
		rst_error(s, "a mappable image must start on a page boundary of its file "
			  "(it starts at offset %lld)", (long long)s->r.base);
		return RST_EXIT_IMAGE;
	}
	end = p->addr + p->npages * IMG_PAGE_SIZE;
	for (int i = 0; i < s->nvmas && !found; i++) {
		const struct img_vma *v = &s->vmas[i].v;

		found = p->addr >= v->start && end <= v->end &&
			(v->flags & (IMG_VMA_ANON | IMG_VMA_PAGES)) == (IMG_VMA_ANON | IMG_VMA_PAGES) &&
			!(v->flags & (IMG_VMA_SHARED | IMG_VMA_GROWSDOWN | IMG_VMA_FILE)) &&
			!v->file;
	}
	if (!found) {
		rst_error(s, "corrupt: mappable pages at %lx (offset %lu) lie outside every "
			  "private anonymous mapping", (unsigned long)p->addr,
			  (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (s->nmpages) {
		const struct img_mpages *q = &s->mpages[s->nmpages - 1];

		if (p->addr < q->addr + q->npages * IMG_PAGE_SIZE) {
			rst_error(s, "corrupt: mappable pages at %lx (offset %lu) overlap or are "
				  "out of order", (unsigned long)p->addr, (unsigned long)rec->offset);
			return RST_EXIT_IMAGE;
		}
	}
	/* --check and --verify read the data; a sealed image's was read whole already */
	if ((s->check_only || (s->verify && !s->sealed)) &&
	    img_mpages_verify(s->img_fd, s->r.base, p, err, sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s", err);
		return RST_EXIT_IMAGE;
	}
	s->mpages = rst_grow(s->mpages, &s->mpages_cap, s->nmpages, sizeof(*s->mpages));
	s->mpages[s->nmpages++] = *p;
	return 0;
}

/*
 * The ops that map v's runs (counted only, with ops NULL): each an
 * RST_FILE op without copied runs, i.e. one mmap(MAP_FIXED | MAP_PRIVATE)
 * of the image fd, placed after v's own op (which maps it anonymous).
 */
int rst_mpages_ops(struct rst_state *s, const struct rst_vma *v, struct rst_op *ops)
{
	int n = 0;

	for (int i = 0; i < s->nmpages; i++) {
		const struct img_mpages *p = &s->mpages[i];

		if (p->addr < v->v.start || p->addr >= v->v.end)
			continue;
		if (ops)
			ops[n] = (struct rst_op){
				.start = p->addr,
				.end = p->addr + p->npages * IMG_PAGE_SIZE,
				.pgoff = (uint64_t)s->r.base + p->data_off,
				.kind = RST_FILE,
				.prot = v->v.prot,
				.mmap_flags = MAP_PRIVATE |
					      (v->v.attrs & IMG_VMA_ATTR_NORESERVE ? MAP_NORESERVE : 0),
				.fd = s->img_fd,
			};
		n++;
	}
	return n;
}
