/*
 * ckpt_core.c - one checkpoint, start to end (see ckpt.h for the order and
 * the invariants).  Called by the shim from the checkpoint signal handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_bt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_incr.h"
#include "libckpt/ckpt_tree.h"
#include "libckpt/reg_attr.h"
#include "libckpt/ckpt_uffd.h"

/* Scratch layout; MAP_NORESERVE: only the pages touched cost memory. */
#define SCR_MAPS	(8u << 20)
#define SCR_VMAS	(65536u * sizeof(struct ckpt_vma))
#define SCR_WBUF	(1u << 20)
#define SCR_ZTAB	IMG_SNAPPY_SCRATCH	/* the leader's encoder table (ckpt_pool.c) */
#define SCR_BOUNCE	(IMG_PAGES_MAX * IMG_PAGE_SIZE)
#define SCR_PAGEMAP	(4096u)
#define SCR_FDIDS	(CKPT_MAX_FDS * sizeof(struct ckpt_fdid))
#define SCR_ASKED	((1u << 22) / 8)	/* a bit per possible tid */
#define SCR_DIRTY	sizeof(struct ckpt_dirty_run)
#define SCR_MBUF	(CKPT_MPAGES_RUN * IMG_PAGE_SIZE)	/* touched if mappable */
#define SCR_USK		CKPT_USK_SCRATCH	/* touched if unix sockets */
#define SCR_PMVEC	(512u * sizeof(struct page_region))	/* ckpt_pmscan.c */
#define SCR_GVEC	(4096u * sizeof(struct page_region))	/* ckpt_memattr.c */
#define SCR_MCVEC	CKPT_MCVEC_LEN	/* touched without PAGEMAP_SCAN */
#define SCR_VMATAIL	(CKPT_PATH_MAX + IMG_VMA_GUARDS_MAX * sizeof(struct img_range))

int ckpt_fail(struct ckpt_ctx *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->error)
		return c->error;
	c->error = err ? err : -EIO;
	va_start(ap, fmt);
	ckpt_vfmt(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return c->error;
}

/*
 * Made inaccessible, unlocked, then made accessible: with mlockall(MCL_FUTURE)
 * on, an accessible mapping would be locked and populated as it is made
 * (tens of MiB of scratch, and refused past RLIMIT_MEMLOCK), while a
 * PROT_NONE one is never populated and munlock() then clears the lock.
 * EAGAIN: the locked memory is at its limit already; one page, unlocked,
 * grown with mremap (which a lock no longer limits).  3 system calls more
 * than a plain mmap, a few microseconds.
 */
void *ckpt_map_anon(size_t len, int prot)
{
	const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	long p = arch_sys6(SYS_mmap, 0, len, PROT_NONE, flags, -1, 0);

	if (p == -EAGAIN) {
		p = arch_sys6(SYS_mmap, 0, IMG_PAGE_SIZE, PROT_NONE, flags, -1, 0);
		if (p > 0) {
			long q;

			arch_sys2(SYS_munlock, p, IMG_PAGE_SIZE);
			q = arch_sys4(SYS_mremap, p, IMG_PAGE_SIZE, len, MREMAP_MAYMOVE);
			if (q < 0 && q > -4096)
				arch_sys2(SYS_munmap, p, IMG_PAGE_SIZE);
			p = q;
		}
	}
	if (p < 0 && p > -4096) {
		errno = (int)-p;
		return MAP_FAILED;
	}
	arch_sys2(SYS_munlock, p, len);
	if (prot != PROT_NONE) {
		long r = arch_sys3(SYS_mprotect, p, len, prot);

		if (r < 0) {
			arch_sys2(SYS_munmap, p, len);
			errno = (int)-r;
			return MAP_FAILED;
		}
	}
	return (void *)p;
}

int ckpt_scratch_map(struct ckpt_ctx *c)
{
	size_t len = SCR_MAPS + SCR_VMAS + SCR_WBUF + SCR_ZTAB + SCR_BOUNCE + SCR_PAGEMAP +
		     SCR_FDIDS + SCR_ASKED + 8 + SCR_DIRTY + SCR_MBUF + SCR_USK + SCR_PMVEC + SCR_GVEC +
		     SCR_MCVEC + SCR_VMATAIL;
	unsigned char *p;

	len = (len + IMG_PAGE_SIZE - 1) & ~(size_t)(IMG_PAGE_SIZE - 1);
	p = ckpt_map_anon(len, PROT_READ | PROT_WRITE);
	if (p == MAP_FAILED)
		return ckpt_fail(c, -errno, "cannot map %zu bytes of checkpoint scratch: %s", len,
				 ckpt_strerror(errno));
	c->scratch = p;
	c->scratch_len = len;
	c->maps = (char *)p;
	c->maps_len = SCR_MAPS;
	p += SCR_MAPS;
	c->vmas = (struct ckpt_vma *)p;
	p += SCR_VMAS;
	c->wbuf = p;
	p += SCR_WBUF;
	c->ztab = p;
	p += SCR_ZTAB;
	c->bounce = p;
	p += SCR_BOUNCE;
	c->pagemap = (uint64_t *)p;
	p += SCR_PAGEMAP;
	c->fdids = (struct ckpt_fdid *)p;
	p += SCR_FDIDS;
	c->asked = p;
	p += SCR_ASKED;
	p = (unsigned char *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
	c->dirty = (struct ckpt_dirty_run *)p;
	p += SCR_DIRTY;
	c->mbuf = p;
	p += SCR_MBUF;
	c->usk = p;
	p += SCR_USK;
	p = (unsigned char *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
	c->pmvec = (struct page_region *)p;
	p += SCR_PMVEC;
	c->gvec = (struct page_region *)p;
	p += SCR_GVEC;
	c->mcvec = p;
	p += SCR_MCVEC;
	c->vmatail = p;
	return 0;
}

int ckpt_open_proc(struct ckpt_ctx *c)
{
	c->pagemap_fd = ckpt_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	if (c->pagemap_fd < 0)
		return ckpt_fail(c, -errno, "cannot open /proc/self/pagemap: %s",
				 ckpt_strerror(errno));
	c->mem_fd = ckpt_open("/proc/self/mem", O_RDONLY | O_CLOEXEC, 0);
	if (c->mem_fd < 0)
		return ckpt_fail(c, -errno, "cannot open /proc/self/mem: %s", ckpt_strerror(errno));
	return 0;
}

void ckpt_header_fill(struct ckpt_ctx *c, struct img_header *h, unsigned flags)
{
	struct utsname u;
	struct timespec ts;

	*h = (struct img_header){ 0 };
	clock_gettime(CLOCK_REALTIME, &ts);
	h->ctime_ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	h->pid = getpid();
	h->flags = flags;
	/*
	 * The kernel's release, not what uname() tells this process: with the
	 * UNAME26 personality that is "2.6.N".
	 */
	if (ckpt_read_file("/proc/sys/kernel/osrelease", u.release, sizeof(u.release)) > 0) {
		for (char *p = u.release; *p; p++)
			if (*p == '\n')
				*p = '\0';
	} else if (uname(&u) < 0) {
		u.release[0] = '\0';
	}
	{
		size_t n = ckpt_strlen(u.release);

		if (n >= sizeof(h->kernel))
			n = sizeof(h->kernel) - 1;
		for (size_t i = 0; i < n; i++)
			h->kernel[i] = u.release[i];
	}
	(void)c;
}

static int write_header(struct ckpt_ctx *c)
{
	struct img_header h;

	/* a tree's member writes a section (ckpt_tree.h) */
	ckpt_header_fill(c, &h, c->tree ? (c->hdr_flags & ~IMG_F_SELF) | IMG_F_MEMBER : c->hdr_flags);
	img_write_header(&c->w, &h);
	c->hdr = h;		/* the identity a child image names */
	return c->w.error;
}

/* The copy writing the last forked checkpoint, until it is reaped. */
static pid_t ckpt_writer;
/* The thread that holds the save slot (ckpt_save_begin), 0 if none. */
static int save_busy;

/*
 * The pid of an earlier writer still running, 0 when there is none (and
 * it is reaped).  wait_ms: how long one may take to end; -1: as long as
 * it takes.
 */
static pid_t writer_running(int wait_ms)
{
	siginfo_t si;

	for (int tries = 0; ckpt_writer; tries++) {
		struct timespec ms = { 0, 1000000 };

		si.si_pid = 0;
		/* exit signal 0: a clone child, seen only with __WALL, not by the app's wait() */
		if (ckpt_waitid(P_PID, ckpt_writer, &si, WEXITED | WNOHANG | __WALL) < 0 || si.si_pid) {
			ckpt_writer = 0;	/* reaped, or not ours (a restarted copy) */
			break;
		}
		if (wait_ms >= 0 && tries >= wait_ms)
			return ckpt_writer;
		/* not nanosleep(): inside libckpt that is its own wrapper */
		arch_sys2(SYS_nanosleep, &ms, NULL);
	}
	return 0;
}

/*
 * A writer replies before it exits, so one that has just finished gets
 * 100 ms to be gone before this checkpoint is refused as busy.
 */
static int writer_done(struct ckpt_ctx *c)
{
	pid_t w = writer_running(100);

	if (w)
		return ckpt_fail(c, -EBUSY, "another checkpoint of this process is in progress "
				 "(its pages are being written by pid %d)", (int)w);
	return 0;
}

int ckpt_save_begin(int wait_ms, char *err, size_t errlen)
{
	/*
	 * A restored process keeps the saved slot (the saving thread's tid)
	 * until its last thread has left the restorer (shim_post_restore
	 * resets it): a request that arrives meanwhile (ckpt-save right after
	 * ckpt-restart) waits for that, wait_ms at most.  A slot a live save
	 * holds is not waited for: that save may be waiting for this thread
	 * to park.
	 */
	int restoring = __atomic_load_n(&ckpt_restore_info.blob_len, __ATOMIC_ACQUIRE) != 0;
	const struct timespec ms = { 0, 1000000 };
	int zero = 0, tid = arch_sys0(SYS_gettid);
	pid_t w;

	for (int i = 0; !__atomic_compare_exchange_n(&save_busy, &zero, tid, 0, __ATOMIC_ACQ_REL,
						     __ATOMIC_ACQUIRE); i++) {
		if (restoring && i < wait_ms) {
			zero = 0;
			arch_sys2(SYS_nanosleep, &ms, NULL);
			continue;
		}
		ckpt_fmt(err, errlen, "another checkpoint of this process is in progress "
			 "(thread %d is saving it)", zero);
		return -EBUSY;
	}
	if ((w = writer_running(wait_ms))) {
		__atomic_store_n(&save_busy, 0, __ATOMIC_RELEASE);
		ckpt_fmt(err, errlen, "another checkpoint of this process is in progress "
			 "(its pages are being written by pid %d)", (int)w);
		return -EBUSY;
	}
	return 0;
}

void ckpt_save_end(void)
{
	__atomic_store_n(&save_busy, 0, __ATOMIC_RELEASE);
}

void ckpt_save_reset(void)
{
	ckpt_writer = 0;
	__atomic_store_n(&save_busy, 0, __ATOMIC_RELEASE);
}

/*
 * Whether a fork would see the memory as it is: shared anonymous memory
 * goes on changing under the copy, huge pages may be taken from it,
 * MADV_DONTFORK memory is missing from it and MADV_WIPEONFORK memory is
 * zero there.  The last two show only in the VmFlags of /proc/self/smaps,
 * which ckpt_memattr.c reads only when the process may have such advice
 * (reading it walks every page table, which would double the pause); raw
 * MADV_DONTFORK it did not see is caught in the copy (child_prepare).
 */
int ckpt_fork_faithful(struct ckpt_ctx *c)
{
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];

		if ((v->flags & (IMG_VMA_SHARED | IMG_VMA_ANON)) == (IMG_VMA_SHARED | IMG_VMA_ANON) ||
		    (v->attrs & (IMG_VMA_ATTR_DONTFORK | IMG_VMA_ATTR_WIPEONFORK)) ||
		    /* a private huge page the process writes after the fork may be
		     * taken from the copy (no free huge page to copy it to) */
		    v->byid == CKPT_BYID_HUGETLB)
			return 0;
	}
	return 1;
}

/*
 * In the forked copy: its own /proc files (the inherited ones are the
 * parent's), and every saved mapping present.  A mapping missing here was
 * made MADV_DONTFORK behind libc's back (c->fork_advised did not see it);
 * pagemap would report it empty, so without this check its pages would
 * silently come back as zeros.
 */
static int child_prepare(struct ckpt_ctx *c)
{
	unsigned char vec;

	ckpt_close(c->pagemap_fd);
	ckpt_close(c->mem_fd);
	c->pagemap_fd = c->mem_fd = -1;
	for (int i = 0; i < c->nvmas; i++) {
		const struct ckpt_vma *v = &c->vmas[i];

		if ((v->flags & IMG_VMA_PAGES) && !(v->flags & IMG_VMA_VDSO) &&
		    mincore((void *)v->start, IMG_PAGE_SIZE, &vec) < 0 && errno == ENOMEM)
			return ckpt_fail(c, -EINVAL, "memory %lx-%lx is missing from the forked copy "
					 "(MADV_DONTFORK given by a raw system call?): set CKPT_FORK=0",
					 (unsigned long)v->start, (unsigned long)v->end);
	}
	return ckpt_open_proc(c);
}

/*
 * Children make this checkpoint a tree's: this process coordinates it
 * (ckpt_tree_begin), unless it is a member already.  Never incremental:
 * a tree image is always whole.
 */
static int tree_children(struct ckpt_ctx *c)
{
	int r = ckpt_proc_check(c);

	if (r <= 0 && !c->tree)
		return r;
	c->incremental = 0;
	c->hdr_flags &= ~IMG_F_INCREMENTAL;
	return c->tree ? 0 : ckpt_tree_begin(c);
}

long ckpt_fork_copy(struct ckpt_ctx *c, int released[2])
{
	long pid;

	if (arch_sys2(SYS_pipe2, released, O_CLOEXEC) < 0)
		released[0] = released[1] = -1;
	pid = arch_sys5(SYS_clone, 0, 0, 0, 0, 0);
	if (pid != 0 && released[0] >= 0) {
		ckpt_close(released[0]);
		released[0] = -1;
	}
	if (pid > 0) {
		ckpt_writer = pid;
		return pid;
	}
	if (pid == 0) {
		/*
		 * Its own session and process group: the copy must hold no
		 * reference to the application's pid, or a restart right after
		 * the application is killed finds that pid taken (as the pgid
		 * or sid of this copy, or of its zombie) until the copy is done
		 * and reaped.  Its name tells a tree's coordinator (and ps)
		 * what it is: never a member of the tree.
		 */
		arch_sys0(SYS_setsid);
		arch_sys5(SYS_prctl, PR_SET_NAME, (long)CKPT_WRITER_COMM, 0, 0, 0);
		c->forked = CKPT_FORKED_CHILD;
		if (released[1] >= 0)
			ckpt_close(released[1]);
		released[1] = -1;
		child_prepare(c);
		return 0;
	}
	if (released[1] >= 0)
		ckpt_close(released[1]);
	released[0] = released[1] = -1;
	return pid;
}

int ckpt_run(struct ckpt_ctx *c)
{
	int released[2] = { -1, -1 };	/* the forked copy waits for EOF on [0] */

	c->pagemap_fd = c->mem_fd = -1;
	c->error = 0;
	c->err[0] = '\0';
	c->mem_bytes = c->zero_pages = 0;
	c->forked = CKPT_FORKED_NO;
	c->mappable = !!(c->hdr_flags & IMG_F_MAPPABLE);

	if (writer_done(c) < 0 || ckpt_scratch_map(c) < 0)
		return c->error;
	img_writer_init(&c->w, c->img_fd, c->wbuf, SCR_WBUF);

	if (ckpt_leader_enter(c) < 0) {
		munmap(c->scratch, c->scratch_len);
		return c->error;
	}
	/* 1. stop the other threads; validate everything before writing a byte */
	ckpt_cpuclock_begin();
	if (ckpt_park_all(c) == 0 && ckpt_lazy_settle(c) == 0 && ckpt_mpages_check(c) == 0 &&
	    ckpt_open_proc(c) == 0 && tree_children(c) == 0 && ckpt_attr_check(c) == 0 &&
	    ckpt_maps_read(c) == 0 && ckpt_memattr_read(c) == 0 && ckpt_maps_stageable(c) == 0 &&
	    ckpt_fds_check(c) == 0 && ckpt_sysv_check(c) == 0 &&
	    ckpt_dirty_prepare(c) == 0 && (!c->tree || ckpt_tree_parked(c) == 0)) {
		/* 2. write: the state, then the pages (from a copy if allowed) */
		ckpt_thread_capture(&c->leader, c->info, c->uc);
		ckpt_sig_take(&c->leader, c->ctl_sig_no, 1);
		write_header(c);
		/*
		 * The VMA records are the writer's: their guard regions are
		 * scanned for (ckpt_memattr.c) outside the pause when the
		 * copy writes them (a fork keeps guard regions).
		 */
		if (ckpt_proc_write(c) == 0 && ckpt_parent_write(c) == 0 && ckpt_attr_write(c) == 0 &&
		    ckpt_fds_write(c) == 0 && ckpt_sysv_write(c) == 0 &&
		    ckpt_thread_write(c) == 0 && ckpt_sig_write(c) == 0 && ckpt_timer_write(c) == 0 &&
		    ckpt_memattr_write(c) == 0) {
			/* a tree's section: written in its turn (ckpt_tree.c) */
			if (c->tree) {
				ckpt_tree_finish(c, released);
				goto out;
			}
			if (c->fork_ok && ckpt_fork_faithful(c)) {
				long pid = ckpt_fork_copy(c, released);

				if (pid > 0) {
					/* the copy owns the writer and the fd now */
					c->forked = CKPT_FORKED_PARENT;
					goto out;
				}
				/* fork failed: write in place */
			}
			if (!c->error && ckpt_bt_write(c) == 0 && ckpt_maps_write(c) == 0 &&
			    ckpt_mem_write(c) == 0)
				img_write_end(&c->w);
		}
		if (!c->error && c->w.error)
			ckpt_fail(c, c->w.error, "cannot write the image: %s",
				  ckpt_strerror(c->w.error));
	}
out:
	if (c->tree)
		ckpt_tree_end(c);
	if (c->forked != CKPT_FORKED_CHILD) {
		ckpt_dirty_finish(c);
		ckpt_release_all(c);
		if (released[1] >= 0)
			ckpt_close(released[1]);	/* the copy may report now */
	} else if (released[0] >= 0) {
		/*
		 * Report "saved" only once the process has left this checkpoint:
		 * a ckpt-save started right after ours must not find it busy.
		 * At most 1 s: an application thread that forks in the instant
		 * between the release and the close holds the pipe open too.
		 */
		struct pollfd pfd = { .fd = released[0], .events = POLLIN };

		while (arch_sys3(SYS_poll, &pfd, 1, 1000) == -EINTR)
			;
		ckpt_close(released[0]);
	}
	if (c->pagemap_fd >= 0)
		ckpt_close(c->pagemap_fd);
	if (c->mem_fd >= 0)
		ckpt_close(c->mem_fd);
	munmap(c->scratch, c->scratch_len);
	c->scratch = NULL;
	return c->error;
}
