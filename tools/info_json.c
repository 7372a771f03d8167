/*
 * info_json.c - the summary as one JSON object, for scripts (ckpt-info --json).
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

/*
 * A JSON string of n bytes.  Valid UTF-8 passes through; control bytes
 * are escaped; a byte that is not part of valid UTF-8 becomes U+FFFD,
 * since JSON text must be Unicode (paths on Linux need not be).
 */
static void json_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (size_t i = 0; i < n; ) {
		unsigned char c = p[i];
		size_t len;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': printf("\\n"); break;
			case '\t': printf("\\t"); break;
			case '\r': printf("\\r"); break;
			default:   printf("\\u%04x", c); break;
			}
			i++;
			continue;
		}
		if (c < 0x80) {
			putchar(c);
			i++;
			continue;
		}
		len = info_utf8_len(p, n, i);
		if (len) {
			fwrite(p + i, 1, len, stdout);
			i += len;
		} else {
			printf("\\ufffd");
			i++;
		}
	}
	putchar('"');
}

static void json_cstr(const char *s)
{
	json_str(s, strlen(s));
}

static void json_sigset(uint64_t set)
{
	char buf[32];
	int any = 0;

	putchar('[');
	for (int s = 1; s <= 64; s++)
		if (set & (1ull << (s - 1))) {
			printf("%s", any ? ", " : "");
			json_cstr(info_signame(s, buf, sizeof(buf)));
			any = 1;
		}
	putchar(']');
}

static void json_flags(uint64_t v, const struct info_flag *f, const char *first)
{
	int any = 0;

	putchar('[');
	if (first) {
		json_cstr(first);
		any = 1;
	}
	for (; f->name; f++)
		if ((v & f->bit) == f->bit && f->bit) {
			printf("%s", any ? ", " : "");
			json_cstr(f->name);
			v &= ~f->bit;
			any = 1;
		}
	if (v)
		printf("%s\"0x%llx\"", any ? ", " : "", (unsigned long long)v);
	putchar(']');
}

#define U(x) ((unsigned long long)(x))

static void json_words(const uint64_t *w, int n)
{
	char buf[1024];

	info_bitlist(w, n, buf, sizeof(buf));
	json_cstr(buf);
}

static void json_proc_attr(const struct info *in)
{
	const struct img_proc_attr *a = &in->pattr;

	if (!in->has_pattr) {
		printf("    \"attributes\": null,\n");
		return;
	}
	printf("    \"attributes\": {\"oom_score_adj\": %d, \"dumpable\": %u, "
	       "\"coredump_filter\": %u, \"thp_disable\": %u, \"mdwe\": %u,\n"
	       "      \"child_subreaper\": %s, \"memory_merge\": %s, \"timer_restore_ids\": %s, "
	       "\"membarrier\": ", a->oom_score_adj, a->dumpable, a->coredump_filter,
	       a->thp_disable, a->mdwe, a->flags & IMG_PA_SUBREAPER ? "true" : "false",
	       a->flags & IMG_PA_MEMORY_MERGE ? "true" : "false",
	       a->flags & IMG_PA_TIMER_IDS ? "true" : "false");
	json_flags(a->membarrier, info_membarrier_flags, NULL);
	if (a->flags & IMG_PA_FUTEX_HASH)
		printf(", \"futex_slots\": %u", a->futex_slots);
	else
		printf(", \"futex_slots\": null");
	printf(",\n      \"cpu_ns\": %llu, \"utime_ns\": %llu, \"stime_ns\": %llu, "
	       "\"children_utime_ns\": %llu, \"children_stime_ns\": %llu,\n"
	       "      \"seccomp_inherited\": %u, \"seccomp_filters\": [", U(a->cpu_ns),
	       U(a->utime_ns), U(a->stime_ns), U(a->cutime_ns), U(a->cstime_ns),
	       a->seccomp_inherited);
	for (size_t i = 0; i < in->nsc; i++)
		printf("%s{\"parent\": %d, \"how\": \"%s\", \"flags\": %u, \"instructions\": %u}",
		       i ? ", " : "", in->sc[i].parent,
		       in->sc[i].how == IMG_SECCOMP_PRCTL ? "prctl" : "seccomp", in->sc[i].flags,
		       in->sc[i].ninsns);
	printf("]},\n");
}

static void json_thread_attr(const struct info *in, const struct img_thread *t)
{
	if (!in->has_pattr)
		return;
	printf(",\n     \"attributes\": {\"cpus\": ");
	if (t->attr_flags & IMG_TA_AFFINITY)
		json_words(t->affinity, IMG_CPU_WORDS);
	else
		printf("\"all\"");
	printf(", \"personality\": %u, \"timer_slack_ns\": %llu, \"ioprio\": %u, "
	       "\"ioprio_class\": \"%s\", \"pdeathsig\": %d, \"securebits\": ", t->personality,
	       U(t->timer_slack_ns), t->ioprio, info_ioprio_class(t->ioprio), t->pdeathsig);
	json_flags(t->securebits, info_securebits_flags, NULL);
	printf(", \"mce_kill\": \"%s\", \"tsc\": %u, \"speculation\": [%u, %u, %u], "
	       "\"no_new_privs\": %s, \"io_flusher\": %s,\n      \"seccomp_mode\": %u, "
	       "\"seccomp_filter\": %d, \"syscall_user_dispatch\": ", info_mce_kill(t->mce_kill),
	       t->tsc, t->spec[0], t->spec[1], t->spec[2],
	       t->attr_flags & IMG_TA_NO_NEW_PRIVS ? "true" : "false",
	       t->attr_flags & IMG_TA_IO_FLUSHER ? "true" : "false", t->seccomp_mode,
	       t->seccomp_leaf);
	if (t->sud_mode)
		printf("{\"mode\": %u, \"offset\": %llu, \"len\": %llu, \"selector\": %llu}",
		       t->sud_mode, U(t->sud_offset), U(t->sud_len), U(t->sud_selector));
	else
		printf("null");
	printf(", \"mempolicy\": %u, \"mem_nodes\": ", t->mempolicy);
	json_words(t->mem_nodes, IMG_NODE_WORDS);
	printf(", \"cpu_ns\": %llu}", U(t->cpu_ns));
}

void json_print(const struct info *in)
{
	const struct img_header *h = &in->hdr;
	const struct img_proc *p = &in->proc;
	char buf[64];
	time_t t = (time_t)(h->ctime_ns / 1000000000u);
	struct tm tm;

	printf("{\n  \"image\": {\"path\": ");
	json_cstr(in->name);
	printf(", \"bytes\": %llu, \"version\": %u, \"arch\": \"x86_64\", \"page_size\": %u,\n",
	       U(in->image_bytes), h->version, h->page_size);
	printf("    \"pid\": %d, \"ctime_ns\": %llu, \"created\": ", h->pid, U(h->ctime_ns));
	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		printf("\"%s.%09lluZ\"", buf, U(h->ctime_ns % 1000000000u));
	else
		printf("null");
	printf(", \"kernel\": ");
	json_str(h->kernel, strnlen(h->kernel, sizeof(h->kernel)));
	{
		char pids[256], timers[256];

		printf(", \"assist\": { \"pids\": ");
		json_cstr(info_assist(in, pids, sizeof(pids), timers, sizeof(timers)));
		printf(", \"why\": ");
		json_cstr(pids);
		printf(", \"timer_ids\": ");
		if (timers[0])
			json_cstr(timers);
		else
			printf("null");
		printf(" }");
	}
	printf(", \"flags\": [");
	{
		static const struct { unsigned bit; const char *name; } fl[] = {
			{ IMG_F_SELF, "self" }, { IMG_F_PIDNS, "pidns" }, { IMG_F_MAPPABLE, "mappable" },
			{ IMG_F_INCREMENTAL, "incremental" }, { IMG_F_CTTY, "ctty" },
		};
		const char *sep = "";

		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			if (h->flags & fl[i].bit) {
				printf("%s\"%s\"", sep, fl[i].name);
				sep = ", ";
			}
	}
	printf("]},\n");
	if (in->sealed) {
		char id[33];

		printf("  \"seal\": {\"key_id\": \"%s\", \"uid\": %u, \"gid\": %u, "
		       "\"verified\": %s},\n", info_key_id(&in->seal, id), in->seal.uid,
		       in->seal.gid, in->seal_verified ? "true" : "false");
	}
	if (in->has_parent) {
		printf("  \"parent\": {\"path\": ");
		json_str(in->parent_path.s, in->parent_path.n);
		printf(", \"pid\": %d, \"ctime_ns\": %llu, \"hdr_crc\": %u, \"ranges\": %u, "
		       "\"inherited_bytes\": %llu},\n", in->parent.pid, U(in->parent.ctime_ns),
		       in->parent.hdr_crc, in->parent.nranges, U(in->inherited));
	}

	printf("  \"process\": {\"comm\": ");
	json_str(p->comm, strnlen(p->comm, sizeof(p->comm)));
	printf(", \"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"uid\": %u, \"gid\": %u,\n",
	       p->pid, p->ppid, p->pgid, p->sid, p->uid, p->gid);
	printf("    \"groups\": [");
	for (uint32_t i = 0; i < p->ngroups; i++)
		printf("%s%u", i ? ", " : "", in->groups[i]);
	printf("],\n");
	printf("    \"cwd\": ");
	json_str(in->cwd.s, in->cwd.n);
	printf(", \"exe\": ");
	json_str(in->exe.s, in->exe.n);
	printf(", \"umask\": %u, \"nthreads\": %u, \"ckpt_signal\": %d, \"auxv_words\": %u,\n",
	       p->umask, p->nthreads, p->ckpt_signal, p->auxv_words);
	printf("    \"mm\": {\"start_code\": %llu, \"end_code\": %llu, \"start_data\": %llu, "
	       "\"end_data\": %llu, \"start_brk\": %llu, \"brk\": %llu, \"start_stack\": %llu, "
	       "\"arg_start\": %llu, \"arg_end\": %llu, \"env_start\": %llu, \"env_end\": %llu},\n",
	       U(p->mm.start_code), U(p->mm.end_code), U(p->mm.start_data), U(p->mm.end_data),
	       U(p->mm.start_brk), U(p->mm.brk), U(p->mm.start_stack), U(p->mm.arg_start),
	       U(p->mm.arg_end), U(p->mm.env_start), U(p->mm.env_end));
	printf("    \"rlimits\": {");
	int any = 0;
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		const struct img_rlimit *l = &p->rlim[i];

		if (l->cur == ~0ull && l->max == ~0ull)
			continue;
		printf("%s\"%s\": {\"cur\": ", any ? ", " : "", info_rlimit_name(i));
		l->cur == ~0ull ? printf("null") : printf("%llu", U(l->cur));
		printf(", \"max\": ");
		l->max == ~0ull ? printf("null") : printf("%llu", U(l->max));
		printf("}");
		any = 1;
	}
	printf("},\n    \"sigactions\": [");
	any = 0;
	for (int s = 1; s <= IMG_NSIG; s++) {
		const struct img_sigaction *a = &p->sigact[s - 1];

		if (a->handler == 0)
			continue;
		printf("%s\n      {\"signal\": %d, \"name\": ", any ? "," : "", s);
		json_cstr(info_signame(s, buf, sizeof(buf)));
		if (a->handler == 1)
			printf(", \"handler\": \"SIG_IGN\"");
		else
			printf(", \"handler\": %llu", U(a->handler));
		printf(", \"flags\": ");
		json_flags(a->flags, info_sa_flags, NULL);
		printf(", \"restorer\": %llu, \"mask\": ", U(a->restorer));
		json_sigset(a->mask);
		printf("}");
		any = 1;
	}
	printf("],\n");
	json_proc_attr(in);
	printf("    \"pending\": ");
	json_sigset(p->sigpending);
	printf("},\n");

	printf("  \"threads\": [");
	for (size_t i = 0; i < in->nthr; i++) {
		const struct img_thread *th = &in->thr[i];

		printf("%s\n    {\"tid\": %d, \"leader\": %s, \"rip\": %llu, \"rsp\": %llu, "
		       "\"fs_base\": %llu, \"gs_base\": %llu,\n     \"blocked\": ",
		       i ? "," : "", th->tid, th->flags & IMG_THREAD_LEADER ? "true" : "false",
		       U(th->gregs[REG_RIP]), U(th->gregs[REG_RSP]), U(th->fs_base),
		       U(th->gs_base));
		json_sigset(th->sigmask);
		printf(", \"pending\": ");
		json_sigset(th->sigpending);
		if (th->rseq_len)
			printf(", \"rseq\": {\"addr\": %llu, \"len\": %u, \"sig\": %u}",
			       U(th->rseq_addr), th->rseq_len, th->rseq_sig);
		else
			printf(", \"rseq\": null");
		printf(", \"xstate_bytes\": %u, \"xfeatures\": %llu", th->fpstate_len,
		       U(th->xfeatures));
		json_thread_attr(in, th);
		info_bt_json(in, th, json_str);
		printf("}");
	}
	printf("\n  ],\n  \"queued_signals\": [");
	for (size_t i = 0; i < in->nsig; i++) {
		struct info_sig f;

		info_sig_fields(&in->sigs[i], &f);
		printf("%s\n    {\"tid\": %d, \"signal\": ", i ? "," : "", in->sigs[i].tid);
		json_cstr(info_signame(f.signo, buf, sizeof(buf)));
		printf(", \"code\": %d, \"pid\": %d, \"uid\": %u, \"value\": %lld}",
		       f.code, f.pid, f.uid, f.value);
	}
	printf("\n  ],\n  \"timers\": [");
	for (size_t i = 0; i < in->ntimer; i++) {
		const struct img_timer *ti = &in->timers[i];

		printf("%s\n    {\"kind\": \"%s\", \"id\": %d, \"clock\": %d, \"notify\": \"%s\", "
		       "\"signal\": %d, \"value\": %llu, \"tid\": %d, \"left_ns\": %llu, "
		       "\"interval_ns\": %llu}", i ? "," : "", info_timer_kind(ti), ti->id, ti->clock,
		       info_timer_notify(ti), ti->signo, U(ti->sigval), ti->notify_tid, U(ti->value_ns),
		       U(ti->interval_ns));
	}
	printf("\n  ],\n  \"fds\": [");
	for (size_t i = 0; i < in->nfd; i++) {
		const struct info_fd *d = &in->fds[i];
		const struct info_file *f = &in->files[d->file];

		printf("%s\n    {\"fd\": %d, \"file\": %u, \"kind\": \"%s\", \"path\": ",
		       i ? "," : "", d->d.fd, f->f.id, info_fd_kind(f->f.kind));
		json_str(f->path.s, f->path.n);
		printf(", \"flags\": ");
		json_flags(f->f.flags & ~(uint32_t)O_ACCMODE, info_open_flags,
			   info_accmode(f->f.flags));
		printf(", \"cloexec\": %s, \"offset\": %lld, \"shared_with\": %d",
		       d->d.fdflags & IMG_FD_CLOEXEC ? "true" : "false", (long long)f->f.pos,
		       info_fd_shared_with(in, d));
		info_file_json(f, json_str);
		printf("}");
	}
	printf("\n  ],\n  \"files\": [");
	for (size_t i = 0; i < in->nfile; i++) {
		const struct info_file *f = &in->files[i];

		printf("%s\n    {\"file\": %u, \"kind\": \"%s\", \"path\": ", i ? "," : "",
		       f->f.id, info_fd_kind(f->f.kind));
		json_str(f->path.s, f->path.n);
		printf(", \"fds\": %d, \"mappings\": %d", f->nfds, f->nmaps);
		info_file_json(f, json_str);
		printf("}");
	}
	printf("\n  ],\n  \"locks\": [");
	for (size_t i = 0; i < in->nlock; i++) {
		const struct img_lock *l = &in->locks[i];

		printf("%s\n    {\"file\": %u, \"fd\": %d, \"kind\": \"%s\", \"type\": \"%s\", "
		       "\"start\": %lld, \"len\": %lld, \"signal\": %d}", i ? "," : "", l->file,
		       info_file_fd(in, l->file), img_lock_kind_name(l->kind),
		       img_lock_type_name(l->type), (long long)l->start, (long long)l->len, l->sig);
	}
	printf("\n  ]");
	info_epoll_json(in);
	info_ipc_json(in, json_str);
	printf(",\n  \"vmas\": [");
	for (size_t i = 0; i < in->nvma; i++) {
		const struct info_vma *v = &in->vmas[i];
		char perm[5];

		info_perm(&v->v, perm);
		printf("%s\n    {\"start\": %llu, \"end\": %llu, \"perm\": \"%s\", \"kind\": ",
		       i ? "," : "", U(v->v.start), U(v->v.end), perm);
		json_cstr(info_vma_kind(&v->v));
		printf(", \"path\": ");
		if (v->path.n)
			json_str(v->path.s, v->path.n);
		else
			printf("null");
		if (v->v.file)
			printf(", \"file\": %u", v->v.file);
		else
			printf(", \"file\": null");
		if (img_vma_sysv(&v->v, v->path.s))
			printf(", \"sysv_shm\": %llu", U(v->v.ino));
		printf(", \"size\": %llu, \"pages\": %llu, \"zero_pages\": %llu, "
		       "\"raw_bytes\": %llu, \"stored_bytes\": %llu, \"attrs\": ",
		       U(v->v.end - v->v.start), U(v->pages), U(v->zero_pages), U(v->raw),
		       U(v->stored));
		/* attrs_known false: the checkpoint did not read the VmFlags (only "mw" is known) */
		printf("[");
		for (const struct info_flag *f = info_vma_attrs; f->name; f++)
			if (v->v.attrs & f->bit)
				printf("%s\"%s\"", v->v.attrs & (f->bit - 1) & ~IMG_VMA_ATTR_VMFLAGS ?
				       ", " : "", f->name);
		printf("]");
		printf(", \"attrs_known\": %s, \"guards\": [",
		       v->v.attrs & IMG_VMA_ATTR_VMFLAGS ? "true" : "false");
		for (uint32_t k = 0; k < v->v.nguards; k++)
			printf("%s{\"start\": %llu, \"end\": %llu}", k ? ", " : "",
			       U(v->guards[k].start), U(v->guards[k].end));
		printf("]}");
	}
	printf("\n  ],\n  \"mlockall\": ");
	if (in->mlock_mcl)
		printf("{\"future\": true, \"onfault\": %s}",
		       in->mlock_mcl & IMG_MCL_ONFAULT ? "true" : "false");
	else
		printf("null");
	printf(",\n  \"totals\": {\"mapped_bytes\": %llu, \"vmas\": %zu, \"pages\": %llu, "
	       "\"zero_pages\": %llu, \"raw_bytes\": %llu, \"stored_bytes\": %llu, ",
	       U(in->mapped), in->nvma, U(in->pages), U(in->zero_pages), U(in->raw),
	       U(in->stored));
	if (in->stored)
		printf("\"ratio\": %.3f, ", (double)in->raw / (double)in->stored);
	else
		printf("\"ratio\": null, ");
	printf("\"image_bytes\": %llu, \"verified\": %s}\n}\n", U(in->image_bytes),
	       in->verify ? "true" : "false");
}
