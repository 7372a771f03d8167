/*
 * ckpt_tree.h - checkpointing a process tree (docs/INTERNALS.md, "Process
 * trees"): the engine's side.
 *
 * Every process of the tree runs ckpt_run() in its own handler, as for a
 * single process; c->tree says it is part of a tree and which part:
 *   coordinator  the process asked to checkpoint, which has children:
 *                ckpt_tree_begin() when ckpt_proc_check finds them;
 *   member       a descendant asked by the coordinator (shim_tree.c):
 *                ckpt_tree_member() before ckpt_run.
 * ckpt_run then calls, in order:
 *   ckpt_tree_parked()  after every check passed: the one cut (members
 *                       report and wait, the coordinator gathers the tree);
 *   ckpt_tree_finish()  once the section's state is captured into the
 *                       sink: forked copy or not, the section written in
 *                       its turn, the release.
 * In between, a section's records go to a memfd (the sink, c->img_fd);
 * the image itself is the coordinator's (tree.img_fd) and reaches each
 * member with its turn.
 *
 * Async-signal-safe like the rest of the engine.  One tree checkpoint at
 * a time per process (the save slot), so the state is static.
 */
#ifndef CKPT_TREE_H
#define CKPT_TREE_H

#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include "libckpt/tree_proto.h"

struct ckpt_ctx;

/*
 * FILE ids in a tree (ckpt_fds.c): section k's descriptions are
 * k << CKPT_TREE_ID_SHIFT | (its lowest fd + 1); a file only mappings
 * hold is k << CKPT_TREE_ID_SHIFT | CKPT_TREE_ID_MAPPED | (its inode
 * number's low 18 bits), and the rest (a description only in flight)
 * k << CKPT_TREE_ID_SHIFT | CKPT_TREE_ID_MORE + n.  So a member can name
 * a FILE an earlier member writes, knowing only that member's fds and
 * shared mappings (/proc).  Two files only mappings hold whose inode
 * numbers share their low 18 bits, in one process, are refused.
 */
#define CKPT_TREE_ID_SHIFT	20
#define CKPT_TREE_ID_MAPPED	0x80000u
#define CKPT_TREE_ID_INO_MASK	0x3ffffu
#define CKPT_TREE_ID_MORE	0xc0000u

/* The coordinator's view of one process of the tree. */
struct ckpt_tree_node {
	int32_t pid, ppid, pgid, sid;
	int conn;			/* its connection; -1 before it connects, and for
					 * the coordinator itself */
	int state;			/* TREE_NODE_* */
	int parent;			/* the node of its parent, -1 for the root */
	int faithful;			/* PARKED said TREE_FAITHFUL */
	int stop_sig;			/* it was stopped: continued, to be stopped again */
	int32_t tpgid;			/* the foreground group of its terminal (stat), -1: none */
	uint64_t asked_ns;		/* when the request was sent */
	struct tree_zombie z;		/* TREE_NODE_ZOMBIE: as its parent reported it */
};

enum {
	TREE_PHASE_NONE = 0,
	TREE_PHASE_PARKED,		/* PARKED sent */
	TREE_PHASE_CAPTURED,		/* CAPTURED sent */
	TREE_PHASE_RELEASED,		/* RELEASE (or ABORT) received / sent */
};

enum {
	TREE_NODE_ASKED = 1,		/* request sent, not yet parked */
	TREE_NODE_PARKED,		/* parked and checked */
	TREE_NODE_ZOMBIE,		/* exited before it parked, or a zombie child */
	TREE_NODE_GONE,			/* exited and reaped before it parked */
	TREE_NODE_CAPTURED,
};

/* What an earlier member holds (ckpt_tree_fds.c): an fd, or a range of shared memory. */
struct ckpt_tree_obj {
	uint64_t dev, ino;
	uint64_t start, end;		/* a mapping: its byte range of the object (pgoff) */
	int32_t section;		/* the member's */
	int32_t fd;			/* an fd; -1: a shared anonymous mapping */
};
#define CKPT_TREE_OBJS_MAX	(1 << 18)

struct ckpt_tree {
	int coord;			/* 1: the coordinator */
	int sock;			/* member: its connection; coordinator: listening */
	uint32_t cookie;
	int index;			/* this process's section */
	int nmembers;			/* sections (live members) */
	int forked;			/* every member writes from a forked copy */
	int stop_sig;			/* member: stop again after the release */
	int sink;			/* memfd: the section up to its VMAs */
	int32_t *pids;			/* pids by section (scratch) */
	/* the coordinator */
	int img_fd;			/* the image */
	struct ckpt_tree_node *nodes;	/* live members first, by section, once gathered */
	int nnodes;
	unsigned char *msg;		/* one message's buffer */
	uint8_t *own;			/* bitmap of its sockets' fds (< CKPT_MAX_FDS) */
	struct pollfd *pfds;		/* the listening socket and every connection */
	unsigned char *dirbuf;		/* the directory's writer buffer */
	/* a member */
	int32_t *kids;			/* its children, as PARKED reported them */
	int nkids;
	int phase;			/* TREE_PHASE_*: what it has sent */
	int ended;			/* ckpt_tree_end() ran */
	/* earlier members' fds and mappings (ckpt_tree_fds.c) */
	struct ckpt_tree_obj *objs;
	int nobjs, objs_read;
	char *text;			/* a /proc file of another member */
	/* this checkpoint's scratch, MAP_SHARED: a forked copy sees the nodes */
	unsigned char *scratch;
	size_t scratch_len;
};

/*
 * The shim, for a tree request (the control signal with si_value
 * TREE_SIG_MAGIC << 32 | cookie from si_pid): whether info is one.
 */
int ckpt_tree_request(const siginfo_t *info);

/*
 * The shim, in a member, before ckpt_run: connects to the coordinator
 * (si_pid of info), checks it is an ancestor, makes the sink.  0 and
 * c->tree, c->img_fd, c->ctl_fd set; or -errno, logged (no reply can be
 * made to a coordinator one cannot reach).  A member whose save slot is
 * taken still connects and reports EBUSY: ckpt_tree_refuse().
 */
int ckpt_tree_member(struct ckpt_ctx *c, const siginfo_t *info);
void ckpt_tree_refuse(struct ckpt_ctx *c, int err, const char *why);

/* ckpt_proc_check found children: c becomes the coordinator.  0 or -errno (c->err). */
int ckpt_tree_begin(struct ckpt_ctx *c);
int ckpt_tree_parked(struct ckpt_ctx *c);
/*
 * After the section's metadata is in the sink.  Returns c->error; sets
 * c->forked as ckpt_run would (CKPT_FORKED_CHILD: the copy, done writing)
 * and released as ckpt_fork_copy does: ckpt_run closes [1] after the
 * release, the copy waits for that before it reports.
 */
int ckpt_tree_finish(struct ckpt_ctx *c, int released[2]);
/*
 * Before the release (ckpt_run's out path): a failed checkpoint tells
 * everyone (ABORT); a member that was stopped stops again.  Then the
 * sockets and the sink are closed, the scratch unmapped.
 */
void ckpt_tree_end(struct ckpt_ctx *c);

/* Whether fd is libckpt's own for this tree checkpoint (not the application's). */
int ckpt_tree_own_fd(const struct ckpt_ctx *c, int fd);
/* Whether [a, b) is the tree's scratch (never saved). */
int ckpt_tree_scratch(const struct ckpt_ctx *c, uint64_t *a, uint64_t *b);

/*
 * ckpt_tree_fds.c: what earlier members hold.  file_id: the FILE id of
 * the description fd shares with an earlier member (kcmp), or 0; first:
 * the id of the first FILE an earlier member writes for inode (dev, ino)
 * (for its fd, or for its shared mapping of a file with no path: the
 * lower section's), or 0; new_id: the id this member gives a description
 * whose lowest fd is fd (-1: one only in flight); mapped_id: the id
 * section k gives a file only mappings hold.  shm: for a shared anonymous mapping,
 * whether an earlier member maps the same object (1: its pages are that
 * member's; the range must be one it maps, else -1 with c->err).
 */
uint32_t ckpt_tree_file_id(struct ckpt_ctx *c, int fd, uint64_t dev, uint64_t ino);
uint32_t ckpt_tree_first(struct ckpt_ctx *c, uint64_t dev, uint64_t ino);
uint32_t ckpt_tree_new_id(struct ckpt_ctx *c, int fd);
uint32_t ckpt_tree_mapped_id(int section, uint64_t ino);
/* The coordinator: every member's fds and shared mappings, into a memfd for CAPTURE (or -1). */
int ckpt_tree_objs_share(struct ckpt_ctx *c);
int ckpt_tree_shm(struct ckpt_ctx *c, uint64_t dev, uint64_t ino, uint64_t pgoff, uint64_t len);
/*
 * A later member (a higher section) that holds the open file description
 * of our fd (an fd in flight): its pid and its fd in *theirs, or 0.  Read
 * in pass 1 only (every member parked): one readdir of each later member.
 */
pid_t ckpt_tree_later_holder(struct ckpt_ctx *c, int fd, uint64_t dev, uint64_t ino, int *theirs);

/*
 * An epoll item's file (fds/fd_epoll.c) that no fd of this process
 * holds: the FILE id an fd of another member gives it (an earlier
 * member's, from the coordinator's table; else the first later member
 * holding it, whose lowest fd names it), found by kcmp(KCMP_EPOLL_TFD)
 * on fds of the inode number ino; 0: none holds it.  Pass 1 only.
 */
struct kcmp_epoll_slot;
uint32_t ckpt_tree_epoll_target(struct ckpt_ctx *c, const struct kcmp_epoll_slot *slot,
				uint64_t ino);

/* ckpt_tree_scan.c: a process's children (all its threads'), its ids and state. */
int ckpt_tree_children(pid_t pid, int32_t *out, int max, char *buf, size_t buflen);
struct ckpt_tree_stat {
	int32_t ppid, pgid, sid;
	int32_t tpgid;			/* the foreground group of its terminal, -1: none */
	uint32_t flags;			/* the kernel's PF_* */
	char state;			/* R S D T t Z X ... */
	int exit_signal;
	char comm[32];
};
int ckpt_tree_stat(pid_t pid, struct ckpt_tree_stat *st, char *buf, size_t buflen);
/*
 * Whether pid can be asked to checkpoint: 0, or -errno with why in err
 * (does not run libckpt: -ENOEXEC, which a process in the middle of an
 * execve shows too for an instant; traced, another user; does not catch
 * the control signal yet (-EAGAIN: retry)).
 */
int ckpt_tree_askable(pid_t pid, int ctl_sig, const struct ckpt_tree_stat *st,
		      char *buf, size_t buflen, char *err, size_t errlen);

#endif
