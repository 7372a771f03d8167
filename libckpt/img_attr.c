/*
 * img_attr.c - checking process attributes in an image: the PROC_ATTR and
 * SECCOMP records and the attribute fields of a THREAD record (format:
 * img_format.h).  The reader trusts nothing: every count, length and
 * enumerated value is bounded here; what needs other records (a thread's
 * seccomp_leaf against the SECCOMP records seen, a parent filter's index)
 * is the loader's check (restart_attr.c, tools/info_load.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

#define PA_MDWE_ALL		0x3u		/* PR_MDWE_REFUSE_EXEC_GAIN | PR_MDWE_NO_INHERIT */
#define PA_COREDUMP_ALL		0x1ffu		/* the 9 MMF_DUMP_* bits */
#define PA_MEMBARRIER_ALL	(4u | 16u | 64u | 256u)	/* the REGISTER_* commands */
#define TA_SECUREBITS_ALL	0xfffu		/* SECBIT_* and their _LOCKED bits */
#define TA_SPEC_ALL		0x1fu		/* PR_SPEC_PRCTL .. DISABLE_NOEXEC */
#define TA_MPOL_FLAGS		(7u << 13)	/* MPOL_F_NUMA_BALANCING, _RELATIVE_, _STATIC_NODES */
#define TA_MPOL_MAX		6u		/* MPOL_WEIGHTED_INTERLEAVE */

__attribute__((format(printf, 3, 4)))
static int attr_fail(struct img_reader *r, const struct img_rec *rec, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->code == IMG_OK) {	/* the first cause wins, as in img_read.c */
		r->code = IMG_ERR_CORRUPT;
		n = snprintf(r->err, sizeof(r->err), "%s record at offset %llu is corrupt: ",
			     rec->type == IMG_REC_THREAD ? "THREAD" :
			     rec->type == IMG_REC_SECCOMP ? "SECCOMP" : "PROC_ATTR",
			     (unsigned long long)rec->offset);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof(r->err))
			vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int attr_fixed(struct img_reader *r, const struct img_rec *rec, uint32_t type,
		      size_t fixed)
{
	if (rec->type != type || !rec->data || rec->len < fixed) {
		if (r->code == IMG_OK) {
			r->code = IMG_ERR_CORRUPT;
			snprintf(r->err, sizeof(r->err), "record at offset %llu (type %u) is not a "
				 "valid %s record (%llu bytes)", (unsigned long long)rec->offset,
				 rec->type, type == IMG_REC_SECCOMP ? "SECCOMP" : "PROC_ATTR",
				 (unsigned long long)rec->len);
		}
		return -1;
	}
	return 0;
}

const struct img_proc_attr *img_get_proc_attr(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_proc_attr *p = rec->data;

	if (attr_fixed(r, rec, IMG_REC_PROC_ATTR, sizeof(*p)) < 0)
		return NULL;
	if (rec->len != sizeof(*p)) {
		attr_fail(r, rec, "%llu payload bytes, expected %zu",
			  (unsigned long long)rec->len, sizeof(*p));
		return NULL;
	}
	if (p->oom_score_adj < -1000 || p->oom_score_adj > 1000) {
		attr_fail(r, rec, "oom_score_adj %d (must be -1000..1000)", p->oom_score_adj);
		return NULL;
	}
	if ((p->flags & ~IMG_PA_ALL) || p->dumpable > 2 ||
	    (p->thp_disable != 0 && p->thp_disable != 1 && p->thp_disable != 3) ||
	    (p->mdwe & ~PA_MDWE_ALL) || p->mdwe == 2 /* NO_INHERIT alone */ ||
	    (p->coredump_filter & ~PA_COREDUMP_ALL) || (p->membarrier & ~PA_MEMBARRIER_ALL) ||
	    (!(p->flags & IMG_PA_FUTEX_HASH) && p->futex_slots) || p->futex_slots == 1 ||
	    p->futex_slots > IMG_FUTEX_SLOTS_MAX || (p->futex_slots & (p->futex_slots - 1))) {
		attr_fail(r, rec, "flags 0x%x, dumpable %u, THP disable %u, MDWE 0x%x, coredump "
			  "filter 0x%x, membarrier 0x%x, futex hash %u", p->flags, p->dumpable,
			  p->thp_disable, p->mdwe, p->coredump_filter, p->membarrier, p->futex_slots);
		return NULL;
	}
	if (p->seccomp_inherited > IMG_SECCOMP_PATH_MAX || p->nseccomp > IMG_SECCOMP_MAX) {
		attr_fail(r, rec, "%u inherited seccomp filters, %u recorded (limits %u, %u)",
			  p->seccomp_inherited, p->nseccomp, IMG_SECCOMP_PATH_MAX, IMG_SECCOMP_MAX);
		return NULL;
	}
	return p;
}

const struct img_seccomp *img_get_seccomp(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_seccomp *s = rec->data;

	if (attr_fixed(r, rec, IMG_REC_SECCOMP, sizeof(*s)) < 0)
		return NULL;
	if (s->ninsns == 0 || s->ninsns > IMG_SECCOMP_INSNS_MAX) {
		attr_fail(r, rec, "%u instructions (must be 1..%u)", s->ninsns, IMG_SECCOMP_INSNS_MAX);
		return NULL;
	}
	if (rec->len != sizeof(*s) + (uint64_t)s->ninsns * 8) {
		attr_fail(r, rec, "%llu payload bytes, its fields say %llu",
			  (unsigned long long)rec->len,
			  (unsigned long long)(sizeof(*s) + (uint64_t)s->ninsns * 8));
		return NULL;
	}
	if ((s->how != IMG_SECCOMP_PRCTL && s->how != IMG_SECCOMP_SYSCALL) ||
	    (s->flags & ~IMG_SECCOMP_FLAGS) || (s->how == IMG_SECCOMP_PRCTL && s->flags) ||
	    s->parent < -1 || s->parent >= (int32_t)IMG_SECCOMP_MAX) {
		attr_fail(r, rec, "installed by %u with flags 0x%x over filter %d", s->how,
			  s->flags, s->parent);
		return NULL;
	}
	return s;
}

int img_check_thread_attr(struct img_reader *r, const struct img_rec *rec,
			  const struct img_thread *t)
{
	uint32_t mode = t->mempolicy & ~TA_MPOL_FLAGS;
	int ok_nodes = 1;

	if ((t->attr_flags & ~IMG_TA_ALL) || t->pdeathsig < 0 || t->pdeathsig > IMG_NSIG ||
	    (t->ioprio >> 13) > 3 || (t->securebits & ~TA_SECUREBITS_ALL) || t->mce_kill > 2 ||
	    t->tsc > 2)
		return attr_fail(r, rec, "thread %d: flags 0x%x, death signal %d, I/O priority "
				 "0x%x, securebits 0x%x, MCE %u, TSC %u", t->tid, t->attr_flags,
				 t->pdeathsig, t->ioprio, t->securebits, t->mce_kill, t->tsc);
	for (int k = 0; k < 3; k++)
		if (t->spec[k] & ~TA_SPEC_ALL)
			return attr_fail(r, rec, "thread %d: speculation control %d is 0x%x",
					 t->tid, k, t->spec[k]);
	if ((t->seccomp_mode != 0 && t->seccomp_mode != 2) ||
	    t->seccomp_leaf < -1 || t->seccomp_leaf >= (int32_t)IMG_SECCOMP_MAX)
		return attr_fail(r, rec, "thread %d: seccomp mode %u, newest filter %d", t->tid,
				 t->seccomp_mode, t->seccomp_leaf);
	if (t->sud_mode > 2 ||
	    (!t->sud_mode && (t->sud_offset || t->sud_len || t->sud_selector)))
		return attr_fail(r, rec, "thread %d: syscall user dispatch mode %u", t->tid,
				 t->sud_mode);
	for (int k = 0; k < IMG_NODE_WORDS; k++)
		ok_nodes &= mode != 0 && mode != 4 /* LOCAL */ ? 1 : !t->mem_nodes[k];
	if (mode > TA_MPOL_MAX || !ok_nodes)
		return attr_fail(r, rec, "thread %d: NUMA policy 0x%x", t->tid, t->mempolicy);
	return 0;
}
