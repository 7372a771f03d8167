/*
 * fz_image.c - checksum fix-up, a hostile structure-aware mutator and
 * seed images for the image fuzz targets (fz_image.h).
 *
 * The project's images carry CRC32C checksums, which anyone can
 * recompute: an attacker's image is well formed and checksum-correct,
 * with hostile values in its fields.  Byte flips alone rarely produce
 * those (a flipped byte dies at its checksum, a fixed-up random byte is
 * rarely a boundary value in the right place), so the mutator writes them
 * on purpose, aligned to the fields of the record it picks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "libckpt/img.h"
#include "tests/fuzz/fz_image.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

void fz_fixup(unsigned char *b, size_t size)
{
	struct img_header h;
	uint64_t off = sizeof(h), nrec = 0;
	uint32_t crc;

	if (size < sizeof(h))
		return;
	memcpy(&h, b, sizeof(h));
	h.hdr_crc = 0;
	h.hdr_crc = img_crc32c(0, &h, sizeof(h));
	memcpy(b, &h, sizeof(h));
	crc = img_crc32c(0, b, sizeof(h));

	while (size - off >= sizeof(struct img_rec_hdr)) {
		struct img_rec_hdr rh;
		unsigned char *payload = b + off + sizeof(rh);

		memcpy(&rh, b + off, sizeof(rh));
		if (rh.len > size - off - sizeof(rh))
			break;
		if (rh.type == IMG_REC_END && rh.len == sizeof(struct img_end)) {
			struct img_end e;

			memcpy(&e, payload, sizeof(e));
			e.image_crc = crc;
			e.nrecords = nrec;
			e.nbytes = off;
			memcpy(payload, &e, sizeof(e));
		}
		nrec++;
		/* MPAGES: its data follows the record, outside every crc but data_crc */
		uint64_t skip = 0;
		if (rh.type == IMG_REC_MPAGES && rh.len >= sizeof(struct img_mpages)) {
			struct img_mpages m;

			memcpy(&m, payload, sizeof(m));
			if (m.data_off == off + sizeof(rh) + rh.len && m.npages <= IMG_MPAGES_MAX &&
			    m.npages * IMG_PAGE_SIZE <= size - m.data_off) {
				skip = m.npages * IMG_PAGE_SIZE;
				m.data_crc = img_crc32c(0, b + m.data_off, (size_t)skip);
				memcpy(payload, &m, sizeof(m));
			}
		}
		rh.crc = img_crc32c(0, &rh, offsetof(struct img_rec_hdr, crc));
		rh.crc = img_crc32c(rh.crc, payload, (size_t)rh.len);
		memcpy(b + off, &rh, sizeof(rh));
		crc = img_crc32c(crc, b + off, sizeof(rh) + (size_t)rh.len);
		off += sizeof(rh) + rh.len + skip;
	}
}


/* ---- the hostile mutator ---- */

struct fz_rec {
	size_t off, len;	/* of the whole record: header and payload (and MPAGES data) */
	uint32_t type;
};

/* The records of b up to END (not END), at most max. */
static int fz_records(const unsigned char *b, size_t size, struct fz_rec *r, int max)
{
	size_t off = sizeof(struct img_header);
	int n = 0;

	while (n < max && size - off >= sizeof(struct img_rec_hdr) && off < size) {
		struct img_rec_hdr rh;
		size_t whole;

		memcpy(&rh, b + off, sizeof(rh));
		if (rh.len > size - off - sizeof(rh) || rh.type == IMG_REC_END)
			break;
		whole = sizeof(rh) + (size_t)rh.len;
		if (rh.type == IMG_REC_MPAGES && rh.len >= sizeof(struct img_mpages)) {
			struct img_mpages m;

			memcpy(&m, b + off + sizeof(rh), sizeof(m));
			if (m.npages <= IMG_MPAGES_MAX &&
			    m.npages * IMG_PAGE_SIZE <= size - off - whole)
				whole += m.npages * IMG_PAGE_SIZE;
		}
		r[n++] = (struct fz_rec){ off, whole, rh.type };
		off += whole;
	}
	return n;
}

static uint64_t fz_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A value an attacker would try in a field of that width. */
static uint64_t fz_hostile(uint64_t *rng, const unsigned char *b, size_t size, int width)
{
	static const uint64_t vals[] = {
		0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
		0x7ffffffff000ull, 0x800000000000ull, 0xffff800000000000ull,
		0xfffffffffffff000ull, 4095, 4097, 65536, 1u << 20, 64u << 20,
		0x400000, 0x10000, 0x13000, 1000, 4242, 100,
	};
	uint64_t v;

	switch (fz_rand(rng) % 4) {
	case 0:		/* a value taken from elsewhere in the image (an id, a tid, a length) */
		if (size >= 8) {
			size_t at = (fz_rand(rng) % (size / 4)) * 4;

			v = 0;
			memcpy(&v, b + at, at + 8 <= size ? 8 : 4);
			break;
		}
		/* fall through */
	default:
		v = vals[fz_rand(rng) % (sizeof(vals) / sizeof(vals[0]))];
		if (fz_rand(rng) % 8 == 0)	/* off by one */
			v += fz_rand(rng) % 2 ? 1 : -1;
	}
	return width == 4 ? (uint32_t)v : v;
}

size_t fz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed)
{
	struct fz_rec rec[256];
	uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 1;
	int n = size > sizeof(struct img_header) ? fz_records(data, size, rec, 256) : 0;
	unsigned what = fz_rand(&rng) % 8;

	if (n == 0 || what < 3) {
		size = LLVMFuzzerMutate(data, size, max);
	} else if (what < 6) {	/* one field of one record: a hostile value */
		const struct fz_rec *r = &rec[fz_rand(&rng) % n];
		size_t plen = r->len - sizeof(struct img_rec_hdr), span = plen < 4096 ? plen : 4096;
		int width = fz_rand(&rng) % 2 ? 8 : 4;

		if (span >= (size_t)width) {
			size_t at = r->off + sizeof(struct img_rec_hdr) +
				    (fz_rand(&rng) % (span / width)) * width;
			uint64_t v = fz_hostile(&rng, data, size, width);

			memcpy(data + at, &v, width);
		}
	} else if (what == 6 && n >= 2) {	/* swap a record with the next */
		int i = fz_rand(&rng) % (n - 1);
		size_t a = rec[i].len, bl = rec[i + 1].len;
		unsigned char *tmp = malloc(a);

		if (tmp) {
			memcpy(tmp, data + rec[i].off, a);
			memmove(data + rec[i].off, data + rec[i + 1].off, bl);
			memcpy(data + rec[i].off + bl, tmp, a);
			free(tmp);
		}
	} else if (fz_rand(&rng) % 2) {		/* drop a record */
		const struct fz_rec *r = &rec[fz_rand(&rng) % n];

		memmove(data + r->off, data + r->off + r->len, size - r->off - r->len);
		size -= r->len;
	} else {				/* a record twice */
		const struct fz_rec *r = &rec[fz_rand(&rng) % n];

		if (size + r->len <= max) {
			memmove(data + r->off + r->len, data + r->off, size - r->off);
			size += r->len;
		}
	}
	fz_fixup(data, size);
	return size;
}

/* ---- seeds ---- */

static void fz_seed(const char *dir, const char *name, int full)
{
	static unsigned char buf[8192], zbuf[32 + IMG_PAGE_SIZE * 3];
	static uint16_t scratch[IMG_SNAPPY_SCRATCH / 2];
	static unsigned char page[IMG_PAGE_SIZE], two[2 * IMG_PAGE_SIZE];
	struct img_header h = { .pid = 100, .ctime_ns = 1, .flags = full == 2 ? IMG_F_MAPPABLE :
				full == 1 ? IMG_F_CTTY : 0 };
	struct img_proc p = { .pid = 100, .ppid = 1, .nthreads = 1, .auxv_words = 2,
			      .comm = "seed", .cwd_len = 1, .exe_len = 8 };
	struct img_thread t = { .tid = 100, .flags = IMG_THREAD_LEADER, .fpstate_len = 16,
				.seccomp_leaf = -1 };
	struct img_file f = { .id = 1, .kind = IMG_FILE_CHR, .flags = 2, .path_len = 9,
			      .rdev = 0x103, .mode = 020666 };
	struct img_fd d = { .fd = 0, .file = 1 };
	struct img_vma v = { .start = 0x10000, .end = 0x14000, .prot = 3,
			     .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	struct img_vma vf = { .start = 0x400000, .end = 0x401000, .prot = 5,
			      .flags = IMG_VMA_FILE, .path_len = 8 };
	struct img_pages pg;
	struct img_writer w;
	char path[4096];
	size_t z;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);	/* the last build's seed: made again, never through a planted name */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		perror(path);
		return;
	}
	strcpy(h.kernel, "6.1.0");
	if (full == 3)
		h.flags = IMG_F_INCREMENTAL;
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)("seed data "[i % 10] + (i % 777 == 0));
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), "/bin/seed", 9);
	if (full == 1) {	/* process attributes and one seccomp filter */
		struct img_proc_attr pa = { .oom_score_adj = 200, .dumpable = 1, .thp_disable = 1,
					    .coredump_filter = 0x33, .membarrier = 16, .nseccomp = 1 };
		struct img_seccomp sc = { .parent = -1, .how = IMG_SECCOMP_SYSCALL, .flags = 2,
					  .ninsns = 2 };
		uint64_t prog[2] = { 0x20, 0x7fff000000000006ull };

		img_write_record(&w, IMG_REC_PROC_ATTR, &pa, sizeof(pa), NULL, 0);
		img_write_record(&w, IMG_REC_SECCOMP, &sc, sizeof(sc), prog, sizeof(prog));
		t.seccomp_mode = 2;
		t.seccomp_leaf = 0;
		t.attr_flags = IMG_TA_AFFINITY | IMG_TA_NO_NEW_PRIVS;
		t.affinity[0] = 1;
		t.mce_kill = 2;
	}
	if (full == 3) {	/* incremental: inherits the anonymous VMA */
		static const char ppath[] = "/seed/parent.img";
		struct img_parent par = { .ctime_ns = 1, .pid = 100, .hdr_crc = 7,
					  .nranges = 1, .path_len = sizeof(ppath) - 1 };
		unsigned char tail[sizeof(struct img_range) + sizeof(ppath)];
		struct img_range rg = { 0x10000, 0x14000 };

		memcpy(tail, &rg, sizeof(rg));
		memcpy(tail + sizeof(rg), ppath, sizeof(ppath) - 1);
		img_write_record(&w, IMG_REC_PARENT, &par, sizeof(par), tail,
				 sizeof(rg) + sizeof(ppath) - 1);
	}
	if (full == 1 || full == 3) {
		img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9);
	}
	if (full == 1) {	/* a deleted file with contents: a raw and a zero run */
		static const char gpath[] = "/tmp/gone (deleted)";
		struct img_file g = { .id = 2, .kind = IMG_FILE_GHOST, .flags = 2, .size = 3 * 4096 + 10,
				      .mode = 0100600, .path_len = sizeof(gpath) - 1,
				      .data_len = sizeof(struct img_file_ghost) };
		struct img_file_ghost gd = { 0, 0 };
		struct img_file_data fd1 = { .file = 2, .codec = IMG_CODEC_RAW, .len = 4096 };
		struct img_file_data fd2 = { .file = 2, .codec = IMG_CODEC_ZERO, .offset = 8192,
					     .len = 4096 + 10 };
		unsigned char tail[sizeof(gd) + sizeof(gpath)];

		memcpy(tail, &gd, sizeof(gd));		/* kind data, then the path */
		memcpy(tail + sizeof(gd), gpath, sizeof(gpath) - 1);
		img_write_record(&w, IMG_REC_FILE, &g, sizeof(g), tail, sizeof(gpath) - 1 + sizeof(gd));
		img_write_record(&w, IMG_REC_FILE_DATA, &fd1, sizeof(fd1), page, 4096);
		img_write_record(&w, IMG_REC_FILE_DATA, &fd2, sizeof(fd2), NULL, 0);
	}
	if (full == 1) {	/* a pipe: its read end with a packet and plain bytes, its write end */
		static const char ppath[] = "pipe:[77]";
		struct img_file pr = { .id = 3, .kind = IMG_FILE_PIPE, .flags = 04000, .ino = 77,
				       .mode = 010600, .path_len = sizeof(ppath) - 1,
				       .data_len = sizeof(struct img_file_pipe) };
		struct img_file pw = pr;
		struct img_file_pipe prd = { .capacity = 65536, .bytes = 15 }, pwd = { .same_as = 3 };
		struct img_pipe_data pkt = { .file = 3, .flags = IMG_PIPE_PACKET, .len = 5 };
		struct img_pipe_data plain = { .file = 3, .len = 10 };
		unsigned char tail[sizeof(prd) + sizeof(ppath)];

		memcpy(tail, &prd, sizeof(prd));
		memcpy(tail + sizeof(prd), ppath, sizeof(ppath) - 1);
		img_write_record(&w, IMG_REC_FILE, &pr, sizeof(pr), tail, sizeof(tail) - 1);
		img_write_record(&w, IMG_REC_PIPE_DATA, &pkt, sizeof(pkt), "hello", 5);
		img_write_record(&w, IMG_REC_PIPE_DATA, &plain, sizeof(plain), "0123456789", 10);
		pw.id = 4;
		pw.flags = 04001;
		memcpy(tail, &pwd, sizeof(pwd));
		img_write_record(&w, IMG_REC_FILE, &pw, sizeof(pw), tail, sizeof(tail) - 1);
	}
	if (full == 1) {	/* a unix datagram pair; on one, "hi" carrying the deleted file */
		struct img_file u = { .id = 7, .kind = IMG_FILE_UNIX, .flags = 2, .mode = 0140777,
				      .ino = 1003, .path_len = 14,
				      .data_len = sizeof(struct img_file_unix) };
		struct img_file_unix uk = { .type = 2, .state = IMG_UNIX_CONNECTED, .peer = 1004,
					    .peek_off = -1 };
		struct img_unix_msg um = { .file = 8, .how = IMG_UNIX_FROM_PEER, .len = 2, .nfds = 1 };
		unsigned char tail[sizeof(uk) + 14], mt[6] = { 2, 0, 0, 0, 'h', 'i' };

		memcpy(tail, &uk, sizeof(uk));
		memcpy(tail + sizeof(uk), "socket:[1003]x", 14);
		img_write_record(&w, IMG_REC_FILE, &u, sizeof(u), tail, sizeof(tail));
		u.id = 8;
		u.ino = uk.peer;
		uk.peer = 1003;
		memcpy(tail, &uk, sizeof(uk));
		img_write_record(&w, IMG_REC_FILE, &u, sizeof(u), tail, sizeof(tail));
		img_write_record(&w, IMG_REC_UNIX_MSG, &um, sizeof(um), mt, sizeof(mt));
	}
	if (full == 1) {	/* terminals: the image's (fd 7), a pty pair it made (fds 8, 9) */
		struct img_file_tty tt = { .role = IMG_TTY_TERMINAL, .tclass = IMG_TTY_PTY,
					   .flags = IMG_TTY_CTTY, .major = 136, .minor = 3,
					   .fg_pgid = 100, .sid = 100, .ws_row = 24, .ws_col = 80,
					   .termios = { .lflag = 0x8a31, .cc = { 3, 28, 127 } } };
		struct img_file tf = { .id = 10, .kind = IMG_FILE_TTY, .flags = 2, .mode = 020620,
				       .rdev = 0x8803, .path_len = 10, .data_len = sizeof(tt) };
		unsigned char tb[sizeof(tt) + 16];

		memcpy(tb, &tt, sizeof(tt));
		memcpy(tb + sizeof(tt), "/dev/pts/3", 10);
		img_write_record(&w, IMG_REC_FILE, &tf, sizeof(tf), tb, sizeof(tt) + 10);
		tt = (struct img_file_tty){ .role = IMG_TTY_MASTER, .tclass = IMG_TTY_PTY,
					    .flags = IMG_TTY_PKT, .major = 136, .minor = 5, .index = 5,
					    .ws_row = 33, .ws_col = 77 };
		tf.id = 11;
		tf.rdev = 0x502;
		tf.path_len = 9;
		memcpy(tb, &tt, sizeof(tt));
		memcpy(tb + sizeof(tt), "/dev/ptmx", 9);
		img_write_record(&w, IMG_REC_FILE, &tf, sizeof(tf), tb, sizeof(tt) + 9);
		tt.role = IMG_TTY_SLAVE;
		tt.flags = 0;
		tf.id = 12;
		tf.rdev = 0x8805;
		tf.path_len = 10;
		memcpy(tb, &tt, sizeof(tt));
		memcpy(tb + sizeof(tt), "/dev/pts/5", 10);
		img_write_record(&w, IMG_REC_FILE, &tf, sizeof(tf), tb, sizeof(tt) + 10);
	}
	if (full == 1) {	/* a TCP listener and a connection to it with 5 bytes to read */
		struct img_file t = { .id = 20, .kind = IMG_FILE_INET, .flags = 2, .mode = 0140777,
				      .ino = 1005, .path_len = 14,
				      .data_len = sizeof(struct img_file_inet) };
		struct img_file_inet tk = { .family = 2, .type = 1, .protocol = 6,
					    .state = IMG_INET_LISTEN, .local = { 127, 0, 0, 1 },
					    .lport = 6379, .backlog = 511,
					    .iflags = IMG_INET_REUSEADDR };
		struct img_inet_queue q = { .file = 21, .which = IMG_INET_RECV, .len = 5 };
		unsigned char tail[sizeof(tk) + 14];

		memcpy(tail, &tk, sizeof(tk));
		memcpy(tail + sizeof(tk), "socket:[1005]x", 14);
		img_write_record(&w, IMG_REC_FILE, &t, sizeof(t), tail, sizeof(tail));
		t.id = 21;
		t.ino = 1006;
		tk.state = IMG_INET_ESTABLISHED;
		tk.pport = 40000;
		memcpy(tk.peer, tk.local, 4);
		tk.iflags = IMG_INET_REPAIR | IMG_INET_OPT_TS | IMG_INET_OPT_WSCALE;
		tk.backlog = 0;
		tk.inq_len = 5;
		tk.inq_seq = 1000;
		tk.outq_seq = 2000;
		tk.mss_clamp = 65483;
		tk.snd_wscale = tk.rcv_wscale = 7;
		memcpy(tail, &tk, sizeof(tk));
		memcpy(tail + sizeof(tk), "socket:[1006]x", 14);
		img_write_record(&w, IMG_REC_FILE, &t, sizeof(t), tail, sizeof(tail));
		img_write_record(&w, IMG_REC_INET_QUEUE, &q, sizeof(q), "hello", 5);
	}
	if (full == 1) {	/* an epoll watching the pipe's read end (edge-triggered), at fd 10 */
		static const char epath[] = "anon_inode:[eventpoll]";
		struct img_file e = { .id = 9, .kind = IMG_FILE_EPOLL, .flags = 2, .mode = 0600,
				      .path_len = sizeof(epath) - 1,
				      .data_len = sizeof(struct img_file_epoll) };
		struct img_file_epoll ed = { .nitems = 1 };
		struct img_epoll_item it = { .epoll = 9, .target = 3, .tfd = 5,
					     .events = 0x80000019u, .data = 0x1234 };
		unsigned char tail[sizeof(ed) + sizeof(epath)];

		memcpy(tail, &ed, sizeof(ed));
		memcpy(tail + sizeof(ed), epath, sizeof(epath) - 1);
		img_write_record(&w, IMG_REC_FILE, &e, sizeof(e), tail, sizeof(tail) - 1);
		img_write_record(&w, IMG_REC_EPOLL_ITEM, &it, sizeof(it), NULL, 0);
	}
	if (full == 1 || full == 3)
		img_write_record(&w, IMG_REC_FD, &d, sizeof(d), NULL, 0);
	if (full == 1) {	/* the terminals' fds */
		for (int i = 0; i < 3; i++) {
			struct img_fd tfd = { .fd = 7 + i, .file = 10 + i };

			img_write_record(&w, IMG_REC_FD, &tfd, sizeof(tfd), NULL, 0);
		}
	}
	if (full == 1) {	/* the pipe's ends at fds 5 and 6 */
		struct img_fd pfd = { .fd = 5, .file = 3 };

		img_write_record(&w, IMG_REC_FD, &pfd, sizeof(pfd), NULL, 0);
		pfd.fd = 6;
		pfd.file = 4;
		pfd.fdflags = IMG_FD_CLOEXEC;
		img_write_record(&w, IMG_REC_FD, &pfd, sizeof(pfd), NULL, 0);
		pfd.fd = 10;		/* the epoll (fds 7-9: the terminals) */
		pfd.file = 9;
		img_write_record(&w, IMG_REC_FD, &pfd, sizeof(pfd), NULL, 0);
	}
	if (full == 1) {	/* a POSIX write lock to EOF on that FILE */
		struct img_lock lk = { .file = f.id, .kind = IMG_LOCK_POSIX, .type = IMG_LOCK_WRITE,
				       .start = 4096 };

		img_write_record(&w, IMG_REC_LOCK, &lk, sizeof(lk), NULL, 0);
	}
	img_write_record(&w, IMG_REC_THREAD, &t, sizeof(t), page, 16);
	if (full == 1) {	/* a queued SIGUSR1 for that thread */
		struct img_siginfo q = { .tid = t.tid };
		int32_t sig = 10;

		memcpy(q.info, &sig, sizeof(sig));
		img_write_record(&w, IMG_REC_SIGINFO, &q, sizeof(q), NULL, 0);
	}
	if (full == 1) {	/* and a periodic POSIX timer signalling it */
		struct img_timer tm = { .kind = IMG_TIMER_POSIX, .id = 2, .clock = 1,
					.notify = IMG_SIGEV_THREAD_ID, .signo = 12, .notify_tid = t.tid,
					.value_ns = 5000000, .interval_ns = 1000000 };

		img_write_record(&w, IMG_REC_TIMER, &tm, sizeof(tm), NULL, 0);
	}
	if (full == 1) {	/* that thread's stored backtrace: two frames, one named */
		struct {
			struct img_backtrace b;
			struct img_bt_frame f[2];
		} bt = { .b = { .tid = t.tid, .nframes = 2, .stop = IMG_BT_NOTEXEC, .names_len = 5 },
			 .f = { { .pc = 0x400010, .sp = 0x13f00, .sym_off = 0x10, .name = 0 },
				{ .pc = 0x400123, .sp = 0x13f40, .name = IMG_BT_NONAME,
				  .flags = IMG_BT_F_FP } } };

		img_write_record(&w, IMG_REC_BACKTRACE, &bt, sizeof(bt), "main", 5);
	}
	if (full == 2)
		img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
	if (full == 1 || full == 3) {
		img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
		img_write_record(&w, IMG_REC_VMA, &vf, sizeof(vf), "/bin/app", 8);
		pg = (struct img_pages){ .addr = 0x10000, .npages = 1, .codec = IMG_CODEC_RAW };
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), page, sizeof(page));
		pg = (struct img_pages){ .addr = 0x11000, .npages = 2, .codec = IMG_CODEC_SNAPPY };
		memcpy(two, page, sizeof(page));	/* 2 pages: page twice */
		memcpy(two + sizeof(page), page, sizeof(page));
		z = img_snappy_compress(two, sizeof(two), zbuf, scratch);
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), zbuf, z);
		pg = (struct img_pages){ .addr = 0x13000, .npages = 1, .codec = IMG_CODEC_ZERO };
		img_write_record(&w, IMG_REC_PAGES, &pg, sizeof(pg), NULL, 0);
	}
	if (full == 2) {	/* mappable: two MPAGES runs (img_format.h) */
		static const unsigned char zeros[IMG_PAGE_SIZE];

		for (int i = 0; i < 2; i++) {
			uint64_t end = w.nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_mpages);
			uint64_t off = (end + IMG_PAGE_SIZE - 1) & ~(uint64_t)(IMG_PAGE_SIZE - 1);
			struct img_mpages m = { .addr = 0x10000 + (uint64_t)i * 2 * IMG_PAGE_SIZE,
						.npages = 1, .data_off = off,
						.data_crc = img_crc32c(0, page, sizeof(page)) };

			img_write_record(&w, IMG_REC_MPAGES, &m, sizeof(m), zeros, off - end);
			img_write_raw(&w, page, sizeof(page));
		}
	}
	if (img_write_end(&w) < 0)
		fprintf(stderr, "fuzz_img: cannot write seed %s\n", path);
	close(fd);
}

/*
 * An image with every IPC record: a POSIX queue, a SysV segment (attached),
 * set, queue; and a POSIX shm object open (its first FILE, with its
 * contents: a raw page and a zero run) and mapped (a second FILE of it).
 */
static void fz_seed_ipc(const char *dir)
{
	static unsigned char buf[8192], page[IMG_PAGE_SIZE];
	static const char mqpath[] = "/seedq", shm[] = "/SYSV00001234 (deleted)";
	struct img_header h = { .pid = 100, .ctime_ns = 1 };
	struct img_proc p = { .pid = 100, .ppid = 1, .nthreads = 1, .comm = "ipc", .cwd_len = 1,
			      .exe_len = 8 };
	struct img_thread t = { .tid = 100, .flags = IMG_THREAD_LEADER, .seccomp_leaf = -1 };
	struct img_file f = { .id = 1, .kind = IMG_FILE_MQUEUE, .flags = 2, .mode = 0100640,
			      .path_len = sizeof(mqpath) - 1, .data_len = sizeof(struct img_file_mqueue) };
	struct img_file_mqueue mq = { .maxmsg = 8, .msgsize = 64, .notify = IMG_SIGEV_SIGNAL,
				      .signo = 12, .sigval = 55 };
	struct img_mq_msgs mm = { .file = 1, .nmsgs = 2, .bytes = 7 };
	struct img_mq_msg m1 = { 9, 3 }, m2 = { 1, 4 };
	struct img_fd d = { .fd = 3, .file = 1 };
	struct img_sysv_perm perm = { .id = 32768, .key = 0x1234, .mode = 0640 };
	struct img_sysv_shm sh = { .perm = perm, .size = 2 * IMG_PAGE_SIZE + 100, .nattch = 1 };
	struct img_file_data fdd = { .file = 0, .codec = IMG_CODEC_RAW, .offset = IMG_PAGE_SIZE,
				     .len = IMG_PAGE_SIZE };
	struct img_sysv_sem set = { .kind = IMG_SEM_SET, .nsems = 2, .perm = perm };
	struct img_sem vals[2] = { { 3, 0, 100 }, { 0, 0, 100 } };
	struct img_sysv_sem undo = { .kind = IMG_SEM_UNDO, .nsems = 1, .perm = { .id = 32768 } };
	struct img_semadj adj = { 1, -2, 0 };
	struct img_sysv_msg mg = { .perm = perm, .qbytes = 16384, .nmsgs = 1, .bytes = 5 };
	struct img_msg mh = { 7, 5 };
	struct img_vma v = { .start = 0x10000, .end = 0x14000, .prot = 3,
			     .flags = IMG_VMA_ANON | IMG_VMA_PAGES };
	struct img_vma vs = { .start = 0x20000, .end = 0x23000, .prot = 1, .ino = 32768,
			      .flags = IMG_VMA_FILE | IMG_VMA_SHARED, .path_len = sizeof(shm) - 1 };
	static const char pshm[] = "/dev/shm/seed";
	struct img_file ps = { .id = 2, .kind = IMG_FILE_PSHM, .flags = 2, .mode = 0100640,
			       .size = IMG_PAGE_SIZE + 10, .dev = 0x1b, .ino = 42, .mtime_ns = 1,
			       .path_len = sizeof(pshm) - 1, .data_len = sizeof(struct img_file_pshm) };
	struct img_file ps2 = ps;
	struct img_file_pshm psd = { .flags = IMG_PSHM_DATA, .btime_ns = 1 }, psd2 = { .btime_ns = 1 };
	struct img_file_data pd1 = { .file = 2, .codec = IMG_CODEC_RAW, .len = IMG_PAGE_SIZE };
	struct img_file_data pd2 = { .file = 2, .codec = IMG_CODEC_ZERO, .offset = IMG_PAGE_SIZE,
				     .len = 10 };
	struct img_fd d2 = { .fd = 4, .file = 2 };
	struct img_vma vp = { .start = 0x30000, .end = 0x31000, .prot = 3, .dev = 0x1b, .ino = 42,
			      .flags = IMG_VMA_FILE | IMG_VMA_SHARED, .path_len = sizeof(pshm) - 1,
			      .file = 3, .attrs = IMG_VMA_ATTR_MAYWRITE };
	unsigned char tail[256];
	struct img_writer w;
	char path[4096];
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/seed-ipc.img", dir);
	unlink(path);	/* the last build's seed: made again, never through a planted name */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		perror(path);
		return;
	}
	strcpy(h.kernel, "6.1.0");
	memset(page, 0x5a, sizeof(page));
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), "//bin/ipc", 9);
	memcpy(tail, &mq, sizeof(mq));
	memcpy(tail + sizeof(mq), mqpath, sizeof(mqpath) - 1);
	img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), tail, sizeof(mq) + sizeof(mqpath) - 1);
	memset(tail, 0, sizeof(tail));
	memcpy(tail, &m1, 8);
	memcpy(tail + 8, "abc", 3);
	memcpy(tail + 16, &m2, 8);
	memcpy(tail + 24, "defg", 4);
	img_write_record(&w, IMG_REC_MQ_MSGS, &mm, sizeof(mm), tail, 32);
	memcpy(tail, &psd, sizeof(psd));		/* kind data, then the path */
	memcpy(tail + sizeof(psd), pshm, sizeof(pshm) - 1);
	img_write_record(&w, IMG_REC_FILE, &ps, sizeof(ps), tail, sizeof(psd) + sizeof(pshm) - 1);
	img_write_record(&w, IMG_REC_FILE_DATA, &pd1, sizeof(pd1), page, sizeof(page));
	img_write_record(&w, IMG_REC_FILE_DATA, &pd2, sizeof(pd2), NULL, 0);
	ps2.id = 3;
	ps2.flags = 0;
	memcpy(tail, &psd2, sizeof(psd2));
	img_write_record(&w, IMG_REC_FILE, &ps2, sizeof(ps2), tail, sizeof(psd2) + sizeof(pshm) - 1);
	img_write_record(&w, IMG_REC_FD, &d, sizeof(d), NULL, 0);
	img_write_record(&w, IMG_REC_FD, &d2, sizeof(d2), NULL, 0);
	img_write_record(&w, IMG_REC_SYSV_SHM, &sh, sizeof(sh), NULL, 0);
	img_write_record(&w, IMG_REC_FILE_DATA, &fdd, sizeof(fdd), page, sizeof(page));
	img_write_record(&w, IMG_REC_SYSV_SEM, &set, sizeof(set), vals, sizeof(vals));
	img_write_record(&w, IMG_REC_SYSV_SEM, &undo, sizeof(undo), &adj, sizeof(adj));
	memset(tail, 0, sizeof(tail));
	memcpy(tail, &mh, sizeof(mh));
	memcpy(tail + sizeof(mh), "hello", 5);
	n = sizeof(mh) + 8;
	img_write_record(&w, IMG_REC_SYSV_MSG, &mg, sizeof(mg), tail, n);
	img_write_record(&w, IMG_REC_THREAD, &t, sizeof(t), NULL, 0);
	img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), NULL, 0);
	img_write_record(&w, IMG_REC_VMA, &vs, sizeof(vs), shm, sizeof(shm) - 1);
	img_write_record(&w, IMG_REC_VMA, &vp, sizeof(vp), pshm, sizeof(pshm) - 1);
	if (img_write_end(&w) < 0)
		fprintf(stderr, "fuzz_img: cannot write seed %s\n", path);
	close(fd);
}

/* The event fds: an eventfd, a timerfd, a signalfd, an inotify fd and its two watches. */
static void fz_seed_evfd(const char *dir)
{
	static unsigned char buf[8192];
	static const char *const paths[] = { "anon_inode:[eventfd]", "anon_inode:[timerfd]",
					     "anon_inode:[signalfd]", "anon_inode:inotify" };
	struct img_header h = { .pid = 100, .ctime_ns = 1 };
	struct img_proc p = { .pid = 100, .ppid = 1, .nthreads = 1, .comm = "ev", .cwd_len = 1,
			      .exe_len = 7 };
	struct img_thread t = { .tid = 100, .flags = IMG_THREAD_LEADER, .seccomp_leaf = -1 };
	struct img_file_eventfd ev = { 5000000000ull, IMG_EVENTFD_SEMAPHORE, 0 };
	struct img_file_timerfd tm = { 1, 0, 1500000000, 100000000, 7 };
	struct img_file_signalfd sg = { 0x800 };
	struct img_file_inotify in = { 2, 0 };
	const void *data[] = { &ev, &tm, &sg, &in };
	const uint32_t lens[] = { sizeof(ev), sizeof(tm), sizeof(sg), sizeof(in) };
	const uint32_t kinds[] = { IMG_FILE_EVENTFD, IMG_FILE_TIMERFD, IMG_FILE_SIGNALFD,
				   IMG_FILE_INOTIFY };
	struct img_inotify_watch w1 = { .file = 4, .wd = 1, .mask = 0x300, .dev = 0xfe00,
					.ino = 2, .path_len = 4 };
	struct img_inotify_watch w4 = { .file = 4, .wd = 4, .mask = 0x80000100, .dev = 0xfe00,
					.ino = 3, .path_len = 1 };
	unsigned char tail[256];
	struct img_writer w;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/seed-evfd.img", dir);
	unlink(path);	/* the last build's seed: made again, never through a planted name */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		perror(path);
		return;
	}
	strcpy(h.kernel, "6.1.0");
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), "//bin/ev", 8);
	for (uint32_t i = 0; i < 4; i++) {
		struct img_file f = { .id = i + 1, .kind = kinds[i], .flags = i == 3 ? 04000 : 02,
				      .mode = 0600, .path_len = strlen(paths[i]), .data_len = lens[i] };

		memcpy(tail, data[i], lens[i]);
		memcpy(tail + lens[i], paths[i], f.path_len);
		img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), tail, lens[i] + f.path_len);
	}
	img_write_record(&w, IMG_REC_INOTIFY_WATCH, &w1, sizeof(w1), "/tmp", 4);
	img_write_record(&w, IMG_REC_INOTIFY_WATCH, &w4, sizeof(w4), "/", 1);
	for (uint32_t i = 0; i < 4; i++) {
		struct img_fd d = { .fd = 3 + i, .file = i + 1 };

		img_write_record(&w, IMG_REC_FD, &d, sizeof(d), NULL, 0);
	}
	img_write_record(&w, IMG_REC_THREAD, &t, sizeof(t), NULL, 0);
	if (img_write_end(&w) < 0)
		fprintf(stderr, "fuzz_img: cannot write seed %s\n", path);
	close(fd);
}

/*
 * One section of the tree seed: process pid, child of ppid.  Section 0
 * (pid 100) holds a deleted file by a mapping only, with its contents
 * (the FILE a tree gives it: 0x80000 | inode); section 1 maps the same
 * file by naming that FILE, and has an fd on section 0's /dev/null.
 */
static void fz_section(int fd, int32_t pid, int32_t ppid, int k)
{
	static unsigned char buf[8192], page[IMG_PAGE_SIZE];
	static const char gpath[] = "/dev/shm/sem.x (deleted)";
	struct img_header h = { .pid = pid, .ctime_ns = 1, .flags = IMG_F_MEMBER };
	struct img_proc p = { .pid = pid, .ppid = ppid, .nthreads = 1, .auxv_words = 2,
			      .comm = "seed", .cwd_len = 1, .exe_len = 8 };
	struct img_thread t = { .tid = pid, .flags = IMG_THREAD_LEADER, .fpstate_len = 16,
				.seccomp_leaf = -1 };
	struct img_file f = { .id = 1, .kind = IMG_FILE_CHR, .flags = 2, .path_len = 9,
			      .rdev = 0x103, .mode = 020666 };
	struct img_file g = { .id = 0x80000 | 77, .kind = IMG_FILE_GHOST, .flags = 2, .size = 32,
			      .ino = 77, .mode = 0100600, .path_len = sizeof(gpath) - 1,
			      .data_len = sizeof(struct img_file_ghost) };
	struct img_file_ghost gd = { 0, 0 };
	struct img_file_data fdata = { .file = g.id, .codec = IMG_CODEC_RAW, .len = 32 };
	struct img_fd d = { .fd = 0, .file = 1 };
	struct img_vma v = { .start = 0x20000, .end = 0x21000, .prot = 3,
			     .flags = IMG_VMA_FILE | IMG_VMA_SHARED, .file = g.id,
			     .attrs = IMG_VMA_ATTR_MAYWRITE,
			     .path_len = sizeof(gpath) - 1 };
	unsigned char tail[sizeof(gd) + sizeof(gpath)];
	struct img_writer w;

	strcpy(h.kernel, "6.1.0");
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	img_write_record(&w, IMG_REC_PROC, &p, sizeof(p), "/bin/seed", 9);
	if (k == 0) {
		memcpy(tail, &gd, sizeof(gd));
		memcpy(tail + sizeof(gd), gpath, sizeof(gpath) - 1);
		img_write_record(&w, IMG_REC_FILE, &f, sizeof(f), "/dev/null", 9);
		img_write_record(&w, IMG_REC_FILE, &g, sizeof(g), tail, sizeof(tail) - 1);
		img_write_record(&w, IMG_REC_FILE_DATA, &fdata, sizeof(fdata), page, 32);
	}
	img_write_record(&w, IMG_REC_FD, &d, sizeof(d), NULL, 0);
	img_write_record(&w, IMG_REC_THREAD, &t, sizeof(t), page, 16);
	img_write_record(&w, IMG_REC_VMA, &v, sizeof(v), gpath, sizeof(gpath) - 1);
	img_write_end(&w);
}

/* Zeros up to the next page boundary of fd's file. */
static void fz_pad(int fd)
{
	static const unsigned char zeros[IMG_PAGE_SIZE];
	off_t at = lseek(fd, 0, SEEK_END);

	if (at > 0 && at % IMG_PAGE_SIZE &&
	    write(fd, zeros, IMG_PAGE_SIZE - at % IMG_PAGE_SIZE) < 0)
		perror("fuzz: seed");
}

/* A tree: its directory (two members, one zombie), then its two sections. */
static void fz_seed_tree(const char *dir)
{
	static unsigned char buf[4096];
	struct img_header h = { .pid = 100, .ctime_ns = 1, .flags = IMG_F_TREE };
	struct img_member m[3] = {
		{ .pid = 100, .ppid = 1, .pgid = 100, .sid = 100, .section = 0 },
		{ .pid = 101, .ppid = 100, .pgid = 100, .sid = 100, .section = 1 },
		{ .pid = 102, .ppid = 100, .pgid = 100, .sid = 100, .section = -1,
		  .flags = IMG_MEMBER_ZOMBIE, .exit_code = 1, .exit_status = 7 },
	};
	struct img_writer w;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/seed-tree.img", dir);
	unlink(path);	/* the last build's seed: made again, never through a planted name */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		perror(path);
		return;
	}
	strcpy(h.kernel, "6.1.0");
	img_writer_init(&w, fd, buf, sizeof(buf));
	img_write_header(&w, &h);
	for (int i = 0; i < 3; i++)
		img_write_record(&w, IMG_REC_MEMBER, &m[i], sizeof(m[i]), NULL, 0);
	img_write_end(&w);
	fz_pad(fd);
	fz_section(fd, 100, 1, 0);
	fz_pad(fd);
	fz_section(fd, 101, 100, 1);
	close(fd);
}

void fz_seeds(const char *dir)
{
	fz_seed_tree(dir);
	fz_seed(dir, "seed-minimal.img", 0);
	fz_seed(dir, "seed-full.img", 1);
	fz_seed(dir, "seed-mappable.img", 2);
	fz_seed(dir, "seed-incremental.img", 3);
	fz_seed_ipc(dir);
	fz_seed_evfd(dir);
}
