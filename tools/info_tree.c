/*
 * info_tree.c - ckpt-info for a process tree's image (IMG_F_TREE): the
 * directory's MEMBER records, then each live member's section, read and
 * checked as an image of its own (docs/IMAGE-FORMAT.md, "Trees").
 *
 * Beyond the reader's checks: the members form one tree (unique pids, the
 * root first, every other parent an earlier member), sections come in
 * order, each at the next page boundary with zero padding before it, and
 * names the member's pid; an fd may name a FILE an earlier section saved
 * (a description they share), nothing else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/info.h"

#define PAGE	IMG_PAGE_SIZE

static int tree_fail(struct info *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int tree_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return INFO_EXIT_CORRUPT;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

struct info_file *info_file_get(struct info *in, uint32_t id)
{
	struct info_file *f = (struct info_file *)info_file_by_id(in, id), *nf;

	if (f || !in->tree)
		return f;
	for (int j = 0; j < in->section; j++) {
		const struct info *o = &in->tree->sections[j];

		for (size_t i = 0; i < o->nfile; i++) {
			if (o->files[i].f.id != id || o->files[i].owner >= 0)
				continue;
			in->files = info_grow(in->files, in->nfile, sizeof(*in->files));
			nf = &in->files[in->nfile++];
			*nf = o->files[i];
			nf->path.s = dup_bytes(o->files[i].path.s, o->files[i].path.n);
			nf->data.s = dup_bytes(o->files[i].data.s, o->files[i].data.n);
			/* (a queue's messages too: each section frees its own copy) */
			nf->mq.s = dup_bytes(o->files[i].mq.s, o->files[i].mq.n);
			/* (an inotify fd's watches are shown by the section that has them) */
			nf->watches = NULL;
			nf->nwatches = 0;
			nf->nfds = nf->nmaps = 0;
			nf->owner = j;
			return nf;
		}
	}
	return NULL;
}

/* The members form one tree, in an order a restart can create it. */
static int members_check(struct info *in)
{
	size_t live = 0;

	for (size_t i = 0; i < in->nmember; i++) {
		const struct img_member *m = &in->members[i];
		int parent = -1;

		if (m->section >= 0 && (size_t)m->section != i)
			return tree_fail(in, "MEMBER %zu (pid %d) says section %d: sections come in "
					 "member order", i, m->pid, m->section);
		if (m->section >= 0 && live != i)
			return tree_fail(in, "MEMBER %zu (pid %d) is alive after a zombie", i, m->pid);
		live += m->section >= 0;
		for (size_t k = 0; k < i; k++) {
			if (in->members[k].pid == m->pid)
				return tree_fail(in, "pid %d is in the tree twice", m->pid);
			if (in->members[k].pid == m->ppid && in->members[k].section >= 0)
				parent = (int)k;
		}
		if (i == 0 && (m->pid != in->hdr.pid || m->section != 0))
			return tree_fail(in, "the first MEMBER is not the tree's root (pid %d)",
					 in->hdr.pid);
		if (i > 0 && parent < 0)
			return tree_fail(in, "process %d's parent %d is not a live process before "
					 "it in the tree", m->pid, m->ppid);
	}
	if (!live)
		return tree_fail(in, "the tree has no process");
	in->nsection = live;
	return 0;
}

int info_tree_load(struct info *in, struct img_reader *r, int fd)
{
	struct img_rec rec;
	uint64_t end;
	struct stat st;
	int k, rc;

	if (!r->is_file)
		return tree_fail(in, "a tree's image must be a file here");
	r->part = 1;
	while ((k = img_reader_next(r, &rec)) == 1) {
		const struct img_member *m;

		if (rec.type != IMG_REC_MEMBER)
			return tree_fail(in, "record at offset %llu of a tree's directory is not a "
					 "MEMBER", (unsigned long long)rec.offset);
		if (!(m = img_get_member(r, &rec)))
			return tree_fail(in, "%s", r->err);
		in->members = realloc(in->members, (in->nmember + 1) * sizeof(*in->members));
		if (!in->members)
			return tree_fail(in, "out of memory");
		in->members[in->nmember++] = *m;
	}
	if (k < 0) {
		snprintf(in->err, sizeof(in->err), "%s", r->err);
		return r->code == IMG_ERR_INCOMPAT ? INFO_EXIT_INCOMPAT : INFO_EXIT_CORRUPT;
	}
	if ((rc = members_check(in)))
		return rc;
	in->sections = calloc(in->nsection, sizeof(*in->sections));
	if (!in->sections)
		return tree_fail(in, "out of memory");
	end = (uint64_t)r->base + r->nbytes + sizeof(struct img_rec_hdr) + sizeof(struct img_end);
	for (size_t i = 0; i < in->nsection; i++) {
		struct info *s = &in->sections[i];
		uint64_t at = (end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		unsigned char pad[PAGE];

		if (at > end && pread(fd, pad, at - end, (off_t)end) != (ssize_t)(at - end))
			return tree_fail(in, "truncated before section %zu", i);
		for (uint64_t b = 0; b < at - end; b++)
			if (pad[b])
				return tree_fail(in, "the padding before section %zu (offset %llu) is "
						 "not zero", i, (unsigned long long)end);
		if (lseek(fd, (off_t)at, SEEK_SET) < 0)
			return tree_fail(in, "cannot seek to section %zu: %s", i, strerror(errno));
		s->name = in->name;
		s->verify = in->verify;
		s->section = (int)i;
		s->tree = in;
		if ((rc = info_load_image(s, fd, 1))) {
			snprintf(in->err, sizeof(in->err), "section %zu (process %d): %.250s", i,
				 in->members[i].pid, s->err);
			return rc;
		}
		if (s->hdr.pid != in->members[i].pid)
			return tree_fail(in, "section %zu is process %d, the directory says %d", i,
					 s->hdr.pid, in->members[i].pid);
		end = s->image_bytes;
		s->image_bytes -= at;
	}
	if (fstat(fd, &st) < 0)
		return tree_fail(in, "cannot stat: %s", strerror(errno));
	if ((uint64_t)st.st_size == end + IMG_SEAL_SIZE &&
	    pread(fd, &in->seal, sizeof(in->seal), (off_t)end) == sizeof(in->seal) &&
	    !memcmp(&in->seal, IMG_SEAL_MAGIC, 8)) {
		if (!in->seal_verified)
			in->sealed = 1;
	} else if ((uint64_t)st.st_size != end) {
		return tree_fail(in, "trailing bytes after the last section (offset %llu)",
				 (unsigned long long)end);
	}
	in->image_bytes = end;
	return 0;
}

/* "exited 3", "killed by SIGTERM", "killed by SIGSEGV (core dumped)" */
static void zombie_desc(const struct img_member *m, char *buf, size_t n)
{
	char sig[32];

	if (m->exit_code == 1)
		snprintf(buf, n, "exited %d", m->exit_status);
	else
		snprintf(buf, n, "killed by %s%s", info_signame(m->exit_status, sig, sizeof(sig)),
			 m->exit_code == 3 ? " (core dumped)" : "");
}

void txt_tree(const struct info *in)
{
	size_t zombies = in->nmember - in->nsection;
	char sig[32];

	printf("image:     %s, %llu bytes, format version %u, x86_64, %u-byte pages\n",
	       in->name, (unsigned long long)in->image_bytes, in->hdr.version, in->hdr.page_size);
	printf("tree:      %zu processes%s, root pid %d\n", in->nsection,
	       zombies ? "" : "", in->hdr.pid);
	if (zombies)
		printf("           and %zu zombie%s\n", zombies, zombies > 1 ? "s" : "");
	if (in->sealed) {
		char id[33];

		printf("seal:      key %s, process uid %u gid %u: %s\n",
		       info_key_id(&in->seal, id), in->seal.uid, in->seal.gid,
		       in->seal_verified ? "verified" : "not verified (give --key FILE)");
	}
	printf("\n  %7s %7s %7s %7s  %s\n", "pid", "ppid", "pgid", "sid", "state");
	for (size_t i = 0; i < in->nmember; i++) {
		const struct img_member *m = &in->members[i];
		char z[64];

		printf("  %7d %7d %7d %7d  ", m->pid, m->ppid, m->pgid, m->sid);
		if (m->flags & IMG_MEMBER_ZOMBIE) {
			zombie_desc(m, z, sizeof(z));
			printf("zombie (%s)\n", z);
		} else {
			printf("section %d%s%s%s\n", m->section,
			       m->flags & IMG_MEMBER_STOPPED ? ", stopped by " : "",
			       m->flags & IMG_MEMBER_STOPPED ?
			       info_signame(m->stop_sig, sig, sizeof(sig)) : "",
			       m->flags & IMG_MEMBER_FOREGROUND ? ", the terminal's foreground group" : "");
		}
	}
	for (size_t i = 0; i < in->nsection; i++) {
		printf("\n=== process %d (section %zu) ===\n", in->members[i].pid, i);
		txt_print(&in->sections[i]);
	}
}

void json_tree(const struct info *in)
{
	printf("{\n  \"tree\": {\"path\": \"");
	for (const char *p = in->name; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
	printf("\", \"bytes\": %llu, \"root\": %d, \"sealed\": %s,\n    \"members\": [",
	       (unsigned long long)in->image_bytes, in->hdr.pid, in->sealed ? "true" : "false");
	for (size_t i = 0; i < in->nmember; i++) {
		const struct img_member *m = &in->members[i];

		printf("%s\n      {\"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, ",
		       i ? "," : "", m->pid, m->ppid, m->pgid, m->sid);
		if (m->flags & IMG_MEMBER_ZOMBIE)
			printf("\"zombie\": {\"code\": %d, \"status\": %d, \"utime_us\": %llu, "
			       "\"stime_us\": %llu}}", m->exit_code, m->exit_status,
			       (unsigned long long)m->ru_utime_us, (unsigned long long)m->ru_stime_us);
		else
			printf("\"section\": %d, \"stopped\": %s, \"foreground\": %s}", m->section,
			       m->flags & IMG_MEMBER_STOPPED ? "true" : "false",
			       m->flags & IMG_MEMBER_FOREGROUND ? "true" : "false");
	}
	printf("\n    ]},\n  \"processes\": [\n");
	for (size_t i = 0; i < in->nsection; i++) {
		if (i)
			printf(",\n");
		json_print(&in->sections[i]);
	}
	printf("  ]\n}\n");
}
