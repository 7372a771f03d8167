/*
 * info.h - ckpt-info's model of an image and the pieces that print it:
 * info_load.c reads and checks a whole image into struct info,
 * info_names.c names flags, signals and kinds, info_text.c and
 * info_json.c print it for people and for scripts, ckpt_info.c is main.
 */
#ifndef CKPT_TOOLS_INFO_H
#define CKPT_TOOLS_INFO_H

#include <stddef.h>
#include <stdint.h>
#include "libckpt/img.h"

#define INFO_EXIT_USAGE		1
#define INFO_EXIT_CORRUPT	2
#define INFO_EXIT_INCOMPAT	3

struct info_str {
	char *s;
	size_t n;
};

struct info_fd {
	struct img_fd f;
	struct info_str path;
};

struct info_vma {
	struct img_vma v;
	struct info_str path;
	uint64_t pages;		/* page runs' pages stored for it */
	uint64_t zero_pages;	/* of which ZERO codec */
	uint64_t raw;		/* bytes those pages hold in memory */
	uint64_t stored;	/* bytes of page data in the image */
	struct img_range *guards;	/* v.nguards guard regions (MADV_GUARD_INSTALL) */
};

struct info {
	const char *name;
	int verify;
	struct img_header hdr;
	uint64_t image_bytes;
	struct img_proc proc;
	struct info_str cwd, exe;
	struct img_thread *thr;
	size_t nthr;
	struct img_siginfo *sigs;	/* queued signals, in image order */
	size_t nsig;
	struct img_timer *timers;
	size_t ntimer;
	struct info_fd *fds;
	size_t nfd;
	struct info_vma *vmas;
	size_t nvma;
	size_t nsorted;		/* vmas[0..nsorted) sorted and checked */
	int has_parent;		/* incremental: the PARENT record */
	struct img_parent parent;
	struct info_str parent_path;
	uint32_t mlock_mcl;	/* MLOCK record: IMG_MCL_*, 0 if none */
	uint64_t inherited;	/* bytes of the inherited ranges */
	uint64_t mapped, pages, zero_pages, raw, stored;
	char err[320];
};

struct info_flag {
	uint64_t bit;
	const char *name;
};
extern const struct info_flag info_sa_flags[];
extern const struct info_flag info_open_flags[];
/* IMG_VMA_ATTR_* (but VMFLAGS) by the VmFlags names: "dc", "lo", "mw"... */
extern const struct info_flag info_vma_attrs[];

int info_load(struct info *in, int fd);
void info_free(struct info *in);
const char *info_signame(int sig, char *buf, size_t n);
/*
 * A queued signal's siginfo as ckpt-info shows it: the sender's pid and
 * uid (for kill, sigqueue, tgkill and SIGCHLD; other codes put other
 * fields there) and the sigqueue value (SIGCHLD: the status).
 */
struct info_sig {
	int signo, code, pid;
	unsigned uid;
	long long value;
};
void info_sig_fields(const struct img_siginfo *q, struct info_sig *f);
/* "ITIMER_REAL", ..., or "POSIX" */
const char *info_timer_kind(const struct img_timer *t);
/* "signal", "none", "thread" (SIGEV_THREAD) or "thread-id" */
const char *info_timer_notify(const struct img_timer *t);
const char *info_rlimit_name(int i);
const char *info_fd_kind(uint32_t kind);
const char *info_accmode(uint32_t flags);
const char *info_vma_kind(const struct img_vma *v);
void info_perm(const struct img_vma *v, char out[5]);
size_t info_utf8_len(const unsigned char *p, size_t n, size_t i);
void txt_print(const struct info *in);
void json_print(const struct info *in);

#endif
