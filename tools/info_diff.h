/*
 * info_diff.h - `ckpt-info --diff A B`: what changed between two images
 * of one process.  info_diffcmp.c compares two loaded images (pure logic:
 * tested by tests/unit/test_info_diff.c); info_diff.c loads, reads pages
 * and prints (text and JSON).
 *
 * What is compared:
 *   maps     by address: one map in both when it starts at the same
 *            address, or overlaps with the same path and kind (a map that
 *            grew or shrank); else added or removed; changed when start,
 *            end, protection, flags, file offset, path or file identity
 *            differ;
 *   fds      by number: added, removed, changed (kind, path, open flags,
 *            offset or fd flags differ; FILE ids are per image, never
 *            compared);
 *   threads  by tid: added, removed; in both, whether the backtraces the
 *            checkpoints stored (BACKTRACE records) differ in any frame's pc
 *            (not compared where either image has none);
 *   pages    of every map in both (but [vdso], [vvar]), over the part both
 *            cover: a page either image holds is compared byte for byte
 *            (read as info_mem.c reads memory: the image's page, zero, or
 *            the mapped file's); pages neither holds are equal when both
 *            are zero (private anonymous) or the same page of the same
 *            unchanged file, unknown when either cannot be known
 *            (incremental image, shared memory), else different.
 */
#ifndef CKPT_TOOLS_INFO_DIFF_H
#define CKPT_TOOLS_INFO_DIFF_H

#include <stdint.h>
#include "tools/info.h"

/*
 * A page of side (0: A, 1: B) at addr (inside one of that side's maps):
 * 0 and *data (IMG_PAGE_SIZE bytes, valid until the next call for that
 * side), or -1 when its contents cannot be known.
 */
typedef int (*info_diff_page_fn)(void *ctx, int side, uint64_t addr, const unsigned char **data);

/* what differs between two maps with one start (bits of info_diff_map.changed) */
#define DIFF_MAP_END	0x01
#define DIFF_MAP_PROT	0x02
#define DIFF_MAP_FLAGS	0x04
#define DIFF_MAP_PGOFF	0x08
#define DIFF_MAP_PATH	0x10
#define DIFF_MAP_FILE	0x20	/* same path, another file (inode, size, mtime) */
#define DIFF_MAP_START	0x40	/* (paired as overlapping, with one path and kind) */

struct info_diff_map {
	const struct info_vma *a, *b;	/* a NULL: added in B; b NULL: removed */
	unsigned changed;		/* DIFF_MAP_* (both present) */
	uint64_t pages;			/* pages compared (both present) */
	uint64_t differ, unknown;
};

/* what differs between two fds of one number */
#define DIFF_FD_KIND	0x01
#define DIFF_FD_PATH	0x02
#define DIFF_FD_FLAGS	0x04
#define DIFF_FD_POS	0x08
#define DIFF_FD_FDFLAGS	0x10

struct info_diff_fd {
	const struct info_fd *a, *b;	/* a NULL: added; b NULL: removed */
	unsigned changed;		/* DIFF_FD_* */
};

struct info_diff {
	struct info_diff_map *maps;	/* every map of A and B, by address */
	size_t nmap;
	size_t maps_added, maps_removed, maps_changed;
	struct info_diff_fd *fds;	/* fds added, removed or changed, by number */
	size_t nfd;
	size_t fds_added, fds_removed, fds_changed;
	int *thr_added, *thr_removed;	/* tids */
	size_t nthr_added, nthr_removed, nthr_same;
	int *thr_moved;			/* tids in both whose stored backtraces differ */
	size_t nthr_moved;
	uint64_t pages_differ, pages_unknown;
	size_t regions_differ;		/* maps with a page that differs */
};

/* Compares a and b (both loaded, one process each): 0, or -1 when out of memory. */
int info_diff_compute(const struct info *a, const struct info *b, info_diff_page_fn page,
		      void *ctx, struct info_diff *d);
void info_diff_free(struct info_diff *d);

/* addr lies in one of in's inherited ranges (an incremental image's pages kept by its parent). */
int info_inherited(const struct info *in, uint64_t addr);

/* info_diff.c: `ckpt-info --diff [--json] A B`; the exit status. */
int info_diff_main(const char *a, const char *b, int json);

#endif
