/*
 * assist.h - the one interface to kernel state a process cannot reach with
 * ordinary system calls: a process with a chosen pid, the mm fields and
 * exe link of a restored process, and what this kernel and these
 * privileges allow.  restart/ uses only this.
 *
 * Two back ends for a chosen pid, picked at run time (assist_choose):
 *  - upstream (assist_upstream.c): the kernel's own C/R interfaces (clone3
 *    with set_tid, ns_last_pid), for a caller with CAP_CHECKPOINT_RESTORE;
 *  - module (assist_module.c): the kernel-assist module's CLONE
 *    (/dev/ckpt-assist, kernel-assist/module/), for a caller its
 *    administrator's policy lists, privileged or not.
 * PR_SET_MM_MAP is the kernel's own either way.  The single-field
 * PR_SET_MM_* calls are never used: they need CAP_SYS_RESOURCE, which even
 * root may lack (it does on the CI machine); PR_SET_MM_MAP does not.
 */
#ifndef CKPT_ASSIST_H
#define CKPT_ASSIST_H

#include <sys/prctl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "libckpt/img_format.h"

struct assist_caps {
	int set_tid;		/* clone3 with set_tid permitted */
	int ns_last_pid;	/* /proc/sys/kernel/ns_last_pid writable */
	int exe_link;		/* PR_SET_MM_MAP may set exe_fd */
};

void assist_probe(struct assist_caps *caps);

/* ---- the back end (assist_module.c) ---- */
enum assist_backend {
	ASSIST_AUTO = 0,	/* the module when it serves this caller, else upstream */
	ASSIST_UPSTREAM,
	ASSIST_MODULE,
};

/* What /dev/ckpt-assist says to this caller (VERSION). */
struct assist_module_state {
	int present;		/* the device opened and answered VERSION */
	int err;		/* else the errno of the open or of VERSION */
	uint32_t abi;
	uint64_t ops;		/* CKPT_ASSIST_OP_* */
	uint32_t policy;	/* CKPT_ASSIST_POL_* for this caller */
};

/* The facts a choice is made from; assist_decide is a pure function of them. */
struct assist_facts {
	int want;		/* enum assist_backend: --assist= */
	int upstream;		/* clone3 set_tid or ns_last_pid allowed */
	uid_t uid;		/* for the message */
	struct assist_module_state mod;
};

/*
 * The back end for pids: ASSIST_UPSTREAM or ASSIST_MODULE with the reason
 * in why ("the kernel-assist module: its policy lists uid 1000"), or -1
 * when neither can serve, why saying what each lacks.
 */
int assist_decide(const struct assist_facts *f, char *why, size_t len);

/* "auto", "upstream", "module" into enum assist_backend, -1 otherwise. */
int assist_parse(const char *name);
const char *assist_name(int backend);

void assist_module_probe(struct assist_module_state *m);

/*
 * Probes (once: later calls return the first answer) and decides; from
 * then on assist_fork_pid uses that back end.  The module's fd stays open
 * (close-on-exec) while the module is in use for anything: pids, and
 * POSIX timer ids (assist_timer_mode).  Returns the back end or -1.
 */
int assist_choose(int want, int upstream, char *why, size_t len);
int assist_backend(void);		/* chosen, ASSIST_UPSTREAM before any choice */
int assist_module_fd(void);		/* the open device, or -1 */
/*
 * 1 when the executable link must be set through the module's EXE_LINK:
 * pids come from the module for a caller without CAP_CHECKPOINT_RESTORE
 * (PR_SET_MM_MAP refuses it an exe_fd).
 */
int assist_module_exe(void);
void assist_module_fd_moved(int fd);	/* the restart moved it to fd */
void assist_module_close(void);		/* the waiting parent: no longer needed
					 * (an open fd keeps the module from unloading) */

/*
 * The module's pid range for listed users (its pid_min= and pid_max=
 * parameters, world-readable in sysfs): 0, or -1 when unknown.
 */
int assist_module_pid_range(long *lo, long *hi);

/*
 * How the restorer makes POSIX timers with their ids (restorer.h
 * RST_TIMER_IDS_*): the kernel's PR_TIMER_CREATE_RESTORE_IDS (6.16),
 * the module's TIMER_ID, or create and delete until the kernel's counter
 * reaches the id (bounded: ASSIST_TIMER_CYCLE_MAX ids in all).
 */
#define ASSIST_TIMER_CYCLE_MAX	(1 << 20)
enum { ASSIST_TIMERS_PRCTL = 0, ASSIST_TIMERS_MODULE, ASSIST_TIMERS_CYCLE };
int assist_timer_mode(int prctl_ok, char *why, size_t len);

/*
 * fork() whose child gets pid `pid`, through the chosen back end.
 * Returns 0 in the child, pid in the parent, or -errno: -EEXIST pid
 * taken, -EPERM no privilege (or, through the module, a pid outside its
 * policy's range).
 */
pid_t assist_fork_pid(pid_t pid);
pid_t assist_module_fork(pid_t pid);	/* the module's part of it */

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
