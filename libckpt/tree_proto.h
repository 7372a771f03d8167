/*
 * tree_proto.h - the messages between a tree's coordinator and its
 * members during one checkpoint (docs/INTERNALS.md, "Process trees").
 *
 * Transport: the coordinator listens on the abstract unix socket
 * tree_sock_name(its pid, cookie), SOCK_SEQPACKET, so one message is one
 * recv.  A member learns the name from its tree request (the control
 * signal with si_value = TREE_SIG_MAGIC << 32 | cookie, from si_pid) and
 * connects; both sides check the other with SO_PEERCRED.
 *
 * Sequence (member's view; the coordinator does the same for itself):
 *   -> PARKED     its threads are parked and it passed every check
 *                 (status 0), or why not (status < 0, err); its ids and its
 *                 children (count pids follow)
 *   <- CAPTURE    everyone is parked: capture now, into section `index`;
 *                 the pids of all `count` members follow, by section;
 *                 TREE_FORKED: write from a forked copy
 *      ABORT      someone refused: release, the checkpoint failed (err)
 *   -> CAPTURED   its state is captured (status), and its children that
 *                 are zombies (count struct tree_zombie follow)
 *   <- RELEASE    every member captured its state: run again
 *   <- GO         (forked: to the copy, after RELEASE; in place: before)
 *                 write your section at image offset `off`; the image fd
 *                 comes with it (SCM_RIGHTS)
 *   -> DONE       written (status); off is where the image ends now
 * A connection closed early is an ABORT (or, from a member, its end).
 * Every struct is fixed size; tree_check() refuses anything else.
 */
#ifndef CKPT_TREE_PROTO_H
#define CKPT_TREE_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define TREE_SIG_MAGIC		0x54524545u	/* "TREE": high half of si_value */
#define TREE_MSG_MAGIC		0x4d455254u	/* "TREM" */
#define TREE_MAX_MEMBERS	2048		/* FILE ids of every section fit an int (ckpt_tree.h) */
#define TREE_MAX_CHILDREN	4096		/* live children of one member */
#define TREE_MAX_ZOMBIES	1024		/* zombie children of one member */
#define TREE_ERR_LEN		512

enum tree_msg_type {
	TREE_PARKED = 1,
	TREE_CAPTURE,
	TREE_CAPTURED,
	TREE_RELEASE,
	TREE_ABORT,
	TREE_GO,
	TREE_DONE,
};

/* tree_msg.flags */
#define TREE_FAITHFUL	0x1	/* PARKED: a forked copy would see its memory as it is */
#define TREE_FORKED	0x2	/* CAPTURE: every member writes from a forked copy */
#define TREE_MAPPABLE	0x4	/* CAPTURE: the image is mappable (IMG_F_MAPPABLE) */

struct tree_msg {
	uint32_t magic;			/* TREE_MSG_MAGIC */
	uint32_t type;			/* enum tree_msg_type */
	int32_t  status;		/* 0, or -errno with err */
	int32_t  pid;			/* the member that sends it (members only) */
	uint32_t index;			/* CAPTURE: its section */
	uint32_t count;			/* entries that follow (see the top) */
	uint32_t flags;			/* TREE_* */
	int32_t  ppid, pgid, sid;	/* PARKED */
	int32_t  stop_sig;		/* CAPTURE: it was stopped (and continued for the
					 * checkpoint): stop again with this after the
					 * release; 0 otherwise */
	uint64_t off;			/* GO, DONE: image offset */
	uint64_t mem_bytes;		/* DONE: memory bytes saved */
	char     err[TREE_ERR_LEN];	/* NUL-terminated */
};

/* A child of a member that has exited and is not reaped, as waitid saw it. */
struct tree_zombie {
	int32_t  pid;
	int32_t  code;			/* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
	int32_t  status;		/* exit code, or signal */
	uint32_t reserved;
	uint64_t ru[11];		/* utime_us, stime_us, maxrss, minflt, majflt,
					 * inblock, oublock, nvcsw, nivcsw, 0, 0 */
};

/* The coordinator's socket name; returns its length. */
socklen_t tree_sock_name(struct sockaddr_un *sun, int pid, uint32_t cookie);

/*
 * 0 when buf (n bytes) is one well-formed message of `type` carrying its
 * count of entries of `entry` bytes each, at most `max`; -1 otherwise.
 */
int tree_check(const void *buf, size_t n, uint32_t type, size_t entry, uint32_t max);

#endif
