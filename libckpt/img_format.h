/*
 * img_format.h - the libckpt image format, version 1 (on-disk layout).
 *
 * docs/IMAGE-FORMAT.md describes the same layout in prose; keep both in step.
 *
 * An image is written strictly front to back (so it can go to a pipe):
 *
 *   struct img_header                      128 bytes, own CRC
 *   record*                                struct img_rec_hdr + payload
 *   record IMG_REC_END                     struct img_end: whole-image CRC
 *
 * Record order a writer produces and a reader may rely on:
 *   PROC, [PARENT], [PROC_ATTR, SECCOMP*],
 *   (FILE (FILE_DATA* | PIPE_DATA* | MQ_MSGS | INOTIFY_WATCH* | PTY_DATA))*, UNIX_MSG and more
 *   (FILE FILE_DATA*) interleaved,
 *   FD*, LOCK*, (SYSV_SHM FILE_DATA*)*, SYSV_SEM*, SYSV_MSG*,
 *   THREAD+, SIGINFO*, TIMER*, MLOCK?, VMA*, PAGES*, END
 * (every PAGES record lies inside a VMA record seen before it; every FD
 * and every LOCK names a FILE record seen before it, so does a UNIX_MSG,
 * for its socket and for every fd in flight it carries; a THREAD names
 * SECCOMP records by their index, so they come first).
 *
 * Invariants:
 *  1. All integers are little-endian, structs have explicit padding only,
 *     so their sizes are the same on every x86_64 compiler.
 *  2. Every record's crc covers its header fields before `crc` and its
 *     whole payload; img_end.image_crc covers every byte before the END
 *     record.  A single flipped bit anywhere is therefore detected.
 *  3. Variable parts (paths, fpstate, page data) follow their fixed struct
 *     inside the same payload; the fixed struct says how long they are.
 *  4. Unknown record types with a known image version are an error:
 *     a reader never guesses.
 *  5. Every record starts at a multiple of 8 bytes from the image's
 *     start (a writer puts a PAD record before one that would not), so a
 *     payload read in place from a mapping holds its structs aligned.
 *     Readers do not rely on it (an image of an earlier libckpt has no
 *     PADs: a misaligned payload is copied).
 */
#ifndef CKPT_IMG_FORMAT_H
#define CKPT_IMG_FORMAT_H

#include <stdint.h>

#define IMG_MAGIC		"LIBCKPT\001"	/* 8 bytes, no NUL needed */
#define IMG_MAGIC_LEN		8
#define IMG_VERSION		1
#define IMG_ARCH_X86_64		62		/* ELF EM_X86_64 */
#define IMG_PAGE_SIZE		4096u

/* A record payload larger than this is refused as corrupt by readers. */
#define IMG_REC_MAX		(64u << 20)
/* Largest page run in one PAGES record (the compression chunk). */
#define IMG_PAGES_MAX		64u

/* img_header.flags */
#define IMG_F_SELF		0x1	/* taken by ckpt_save() in the process */
/*
 * The process ran as pid `pid` of its own user+pid namespace (ckpt-run
 * --pidns): ckpt-restart makes a new one and restores it there, which
 * needs no privilege.
 */
#define IMG_F_PIDNS		0x2
/*
 * Mappable: the page data of private anonymous memory is stored raw and
 * page aligned (MPAGES records), so ckpt-restart maps it straight from
 * the file.  Such an image needs a regular file (seekable, mappable).
 */
#define IMG_F_MAPPABLE		0x4
/*
 * Incremental image: its PAGES hold only what changed since its parent,
 * which the PARENT record (right after PROC) names.  See "PARENT" below.
 */
#define IMG_F_INCREMENTAL	0x8
/*
 * A process tree (docs/INTERNALS.md, "Process trees"): this header starts
 * the tree's directory (MEMBER records, END); each live member's own
 * image (a section, IMG_F_MEMBER) follows, in MEMBER order, each starting
 * at the next page boundary after the END before it (zero padding).
 * The header's pid is the tree's root.
 */
#define IMG_F_TREE		0x10
/*
 * A section of a tree image: one member's complete image (header .. END),
 * its offsets (MPAGES data_off, END nbytes) counted from its own first
 * byte.  Never restarted on its own.
 */
#define IMG_F_MEMBER		0x20
/*
 * The process (in a tree: the root, in the directory's header and its
 * section's) led its session, and that session's controlling terminal is
 * the terminal its TTY FILEs are on (IMG_TTY_CTTY): a restart gives the
 * restarted session ckpt-restart's terminal (fds/fd_tty_job.c).
 */
#define IMG_F_CTTY		0x40

struct img_header {
	char     magic[IMG_MAGIC_LEN];
	uint32_t version;		/* IMG_VERSION */
	uint32_t arch;			/* IMG_ARCH_* */
	uint32_t page_size;
	uint32_t flags;			/* IMG_F_* */
	uint64_t ctime_ns;		/* CLOCK_REALTIME when taken */
	int32_t  pid;			/* the checkpointed process */
	uint32_t hdr_crc;		/* crc32c of this struct, hdr_crc = 0 */
	char     kernel[64];		/* uname release, NUL padded */
	uint8_t  reserved[24];		/* zero */
};

enum img_rec_type {
	IMG_REC_PROC	= 1,	/* struct img_proc + cwd + exe */
	/* 2: the FD record of earlier builds (an fd with its file inline) */
	IMG_REC_THREAD	= 3,	/* struct img_thread + fpstate */
	IMG_REC_VMA	= 4,	/* struct img_vma + path + guard ranges */
	IMG_REC_PAGES	= 5,	/* struct img_pages + data */
	IMG_REC_MPAGES	= 6,	/* struct img_mpages + zero padding; data after */
	IMG_REC_PARENT	= 7,	/* struct img_parent + ranges + path */
	IMG_REC_SIGINFO	= 8,	/* struct img_siginfo: one queued signal */
	IMG_REC_TIMER	= 9,	/* struct img_timer: one interval or POSIX timer */
	IMG_REC_FILE	= 10,	/* struct img_file + kind data + path: an open file */
	IMG_REC_FD	= 11,	/* struct img_fd: an fd number and its FILE */
	IMG_REC_PROC_ATTR = 12,	/* struct img_proc_attr: process attributes */
	IMG_REC_SECCOMP	= 13,	/* struct img_seccomp + BPF program: one filter */
	IMG_REC_MEMBER	= 14,	/* struct img_member: one process of a tree (directory) */
	IMG_REC_MLOCK	= 15,	/* struct img_mlock: mlockall(MCL_FUTURE) state */
	IMG_REC_LOCK	= 16,	/* struct img_lock: a file lock and the FILE it is on */
	IMG_REC_FILE_DATA = 17,	/* struct img_file_data + data: contents of a FILE
				 * (or, file 0, of the SYSV_SHM right before) */
	IMG_REC_PIPE_DATA = 18,	/* struct img_pipe_data + data: bytes in flight in a pipe */
	IMG_REC_UNIX_MSG = 19,	/* struct img_unix_msg + fds + address + data: one
				 * message queued on a unix socket */
	IMG_REC_SYSV_SHM = 21,	/* struct img_sysv_shm: a SysV shared memory segment */
	IMG_REC_SYSV_SEM = 22,	/* struct img_sysv_sem + img_sem or img_semadj */
	IMG_REC_SYSV_MSG = 23,	/* struct img_sysv_msg + messages: a SysV queue */
	IMG_REC_MQ_MSGS	= 24,	/* struct img_mq_msgs + messages of a POSIX queue */
	IMG_REC_INOTIFY_WATCH = 25,	/* struct img_inotify_watch + path: one watch of
					 * the INOTIFY FILE right before */
	IMG_REC_EPOLL_ITEM = 27,	/* struct img_epoll_item: one item of an epoll
				 * instance's interest list */
	IMG_REC_INET_QUEUE = 28,	/* struct img_inet_queue + bytes: a TCP socket's
				 * receive or send queue (fds/fd_inet.c) */
	IMG_REC_PTY_DATA = 32,	/* struct img_pty_data + data: output a pty's master had
				 * not read, after the MASTER FILE (fds/fd_tty_pty.c) */
	/* 33: terminals (fds/fd_tty.c), unused yet */
	IMG_REC_BACKTRACE = 34,	/* struct img_backtrace + frames + names: one thread's
				 * backtrace as unwound at the checkpoint (ckpt_bt.c) */
	IMG_REC_PAD	= 0xfffe,	/* 0-7 zero bytes: the next record starts at a
				 * multiple of 8 (invariant 5); readers skip it */
	IMG_REC_END	= 0xffff,	/* struct img_end */
};

struct img_rec_hdr {
	uint32_t type;			/* enum img_rec_type */
	uint16_t version;		/* per-type version, 1 */
	uint16_t flags;			/* zero */
	uint64_t len;			/* payload bytes that follow */
	uint32_t crc;			/* crc32c(type..len, payload) */
	uint32_t reserved;		/* zero */
};

struct img_end {
	uint64_t nrecords;		/* records before END (header not counted) */
	uint64_t nbytes;		/* bytes before the END record */
	uint32_t image_crc;		/* crc32c of those nbytes */
	uint32_t reserved;
};

/* --- PROC ------------------------------------------------------------ */

#define IMG_NSIG		64
#define IMG_NRLIMIT		16
#define IMG_AUXV_MAX		64	/* u64 words */
#define IMG_NGROUPS_MAX		65536	/* supplementary groups (the kernel's NGROUPS_MAX) */

struct img_sigaction {			/* the kernel's struct, not glibc's */
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct img_rlimit {
	uint64_t cur, max;
};

/* The fields of struct prctl_mm_map, as /proc/PID/stat and brk(0) give them. */
struct img_mm {
	uint64_t start_code, end_code;
	uint64_t start_data, end_data;
	uint64_t start_brk, brk;
	uint64_t start_stack;
	uint64_t arg_start, arg_end;
	uint64_t env_start, env_end;
};

struct img_proc {
	int32_t  pid, ppid, pgid, sid;
	uint32_t uid, gid;
	uint32_t umask;
	uint32_t nthreads;
	int32_t  ckpt_signal;		/* libckpt's signal in this process */
	uint32_t auxv_words;		/* used words of auxv[] */
	char     comm[16];		/* NUL padded */
	struct img_mm mm;
	uint64_t auxv[IMG_AUXV_MAX];
	struct img_rlimit rlim[IMG_NRLIMIT];
	struct img_sigaction sigact[IMG_NSIG];	/* [sig - 1] */
	uint64_t sigpending;		/* process-wide pending (bit sig-1) */
	uint32_t cwd_len;		/* bytes of cwd after the struct */
	uint32_t exe_len;		/* bytes of exe path after cwd */
	/*
	 * Supplementary groups (getgroups, of the thread that took the
	 * checkpoint): ngroups u32 gids after the exe path, unaligned.
	 */
	uint32_t ngroups;		/* 0 .. IMG_NGROUPS_MAX */
	uint32_t reserved;		/* zero */
};

/* --- FILE and FD: libckpt/img_format_files.h -------------------------- */
#include "libckpt/img_format_files.h"

/* --- SysV IPC: SYSV_SHM, SYSV_SEM, SYSV_MSG ------------------------------ */

/*
 * SysV objects outlive the processes that use them and are named by ids
 * the kernel chooses; an image holds the objects the process used
 * (docs/INTERNALS.md, "SysV IPC"): shared memory segments it has
 * attached (its VMAs name them), and the segments, semaphore sets and
 * message queues whose ids it got or used through libc (the wrappers'
 * registry), or, under `ckpt-run --ipcns`, every object of its own IPC
 * namespace.  Each object is saved once, with its id; a restart reuses
 * the object under that id when it is the one saved, makes it again with
 * that id when the id is free, and refuses when another object holds it.
 *
 * IMG_IPC_NS (every SysV record, MQUEUE kind data): the process ran in an
 * IPC namespace of its own (ckpt-run --ipcns); a restart makes a new one
 * and every id in it is the image's alone.  All such flags of an image
 * agree.  (An image without any SysV or POSIX IPC object does not say
 * it: its restart keeps ckpt-restart's IPC namespace.)
 */
#define IMG_IPC_NS		0x1

/* img_sysv_perm.mode: the kernel's perms word as /proc/sysvipc shows it */
#define IMG_SYSV_MODE		0777	/* permissions */
#define IMG_SHM_DEST		01000	/* shm: IPC_RMID'ed, alive while attached */
#define IMG_SHM_LOCKED		02000	/* shm: SHM_LOCK */

/* What every SysV object has (struct kern_ipc_perm, as /proc/sysvipc shows it). */
struct img_sysv_perm {
	int32_t  id;			/* its IPC id, >= 0 */
	int32_t  key;			/* 0: IPC_PRIVATE (also a shm segment after IPC_RMID) */
	uint32_t mode;			/* IMG_SYSV_MODE bits (+ IMG_SHM_* for shm) */
	uint32_t uid, gid;		/* owner (IPC_SET may change them) */
	uint32_t cuid, cgid;		/* creator */
	uint32_t flags;			/* IMG_IPC_NS */
};

/*
 * SYSV_SHM: a shared memory segment; its contents follow in FILE_DATA
 * records with file 0 (the pages that hold anything but zeros, at their
 * offsets; what no record covers is zero).  The process's attaches are
 * its VMAs: IMG_VMA_SHARED | IMG_VMA_FILE, file 0, the path the kernel
 * gives them, "/SYSV%08x (deleted)" (the key it was made with), and ino
 * the segment's id; MAYWRITE unless attached SHM_RDONLY.
 */
struct img_sysv_shm {
	struct img_sysv_perm perm;
	uint64_t size;			/* bytes, 1 .. IMG_SHM_SIZE_MAX */
	int32_t  cpid, lpid;		/* creator, last shmat/shmdt (informative) */
	int64_t  atime, dtime, ctime;	/* seconds; ctime tells the object apart */
	uint32_t nattch;		/* attaches at the checkpoint (informative) */
	uint32_t reserved;		/* zero */
};
#define IMG_SHM_SIZE_MAX	(1ull << 46)

/*
 * SYSV_SEM: a semaphore set (IMG_SEM_SET: its nsems values follow, one
 * struct img_sem each), or this process's SEM_UNDO adjustments of the set
 * perm.id, saved before it (IMG_SEM_UNDO: nsems struct img_semadj, each a
 * semaphore whose adjustment is not 0, in increasing num; the rest of
 * perm, otime and ctime zero).  Adjustments belong to a process, values
 * to the set.
 */
enum img_sem_kind {
	IMG_SEM_SET	= 1,
	IMG_SEM_UNDO	= 2,
};
#define IMG_SEM_NSEMS_MAX	32000	/* the kernel's SEMMSL limit */
#define IMG_SEM_VMX		32767	/* SEMVMX */

struct img_sysv_sem {
	uint32_t kind;			/* enum img_sem_kind */
	uint32_t nsems;			/* SET: 1..IMG_SEM_NSEMS_MAX; UNDO: 1..that */
	struct img_sysv_perm perm;
	int64_t  otime, ctime;		/* SET: seconds */
};

struct img_sem {
	uint16_t val;			/* 0 .. IMG_SEM_VMX */
	uint16_t reserved;		/* zero */
	int32_t  pid;			/* sempid: the last semop's (informative) */
};

struct img_semadj {
	uint16_t num;			/* the semaphore in the set */
	int16_t  adj;			/* its adjustment, not 0 */
	uint32_t reserved;		/* zero */
};

/*
 * SYSV_MSG: a message queue and every message in it, in queue order:
 * nmsgs struct img_msg, each followed by its len bytes and zero padding
 * to a multiple of 8.
 */
struct img_sysv_msg {
	struct img_sysv_perm perm;
	uint64_t qbytes;		/* msg_qbytes: the queue's byte limit */
	int32_t  lspid, lrpid;		/* last msgsnd, msgrcv (informative) */
	int64_t  stime, rtime, ctime;	/* seconds */
	uint32_t nmsgs;
	uint32_t reserved;		/* zero */
	uint64_t bytes;			/* sum of the messages' lengths */
};

struct img_msg {
	int64_t  type;			/* mtype, > 0 */
	uint64_t len;			/* bytes of text */
};

_Static_assert(sizeof(struct img_file_mqueue) == 48, "img_file_mqueue size");
_Static_assert(sizeof(struct img_mq_msgs) == 16, "img_mq_msgs size");
_Static_assert(sizeof(struct img_sysv_perm) == 32, "img_sysv_perm size");
_Static_assert(sizeof(struct img_sysv_shm) == 80, "img_sysv_shm size");
_Static_assert(sizeof(struct img_sysv_sem) == 56, "img_sysv_sem size");
_Static_assert(sizeof(struct img_sysv_msg) == 88, "img_sysv_msg size");

/* --- LOCK ---------------------------------------------------------- */

/*
 * One file lock the process held: POSIX (fcntl F_SETLK; owned by the
 * process), flock and OFD (F_OFD_SETLK; owned by the open file
 * description) and leases (F_SETLEASE; the description's too).  `file`
 * is the FILE (open file description) it was taken through, which is
 * where /proc/PID/fdinfo shows it and what a restart takes it through
 * again.  Ranges are absolute (the kernel resolved SEEK_CUR/SEEK_END
 * when the lock was taken); len 0 is "to the end of the file, however
 * long it grows".  Records follow the FD records (fds/fd_lock.c).
 */
enum img_lock_kind {
	IMG_LOCK_POSIX	= 1,		/* fcntl F_SETLK(W): the process's */
	IMG_LOCK_FLOCK	= 2,		/* flock(2): the description's */
	IMG_LOCK_OFD	= 3,		/* fcntl F_OFD_SETLK(W): the description's */
	IMG_LOCK_LEASE	= 4,		/* fcntl F_SETLEASE: the description's */
};
#define IMG_LOCK_KIND_MAX	4

enum img_lock_type {
	IMG_LOCK_READ	= 1,		/* shared: F_RDLCK, LOCK_SH, read lease */
	IMG_LOCK_WRITE	= 2,		/* exclusive: F_WRLCK, LOCK_EX, write lease */
};

struct img_lock {
	uint32_t file;			/* id of a FILE record before this one */
	uint16_t kind;			/* enum img_lock_kind */
	uint16_t type;			/* enum img_lock_type */
	int64_t  start;			/* POSIX, OFD: first byte (>= 0); else 0 */
	int64_t  len;			/* POSIX, OFD: bytes (>= 0), 0 = to EOF; else 0 */
	int32_t  sig;			/* LEASE: signal a lease break sends (F_GETSIG,
					 * 0 = SIGIO), 0..64; else 0 */
	uint32_t reserved;		/* zero */
};

/* --- EPOLL_ITEM ---------------------------------------------------- */

/*
 * An epoll instance is a FILE of kind EPOLL (path "anon_inode:[eventpoll]",
 * flags O_RDWR and maybe O_NONBLOCK) whose kind data counts its items;
 * each item of its interest list is one EPOLL_ITEM record, written by the
 * process that writes the FILE, after every FILE of that process's
 * section (before its FDs).  An item watches one open file description
 * (`target`, a FILE of any kind but EPOLL's own: in a tree possibly a
 * later section's) under the fd number it was added with (`tfd`: the
 * kernel keys an item by file and number, and EPOLL_CTL_MOD/DEL name the
 * number; no fd of the image need hold that number any more).  `events`
 * are the kernel's (fdinfo), EPOLLERR|EPOLLHUP included; an EPOLLONESHOT
 * item that fired and was not re-armed has no event bits left, only
 * IMG_EPOLL_PRIVATE ones (disabled).
 */
struct img_file_epoll {
	uint32_t nitems;		/* EPOLL_ITEM records naming it, <= IMG_EPOLL_ITEMS_MAX */
	uint32_t reserved;		/* zero */
};
#define IMG_EPOLL_ITEMS_MAX	(1u << 20)
/* EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET: kept when a oneshot item fires */
#define IMG_EPOLL_PRIVATE	0xf0000000u
#define IMG_EPOLL_EXCLUSIVE	(1u << 28)
#define IMG_EPOLL_ONESHOT	(1u << 30)
/* what EPOLLEXCLUSIVE may come with (the kernel's EPOLLEXCLUSIVE_OK_BITS) */
#define IMG_EPOLL_EXCLUSIVE_OK	(0x1u | 0x4u | 0x8u | 0x10u | (1u << 29) | (1u << 31) | \
				 IMG_EPOLL_EXCLUSIVE)

struct img_epoll_item {
	uint32_t epoll;			/* id of the EPOLL FILE (a record before this one) */
	uint32_t target;		/* id of the FILE it watches (not epoll) */
	int32_t  tfd;			/* the fd number it was added with, >= 0 */
	uint32_t events;		/* epoll_event.events, as epoll_ctl kept them (any
					 * bits; EPOLLEXCLUSIVE only with _EXCLUSIVE_OK) */
	uint64_t data;			/* epoll_event.data */
};

/* --- THREAD --------------------------------------------------------- */

#define IMG_NGREG		23	/* x86_64 mcontext gregs */

/* img_thread.flags */
#define IMG_THREAD_LEADER	0x1	/* ran the checkpoint */

/* img_thread.attr_flags */
#define IMG_TA_AFFINITY		0x1	/* affinity[] narrower than every online CPU */
#define IMG_TA_NO_NEW_PRIVS	0x2	/* PR_SET_NO_NEW_PRIVS */
#define IMG_TA_IO_FLUSHER	0x4	/* PR_SET_IO_FLUSHER */
#define IMG_TA_ALL		0x7

#define IMG_CPU_WORDS		16	/* 1024 CPUs */
#define IMG_NODE_WORDS		16	/* 1024 NUMA nodes */

struct img_thread {
	int32_t  tid;
	uint32_t flags;			/* IMG_THREAD_* */
	uint64_t gregs[IMG_NGREG];	/* REG_R8 .. REG_CR2, glibc order */
	uint64_t fs_base, gs_base;
	uint64_t uc_flags;		/* kernel ucontext flags */
	uint64_t sigmask;		/* blocked (bit sig-1) */
	uint64_t sigpending;		/* thread-directed pending */
	uint64_t ss_sp;			/* sigaltstack */
	uint64_t ss_size;
	uint32_t ss_flags;
	uint32_t rseq_len;		/* 0: no rseq registration */
	uint64_t rseq_addr;
	uint32_t rseq_sig;
	uint32_t robust_len;
	uint64_t robust_head;
	uint64_t clear_tid;		/* set_tid_address */
	uint64_t xfeatures;		/* XCR0 when taken */
	/*
	 * How the restorer re-enters the thread: as a fresh delivery of the
	 * checkpoint signal to libckpt's post-restore handler.  The frame the
	 * kernel built when the checkpoint signal interrupted the thread is
	 * still in the saved stack (at entry_rsp); when that handler returns
	 * through it, the interrupted context (gregs above) resumes exactly.
	 */
	uint64_t entry_rip;		/* libckpt's post-restore handler */
	uint64_t entry_rsp;		/* &frame.pretcode of the saved frame */
	uint64_t entry_args[3];		/* rdi, rsi, rdx: sig, info, uc */
	uint64_t entry_sigmask;		/* blocked while the handler runs */
	/*
	 * Where the restorer leaves struct ckpt_restore_info (libckpt/ckpt.h)
	 * for the post-restore handler: what of the restarter to clean up.
	 */
	uint64_t restore_info;
	char     comm[16];		/* thread name, NUL padded */
	uint64_t cap_effective;		/* capability sets (bit n: capability n) */
	uint64_t cap_permitted;
	uint64_t cap_inheritable;
	uint32_t sched_policy;		/* SCHED_OTHER, _FIFO, _RR, _BATCH, _IDLE */
	int32_t  sched_nice;
	uint32_t sched_priority;	/* real-time priority */
	uint32_t sched_flags;		/* SCHED_FLAG_RESET_ON_FORK... */
	uint32_t fpstate_len;		/* bytes after the struct (0 in v1) */
	uint32_t reserved;
	/*
	 * Attributes the kernel keeps per thread, which the thread restores
	 * itself (restorer.c, rst_thread_attrs and rst_thread_final).  See
	 * "PROC_ATTR" below for the process-wide ones.
	 */
	uint32_t attr_flags;		/* IMG_TA_* */
	uint32_t personality;		/* personality(0xffffffff) */
	uint64_t timer_slack_ns;	/* PR_GET_TIMERSLACK */
	uint32_t ioprio;		/* ioprio_get(): class << 13 | data */
	int32_t  pdeathsig;		/* PR_GET_PDEATHSIG: 0..64 */
	uint32_t securebits;		/* PR_GET_SECUREBITS */
	uint32_t mce_kill;		/* PR_MCE_KILL_GET: 0 late, 1 early, 2 default */
	uint32_t tsc;			/* PR_GET_TSC: 1 enabled, 2 SIGSEGV (0: unknown) */
	uint32_t spec[3];		/* PR_GET_SPECULATION_CTRL: store bypass,
					 * indirect branch, L1D flush */
	uint32_t seccomp_mode;		/* 0 none, 2 filter (1, strict, is refused) */
	int32_t  seccomp_leaf;		/* mode 2: -1, or the index of the newest
					 * SECCOMP record on its filter chain;
					 * ignored otherwise */
	uint32_t sud_mode;		/* syscall user dispatch: 0 off, 1 on */
	uint32_t mempolicy;		/* get_mempolicy(): mode | MPOL_F_* flags */
	uint64_t sud_offset, sud_len;	/* PR_SET_SYSCALL_USER_DISPATCH's arguments */
	uint64_t sud_selector;
	uint64_t cpu_ns;		/* CLOCK_THREAD_CPUTIME_ID as the program saw it */
	uint64_t mem_nodes[IMG_NODE_WORDS];	/* the policy's nodes 0..1023 */
	uint64_t affinity[IMG_CPU_WORDS];	/* CPUs 0..1023 (IMG_TA_AFFINITY) */
};

/* --- SIGINFO -------------------------------------------------------- */

#define IMG_SIGINFO_SIZE	128	/* the kernel's siginfo_t */

/*
 * One queued instance of a pending signal with the siginfo the kernel
 * keeps for it (si_signo, si_errno, si_code, then the union: sender pid
 * and uid, sigqueue value, timer id...).  A thread's own queue and the
 * process's are apart (tid); within each, records come in the order the
 * kernel would deliver them.  Signals pending without a record (libckpt's
 * own, or an image without SIGINFO records) are the bits of
 * img_thread.sigpending and img_proc.sigpending.
 */
struct img_siginfo {
	int32_t  tid;			/* 0: the process's queue; else a THREAD's */
	uint32_t reserved;		/* zero */
	uint8_t  info[IMG_SIGINFO_SIZE];	/* first int: si_signo, 1..64 */
};

/* --- TIMER ---------------------------------------------------------- */

enum img_timer_kind {
	IMG_TIMER_ITIMER = 1,		/* setitimer()/alarm(): id is ITIMER_REAL 0,
					 * ITIMER_VIRTUAL 1 or ITIMER_PROF 2 */
	IMG_TIMER_POSIX	= 2,		/* timer_create(): id is the kernel's timer id */
};

/* img_timer.notify: the kernel's sigev_notify values */
#define IMG_SIGEV_SIGNAL	0	/* signo to the process */
#define IMG_SIGEV_NONE		1	/* no notification */
#define IMG_SIGEV_THREAD	2	/* as SIGNAL for the kernel (libc's thread
					 * timers use SIGNAL | THREAD_ID) */
#define IMG_SIGEV_THREAD_ID	4	/* signo to thread notify_tid */

/*
 * A timer and its time left at the checkpoint: a restart arms it with
 * that time (the time between checkpoint and restart does not count, as
 * for a sleep), with the same period; a POSIX timer keeps its id.
 */
struct img_timer {
	uint32_t kind;			/* enum img_timer_kind */
	int32_t  id;
	int32_t  clock;			/* POSIX: clockid (a CPU clock encodes a pid or tid) */
	int32_t  notify;		/* POSIX: IMG_SIGEV_* */
	int32_t  signo;			/* POSIX, not SIGEV_NONE: 1..64 */
	int32_t  notify_tid;		/* POSIX, SIGEV_THREAD_ID: a THREAD's tid, else 0 */
	uint64_t sigval;		/* POSIX: sigev_value */
	uint64_t value_ns;		/* time left, 0: disarmed */
	uint64_t interval_ns;		/* period, 0: one-shot */
};

/* --- PROC_ATTR, SECCOMP ------------------------------------------------ */

/*
 * What the kernel keeps once per process (per mm, per signal struct) and
 * ckpt-restart gives back; each field is what the named prctl() or file
 * reads.  The CPU times are the program's view (libckpt's wrappers add an
 * offset after a restart, wrappers/wrap_cpuclock.c): shown by ckpt-info,
 * not used by a restart (the offsets live in the process's memory).
 */
/* img_proc_attr.flags */
#define IMG_PA_SUBREAPER	0x1	/* PR_SET_CHILD_SUBREAPER */
#define IMG_PA_TIMER_IDS	0x2	/* PR_TIMER_CREATE_RESTORE_IDS on */
#define IMG_PA_MEMORY_MERGE	0x4	/* PR_SET_MEMORY_MERGE: KSM for every mapping */
#define IMG_PA_FUTEX_HASH	0x8	/* the process sized its futex hash (futex_slots) */
#define IMG_PA_ALL		0xf
#define IMG_FUTEX_SLOTS_MAX	(1u << 24)

struct img_proc_attr {
	int32_t  oom_score_adj;		/* /proc/PID/oom_score_adj, -1000..1000 */
	uint32_t flags;			/* IMG_PA_* */
	uint32_t dumpable;		/* PR_GET_DUMPABLE: 0, 1 or 2 */
	uint32_t thp_disable;		/* PR_GET_THP_DISABLE: 0, 1, or 3 (except advised) */
	uint32_t mdwe;			/* PR_GET_MDWE: PR_MDWE_* */
	uint32_t coredump_filter;	/* /proc/PID/coredump_filter */
	uint32_t membarrier;		/* MEMBARRIER_CMD_REGISTER_* commands registered */
	uint32_t seccomp_inherited;	/* filters it had when libckpt loaded: not in the image */
	uint32_t nseccomp;		/* SECCOMP records that follow */
	uint32_t futex_slots;		/* IMG_PA_FUTEX_HASH: PR_FUTEX_HASH_SET_SLOTS's
					 * 0 or a power of 2 >= 2; else 0 */
	uint64_t cpu_ns;		/* CLOCK_PROCESS_CPUTIME_ID as the program saw it */
	uint64_t utime_ns, stime_ns;	/* getrusage(RUSAGE_SELF), the program's view */
	uint64_t cutime_ns, cstime_ns;	/* getrusage(RUSAGE_CHILDREN), the program's view */
};

/*
 * One seccomp filter the process installed through libc (prctl() or
 * syscall(SYS_seccomp)), followed by its classic BPF program (struct
 * sock_filter, 8 bytes each).  Records are in install order; a thread's
 * filter chain is its seccomp_leaf, that record's parent, and so on up to
 * -1, under the filters it inherited (img_proc_attr.seccomp_inherited).
 */
#define IMG_SECCOMP_PRCTL	1	/* prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) */
#define IMG_SECCOMP_SYSCALL	2	/* seccomp(SECCOMP_SET_MODE_FILTER, flags) */
#define IMG_SECCOMP_FLAGS	0x6	/* SECCOMP_FILTER_FLAG_LOG | _SPEC_ALLOW */
#define IMG_SECCOMP_INSNS_MAX	4096u	/* BPF_MAXINSNS */
#define IMG_SECCOMP_PATH_MAX	32768u	/* the kernel's instructions per chain,
					 * counting 4 more per filter */
#define IMG_SECCOMP_MAX		8192u	/* records in one image */

struct img_seccomp {
	int32_t  parent;		/* the record it was installed over, -1: none */
	uint32_t how;			/* IMG_SECCOMP_PRCTL or _SYSCALL */
	uint32_t flags;			/* IMG_SECCOMP_FLAGS bits (SYSCALL only) */
	uint32_t ninsns;		/* 1..IMG_SECCOMP_INSNS_MAX instructions follow */
};

_Static_assert(sizeof(struct img_seccomp) == 16, "img_seccomp size");
_Static_assert(sizeof(struct img_proc_attr) == 80, "img_proc_attr size");

/* --- MEMBER (tree directory) ---------------------------------------- */

/* img_member.flags */
#define IMG_MEMBER_ZOMBIE	0x1	/* exited, not yet reaped: no section */
#define IMG_MEMBER_STOPPED	0x2	/* stopped by stop_sig (job control) */
/*
 * Its process group was the foreground group of the controlling terminal
 * of the root's session (a group of its own, not the root's: a shell in
 * the tree that gave the terminal to a job).  A restart in the foreground
 * of a terminal gives that terminal to the group again.
 */
#define IMG_MEMBER_FOREGROUND	0x4
#define IMG_MEMBER_FLAGS	0x7u

/*
 * One process of a tree, in the directory, in section order: live
 * members first-come (the root is member 0, every parent before its
 * children), zombies after them.  ppid of the root is outside the tree;
 * every other ppid is an earlier member.  pgid and sid are the kernel's:
 * each is the pid of a member, or the root's own (outside the tree, for a
 * root that did not make its own group or session; 0 when that is
 * outside the tree's pid namespace, ckpt-run --pidns).
 */
struct img_member {
	int32_t  pid, ppid, pgid, sid;
	uint32_t flags;			/* IMG_MEMBER_* */
	int32_t  section;		/* 0..: its section; -1: a zombie */
	int32_t  stop_sig;		/* STOPPED: the signal that stopped it */
	int32_t  exit_code;		/* ZOMBIE: waitid si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) */
	int32_t  exit_status;		/* ZOMBIE: si_status (exit code or signal) */
	uint32_t reserved;		/* zero */
	/* ZOMBIE: its rusage as wait4() would report it (microseconds, counts) */
	uint64_t ru_utime_us, ru_stime_us;
	uint64_t ru_maxrss, ru_minflt, ru_majflt, ru_inblock, ru_oublock, ru_nvcsw, ru_nivcsw;
};

_Static_assert(sizeof(struct img_member) == 112, "img_member size");

/* --- VMA ------------------------------------------------------------ */

/* img_vma.flags */
#define IMG_VMA_SHARED		0x001	/* MAP_SHARED */
#define IMG_VMA_ANON		0x002	/* no file behind it */
#define IMG_VMA_FILE		0x004	/* file mapping: path, dev, ino valid */
#define IMG_VMA_HEAP		0x008	/* [heap] */
#define IMG_VMA_STACK		0x010	/* [stack] */
#define IMG_VMA_VDSO		0x020	/* [vdso] */
#define IMG_VMA_VVAR		0x040	/* [vvar] */
#define IMG_VMA_VVAR_VCLOCK	0x080	/* [vvar_vclock] */
#define IMG_VMA_GROWSDOWN	0x100	/* VM_GROWSDOWN */
#define IMG_VMA_PAGES		0x200	/* PAGES records follow for it */
/*
 * Shared anonymous memory another member of the tree saved (IMG_F_MEMBER
 * only; with SHARED|ANON, never PAGES): dev/ino name the object (the
 * first member mapping it carries its pages), pgoff the offset in it.
 */
#define IMG_VMA_TREESHM		0x400

/*
 * img_vma.attrs: what /proc/PID/maps does not show of a mapping.  The
 * madvise, mlock and NORESERVE bits come from the VmFlags line of
 * /proc/PID/smaps (two-letter names in the comments), which the
 * checkpoint reads only when the process may have such attributes
 * (docs/INTERNALS.md, "Memory attributes"): IMG_VMA_ATTR_VMFLAGS says it
 * was read.  Without it those bits are 0 and mean "not known" (a restart
 * then maps the memory as before this field existed); MAYWRITE is known
 * either way.
 */
#define IMG_VMA_ATTR_VMFLAGS	0x0001	/* the bits below were read (smaps) */
#define IMG_VMA_ATTR_DONTFORK	0x0002	/* dc: MADV_DONTFORK */
#define IMG_VMA_ATTR_DONTDUMP	0x0004	/* dd: MADV_DONTDUMP */
#define IMG_VMA_ATTR_HUGEPAGE	0x0008	/* hg: MADV_HUGEPAGE */
#define IMG_VMA_ATTR_NOHUGEPAGE	0x0010	/* nh: MADV_NOHUGEPAGE */
#define IMG_VMA_ATTR_WIPEONFORK	0x0020	/* wf: MADV_WIPEONFORK (private anonymous only) */
#define IMG_VMA_ATTR_MERGEABLE	0x0040	/* mg: MADV_MERGEABLE (KSM) */
#define IMG_VMA_ATTR_SEQUENTIAL	0x0080	/* sr: MADV_SEQUENTIAL */
#define IMG_VMA_ATTR_RANDOM	0x0100	/* rr: MADV_RANDOM */
#define IMG_VMA_ATTR_LOCKED	0x0200	/* lo: mlock(), mlockall(), MAP_LOCKED */
#define IMG_VMA_ATTR_LOCKONFAULT 0x0400	/* lf: locked as pages are touched (MLOCK_ONFAULT) */
#define IMG_VMA_ATTR_NORESERVE	0x0800	/* nr: MAP_NORESERVE (no swap space accounted) */
#define IMG_VMA_ATTR_SEALED	0x1000	/* sl: mseal() */
/*
 * mw of a shared file mapping: mprotect() may make it writable (the file
 * was opened read-write), whatever its protection now.  Set on every
 * writable shared file mapping, never on other kinds.
 */
#define IMG_VMA_ATTR_MAYWRITE	0x2000
#define IMG_VMA_ATTR_ALL	0x3fffu

/* Most guard regions one VMA record may list. */
#define IMG_VMA_GUARDS_MAX	65536u

struct img_vma {
	uint64_t start, end;
	uint64_t pgoff;			/* file offset in bytes */
	uint64_t dev, ino;		/* file identity (maps and stat) */
	int64_t  size;			/* st_size at checkpoint */
	int64_t  mtime_ns;		/* st_mtim at checkpoint */
	uint32_t prot;			/* PROT_READ|WRITE|EXEC */
	uint32_t flags;			/* IMG_VMA_* */
	uint32_t path_len;		/* bytes of path after the struct */
	/*
	 * 0: a file mapping is reopened by path (its identity checked).
	 * Else the id of the FILE record (before the VMAs) whose file this
	 * mapping maps: a GHOST or MEMFD with same_as 0 or any PSHM (its
	 * object: IMG_VMA_FILE), or a HUGETLB object (IMG_VMA_ANON:
	 * anonymous huge pages of its size).
	 */
	uint32_t file;
	uint32_t attrs;			/* IMG_VMA_ATTR_* */
	/*
	 * Guard regions (MADV_GUARD_INSTALL): nguards struct img_range
	 * (see PARENT) follow the path, sorted, disjoint, page aligned and
	 * inside [start, end).  Their pages hold nothing (no PAGES record
	 * covers them); a restart installs the guards again.
	 */
	uint32_t nguards;
};

/* --- MLOCK ------------------------------------------------------------ */

/* img_mlock.mcl */
#define IMG_MCL_FUTURE		0x1	/* mlockall(MCL_FUTURE): new mappings are locked */
#define IMG_MCL_ONFAULT		0x2	/* ... with MCL_ONFAULT: as their pages are touched */

/*
 * The process's mlockall() state, when MCL_FUTURE was on (at most one
 * record; none means off).  Locked mappings are each VMA's
 * IMG_VMA_ATTR_LOCKED; this says what happens to mappings made later.
 */
struct img_mlock {
	uint32_t mcl;			/* IMG_MCL_*: FUTURE, and maybe ONFAULT */
	uint32_t reserved;		/* zero */
};

/* --- BACKTRACE ------------------------------------------------------ */

/*
 * One thread's backtrace, unwound at the checkpoint from the context the
 * THREAD record stores (libckpt/ckpt_bt.c): at most one per thread, after
 * MLOCK and before the VMA records; none when it could not be taken
 * (CKPT_BACKTRACES=0, no libunwind).  Information only: the restart
 * skips them.  nframes img_bt_frame follow, then names_len bytes of
 * NUL-terminated names that the frames' name fields index.
 */
#define IMG_BT_FRAMES_MAX	64
#define IMG_BT_NAME_MAX		256		/* a name's bytes, its NUL included */
#define IMG_BT_NONAME		0xffffffffu	/* img_bt_frame.name: none */

enum img_bt_stop {
	IMG_BT_END	= 0,	/* the outermost frame was reached */
	IMG_BT_LIMIT	= 1,	/* IMG_BT_FRAMES_MAX frames */
	IMG_BT_UNREADABLE = 2,	/* a read outside readable memory */
	IMG_BT_NOTEXEC	= 3,	/* a return address outside executable memory */
	IMG_BT_NOINFO	= 4,	/* no unwind table and no frame-pointer chain */
	IMG_BT_FAILED	= 5,	/* libunwind's error (bad unwind information) */
	IMG_BT_STOP_MAX	= 5,
};

#define IMG_BT_F_SIGNAL	0x1	/* a signal frame: pc is exact, not a return address */
#define IMG_BT_F_FP	0x2	/* reached along the frame-pointer chain */
#define IMG_BT_F_ALL	0x3

struct img_backtrace {
	int32_t  tid;			/* a THREAD record's */
	uint16_t nframes;		/* <= IMG_BT_FRAMES_MAX */
	uint16_t stop;			/* enum img_bt_stop */
	uint32_t names_len;		/* bytes after the frames */
	uint32_t reserved;		/* zero */
};

struct img_bt_frame {
	uint64_t pc;			/* frame 0: where the thread was; then return addresses */
	uint64_t sp;			/* the frame's stack pointer (its caller's CFA) */
	uint64_t sym_off;		/* pc - the named function's start (name set) */
	uint32_t name;			/* offset into the names, or IMG_BT_NONAME */
	uint32_t flags;			/* IMG_BT_F_* */
};

/* --- PAGES ---------------------------------------------------------- */

enum img_codec {
	IMG_CODEC_RAW	 = 0,		/* npages * page_size bytes */
	IMG_CODEC_SNAPPY = 1,		/* raw snappy block of them */
	IMG_CODEC_ZERO	 = 2,		/* all zero, no data (file VMAs) */
};

struct img_pages {
	uint64_t addr;			/* page aligned, inside one VMA */
	uint32_t npages;		/* 1 .. IMG_PAGES_MAX */
	uint8_t  codec;			/* enum img_codec */
	uint8_t  reserved[3];
};

/* --- PARENT (incremental images only) -------------------------------- */

/*
 * An incremental image holds every record of its own instant except the
 * pages that did not change since its parent: a page of the image's
 * memory is, in order of precedence,
 *   1. the image's own PAGES record for it, if any;
 *   2. else, if it lies in one of the `nranges` inherited ranges: the
 *      page as the parent image restores it (recursively: the parent may
 *      itself be incremental);
 *   3. else, what a missing page means in a full image (zero for
 *      anonymous memory, the file's page for a file mapping).
 * Inherited ranges are sorted, disjoint, page aligned, and each lies in
 * one private anonymous VMA of this image; libckpt inherits a range only
 * where it tracked every write since the parent.  A page that the parent
 * held and that reads as zero now (MADV_DONTNEED) is stored as a ZERO run.
 *
 * The parent is named by path (absolute when libckpt knew it) and by its
 * identity: the header fields ctime_ns, pid and hdr_crc, so a restart
 * refuses a parent that was replaced by another image under its name.
 */
#define IMG_PARENT_RANGES_MAX	65536u

struct img_range {
	uint64_t start, end;
};

struct img_parent {
	uint64_t ctime_ns;		/* the parent's img_header.ctime_ns */
	int32_t  pid;			/* ... .pid */
	uint32_t hdr_crc;		/* ... .hdr_crc */
	uint32_t nranges;		/* struct img_range that follow */
	uint32_t path_len;		/* bytes of the parent's path after them */
};

_Static_assert(sizeof(struct img_parent) == 24, "img_parent size");

/* --- MPAGES (mappable images) ---------------------------------------- */

/*
 * A run of raw pages that ckpt-restart maps from the file (MAP_PRIVATE)
 * instead of reading it.  The record's payload is this struct and zero
 * padding up to data_off; then come npages * page_size bytes of page
 * data, which are NOT part of the payload: neither the record crc nor the
 * END record's image_crc covers them (a restart that had to read them
 * could not be fast).  data_crc covers them instead and is checked by
 * `ckpt-restart --check` and `ckpt-info --verify`, not by a restart.
 * Invariants: data_off == offset of the record + 24 + len (the data
 * follows the payload at once) and is page aligned; the next record
 * starts at data_off + npages * page_size.
 */
#define IMG_MPAGES_MAX		16384u	/* pages in one run (64 MiB) */

struct img_mpages {
	uint64_t addr;			/* page aligned, inside one VMA */
	uint64_t npages;		/* 1 .. IMG_MPAGES_MAX */
	uint64_t data_off;		/* file offset of the data, page aligned */
	uint32_t data_crc;		/* crc32c of the npages pages */
	uint32_t reserved;		/* zero */
};

_Static_assert(sizeof(struct img_mpages) == 32, "img_mpages size");

/* --- SEAL (after END; optional) ------------------------------------- */

/*
 * An image that crosses a trust boundary can be sealed by whoever saved
 * it (`ckpt-save --key`): a keyed MAC over every byte of the image before
 * the seal (header, records, END, a mappable image's page data), binding
 * also the uid and gid of the process as the saver saw them.  The seal is
 * the last IMG_SEAL_SIZE bytes of the file, right after the END record;
 * a reader without the key ignores it; `--key` requires and verifies it
 * (libckpt/img_seal.c, docs/SECURITY.md).  CRC32C protects against
 * corruption only: anyone can recompute it; the MAC needs the key.
 *
 * IMG_SEAL_POLY1305: the MAC is Poly1305 under a one-time key,
 * BLAKE2b-256(key = the sealing key, message = nonce || "libckpt seal");
 * the nonce is 16 random bytes, so no two seals share a one-time key.
 * The MAC covers the image bytes, then this struct up to `mac`.
 */
#define IMG_SEAL_MAGIC		"LCKPSEAL"
#define IMG_SEAL_POLY1305	1

struct img_seal {
	char     magic[8];		/* IMG_SEAL_MAGIC */
	uint32_t alg;			/* IMG_SEAL_POLY1305 */
	uint32_t uid, gid;		/* the saved process's real ids */
	uint32_t reserved;		/* zero */
	uint8_t  key_id[16];		/* BLAKE2b-128 of the key: which key sealed it */
	uint8_t  nonce[16];		/* random, one per seal */
	uint8_t  mac[16];		/* Poly1305 */
};
#define IMG_SEAL_SIZE		72

_Static_assert(sizeof(struct img_seal) == IMG_SEAL_SIZE, "img_seal size");
_Static_assert(sizeof(struct img_header) == 128, "img_header size");
_Static_assert(sizeof(struct img_rec_hdr) == 24, "img_rec_hdr size");
_Static_assert(sizeof(struct img_end) == 24, "img_end size");
_Static_assert(sizeof(struct img_pages) == 16, "img_pages size");
_Static_assert(sizeof(struct img_vma) % 8 == 0, "img_vma padding");
_Static_assert(sizeof(struct img_vma) == 80, "img_vma size");
_Static_assert(sizeof(struct img_mlock) == 8, "img_mlock size");
_Static_assert(sizeof(struct img_backtrace) == 16, "img_backtrace size");
_Static_assert(sizeof(struct img_bt_frame) == 32, "img_bt_frame size");
_Static_assert(sizeof(struct img_thread) % 8 == 0, "img_thread padding");
_Static_assert(sizeof(struct img_file) == 72, "img_file size");
_Static_assert(sizeof(struct img_fd) == 16, "img_fd size");
_Static_assert(sizeof(struct img_lock) == 32, "img_lock size");
_Static_assert(sizeof(struct img_file_memfd) == 16, "img_file_memfd size");
_Static_assert(sizeof(struct img_file_pshm) == 24, "img_file_pshm size");
_Static_assert(sizeof(struct img_file_data) == 24, "img_file_data size");
_Static_assert(sizeof(struct img_file_pipe) == 24, "img_file_pipe size");
_Static_assert(sizeof(struct img_pipe_data) == 16, "img_pipe_data size");
_Static_assert(sizeof(struct img_proc) % 8 == 0, "img_proc padding");
_Static_assert(sizeof(struct img_termios) == 44, "img_termios: the kernel's termios2");
_Static_assert(sizeof(struct img_file_tty) == 88, "img_file_tty size");
_Static_assert(sizeof(struct img_pty_data) == 8, "img_pty_data size");
_Static_assert(sizeof(struct img_file_inet) == 144, "img_file_inet size");
_Static_assert(sizeof(struct img_file_netlink) == 32, "img_file_netlink size");
_Static_assert(sizeof(struct img_inet_queue) == 16, "img_inet_queue size");

#endif
