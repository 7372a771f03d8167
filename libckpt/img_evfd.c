/*
 * img_evfd.c - reading INOTIFY_WATCH records: one watch of the INOTIFY
 * FILE right before them (format: img_format.h).  img_get_inotify_watch
 * checks one record alone; img_inotify_watch_next and img_inotify_end the
 * run of them after their FILE (wds increasing, as many as the FILE says),
 * for every reader alike (ckpt-restart: restart_load.c, ckpt-info:
 * tools/info_evfd.c).
 */
#include <stdio.h>
#include <string.h>
#include "libckpt/img.h"

const struct img_inotify_watch *img_get_inotify_watch(struct img_reader *r,
						      const struct img_rec *rec)
{
	const struct img_inotify_watch *w = img_get_fixed(r, rec, IMG_REC_INOTIFY_WATCH,
							  sizeof(*w));
	const char *path;

	if (!w)
		return NULL;
	path = (const char *)(w + 1);
	if (w->file == 0 || w->wd <= 0 || (w->mask & ~IMG_INOTIFY_MASK) || (w->flags & ~(uint32_t)IMG_INOTIFY_NOFOLLOW) || w->reserved ||
	    w->path_len == 0 || w->path_len > IMG_INOTIFY_PATH_MAX ||
	    rec->len != sizeof(*w) + (uint64_t)w->path_len || path[0] != '/' ||
	    memchr(path, '\0', w->path_len)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "INOTIFY_WATCH record at offset %llu is corrupt: file %u, wd %d, mask %#x, "
			 "flags %#x, %u bytes of path (%llu in the record)",
			 (unsigned long long)rec->offset, w->file, w->wd, w->mask, w->flags,
			 w->path_len, (unsigned long long)(rec->len - sizeof(*w)));
		return NULL;
	}
	return w;
}

int img_inotify_watch_next(const struct img_file *owner, const void *owner_data,
			   const struct img_inotify_watch *w, uint32_t seen, int32_t last_wd,
			   char *err, size_t errlen)
{
	struct img_file_inotify d;

	if (!owner || owner->kind != IMG_FILE_INOTIFY || owner->id != w->file) {
		snprintf(err, errlen, "a watch of file %u that does not follow its inotify FILE",
			 w->file);
		return -1;
	}
	memcpy(&d, owner_data, sizeof(d));
	if (seen >= d.nwatches || (seen && w->wd <= last_wd)) {
		snprintf(err, errlen, "watch %u (wd %d) of file %u: the file has %u watches, in "
			 "increasing wd order (the last wd %d)", seen + 1, w->wd, w->file,
			 d.nwatches, last_wd);
		return -1;
	}
	return 0;
}

int img_inotify_end(const struct img_file *owner, const void *owner_data, uint32_t seen,
		    char *err, size_t errlen)
{
	struct img_file_inotify d;

	if (!owner || owner->kind != IMG_FILE_INOTIFY)
		return 0;
	memcpy(&d, owner_data, sizeof(d));
	if (seen != d.nwatches) {
		snprintf(err, errlen, "inotify file %u has %u watches, %u INOTIFY_WATCH records "
			 "follow it", owner->id, d.nwatches, seen);
		return -1;
	}
	return 0;
}
