/*
 * img.h - writing and reading libckpt images (format: img_format.h).
 *
 * Writer: runs inside the checkpoint signal handler, so it is
 * async-signal-safe by construction: no malloc, no stdio, no locks; the
 * caller hands it a buffer and an fd, and it only calls write(2).
 * Errors are kept in the writer (first one wins) so a caller may issue a
 * sequence of writes and check once at the end.
 *
 * Reader: runs in ckpt-restart, ckpt-info and the fuzzers.  It trusts
 * nothing: every length is bounded before use, every record and the whole
 * image are checksummed, and every failure leaves a one-line message in
 * r->err that names the problem and the byte offset.  It may allocate.
 */
#ifndef CKPT_IMG_H
#define CKPT_IMG_H

#include <stddef.h>
#include <stdint.h>
#include "libckpt/img_format.h"

/* ---- checksum ---- */

/* CRC32C (Castagnoli), hardware instruction where present. crc starts 0. */
uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len);
/* The crc of a || b, given crc_a = crc of a and crc_b = crc of b alone. */
uint32_t img_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/* ---- page compression ---- */

/* Scratch the encoder needs (a hash table); callers own it (no malloc). */
#define IMG_SNAPPY_SCRATCH	(1u << 15)	/* bytes */

/* Upper bound of the encoder's output for n input bytes. */
size_t img_snappy_bound(size_t n);

/*
 * Compress n bytes (n <= 4 GiB) into the raw snappy block format (what
 * img_snappy_decode() and libsnappy's snappy_uncompress() read).  out
 * must hold img_snappy_bound(n) bytes.  Returns the compressed length.
 * Async-signal-safe: no allocation.
 */
size_t img_snappy_compress(const void *in, size_t n, void *out, void *scratch);

/*
 * The same in steps, for callers that decide on the way: the block for n
 * bytes is img_snappy_prefix(n) (the length prefix; 0 if n > 4 GiB)
 * followed by img_snappy_part() of consecutive pieces of the input, each
 * starting at a multiple of IMG_SNAPPY_FRAGMENT (fragments are compressed
 * independently, so the bytes are exactly img_snappy_compress's).
 */
#define IMG_SNAPPY_FRAGMENT	(1u << 16)
size_t img_snappy_prefix(size_t n, void *out);
size_t img_snappy_part(const void *in, size_t n, void *out, void *scratch);

/*
 * Decodes one raw Snappy block (in, n) into out, which holds exactly want
 * bytes.  Returns 0, or -1 if the block is malformed, its length prefix is
 * not want, or it does not fill out exactly.  Never reads outside in[0, n)
 * nor writes outside out[0, want); allocates nothing (async-signal-safe).
 * in and out must not overlap.  img_snappy_dec.c: the reader side only,
 * not part of libckpt.so.
 */
int img_snappy_decode(const void *in, size_t n, void *out, size_t want);
/* The length a block's prefix declares: 0 with *len set, or -1 if the
 * prefix is truncated or not a varint32. */
int img_snappy_decoded_len(const void *in, size_t n, size_t *len);

/*
 * Decode one PAGES payload (after struct img_pages) into dst, which holds
 * p->npages * IMG_PAGE_SIZE bytes.  Returns 0, or -1 if the data does not
 * decode to exactly that many bytes (message in err, errlen bytes).
 */
int img_pages_decode(const struct img_pages *p, const void *data, size_t len,
		     void *dst, char *err, size_t errlen);

/* ---- writer ---- */

struct img_writer {
	int fd;
	int error;		/* first failure, -errno; 0 while all is well */
	uint32_t crc;		/* running crc32c of every byte written */
	uint64_t nbytes;	/* bytes written (and buffered) so far */
	uint64_t nrecords;
	unsigned char *buf;	/* coalesces small writes */
	size_t cap, len;
	int pre;		/* preallocating ahead (img_write.c): 1, 0 not yet, -1 never */
	uint64_t pre_off, pre_end;	/* file offset of the next byte; allocated up to */
};

void img_writer_init(struct img_writer *w, int fd, void *buf, size_t cap);
/* Fills magic, version, arch, page_size and hdr_crc of *h, writes it. */
int img_write_header(struct img_writer *w, struct img_header *h);
/* One record whose payload is a (fixed part) followed by b (variable). */
int img_write_record(struct img_writer *w, uint32_t type,
		     const void *a, size_t alen, const void *b, size_t blen);
/*
 * The same, for a payload checksummed elsewhere (a checkpoint worker
 * thread): b_crc is img_crc32c(0, b, blen) and rec_crc what
 * img_record_crc() returns for the record.  b is only written, not read
 * again, so the caller must not change it until the call returns.
 */
int img_write_record_crc(struct img_writer *w, uint32_t type, const void *a, size_t alen,
			 const void *b, size_t blen, uint32_t b_crc, uint32_t rec_crc);
/* The crc a record header carries, from its fixed part and b's crc. */
uint32_t img_record_crc(uint32_t type, const void *a, size_t alen, uint32_t b_crc, size_t blen);
/*
 * n bytes that follow a record without being part of it (MPAGES page
 * data): written and counted in w->nbytes (file offsets stay right), not
 * checksummed into the image crc.  Async-signal-safe like the rest.
 */
int img_write_raw(struct img_writer *w, const void *p, size_t n);
/*
 * A PAD record if the next record would not start at a multiple of 8
 * (every record write does this first; a caller that computes where a
 * record will land, MPAGES, calls it before).  Returns w->error.
 */
int img_write_align(struct img_writer *w);
/*
 * Moves a writer from the fd it started on (a memfd, from offset 0, where
 * w->nbytes bytes went) to fd: those bytes are copied there (sendfile: a
 * file or a pipe), and what follows goes straight to fd.  A tree's member
 * writes its section's first part to memory while everyone is parked,
 * and the rest in its turn.  Returns w->error.
 */
int img_writer_move(struct img_writer *w, int fd);
/* Writes the END record and flushes.  Returns w->error. */
int img_write_end(struct img_writer *w);

/* ---- seal (img_seal.c: libsodium; the tools, never libckpt.so) ---- */

#define IMG_SEAL_KEY_BYTES	32

struct img_seal_ctx {
	_Alignas(64) unsigned char st[512];	/* crypto_onetimeauth_state */
	uint8_t nonce[16];
};

/*
 * Reads a key file: 32 raw bytes or 64 hex digits, mode 0600 or
 * stricter (a key others can read lets them seal anything), never
 * through a symbolic link.  0, or -1 with the reason in err.
 */
int img_seal_key_load(const char *path, uint8_t key[IMG_SEAL_KEY_BYTES], char *err, size_t len);
/* Which key: BLAKE2b-128 of it, stored in every seal it makes. */
void img_seal_key_id(const uint8_t key[IMG_SEAL_KEY_BYTES], uint8_t id[16]);
/* The MAC of a stream: begin (a fresh random nonce), update with every image byte, finish. */
void img_seal_begin(struct img_seal_ctx *c, const uint8_t key[IMG_SEAL_KEY_BYTES]);
void img_seal_update(struct img_seal_ctx *c, const void *p, size_t n);
void img_seal_finish(struct img_seal_ctx *c, const uint8_t key[IMG_SEAL_KEY_BYTES],
		     uint32_t uid, uint32_t gid, struct img_seal *s);
/* Seals the image in regular file fd (starting at base): appends the seal. */
int img_seal_file(int fd, int64_t base, const uint8_t key[IMG_SEAL_KEY_BYTES], uint32_t uid,
		  uint32_t gid, char *err, size_t len);
/*
 * Checks the seal at the end of regular file fd against every byte from
 * base: 0 and the seal in *out, or -1 with why in err (not sealed, another
 * key, changed since).  Reads the whole image.
 */
int img_seal_verify(int fd, int64_t base, const uint8_t key[IMG_SEAL_KEY_BYTES],
		    struct img_seal *out, char *err, size_t len);
/*
 * A sealed image from a pipe is checked before any of it is used: spool
 * reads fd to its end into a memfd and returns it (at offset 0), or -1
 * with why in err.  Costs the image's size in memory.
 */
int img_seal_spool(int fd, char *err, size_t len);

/* ---- reader ---- */

/* Reader failure classes: the tools turn them into exit codes. */
enum img_err {
	IMG_OK = 0,
	IMG_ERR_IO,		/* cannot open or read: exit 2 */
	IMG_ERR_CORRUPT,	/* truncated, bad CRC, bad magic, bad record */
	IMG_ERR_INCOMPAT,	/* other arch, newer version, page size: exit 3 */
};

struct img_rec {
	uint32_t type;
	uint16_t version;
	uint64_t offset;	/* of the record header in the image */
	uint64_t len;
	const void *data;	/* payload, valid until the next call (mapped:
				 * until img_reader_close) */
	int skipped;		/* PAGES payload left unread (img_reader_skip_pages):
				 * data holds only its struct img_pages, its crc is
				 * unchecked; img_reader_fetch() reads and checks it */
};

struct img_reader {
	int fd;
	int is_file;		/* regular file: EOF must follow END */
	int64_t base;		/* file offset of the image's first byte */
	enum img_err code;
	char err[256];
	struct img_header hdr;
	uint32_t crc;
	uint64_t nbytes;
	uint64_t nrecords;
	unsigned char *payload;
	size_t cap;
	unsigned char *in;	/* read-ahead buffer */
	size_t in_len, in_pos, in_cap;
	size_t ahead;		/* bytes per refill (<= in_cap) */
	size_t grow;		/* refill size when !ahead: doubles up to in_cap */
	int skip_pages;		/* img_reader_skip_pages() was called: pread at fpos */
	uint64_t fpos;		/* skip mode: file offset of the next read */
	int crc_partial;	/* a payload was skipped: r->crc is not the image's */
	int exact;		/* after a large payload: read without read-ahead */
	/* img_reader_map(): the file, mapped; records are read from it */
	const unsigned char *map;
	uint64_t map_len;	/* file bytes mapped (from file offset 0) */
	const unsigned char *view;	/* the last payload: in map, or r->payload */
	int sealed;		/* a regular file: a seal follows END (not verified here) */
	int part;		/* set by the caller: a tree's directory or section, which
				 * more bytes follow (no trailing-bytes or seal check) */
	struct img_seal seal;	/* ... which one */
};

/* Reads and checks the header. 0, or -1 with r->code / r->err set. */
int img_reader_open(struct img_reader *r, int fd);
/* Next record: 1 = *rec filled, 0 = END reached and verified, -1 = error. */
int img_reader_next(struct img_reader *r, struct img_rec *rec);
void img_reader_close(struct img_reader *r);
/*
 * A regular file's image is read from a read-only mapping from here on:
 * rec->data points into the page cache instead of a copy, and no buffer
 * is filled (for a small process's image, the page faults on fresh
 * buffers cost more than all its decoding).  rec->data stays valid until
 * img_reader_close().  0, or -1 (not a regular file, or the mapping
 * failed: the reader goes on reading, nothing is set).  A file truncated
 * while it is mapped raises SIGBUS where a record is read: the caller
 * handles that (ckpt-restart reports it and exits).
 */
int img_reader_map(struct img_reader *r);
/*
 * Takes the last record's payload buffer (rec->data, *taken_cap bytes;
 * the caller frees it) and gives the reader buf (cap bytes from malloc, or NULL) for the next
 * records: so page data can be decoded elsewhere while reading goes on.
 * Mapped (img_reader_map): returns NULL and keeps nothing; rec->data is
 * a view that needs no buffer.
 */
void *img_reader_take_payload(struct img_reader *r, void *buf, size_t cap, size_t *taken_cap);

/*
 * Lazy restore (img_skip.c; regular files only, else a no-op): from now on
 * the payload of a PAGES record is not read, only its struct img_pages,
 * and the rest is skipped with lseek; rec->skipped says so.  Refills get
 * small so that skipping a record reads little more than its header, and
 * reads become preads (one system call per skipped record).  The
 * END record's counts are still checked, its whole-image checksum cannot
 * be (documented in docs/INTERNALS.md, "Lazy restore").
 */
void img_reader_skip_pages(struct img_reader *r);
/* Reads and checks a skipped payload (pread): 0, or -1 with r->err set. */
int img_reader_fetch(struct img_reader *r, struct img_rec *rec);
/*
 * One record at image offset off whose payload is len bytes, read with
 * pread into buf (sizeof(struct img_rec_hdr) + len bytes) and checked:
 * its header says `type` and len, and its checksum matches.  0, or -1
 * with a one-line message naming the offset in err.
 */
int img_pread_record(int fd, uint64_t off, uint32_t type, uint64_t len, void *buf,
		     char *err, size_t errlen);

/*
 * Payload checkers: each validates the fixed struct and its variable tail
 * against rec->len and returns a pointer to the struct, or NULL with
 * r->err set.  The variable tail (path, fpstate, data) starts right after.
 * For the checkers in every img_*.c: img_fail records the first cause
 * (the reader's invariant: later ones are dropped) and returns -1;
 * img_get_fixed checks rec is of type and holds at least the fixed
 * struct: it, or NULL after img_fail.
 */
__attribute__((format(printf, 3, 4)))
int img_fail(struct img_reader *r, enum img_err code, const char *fmt, ...);
const void *img_get_fixed(struct img_reader *r, const struct img_rec *rec, uint32_t type,
			  size_t fixed);
const struct img_proc *img_get_proc(struct img_reader *r, const struct img_rec *rec);
/* FILE: path and kind data bounded, the kind known and its fields valid (fd_kind.h). */
const struct img_file *img_get_file(struct img_reader *r, const struct img_rec *rec);
/* FD: whether its FILE exists (came before) is the caller's check. */
const struct img_fd *img_get_fd(struct img_reader *r, const struct img_rec *rec);
/*
 * LOCK (img_lock.c): kind, type, range and signal consistent; whether its
 * FILE exists and can hold such a lock is the caller's check.  The names
 * ("posix", "write") and the range ("bytes 10-19", "bytes 5 to EOF", "the
 * whole file") are what ckpt-info and ckpt-restart's messages show.
 */
const struct img_lock *img_get_lock(struct img_reader *r, const struct img_rec *rec);
/*
 * An EPOLL_ITEM record (img_epoll.c), checked alone: ids non-zero and
 * different, tfd >= 0, EPOLLEXCLUSIVE only with the bits it allows.
 * Whether `epoll` names an EPOLL FILE before it and `target` a FILE of
 * the image is the caller's check.  img_epoll_events: the events in
 * words ("EPOLLIN|EPOLLET", "disabled EPOLLONESHOT" when a oneshot item
 * fired), into buf.
 */
const struct img_epoll_item *img_get_epoll_item(struct img_reader *r, const struct img_rec *rec);
int img_epoll_events(uint32_t events, char *buf, size_t len);
const char *img_lock_kind_name(uint32_t kind);
const char *img_lock_type_name(uint32_t type);
int img_lock_range(const struct img_lock *l, char *buf, size_t len);
/*
 * FILE_DATA (img_files.c): the struct bounded, the data length right for
 * its codec; that its FILE came right before it, holds contents and is
 * long enough is the caller's check.  Followed by the codec's data.
 */
const struct img_file_data *img_get_file_data(struct img_reader *r, const struct img_rec *rec);
/* Decodes a checked FILE_DATA's data (len bytes) into dst (d->len bytes): 0, or -1 and err. */
int img_file_data_decode(const struct img_file_data *d, const void *data, size_t len,
			 void *dst, char *err, size_t errlen);
/*
 * PIPE_DATA (img_files.c): the struct and its length (a packet at most a
 * page); that it follows its pipe's first FILE and that the records add
 * up to the pipe's bytes is the caller's check (img_pipe_data_next below).
 * Followed by d->len bytes.
 */
/*
 * PTY_DATA (img_files.c): one record, right after owner, the MASTER FILE
 * it names (with owner_data its kind data, already checked); NULL after
 * img_fail otherwise.
 */
const struct img_pty_data *img_get_pty_data(struct img_reader *r, const struct img_rec *rec,
					    const struct img_file *owner, const void *owner_data);
const struct img_pipe_data *img_get_pipe_data(struct img_reader *r, const struct img_rec *rec);
/*
 * The checks across records every reader makes of PIPE_DATA (ckpt-restart,
 * ckpt-info): `owner` is the FILE record just before the run of PIPE_DATA
 * records d belongs to (NULL if there is none), `done` the bytes of that
 * pipe's records before d.  0, or -1 with err.  img_pipe_data_end: when the
 * run is over, whether it held all of owner's bytes.
 */
int img_pipe_data_next(const struct img_file *owner, const void *owner_data,
		       const struct img_pipe_data *d, uint64_t done, char *err, size_t errlen);
int img_pipe_data_end(const struct img_file *owner, const void *owner_data, uint64_t done,
		      char *err, size_t errlen);

/*
 * INOTIFY_WATCH (img_evfd.c): get checks one record alone (wd > 0, mask,
 * flags, an absolute path of path_len bytes without NUL); watch_next that
 * w follows its INOTIFY FILE owner (with owner_data, its kind data) as its
 * watch number seen (from 0), its wd above last_wd; end, once another
 * record comes, that owner (if an INOTIFY FILE) got all its watches.  0,
 * or -1 with err.
 */
const struct img_inotify_watch *img_get_inotify_watch(struct img_reader *r,
						      const struct img_rec *rec);
int img_inotify_watch_next(const struct img_file *owner, const void *owner_data,
			   const struct img_inotify_watch *w, uint32_t seen, int32_t last_wd,
			   char *err, size_t errlen);
int img_inotify_end(const struct img_file *owner, const void *owner_data, uint32_t seen,
		    char *err, size_t errlen);
/*
 * UNIX_MSG (img_unix.c): lengths, counts and fields consistent; that its
 * socket and every fd in flight are FILE records seen before it, and its
 * sender a socket of the image, is the caller's check.  The accessors
 * give the parts of a checked record.
 */
const struct img_unix_msg *img_get_unix_msg(struct img_reader *r, const struct img_rec *rec);
/* FILE id of the i-th fd in flight (unaligned: copied out). */
static inline uint32_t img_unix_msg_fd(const struct img_unix_msg *m, uint32_t i)
{
	uint32_t id;

	__builtin_memcpy(&id, (const unsigned char *)(m + 1) + (size_t)i * 4, 4);
	return id;
}
static inline const char *img_unix_msg_addr(const struct img_unix_msg *m)
{
	return (const char *)(m + 1) + (size_t)m->nfds * 4;
}
static inline const void *img_unix_msg_data(const struct img_unix_msg *m)
{
	return img_unix_msg_addr(m) + m->addr_len;
}
const struct img_thread *img_get_thread(struct img_reader *r, const struct img_rec *rec);
/*
 * Followed by path_len bytes of path, then nguards struct img_range (not
 * 8-byte aligned: copy them out; img_vma_guard()).  Attributes and guard
 * regions are checked (img_format.h).
 */
const struct img_vma *img_get_vma(struct img_reader *r, const struct img_rec *rec);
/* Guard region i of a checked VMA record. */
static inline struct img_range img_vma_guard(const struct img_vma *v, uint32_t i)
{
	struct img_range g;

	__builtin_memcpy(&g, (const unsigned char *)(v + 1) + v->path_len + (size_t)i * sizeof(g),
			 sizeof(g));
	return g;
}
/*
 * MEMBER: ids positive, flags known, exit status for a zombie only, stop
 * signal for a stopped member only; that the members form a tree (and
 * their sections exist) is the caller's check.
 */
const struct img_member *img_get_member(struct img_reader *r, const struct img_rec *rec);
/* MLOCK: the mlockall flags, FUTURE set (img_memattr.c). */
const struct img_mlock *img_get_mlock(struct img_reader *r, const struct img_rec *rec);
/*
 * BACKTRACE (img_bt.c): frames and names bounded, every name NUL-terminated
 * inside the record; img_bt_frames/img_bt_name read a record it accepted.
 */
const struct img_backtrace *img_get_backtrace(struct img_reader *r, const struct img_rec *rec);
const struct img_bt_frame *img_bt_frames(const struct img_backtrace *b);
const char *img_bt_name(const struct img_backtrace *b, const struct img_bt_frame *f);
/* img_memattr.c, for img_get_vma: attrs and guard regions. 0, or -1 with r->err. */
int img_check_vma_attrs(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v);
/* A signal 1..64 but SIGKILL/SIGSTOP; whether tid names a THREAD is the caller's check. */
const struct img_siginfo *img_get_siginfo(struct img_reader *r, const struct img_rec *rec);
/* Fields consistent with the kind and notification; a tid is the caller's check. */
const struct img_timer *img_get_timer(struct img_reader *r, const struct img_rec *rec);
const struct img_pages *img_get_pages(struct img_reader *r, const struct img_rec *rec);
/*
 * img_attr.c: PROC_ATTR (every field in range); SECCOMP (followed by
 * ninsns 8-byte instructions; whether parent names an earlier record is
 * the caller's check); a THREAD record's attribute fields (img_get_thread
 * calls it; whether seccomp_leaf names a SECCOMP record is the caller's).
 */
const struct img_proc_attr *img_get_proc_attr(struct img_reader *r, const struct img_rec *rec);
const struct img_seccomp *img_get_seccomp(struct img_reader *r, const struct img_rec *rec);
int img_check_thread_attr(struct img_reader *r, const struct img_rec *rec,
			  const struct img_thread *t);
/*
 * img_ipc.c: SYSV_SHM (no tail; its contents are FILE_DATA records of
 * file 0 after it); SYSV_SEM (nsems struct img_sem or img_semadj after
 * it, 8 bytes each, unaligned: copy them out); SYSV_MSG and MQ_MSGS (the
 * messages walked and checked).  img_ipc_msg_next reads the message at p
 * (checked: mq 1 for MQ_MSGS, 0 for SYSV_MSG) into type or prio, text and
 * len, and returns the bytes to the next one.  img_vma_sysv: whether a
 * checked VMA (path after it) attaches a SysV segment (its ino is the
 * id); img_check_vma_sysv, for img_get_vma: such a name only on such a
 * mapping.  Whether the segment, set or FILE they name exists is the
 * caller's check.
 */
const struct img_sysv_shm *img_get_sysv_shm(struct img_reader *r, const struct img_rec *rec);
const struct img_sysv_sem *img_get_sysv_sem(struct img_reader *r, const struct img_rec *rec);
const struct img_sysv_msg *img_get_sysv_msg(struct img_reader *r, const struct img_rec *rec);
const struct img_mq_msgs *img_get_mq_msgs(struct img_reader *r, const struct img_rec *rec);
/* img_inet.c: an INET_QUEUE record (its bytes right after the struct), or NULL after img_fail. */
const struct img_inet_queue *img_get_inet_queue(struct img_reader *r, const struct img_rec *rec);
static inline size_t img_ipc_msg_next(const void *p, int mq, int64_t *type, uint32_t *prio,
				      const void **text, uint64_t *len)
{
	const unsigned char *q = p;
	size_t hdr;

	if (mq) {
		struct img_mq_msg h;

		__builtin_memcpy(&h, q, sizeof(h));
		*prio = h.prio;
		*len = h.len;
		hdr = sizeof(h);
	} else {
		struct img_msg h;

		__builtin_memcpy(&h, q, sizeof(h));
		*type = h.type;
		*len = h.len;
		hdr = sizeof(h);
	}
	*text = q + hdr;
	return hdr + (size_t)(*len + (8 - *len % 8) % 8);
}
int img_vma_sysv(const struct img_vma *v, const char *path);
int img_check_vma_sysv(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v);
/* Followed by nranges struct img_range, then path_len bytes of path. */
const struct img_parent *img_get_parent(struct img_reader *r, const struct img_rec *rec);
/* MPAGES (img_mpages.c): the struct; its page data is not in rec->data. */
const struct img_mpages *img_get_mpages(struct img_reader *r, const struct img_rec *rec);
/*
 * Called by img_reader_next() after an MPAGES record: checks it and
 * moves past its page data (lseek on a file, read and dropped on a pipe).
 */
int img_mpages_skip(struct img_reader *r, const struct img_rec *rec);
/*
 * Reads the page data of p from fd (the image starts at file offset
 * base) and checks data_crc.  0, or -1 with a one-line message in err.
 */
int img_mpages_verify(int fd, int64_t base, const struct img_mpages *p,
		      char *err, size_t errlen);

#endif
