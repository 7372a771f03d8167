/*
 * img_files.c - reading FILE, FD, FILE_DATA and PIPE_DATA records: open
 * files, the contents the image keeps of some of them and the bytes in
 * flight in pipes (format: img_format.h).
 *
 * Each checker validates one record alone, like every payload checker
 * (img_read.c): lengths against the record, ids non-zero, the kind known
 * and its own fields (fds/fd_kind.h: each kind's `valid`).  What needs
 * other records (an FD's FILE exists, a FILE_DATA follows its FILE, in
 * order, inside the file's size) is the caller's check: ckpt-restart
 * (restart_load.c) and ckpt-info (tools/info_load.c) hold the FILEs.
 * The PIPE_DATA checks across records are here (img_pipe_data_next and
 * _end), so that both make the same ones.
 */
#include <stdio.h>
#include <string.h>
#include "fds/fd_kind.h"
#include "libckpt/img.h"

#define IMG_PATH_MAX	4096u

const struct img_file *img_get_file(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_file *f = img_get_fixed(r, rec, IMG_REC_FILE, sizeof(*f));
	unsigned long long off = rec->offset;
	const struct fd_kind_info *k;
	char why[160];

	if (!f)
		return NULL;
	if (f->path_len > IMG_PATH_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: path is %u bytes long (limit %u)",
			 off, f->path_len, IMG_PATH_MAX);
		return NULL;
	}
	if (f->data_len > IMG_FILE_DATA_MAX) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: %u bytes of kind data (limit %u)",
			 off, f->data_len, IMG_FILE_DATA_MAX);
		return NULL;
	}
	if (rec->len != sizeof(*f) + (uint64_t)f->path_len + f->data_len) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: %llu payload bytes, its fields "
			 "say %llu", off, (unsigned long long)rec->len,
			 (unsigned long long)(sizeof(*f) + (uint64_t)f->path_len + f->data_len));
		return NULL;
	}
	if (memchr((const char *)(f + 1) + f->data_len, 0, f->path_len)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: path contains a NUL byte", off);
		return NULL;
	}
	if (f->id == 0) {
		img_fail(r, IMG_ERR_CORRUPT, "FILE record at offset %llu is corrupt: id 0", off);
		return NULL;
	}
	if (!(k = fd_kind_info(f->kind))) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: file %u has unknown kind %u", off,
			 f->id, f->kind);
		return NULL;
	}
	why[0] = '\0';
	if (k->valid && k->valid(f, (const char *)(f + 1) + f->data_len, f + 1, why, sizeof(why)) < 0) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE record at offset %llu is corrupt: file %u (%s): %s", off, f->id,
			 k->name, why);
		return NULL;
	}
	return f;
}

const struct img_fd *img_get_fd(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_fd *d = img_get_fixed(r, rec, IMG_REC_FD, sizeof(*d));

	if (!d)
		return NULL;
	if (rec->len != sizeof(*d)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FD record at offset %llu is corrupt: %llu payload bytes, its fields say "
			 "%zu", (unsigned long long)rec->offset, (unsigned long long)rec->len,
			 sizeof(*d));
		return NULL;
	}
	if (d->fd < 0 || d->file == 0 || (d->fdflags & ~(uint32_t)IMG_FD_CLOEXEC) || d->reserved) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FD record at offset %llu is corrupt: fd %d, file %u, fd flags %#x",
			 (unsigned long long)rec->offset, d->fd, d->file, d->fdflags);
		return NULL;
	}
	return d;
}

const struct img_file_data *img_get_file_data(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_file_data *d = img_get_fixed(r, rec, IMG_REC_FILE_DATA, sizeof(*d));
	unsigned long long off = rec->offset;
	uint64_t dlen;
	int ok;

	if (!d)
		return NULL;
	/* file 0: the contents of the SYSV_SHM right before (the caller checks) */
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] ||
	    d->offset % IMG_PAGE_SIZE || d->len == 0 || d->len > IMG_FILE_CHUNK ||
	    d->offset > INT64_MAX - d->len) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE_DATA record at offset %llu is corrupt: file %u, %llu bytes at "
			 "offset %llu", off, d->file, (unsigned long long)d->len,
			 (unsigned long long)d->offset);
		return NULL;
	}
	dlen = rec->len - sizeof(*d);
	switch (d->codec) {
	case IMG_CODEC_RAW:    ok = dlen == d->len; break;
	case IMG_CODEC_ZERO:   ok = dlen == 0; break;
	case IMG_CODEC_SNAPPY: ok = dlen >= 1 && dlen <= img_snappy_bound((size_t)d->len); break;
	default:
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE_DATA record at offset %llu is corrupt: unknown codec %u", off,
			 d->codec);
		return NULL;
	}
	if (!ok) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "FILE_DATA record at offset %llu is corrupt: %llu data bytes for %llu "
			 "bytes (codec %u)", off, (unsigned long long)dlen,
			 (unsigned long long)d->len, d->codec);
		return NULL;
	}
	return d;
}

int img_file_data_decode(const struct img_file_data *d, const void *data, size_t len,
			 void *dst, char *err, size_t errlen)
{
	size_t got;

	switch (d->codec) {
	case IMG_CODEC_RAW:
		if (len != d->len)
			break;
		memcpy(dst, data, len);
		return 0;
	case IMG_CODEC_ZERO:
		if (len != 0)
			break;
		memset(dst, 0, d->len);
		return 0;
	case IMG_CODEC_SNAPPY:
		if (img_snappy_decoded_len(data, len, &got) < 0 || got != d->len ||
		    img_snappy_decode(data, len, dst, d->len) < 0) {
			snprintf(err, errlen, "contents of file %u at offset %llu: snappy data is "
				 "corrupt", d->file, (unsigned long long)d->offset);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "contents of file %u at offset %llu: %zu data bytes for %llu bytes "
		 "(codec %u)", d->file, (unsigned long long)d->offset, len,
		 (unsigned long long)d->len, d->codec);
	return -1;
}

const struct img_pipe_data *img_get_pipe_data(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_pipe_data *d = img_get_fixed(r, rec, IMG_REC_PIPE_DATA, sizeof(*d));

	if (!d)
		return NULL;
	if (d->file == 0 || (d->flags & ~(uint32_t)IMG_PIPE_PACKET) || d->reserved || d->len == 0 ||
	    d->len > IMG_PIPE_CHUNK || ((d->flags & IMG_PIPE_PACKET) && d->len > IMG_PIPE_PACKET_MAX) ||
	    rec->len != sizeof(*d) + (uint64_t)d->len) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "PIPE_DATA record at offset %llu is corrupt: file %u, flags %#x, %u bytes "
			 "(%llu in the record)", (unsigned long long)rec->offset, d->file, d->flags,
			 d->len, (unsigned long long)(rec->len - sizeof(*d)));
		return NULL;
	}
	return d;
}

const struct img_pty_data *img_get_pty_data(struct img_reader *r, const struct img_rec *rec,
					    const struct img_file *owner, const void *owner_data)
{
	const struct img_pty_data *d = img_get_fixed(r, rec, IMG_REC_PTY_DATA, sizeof(*d));
	const struct img_file_tty *t = owner_data;

	if (!d)
		return NULL;
	if (d->len == 0 || d->len > IMG_PTY_DATA_MAX || rec->len != sizeof(*d) + (uint64_t)d->len) {
		img_fail(r, IMG_ERR_CORRUPT, "PTY_DATA record at offset %llu is corrupt: %u bytes "
			 "(%llu in the record)", (unsigned long long)rec->offset, d->len,
			 (unsigned long long)(rec->len - sizeof(*d)));
		return NULL;
	}
	if (!owner || owner->kind != IMG_FILE_TTY || !t || t->role != IMG_TTY_MASTER ||
	    owner->id != d->file) {
		img_fail(r, IMG_ERR_CORRUPT, "PTY_DATA record at offset %llu does not follow the "
			 "pty master FILE %u it names", (unsigned long long)rec->offset, d->file);
		return NULL;
	}
	return d;
}

/* owner holds a pipe's bytes: a PIPE or FIFO with same_as 0. */
static const struct img_file_pipe *pipe_owner(const struct img_file *owner, const void *data)
{
	const struct img_file_pipe *p = data;

	if (!owner || (owner->kind != IMG_FILE_PIPE && owner->kind != IMG_FILE_FIFO) || p->same_as)
		return NULL;
	return p;
}

int img_pipe_data_next(const struct img_file *owner, const void *owner_data,
		       const struct img_pipe_data *d, uint64_t done, char *err, size_t errlen)
{
	const struct img_file_pipe *p = pipe_owner(owner, owner_data);

	if (!p || owner->id != d->file) {
		snprintf(err, errlen, "bytes in flight of file %u do not follow the first FILE of "
			 "its pipe", d->file);
		return -1;
	}
	if (done + d->len > p->bytes) {
		snprintf(err, errlen, "pipe of file %u holds %llu bytes, its records more",
			 d->file, (unsigned long long)p->bytes);
		return -1;
	}
	return 0;
}

int img_pipe_data_end(const struct img_file *owner, const void *owner_data, uint64_t done,
		      char *err, size_t errlen)
{
	const struct img_file_pipe *p = pipe_owner(owner, owner_data);

	if (p && done != p->bytes) {
		snprintf(err, errlen, "pipe of file %u holds %llu bytes, its records only %llu",
			 owner->id, (unsigned long long)p->bytes, (unsigned long long)done);
		return -1;
	}
	return 0;
}
