/*
 * ctl_proto.h - the control protocol between ckpt-save and a process
 * running libckpt.
 *
 * Why a socket and not a path in shared memory: the image fd is opened by
 * ckpt-save (an O_TMPFILE or a random temporary name, or its own stdout
 * for `-`) and passed with SCM_RIGHTS, so the checkpointed process never
 * opens the image by name, never renames anything, and a pipe works the
 * same as a file.  The request still names the final path (an
 * incremental image names its parent by it, and the next one must know
 * it) and the temporary name, if the file has one: a forked writer whose
 * reply finds ckpt-save gone removes the file nobody will rename.
 *
 * Sequence:
 *   1. ckpt-save listens on the abstract unix socket ctl_sock_name(its pid).
 *   2. It sends the checkpoint signal to the target with sigqueue();
 *      the handler reads the sender's pid from siginfo.si_pid.
 *   3. The handler connects, checks SO_PEERCRED (same uid or root),
 *      receives one struct ctl_request with the image fd attached
 *      (ckpt-save creates the file only now, owned by the peer's uid).
 *   4. It writes the image to that fd (sending struct ctl_progress now and
 *      then if asked) and sends one struct ctl_reply.
 *   5. ckpt-save renames the temporary file on success (unlinks it on
 *      failure) and prints the reply.
 *
 * Both messages are fixed size; the parsers below refuse anything else.
 * Everything here is async-signal-safe (used in the handler).
 */
#ifndef CKPT_CTL_PROTO_H
#define CKPT_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CTL_REQ_MAGIC	0x51524b43u	/* "CKRQ" */
#define CTL_REP_MAGIC	0x50524b43u	/* "CKRP" */
#define CTL_VERSION	2	/* 2: the request names the image (path, tmp_name) */

/* ctl_request.flags */
#define CTL_F_FSYNC	0x1	/* fsync the image before replying */
#define CTL_F_EXIT	0x2	/* exit after a successful checkpoint */
#define CTL_F_MAPPABLE	0x4	/* a mappable image (IMG_F_MAPPABLE) */
#define CTL_F_INCREMENTAL 0x8	/* only pages written since the last image (CKPT_OPT_INCREMENTAL) */
#define CTL_F_PROGRESS	0x10	/* send ctl_progress messages before the reply */
#define CTL_F_KNOWN	(CTL_F_FSYNC | CTL_F_EXIT | CTL_F_MAPPABLE | CTL_F_INCREMENTAL | \
			 CTL_F_PROGRESS)

#define CTL_PATH_MAX	4096
#define CTL_NAME_MAX	256

/*
 * Strings are NUL-terminated and zero after the NUL (one encoding per
 * message).  path: absolute, or "" when the image is not a file with a
 * name (a pipe); tmp_name: one path component in path's directory, or ""
 * when the file has no name yet (O_TMPFILE) or path is "".
 */
struct ctl_request {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;		/* CTL_F_* */
	uint32_t reserved;	/* zero */
	char     path[CTL_PATH_MAX];	/* the image's final path */
	char     tmp_name[CTL_NAME_MAX];	/* its name until then */
};

struct ctl_reply {
	uint32_t magic;
	uint32_t version;
	int32_t  status;	/* 0, or -errno of the failure */
	int32_t  pid;		/* the checkpointed process */
	uint64_t image_bytes;	/* bytes written */
	uint64_t mem_bytes;	/* bytes of memory the image holds */
	uint64_t elapsed_ns;	/* signal to image complete */
	char     msg[256];	/* NUL-terminated; the refusal reason, or on
				 * success a note for the user (or "") */
};

/*
 * With CTL_F_PROGRESS (ckpt-save on a terminal), the process sends these
 * while it writes the page data, at most every CTL_PROGRESS_MS, without
 * blocking (one that would block is dropped): memory saved so far, and
 * its estimate of the whole (its anonymous memory, 0 if unknown), so
 * ckpt-save can show a rate and the time left.  Then the reply, as always.
 */
#define CTL_PRG_MAGIC	0x47524b43u	/* "CKRG" */
#define CTL_PROGRESS_MS	200

struct ctl_progress {
	uint32_t magic;
	uint32_t version;
	uint64_t done_bytes;	/* memory written so far */
	uint64_t total_bytes;	/* estimate of the memory to write, 0 unknown */
};

/* Abstract socket address for a ckpt-save process; returns its length. */
socklen_t ctl_sock_name(struct sockaddr_un *sun, int pid);

/* 0 when buf holds exactly one valid message, -1 otherwise (*out undefined). */
int ctl_parse_request(const void *buf, size_t len, struct ctl_request *out);
int ctl_parse_reply(const void *buf, size_t len, struct ctl_reply *out);
int ctl_parse_progress(const void *buf, size_t len, struct ctl_progress *out);

#endif
