/*
 * ckpt.h - libckpt's public API.
 *
 *   #include <ckpt.h>
 *   switch (ckpt_save("snap")) {
 *   case CKPT_SAVED:    ... the image is complete, we go on ...
 *   case CKPT_RESTORED: ... we are the copy `ckpt-restart snap` made ...
 *   default:            fprintf(stderr, "%s\n", ckpt_last_error());
 *   }
 *
 * Like fork(), ckpt_save() returns twice: once in the process that saved
 * the image, and once in every process restarted from it.
 *
 * Link with -lckpt (or `pkg-config --libs ckpt`): the program then needs
 * the library, and gets it, whatever the linker's --as-needed says.
 *
 * A program that must also run without libckpt defines CKPT_WEAK before
 * including this header: the library's entry points become weak
 * references, nothing is linked, and the functions below report ENOSYS
 * ("libckpt is not loaded") unless it runs under LD_PRELOAD=libckpt.so
 * (ckpt-run).  Weak references alone never make -lckpt a dependency, so
 * such a program must be preloaded, not linked, to checkpoint.
 */
#ifndef CKPT_H
#define CKPT_H

#include <errno.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_SAVED	1	/* the image is complete; this is the original */
#define CKPT_RESTORED	2	/* this process was restarted from the image */

/* ckpt_options.flags */
#define CKPT_OPT_FSYNC	0x1	/* fsync the image before returning */
/*
 * A mappable image: memory stored raw and page aligned, so that
 * `ckpt-restart` maps it from the file (restart time independent of the
 * memory size; pages are read from the page cache when touched).
 */
#define CKPT_OPT_MAPPABLE	0x2
/*
 * Store only the pages written since the previous image this process
 * saved, which the new image names as its parent (by path and identity);
 * ckpt-restart follows the chain.  The first such save, one after a
 * restart, and one whose parent is gone or replaced are full images.
 * Each image of a chain needs its own path.
 */
#define CKPT_OPT_INCREMENTAL	0x4
/*
 * Return as soon as the process's state is captured: a copy-on-write
 * fork of the process writes the page data while the caller runs on.
 * ckpt_save() then returns CKPT_SAVED before the image is complete; the
 * image appears under `path` (renamed into place, never half written)
 * when the copy has finished, and a failure of the copy is logged (see
 * CKPT_LOG).  Falls back to writing in place where a fork would not be
 * faithful (shared anonymous, MADV_DONTFORK or MADV_WIPEONFORK memory).
 */
#define CKPT_OPT_FORK	0x8

struct ckpt_options {
	unsigned flags;		/* CKPT_OPT_* */
	unsigned reserved[7];	/* zero */
};

/* The library's entry points (versioned names; use the inlines below). */
#ifdef CKPT_WEAK
#define CKPT_REF_ __attribute__((weak))
#define CKPT_LOADED_() (ckpt_save_v1 != 0)
#else
#define CKPT_REF_
#define CKPT_LOADED_() 1
#endif
/* C/R-aware programs: see ckpt_hook_add() below. */
#define CKPT_HOOK_BEFORE	0x1	/* before a checkpoint; may veto it */
#define CKPT_HOOK_AFTER		0x2	/* after it, in the process that goes on */
#define CKPT_HOOK_RESTART	0x4	/* in a process restarted from the image */
typedef int (*ckpt_hook_fn)(int when, void *arg, char *msg, size_t msglen);

int ckpt_save_v1(const char *path, const struct ckpt_options *opts) CKPT_REF_;
const char *ckpt_last_error_v1(void) CKPT_REF_;
int ckpt_hook_add_v1(int when, ckpt_hook_fn fn, void *arg) CKPT_REF_;
int ckpt_hook_remove_v1(int when, ckpt_hook_fn fn, void *arg) CKPT_REF_;
int ckpt_exclude_v1(void *addr, size_t len, int exclude) CKPT_REF_;

/*
 * Checkpoint the calling process into `path` ("-" is not allowed here:
 * use ckpt-save for pipes).  Returns CKPT_SAVED or CKPT_RESTORED, or -1
 * with errno set and ckpt_last_error() saying why; on failure nothing is
 * left under `path`.
 */
static inline int ckpt_save_opts(const char *path, const struct ckpt_options *opts)
{
	if (!CKPT_LOADED_()) {
		errno = ENOSYS;
		return -1;
	}
	return ckpt_save_v1(path, opts);
}

static inline int ckpt_save(const char *path)
{
	return ckpt_save_opts(path, 0);
}

/* Why the last ckpt_save() of this thread failed (never NULL). */
static inline const char *ckpt_last_error(void)
{
	if (!CKPT_LOADED_())
		return "libckpt is not loaded (link with -lckpt or run under ckpt-run)";
	return ckpt_last_error_v1();
}

/*
 * Hooks (BLCR's callbacks, CRaC's beforeCheckpoint/afterRestore): fn(when,
 * arg, msg, msglen) runs for each event of the mask `when`
 * (CKPT_HOOK_*), with the event that happens:
 *   BEFORE   before the process is stopped for a checkpoint: close a
 *            connection, flush a log.  A nonzero return vetoes the
 *            checkpoint, with the reason written into msg: ckpt_save()
 *            fails with ECANCELED, ckpt-save reports it, no image is made.
 *   AFTER    in the process that goes on, after every checkpoint whose
 *            BEFORE hooks ran (made, failed or vetoed): reopen what
 *            BEFORE closed.
 *   RESTART  in a process restarted from the image, as it runs again
 *            (its other threads run meanwhile): reconnect, reseed a
 *            random generator.  In place of AFTER there.
 * BEFORE hooks run newest first, AFTER and RESTART oldest first.  They run
 * in a normal thread context, never in a signal handler: for ckpt_save()
 * in its caller's thread; for a checkpoint from outside (ckpt-save,
 * CKPT_SIGNAL, CKPT_INTERVAL, CKPT_ON_TERM) in a thread libckpt starts at
 * the first ckpt_hook_add(), while the application's threads run on until
 * the hooks are done.  Returns 0, or -1 with errno (EINVAL: no fn or no
 * known event in `when`; ENOSPC: 64 hooks already; EBUSY: called from a
 * hook; or why the thread could not start).  ckpt_hook_remove() takes
 * exactly what ckpt_hook_add() was given (ENOENT if absent).
 */
static inline int ckpt_hook_add(int when, ckpt_hook_fn fn, void *arg)
{
	if (!CKPT_LOADED_()) {
		errno = ENOSYS;
		return -1;
	}
	return ckpt_hook_add_v1(when, fn, arg);
}

static inline int ckpt_hook_remove(int when, ckpt_hook_fn fn, void *arg)
{
	if (!CKPT_LOADED_()) {
		errno = ENOSYS;
		return -1;
	}
	return ckpt_hook_remove_v1(when, fn, arg);
}

/*
 * Memory not saved: the pages of [addr, addr + len) (page aligned: use
 * mmap or aligned_alloc) are left out of every image from now on and
 * read as zeros in a restarted process — a cache it rebuilds, a secret
 * that must not reach the image.  Applies to private anonymous memory
 * (heap, anonymous mappings, stacks); pages of a file or shared mapping
 * in the range are saved as usual.  By address: memory mapped there
 * later is excluded too, until ckpt_include() of the range.  Returns 0,
 * or -1 with errno (EINVAL: not page aligned, len 0 or wrapping; ENOSPC:
 * 64 separate ranges already).
 */
static inline int ckpt_exclude(void *addr, size_t len)
{
	if (!CKPT_LOADED_()) {
		errno = ENOSYS;
		return -1;
	}
	return ckpt_exclude_v1(addr, len, 1);
}

/* Undoes ckpt_exclude() for [addr, addr + len): saved again from the next image. */
static inline int ckpt_include(void *addr, size_t len)
{
	if (!CKPT_LOADED_()) {
		errno = ENOSYS;
		return -1;
	}
	return ckpt_exclude_v1(addr, len, 0);
}

/* 1 when libckpt is loaded in this process. */
static inline int ckpt_available(void)
{
	return CKPT_LOADED_();
}

#ifdef __cplusplus
}
#endif

#endif
