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

struct info_file {
	struct img_file f;
	struct info_str path;
	struct info_str data;	/* the kind's data (f.data_len bytes) */
	/* GHOST, MEMFD: its contents in FILE_DATA records (info_files.c) */
	uint64_t data_bytes;	/* bytes of the file they hold */
	uint64_t stored;	/* bytes of their data in the image */
	uint64_t end;		/* end of the last one */
	uint32_t extents;	/* runs of adjacent records */
	/* PIPE, FIFO with same_as 0: data_bytes are its PIPE_DATA's bytes, and */
	uint32_t packets;	/* ... how many of the records are packets */
	int nfds;		/* FD records that name it */
	int nmaps;		/* VMA records that name it */
	int owner;		/* a tree: the section whose FILE record this is, -1 if ours */
	int inflight;		/* UNIX_MSG records that carry it */
	/* UNIX: its queue (info_unix.c) */
	uint32_t umsgs, ufds, ucreds, ufrom;	/* messages, fds, with credentials, 1 << how */
	uint64_t ubytes;
	/* INET: its INET_QUEUE records seen (1 << which) */
	uint32_t inetq;
	/* MQUEUE: its MQ_MSGS record (info_ipc.c) */
	int mq_seen;
	uint32_t mq_nmsgs;
	uint64_t mq_bytes;
	struct info_str mq;	/* the messages, as the record holds them */
	/* INOTIFY: its INOTIFY_WATCH records, each a copy (info_evfd.c) */
	struct info_str *watches;
	uint32_t nwatches;
};

/* A SysV object (info_ipc.c): SYSV_SHM, SYSV_SEM (SET) or SYSV_MSG */
struct info_ipc {
	uint32_t type;		/* IMG_REC_SYSV_* */
	struct img_sysv_perm perm;
	struct img_sysv_shm shm;
	struct img_sysv_sem sem;
	struct img_sysv_msg msg;
	void *tail;		/* sem: nsems struct img_sem; msg: the messages */
	size_t tail_len;
	struct img_semadj *adj;	/* sem: this process's SEM_UNDO adjustments */
	uint32_t nadj;
	uint32_t nattach;	/* shm: VMA records attaching it */
	uint64_t data_bytes, stored, end;	/* shm: its FILE_DATA records */
	uint32_t extents;
};

struct info_fd {
	struct img_fd d;
	size_t file;		/* index into info.files */
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

/* Where a run of pages' data is (PAGES, MPAGES): backtraces and --diff read it (info_mem.c). */
struct info_run {
	uint64_t addr, npages;
	uint64_t off;		/* file offset: the PAGES record's header, or MPAGES data */
	uint64_t len;		/* PAGES: the record's payload bytes */
	uint8_t codec;		/* PAGES: enum img_codec */
	uint8_t mapped;		/* MPAGES: raw pages at off */
};

struct info {
	const char *name;
	int verify;
	struct img_header hdr;
	uint64_t image_bytes;
	struct img_proc proc;
	struct info_str cwd, exe;
	uint32_t *groups;	/* proc.ngroups supplementary groups */
	struct img_thread *thr;
	size_t nthr;
	struct img_backtrace **bts;	/* BACKTRACE records (checked copies), any order */
	size_t nbt;
	struct img_siginfo *sigs;	/* queued signals, in image order */
	size_t nsig;
	struct img_timer *timers;
	size_t ntimer;
	int has_pattr;			/* the PROC_ATTR record */
	struct img_proc_attr pattr;
	struct img_seccomp *sc;		/* seccomp filters, install order */
	size_t nsc;
	uint64_t sc_insns;		/* their instructions, in all */
	struct info_file *files;	/* FILE records (open file descriptions) */
	size_t nfile;
	struct info_fd *fds;		/* FD records, each naming a file */
	size_t nfd;
	struct img_lock *locks;		/* LOCK records, each naming a file */
	size_t nlock;
	struct img_epoll_item *epitems;	/* EPOLL_ITEM records (info_epoll.c) */
	size_t nepitem;
	struct info_vma *vmas;
	size_t nvma;
	size_t nsorted;		/* vmas[0..nsorted) sorted and checked */
	uint32_t fdata_file;	/* the FILE just read, while only FILE_DATA or
				 * PIPE_DATA follow it */
	struct info_ipc *ipc;	/* SysV objects, in image order */
	size_t nipc;
	int ipc_shm;		/* the SYSV_SHM just read (index + 1), while FILE_DATA follow */
	int ipc_ns;		/* -1: no IPC record; else IMG_IPC_NS said (0, 1) */
	int has_parent;		/* incremental: the PARENT record */
	struct img_parent parent;
	struct info_str parent_path;
	uint32_t mlock_mcl;	/* MLOCK record: IMG_MCL_*, 0 if none */
	uint64_t inherited;	/* bytes of the inherited ranges */
	struct img_range *inh;	/* the inherited ranges (sorted, disjoint: the reader checked) */
	size_t ninh;
	uint64_t mapped, pages, zero_pages, raw, stored;
	int sealed;		/* a seal follows END */
	int seal_verified;	/* ... and --key verified it */
	struct info_run *runs;	/* page runs, sorted by address once loaded */
	size_t nrun;
	int img_fd;		/* the image, open while ckpt-info prints (info_mem.c reads it) */
	struct img_seal seal;
	/* a tree (IMG_F_TREE, info_tree.c): its directory and its sections */
	struct img_member *members;
	size_t nmember;
	struct info *sections;
	size_t nsection;
	/* a section: its number and the sections before it (their FILEs are shared) */
	int section;
	const struct info *tree;
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
/*
 * info_assist.c: who would make the pids on a restart here, by this user
 * ("module", "upstream", "pidns", "none"), why in pids; how POSIX timers
 * get their ids in timers ("" when the image has none).
 */
const char *info_assist(const struct info *in, char *pids, size_t plen, char *timers,
			size_t tlen);
/* "signal", "none", "thread" (SIGEV_THREAD) or "thread-id" */
const char *info_timer_notify(const struct img_timer *t);
const char *info_rlimit_name(int i);
/* "SCHED_OTHER"-like names of the attribute fields (info_names.c) */
const char *info_ioprio_class(uint32_t ioprio);
const char *info_mce_kill(uint32_t v);
/* Writes "0-3,8" into buf (n bytes): the set bits of words * 64 bits. */
void info_bitlist(const uint64_t *mask, int words, char *buf, size_t n);
extern const struct info_flag info_membarrier_flags[];
extern const struct info_flag info_securebits_flags[];
/* "file", "dir", "dev", "inherited", "opath", "ghost", "memfd"...: the kind's short name */
const char *info_fd_kind(uint32_t kind);
/*
 * info_files.c: the checks of FILE and VMA records against the FILEs
 * (same_as, img_vma.file), FILE_DATA records (order, bounds, decoded when
 * verifying), and what a FILE's kind data says, as text for people
 * (desc) and as JSON members (json: `, "name": ...`).  0 or -1 with in->err.
 */
int info_file_check(struct info *in, const struct info_file *f, uint64_t off);
int info_vma_file_check(struct info *in, const struct img_vma *v, uint64_t off);
int info_add_file_data(struct info *in, struct img_reader *r, const struct img_rec *rec);
/* PIPE_DATA (info_files.c); pipe_data_end: the run of them after in->fdata_file is over. */
/* PTY_DATA: after its pty MASTER FILE; its bytes in that file's data_bytes. */
int info_add_pty_data(struct info *in, struct img_reader *r, const struct img_rec *rec);
int info_add_pipe_data(struct info *in, struct img_reader *r, const struct img_rec *rec);
int info_pipe_data_end(struct info *in);
const struct info_file *info_file_by_id(const struct info *in, uint32_t id);
void info_file_desc(const struct info *in, const struct info_file *f, char *buf, size_t len);
void info_file_json(const struct info_file *f, void (*str)(const char *s, size_t n));
/* info_unix.c: a UNIX_MSG record counted with its socket; a UNIX FILE in words and JSON. */
int info_add_unix_msg(struct info *in, struct img_reader *r, const struct img_rec *rec);
/*
 * info_evfd.c: the event fds' words (eventfd, timerfd, signalfd, inotify):
 * desc and json say 1 when f is one of them.  add_watch checks and keeps
 * an INOTIFY_WATCH record (it follows its INOTIFY FILE, in->fdata_file);
 * watches_end checks that the FILE before got all its watches.
 */
int info_evfd_desc(const struct info_file *f, char *buf, size_t len);
int info_evfd_json(const struct info_file *f, void (*str)(const char *s, size_t n));
void info_evfd_text(const struct info_file *f);
int info_add_inotify_watch(struct info *in, struct img_reader *r, const struct img_rec *rec);
int info_inotify_end(struct info *in);
void info_evfd_free(struct info_file *f);
/* info_inet.c: an INET_QUEUE record checked with its FILE; an INET or NETLINK FILE in words, JSON. */
int info_add_inet_queue(struct info *in, struct img_reader *r, const struct img_rec *rec);
void info_inet_desc(const struct info_file *f, char *buf, size_t len);
void info_inet_json(const struct info_file *f, void (*str)(const char *s, size_t n));
void info_unix_desc(const struct info *in, const struct info_file *f, char *buf, size_t len);
void info_unix_json(const struct info_file *f, void (*str)(const char *s, size_t n));
/* The lowest other fd of f's open file description, or -1. */
int info_fd_shared_with(const struct info *in, const struct info_fd *f);
/* The lowest fd naming FILE id, or -1; the FILE itself (NULL if none). */
int info_file_fd(const struct info *in, uint32_t id);
/*
 * info_epoll.c: an EPOLL_ITEM record (its epoll a FILE of this section
 * before it); check, once the whole image is read (a tree: every
 * section, since an item may watch a later section's FILE): each epoll
 * has the items it counts, each watching a FILE the image has; the items
 * in words and in JSON (its array, after "locks").
 */
int info_epoll_add(struct info *in, struct img_reader *r, const struct img_rec *rec);
int info_epoll_check(struct info *in);
void info_epoll_txt(const struct info *in);
void info_epoll_json(const struct info *in);
const struct info_file *info_file(const struct info *in, uint32_t id);
const char *info_accmode(uint32_t flags);
const char *info_vma_kind(const struct img_vma *v);
void info_perm(const struct img_vma *v, char out[5]);
size_t info_utf8_len(const unsigned char *p, size_t n, size_t i);
/* The key id as 32 hex digits (buf: 33 bytes). */
const char *info_key_id(const struct img_seal *s, char *buf);
/*
 * info_ipc.c: the IPC records (SYSV_*, MQ_MSGS, FILE_DATA of a SYSV_SHM)
 * checked and kept; a SysV attach names a saved segment; an MQUEUE FILE's
 * namespace flag agrees; the SysV objects as text and JSON, a POSIX
 * queue's words and JSON members.  0 or -1 with in->err.
 */
int info_ipc_add(struct info *in, struct img_reader *r, const struct img_rec *rec);
int info_ipc_vma_check(struct info *in, const struct img_vma *v, uint64_t off);
int info_ipc_file(struct info *in, const struct info_file *f, uint64_t off);
void info_ipc_free(struct info *in);
void info_ipc_text(const struct info *in);
void info_ipc_json(const struct info *in, void (*str)(const char *s, size_t n));
void info_ipc_mq_desc(const struct info_file *f, char *buf, size_t len);
void info_ipc_mq_json(const struct info_file *f, void (*str)(const char *s, size_t n));
void txt_print(const struct info *in);
void json_print(const struct info *in);
/*
 * info_tree.c: a tree image (its directory header read: r): the MEMBER
 * records, then every section as an image of its own, each in
 * in->sections; and their summaries.  info_file_get is info_file_by_id
 * that, in a section, also finds an earlier section's FILE (and keeps a
 * copy of it, owner set): an fd may share a description saved there.
 */
int info_tree_load(struct info *in, struct img_reader *r, int fd);
struct info_file *info_file_get(struct info *in, uint32_t id);
/* realloc of an array of n elements to room for n + 1 (doubling); exits when out of memory. */
void *info_grow(void *p, size_t n, size_t size);
void txt_tree(const struct info *in);
void json_tree(const struct info *in);
/* info_mem.c: a page run noted while loading; the runs sorted by address once all are in. */
void info_run_add(struct info *in, uint64_t addr, uint64_t npages, uint64_t off, uint64_t len,
		  uint8_t codec, uint8_t mapped);
void info_runs_sort(struct info *in);
/* info_bt.c: a thread's backtrace, unwound from the image (text, and JSON members);
 * none while info_bt_skip (--no-backtrace). */
extern int info_bt_skip;
/* --unwind: unwind from the image even where a BACKTRACE record was stored */
extern int info_bt_unwind;
void info_bt_text(const struct info *in, const struct img_thread *t);
void info_bt_json(const struct info *in, const struct img_thread *t,
		  void (*str)(const char *s, size_t n));
/* The BACKTRACE record the checkpoint stored for thread tid, or NULL. */
const struct img_backtrace *info_bt_stored(const struct info *in, int tid);
/* Reads and checks one image (or section: part) from r's position: 0 or an exit status. */
int info_load_image(struct info *in, int fd, int part);

#endif
