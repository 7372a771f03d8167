/*
 * info_mem.h - the saved process's memory as ckpt-info reads it, for
 * backtraces (info_bt.c) and --diff (info_diff.c): a page is, in order,
 *   1. the image's own page (a PAGES or MPAGES run), decoded and checked;
 *   2. else, in a private anonymous area: in an incremental image's
 *      inherited range, the page as its parent image holds it (the chain
 *      is read as ckpt-restart finds it: the stored path, else the same
 *      file name next to the image; the identity the PARENT record names
 *      must match; loaded once, without re-verifying its page data, kept
 *      for the run); else zero (what a restart makes);
 *   3. else, in a file mapping: the mapped file's page at its offset,
 *      read from the file on this machine, when the file is the one the
 *      image recorded (inode, size, mtime); otherwise unknown.
 * Everything else (shared anonymous, [vdso], a FILE-backed mapping such
 * as a memfd) is unknown: a read of it fails, and says why.
 *
 * Files (modules) are opened read-only (links followed: /usr/lib paths
 * often are links; the inode, size and mtime check is what guards), mapped
 * once and kept for the whole run with their ELF symbols (info_elf.c).
 * ckpt-info only reads them; a file truncated while it runs would raise
 * SIGBUS, as for any tool that maps what it reads.
 */
#ifndef CKPT_TOOLS_INFO_MEM_H
#define CKPT_TOOLS_INFO_MEM_H

#include <stdint.h>
#include <time.h>
#include "tools/info.h"
#include "tools/info_elf.h"

enum info_mod_state {
	MOD_OK,			/* the file the image recorded, an ELF we read */
	MOD_MISSING,		/* cannot be opened here */
	MOD_CHANGED,		/* another file now (inode, size or mtime differ) */
	MOD_NOTELF,		/* the same file, but no ELF this reads: no symbols */
};

struct info_mod {
	char *path;
	uint64_t ino;
	int64_t size, mtime_ns;
	enum info_mod_state state;
	char why[160];		/* the state in words, for people */
	const unsigned char *map;	/* the file, mapped (MOD_OK, MOD_NOTELF) */
	size_t len;
	struct elfr elf;	/* MOD_OK */
};

#define INFO_MEM_CACHE	8	/* decoded runs kept */

struct info_mem {
	const struct info *in;
	struct {
		size_t run;
		unsigned char *data;	/* IMG_PAGES_MAX pages, or NULL */
	} cache[INFO_MEM_CACHE];
	int next;
	struct info_mem *parent;	/* an incremental image's parent: inherited pages from it */
	int parent_owned;		/* parent is ours (loaded here), not the caller's */
	int parent_tried;
	int depth;			/* parents above the image read */
	char parent_why[240];		/* why the parent cannot be read */
	struct timespec deadline;	/* reads fail after it (0: none) */
	int timed_out;
	char why[200];		/* why the last read failed */
};

void info_mem_init(struct info_mem *m, const struct info *in);
void info_mem_done(struct info_mem *m);
/* n bytes at addr into buf: 0, or -1 with m->why. */
int info_mem_read(struct info_mem *m, uint64_t addr, void *buf, size_t n);
/* The memory area that holds addr, or NULL. */
const struct info_vma *info_mem_vma(const struct info *in, uint64_t addr);
/* The run that holds the page at addr, or NULL. */
const struct info_run *info_mem_run(const struct info *in, uint64_t addr);
/*
 * A run's pages, decoded (npages * IMG_PAGE_SIZE bytes in dst): 0, or -1
 * with m->why (the record changed or is corrupt).
 */
int info_mem_load_run(struct info_mem *m, const struct info_run *r, unsigned char *dst);
/* The module a file mapping maps (opened and checked the first time), or NULL if v maps none. */
struct info_mod *info_mod_of(const struct info_vma *v);
/* Frees every module (end of the run). */
void info_mods_free(void);

#endif
