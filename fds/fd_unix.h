/*
 * fd_unix.h - what the files of the unix socket kind share (fds/fd_unix.c:
 * the kind, its checks and the sockets' state; fd_unix_queue.c: queued
 * messages and fds in flight; fd_unix_make.c: a restart makes them again).
 * Read fd_unix.c's notes first.
 */
#ifndef CKPT_FD_UNIX_H
#define CKPT_FD_UNIX_H

#include <stddef.h>
#include <stdint.h>
#include "fds/fd_kind.h"

/* Newer than the build's headers (glibc 2.36): the kernel's numbers. */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD	76
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD	0x04
#endif

/* sun_path of a name of len bytes ("/path", "rel", "@abstract"), printable, into buf. */
void usk_name_text(const char *name, size_t len, char *buf, size_t cap);
/* "stream", "dgram", "seqpacket" (or "?"). */
const char *usk_type_name(uint32_t type);
/* The name and peer name of a checked UNIX FILE's kind data. */
static inline const char *usk_name(const struct img_file_unix *k)
{
	return (const char *)(k + 1);
}
static inline const char *usk_peer_name(const struct img_file_unix *k)
{
	return (const char *)(k + 1) + k->name_len;
}

#ifdef FD_SAVE
/*
 * The checkpoint's view of every unix socket of the image: those the
 * process's fds hold and those only in flight (carried by a queued
 * message).  Built by begin (pass 0) in scratch, read by every later step
 * of the checkpoint; one entry per socket (inode).
 */
struct usk_sock {
	struct img_file_unix k;		/* kind data, names apart: */
	char name[IMG_UNIX_NAME_MAX];
	char peer_name[IMG_UNIX_NAME_MAX];
	uint64_t ino;
	int fd;				/* an fd of the process on it (its lowest above
					 * 2 if any), or its fd in flight while the pass
					 * holds one, else -1 */
	int inflight;			/* no fd of the process holds it */
	int carrier;			/* in flight: the socket whose queue has it */
	int inherit;			/* only fds 0-2 hold it and its peer is outside:
					 * fd_inherit.c's, not ours */
	int state_diag;			/* sock_diag's udiag_state (TCP_*) */
	int has_peer;			/* sock_diag named a peer (0: one that is gone) */
	uint32_t nicons;		/* LISTEN: connections waiting */
	uint32_t scm_fds;		/* fds in flight on its queue (fdinfo) */
	uint32_t msg0, nmsg;		/* its queue: msgs[msg0 .. msg0 + nmsg) */
	uint32_t file;			/* pass 1: its FILE id once written */
	uint32_t ref;			/* a message carries it (an in-flight entry) */
	int32_t holder;			/* a tree: another member holds it (its pid; fd
					 * is that member's): foreign, sock_diag only,
					 * its holder's to decide and write */
};

/* A message of a queue, as captured by pass 0. */
struct usk_msg {
	uint64_t data;			/* its bytes at usk.data + data; the sender's
					 * address right after them */
	uint64_t qoff;			/* bytes of the queue before it (SO_PEEK_OFF) */
	uint32_t len;
	uint16_t how, flags;		/* IMG_UNIX_FROM_*, IMG_UNIX_MSG_* */
	uint16_t nfds, addr_len;
	int32_t pid;			/* SCM_CREDENTIALS as received */
	uint32_t uid, gid;
	uint32_t head;			/* a datagram first in its queue (plain MSG_PEEK) */
	uint64_t sender;		/* FROM_SOCKET: its inode */
	uint32_t fd0;			/* its fds in flight: fds[fd0 .. fd0 + nfds) */
};

/* An fd in flight: what it is, and in pass 1 its FILE. */
struct usk_fd {
	uint64_t dev, ino;
	uint32_t kind, file;
	int sock;			/* a unix socket: its entry, else -1 */
};

#define USK_MAX_SOCKS	4096
#define USK_MAX_MSGS	65536
#define USK_MAX_FDS	16384
#define USK_MAX_HELD	1024		/* fds a pass holds at once (fds in flight) */

struct usk_state {
	int built;			/* the table below is this checkpoint's, whole */
	int active;			/* inside a pass (begin to end) */
	int pass;			/* ... which one */
	int nl;				/* the sock_diag socket, -1 */
	int self;			/* getpid() */
	uint32_t overflow_uid, overflow_gid;	/* what "no credentials" reads as */
	int posix_locks;		/* -1 unknown, else whether the process holds any */
	struct usk_sock *socks;
	uint32_t nsocks;
	struct usk_msg *msgs;
	uint32_t nmsgs;
	struct usk_fd *fds;
	uint32_t nfds;
	unsigned char *data;		/* the queues' bytes */
	uint64_t ndata, data_cap;
	int held[USK_MAX_HELD];		/* fds received by peeks, closed at the pass's end */
	int nheld;
};

#define USK_TCP_ESTABLISHED	1	/* sock_diag's states */
#define USK_TCP_CLOSE		7
#define USK_TCP_LISTEN		10
#define USK_DIAG_BUF		(64u << 10)

/* A listener's waiting connection: client inode, listener entry, place. */
struct usk_icon {
	uint64_t client;
	uint32_t listener, pos;
};
#define USK_MAX_ICONS	16384

struct usk_extra {
	unsigned char *dbuf;		/* sock_diag replies */
	struct usk_icon *icons;
	uint32_t nicons;
};


/* One socket as sock_diag describes it (fd_unix_diag.c). */
struct usk_diag {
	int type, state, shutdown, has_peer;
	uint64_t peer, vfs_dev, vfs_ino;
	uint32_t rq, wq;
	const uint32_t *icons;
	uint32_t nicons;
	const char *name;
	uint32_t name_len;
};

/* The state in this checkpoint's scratch (fd_unix.c); the icons and replies' buffer. */
struct usk_state *usk_state(struct ckpt_ctx *c);
struct usk_extra *usk_extra(struct ckpt_ctx *c);
/* The entry of socket ino, or NULL. */
struct usk_sock *usk_find(struct usk_state *u, uint64_t ino);
/* Adds socket ino (held by fd, or in flight): its entry, or NULL after ckpt_fail. */
struct usk_sock *usk_add(struct ckpt_ctx *c, uint64_t ino, int fd, int inflight);
/* "fd 7" or "a socket in flight on fd 5" (for messages), into buf. */
const char *usk_what(struct usk_state *u, const struct usk_sock *s, char *buf, size_t len);
/* Keeps fd (received by a peek) until the end of the pass: 0, or -1 after ckpt_fail. */
int usk_hold(struct ckpt_ctx *c, int fd);

/*
 * fd_unix_diag.c: diag asks sock_diag about socket ino (0, -ENOENT: no
 * such socket, or -errno); read fills s->k and its names from it and
 * from the socket's options; refuse_extras refuses what cannot come back
 * (O_ASYNC, a filter, an out-of-band byte, a pending error); sockopt is
 * an int option (def when it cannot be read); peer_process writes
 * " (process 123, comm, uid 0)" for fd's peer (SO_PEERCRED), or "".
 */
int usk_diag(struct ckpt_ctx *c, uint64_t ino, struct usk_diag *d);
int usk_read(struct ckpt_ctx *c, struct usk_sock *s);
int usk_refuse_extras(struct ckpt_ctx *c, struct usk_sock *s);
int usk_sockopt(int fd, int opt, int def);
void usk_peer_process(int fd, char *buf, size_t len);

/*
 * fd_unix_queue.c: capture reads socket s's queue without consuming it
 * into the state (pass 0: messages, credentials, senders' addresses, the
 * fds in flight checked and their sockets added); from decides how each
 * queued message is sent again (after every socket is known); write, in
 * pass 1, writes the UNIX_MSG records of s (and the FILE records of the
 * fds they carry, receiving them again).  0 or the refusal.
 */
int usk_capture(struct ckpt_ctx *c, struct usk_sock *s);
int usk_from(struct ckpt_ctx *c, struct usk_sock *s);
int usk_write_queue(struct ckpt_ctx *c, struct usk_sock *s);

/*
 * fd_unix_tree.c: tree_scan adds the unix sockets the tree's other
 * members hold (foreign entries), in pass `pass`: 0 or -1 after
 * ckpt_fail; tree_walks says whether this process reads s's queue (in a
 * tree: in pass 1, the member that writes s's FILE).
 */
int usk_tree_scan(struct ckpt_ctx *c, int pass);
/* Whether any process this one can see holds socket ino (for a refusal's words). */
int usk_tree_held(struct ckpt_ctx *c, uint64_t ino);
int usk_tree_walks(struct ckpt_ctx *c, const struct usk_sock *s);
#endif

#ifdef FD_RESTORE
struct rst_state;
struct rst_file;
struct rst_usk_msg;

/* A UNIX FILE's restart state: its socket as made, its queue as read. */
struct rst_usk_file {
	int sock;			/* made by the build (fd_unix_make.c), -1 */
	int standin;			/* the stand-in for a gone peer, -1 */
	struct rst_usk_msg *msgs;	/* its queue, in order */
	size_t nmsgs, cap;
};

struct rst_usk_msg {
	struct img_unix_msg m;
	uint32_t *fds;			/* m.nfds FILE ids */
	char *addr;			/* m.addr_len bytes */
	unsigned char *data;		/* m.len bytes */
};

/* f's restart state, made on first use. */
struct rst_usk_file *rst_usk_of(struct rst_file *f);
/* A name bound by a live socket of this machine (sock_diag dump). */
struct usk_live {
	char name[IMG_UNIX_NAME_MAX];
	uint16_t len;
	uint64_t vfs_dev, vfs_ino;
};

/* A listener made for accepted sockets whose own is not in the image. */
struct usk_tmp {
	uint32_t type;
	char name[IMG_UNIX_NAME_MAX];
	uint16_t len;
	int fd, unlink_after;
};

/* The restart's state of unix sockets (s->usk). */
struct rst_usk {
	int checked, built, failed;
	struct usk_live *live;
	size_t nlive, live_cap;
	struct usk_tmp *tmp;
	size_t ntmp, tmp_cap;
	char (*gone)[IMG_UNIX_NAME_MAX + 1];	/* paths to unlink at the end */
	size_t ngone, gone_cap;
};

/* A UNIX FILE's kind data (checked by the reader). */
static inline const struct img_file_unix *usk_kd(const struct rst_file *f)
{
	return f->data;
}

/*
 * fd_unix_check.c: the state (made on first use); the machine's bound
 * names loaded again (sock_diag dump: 0, or -1 with errno), whether a live
 * socket has abstract name; whether path name can be bound: 0 free, 1 the
 * original's leftover (the file bound as vdev/vino, by no live socket: to
 * remove first), -1 taken, with why; the image's listener an accepted f
 * came from (or NULL); the kind's verify (every check, on the first call).
 */
struct rst_usk *rst_usk_global(struct rst_state *s);
int rst_usk_live_load(struct rst_usk *g);
int rst_usk_live_abstract(const struct rst_usk *g, const char *name, size_t len);
int rst_usk_path_state(const struct rst_usk *g, const char *name, size_t len, uint64_t vdev,
		       uint64_t vino, char *why, size_t wlen);
struct rst_file *rst_usk_listener_of(struct rst_state *s, const struct rst_file *f);
int rst_usk_verify(struct rst_state *s, const struct rst_file *f);
/* The UNIX FILE whose socket has inode ino, or NULL. */
struct rst_file *rst_usk_by_ino(struct rst_state *s, uint64_t ino);
/* fd_unix_queue.c: sends every queued message of every UNIX FILE again: 0 or -1 reported. */
int rst_usk_fill(struct rst_state *s);
/* fd_unix_queue.c: the checks of the queues against the FILEs (--check too): 0 or a problem. */
int rst_usk_check_queues(struct rst_state *s);
#endif

#endif
