/*
 * restart_fdata.c - the contents of deleted files, memfds and POSIX shm
 * objects (FILE_DATA records) on their way from the image into the files
 * a restart makes again or puts them back into (fds/fd_ghost.c,
 * fds/fd_memfd.c, fds/fd_pshm.c); and the huge pages an image needs.
 *
 * Loading: each record is checked against the FILE right before it (only
 * FILE_DATA may come between: s->fdata_file), which must be a GHOST or
 * MEMFD carrying contents (same_as 0), or a PSHM with IMG_PSHM_DATA; records of a file come in
 * increasing offsets without overlap, inside the file's size, and only
 * the last may end off a page boundary, at the size.  The data is decoded
 * into staging memory for that file: one anonymous MAP_NORESERVE mapping
 * of the file's size (holes cost nothing), and the extent remembered.
 * Like page data, nothing is written anywhere before the whole image is
 * verified; --check decodes and then drops it.
 *
 * Writing (when the kind makes the file, restart_fds.c): the size set,
 * every extent written where it was (pwrite; hugetlbfs has no write(),
 * so a memfd of huge pages is written through a shared mapping), what no
 * record covered left a hole; then the staging is unmapped.
 * Cost: the file's data bytes in memory from the load until the file is
 * made, one decode and one write of each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "restart/rst.h"

#define PAGE	IMG_PAGE_SIZE

struct rst_extent {
	uint64_t off, len;
};

struct rst_contents {
	unsigned char *mem;		/* staging: the file's bytes at their offsets */
	size_t cap;			/* bytes mapped at mem */
	struct rst_extent *ext;		/* in order, adjacent ones merged */
	size_t n, ext_cap;
	uint64_t end;			/* end of the last record: the next starts at or after */
};

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* The FILE a FILE_DATA record may belong to: the one just read, carrying contents. */
static struct rst_file *fdata_owner(struct rst_state *s, const struct img_file_data *d)
{
	struct rst_file *f = s->fdata_file ? rst_file_by_id(s, s->fdata_file) : NULL;

	if (!f || f->f.id != d->file)
		return NULL;
	if (f->f.kind == IMG_FILE_PSHM)
		return (((const struct img_file_pshm *)f->data)->flags & IMG_PSHM_DATA) ? f : NULL;
	if (f->f.kind != IMG_FILE_GHOST && f->f.kind != IMG_FILE_MEMFD)
		return NULL;
	/* same_as is the first word of both kinds' data */
	return *(const uint32_t *)f->data ? NULL : f;
}

int rst_fdata_load(struct rst_state *s, const struct img_rec *rec)
{
	const struct img_file_data *d = img_get_file_data(&s->r, rec);
	struct rst_file *f;
	struct rst_contents *c;
	char err[256];

	if (!d) {
		rst_error(s, "%s", s->r.err);
		return RST_EXIT_IMAGE;
	}
	if (!(f = fdata_owner(s, d))) {
		rst_error(s, "corrupt: contents of file %u (offset %lu) do not follow a deleted file, "
			  "memfd or POSIX shm object that holds its contents", d->file,
			  (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	c = f->contents;
	if ((c && d->offset < c->end) || d->offset + d->len > (uint64_t)f->f.size ||
	    (d->len % PAGE && d->offset + d->len != (uint64_t)f->f.size)) {
		rst_error(s, "corrupt: contents of file %u at %llu (%llu bytes, offset %lu) overlap "
			  "others or lie outside its %lld bytes", d->file,
			  (unsigned long long)d->offset, (unsigned long long)d->len,
			  (unsigned long)rec->offset, (long long)f->f.size);
		return RST_EXIT_IMAGE;
	}
	if (!c) {
		if (!(c = f->contents = calloc(1, sizeof(*c))))
			abort();
		c->cap = page_up(f->f.size);
		c->mem = mmap(NULL, c->cap, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c->mem == MAP_FAILED) {
			c->mem = NULL;
			rst_error(s, "cannot allocate %lld bytes for the contents of %s: %s",
				  (long long)f->f.size, f->path, strerror(errno));
			return RST_EXIT_ENV;
		}
	}
	if (img_file_data_decode(d, d + 1, rec->len - sizeof(*d), c->mem + d->offset, err,
				 sizeof(err)) < 0) {
		rst_error(s, "corrupt: %s (offset %lu)", err, (unsigned long)rec->offset);
		return RST_EXIT_IMAGE;
	}
	if (s->check_only)	/* verified: the bytes are not needed */
		madvise(c->mem + d->offset, page_up(d->len), MADV_DONTNEED);
	if (c->n && c->ext[c->n - 1].off + c->ext[c->n - 1].len == d->offset) {
		c->ext[c->n - 1].len += d->len;
	} else {
		c->ext = rst_grow(c->ext, &c->ext_cap, c->n, sizeof(*c->ext));
		c->ext[c->n++] = (struct rst_extent){ d->offset, d->len };
	}
	c->end = d->offset + d->len;
	return 0;
}

/* hugetlbfs: size and contents through a shared mapping of the whole file. */
static int write_huge(struct rst_state *s, struct rst_file *f, int fd)
{
	const struct rst_contents *c = f->contents;
	unsigned char *m;

	if (!c || !c->n)
		return 0;
	m = mmap(NULL, f->f.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		rst_error(s, "%s: cannot map memfd %s to write its huge pages: %s",
			  rst_file_what(f), f->path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		memcpy(m + c->ext[i].off, c->mem + c->ext[i].off, c->ext[i].len);
	munmap(m, f->f.size);
	return 0;
}

int rst_fdata_write(struct rst_state *s, struct rst_file *f, int fd, uint32_t hugetlb_shift)
{
	const struct rst_contents *c = f->contents;
	int r = 0;

	if (ftruncate(fd, f->f.size) < 0) {
		rst_error(s, "%s: cannot give %s its size of %lld bytes: %s", rst_file_what(f),
			  f->path, (long long)f->f.size, strerror(errno));
		r = -1;
	} else if (hugetlb_shift) {
		r = write_huge(s, f, fd);
	} else {
		for (size_t i = 0; c && i < c->n && !r; i++) {
			uint64_t done = 0;

			while (done < c->ext[i].len) {
				ssize_t n = pwrite(fd, c->mem + c->ext[i].off + done,
						   c->ext[i].len - done, c->ext[i].off + done);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					rst_error(s, "%s: cannot write the contents of %s again: %s",
						  rst_file_what(f), f->path,
						  n < 0 ? strerror(errno) : "no space");
					r = -1;
					break;
				}
				done += n;
			}
		}
	}
	rst_fdata_free(f);
	return r;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int rst_fdata_same(struct rst_state *s, struct rst_file *f, int fd)
{
	const struct rst_contents *c = f->contents;
	unsigned char buf[PAGE];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		rst_error(s, "%s: %s: %s", rst_file_what(f), f->path, strerror(errno));
		return -1;
	}
	if (st.st_size != f->f.size)
		return 0;
	/* page by page: what no extent covers reads as zeros (a hole, or a ZERO run) */
	for (int64_t off = 0; off < f->f.size; off += PAGE) {
		size_t len = f->f.size - off < PAGE ? (size_t)(f->f.size - off) : PAGE;
		int in = 0;

		if (pread(fd, buf, len, off) != (ssize_t)len) {
			rst_error(s, "%s: cannot read %s: %s", rst_file_what(f), f->path,
				  strerror(errno));
			return -1;
		}
		for (size_t i = 0; c && i < c->n && !in; i++)
			in = (uint64_t)off >= c->ext[i].off && (uint64_t)off < c->ext[i].off + c->ext[i].len;
		if (in ? memcmp(buf, c->mem + off, len) : !all_zero(buf, len))
			return 0;
	}
	return 1;
}

void rst_fdata_free(struct rst_file *f)
{
	struct rst_contents *c = f->contents;

	if (!c)
		return;
	if (c->mem)
		munmap(c->mem, c->cap);
	free(c->ext);
	free(c);
	f->contents = NULL;
}

/* Free huge pages of 1 << shift bytes on this machine (0 if it has none of that size). */
static uint64_t huge_free(uint32_t shift)
{
	char name[128];
	unsigned long long n = 0;
	FILE *fp;

	snprintf(name, sizeof(name), "/sys/kernel/mm/hugepages/hugepages-%lukB/free_hugepages",
		 1ul << (shift - 10));
	if ((fp = fopen(name, "re"))) {
		if (fscanf(fp, "%llu", &n) != 1)
			n = 0;
		fclose(fp);
	}
	return n;
}

int rst_hugetlb_check(struct rst_state *s, uint32_t shift, uint64_t pages, const char *what)
{
	uint64_t *need = &s->huge_need[shift == 30];
	uint64_t have = huge_free(shift);
	unsigned long kb = 1ul << (shift - 10);

	*need += pages;
	if (*need <= have)
		return 0;
	return rst_problem(s, RST_EXIT_ENV, "%s: the image needs %llu huge pages of %lu kB, this "
			   "machine has %llu free: reserve them (as root: echo N > "
			   "/sys/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages, N at least the "
			   "pages in use plus %llu) or restart where they are", what,
			   (unsigned long long)*need, kb, (unsigned long long)have, kb,
			   (unsigned long long)*need);
}

int rst_vma_hugetlb(struct rst_state *s, const struct rst_vma *v)
{
	const struct rst_file *f;

	if (!v->v.file || !(v->v.flags & IMG_VMA_ANON) ||
	    !(f = rst_file_by_id(s, v->v.file)) || f->f.kind != IMG_FILE_HUGETLB)
		return 0;
	return MAP_HUGETLB | (int)(((const struct img_file_hugetlb *)f->data)->page_shift << MAP_HUGE_SHIFT);
}
