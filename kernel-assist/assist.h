/*
 * assist.h - the one interface to kernel state a process cannot reach with
 * ordinary system calls: a process with a chosen pid, the mm fields and
 * exe link of a restored process, and what this kernel and these
 * privileges allow.  restart/ uses only this.
 *
 * Back end here: the upstream kernel's own C/R interfaces (clone3 with
 * set_tid, ns_last_pid, PR_SET_MM_MAP).  The single-field PR_SET_MM_*
 * calls are never used: they need CAP_SYS_RESOURCE, which even root may
 * lack (it does on the CI machine); PR_SET_MM_MAP does not.
 */
#ifndef CKPT_ASSIST_H
#define CKPT_ASSIST_H

#include <sys/prctl.h>
#include <stddef.h>
#include <sys/types.h>
#include "libckpt/img_format.h"

struct assist_caps {
	int set_tid;		/* clone3 with set_tid permitted */
	int ns_last_pid;	/* /proc/sys/kernel/ns_last_pid writable */
	int exe_link;		/* PR_SET_MM_MAP may set exe_fd */
};

void assist_probe(struct assist_caps *caps);

/*
 * fork() whose child gets pid `pid`.  Returns 0 in the child, pid in the
 * parent, or -errno: -EEXIST pid taken, -EPERM no privilege.
 */
pid_t assist_fork_pid(pid_t pid);

/* Which process holds pid: 1 and its comm in name, 0 when free. */
int assist_pid_holder(pid_t pid, char *name, size_t len);

/*
 * Who keeps pid in use when no process has it (clone3 says EEXIST): a
 * process, often a zombie nobody has reaped yet, whose process group or
 * session id it still is.  1 with "the process group id of process 4321
 * (worker, a zombie)" in desc, 0 when none is found.  Walks /proc: for an
 * error message only.
 */
int assist_pid_user(pid_t pid, char *desc, size_t len);

/*
 * Fills a struct prctl_mm_map for PR_SET_MM_MAP from the image.  The
 * call itself is made by the restorer, after the restarter's own
 * executable is unmapped (the kernel refuses a new exe link before).
 */
void assist_mm_map_prepare(struct prctl_mm_map *m, const struct img_proc *p,
			   const uint64_t *auxv, int exe_fd);

/*
 * The namespace of `ckpt-run --pidns` (assist_ns.c), after
 * unshare(CLONE_NEWUSER | CLONE_NEWPID):
 *   assist_ns_map_ids    our uid and gid mapped to themselves, setgroups
 *                        denied (the most an unprivileged user may map)
 *   assist_ns_mount_proc in pid 1: a mount namespace of its own, mounts
 *                        private, the new pid namespace's /proc (libckpt
 *                        compares /proc/self with getpid())
 *   assist_ns_init_wait  pid 1's loop: pass signals on to child, reap
 *                        everything, return child's status (128+N for
 *                        signal N) or -errno
 *   assist_ns_forward_to pass signals on to pid (the waiting parents)
 * All return 0 or -errno; the caller says what failed.
 */
int assist_ns_map_ids(uid_t uid, gid_t gid);
int assist_ns_mount_proc(void);
int assist_ns_init_wait(pid_t child);
void assist_ns_forward_to(pid_t pid);

#endif
