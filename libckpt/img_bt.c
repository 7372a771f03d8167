/*
 * img_bt.c - reading a BACKTRACE record (img_format.h, struct
 * img_backtrace): one thread's backtrace as the checkpoint unwound it.
 * The reader trusts nothing: the length is exactly the struct, the frames
 * and the names; the counts and the stop reason are bounded; every name a
 * frame points at starts inside the names and ends with a NUL there,
 * within IMG_BT_NAME_MAX bytes.  Whether tid names a THREAD of the image
 * is the caller's check (it has the threads).
 */
#include "libckpt/img.h"

static unsigned long long bt_ull(uint64_t v)
{
	return (unsigned long long)v;
}

const struct img_backtrace *img_get_backtrace(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_backtrace *b = rec->data;
	const struct img_bt_frame *f;
	const char *names;
	uint64_t want;

	if (rec->type != IMG_REC_BACKTRACE || !b || rec->len < sizeof(*b)) {
		img_fail(r, IMG_ERR_CORRUPT, "record at offset %llu is not a valid BACKTRACE record "
			 "(%llu payload bytes, at least %zu)", bt_ull(rec->offset), bt_ull(rec->len),
			 sizeof(*b));
		return NULL;
	}
	if (b->tid <= 0 || b->nframes > IMG_BT_FRAMES_MAX || b->stop > IMG_BT_STOP_MAX ||
	    b->reserved || b->names_len > (uint32_t)IMG_BT_FRAMES_MAX * IMG_BT_NAME_MAX) {
		img_fail(r, IMG_ERR_CORRUPT, "BACKTRACE record at offset %llu is corrupt: tid %d, "
			 "%u frames (limit %u), stop reason %u, %u bytes of names, reserved %u",
			 bt_ull(rec->offset), b->tid, b->nframes, IMG_BT_FRAMES_MAX, b->stop,
			 b->names_len, b->reserved);
		return NULL;
	}
	want = sizeof(*b) + (uint64_t)b->nframes * sizeof(*f) + b->names_len;
	if (rec->len != want) {
		img_fail(r, IMG_ERR_CORRUPT, "BACKTRACE record at offset %llu is corrupt: %llu payload "
			 "bytes, its %u frames and %u bytes of names make %llu", bt_ull(rec->offset),
			 bt_ull(rec->len), b->nframes, b->names_len, bt_ull(want));
		return NULL;
	}
	f = (const struct img_bt_frame *)(b + 1);
	names = (const char *)(f + b->nframes);
	for (unsigned i = 0; i < b->nframes; i++) {
		uint32_t at = f[i].name, end;

		if (f[i].flags & ~IMG_BT_F_ALL) {
			img_fail(r, IMG_ERR_CORRUPT, "BACKTRACE record at offset %llu is corrupt: frame "
				 "%u has unknown flags 0x%x", bt_ull(rec->offset), i, f[i].flags);
			return NULL;
		}
		if (at == IMG_BT_NONAME)
			continue;
		/* a NUL within IMG_BT_NAME_MAX bytes of at (the NUL included), not at at */
		for (end = at; end < b->names_len && end - at < IMG_BT_NAME_MAX && names[end]; end++)
			;
		if (at >= b->names_len || end == b->names_len || end - at == IMG_BT_NAME_MAX ||
		    end == at) {
			img_fail(r, IMG_ERR_CORRUPT, "BACKTRACE record at offset %llu is corrupt: frame "
				 "%u's name (at %u of %u bytes) is empty, outside the names or not "
				 "NUL-terminated within %u bytes", bt_ull(rec->offset), i, at,
				 b->names_len, IMG_BT_NAME_MAX);
			return NULL;
		}
	}
	return b;
}

const struct img_bt_frame *img_bt_frames(const struct img_backtrace *b)
{
	return (const struct img_bt_frame *)(b + 1);
}

const char *img_bt_name(const struct img_backtrace *b, const struct img_bt_frame *f)
{
	if (f->name == IMG_BT_NONAME)
		return NULL;
	return (const char *)(img_bt_frames(b) + b->nframes) + f->name;
}
