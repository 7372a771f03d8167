/*
 * info_diff.c - `ckpt-info --diff [--json] A B`: two images of one
 * process, loaded and checked as ckpt-info loads one, compared
 * (info_diffcmp.c) and the changes printed: maps, fds, threads and, per
 * map, how many pages differ.  Rules: info_diff.h.
 *
 * One process: A and B must name the same pid and executable, else the
 * diff is refused (exit 1) -- comparing two programs' memory page by page
 * says nothing useful, and a user who swapped an argument wants to hear
 * it.  Two trees' images are compared member by member (by pid; members
 * only in one are listed); a tree and a single process's image are
 * refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/info_diff.h"
#include "tools/info_mem.h"

#define PAGE	IMG_PAGE_SIZE

struct diff_side {
	struct info_mem mem;
	unsigned char buf[PAGE];
};

static int diff_page(void *ctx, int side, uint64_t addr, const unsigned char **data)
{
	struct diff_side *s = (struct diff_side *)ctx + side;

	if (info_mem_read(&s->mem, addr, s->buf, PAGE) < 0)
		return -1;
	*data = s->buf;
	return 0;
}

/* ---- output ---- */

static void j_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (size_t i = 0; i < n; ) {
		size_t len;

		if (p[i] == '"' || p[i] == '\\') {
			printf("\\%c", p[i++]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			printf("\\u%04x", p[i++]);
		} else if (p[i] < 0x80) {
			putchar(p[i++]);
		} else if ((len = info_utf8_len(p, n, i))) {
			fwrite(p + i, 1, len, stdout);
			i += len;
		} else {
			printf("\\ufffd");
			i++;
		}
	}
	putchar('"');
}

static void t_str(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		putchar(s[i] >= 0x20 && s[i] != 0x7f ? s[i] : '?');
}

static void t_map(char sign, const struct info_vma *v)
{
	char perm[5];

	info_perm(&v->v, perm);
	printf("  %c 0x%llx-0x%llx %s ", sign, (unsigned long long)v->v.start,
	       (unsigned long long)v->v.end, perm);
	if (v->path.n)
		t_str(v->path.s, v->path.n);
	else
		printf("%s", info_vma_kind(&v->v));
	printf("\n");
}

static void j_map(const struct info_vma *v)
{
	char perm[5];

	info_perm(&v->v, perm);
	printf("{\"start\": %llu, \"end\": %llu, \"perm\": \"%s\", \"kind\": \"%s\", \"path\": ",
	       (unsigned long long)v->v.start, (unsigned long long)v->v.end, perm,
	       info_vma_kind(&v->v));
	j_str(v->path.s, v->path.n);
	printf("}");
}

static const char *const map_bits[] = { "end", "prot", "flags", "offset", "path", "file", "start" };
static const char *const fd_bits[] = { "kind", "path", "flags", "offset", "fd_flags" };

static void t_fd(char sign, const struct info *in, const struct info_fd *d)
{
	const struct info_file *f = &in->files[d->file];

	printf("  %c %-3d %-5s ", sign, d->d.fd, info_fd_kind(f->f.kind));
	t_str(f->path.s, f->path.n);
	printf("  %s  offset %lld\n", info_accmode(f->f.flags), (long long)f->f.pos);
}

static void j_fd(const struct info *in, const struct info_fd *d)
{
	const struct info_file *f = &in->files[d->file];

	printf("{\"fd\": %d, \"kind\": \"%s\", \"path\": ", d->d.fd, info_fd_kind(f->f.kind));
	j_str(f->path.s, f->path.n);
	printf(", \"flags\": %u, \"offset\": %lld, \"fd_flags\": %u}", f->f.flags,
	       (long long)f->f.pos, d->d.fdflags);
}

static void j_bits(unsigned c, const char *const *names, int n)
{
	int first = 1;

	printf("[");
	for (int i = 0; i < n; i++)
		if (c & (1u << i)) {
			printf("%s\"%s\"", first ? "" : ", ", names[i]);
			first = 0;
		}
	printf("]");
}

/* Frame k of a stored backtrace, for a person: function+offset, else its pc, else none. */
static void t_bt_frame(const struct img_backtrace *bt, unsigned k)
{
	const struct img_bt_frame *f = img_bt_frames(bt);

	if (k >= bt->nframes)
		printf("(none)");
	else if (img_bt_name(bt, &f[k]))
		printf("%s+0x%llx", img_bt_name(bt, &f[k]), (unsigned long long)f[k].sym_off);
	else
		printf("0x%llx", (unsigned long long)f[k].pc);
}

/* The first frame (from the top) where the two stored backtraces part. */
static void diff_bt_moved(const struct info *a, const struct info *b, int tid)
{
	const struct img_backtrace *x = info_bt_stored(a, tid), *y = info_bt_stored(b, tid);
	unsigned k = 0;

	while (k < x->nframes && k < y->nframes && img_bt_frames(x)[k].pc == img_bt_frames(y)[k].pc)
		k++;
	printf("  ~ tid %d: another backtrace from frame #%u: ", tid, k);
	t_bt_frame(x, k);
	printf(" -> ");
	t_bt_frame(y, k);
	printf("\n");
}

static void diff_text(const struct info *a, const struct info *b, const struct info_diff *d)
{
	printf("process %d (", a->proc.pid);
	t_str(a->proc.comm, strnlen(a->proc.comm, sizeof(a->proc.comm)));
	printf("): %.3f s between the images\n",
	       ((double)b->hdr.ctime_ns - (double)a->hdr.ctime_ns) / 1e9);
	printf("maps: %zu added, %zu removed, %zu changed\n", d->maps_added, d->maps_removed,
	       d->maps_changed);
	for (size_t i = 0; i < d->nmap; i++) {
		const struct info_diff_map *m = &d->maps[i];

		if (!m->a)
			t_map('+', m->b);
		else if (!m->b)
			t_map('-', m->a);
		else if (m->changed) {
			t_map('~', m->b);
			printf("      changed:");
			for (int k = 0; k < 7; k++)
				if (m->changed & (1u << k))
					printf(" %s", map_bits[k]);
			if (m->changed & (DIFF_MAP_START | DIFF_MAP_END))
				printf(" (was 0x%llx-0x%llx)", (unsigned long long)m->a->v.start,
				       (unsigned long long)m->a->v.end);
			printf("\n");
		}
	}
	printf("fds: %zu added, %zu removed, %zu changed\n", d->fds_added, d->fds_removed,
	       d->fds_changed);
	for (size_t i = 0; i < d->nfd; i++) {
		const struct info_diff_fd *f = &d->fds[i];

		if (!f->a)
			t_fd('+', b, f->b);
		else if (!f->b)
			t_fd('-', a, f->a);
		else {
			t_fd('~', b, f->b);
			printf("      changed:");
			for (int k = 0; k < 5; k++)
				if (f->changed & (1u << k))
					printf(" %s", fd_bits[k]);
			printf("\n");
		}
	}
	printf("threads: %zu added, %zu removed, %zu in both\n", d->nthr_added, d->nthr_removed,
	       d->nthr_same);
	for (size_t i = 0; i < d->nthr_added; i++)
		printf("  + tid %d\n", d->thr_added[i]);
	for (size_t i = 0; i < d->nthr_removed; i++)
		printf("  - tid %d\n", d->thr_removed[i]);
	for (size_t i = 0; i < d->nthr_moved; i++)
		diff_bt_moved(a, b, d->thr_moved[i]);
	printf("memory: %llu pages differ in %zu maps", (unsigned long long)d->pages_differ,
	       d->regions_differ);
	if (d->pages_unknown)
		printf(", %llu pages unknown (held by neither image, and not readable: shared "
		       "memory, an incremental image's parent, a changed file)",
		       (unsigned long long)d->pages_unknown);
	printf("\n");
	for (size_t i = 0; i < d->nmap; i++) {
		const struct info_diff_map *m = &d->maps[i];
		char perm[5];

		if (!m->a || !m->b || (!m->differ && !m->unknown))
			continue;
		info_perm(&m->b->v, perm);
		printf("  0x%llx-0x%llx %s ", (unsigned long long)m->b->v.start,
		       (unsigned long long)m->b->v.end, perm);
		if (m->b->path.n)
			t_str(m->b->path.s, m->b->path.n);
		else
			printf("%s", info_vma_kind(&m->b->v));
		printf(": %llu of %llu pages differ", (unsigned long long)m->differ,
		       (unsigned long long)m->pages);
		if (m->unknown)
			printf(", %llu unknown", (unsigned long long)m->unknown);
		printf("\n");
	}
}

static void diff_json(const struct info *a, const struct info *b, const struct info_diff *d)
{
	size_t k;
	int first;

	printf("{\"pid\": %d, \"comm\": ", a->proc.pid);
	j_str(a->proc.comm, strnlen(a->proc.comm, sizeof(a->proc.comm)));
	printf(", \"ctime_ns\": [%llu, %llu],\n", (unsigned long long)a->hdr.ctime_ns,
	       (unsigned long long)b->hdr.ctime_ns);
	printf("  \"maps\": {\"added\": [");
	for (k = 0, first = 1; k < d->nmap; k++)
		if (!d->maps[k].a) {
			printf("%s", first ? "" : ", ");
			j_map(d->maps[k].b);
			first = 0;
		}
	printf("], \"removed\": [");
	for (k = 0, first = 1; k < d->nmap; k++)
		if (!d->maps[k].b) {
			printf("%s", first ? "" : ", ");
			j_map(d->maps[k].a);
			first = 0;
		}
	printf("], \"changed\": [");
	for (k = 0, first = 1; k < d->nmap; k++)
		if (d->maps[k].a && d->maps[k].b && d->maps[k].changed) {
			printf("%s{\"what\": ", first ? "" : ", ");
			j_bits(d->maps[k].changed, map_bits, 7);
			printf(", \"a\": ");
			j_map(d->maps[k].a);
			printf(", \"b\": ");
			j_map(d->maps[k].b);
			printf("}");
			first = 0;
		}
	printf("]},\n  \"fds\": {\"added\": [");
	for (k = 0, first = 1; k < d->nfd; k++)
		if (!d->fds[k].a) {
			printf("%s", first ? "" : ", ");
			j_fd(b, d->fds[k].b);
			first = 0;
		}
	printf("], \"removed\": [");
	for (k = 0, first = 1; k < d->nfd; k++)
		if (!d->fds[k].b) {
			printf("%s", first ? "" : ", ");
			j_fd(a, d->fds[k].a);
			first = 0;
		}
	printf("], \"changed\": [");
	for (k = 0, first = 1; k < d->nfd; k++)
		if (d->fds[k].a && d->fds[k].b) {
			printf("%s{\"what\": ", first ? "" : ", ");
			j_bits(d->fds[k].changed, fd_bits, 5);
			printf(", \"a\": ");
			j_fd(a, d->fds[k].a);
			printf(", \"b\": ");
			j_fd(b, d->fds[k].b);
			printf("}");
			first = 0;
		}
	printf("]},\n  \"threads\": {\"added\": [");
	for (k = 0; k < d->nthr_added; k++)
		printf("%s%d", k ? ", " : "", d->thr_added[k]);
	printf("], \"removed\": [");
	for (k = 0; k < d->nthr_removed; k++)
		printf("%s%d", k ? ", " : "", d->thr_removed[k]);
	printf("], \"same\": %zu, \"backtrace_changed\": [", d->nthr_same);
	for (k = 0; k < d->nthr_moved; k++)
		printf("%s%d", k ? ", " : "", d->thr_moved[k]);
	printf("]},\n");
	printf("  \"memory\": {\"pages_differ\": %llu, \"pages_unknown\": %llu, \"maps\": [",
	       (unsigned long long)d->pages_differ, (unsigned long long)d->pages_unknown);
	for (k = 0, first = 1; k < d->nmap; k++) {
		const struct info_diff_map *m = &d->maps[k];

		if (!m->a || !m->b || (!m->differ && !m->unknown))
			continue;
		printf("%s\n    {\"map\": ", first ? "" : ",");
		j_map(m->b);
		printf(", \"pages\": %llu, \"differ\": %llu, \"unknown\": %llu}",
		       (unsigned long long)m->pages, (unsigned long long)m->differ,
		       (unsigned long long)m->unknown);
		first = 0;
	}
	printf("]}}");
}

/* ---- loading and the two cases: one process, a tree ---- */

static int diff_load(struct info *in, const char *path, int *fd)
{
	struct stat st;
	int rc;

	memset(in, 0, sizeof(*in));
	in->name = path;
	in->verify = 1;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		fprintf(stderr, "ckpt-info: %s: cannot open: %s\n", path, strerror(errno));
		return INFO_EXIT_CORRUPT;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "ckpt-info: --diff: %s: not a regular file (the images are read by "
			"offset)\n", path);
		return INFO_EXIT_USAGE;
	}
	if ((rc = info_load(in, *fd))) {
		fprintf(stderr, "ckpt-info: %s: %s\n", path, in->err);
		return rc;
	}
	return 0;
}

/* b is an incremental image whose parent is a (the identity its PARENT record names). */
static int parent_of(const struct info *a, const struct info *b)
{
	return b->has_parent && b->parent.ctime_ns == a->hdr.ctime_ns &&
	       b->parent.pid == a->hdr.pid && b->parent.hdr_crc == a->hdr.hdr_crc;
}

/*
 * One process in each: 0, or an exit status (reported).  An incremental
 * image's inherited pages are read from its parent (info_mem.c finds and
 * loads the chain); when B's parent is A itself (the next generation),
 * from A as already loaded.
 */
static int diff_one(const struct info *a, const struct info *b, int json)
{
	struct diff_side sides[2];
	struct info_diff d;
	int rc;

	info_mem_init(&sides[0].mem, a);
	info_mem_init(&sides[1].mem, b);
	if (parent_of(a, b)) {
		sides[1].mem.parent = &sides[0].mem;	/* not owned: parent_owned stays 0 */
		sides[1].mem.parent_tried = 1;
	}
	rc = info_diff_compute(a, b, diff_page, sides, &d);
	info_mem_done(&sides[0].mem);
	info_mem_done(&sides[1].mem);
	if (rc < 0) {
		fprintf(stderr, "ckpt-info: --diff: out of memory\n");
		return INFO_EXIT_CORRUPT;
	}
	(json ? diff_json : diff_text)(a, b, &d);
	info_diff_free(&d);
	return 0;
}

static int same_process(const struct info *a, const struct info *b, const char *pa, const char *pb)
{
	if (a->proc.pid == b->proc.pid && a->exe.n == b->exe.n &&
	    !memcmp(a->exe.s, b->exe.s, a->exe.n))
		return 1;
	fprintf(stderr, "ckpt-info: --diff: %s is process %d (%s) and %s is process %d (%s): not "
		"two images of one process; compare images that ckpt-save took of one pid\n",
		pa, a->proc.pid, a->exe.s, pb, b->proc.pid, b->exe.s);
	return 0;
}

static const struct info *section_of(const struct info *t, int pid)
{
	for (size_t i = 0; i < t->nsection; i++)
		if (t->sections[i].proc.pid == pid)
			return &t->sections[i];
	return NULL;
}

static int diff_tree(const struct info *a, const struct info *b, int json)
{
	int rc = 0, first = 1;

	if (json)
		printf("{\"processes\": [");
	for (size_t i = 0; i < a->nsection; i++) {
		const struct info *sa = &a->sections[i], *sb = section_of(b, sa->proc.pid);

		if (!sb)
			continue;
		if (json)
			printf("%s\n", first ? "" : ",");
		else
			printf("%s== ", first ? "" : "\n");
		first = 0;
		if (!same_process(sa, sb, a->name, b->name))
			return INFO_EXIT_USAGE;
		if ((rc = diff_one(sa, sb, json)))
			return rc;
	}
	if (json) {
		printf("],\n \"members_added\": [");
		for (size_t i = 0, n = 0; i < b->nsection; i++)
			if (!section_of(a, b->sections[i].proc.pid))
				printf("%s%d", n++ ? ", " : "", b->sections[i].proc.pid);
		printf("], \"members_removed\": [");
		for (size_t i = 0, n = 0; i < a->nsection; i++)
			if (!section_of(b, a->sections[i].proc.pid))
				printf("%s%d", n++ ? ", " : "", a->sections[i].proc.pid);
		printf("]}\n");
	} else {
		for (size_t i = 0; i < b->nsection; i++)
			if (!section_of(a, b->sections[i].proc.pid))
				printf("\nmember added: process %d\n", b->sections[i].proc.pid);
		for (size_t i = 0; i < a->nsection; i++)
			if (!section_of(b, a->sections[i].proc.pid))
				printf("\nmember removed: process %d\n", a->sections[i].proc.pid);
	}
	return 0;
}

int info_diff_main(const char *pa, const char *pb, int json)
{
	struct info a, b;
	int fa = -1, fb = -1, rc;

	if (!(rc = diff_load(&a, pa, &fa)) && !(rc = diff_load(&b, pb, &fb))) {
		if (!a.nsection != !b.nsection) {
			fprintf(stderr, "ckpt-info: --diff: %s is %s and %s is %s: not two images of "
				"one process\n", pa, a.nsection ? "a process tree's image" :
				"one process's image", pb, b.nsection ? "a process tree's image" :
				"one process's image");
			rc = INFO_EXIT_USAGE;
		} else if (a.nsection) {
			if (a.hdr.pid != b.hdr.pid) {
				fprintf(stderr, "ckpt-info: --diff: %s is the tree of process %d and %s "
					"of process %d: not two images of one tree\n", pa, a.hdr.pid,
					pb, b.hdr.pid);
				rc = INFO_EXIT_USAGE;
			} else {
				rc = diff_tree(&a, &b, json);
			}
		} else if (!same_process(&a, &b, pa, pb)) {
			rc = INFO_EXIT_USAGE;
		} else if (!(rc = diff_one(&a, &b, json)) && json) {
			printf("\n");
		}
	}
	if (fa >= 0) {
		info_free(&a);
		close(fa);
	}
	if (fb >= 0) {
		info_free(&b);
		close(fb);
	}
	info_mods_free();
	return rc;
}
