/*
 * ckpt_memattr.c - what /proc/self/maps does not show of the memory: the
 * attributes of each mapping, the mlockall() state, guard regions.
 *
 * What (img_format.h):
 *   - madvise flags (DONTFORK, DONTDUMP, HUGEPAGE or NOHUGEPAGE,
 *     WIPEONFORK, MERGEABLE, SEQUENTIAL or RANDOM), locks (mlock,
 *     MLOCK_ONFAULT), MAP_NORESERVE, mseal: the VmFlags of
 *     /proc/self/smaps, into IMG_VMA_ATTR_* (VMFLAGS: they were read);
 *   - whether a shared file mapping may be made writable (VM_MAYWRITE:
 *     its file was opened read-write), IMG_VMA_ATTR_MAYWRITE;
 *   - mlockall(MCL_FUTURE[|MCL_ONFAULT]): the MLOCK record;
 *   - guard regions (MADV_GUARD_INSTALL): PAGEMAP_SCAN, when each VMA
 *     record is written (ckpt_memattr_guards).
 *
 * Cost.  Reading smaps walks every page table: 8-16 ms per GiB of
 * resident memory here, inside the application's pause and about what
 * the fork of a forked checkpoint costs.  So it is read only when one of
 * these cheap signs says the process may have such attributes:
 *   1. it asked for one through libc (wrappers/wrap_mem.c);
 *   2. /proc/self/status shows locked memory (VmLck, one read, ~30 us):
 *      mlock or MAP_LOCKED by any means; and when mlockall(MCL_FUTURE) is
 *      on, by any means, the probe page mapped just before that read;
 *   3. /proc/self/ksm_stat says "ksm_mergeable: yes" (~15 us): KSM advice
 *      by any means (PR_SET_MEMORY_MERGE too);
 *   4. a mapping is larger than RAM + swap: it could be mapped again only
 *      with MAP_NORESERVE, which smaps alone shows.  Sanitizers, Go and
 *      JVMs make such reservations, and give their advice by raw system
 *      calls (ASan: DONTDUMP and NOHUGEPAGE on its shadow);
 *   5. CKPT_SMAPS=1 (shim_config.c);
 *   6. no PAGEMAP_SCAN but guard regions (the test library only).
 * What smaps says of each mapping's size (Rss and Swap 0: it holds no
 * page) and of guard regions ("gu") is kept too (ckpt_vma.smaps).
 * Otherwise advice given by a raw system call in a process with none of
 * these signs (DONTDUMP, HUGEPAGE, NOHUGEPAGE, WIPEONFORK, SEQUENTIAL,
 * RANDOM, mseal) is not seen, and a restart maps that memory as plain
 * (docs/SUPPORT.md); raw MADV_DONTFORK is still caught by the forked
 * writer (ckpt_core.c).  The maximum protection of a shared file mapping
 * that is not writable now needs no smaps: mprotect() of its first page
 * to writable tells (EACCES: the file is read-only), and a second one
 * puts it back (the kernel merges the split VMA again).
 *
 * Invariants: the other threads are parked, so the map read by
 * ckpt_maps_read() is the one smaps shows, but for the probe page (made
 * here, gone before this returns) and libckpt's scratch; every VMA the
 * checkpoint saves lies inside one smaps entry.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_uffd.h"

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD	(1 << 8)
#endif

/* The value after `key` in a /proc text (in buf), or -1 if absent. */
static int64_t proc_field(const char *buf, const char *key)
{
	size_t n = ckpt_strlen(key);

	for (const char *p = buf; *p; p++) {
		if ((p == buf || p[-1] == '\n') && ckpt_memeq(p, key, n)) {
			p += n;
			while (*p == ' ' || *p == '\t')
				p++;
			return ckpt_parse_dec(&p);
		}
	}
	return -1;
}

static int ksm_mergeable(struct ckpt_ctx *c)
{
	const char *key = "ksm_mergeable: yes";
	char *buf = (char *)c->bounce;
	ssize_t n = ckpt_read_file("/proc/self/ksm_stat", buf, 4096);

	for (ssize_t i = 0; n > 0 && i + 18 <= n; i++)
		if ((i == 0 || buf[i - 1] == '\n') && ckpt_memeq(buf + i, key, 18))
			return 1;
	return 0;
}

/* Larger than RAM + swap: mapped again only with MAP_NORESERVE (sign 4). */
static int has_huge_mapping(struct ckpt_ctx *c)
{
	struct ckpt_sysinfo si;
	uint64_t limit;

	if (arch_sys1(SYS_sysinfo, &si) < 0)
		return 1;		/* cannot tell: read smaps */
	limit = (si.totalram + si.totalswap) * (si.mem_unit ? si.mem_unit : 1);
	for (int i = 0; i < c->nvmas; i++)
		if (c->vmas[i].end - c->vmas[i].start > limit)
			return 1;
	return 0;
}

/*
 * Sign 6: no PAGEMAP_SCAN, yet the kernel has guard regions (only the
 * test library, ckpt_kfeat.h): smaps' "gu" says which mappings to scan.
 */
static int guards_unseen(void)
{
	static int unseen = -1;

	if (unseen < 0)
		unseen = !ckpt_pm_scan_level() && arch_sys3(SYS_madvise, 0, 0, 102) == 0;
	return unseen;
}

/* Signs 1-6 above: 1 when smaps must be read. */
static int vmflags_needed(struct ckpt_ctx *c)
{
	ssize_t n;

	if (c->smaps_always || c->mem_advised)
		return 1;
	n = ckpt_read_file("/proc/self/status", (char *)c->bounce, 8192);
	if (n < 0 || proc_field((const char *)c->bounce, "VmLck:") != 0)
		return 1;
	return ksm_mergeable(c) || has_huge_mapping(c) || guards_unseen();
}

static const struct { char name[3]; uint32_t bit; } vmflag_bits[] = {
	{ "dc", IMG_VMA_ATTR_DONTFORK }, { "dd", IMG_VMA_ATTR_DONTDUMP },
	{ "hg", IMG_VMA_ATTR_HUGEPAGE }, { "nh", IMG_VMA_ATTR_NOHUGEPAGE },
	{ "wf", IMG_VMA_ATTR_WIPEONFORK }, { "mg", IMG_VMA_ATTR_MERGEABLE },
	{ "sr", IMG_VMA_ATTR_SEQUENTIAL }, { "rr", IMG_VMA_ATTR_RANDOM },
	{ "lo", IMG_VMA_ATTR_LOCKED }, { "lf", IMG_VMA_ATTR_LOCKONFAULT },
	{ "nr", IMG_VMA_ATTR_NORESERVE }, { "sl", IMG_VMA_ATTR_SEALED },
	{ "mw", IMG_VMA_ATTR_MAYWRITE },
};

/* Internal: "ss", a shadow stack, which is refused. */
#define MEMATTR_SHADOW_STACK	0x80000000u

struct vmflags_walk {
	struct ckpt_ctx *c;
	int i;				/* next VMA to give attributes */
	uint64_t probe;			/* the probe page, 0 if none */
	uint32_t probe_attrs;
};

static int vmflags_one(uint64_t start, uint64_t end, const char *flags, void *arg)
{
	struct vmflags_walk *w = arg;
	struct ckpt_ctx *c = w->c;
	uint32_t a = IMG_VMA_ATTR_VMFLAGS, sm;
	uint64_t rss, swap;

	for (size_t k = 0; k < sizeof(vmflag_bits) / sizeof(vmflag_bits[0]); k++)
		if (ckpt_vmflag(flags, vmflag_bits[k].name))
			a |= vmflag_bits[k].bit;
	if (ckpt_vmflag(flags, "ss"))
		a |= MEMATTR_SHADOW_STACK;
	if (w->probe >= start && w->probe < end)
		w->probe_attrs = a;
	ckpt_smaps_sizes(&rss, &swap);
	sm = CKPT_SM_SEEN | (rss == 0 && swap == 0 ? CKPT_SM_EMPTY : 0) |
	     (ckpt_vmflag(flags, "gu") ? CKPT_SM_GUARD : 0);
	/* the VMAs cut from this entry: itself, or the pieces around the scratch */
	for (; w->i < c->nvmas && c->vmas[w->i].start < end; w->i++)
		if (c->vmas[w->i].start >= start) {
			c->vmas[w->i].attrs = a;
			c->vmas[w->i].smaps = sm;
		}
	return 0;
}

/* Keeps only what each kind of mapping can have (img_read.c checks the same). */
static int vmflags_finish(struct ckpt_ctx *c, struct ckpt_vma *v)
{
	const uint32_t special = IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK;
	int shared_file = (v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE)) ==
			  (IMG_VMA_SHARED | IMG_VMA_FILE);

	if (v->attrs & MEMATTR_SHADOW_STACK)
		return ckpt_fail(c, -ENOTSUP, "mapping %lx-%lx is a shadow stack (x86 CET); "
				 "libckpt cannot restore shadow stacks", (unsigned long)v->start,
				 (unsigned long)v->end);
	if (v->flags & special)
		v->attrs &= IMG_VMA_ATTR_VMFLAGS;
	if (!shared_file)
		v->attrs &= ~IMG_VMA_ATTR_MAYWRITE;
	if (v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE))
		v->attrs &= ~IMG_VMA_ATTR_WIPEONFORK;	/* the kernel refuses it there */
	return 0;
}

/*
 * Without smaps: may this shared file mapping be made writable?  Its first
 * page made writable and back (EACCES: the file is read-only; EPERM: it is
 * sealed, and will never be writable).
 */
static int may_write(const struct ckpt_vma *v)
{
	/*
	 * A SysV attach whole: the kernel never merges its pieces again (its
	 * vm_ops close), so a first page made writable and back would stay a
	 * mapping of its own, one more attach in the segment's nattch.
	 */
	uint64_t len = v->byid == CKPT_BYID_SYSV ? v->end - v->start : IMG_PAGE_SIZE;

	if (v->prot & PROT_WRITE)
		return 1;
	if (arch_sys3(SYS_mprotect, v->start, len, v->prot | PROT_WRITE) < 0)
		return 0;
	arch_sys3(SYS_mprotect, v->start, len, v->prot);
	return 1;
}

int ckpt_memattr_read(struct ckpt_ctx *c)
{
	struct vmflags_walk w = { c, 0, 0, 0 };
	long probe;
	int r = 0;

	c->vmflags = 0;
	c->mcl = 0;
	for (int i = 0; i < c->nvmas; i++) {
		c->vmas[i].attrs = 0;
		c->vmas[i].smaps = 0;
	}
	/*
	 * With mlockall(MCL_FUTURE) on, this page is locked (and counts in
	 * VmLck); smaps then says so, and whether MCL_ONFAULT is on too.
	 * EAGAIN: locked memory is at RLIMIT_MEMLOCK already, which only
	 * MCL_FUTURE makes an mmap meet.
	 */
	probe = arch_sys6(SYS_mmap, 0, IMG_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (probe == -EAGAIN)
		c->mcl = IMG_MCL_FUTURE | IMG_MCL_ONFAULT;
	else if (probe < 0 && probe > -4096)
		probe = 0;
	w.probe = probe > 0 ? (uint64_t)probe : 0;
	if (vmflags_needed(c)) {
		r = ckpt_smaps_each(c, vmflags_one, &w);
		if (r < 0)
			ckpt_fail(c, r, "cannot read /proc/self/smaps for the memory's attributes");
		else
			c->vmflags = 1;
	}
	if (w.probe)
		arch_sys2(SYS_munmap, w.probe, IMG_PAGE_SIZE);
	if (r < 0)
		return c->error;
	for (int i = 0; i < c->nvmas; i++) {
		struct ckpt_vma *v = &c->vmas[i];

		if (!c->vmflags && (v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE)) ==
		    (IMG_VMA_SHARED | IMG_VMA_FILE) && may_write(v))
			v->attrs |= IMG_VMA_ATTR_MAYWRITE;
		if (vmflags_finish(c, v) < 0)
			return c->error;
	}
	/* the flags libc saw are exact; the probe's, where mlockall was raw */
	if (c->mem_mcl >= 0)
		c->mcl = (c->mem_mcl & MCL_FUTURE ? IMG_MCL_FUTURE : 0) |
			 (c->mem_mcl & MCL_FUTURE && c->mem_mcl & MCL_ONFAULT ? IMG_MCL_ONFAULT : 0);
	else if (w.probe_attrs & IMG_VMA_ATTR_LOCKED)
		c->mcl = IMG_MCL_FUTURE |
			 (w.probe_attrs & IMG_VMA_ATTR_LOCKONFAULT ? IMG_MCL_ONFAULT : 0);
	return 0;
}

int ckpt_memattr_write(struct ckpt_ctx *c)
{
	struct img_mlock m = { c->mcl, 0 };

	if (c->mcl)
		img_write_record(&c->w, IMG_REC_MLOCK, &m, sizeof(m), NULL, 0);
	return c->w.error;
}

#define GVEC_LEN	4096u	/* guard regions per PAGEMAP_SCAN */

/*
 * One PAGEMAP_SCAN over the rest of the address space (from the VMA being
 * written to the end of the last one) returns the guard regions of many
 * VMAs at once: holes and pages without guards cost nothing but the walk
 * of their page tables (~1 ms per populated GiB here).  c->gvec holds
 * what a scan returned; VMAs consume it in address order.
 */
static int guards_refill(struct ckpt_ctx *c, uint64_t from)
{
	uint64_t end = c->vmas[c->nvmas - 1].end;
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = from, .end = end,
		.vec = (uintptr_t)c->gvec, .vec_len = GVEC_LEN,
		.category_mask = PAGE_IS_GUARD, .return_mask = PAGE_IS_GUARD,
	};
	long n;

	do
		n = arch_sys3(SYS_ioctl, c->pagemap_fd, PAGEMAP_SCAN, &a);
	while (n == -EINTR);
	if (n < 0)
		return ckpt_fail(c, (int)n, "cannot scan for guard regions (PAGEMAP_SCAN at %lx)",
				 (unsigned long)from);
	c->gscan_n = n;
	c->gscan_i = 0;
	/* walk_end is end when the walk finished; less when vec filled up */
	c->gscan_next = a.walk_end > from ? a.walk_end : end;
	return 0;
}

/* One more guard range [s, e) of v into out[*n], joined to the last if they touch. */
static int guard_add(struct ckpt_ctx *c, const struct ckpt_vma *v, struct img_range *out,
		     uint32_t *n, uint64_t s, uint64_t e)
{
	if (*n && out[*n - 1].end == s) {
		out[*n - 1].end = e;
		return 0;
	}
	if (*n == IMG_VMA_GUARDS_MAX)
		return ckpt_fail(c, -E2BIG, "mapping %lx-%lx has more than %u guard regions "
				 "(MADV_GUARD_INSTALL)", (unsigned long)v->start,
				 (unsigned long)v->end, IMG_VMA_GUARDS_MAX);
	out[(*n)++] = (struct img_range){ s, e };
	return 0;
}

/*
 * Without PAGEMAP_SCAN: the guard regions of a mapping that smaps says
 * may have some (VmFlags "gu", Linux 6.18), from pagemap's guard bit
 * (6.15), 128 Ki pages a read.  Only the test library meets this (a kernel
 * without PAGEMAP_SCAN, 6.7, has no guard regions, 6.13): it costs ~2 s
 * per TiB of such a mapping.
 */
static int guards_pagemap(struct ckpt_ctx *c, const struct ckpt_vma *v, struct img_range *out)
{
	const size_t per = CKPT_MCVEC_LEN / 8;	/* entries a read, into c->mcvec */
	const uint64_t *pm = (const uint64_t *)c->mcvec;
	uint64_t npages = (v->end - v->start) / IMG_PAGE_SIZE;
	uint32_t n = 0;

	for (uint64_t done = 0; done < npages; done += per) {
		uint64_t base = v->start + done * IMG_PAGE_SIZE;
		size_t k = npages - done < per ? npages - done : per;

		for (size_t got = 0; got < k * 8;) {
			ssize_t r = pread(c->pagemap_fd, c->mcvec + got, k * 8 - got,
					  (off_t)(base / IMG_PAGE_SIZE) * 8 + got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return ckpt_fail(c, r < 0 ? -errno : -EIO, "cannot read "
						 "/proc/self/pagemap at %lx", (unsigned long)base);
			got += r;
		}
		for (size_t i = 0; i < k; i++)
			if (ckpt_pm_guard(pm[i]) &&
			    guard_add(c, v, out, &n, base + i * IMG_PAGE_SIZE,
				      base + (i + 1) * IMG_PAGE_SIZE) < 0)
				return -1;
	}
	return n;
}

int ckpt_memattr_guards(struct ckpt_ctx *c, const struct ckpt_vma *v, struct img_range *out)
{
	uint32_t n = 0;

	if (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK))
		return 0;
	if (!ckpt_pm_scan_level())
		return v->smaps & CKPT_SM_GUARD ? guards_pagemap(c, v, out) : 0;
	if (!(ckpt_pm_scan_level() & 2))
		return 0;
	for (;;) {
		for (; c->gscan_i < c->gscan_n; c->gscan_i++) {
			const struct page_region *g = &c->gvec[c->gscan_i];
			uint64_t s = g->start > v->start ? g->start : v->start;
			uint64_t e = g->end < v->end ? g->end : v->end;

			if (g->end <= v->start)
				continue;
			if (g->start >= v->end)
				return n;
			if (guard_add(c, v, out, &n, s, e) < 0)
				return -1;
			if (g->end > v->end)
				return n;	/* the region goes on into the next VMA */
		}
		if (c->gscan_next >= v->end)
			return n;
		if (guards_refill(c, c->gscan_next > v->start ? c->gscan_next : v->start) < 0)
			return -1;
	}
}
