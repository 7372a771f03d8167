/*
 * info_epoll.c - ckpt-info's view of epoll instances (fds/fd_epoll.c):
 * their EPOLL_ITEM records checked against the FILEs (the same checks as
 * ckpt-restart's: restart_load.c and fd_epoll_register), and shown.
 *
 * An item follows its epoll's FILE in the section that wrote it; the
 * file it watches may be any FILE of the image, in a tree a later
 * section's too: that is checked once every section is read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "tools/info.h"

__attribute__((format(printf, 2, 3)))
static int info_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

int info_epoll_add(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_epoll_item *e = img_get_epoll_item(r, rec);
	const struct info_file *f;

	if (!e)
		return -1;
	f = info_file_by_id(in, e->epoll);
	if (!f || f->owner >= 0 || f->f.kind != IMG_FILE_EPOLL)
		return info_fail(in, "EPOLL_ITEM record at offset %llu names file %u, which is not "
				 "an epoll this section has before it", (unsigned long long)rec->offset,
				 e->epoll);
	in->epitems = info_grow(in->epitems, in->nepitem, sizeof(*in->epitems));
	in->epitems[in->nepitem++] = *e;
	return 0;
}

/* The FILE id names in the whole image (a tree: any section's own). */
static const struct info_file *any_file(const struct info *in, uint32_t id)
{
	const struct info *top = in->tree;

	if (!top)
		return info_file_by_id(in, id);
	for (size_t k = 0; k < top->nsection; k++) {
		const struct info_file *f = info_file_by_id(&top->sections[k], id);

		if (f && f->owner < 0)
			return f;
	}
	return NULL;
}

int info_epoll_check(struct info *in)
{
	for (size_t i = 0; i < in->nfile; i++) {
		const struct info_file *f = &in->files[i];
		struct img_file_epoll d;
		uint32_t n = 0;

		if (f->f.kind != IMG_FILE_EPOLL || f->owner >= 0)
			continue;
		memcpy(&d, f->data.s, sizeof(d));	/* (its size checked by the reader) */
		for (size_t k = 0; k < in->nepitem; k++)
			n += in->epitems[k].epoll == f->f.id;
		if (n != d.nitems)
			return info_fail(in, "epoll file %u counts %u items, the image has %u",
					 f->f.id, d.nitems, n);
	}
	for (size_t k = 0; k < in->nepitem; k++) {
		const struct img_epoll_item *e = &in->epitems[k];

		if (!any_file(in, e->target))
			return info_fail(in, "epoll file %u has an item (fd %d) on file %u, which the "
					 "image has not", e->epoll, e->tfd, e->target);
		for (size_t j = 0; j < k; j++)
			if (in->epitems[j].epoll == e->epoll && in->epitems[j].tfd == e->tfd &&
			    in->epitems[j].target == e->target)
				return info_fail(in, "epoll file %u has two items on file %u as fd %d",
						 e->epoll, e->target, e->tfd);
	}
	return 0;
}

void info_epoll_txt(const struct info *in)
{
	if (in->nepitem)
		printf("\nepoll items (%zu):\n", in->nepitem);
	for (size_t i = 0; i < in->nepitem; i++) {
		const struct img_epoll_item *e = &in->epitems[i];
		const struct info_file *t = any_file(in, e->target);
		char ev[200];

		img_epoll_events(e->events, ev, sizeof(ev));
		printf("  epoll fd %d (file %u): fd %d -> file %u (%s)  %s  data 0x%llx\n",
		       info_file_fd(in, e->epoll), e->epoll, e->tfd, e->target,
		       t ? info_fd_kind(t->f.kind) : "?", ev, (unsigned long long)e->data);
	}
}

void info_epoll_json(const struct info *in)
{
	printf(",\n  \"epoll_items\": [");
	for (size_t i = 0; i < in->nepitem; i++) {
		const struct img_epoll_item *e = &in->epitems[i];
		char ev[200];

		img_epoll_events(e->events, ev, sizeof(ev));
		printf("%s\n    {\"epoll\": %u, \"epoll_fd\": %d, \"fd\": %d, \"target\": %u, "
		       "\"events\": %u, \"event_names\": \"%s\", \"disabled\": %s, \"data\": %llu}",
		       i ? "," : "", e->epoll, info_file_fd(in, e->epoll), e->tfd, e->target,
		       e->events, ev, !(e->events & ~IMG_EPOLL_PRIVATE) ? "true" : "false",
		       (unsigned long long)e->data);
	}
	printf("\n  ]");
}
