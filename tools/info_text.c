/*
 * info_text.c - the summary for people (ckpt-info).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ucontext.h>
#include "tools/info.h"


/* Bytes of s: printable ASCII and well-formed UTF-8 as they are, every
 * other byte (control characters, broken UTF-8, backslash) as \xNN, so
 * that one item stays on one line whatever a path contains. */
static void txt_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; ) {
		size_t len = p[i] >= 0x80 ? info_utf8_len(p, n, i) : 0;

		if (len) {
			fwrite(p + i, 1, len, stdout);
			i += len;
		} else if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\') {
			printf("\\x%02x", p[i++]);
		} else {
			putchar(p[i++]);
		}
	}
}

static void txt_size(uint64_t b)
{
	if (b < 10240)
		printf("%llu B", (unsigned long long)b);
	else if (b < 10ull << 20)
		printf("%.1f KiB", b / 1024.0);
	else if (b < 10ull << 30)
		printf("%.1f MiB", b / 1048576.0);
	else
		printf("%.1f GiB", b / 1073741824.0);
}

static void txt_flags(uint64_t v, const struct info_flag *f)
{
	int any = 0;

	for (; f->name; f++)
		if ((v & f->bit) == f->bit && f->bit) {
			printf("%s%s", any ? "|" : "", f->name);
			v &= ~f->bit;
			any = 1;
		}
	if (v)
		printf("%s0x%llx", any ? "|" : "", (unsigned long long)v);
	else if (!any)
		printf("0");
}

static void txt_sigset(uint64_t set)
{
	char buf[32];
	int any = 0;

	for (int s = 1; s <= 64; s++)
		if (set & (1ull << (s - 1))) {
			printf("%s%s", any ? " " : "", info_signame(s, buf, sizeof(buf)));
			any = 1;
		}
	if (!any)
		printf("none");
}

static void txt_time(uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[64];

	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		printf("%s.%09llu UTC", buf, (unsigned long long)(ns % 1000000000u));
	else
		printf("%llu ns", (unsigned long long)ns);
}

/* Filters on the chain ending at leaf. */
static int sc_depth(const struct info *in, int leaf)
{
	int n = 0;

	for (; leaf >= 0 && (size_t)leaf < in->nsc; leaf = in->sc[leaf].parent)
		n++;
	return n;
}

static void txt_proc_attr(const struct info *in)
{
	const struct img_proc_attr *a = &in->pattr;
	static const char *const thp[4] = { "no", "yes", "?", "except where advised" };

	if (!in->has_pattr) {
		printf("  attributes: not recorded (an image without a PROC_ATTR record)\n");
		return;
	}
	printf("  attributes:\n    oom_score_adj %d  dumpable %u  coredump_filter 0x%x  "
	       "THP disabled: %s\n", a->oom_score_adj, a->dumpable, a->coredump_filter,
	       thp[a->thp_disable & 3]);
	printf("    MDWE 0x%x  child subreaper: %s  KSM for all memory: %s  "
	       "timer id restore: %s\n", a->mdwe, a->flags & IMG_PA_SUBREAPER ? "yes" : "no",
	       a->flags & IMG_PA_MEMORY_MERGE ? "yes" : "no",
	       a->flags & IMG_PA_TIMER_IDS ? "on" : "off");
	printf("    futex hash: ");
	if (a->flags & IMG_PA_FUTEX_HASH)
		printf("%u slots (set by the process)", a->futex_slots);
	else
		printf("the kernel's");
	printf("  membarrier: ");
	txt_flags(a->membarrier, info_membarrier_flags);
	printf("\n    CPU time: %.6f s (user %.6f s, system %.6f s; children user %.6f s, "
	       "system %.6f s)\n", a->cpu_ns / 1e9, a->utime_ns / 1e9, a->stime_ns / 1e9,
	       a->cutime_ns / 1e9, a->cstime_ns / 1e9);
	printf("    seccomp: %zu filter%s of its own (%llu instructions), %u inherited "
	       "(not in the image)\n", in->nsc, in->nsc == 1 ? "" : "s",
	       (unsigned long long)in->sc_insns, a->seccomp_inherited);
	for (size_t i = 0; i < in->nsc; i++) {
		char over[32] = "none";

		if (in->sc[i].parent >= 0)
			snprintf(over, sizeof(over), "filter %d", in->sc[i].parent);
		printf("      filter %zu: %u instructions, installed with %s, flags 0x%x, over %s\n",
		       i, in->sc[i].ninsns, in->sc[i].how == IMG_SECCOMP_PRCTL ? "prctl" : "seccomp",
		       in->sc[i].flags, over);
	}
}

static void txt_thread_attr(const struct info *in, const struct img_thread *t)
{
	char buf[256];

	if (!in->has_pattr)
		return;
	if (t->attr_flags & IMG_TA_AFFINITY)
		info_bitlist(t->affinity, IMG_CPU_WORDS, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "all");
	printf("    CPUs %s  personality 0x%x  timer slack %llu ns  I/O %s %u  MCE %s  TSC %s\n",
	       buf, t->personality, (unsigned long long)t->timer_slack_ns,
	       info_ioprio_class(t->ioprio), t->ioprio & 7, info_mce_kill(t->mce_kill),
	       t->tsc == 2 ? "SIGSEGV" : t->tsc == 1 ? "enabled" : "?");
	printf("    death signal %s  securebits ",
	       t->pdeathsig ? info_signame(t->pdeathsig, buf, sizeof(buf)) : "none");
	txt_flags(t->securebits, info_securebits_flags);
	printf("  no_new_privs %s  IO_FLUSHER %s  speculation 0x%x/0x%x/0x%x\n",
	       t->attr_flags & IMG_TA_NO_NEW_PRIVS ? "yes" : "no",
	       t->attr_flags & IMG_TA_IO_FLUSHER ? "yes" : "no", t->spec[0], t->spec[1], t->spec[2]);
	printf("    seccomp: ");
	if (t->seccomp_mode == 2)
		printf("filter %d (%d of its own)", t->seccomp_leaf, sc_depth(in, t->seccomp_leaf));
	else
		printf("off");
	printf("  syscall user dispatch: ");
	if (t->sud_mode)
		printf("mode %u, 0x%llx+%llu, selector 0x%llx", t->sud_mode,
		       (unsigned long long)t->sud_offset, (unsigned long long)t->sud_len,
		       (unsigned long long)t->sud_selector);
	else
		printf("off");
	info_bitlist(t->mem_nodes, IMG_NODE_WORDS, buf, sizeof(buf));
	printf("  NUMA policy 0x%x%s%s  CPU time %.6f s\n", t->mempolicy, buf[0] ? " nodes " : "",
	       buf, t->cpu_ns / 1e9);
}

/* A mapping's attributes by their VmFlags names ("[lo lf dd]"), its guard regions. */
static void txt_vma_attrs(const struct info_vma *v)
{
	uint32_t a = v->v.attrs & ~IMG_VMA_ATTR_VMFLAGS;
	uint64_t guarded = 0;

	if (a) {
		printf("  [");
		for (const struct info_flag *f = info_vma_attrs; f->name; f++)
			if (a & f->bit)
				printf("%s%s", (a & (f->bit - 1)) ? " " : "", f->name);
		printf("]");
	}
	if (!v->v.nguards)
		return;
	for (uint32_t k = 0; k < v->v.nguards; k++)
		guarded += v->guards[k].end - v->guards[k].start;
	printf("  %u guard region%s, %llu pages", v->v.nguards, v->v.nguards > 1 ? "s" : "",
	       (unsigned long long)(guarded / IMG_PAGE_SIZE));
}

void txt_print(const struct info *in)
{
	char desc[400];
	const struct img_header *h = &in->hdr;
	const struct img_proc *p = &in->proc;
	char buf[32];

	printf("image:     %s, %llu bytes, format version %u, x86_64, %u-byte pages\n",
	       in->name, (unsigned long long)in->image_bytes, h->version, h->page_size);
	printf("created:   ");
	txt_time(h->ctime_ns);
	printf("\nkernel:    ");
	txt_str(h->kernel, strnlen(h->kernel, sizeof(h->kernel)));
	printf("\npid:       %d\n", h->pid);
	printf("flags:     %s", h->flags & IMG_F_SELF ?
	       "self (taken by ckpt_save() in the process)" : "none (taken from outside)");
	if (h->flags & IMG_F_PIDNS)
		printf(", pidns (pid %d of its own user+pid namespace: ckpt-restart makes "
		       "a new one)", h->pid);
	if (h->flags & IMG_F_MAPPABLE)
		printf(", mappable (ckpt-restart maps its memory from the file)");
	if (h->flags & IMG_F_INCREMENTAL)
		printf(", incremental (pages changed since its parent)");
	if (h->flags & IMG_F_CTTY)
		printf(", ctty (led its session on its terminal: a restart gives it ckpt-restart's)");
	printf("\n");
	{
		char pids[256], timers[256];
		const char *b = info_assist(in, pids, sizeof(pids), timers, sizeof(timers));

		printf("restart:   here, pids by %s: %s\n", b, pids);
		if (timers[0])
			printf("           POSIX timer ids through %s\n", timers);
	}
	if (in->sealed) {
		char id[33];

		printf("seal:      key %s, process uid %u gid %u: %s\n",
		       info_key_id(&in->seal, id), in->seal.uid, in->seal.gid,
		       in->seal_verified ? "verified" : "not verified (give --key FILE)");
	}
	if (in->has_parent) {
		printf("parent:    ");
		txt_str(in->parent_path.s, in->parent_path.n);
		printf("  (pid %d, created ", in->parent.pid);
		txt_time(in->parent.ctime_ns);
		printf(", header crc 0x%08x)\n           %u inherited ranges, %llu bytes\n",
		       in->parent.hdr_crc, in->parent.nranges, (unsigned long long)in->inherited);
	}

	printf("\nprocess:   ");
	txt_str(p->comm, strnlen(p->comm, sizeof(p->comm)));
	printf("  pid %d  ppid %d  pgid %d  sid %d  uid %u  gid %u\n",
	       p->pid, p->ppid, p->pgid, p->sid, p->uid, p->gid);
	printf("  groups: ");
	for (uint32_t i = 0; i < p->ngroups; i++)
		printf(" %u", in->groups[i]);
	printf("%s\n", p->ngroups ? "" : " (none)");
	printf("  cwd:     ");
	txt_str(in->cwd.s, in->cwd.n);
	printf("\n  exe:     ");
	txt_str(in->exe.s, in->exe.n);
	printf("\n  umask:   %04o\n", p->umask);
	printf("  threads: %u   checkpoint signal: %s (%d)\n", p->nthreads,
	       p->ckpt_signal > 0 ? info_signame(p->ckpt_signal, buf, sizeof(buf)) : "none",
	       p->ckpt_signal);
	printf("  mm:      code 0x%llx-0x%llx  data 0x%llx-0x%llx  brk 0x%llx-0x%llx\n",
	       (unsigned long long)p->mm.start_code, (unsigned long long)p->mm.end_code,
	       (unsigned long long)p->mm.start_data, (unsigned long long)p->mm.end_data,
	       (unsigned long long)p->mm.start_brk, (unsigned long long)p->mm.brk);
	printf("           stack 0x%llx  args 0x%llx-0x%llx  env 0x%llx-0x%llx\n",
	       (unsigned long long)p->mm.start_stack,
	       (unsigned long long)p->mm.arg_start, (unsigned long long)p->mm.arg_end,
	       (unsigned long long)p->mm.env_start, (unsigned long long)p->mm.env_end);
	printf("  auxv:    %u words\n", p->auxv_words);
	printf("  rlimits (not unlimited):");
	int any = 0;
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		const struct img_rlimit *l = &p->rlim[i];

		if (l->cur == ~0ull && l->max == ~0ull)
			continue;
		printf("\n    %-11s soft ", info_rlimit_name(i));
		l->cur == ~0ull ? printf("unlimited") : printf("%llu", (unsigned long long)l->cur);
		printf("  hard ");
		l->max == ~0ull ? printf("unlimited") : printf("%llu", (unsigned long long)l->max);
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
	printf("  signal handlers (not SIG_DFL):");
	any = 0;
	for (int s = 1; s <= IMG_NSIG; s++) {
		const struct img_sigaction *a = &p->sigact[s - 1];

		if (a->handler == 0)
			continue;
		printf("\n    %-12s ", info_signame(s, buf, sizeof(buf)));
		if (a->handler == 1) {
			printf("SIG_IGN");
		} else {
			printf("handler 0x%llx  flags ", (unsigned long long)a->handler);
			txt_flags(a->flags, info_sa_flags);
			printf("  mask ");
			txt_sigset(a->mask);
		}
		any = 1;
	}
	printf("%s\n", any ? "" : " none");
	printf("  pending: ");
	txt_sigset(p->sigpending);
	printf("\n");
	txt_proc_attr(in);

	printf("\nthreads (%zu):\n", in->nthr);
	for (size_t i = 0; i < in->nthr; i++) {
		const struct img_thread *t = &in->thr[i];

		printf("  tid %d%s  rip 0x%llx  rsp 0x%llx  fs_base 0x%llx\n", t->tid,
		       t->flags & IMG_THREAD_LEADER ? " (leader)" : "",
		       (unsigned long long)t->gregs[REG_RIP], (unsigned long long)t->gregs[REG_RSP],
		       (unsigned long long)t->fs_base);
		printf("    blocked: ");
		txt_sigset(t->sigmask);
		printf("\n    pending: ");
		txt_sigset(t->sigpending);
		printf("\n    rseq: ");
		if (t->rseq_len)
			printf("0x%llx (%u bytes, sig 0x%x)", (unsigned long long)t->rseq_addr,
			       t->rseq_len, t->rseq_sig);
		else
			printf("none");
		printf("  xstate: %u bytes (xfeatures 0x%llx)\n", t->fpstate_len,
		       (unsigned long long)t->xfeatures);
		txt_thread_attr(in, t);
		info_bt_text(in, t);
	}

	printf("\nqueued signals (%zu):\n", in->nsig);
	for (size_t i = 0; i < in->nsig; i++) {
		struct info_sig f;

		info_sig_fields(&in->sigs[i], &f);
		if (in->sigs[i].tid)
			printf("  thread %-7d ", in->sigs[i].tid);
		else
			printf("  process        ");
		printf("%-12s code %d  pid %d  uid %u  value %lld\n",
		       info_signame(f.signo, buf, sizeof(buf)), f.code, f.pid, f.uid, f.value);
	}

	printf("\ntimers (%zu):\n", in->ntimer);
	for (size_t i = 0; i < in->ntimer; i++) {
		const struct img_timer *t = &in->timers[i];

		if (t->kind == IMG_TIMER_POSIX)
			printf("  POSIX %-6d clock %d  notify %s", t->id, t->clock, info_timer_notify(t));
		else
			printf("  %-14s", info_timer_kind(t));
		if (t->kind == IMG_TIMER_POSIX && t->notify != IMG_SIGEV_NONE)
			printf(" %s value %lld", info_signame(t->signo, buf, sizeof(buf)),
			       (long long)t->sigval);
		if (t->notify_tid)
			printf(" to thread %d", t->notify_tid);
		printf("  left %.6f s  every %.6f s\n", (double)t->value_ns / 1e9,
		       (double)t->interval_ns / 1e9);
	}

	printf("\nfds (%zu):\n", in->nfd);
	for (size_t i = 0; i < in->nfd; i++) {
		const struct info_fd *d = &in->fds[i];
		const struct info_file *f = &in->files[d->file];
		int shared = info_fd_shared_with(in, d);

		printf("  %3d  %-4s  ", d->d.fd, info_fd_kind(f->f.kind));
		txt_str(f->path.s, f->path.n);
		printf("  flags %s", info_accmode(f->f.flags));
		if (f->f.flags & ~(uint32_t)O_ACCMODE) {
			printf("|");
			txt_flags(f->f.flags & ~(uint32_t)O_ACCMODE, info_open_flags);
		}
		printf("%s  offset %lld", d->d.fdflags & IMG_FD_CLOEXEC ? " cloexec" : "",
		       (long long)f->f.pos);
		if (shared >= 0)
			printf("  (same open file as fd %d)", shared);
		if (f->f.kind == IMG_FILE_INHERIT)
			printf("  (ckpt-restart's own fd %d at restart)", d->d.fd);
		info_file_desc(in, f, desc, sizeof(desc));
		if (desc[0])
			printf("\n       %s", desc);
		if (shared < 0)
			info_evfd_text(f);	/* an inotify fd's watches */
		printf("\n");
	}
	/* then those no fd holds: mapped ones, and those in flight on unix sockets */
	for (int flight = 0; flight < 2; flight++) {
		for (size_t i = 0, n = 0; i < in->nfile; i++) {
			const struct info_file *f = &in->files[i];

			if (f->nfds || !f->inflight != !flight || (f->owner >= 0 && !f->nmaps))
				continue;	/* (a FILE of an earlier section, copied to check it) */
			if (!n++)
				printf(flight ? "\nfiles in flight (queued unix messages carry them):\n" :
				       "\nfiles only mappings hold:\n");
			printf("  file %u  %-7s  ", f->f.id, info_fd_kind(f->f.kind));
			txt_str(f->path.s, f->path.n);
			info_file_desc(in, f, desc, sizeof(desc));
			printf("\n       %s\n", desc);
		}
	}

	info_epoll_txt(in);
	if (in->nlock)
		printf("\nlocks (%zu):\n", in->nlock);
	for (size_t i = 0; i < in->nlock; i++) {
		const struct img_lock *l = &in->locks[i];
		const struct info_file *f = info_file(in, l->file);
		char range[64];

		img_lock_range(l, range, sizeof(range));
		printf("  %3d  %-5s  %-5s  %-24s  ", info_file_fd(in, l->file),
		       img_lock_kind_name(l->kind), img_lock_type_name(l->type), range);
		txt_str(f->path.s, f->path.n);
		if (l->kind == IMG_LOCK_LEASE)
			printf("  break signal %s", l->sig ? info_signame(l->sig, range, sizeof(range)) :
			       "SIGIO");
		printf("\n");
	}

	info_ipc_text(in);

	printf("\nmemory map (%zu areas):\n", in->nvma);
	size_t known = 0;

	for (size_t i = 0; i < in->nvma; i++)
		known += !!(in->vmas[i].v.attrs & IMG_VMA_ATTR_VMFLAGS);
	if (in->nvma && !known)
		printf("  (madvise flags, locks and NORESERVE were not read: the process showed "
		       "no sign of them)\n");
	printf("  %-33s %-4s %10s %7s %10s %10s  %s\n", "range", "perm", "size",
	       "pages", "raw", "stored", "what");
	for (size_t i = 0; i < in->nvma; i++) {
		const struct info_vma *v = &in->vmas[i];
		char perm[5];

		info_perm(&v->v, perm);
		printf("  %016llx-%016llx %-4s %10llu %7llu %10llu %10llu  ",
		       (unsigned long long)v->v.start, (unsigned long long)v->v.end, perm,
		       (unsigned long long)(v->v.end - v->v.start),
		       (unsigned long long)v->pages, (unsigned long long)v->raw,
		       (unsigned long long)v->stored);
		if (v->path.n)
			txt_str(v->path.s, v->path.n);
		else
			printf("%s", info_vma_kind(&v->v));
		if (v->zero_pages)
			printf("  (%llu zero pages)", (unsigned long long)v->zero_pages);
		if (v->v.file)
			printf("  (file %u: %s)", v->v.file,
			       info_fd_kind(info_file_by_id(in, v->v.file)->f.kind));
		if (img_vma_sysv(&v->v, v->path.s))
			printf("  (SysV shm %llu%s)", (unsigned long long)v->v.ino,
			       (v->v.attrs & IMG_VMA_ATTR_MAYWRITE) || (v->v.prot & 2) ? "" :
			       ", SHM_RDONLY");
		txt_vma_attrs(v);
		printf("\n");
	}
	if (in->mlock_mcl)
		printf("  mlockall: MCL_FUTURE%s (mappings made later are locked)\n",
		       in->mlock_mcl & IMG_MCL_ONFAULT ? "|MCL_ONFAULT" : "");

	printf("\ntotals:\n  mapped:    ");
	txt_size(in->mapped);
	printf(" in %zu areas\n", in->nvma);
	printf("  stored:    %llu pages (%llu of them zero, no data)\n",
	       (unsigned long long)in->pages, (unsigned long long)in->zero_pages);
	printf("  page data: ");
	txt_size(in->raw);
	printf(" in memory, ");
	txt_size(in->stored);
	printf(" in the image");
	if (in->stored)
		printf(" (ratio %.2f:1)", (double)in->raw / (double)in->stored);
	printf("\n  image:     ");
	txt_size(in->image_bytes);
	printf("\n  verified:  %s\n", in->verify ? "all page data decodes" :
	       "page data not decoded (--no-verify)");
}

/* ---- JSON output ---- */

