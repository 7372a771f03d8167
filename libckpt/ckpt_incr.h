/*
 * ckpt_incr.h - incremental checkpoints: dirty-page tracking
 * (ckpt_dirty.c) and the parent an incremental image names
 * (ckpt_parent.c).  docs/INTERNALS.md, "Incremental checkpoints", tells
 * the whole story; the invariants:
 *
 *  1. A range is inherited from the parent (listed in the PARENT record,
 *     its unchanged pages left out) only when libckpt tracked every write
 *     to it since the parent's instant: the same VMA was registered with
 *     libckpt's userfaultfd (write-protect, async mode) at the parent's
 *     checkpoint and still is (a VMA that was unmapped, remapped or moved
 *     loses its registration, and then PAGEMAP_SCAN refuses it).
 *  2. PAGEMAP_SCAN with PM_SCAN_WP_MATCHING reports the pages written since
 *     the last protection, also pages zapped by MADV_DONTNEED (they read as
 *     zero: stored as ZERO runs), and protects them again in the same call.
 *  3. Everything else — new, moved or untrackable VMAs, file and shared
 *     mappings — is saved as in a full image, and never inherited.
 *  4. The scan re-protects pages, so a checkpoint that fails after it
 *     forgets the parent: the next incremental is a full image.
 *  5. A restored process has no tracking (the userfaultfd is not part of
 *     the image): its first checkpoint is full.
 * All of it runs in the checkpoint signal handler: raw system calls only.
 */
#ifndef CKPT_INCR_H
#define CKPT_INCR_H

#include <stdint.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_uffd.h"

#define CKPT_DIRTY_MAX_VMAS	65536u
#define CKPT_DIRTY_MAX_REGIONS	(1u << 20)	/* dirty runs per checkpoint */
/* a region's categories: pages without a PTE, ZERO runs (ckpt_softdirty.c) */
#define CKPT_DIRTY_ZERO		(1ULL << 63)

enum ckpt_dirty_state {
	CKPT_DV_NONE = 0,	/* not tracked: saved as in a full image */
	CKPT_DV_WHOLE,		/* tracked from now on: saved whole this time */
	CKPT_DV_DIRTY,		/* tracked since the parent: only dirty pages */
};

struct ckpt_dirty_vma {
	uint32_t first, n;	/* its dirty regions in run->reg */
	uint32_t state;		/* enum ckpt_dirty_state */
};

/* One checkpoint's tracking results: in the scratch (a forked writer has a copy). */
struct ckpt_dirty_run {
	int track;		/* tracking is on: the VMAs were (re)protected */
	int incr;		/* this image is incremental */
	unsigned excl_gen;	/* ckpt_excl_gen() at the cut (ckpt_parent.c) */
	uint32_t nreg;
	struct ckpt_dirty_vma vma[CKPT_DIRTY_MAX_VMAS];
	/* the PARENT record's tail: inherited ranges, then the path */
	unsigned char parent_tail[(CKPT_DIRTY_MAX_VMAS + CKPT_EXCL_MAX) * sizeof(struct img_range) +
				  4096];
	struct page_region reg[CKPT_DIRTY_MAX_REGIONS];
};

/* ckpt_dirty.c */
/*
 * After validation, before the header is written: decides full or
 * incremental (sets IMG_F_INCREMENTAL in c->hdr_flags), scans the tracked
 * VMAs and protects the others.  0, or -errno with c->err.
 */
int ckpt_dirty_prepare(struct ckpt_ctx *c);
/* 1 when VMA i is written by ckpt_dirty_write_vma, not ckpt_mem_write_vma. */
int ckpt_dirty_owns(struct ckpt_ctx *c, int i);
int ckpt_dirty_write_vma(struct ckpt_ctx *c, int i);
/* In the process (not the writer copy), after the image: new tracking state. */
void ckpt_dirty_finish(struct ckpt_ctx *c);
/* 1 when fd is libckpt's userfaultfd: not an application fd. */
int ckpt_dirty_is_own_fd(int fd);
/* In a restarted process: no tracking, no parent (the fd is not ours). */
void ckpt_dirty_reset(void);

/* ckpt_softdirty.c: the tracker where the kernel has no WP_ASYNC */
/* 1 when soft-dirty bits work here (CONFIG_MEM_SOFT_DIRTY), probed once. */
int ckpt_sd_probe(void);
/*
 * The dirty pages of a VMA tracked since the parent (regions; pages with
 * no PTE as CKPT_DIRTY_ZERO ones).  -1: save it whole (the leader writes
 * it, the table is full, or whole costs less).
 */
int ckpt_sd_scan(struct ckpt_ctx *c, struct ckpt_dirty_run *run, const struct ckpt_vma *v,
		 struct ckpt_dirty_vma *dv);
/* Every page clean again (/proc/self/clear_refs "4"). 0 or -errno. */
int ckpt_sd_clear(void);

/* ckpt_parent.c */
/*
 * 1 when the previous image may be the parent of this one (it is still
 * on disk under its name, with its identity), 0 when this image must be
 * full, -errno (c->err) when the new image would replace its own parent.
 */
int ckpt_parent_usable(struct ckpt_ctx *c);
int ckpt_parent_write(struct ckpt_ctx *c);		/* PARENT, if incremental */
void ckpt_parent_remember(struct ckpt_ctx *c);		/* this image: the next parent */
void ckpt_parent_forget(void);

#endif
