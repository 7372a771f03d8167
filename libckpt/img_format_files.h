/*
 * img_format_files.h - the image format's open files: FILE and FD records,
 * the kinds of file (enum img_file_kind) and each kind's data, and the
 * records that follow a FILE (FILE_DATA, PIPE_DATA, UNIX_MSG, MQ_MSGS,
 * INOTIFY_WATCH, INET_QUEUE, PTY_DATA).  Part of img_format.h, which
 * includes it where the section stood (its record numbers, header and
 * invariants hold here too); nothing else includes it.
 */
#ifndef CKPT_IMG_FORMAT_FILES_H
#define CKPT_IMG_FORMAT_FILES_H

#ifndef CKPT_IMG_FORMAT_H
#error "include libckpt/img_format.h, not img_format_files.h"
#endif

/* --- FILE and FD ---------------------------------------------------- */

/*
 * A FILE record is one open file description (what open() makes and
 * dup()/fork() share: one offset, one set of status flags); an FD record
 * is one number in the process's fd table that refers to a FILE by id.
 * Two fds made by dup() are two FD records naming one FILE, so a restart
 * shares the description again.  The kind says how a restart makes the
 * description (fds/: one file per kind holds its save and restore halves)
 * and what, if anything, follows the path: `data_len` bytes of the kind's
 * own struct (img_file_<kind> below), declared here and nowhere else.
 */
enum img_file_kind {
	IMG_FILE_REG	 = 1,		/* regular file, reopened by path */
	IMG_FILE_DIR	 = 2,		/* directory, reopened by path */
	IMG_FILE_CHR	 = 3,		/* device every machine has (/dev/null...) */
	IMG_FILE_INHERIT = 4,		/* fd 0-2 on a terminal, pipe or socket: the
					 * restarted process gets ckpt-restart's own */
	IMG_FILE_OPATH	 = 5,		/* O_PATH: a location, reopened O_PATH */
	IMG_FILE_GHOST	 = 6,		/* regular file deleted while open or mapped:
					 * contents in FILE_DATA, made again unnamed */
	IMG_FILE_MEMFD	 = 7,		/* memfd_create(): name, seals, contents */
	IMG_FILE_PIDFD	 = 8,		/* pidfd of the process itself or one of its threads */
	IMG_FILE_HUGETLB = 9,		/* the hugetlbfs object behind an anonymous
					 * MAP_HUGETLB mapping: named by VMAs, never an fd */
	IMG_FILE_PIPE	 = 10,		/* an end of a pipe (pipe(2)): made again, with
					 * its capacity and bytes in flight (PIPE_DATA) */
	IMG_FILE_FIFO	 = 11,		/* an end of a FIFO (named pipe): reopened by
					 * path, with its capacity and bytes in flight */
	IMG_FILE_UNIX	 = 12,		/* unix domain socket: img_file_unix, its queue
					 * in UNIX_MSG records (fds/fd_unix.c) */
	IMG_FILE_MQUEUE	 = 13,		/* a POSIX message queue (mq_open): attributes,
					 * notification; its messages in MQ_MSGS */
	IMG_FILE_PSHM	 = 14,		/* a POSIX shared memory object (shm_open: a file
					 * of the tmpfs on /dev/shm): contents in FILE_DATA,
					 * reused, put back or made again by its name */
	IMG_FILE_EVENTFD = 15,		/* eventfd(): counter, EFD_SEMAPHORE */
	IMG_FILE_TIMERFD = 16,		/* timerfd_create(): clock, time left, period,
					 * expirations not yet read */
	IMG_FILE_SIGNALFD = 17,		/* signalfd(): its signal mask */
	IMG_FILE_INOTIFY = 18,		/* inotify_init1(): its watches in INOTIFY_WATCH */
	IMG_FILE_EPOLL	 = 19,		/* an epoll instance (epoll_create): its interest
					 * list in EPOLL_ITEM records (fds/fd_epoll.c) */
	IMG_FILE_INET	 = 20,		/* a TCP or UDP socket over IPv4 or IPv6:
					 * img_file_inet, a TCP connection's queues in
					 * INET_QUEUE records (fds/fd_inet.c) */
	IMG_FILE_NETLINK = 21,		/* a NETLINK_ROUTE socket: img_file_netlink */
	IMG_FILE_TTY	 = 22,		/* a terminal (img_file_tty): restarted on
					 * ckpt-restart's terminal (fds/fd_tty.c) */
};
#define IMG_FILE_KIND_MAX	22	/* highest kind this reader knows */

struct img_file {
	uint32_t id;			/* > 0, unique among the image's FILEs */
	uint32_t kind;			/* enum img_file_kind */
	uint32_t flags;			/* open flags (fdinfo "flags"), no O_CLOEXEC */
	uint32_t path_len;		/* bytes of path after the struct */
	int64_t  pos;			/* offset (fdinfo "pos") */
	uint64_t dev, ino, rdev;	/* fstat() of the file */
	int64_t  size;
	int64_t  mtime_ns;
	uint32_t mode;			/* st_mode */
	uint32_t data_len;		/* bytes of kind data right after the struct
					 * (aligned: img_file is 72 bytes), before the path */
};

/* Readers refuse more kind data than this (a FILE record is metadata). */
#define IMG_FILE_DATA_MAX	(64u << 10)

/*
 * Kind data of the kinds that have some (after the path).
 *
 * GHOST and MEMFD: one file may be open in several descriptions (two
 * open()s of it before it was deleted, a memfd reopened through
 * /proc/self/fd) and mapped: all of them must meet on one file again.
 * The first FILE of a file carries its contents (FILE_DATA records right
 * after it) and has same_as 0; every later FILE of the same file names
 * it in same_as and has no contents of its own.  img_file.size is the
 * file's size, img_file.mode its type and permissions.
 */
struct img_file_ghost {
	uint32_t same_as;		/* 0, or the id of an earlier GHOST of this file */
	uint32_t reserved;		/* zero */
};

#define IMG_MEMFD_NAME_MAX	249	/* the kernel's limit (NAME_MAX - "memfd:") */

struct img_file_memfd {
	uint32_t same_as;		/* 0, or the id of an earlier MEMFD of this memfd */
	uint32_t seals;			/* F_GET_SEALS (F_SEAL_*: 0x3f bits at most) */
	uint32_t hugetlb_shift;		/* 0, or log2 of the huge page size (MFD_HUGETLB) */
	uint32_t name_len;		/* bytes of the name after the struct ("memfd:" not
					 * included), <= IMG_MEMFD_NAME_MAX, no '/' or NUL */
};

struct img_file_pidfd {
	int32_t  pid;			/* the image's pid (the process, or with PIDFD_THREAD
					 * its main thread), or with PIDFD_THREAD a THREAD's
					 * tid; flags hold O_NONBLOCK (PIDFD_NONBLOCK) and
					 * O_EXCL (PIDFD_THREAD) */
	uint32_t reserved;		/* zero */
};

struct img_file_hugetlb {
	uint32_t page_shift;		/* log2 of the huge page size: 21 (2 MiB) or 30 (1 GiB) */
	uint32_t reserved;		/* zero */
};

/*
 * PIPE and FIFO: one FILE per open file description of a pipe: its read
 * end, its write end, or both (a description opened O_RDWR: a FIFO, or a
 * pipe reopened through /proc/PID/fd).  img_file.flags are the
 * description's (O_ACCMODE says which end; O_NONBLOCK; O_DIRECT: packet
 * mode; O_LARGEFILE: it was made by open(), not by pipe(), which matters
 * to a restart: a pipe has one read and one write description made by
 * pipe(), the others are reopens).  path: "pipe:[ino]" (PIPE), the
 * FIFO's absolute path (FIFO); mode S_IFIFO and its permissions.
 *
 * The first FILE of a pipe (by dev and ino; same_as 0) carries the pipe
 * itself: its capacity and its bytes in flight, in PIPE_DATA records
 * right after it; every later FILE of the same pipe names it in same_as,
 * with capacity and bytes 0.  In a tree of processes, the FILE ids are
 * the image's and a pipe's first FILE may be another process's.
 */
#define IMG_O_LARGEFILE		0100000	/* the kernel's O_LARGEFILE in img_file.flags
					 * (glibc's is 0 on x86_64, musl's is this) */
#define IMG_PIPE_NOHUP		0x1	/* img_file_pipe.flags: a FIFO read description
					 * that has seen no writer since it was opened:
					 * poll() shows no POLLHUP although no writer holds
					 * the FIFO (a restart opens it while none does) */
#define IMG_PIPE_MIN		4096u		/* the smallest capacity (one page) */
#define IMG_PIPE_MAX		(1u << 31)	/* the largest the kernel gives */

struct img_file_pipe {
	uint32_t same_as;		/* 0, or the id of an earlier FILE of this pipe */
	uint32_t flags;			/* IMG_PIPE_NOHUP */
	uint32_t capacity;		/* same_as 0: F_GETPIPE_SZ, a power of 2 in
					 * IMG_PIPE_MIN..IMG_PIPE_MAX; else 0 */
	uint32_t reserved;		/* zero */
	uint64_t bytes;			/* same_as 0: bytes in flight (<= capacity), all in
					 * the PIPE_DATA records that follow; else 0 */
};

/*
 * PIPE_DATA: bytes in flight in a pipe or FIFO, in the order its reader
 * would read them, after the pipe's first FILE (only PIPE_DATA between);
 * together exactly img_file_pipe.bytes.  A record with IMG_PIPE_PACKET is
 * one packet (written through an O_DIRECT end: a read returns at most
 * one packet, and discards what it does not take of it); the others are
 * a plain stream, cut anywhere.  Raw bytes: a pipe holds little, and
 * mostly what the program is about to read.
 */
#define IMG_PIPE_PACKET		0x1		/* img_pipe_data.flags */
#define IMG_PIPE_CHUNK		(64u << 10)	/* bytes in one record, at most */
#define IMG_PIPE_PACKET_MAX	4096u		/* bytes in one packet, at most (PIPE_BUF) */

struct img_pipe_data {
	uint32_t file;			/* the pipe's first FILE (same_as 0) */
	uint32_t flags;			/* IMG_PIPE_PACKET */
	uint32_t len;			/* 1..IMG_PIPE_CHUNK bytes follow (a packet:
					 * 1..IMG_PIPE_PACKET_MAX) */
	uint32_t reserved;		/* zero */
};

/*
 * UNIX: one unix domain socket (fds/fd_unix.c).  A socket has exactly one
 * open file description, so one FILE per socket, named by every fd that
 * holds it and by the UNIX_MSG records that carry it in flight.  Sockets
 * refer to each other by inode (img_file.ino of the other's FILE, which
 * may come later in the image): peer, listener.  After the struct, inside
 * data_len: name_len bytes of the socket's own name and peer_name_len
 * bytes of its peer's (sun_path as getsockname/getpeername give it; an
 * abstract name starts with its NUL).  img_file.flags keeps O_NONBLOCK.
 */
enum img_unix_state {
	IMG_UNIX_UNCONNECTED = 1,	/* no peer (maybe bound) */
	IMG_UNIX_CONNECTED   = 2,	/* peer: a socket of the image, or gone */
	IMG_UNIX_LISTEN      = 3,	/* listen(backlog) (stream, seqpacket) */
	IMG_UNIX_PENDING     = 4,	/* connected to `listener`, not yet accepted:
					 * `backlog` is its place in that queue (0 first) */
};
#define IMG_UNIX_STATE_MAX	4

/* img_file_unix.uflags */
#define IMG_UNIX_PEER_GONE	0x001	/* CONNECTED to a socket now closed (peer 0) */
#define IMG_UNIX_PEER_RESET	0x002	/* ... and the next read fails ECONNRESET */
#define IMG_UNIX_ACCEPTED	0x004	/* stream/seqpacket CONNECTED: made by accept()
					 * on a listener named `name` (the image's
					 * `listener`, or one made for it and closed) */
#define IMG_UNIX_NAME_GONE	0x008	/* a path name whose file was removed or
					 * replaced: bound again, then unlinked */
#define IMG_UNIX_PASSCRED	0x010	/* SO_PASSCRED */
#define IMG_UNIX_PASSSEC	0x020	/* SO_PASSSEC */
#define IMG_UNIX_PASSPIDFD	0x040	/* SO_PASSPIDFD */
#define IMG_UNIX_NOPASSRIGHTS	0x080	/* SO_PASSRIGHTS off (Linux 6.16) */
#define IMG_UNIX_FLAGS		0x0ff

#define IMG_UNIX_NAME_MAX	108	/* sizeof(sun_path) */

struct img_file_unix {
	uint32_t type;			/* SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5 */
	uint32_t state;			/* enum img_unix_state */
	uint32_t uflags;		/* IMG_UNIX_* */
	uint32_t shutdown;		/* its own: 1 receive (SHUT_RD), 2 send (SHUT_WR) */
	uint64_t peer;			/* CONNECTED: the peer's inode, 0 if gone */
	uint64_t listener;		/* PENDING, ACCEPTED: the listener's inode (0 for
					 * ACCEPTED: none in the image) */
	uint32_t backlog;		/* LISTEN: listen()'s backlog; PENDING: place */
	int32_t  peek_off;		/* SO_PEEK_OFF, -1: off */
	int32_t  rcvbuf, sndbuf;	/* SO_RCVBUF, SO_SNDBUF (as getsockopt says) */
	int32_t  rcvlowat;		/* SO_RCVLOWAT */
	uint32_t vfs_mode;		/* a path name: its file's st_mode then, 0 if gone */
	uint64_t rcvtimeo_us, sndtimeo_us;	/* SO_RCVTIMEO, SO_SNDTIMEO, 0: none */
	uint64_t vfs_dev, vfs_ino;	/* a path name: the socket file bound (sock_diag) */
	uint16_t name_len;		/* 0..IMG_UNIX_NAME_MAX bytes after the struct */
	uint16_t peer_name_len;		/* 0..IMG_UNIX_NAME_MAX bytes after those */
	uint32_t reserved;		/* zero */
};

/*
 * UNIX_MSG: one message (a datagram, a seqpacket record, or a stretch of
 * stream bytes that a reader gets in one piece: same credentials, at most
 * one set of fds, at its end) in the receive queue of socket `file`, in
 * queue order; records of one socket come in its queue's order.  After the
 * struct: nfds FILE ids (uint32: the open files it carries, SCM_RIGHTS),
 * addr_len bytes of the sender's name (datagrams: what recvfrom gives),
 * len bytes of data.  `how` says which socket sends it again at restart.
 */
enum img_unix_from {
	IMG_UNIX_FROM_PEER = 1,		/* the socket's peer (or a stand-in for a gone one) */
	IMG_UNIX_FROM_SOCKET = 2,	/* socket `sender` (bound to addr), to this one's name */
	IMG_UNIX_FROM_ANON = 3,		/* an unnamed socket made for it, to this one's name */
};
#define IMG_UNIX_MSG_CREDS	0x1	/* pid, uid, gid: SCM_CREDENTIALS it carries */
#define IMG_UNIX_MSG_MAX	(16u << 20)	/* data bytes of one record */
#define IMG_UNIX_MSG_FDS	253	/* SCM_MAX_FD */

struct img_unix_msg {
	uint32_t file;			/* the receiving socket's FILE (before this record) */
	uint16_t how;			/* enum img_unix_from */
	uint16_t flags;			/* IMG_UNIX_MSG_* */
	uint32_t len;			/* data bytes, 0..IMG_UNIX_MSG_MAX */
	uint16_t nfds;			/* 0..IMG_UNIX_MSG_FDS */
	uint16_t addr_len;		/* 0..IMG_UNIX_NAME_MAX */
	int32_t  pid;			/* CREDS: as the receiver saw them; else 0 */
	uint32_t uid, gid;
	uint32_t reserved;		/* zero */
	uint64_t sender;		/* FROM_SOCKET: the sender's inode; else 0 */
};

/*
 * PSHM: a POSIX shared memory object, a regular file of the tmpfs mounted
 * on /dev/shm (shm_open, sem_open's "sem.NAME"), with one name (st_nlink
 * 1): the path is where it is ("/dev/shm/name"), absolute and plain (no
 * "//", ".", ".." component), never " (deleted)" (an unlinked one is a
 * GHOST).  img_file.size, mode, mtime_ns and dev/ino are the object's;
 * flags and pos the description's (a FILE only mappings hold: O_RDONLY,
 * 0).  An object is named by its identity (dev, ino), not by id: several
 * FILEs (descriptions, mappings, in several processes of a tree) may be
 * of one object, and the FIRST of them in the image carries its contents
 * (IMG_PSHM_DATA, FILE_DATA records right after it); every later FILE of
 * the same (dev, ino) has the same path and no contents.  (A later
 * process of a tree cannot know the id of a FILE an earlier one wrote for
 * a mapping, so no same_as.)  At restart the object under the path is
 * reused when it is this one: same dev and ino, and birth time where
 * both know it; gone, it is made again; another file there is refused.
 */
#define IMG_PSHM_DATA		1	/* img_file_pshm.flags: FILE_DATA records follow */

struct img_file_pshm {
	uint32_t flags;			/* IMG_PSHM_DATA */
	uint32_t uid, gid;		/* the object's owner */
	uint32_t reserved;		/* zero */
	int64_t  btime_ns;		/* its birth time (statx STATX_BTIME), -1: unknown */
};

/*
 * TTY: one open file description of a terminal the process runs on: a
 * pty slave or a virtual console, at any fd number, or /dev/tty (role
 * DEVTTY: path "/dev/tty").  The image has one such terminal: the
 * process's (in a tree: the root's) controlling terminal, or without one
 * the terminal at its fds 0-2.  Roles MASTER and SLAVE are the ends of a
 * pty the image's processes made themselves (script, expect, tmux): made
 * again as a pair with the same index, settings, window size, packet
 * mode and lock (fds/fd_tty_pty.c).  A restart opens each description on ckpt-restart's own terminal
 * (a pty or console of the machine it runs on), sets the saved termios
 * there, and sends SIGWINCH when that terminal's size is not the saved
 * one (fds/fd_tty.c; job control: fds/fd_tty_job.c).  img_file.rdev is
 * fstat's (5:0 for /dev/tty); major and minor are the terminal's.
 */
enum img_tty_role {
	IMG_TTY_TERMINAL = 1,		/* the terminal's own node (/dev/pts/N, /dev/ttyN) */
	IMG_TTY_DEVTTY	 = 2,		/* /dev/tty: a description of the controlling terminal */
	IMG_TTY_MASTER	 = 3,		/* the master of a pty the image holds (/dev/ptmx) */
	IMG_TTY_SLAVE	 = 4,		/* the slave of such a pty (/dev/pts/index) */
};
enum img_tty_class {
	IMG_TTY_PTY	 = 1,		/* a pty (TERMINAL, DEVTTY: its master is outside) */
	IMG_TTY_VT	 = 2,		/* a virtual console (major 4, minor 1..63) */
};
#define IMG_TTY_CTTY		0x1	/* img_file_tty.flags: the controlling terminal of the
					 * process that wrote the FILE */
#define IMG_TTY_PKT		0x2	/* MASTER: packet mode (TIOCPKT) */
#define IMG_TTY_LOCKED		0x4	/* MASTER: the slave is locked (TIOCGPTLCK) */
#define IMG_TTY_FLAGS		0x7

/* The kernel's struct termios2 (TCGETS2), byte for byte: 44 bytes. */
struct img_termios {
	uint32_t iflag, oflag, cflag, lflag;
	uint8_t  line;
	uint8_t  cc[19];
	uint32_t ispeed, ospeed;
};

struct img_file_tty {
	uint32_t role;			/* enum img_tty_role */
	uint32_t tclass;		/* enum img_tty_class */
	uint32_t flags;			/* IMG_TTY_CTTY */
	uint32_t major, minor;		/* the terminal's device */
	int32_t  fg_pgid;		/* its foreground process group (tcgetpgrp); 0: none
					 * or not the controlling terminal */
	int32_t  sid;			/* the session it is the controlling terminal of
					 * (TIOCGSID); 0: none */
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;	/* TIOCGWINSZ */
	struct img_termios termios;	/* TCGETS2 (MASTER: the master side's) */
	uint32_t index;			/* MASTER, SLAVE: the pty's number (ptsname's N,
					 * minor of 136:N); else 0 */
	uint32_t reserved;		/* zero */
};

/*
 * PTY_DATA: what the slave side of a pty the image made wrote and its
 * master had not read at the checkpoint (a `script` copying its child's
 * output), as the master reads it (after the slave's output processing;
 * in packet mode without the packets' leading byte).  One record right
 * after the MASTER FILE it belongs to; the restart writes it into the new
 * pair's slave with output processing off, so the master reads the same
 * bytes.  What the master wrote and the slave has not read is refused
 * instead (it went through echo and canonical editing: fds/fd_tty_pty.c).
 */
#define IMG_PTY_DATA_MAX	(64u << 10)	/* more than a pty holds (4 KiB + 8 KiB in flight) */

struct img_pty_data {
	uint32_t file;			/* the MASTER FILE's id */
	uint32_t len;			/* 1..IMG_PTY_DATA_MAX bytes follow */
};

/*
 * FILE_DATA: a piece of a GHOST's, MEMFD's or PSHM's contents.  Records of one
 * file follow its FILE record directly, in increasing offsets, without
 * overlap, each inside the file's size; what no record covers is a hole
 * (the file stays sparse).  codec as for PAGES: RAW len bytes, SNAPPY a
 * block decoding to len bytes, ZERO no data (len zero bytes that were
 * allocated: written, not left a hole).
 */
#define IMG_FILE_CHUNK		(256u << 10)	/* decoded bytes in one record, at most */

struct img_file_data {
	uint32_t file;			/* the FILE it belongs to (same_as 0, a PSHM with
					 * IMG_PSHM_DATA); 0: the SYSV_SHM record right
					 * before (its contents) */
	uint8_t  codec;			/* enum img_codec */
	uint8_t  reserved[3];		/* zero */
	uint64_t offset;		/* in the file, page aligned */
	uint64_t len;			/* 1..IMG_FILE_CHUNK decoded bytes; a multiple of the
					 * page size unless the record ends at the file's size */
};

#define IMG_FD_CLOEXEC		1	/* img_fd.fdflags: FD_CLOEXEC */

struct img_fd {
	int32_t  fd;			/* the number, >= 0 */
	uint32_t file;			/* id of a FILE record before this one */
	uint32_t fdflags;		/* IMG_FD_CLOEXEC */
	uint32_t reserved;		/* zero */
};

/*
 * Event fds (fds/fd_eventfd.c, fd_timerfd.c, fd_signalfd.c, fd_inotify.c):
 * anonymous inodes, one open file description each, made again by their
 * system call.  img_file.flags: O_RDWR (inotify: O_RDONLY) and
 * O_NONBLOCK, nothing else; path the fd link ("anon_inode:[eventfd]").
 */
#define IMG_EVENTFD_SEMAPHORE	0x1	/* img_file_eventfd.flags: EFD_SEMAPHORE */

struct img_file_eventfd {
	uint64_t count;			/* the counter, < 2^64 - 1 */
	uint32_t flags;			/* IMG_EVENTFD_SEMAPHORE */
	uint32_t reserved;		/* zero */
};

/*
 * TIMERFD: value_ns is the time left until the next expiration (0:
 * disarmed), interval_ns the period, both as timerfd_gettime gives them
 * (relative, whatever the flags).  A restart arms it again with that time
 * left and that period: the time between checkpoint and restart does not
 * count, as for POSIX timers (TIMER).  With IMG_TIMERFD_ABSTIME it is
 * armed TFD_TIMER_ABSTIME at the clock's now + time left, so
 * IMG_TIMERFD_CANCEL_ON_SET can be kept.  ticks: expirations not yet
 * read, given back with TFD_IOC_SET_TICKS.
 */
#define IMG_TIMERFD_ABSTIME		0x1	/* TFD_TIMER_ABSTIME */
#define IMG_TIMERFD_CANCEL_ON_SET	0x2	/* TFD_TIMER_CANCEL_ON_SET */
#define IMG_TIMERFD_FLAGS		0x3

struct img_file_timerfd {
	int32_t  clock;			/* CLOCK_REALTIME 0, MONOTONIC 1, BOOTTIME 7,
					 * REALTIME_ALARM 8, BOOTTIME_ALARM 9 */
	uint32_t flags;			/* IMG_TIMERFD_* (fdinfo "settime flags") */
	uint64_t value_ns;		/* time left, 0: disarmed */
	uint64_t interval_ns;		/* period, 0: one shot */
	uint64_t ticks;			/* expirations not read yet */
};

struct img_file_signalfd {
	uint64_t mask;			/* bit n-1: signal n (fdinfo "sigmask") */
};

/*
 * INOTIFY: the instance; each of its watches is one INOTIFY_WATCH record
 * right after the FILE, in increasing wd order.  A restart adds them in
 * that order and makes every wd come back the same (the kernel hands
 * them out increasing from 1; numbers in between are taken by watches
 * added and removed again).  Events queued at the checkpoint are not in
 * the image: the checkpoint refuses an instance that has any.
 */
#define IMG_INOTIFY_NOFOLLOW	0x1	/* img_inotify_watch.flags: the watch is on a
					 * symbolic link itself (IN_DONT_FOLLOW) */
#define IMG_INOTIFY_MASK	0x84000fffu	/* what fdinfo shows: IN_ALL_EVENTS,
					 * IN_EXCL_UNLINK, IN_ONESHOT */

#define IMG_INOTIFY_OVERFLOW	0x1	/* img_file_inotify.flags: events were queued and
					 * not read: the restarted instance holds an
					 * IN_Q_OVERFLOW in their place (fds/fd_inotify.c) */

struct img_file_inotify {
	uint32_t nwatches;		/* INOTIFY_WATCH records that follow */
	uint32_t flags;			/* IMG_INOTIFY_OVERFLOW */
};

#define IMG_INOTIFY_PATH_MAX	4096	/* bytes of path, at most */

struct img_inotify_watch {
	uint32_t file;			/* the INOTIFY FILE right before */
	int32_t  wd;			/* > 0, increasing within the FILE */
	uint32_t mask;			/* fdinfo "mask" (within IMG_INOTIFY_MASK) */
	uint32_t flags;			/* IMG_INOTIFY_NOFOLLOW */
	uint64_t dev, ino;		/* the watched inode at the checkpoint (st_dev) */
	uint32_t path_len;		/* 1..IMG_INOTIFY_PATH_MAX bytes of absolute path follow */
	uint32_t reserved;		/* zero */
};

/*
 * MQUEUE: a POSIX message queue, an inode of the mqueue file system of
 * the process's IPC namespace.  The path is the queue's name as the fd
 * link shows it ("/name", "/name (deleted)" once mq_unlink()ed);
 * img_file.flags are the open flags (O_RDONLY, O_WRONLY or O_RDWR, and
 * O_NONBLOCK), mode the queue's permissions, dev/ino its identity (a
 * restart that finds a queue of that name with that inode reuses it).
 * The first FILE of a queue (same_as 0) carries its messages: one MQ_MSGS
 * record right after it, and the notification registration, which
 * belongs to the queue.
 */
#define IMG_MQ_NOTIFY_NONE	(-1)	/* no mq_notify registration */

struct img_file_mqueue {
	uint32_t same_as;		/* 0, or the id of an earlier MQUEUE FILE of this queue */
	uint32_t flags;			/* IMG_IPC_NS */
	int64_t  maxmsg, msgsize;	/* mq_attr: 1..IMG_MQ_MAXMSG, 1..IMG_MQ_MSGSIZE */
	uint32_t uid, gid;		/* the queue's owner */
	int32_t  notify;		/* IMG_MQ_NOTIFY_NONE, or the sigev_notify of this
					 * process's registration: IMG_SIGEV_SIGNAL, _NONE */
	int32_t  signo;			/* IMG_SIGEV_SIGNAL: 1..64; else 0 */
	uint64_t sigval;		/* sigev_value (SIGNAL), else 0 */
};
#define IMG_MQ_MAXMSG		65536	/* the kernel's HARD_MSGMAX */
#define IMG_MQ_MSGSIZE		(16 << 20)	/* the kernel's HARD_MSGSIZEMAX */

/*
 * INET: one TCP or UDP socket (IPv4, IPv6).  Addresses are in network
 * order as the kernel holds them (an IPv4 address in the first 4 bytes of
 * local/peer, the rest zero), ports in host order.  A TCP ESTABLISHED
 * connection carries what TCP_REPAIR read (IMG_INET_REPAIR): the sequence
 * numbers at the ends of its queues, the options negotiated, the windows
 * and the timestamp clock, and its queues follow the FILE in INET_QUEUE
 * records (receive: bytes the application has not read; send: bytes it
 * wrote that the peer has not acknowledged, the last unsq_len of them not
 * sent yet).  Without IMG_INET_REPAIR an ESTABLISHED connection can only
 * come back reset (ckpt-restart --tcp=close).  docs/IMAGE-FORMAT.md.
 */
enum img_inet_state {
	IMG_INET_CLOSED	     = 0,	/* made, maybe bound (lport != 0), not connected */
	IMG_INET_LISTEN	     = 1,	/* TCP: listening, backlog as listen() was given */
	IMG_INET_CONNECTED   = 2,	/* UDP: connect()ed to peer */
	IMG_INET_ESTABLISHED = 3,	/* TCP: a connection */
};

#define IMG_INET_REUSEADDR	0x0001	/* SO_REUSEADDR */
#define IMG_INET_REUSEPORT	0x0002	/* SO_REUSEPORT */
#define IMG_INET_NODELAY	0x0004	/* TCP_NODELAY */
#define IMG_INET_KEEPALIVE	0x0008	/* SO_KEEPALIVE */
#define IMG_INET_V6ONLY		0x0010	/* IPV6_V6ONLY */
#define IMG_INET_LINGER		0x0020	/* SO_LINGER on, linger seconds */
#define IMG_INET_REPAIR		0x0040	/* ESTABLISHED: the TCP_REPAIR state below */
#define IMG_INET_OPT_TS		0x0080	/* ... timestamps negotiated */
#define IMG_INET_OPT_SACK	0x0100	/* ... SACK permitted */
#define IMG_INET_OPT_WSCALE	0x0200	/* ... window scaling (snd/rcv_wscale) */
#define IMG_INET_WINDOW		0x0400	/* ... TCP_REPAIR_WINDOW read (snd_wl1..rcv_wup) */
#define IMG_INET_PEER_IN	0x0800	/* ESTABLISHED: the peer's 4-tuple is a socket of
					 * the image, as ckpt-restart decides again */
#define IMG_INET_FLAGS		0x0fff

#define IMG_INET_QUEUE_MAX	(32u << 20)	/* bytes of one queue, at most */

struct img_file_inet {
	uint16_t family;		/* AF_INET 2, AF_INET6 10 */
	uint16_t type;			/* SOCK_STREAM 1 (TCP), SOCK_DGRAM 2 (UDP) */
	uint32_t protocol;		/* IPPROTO_TCP 6, IPPROTO_UDP 17 */
	uint32_t state;			/* enum img_inet_state */
	uint32_t iflags;		/* IMG_INET_* */
	uint8_t  local[16], peer[16];	/* getsockname, getpeername */
	uint16_t lport, pport;		/* host order; lport 0: not bound */
	uint32_t scope_id;		/* IPv6: the local address's scope (link-local) */
	uint32_t backlog;		/* LISTEN: sock_diag's max backlog */
	int32_t  rcvbuf, sndbuf;	/* SO_RCVBUF, SO_SNDBUF as getsockopt reads them */
	int32_t  keepidle, keepintvl, keepcnt;	/* TCP_KEEP*: 0 for UDP */
	int32_t  linger;		/* IMG_INET_LINGER: seconds */
	int32_t  defer_accept;		/* TCP_DEFER_ACCEPT seconds */
	/* ESTABLISHED with IMG_INET_REPAIR */
	uint32_t inq_seq, outq_seq;	/* rcv_nxt, write_seq (TCP_QUEUE_SEQ) */
	uint32_t inq_len, outq_len;	/* bytes in the receive, send queue (<= QUEUE_MAX) */
	uint32_t unsq_len;		/* of outq_len, not sent yet (<= outq_len) */
	uint32_t mss_clamp;		/* TCP_MAXSEG in repair mode */
	uint16_t snd_wscale, rcv_wscale;	/* IMG_INET_OPT_WSCALE: 0..14 */
	uint32_t timestamp;		/* TCP_TIMESTAMP: the connection's clock */
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;	/* IMG_INET_WINDOW */
	uint32_t reserved;		/* zero */
};

/* NETLINK: a NETLINK_ROUTE socket, re-opened and bound with its groups. */
struct img_file_netlink {
	uint32_t protocol;		/* NETLINK_ROUTE 0 */
	uint32_t type;			/* SOCK_RAW 3 or SOCK_DGRAM 2 */
	uint32_t portid;		/* its bound port id, 0: not bound */
	uint32_t reserved;		/* zero */
	uint64_t groups;		/* the multicast groups 1..64 it joined (bit g-1) */
	int32_t  rcvbuf, sndbuf;	/* SO_RCVBUF, SO_SNDBUF */
};

/* INET_QUEUE: one queue of the ESTABLISHED INET FILE `file` (after it). */
#define IMG_INET_RECV		0	/* img_inet_queue.which */
#define IMG_INET_SEND		1
struct img_inet_queue {
	uint32_t file;			/* an earlier INET FILE, ESTABLISHED with REPAIR */
	uint32_t which;			/* IMG_INET_RECV or IMG_INET_SEND */
	uint64_t len;			/* its inq_len or outq_len; the bytes follow */
};

/*
 * MQ_MSGS: every message of the MQUEUE FILE right before it (its first
 * FILE), in the order mq_receive() returns them (highest priority first,
 * then oldest first): nmsgs struct img_mq_msg, each followed by its len
 * bytes and zero padding to a multiple of 8.  One record per queue.
 */
struct img_mq_msgs {
	uint32_t file;			/* the MQUEUE FILE right before (same_as 0) */
	uint32_t nmsgs;			/* 0 .. IMG_MQ_MAXMSG */
	uint64_t bytes;			/* sum of the messages' lengths */
};

struct img_mq_msg {
	uint32_t prio;			/* < 32768 (MQ_PRIO_MAX) */
	uint32_t len;			/* <= the queue's msgsize */
};

#endif
