/*
 * img_memattr.c - reading memory attributes: a VMA record's attributes
 * and guard regions, the MLOCK record (format: img_format.h,
 * IMG_VMA_ATTR_*, struct img_mlock).  The reader trusts nothing: every
 * combination the kernel cannot have, or a restart could not give back,
 * is refused with the record's offset.
 */
#include <stdarg.h>
#include <stdio.h>
#include "libckpt/img.h"

__attribute__((format(printf, 3, 4)))
static int ma_fail(struct img_reader *r, enum img_err code, const char *fmt, ...)
{
	va_list ap;

	if (r->code == IMG_OK) {	/* the first cause wins, as in img_read.c */
		r->code = code;
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static unsigned long long ma_ull(uint64_t v)
{
	return (unsigned long long)v;
}

/*
 * The attributes of a VMA record (img_format.h): known bits only; advice
 * and locks only where the VmFlags were read, never on the kernel's own
 * mappings; no two that exclude each other; each on a kind of mapping
 * that can have it.
 */
static int check_attrs(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v)
{
	const uint32_t a = v->attrs;
	const uint32_t special = IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK;
	const int shared_file = (v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE)) ==
				(IMG_VMA_SHARED | IMG_VMA_FILE);
	const char *why = NULL;

	if (a & ~IMG_VMA_ATTR_ALL)
		why = "unknown attribute bits";
	else if (!(a & IMG_VMA_ATTR_VMFLAGS) && (a & ~IMG_VMA_ATTR_MAYWRITE))
		why = "attributes without VmFlags";
	else if ((v->flags & special) && (a & ~IMG_VMA_ATTR_VMFLAGS))
		why = "attributes on a kernel mapping";
	else if ((a & IMG_VMA_ATTR_HUGEPAGE) && (a & IMG_VMA_ATTR_NOHUGEPAGE))
		why = "both HUGEPAGE and NOHUGEPAGE";
	else if ((a & IMG_VMA_ATTR_SEQUENTIAL) && (a & IMG_VMA_ATTR_RANDOM))
		why = "both SEQUENTIAL and RANDOM";
	else if ((a & IMG_VMA_ATTR_LOCKONFAULT) && !(a & IMG_VMA_ATTR_LOCKED))
		why = "LOCKONFAULT without LOCKED";
	else if ((a & IMG_VMA_ATTR_WIPEONFORK) && (v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE)))
		why = "WIPEONFORK on shared or file memory";
	else if ((a & IMG_VMA_ATTR_MAYWRITE) && !shared_file)
		why = "MAYWRITE on a mapping that is not a shared file mapping";
	else if (shared_file && (v->prot & 2) && !(a & IMG_VMA_ATTR_MAYWRITE))
		why = "a writable shared file mapping without MAYWRITE";
	if (!why)
		return 0;
	return ma_fail(r, IMG_ERR_CORRUPT, "VMA record at offset %llu is corrupt: %s (attrs 0x%x)",
			ma_ull(rec->offset), why, a);
}

/* The guard regions after the path: sorted, disjoint, aligned, inside the VMA. */
static int check_guards(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v)
{
	const unsigned char *p = (const unsigned char *)(v + 1) + v->path_len;
	uint64_t prev = v->start;

	if (v->nguards && (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VVAR_VCLOCK)))
		return ma_fail(r, IMG_ERR_CORRUPT,
			       "VMA record at offset %llu is corrupt: guard regions in a kernel mapping",
			       ma_ull(rec->offset));
	for (uint32_t i = 0; i < v->nguards; i++) {
		struct img_range g;

		/* after a path of any length: not aligned */
		__builtin_memcpy(&g, p + (size_t)i * sizeof(g), sizeof(g));
		if (g.start < prev || g.start >= g.end || g.end > v->end ||
		    g.start % IMG_PAGE_SIZE || g.end % IMG_PAGE_SIZE)
			return ma_fail(r, IMG_ERR_CORRUPT,
				       "VMA record at offset %llu is corrupt: guard region %u "
				       "(0x%llx-0x%llx) is not inside 0x%llx-0x%llx, in order",
				       ma_ull(rec->offset), i, ma_ull(g.start), ma_ull(g.end),
				       ma_ull(v->start), ma_ull(v->end));
		prev = g.end;
	}
	return 0;
}

int img_check_vma_attrs(struct img_reader *r, const struct img_rec *rec, const struct img_vma *v)
{
	return check_attrs(r, rec, v) < 0 || check_guards(r, rec, v) < 0 ? -1 : 0;
}

const struct img_mlock *img_get_mlock(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_mlock *m = rec->data;

	if (rec->type != IMG_REC_MLOCK || !m || rec->len != sizeof(*m)) {
		ma_fail(r, IMG_ERR_CORRUPT, "record at offset %llu is not a valid MLOCK record "
			"(%llu payload bytes, MLOCK has %zu)", ma_ull(rec->offset), ma_ull(rec->len),
			sizeof(*m));
		return NULL;
	}
	if (!(m->mcl & IMG_MCL_FUTURE) || (m->mcl & ~(IMG_MCL_FUTURE | IMG_MCL_ONFAULT)) ||
	    m->reserved) {
		ma_fail(r, IMG_ERR_CORRUPT,
			"MLOCK record at offset %llu is corrupt: mlockall flags 0x%x, reserved %u",
			ma_ull(rec->offset), m->mcl, m->reserved);
		return NULL;
	}
	return m;
}
