/*
 * img_lock.c - reading LOCK records (format: img_format.h, struct
 * img_lock), and the names every reader shows them with.
 *
 * A LOCK record is checked alone, like every record: its kind and type
 * known, its range well formed for its kind (POSIX and OFD: start >= 0,
 * len >= 0, the last byte representable; flock and lease: no range),
 * a signal only on a lease, reserved zero.  Whether `file` names a FILE
 * record that came before it, and whether that FILE can hold such a lock
 * (a lease only on a regular file...), is the caller's check: it alone
 * has seen the FILE records (restart/restart_load.c, tools/info_load.c).
 */
#include <stdio.h>
#include "libckpt/img.h"

static int lk_range_ok(const struct img_lock *l)
{
	if (l->kind == IMG_LOCK_FLOCK || l->kind == IMG_LOCK_LEASE)
		return !l->start && !l->len;
	/* the last byte, start + len - 1, must fit in an off_t */
	return l->start >= 0 && l->len >= 0 && (l->len == 0 || l->len - 1 <= INT64_MAX - l->start);
}

const struct img_lock *img_get_lock(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_lock *l = rec->data;
	unsigned long long off = rec->offset;

	if (rec->type != IMG_REC_LOCK || !l || rec->len != sizeof(*l)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "record at offset %llu is not a valid LOCK record (%llu bytes, want %zu)",
			 off, (unsigned long long)rec->len, sizeof(*l));
		return NULL;
	}
	if (l->file == 0 || l->kind < 1 || l->kind > IMG_LOCK_KIND_MAX ||
	    (l->type != IMG_LOCK_READ && l->type != IMG_LOCK_WRITE) || l->reserved) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "LOCK record at offset %llu is corrupt: file %u, kind %u, type %u, "
			 "reserved %u", off, l->file, l->kind, l->type, l->reserved);
		return NULL;
	}
	if (!lk_range_ok(l)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "LOCK record at offset %llu is corrupt: a %s lock on bytes %lld+%lld",
			 off, img_lock_kind_name(l->kind), (long long)l->start, (long long)l->len);
		return NULL;
	}
	if (l->kind == IMG_LOCK_LEASE ? l->sig < 0 || l->sig > IMG_NSIG : l->sig != 0) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "LOCK record at offset %llu is corrupt: a %s lock with signal %d",
			 off, img_lock_kind_name(l->kind), l->sig);
		return NULL;
	}
	return l;
}

const char *img_lock_kind_name(uint32_t kind)
{
	switch (kind) {
	case IMG_LOCK_POSIX: return "posix";
	case IMG_LOCK_FLOCK: return "flock";
	case IMG_LOCK_OFD:   return "ofd";
	case IMG_LOCK_LEASE: return "lease";
	default:             return "unknown";
	}
}

const char *img_lock_type_name(uint32_t type)
{
	return type == IMG_LOCK_WRITE ? "write" : type == IMG_LOCK_READ ? "read" : "unknown";
}

int img_lock_range(const struct img_lock *l, char *buf, size_t len)
{
	if (l->kind == IMG_LOCK_FLOCK || l->kind == IMG_LOCK_LEASE)
		return snprintf(buf, len, "the whole file");
	if (l->len == 0)
		return snprintf(buf, len, "bytes %lld to EOF", (long long)l->start);
	if (l->len == 1)
		return snprintf(buf, len, "byte %lld", (long long)l->start);
	return snprintf(buf, len, "bytes %lld-%lld", (long long)l->start,
			(long long)(l->start + (l->len - 1)));
}
