/*
 * restart_lazy.c - ckpt-restart --lazy: the process runs before its memory
 * has been read; the restarting parent serves its pages with userfaultfd.
 *
 * Who does what:
 *   parent   rst_lazy_setup(): a regular file, userfaultfd with kernel
 *            faults allowed (else: eager, with a note); reads the image's
 *            metadata, skipping the page data of lazy mappings (private
 *            anonymous, readable) and noting where each PAGES record is
 *            (rst_lazy_note).  Forks the child, then rst_lazy_serve().
 *   child    restores as usual; lazy mappings are mapped empty (RST_ANON)
 *            and the restorer registers them with a new userfaultfd
 *            (MISSING mode) and sends it over lz->sock to the parent
 *            before any thread runs.
 *   parent   rst_lazy_serve(): faults first (the whole PAGES record that
 *            holds the page, decoded and installed with UFFDIO_COPY),
 *            every other record in the background in address order;
 *            then closes the userfaultfd (which unregisters the ranges)
 *            and goes back to waiting for the child.  The server serves
 *            every address space (struct lazy_target) until all are
 *            full or gone: the restored process and its forks.
 *
 * Invariants:
 *  1. A record is installed at most once in an address space (done[]):
 *     after that its pages belong to the process; one it has dropped
 *     (munmap, MADV_DONTNEED) reads back as zeros, as it would have.
 *  2. Page data is checked before it is installed: img_pread_record()
 *     verifies the record's checksum.  A corrupt record kills the process
 *     (SIGKILL) and ckpt-restart reports it and exits 2.  The whole-image
 *     checksum is not verified in lazy mode (see docs/INTERNALS.md).
 *  3. The process may move (mremap) or drop (munmap, MADV_DONTNEED)
 *     lazy memory meanwhile: the events (UFFD_FEATURE_EVENT_REMAP,
 *     _REMOVE, _UNMAP) are kept in order, and a page's original address
 *     is mapped through them to where it is now (fwd) or back (back).
 *  4. A fork of the restored process while pages are arriving is filled
 *     too (UFFD_FEATURE_EVENT_FORK: the fork waits until the server has
 *     the copy's userfaultfd; the copy starts with the parent's done[]
 *     and events, less the record in flight).  Without it the copy would
 *     read zeros where pages had not arrived.
 *  5. The server is the parent, never a child of the restored process:
 *     the application cannot see or reap it, and checkpoints of it are
 *     not refused for having a child.
 * Faults raised inside system calls (read() into lazy memory, rseq,
 * futexes) wait for the server like any other: that needs a userfaultfd
 * without UFFD_USER_MODE_ONLY, which is why an unprivileged --lazy
 * restores eagerly instead.
 * Cost: per record one pread + crc32c + decode + UFFDIO_COPY; one poll()
 * between records, so a fault waits at most for one record in progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "restart/rst.h"

#define PAGE		IMG_PAGE_SIZE
#define LAZY_FEATURES	(UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
			 UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_EVENT_FORK)

struct lazy_rec {
	uint64_t addr;		/* original address of its first page */
	uint64_t off;		/* record offset in the image */
	uint64_t len;		/* payload bytes */
	uint32_t npages;
	uint32_t reserved;
};

enum { EV_MOVE = 1, EV_DROP };

struct lazy_ev {		/* in the order the process did them (inv. 3) */
	uint64_t from, len, to;
	int kind;
};

/*
 * One address space being filled: the restored process, and each copy it
 * forks meanwhile (UFFD_FEATURE_EVENT_FORK hands us the copy's own
 * userfaultfd; the copy starts with what the parent had at the fork).
 */
struct lazy_target {
	int uffd;
	int pidfd;		/* the restored process only, else -1 */
	uint8_t *done;		/* per record: installed or given up (inv. 1) */
	size_t left, next;	/* records not done; streaming cursor */
	ssize_t inflight;	/* record being installed, or -1 */
	struct lazy_ev *evs;
	size_t nevs, evcap;
	uint64_t *faults;	/* read while installing, served next */
	size_t nfaults, fcap;
	int stop;		/* its mm is gone (exit, exec): nothing more to do */
};

struct rst_lazy {
	int sock[2];		/* [0] the server's end, [1] the restorer's */
	struct lazy_rec *recs;	/* sorted by addr once serving starts */
	size_t nrecs, cap;
	uint64_t maxlen;	/* largest payload */
	struct lazy_target *t;	/* [0]: the restored process */
	size_t nt;
	unsigned char *rbuf;	/* one record: header + payload */
	unsigned char *pbuf;	/* its pages, decoded */
	uint64_t nfault_recs, nzero, bytes;
	uint64_t last_fault;	/* CLOCK_MONOTONIC of the last fault served */
	uint64_t t_setup;	/* CLOCK_MONOTONIC at rst_lazy_setup (CKPT_LAZY_STATS) */
	int background;		/* stream what is not asked for (CKPT_LAZY_BACKGROUND=0: no) */
	char err[320];
};

int rst_lazy_vma(const struct rst_vma *v)
{
	uint32_t f = v->v.flags;

	/*
	 * not huge pages (img_vma.file): userfaultfd would serve them a page
	 * at a time; not locked memory: mlock() faults it in before the
	 * server runs (eager)
	 */
	return (f & IMG_VMA_ANON) && (f & IMG_VMA_PAGES) && (v->v.prot & PROT_READ) &&
	       !v->v.file && !(f & (IMG_VMA_SHARED | IMG_VMA_FILE | IMG_VMA_VDSO | IMG_VMA_VVAR |
				    IMG_VMA_VVAR_VCLOCK)) && !(v->v.attrs & IMG_VMA_ATTR_LOCKED);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* userfaultfd(0) with the events we need: 0, or -errno. */
static int uffd_probe(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api) < 0)
		r = -errno;
	else if ((api.features & LAZY_FEATURES) != LAZY_FEATURES)
		r = -ENOSYS;
	close(fd);
	return r;
}

int rst_lazy_setup(struct rst_state *s)
{
	struct stat st;
	int r;

	if (s->img_fd == 0 || fstat(s->img_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rst_error(s, "--lazy needs the image as a regular file named on the command "
			  "line (its pages are read again while the process runs)");
		return RST_EXIT_USAGE;
	}
	if (s->r.hdr.flags & IMG_F_MAPPABLE) {
		/* Its memory is mapped, not read: nothing to gain, and the skipping
		 * reader does not step over MPAGES data. */
		fprintf(stderr, "ckpt-restart: %s: note: a mappable image is mapped from the file, "
			"not read; --lazy is not needed\n", s->image);
		return 0;
	}
	if (s->r.hdr.flags & IMG_F_INCREMENTAL) {
		/* The index covers one file; a chain's pages come from several. */
		fprintf(stderr, "ckpt-restart: %s: note: --lazy does not follow an incremental "
			"image's parents; restoring eagerly\n", s->image);
		return 0;
	}
	rst_caps_raise(s);		/* CAP_SYS_PTRACE, kept for this (restart_trust.c) */
	r = uffd_probe();
	rst_caps_lower(s);
	if (r < 0) {
		fprintf(stderr, "ckpt-restart: %s: note: --lazy needs userfaultfd that also "
			"serves faults inside system calls (root, or CAP_SYS_PTRACE while "
			"vm.unprivileged_userfaultfd is 0): %s; restoring eagerly\n", s->image,
			strerror(-r));
		return 0;
	}
	s->lz = calloc(1, sizeof(*s->lz));
	if (!s->lz)
		abort();
	s->lz->t_setup = now_ns();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->lz->sock) < 0) {
		rst_error(s, "--lazy: cannot make a socket pair: %s", strerror(errno));
		return RST_EXIT_ENV;
	}
	s->lazy = 1;
	s->lazy_fd = s->lz->sock[1];
	img_reader_skip_pages(&s->r);
	return 0;
}

uint64_t rst_lazy_features(void)
{
	return LAZY_FEATURES;
}

int rst_lazy_note(struct rst_state *s, const struct img_pages *p, const struct img_rec *rec)
{
	struct rst_lazy *lz = s->lz;

	if (lz->nrecs == lz->cap) {
		lz->cap = lz->cap ? lz->cap * 2 : 1024;
		lz->recs = realloc(lz->recs, lz->cap * sizeof(*lz->recs));
		if (!lz->recs)
			abort();
	}
	lz->recs[lz->nrecs++] = (struct lazy_rec){ p->addr, rec->offset, rec->len, p->npages, 0 };
	if (rec->len > lz->maxlen)
		lz->maxlen = rec->len;
	return 0;
}

void rst_lazy_child(struct rst_state *s)
{
	if (s->lazy)
		close(s->lz->sock[0]);
}

/* ---- the server ---- */

/* Original address -> where that page is now in t, or 0 if dropped (inv. 3). */
static uint64_t fwd(const struct lazy_target *t, uint64_t a)
{
	for (size_t i = 0; i < t->nevs; i++) {
		const struct lazy_ev *e = &t->evs[i];

		if (a - e->from < e->len) {
			if (e->kind == EV_DROP)
				return 0;
			a = a - e->from + e->to;
		}
	}
	return a;
}

/* Current address -> original address, or 0 if no image page is there. */
static uint64_t back(const struct lazy_target *t, uint64_t cur)
{
	uint64_t a = cur;

	for (size_t i = t->nevs; i-- > 0;) {
		const struct lazy_ev *e = &t->evs[i];

		if (e->kind == EV_MOVE && a - e->to < e->len)
			a = a - e->to + e->from;
		else if (a - e->from < e->len)
			return 0;	/* memory made after the move or drop */
	}
	return fwd(t, a) == cur ? a : 0;
}

static struct lazy_rec *find(struct rst_lazy *lz, uint64_t a)
{
	size_t lo = 0, hi = lz->nrecs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct lazy_rec *r = &lz->recs[mid];

		if (a < r->addr)
			hi = mid;
		else if (a >= r->addr + (uint64_t)r->npages * PAGE)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static void add_event(struct lazy_target *t, int kind, uint64_t from, uint64_t len, uint64_t to)
{
	t->evs = rst_grow(t->evs, &t->evcap, t->nevs, sizeof(*t->evs));
	t->evs[t->nevs++] = (struct lazy_ev){ from, len, to, kind };
}

/*
 * A fork of target ti: the copy has what ti had at the fork, except the
 * record being installed (its pages may be partly there: EEXIST sorts it
 * out).  *t may move: the caller re-reads it.
 */
static void add_fork(struct rst_lazy *lz, size_t ti, int uffd)
{
	struct lazy_target *t, *c;

	lz->t = realloc(lz->t, (lz->nt + 1) * sizeof(*lz->t));
	if (!lz->t)
		abort();
	t = &lz->t[ti];
	c = &lz->t[lz->nt++];
	*c = (struct lazy_target){ .uffd = uffd, .pidfd = -1, .left = t->left, .inflight = -1 };
	c->done = malloc(lz->nrecs + 1);
	if (!c->done)
		abort();
	memcpy(c->done, t->done, lz->nrecs);
	if (t->inflight >= 0 && c->done[t->inflight]) {
		c->done[t->inflight] = 0;
		c->left++;
	}
	for (size_t i = 0; i < t->nevs; i++)
		add_event(c, t->evs[i].kind, t->evs[i].from, t->evs[i].len, t->evs[i].to);
}

/* Reads every pending message of target ti: faults queued, events recorded. */
static void drain(struct rst_lazy *lz, size_t ti)
{
	struct uffd_msg msg[32];
	ssize_t n;

	while ((n = read(lz->t[ti].uffd, msg, sizeof(msg))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
			struct lazy_target *t = &lz->t[ti];
			struct uffd_msg *m = &msg[i];

			switch (m->event) {
			case UFFD_EVENT_PAGEFAULT:
				t->faults = rst_grow(t->faults, &t->fcap, t->nfaults, sizeof(*t->faults));
				t->faults[t->nfaults++] = m->arg.pagefault.address & ~(uint64_t)(PAGE - 1);
				break;
			case UFFD_EVENT_REMAP:
				add_event(t, EV_MOVE, m->arg.remap.from, m->arg.remap.len, m->arg.remap.to);
				break;
			case UFFD_EVENT_REMOVE:
			case UFFD_EVENT_UNMAP:
				add_event(t, EV_DROP, m->arg.remove.start,
					  m->arg.remove.end - m->arg.remove.start, 0);
				break;
			case UFFD_EVENT_FORK:
				add_fork(lz, ti, (int)m->arg.fork.ufd);
				break;
			}
		}
	}
}

/*
 * Installs n pages of src at dst (current addresses) in t.  Pages already
 * there (EEXIST) or no longer registered (ENOENT) are skipped; EAGAIN
 * (the map changes under us) returns 1 so that the caller reads the
 * events and recomputes where the rest goes.  0 done, 1 retry, -1 error.
 */
static int copy_pages(struct rst_lazy *lz, struct lazy_target *t, uint64_t dst,
		      const unsigned char *src, uint64_t n, uint64_t *ndone)
{
	struct uffdio_copy c = { .dst = dst, .src = (uint64_t)src, .len = n * PAGE };
	long e;

	*ndone = n;
	if (ioctl(t->uffd, UFFDIO_COPY, &c) == 0)
		return 0;
	e = c.copy < 0 ? -c.copy : errno;
	if (c.copy > 0) {		/* partial: the rest is retried */
		*ndone = (uint64_t)c.copy / PAGE;
		return 1;
	}
	*ndone = 1;
	if (e == EEXIST || e == ENOENT)
		return 1;		/* this page needs nothing; go on after it */
	*ndone = 0;
	if (e == EAGAIN)
		return 1;
	if (e == ESRCH) {		/* the process is gone (or exec'd) */
		t->stop = 1;
		return 0;
	}
	snprintf(lz->err, sizeof(lz->err), "cannot install pages at %#lx: %s",
		 (unsigned long)dst, strerror((int)e));
	return -1;
}

/*
 * Reads, checks, decodes and installs record ri in target ti (once: inv.
 * 1).  first: the current address of a page waited for (0: none), which
 * goes in first, so that its thread runs on while the rest is copied.
 */
static int serve_rec(struct rst_state *s, struct rst_lazy *lz, size_t ti, size_t ri,
		     uint64_t first)
{
	const struct img_pages *p = (const void *)(lz->rbuf + sizeof(struct img_rec_hdr));
	struct lazy_rec *r = &lz->recs[ri];
	const unsigned char *src = lz->pbuf;
	char err[256];
	uint64_t j = 0;

	if (lz->t[ti].done[ri])
		return 0;
	lz->t[ti].done[ri] = 1;
	lz->t[ti].left--;
	if (img_pread_record(s->img_fd, r->off, IMG_REC_PAGES, r->len, lz->rbuf, lz->err,
			     sizeof(lz->err)) < 0)
		return -1;
	if (p->codec == IMG_CODEC_RAW && r->len == sizeof(*p) + (uint64_t)r->npages * PAGE &&
	    p->addr == r->addr && p->npages == r->npages)
		src = (const unsigned char *)(p + 1);	/* installed from where it was read */
	else if (p->addr != r->addr || p->npages != r->npages ||
		 img_pages_decode(p, p + 1, r->len - sizeof(*p), lz->pbuf, err, sizeof(err)) < 0) {
		snprintf(lz->err, sizeof(lz->err), "corrupt: page data at %#lx (offset %lu): %s",
			 (unsigned long)r->addr, (unsigned long)r->off,
			 p->addr != r->addr || p->npages != r->npages ? "the record changed" : err);
		return -1;
	}
	lz->t[ti].inflight = (ssize_t)ri;
	for (uint64_t k = 0; first && k < r->npages; k++) {
		uint64_t done;

		if (fwd(&lz->t[ti], r->addr + k * PAGE) == first) {
			if (copy_pages(lz, &lz->t[ti], first, src + k * PAGE, 1, &done) < 0)
				return -1;
			break;		/* the loop below skips it (EEXIST) */
		}
	}
	while (j < r->npages && !lz->t[ti].stop) {
		struct lazy_target *t = &lz->t[ti];	/* drain() may move lz->t */
		uint64_t dst = fwd(t, r->addr + j * PAGE), n = 1, done;
		int k;

		if (!dst) {			/* dropped meanwhile */
			j++;
			continue;
		}
		while (j + n < r->npages && fwd(t, r->addr + (j + n) * PAGE) == dst + n * PAGE)
			n++;
		k = copy_pages(lz, t, dst, src + j * PAGE, n, &done);
		if (k < 0)
			return -1;
		j += done;
		if (k == 1)
			drain(lz, ti);		/* an event may have moved the rest */
	}
	lz->t[ti].inflight = -1;
	lz->bytes += (uint64_t)r->npages * PAGE;
	return 0;
}

/* One faulting page of target ti: its record if it has one, else a zero page. */
static int serve_fault(struct rst_state *s, struct rst_lazy *lz, size_t ti, uint64_t page)
{
	uint64_t orig = lz->t[ti].nevs ? back(&lz->t[ti], page) : page;
	struct lazy_rec *r = orig ? find(lz, orig) : NULL;
	struct uffdio_zeropage z = { .range = { page, PAGE } };
	struct uffdio_range w = { page, PAGE };

	lz->last_fault = now_ns();
	if (r && !lz->t[ti].done[r - lz->recs]) {
		lz->nfault_recs++;
		if (serve_rec(s, lz, ti, (size_t)(r - lz->recs), page) < 0)
			return -1;
	}
	/* Not in the image (never touched), or installed already. */
	if (ioctl(lz->t[ti].uffd, UFFDIO_ZEROPAGE, &z) == 0) {
		lz->nzero++;
		return 0;
	}
	/* There already, or no longer ours: a woken thread faults again if need be. */
	ioctl(lz->t[ti].uffd, UFFDIO_WAKE, &w);
	return 0;
}

static int cmp_rec(const void *x, const void *y)
{
	const struct lazy_rec *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* The userfaultfd from the restorer; -1 if the child died before sending it. */
static int receive_uffd(struct rst_lazy *lz)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	int fd;

	while ((n = recvmsg(lz->sock[0], &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Closing a target's userfaultfd unregisters its ranges and wakes every waiter. */
static void finish(struct lazy_target *t)
{
	if (t->uffd >= 0)
		close(t->uffd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->uffd = t->pidfd = -1;
	t->stop = 1;
}

#define LAZY_POLL_MAX	64
#define LAZY_QUIET_MS	1

/*
 * The loop: every target's faults first, then one more record for each
 * target in the background.  Ends when every target is finished.
 */
static int serve(struct rst_state *s, struct rst_lazy *lz)
{
	for (;;) {
		struct pollfd pf[LAZY_POLL_MAX + 1];
		size_t map[LAZY_POLL_MAX + 1], np = 0;
		int stream = 0, active = 0;

		for (size_t ti = 0; ti < lz->nt; ti++) {
			while (lz->t[ti].nfaults && !lz->t[ti].stop)
				if (serve_fault(s, lz, ti, lz->t[ti].faults[--lz->t[ti].nfaults]) < 0)
					return -1;
			if (!lz->t[ti].stop && !lz->t[ti].left)
				finish(&lz->t[ti]);
			if (lz->t[ti].stop) {
				finish(&lz->t[ti]);
				continue;
			}
			active = 1;
			stream |= lz->background;
			if (np < LAZY_POLL_MAX) {
				pf[np] = (struct pollfd){ lz->t[ti].uffd, POLLIN, 0 };
				map[np++] = ti;
			}
			if (lz->t[ti].pidfd >= 0 && np < LAZY_POLL_MAX) {
				pf[np] = (struct pollfd){ lz->t[ti].pidfd, POLLIN, 0 };
				map[np++] = ti;
			}
		}
		/* Without streaming, only the restored process's end ends the loop. */
		if (!active || (!lz->background && lz->t[0].stop))
			return 0;
		/*
		 * Right after a fault more tend to follow (a thread starting
		 * up, a loop over fresh memory): the stream waits until there
		 * has been none for LAZY_QUIET_MS, so they never queue behind
		 * a background record.
		 */
		int quiet = now_ns() - lz->last_fault < LAZY_QUIET_MS * 1000000ull;

		if (poll(pf, np, !stream ? -1 : quiet ? LAZY_QUIET_MS : 0) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		int events = 0;
		for (size_t i = 0; i < np; i++) {
			struct lazy_target *t = &lz->t[map[i]];

			if (!pf[i].revents)
				continue;
			events = 1;
			if (pf[i].fd == t->pidfd || (pf[i].revents & (POLLERR | POLLHUP)))
				t->stop = 1;	/* the process ended */
			else
				drain(lz, map[i]);
		}
		if (events)
			continue;
		for (size_t ti = 0; ti < lz->nt; ti++) {
			struct lazy_target *t = &lz->t[ti];

			while (t->next < lz->nrecs && t->done[t->next])
				t->next++;
			if (!t->stop && t->next < lz->nrecs && serve_rec(s, lz, ti, t->next, 0) < 0)
				return -1;
		}
	}
}

int rst_lazy_serve(struct rst_state *s, pid_t child)
{
	struct rst_lazy *lz = s->lz;
	uint64_t t0;
	int r, fd;

	close(lz->sock[1]);
	for (int i = 0; i < s->nvmas; i++) {	/* the child has its own copies now */
		struct rst_vma *v = &s->vmas[i];

		if (v->staging)
			munmap(v->staging, v->v.end - v->v.start);
		v->staging = NULL;
	}
	if ((fd = receive_uffd(lz)) < 0)
		return 0;			/* it failed first, and said why */
	t0 = now_ns();
	qsort(lz->recs, lz->nrecs, sizeof(*lz->recs), cmp_rec);
	lz->t = calloc(1, sizeof(*lz->t));
	if (!lz->t)
		abort();
	lz->nt = 1;
	lz->t[0] = (struct lazy_target){ .uffd = fd, .left = lz->nrecs, .inflight = -1 };
	lz->t[0].pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	lz->t[0].done = calloc(lz->nrecs + 1, 1);
	lz->background = !getenv("CKPT_LAZY_BACKGROUND") || strcmp(getenv("CKPT_LAZY_BACKGROUND"), "0");
	lz->rbuf = malloc(sizeof(struct img_rec_hdr) + lz->maxlen);
	lz->pbuf = mmap(NULL, IMG_PAGES_MAX * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!lz->t[0].done || !lz->rbuf || lz->pbuf == MAP_FAILED)
		abort();
	r = serve(s, lz);
	for (size_t ti = 0; ti < lz->nt; ti++)
		finish(&lz->t[ti]);
	if (r < 0) {
		rst_error(s, "%s; the restored process (pid %d) is killed", lz->err, (int)child);
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return RST_EXIT_IMAGE;
	}
	if (getenv("CKPT_LAZY_STATS"))
		fprintf(stderr, "ckpt-restart: lazy: %zu records, %lu MiB in %.1f ms (%lu on "
			"fault, %lu zero pages, %zu address spaces)%s; setup to running %.2f ms\n",
			lz->nrecs, (unsigned long)(lz->bytes >> 20), (double)(now_ns() - t0) / 1e6,
			(unsigned long)lz->nfault_recs, (unsigned long)lz->nzero, lz->nt,
			lz->t[0].left ? "; the process ended first" : "",
			(double)(t0 - lz->t_setup) / 1e6);
	return 0;
}
