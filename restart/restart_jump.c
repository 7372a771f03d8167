/*
 * restart_jump.c - reserve the image's address ranges, build the
 * restorer's argument block in the blob, and jump into it.
 *
 * Address-space invariant: the blob and every staging mapping lie
 * outside the image's ranges, so the restorer can unmap "everything but
 * the blob and the staging" without losing anything it needs, then build
 * the image's mappings over the freed ranges.
 *
 * rst_reserve() makes most of that hold by itself: from then on every
 * range the image needs is reserved (PROT_NONE) or was occupied by the
 * restarter at that moment.  The second kind is the gap: memory the
 * restarter lets go later (libc's free of a large block, a parent image
 * unmapped) leaves a hole inside an image range that the kernel may hand
 * out again.  So what must survive is mapped with rst_mmap_outside(),
 * which checks where the kernel put it and reserves such a hole when it
 * lands in one.  (Other mappings made after the reservation, like the
 * decoding threads' stacks, are gone before the restorer runs.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>
#include "kernel-assist/assist.h"
#include "restart/restorer.h"
#include "restart/rst.h"

#define PAGE		IMG_PAGE_SIZE
#define BLOB_STACK	(64u * 1024)
#define THREAD_STACK	(16u * 1024)	/* RST_THREAD_STACK in restorer.c */

extern const char __start_ckpt_restorer[], __stop_ckpt_restorer[];

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/*
 * Reserves [a, b), halving around whatever is already mapped there.  The
 * last resort only (reserve_holes knows where the holes are): halving
 * inside a mapping goes down to single pages, 2 * size / 4 KiB calls, and
 * a restarter mapping inside a 2 TiB reservation took minutes that way.
 */
static void reserve_halving(uint64_t a, uint64_t b)
{
	void *p;

	if (a >= b)
		return;
	p = mmap((void *)a, b - a, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == (void *)a)
		return;
	if (p != MAP_FAILED)		/* old kernel: treated as a hint */
		munmap(p, b - a);
	if (b - a <= PAGE)
		return;
	uint64_t mid = a + ((b - a) / 2 & ~(uint64_t)(PAGE - 1));
	reserve_halving(a, mid);
	reserve_halving(mid, b);
}

/*
 * This process's own mappings, in address order, from /proc/self/maps.
 * Static: memory from malloc or mmap could itself sit in a hole of an
 * image range, be taken for one of ours, and leave that hole unreserved
 * once freed.  Past OWN_MAX mappings the rest of the address space counts
 * as taken, and reserve_halving() finds its holes (slowly, correctly).
 */
#define OWN_MAX		(1 << 17)
static struct rst_range own_r[OWN_MAX];
static int own_n;

static void own_maps_read(void)
{
	static char buf[1 << 16];
	size_t len = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t k;

	own_n = 0;
	if (fd < 0) {			/* every place taken: halving finds the holes */
		own_r[own_n++] = (struct rst_range){ 0, ~0ULL };
		return;
	}
	while ((k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		char *line = buf, *nl;

		len += k;
		buf[len] = '\0';
		for (; (nl = strchr(line, '\n')); line = nl + 1) {
			char *end;
			uint64_t x = strtoull(line, &end, 16);

			if (*end != '-')
				continue;
			if (own_n == OWN_MAX) {
				own_r[own_n - 1].end = ~0ULL;
				close(fd);
				return;
			}
			own_r[own_n++] = (struct rst_range){ x, strtoull(end + 1, NULL, 16) };
		}
		len -= line - buf;	/* an unfinished line goes to the front */
		memmove(buf, line, len);
	}
	close(fd);
}

/*
 * Reserves the holes of [a, b) between this process's own mappings (as
 * own_maps_read() last saw them): one mmap per hole, whatever the size
 * of the range.
 */
static void reserve_holes(uint64_t a, uint64_t b)
{
	int lo = 0, hi = own_n;

	while (lo < hi) {		/* the first own mapping ending above a */
		int mid = lo + (hi - lo) / 2;

		if (own_r[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < own_n && own_r[i].start < b && a < b; i++) {
		if (own_r[i].start > a)
			reserve_halving(a, own_r[i].start);
		if (own_r[i].end > a)
			a = own_r[i].end;
	}
	if (a < b)
		reserve_halving(a, b);
}

/* Reserves [a, b) around whatever is mapped there now. */
static void reserve_range(uint64_t a, uint64_t b)
{
	own_maps_read();
	reserve_holes(a, b);
}

/* One mmap per run of adjacent mappings (a library's segments, a thread's
 * stack and its guard page): a few instead of one per mapping. */
void rst_reserve(struct rst_state *s)
{
	own_maps_read();		/* once: the runs are disjoint */
	for (int i = 0, j; i < s->nvmas; i = j) {
		for (j = i + 1; j < s->nvmas && s->vmas[j].v.start == s->vmas[j - 1].v.end; j++)
			;
		reserve_holes(s->vmas[i].v.start, s->vmas[j - 1].v.end);
	}
	s->reserved = 1;
}

/* The first image mapping that overlaps [a, b), or -1 (s->vmas are in
 * address order and disjoint: restart_load.c checks). */
static int first_overlap(const struct rst_state *s, uint64_t a, uint64_t b)
{
	int lo = 0, hi = s->nvmas;

	while (lo < hi) {		/* the first mapping ending above a */
		int mid = lo + (hi - lo) / 2;

		if (s->vmas[mid].v.end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nvmas && s->vmas[lo].v.start < b ? lo : -1;
}

void *rst_mmap_outside(struct rst_state *s, size_t len, int prot, int flags)
{
	/*
	 * A mapping in a hole: the holes of every image mapping it touches
	 * are reserved (whole mappings, so a large one is not walked through
	 * len bytes at a time), and the kernel asked again.  Each retry fills
	 * the holes of at least one mapping, so there are at most nvmas.
	 * Before the reservation (--check, which restores nothing) any place
	 * will do.
	 */
	for (int tries = 0; tries <= s->nvmas; tries++) {
		char *p = mmap(NULL, len, prot, flags, -1, 0);
		uint64_t a = (uint64_t)p, b = a + len;
		int i;

		if (p == MAP_FAILED || !s->reserved || (i = first_overlap(s, a, b)) < 0)
			return p;
		munmap(p, len);
		for (; i < s->nvmas && s->vmas[i].v.start < b; i++)
			reserve_range(s->vmas[i].v.start, s->vmas[i].v.end);
	}
	errno = ENOMEM;
	return MAP_FAILED;
}

static int cmp_range(const void *x, const void *y)
{
	const struct rst_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* Unregisters this thread's rseq area: it is about to be unmapped. */
static void rseq_off(void)
{
	/* glibc's (2.35+); weak: a libc that registers no rseq area has none */
	extern const ptrdiff_t __rseq_offset __attribute__((weak));
	extern const unsigned int __rseq_size __attribute__((weak));
	char *area;

	if (&__rseq_size == NULL || !__rseq_size)
		return;
	area = (char *)__builtin_thread_pointer() + __rseq_offset;
	if (syscall(SYS_rseq, area, 32, 1, 0x53053053) < 0)
		syscall(SYS_rseq, area, __rseq_size, 1, 0x53053053);
}

int rst_jump(struct rst_state *s)
{
	size_t code_len = __stop_ckpt_restorer - __start_ckpt_restorer;
	uint64_t code_sz = page_up(code_len);
	int nops = 0, nruns = 0, nkeep = 0, nclose = 0, nguards = 0;
	uint64_t park_len = 0;
	/* The restarter's own vdso/vvar, to be moved to the image's places. */
	static const struct { uint32_t flag; int own; } specials[] = {
		{ IMG_VMA_VVAR, RST_OWN_VVAR }, { IMG_VMA_VVAR_VCLOCK, RST_OWN_VVAR_VCLOCK },
		{ IMG_VMA_VDSO, RST_OWN_VDSO },
	};

	if (!s->reserved)
		rst_reserve(s);
	/*
	 * The restorer writes struct ckpt_restore_info (6 words) where the
	 * image says, while it may still be privileged: inside a writable
	 * mapping of the image, never into the restorer's own memory.
	 */
	uint64_t ri = s->threads[0].restore_info, at = ri;
	int vi = ri ? first_overlap(s, ri, ri + 48) : -1;

	/* (it may straddle two mappings: a library's data and its bss) */
	for (; vi >= 0 && vi < s->nvmas && s->vmas[vi].v.start <= at && at < ri + 48 &&
	       (s->vmas[vi].v.prot & PROT_WRITE); vi++)
		at = s->vmas[vi].v.end;
	if (ri && (ri + 48 < ri || at < ri + 48)) {
		rst_error(s, "corrupt: the restore information at %lx is not inside a writable "
			  "mapping of the image", (unsigned long)ri);
		return RST_EXIT_IMAGE;
	}

	/* Sizes first: ops, runs, keep ranges. */
	for (int i = 0; i < s->nvmas; i++) {
		struct rst_vma *v = &s->vmas[i];
		uint64_t np = (v->v.end - v->v.start) / PAGE;

		if (v->v.flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK)) {
			park_len += v->v.end - v->v.start;
			continue;
		}
		nops += 1 + rst_mpages_ops(s, v, NULL);
		nguards += v->v.nguards;
		if (v->dirty)
			for (uint64_t p = 0; p < np; p++)
				nruns += !!(v->dirty[p / 8] & (1 << (p % 8)));
		if (v->staging)
			nkeep++;
	}
	int nshm_drop = rst_ipc_keep(s, NULL);	/* ckpt-restart's SysV attaches */

	nkeep += 1 + 3 + 1 + nshm_drop;	/* the blob, vdso, vvar, vvar_vclock, a tree's barriers */
	int nlazy = 0;
	for (int i = 0; s->lazy && i < s->nvmas; i++)
		nlazy += rst_lazy_vma(&s->vmas[i]);
	int nthr = s->nthreads;
	int npidfds = 0;
	for (int i = 0; i < s->nfds; i++)
		npidfds += rst_fd_late(s, &s->fds[i]);
	nclose = s->nvmas + 2;
	/*
	 * The fds the restorer will close (the mapped files', the image, the
	 * exe; and ckpt-restart's stderr copy, last): POSIX locks on their
	 * files are dropped by those closes and taken again after them.
	 */
	int *closing = calloc(nclose, sizeof(*closing)), nclosing = 0, err_locked;

	if (!closing)
		abort();
	for (int i = 0; i < s->nvmas; i++)
		if (s->vmas[i].fd >= 0)
			closing[nclosing++] = s->vmas[i].fd;
	if (s->img_fd > 2)
		closing[nclosing++] = s->img_fd;
	if (s->exe_fd >= 0)
		closing[nclosing++] = s->exe_fd;
	int nrelocks = rst_relocks(s, closing, nclosing, rst_err_fd, NULL, &err_locked);

	uint64_t args_off = code_sz;
	uint64_t ops_off = page_up(args_off + sizeof(struct rst_args));
	uint64_t runs_off = ops_off + nops * sizeof(struct rst_op);
	uint64_t keep_off = runs_off + nruns * sizeof(struct rst_run);
	uint64_t drop_off = keep_off + nkeep * sizeof(struct rst_range);
	uint64_t lazy_off = drop_off + nshm_drop * sizeof(struct rst_range);
	uint64_t guards_off = lazy_off + nlazy * sizeof(struct rst_range);
	uint64_t close_off = guards_off + nguards * sizeof(struct rst_range);
	uint64_t groups_off = (close_off + nclose * sizeof(int32_t) + 7) & ~7ULL;
	uint64_t sigs_off = (groups_off + s->img_ngroups * sizeof(uint32_t) + 7) & ~7ULL;
	uint64_t timers_off = sigs_off + s->nsigs * sizeof(struct img_siginfo);
	uint64_t relocks_off = (timers_off + s->ntimers * sizeof(struct img_timer) + 7) & ~7ULL;
	uint64_t attr_off = (relocks_off + nrelocks * sizeof(struct rst_relock) + 7) & ~7ULL;
	uint64_t pidfds_off = (attr_off + rst_attr_blob_size(s) + 7) & ~7ULL;
	uint64_t thr_off = (pidfds_off + npidfds * sizeof(struct rst_pidfd) + 63) & ~63ULL;
	uint64_t stack_off = page_up(thr_off + nthr * sizeof(struct rst_thread));
	uint64_t tstack_off = stack_off + BLOB_STACK;
	uint64_t park_off = tstack_off + (uint64_t)(nthr - 1) * THREAD_STACK;
	uint64_t blob_len = park_off + page_up(park_len) + PAGE;

	char *blob = rst_mmap_outside(s, blob_len, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS);
	if (blob == MAP_FAILED) {
		rst_error(s, "cannot map the restorer: %s", strerror(errno));
		free(closing);
		return RST_EXIT_ENV;
	}
	memcpy(blob, __start_ckpt_restorer, code_len);

	struct rst_args *a = (struct rst_args *)(blob + args_off);
	a->ops = (struct rst_op *)(blob + ops_off);
	a->runs = (struct rst_run *)(blob + runs_off);
	a->keep = (struct rst_range *)(blob + keep_off);
	a->shm_drop = (struct rst_range *)(blob + drop_off);
	a->nshm_drop = rst_ipc_keep(s, a->shm_drop);
	for (uint32_t k = 0; k < a->nshm_drop; k++)
		a->keep[a->nkeep++] = a->shm_drop[k];
	a->close_fds = (int32_t *)(blob + close_off);
	a->lazy = (struct rst_range *)(blob + lazy_off);
	a->guards = (struct rst_range *)(blob + guards_off);
	a->mcl = s->mcl;
	a->lazy_fd = -1;
	if (s->lazy) {
		a->lazy_fd = s->lazy_fd;
		a->uffd_features = rst_lazy_features();
		for (int i = 0; i < s->nvmas; i++)
			if (rst_lazy_vma(&s->vmas[i]))
				a->lazy[a->nlazy++] = (struct rst_range){ s->vmas[i].v.start,
									  s->vmas[i].v.end };
	}
	a->threads = (struct rst_thread *)(blob + thr_off);
	a->park = (uint64_t)(blob + park_off);
	a->keep[a->nkeep++] = (struct rst_range){ (uint64_t)blob, (uint64_t)blob + blob_len };

	for (size_t k = 0; k < 3; k++) {
		uint64_t x, y;

		if (!rst_own_special(s, specials[k].own, &x, &y))
			continue;
		a->keep[a->nkeep++] = (struct rst_range){ x, y };
		for (int i = 0; i < s->nvmas; i++)
			if (s->vmas[i].v.flags & specials[k].flag)
				a->moves[a->nmoves++] = (struct rst_move){ x, y - x, s->vmas[i].v.start };
	}

	uint32_t nguards_done = 0;

	for (int i = 0; i < s->nvmas; i++) {
		struct rst_vma *v = &s->vmas[i];
		struct rst_op *op;

		if (v->v.flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK))
			continue;
		op = &a->ops[a->nops++];
		op->start = v->v.start;
		op->end = v->v.end;
		op->pgoff = v->v.pgoff;
		op->prot = v->v.prot;
		op->mmap_flags = (v->v.flags & IMG_VMA_SHARED) ? MAP_SHARED : MAP_PRIVATE;
		if (v->v.flags & IMG_VMA_GROWSDOWN)
			op->mmap_flags |= MAP_GROWSDOWN;
		op->mmap_flags |= rst_vma_hugetlb(s, v);	/* anonymous huge pages */
		if (v->v.attrs & IMG_VMA_ATTR_NORESERVE)
			op->mmap_flags |= MAP_NORESERVE;
		op->attrs = v->v.attrs;
		op->guard_first = nguards_done;
		op->guard_count = v->v.nguards;
		for (uint32_t k = 0; k < v->v.nguards; k++)
			a->guards[nguards_done++] = (struct rst_range){ v->guards[k].start,
									 v->guards[k].end };
		op->fd = v->fd;
		op->staging = (uint64_t)v->staging;
		if (v->staging)
			a->keep[a->nkeep++] = (struct rst_range){ op->staging,
				op->staging + (v->v.end - v->v.start) };
		if (rst_ipc_is_attach(v)) {
			rst_ipc_op(s, v, op);	/* a SysV attach: the restorer's shmat */
		} else if (v->v.flags & IMG_VMA_FILE) {
			uint64_t np = (v->v.end - v->v.start) / PAGE;

			op->kind = RST_FILE;
			op->run_first = a->nruns;
			for (uint64_t p = 0; v->dirty && p < np; p++) {
				if (!(v->dirty[p / 8] & (1 << (p % 8))))
					continue;
				if (op->run_count && a->runs[a->nruns - 1].off +
				    a->runs[a->nruns - 1].len == p * PAGE) {
					a->runs[a->nruns - 1].len += PAGE;
					continue;
				}
				a->runs[a->nruns++] = (struct rst_run){ p * PAGE, PAGE };
				op->run_count++;
			}
			if (!a->nclose || a->close_fds[a->nclose - 1] != v->fd)
				a->close_fds[a->nclose++] = v->fd;
		} else {
			op->kind = v->staging ? RST_MOVE : RST_ANON;
		}
		/* mappable image: its runs mapped over the fresh memory, in order */
		a->nops += rst_mpages_ops(s, v, &a->ops[a->nops]);
	}
	qsort(a->keep, a->nkeep, sizeof(*a->keep), cmp_range);

	if (s->tree) {		/* a tree's process: its last barrier (restart_tree.c) */
		a->tree_sync = (uint64_t)rst_tree_sync_page(s);
		a->tree_n = (uint32_t)rst_tree_live(s);
		a->stop = rst_tree_stopped(s);
		a->keep[a->nkeep++] = (struct rst_range){ a->tree_sync, a->tree_sync + PAGE };
		qsort(a->keep, a->nkeep, sizeof(*a->keep), cmp_range);
	}
	if (s->img_fd > 2)
		a->close_fds[a->nclose++] = s->img_fd;
	memcpy(a->auxv, s->proc.auxv, sizeof(a->auxv));
	assist_mm_map_prepare(&a->mm, &s->proc, a->auxv, s->exe_fd);
	if (s->exe_fd >= 0)
		a->close_fds[a->nclose++] = s->exe_fd;
	memcpy(a->sigact, s->proc.sigact, sizeof(a->sigact));
	a->pending = s->proc.sigpending;
	a->sigs = (struct img_siginfo *)(blob + sigs_off);
	a->nsigs = s->nsigs;
	if (s->nsigs)
		memcpy(a->sigs, s->sigs, s->nsigs * sizeof(*s->sigs));
	a->timers = (struct img_timer *)(blob + timers_off);
	a->ntimers = s->ntimers;
	if (s->ntimers)
		memcpy(a->timers, s->timers, s->ntimers * sizeof(*s->timers));
	/* other threads' pidfds, the fds of one description together */
	a->pidfds = (struct rst_pidfd *)(blob + pidfds_off);
	a->pidfd_base = rst_fd_base(s);
	for (int i = 0; i < s->nfiles; i++) {
		const struct rst_file *f = &s->files[i];

		for (int k = 0; k < s->nfds; k++) {
			const struct img_fd *d = &s->fds[k];

			if (d->file != f->f.id || !rst_fd_late(s, d))
				continue;
			a->pidfds[a->npidfds++] = (struct rst_pidfd){ d->fd,
				((const struct img_file_pidfd *)f->data)->pid,
				f->f.flags & (O_NONBLOCK | O_EXCL), d->fdflags & IMG_FD_CLOEXEC, f->f.id, 0 };
		}
	}
	rst_attr_args(s, a, blob + attr_off);	/* restart_attr.c */
	a->relocks = (struct rst_relock *)(blob + relocks_off);
	a->nrelocks = rst_relocks(s, closing, nclosing, rst_err_fd, a->relocks, &a->err_locked);
	free(closing);
	snprintf(a->lk_text[0], sizeof(a->lk_text[0]), " (");
	snprintf(a->lk_text[1], sizeof(a->lk_text[1]), "); restart once it has let go");
	snprintf(a->lk_text[2], sizeof(a->lk_text[2]),
		 "unknown (an OFD lock, whose holder the kernel does not name");
	snprintf(a->lk_text[3], sizeof(a->lk_text[3]), "/proc/");
	snprintf(a->lk_text[4], sizeof(a->lk_text[4]), "/comm");
	/*
	 * Credentials (restart_trust.c): root restarting a trusted image
	 * gives it the recorded ids and groups in the restorer; an untrusted
	 * one made us its owner already; a user keeps their own (the ids were
	 * checked to be theirs); in a --pidns namespace setgroups is denied.
	 */
	a->uid = a->gid = -1;
	if (s->proc.uid != getuid() || s->proc.gid != getgid()) {
		a->uid = s->proc.uid;
		a->gid = s->proc.gid;
	}
	if (geteuid() == 0 && rst_trusted(s) && !s->pidns) {
		a->set_groups = 1;
		a->ngroups = s->img_ngroups;
		a->groups = (uint32_t *)(blob + groups_off);
		memcpy(a->groups, s->img_groups, s->img_ngroups * sizeof(uint32_t));
	}
	a->caps_image = rst_caps_restored(s);
	a->cap_raise = s->cap_keep;
	a->assist_fd = assist_module_fd();
	a->thread_module = assist_backend() == ASSIST_MODULE;
	a->exe_link_fd = -1;
	if (assist_module_exe() && s->exe_fd >= 0) {
		a->exe_link_fd = s->exe_fd;
		a->mm.exe_fd = -1;	/* PR_SET_MM_MAP would refuse it (EPERM) */
	}
	a->timer_mode = (uint32_t)s->timer_mode;
	_Static_assert(ASSIST_TIMERS_MODULE == RST_TIMERS_MODULE && ASSIST_TIMERS_CYCLE ==
		       RST_TIMERS_CYCLE && ASSIST_TIMER_CYCLE_MAX == RST_TIMER_CYCLE_MAX,
		       "assist.h and restorer.h disagree on the timer modes");
	a->pid = s->proc.pid;
	a->nthreads = nthr;
	for (int i = 0; i < nthr; i++) {
		a->threads[i].img = s->threads[i];
		if (i)
			a->threads[i].stack = (uint64_t)(blob + tstack_off) + (uint64_t)i * THREAD_STACK;
	}
	a->restore_info = s->threads[0].restore_info;
	a->blob = (uint64_t)blob;
	a->blob_len = blob_len;
	if (s->nmpages) {
		struct stat st;

		if (fstat(s->img_fd, &st) < 0) {
			rst_error(s, "cannot stat the image: %s", strerror(errno));
			return RST_EXIT_ENV;
		}
		a->img_dev = st.st_dev;
		a->img_ino = st.st_ino;
	}
	a->err_fd = rst_err_fd;
	snprintf(a->msg, sizeof(a->msg), "ckpt-restart: %s: the restorer failed at step ",
		 s->image);
	snprintf(a->msg_errno, sizeof(a->msg_errno), ", errno ");

	if (mprotect(blob, code_sz, PROT_READ | PROT_EXEC) < 0) {
		rst_error(s, "cannot make the restorer executable: %s", strerror(errno));
		return RST_EXIT_ENV;
	}
	fflush(NULL);
	rseq_off();

	void (*entry)(struct rst_args *) =
		(void (*)(struct rst_args *))(blob + ((const char *)rst_main - __start_ckpt_restorer));
	uint64_t stack_top = (uint64_t)(blob + stack_off + BLOB_STACK) & ~15ULL;

	__asm__ volatile("movq %0, %%rsp\n\t"
			 "xorl %%ebp, %%ebp\n\t"
			 "callq *%1\n\t"
			 "hlt"
			 :
			 : "r"(stack_top), "r"(entry), "D"(a)
			 : "memory");
	__builtin_unreachable();
}
