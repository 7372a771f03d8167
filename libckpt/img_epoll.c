/*
 * img_epoll.c - reading EPOLL_ITEM records (format: img_format.h, struct
 * img_epoll_item), and the words every reader shows an item's events in.
 *
 * A record is checked alone, like every record: both ids set and
 * different (an epoll cannot watch itself), tfd a valid fd number,
 * EPOLLEXCLUSIVE only with the bits epoll_ctl allows with it (never with
 * EPOLLONESHOT).  Other event bits are not checked: epoll_ctl keeps
 * whatever bits it is given.  Whether `epoll` names an EPOLL FILE before
 * it and `target` a FILE of the image, and whether each epoll has the
 * items its FILE counts, is the caller's check (restart/restart_load.c
 * with fds/fd_epoll.c, tools/info_load.c).
 */
#include <stdio.h>
#include "libckpt/img.h"

const struct img_epoll_item *img_get_epoll_item(struct img_reader *r, const struct img_rec *rec)
{
	const struct img_epoll_item *e = rec->data;
	unsigned long long off = rec->offset;

	if (rec->type != IMG_REC_EPOLL_ITEM || !e || rec->len != sizeof(*e)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "record at offset %llu is not a valid EPOLL_ITEM record (%llu bytes, want "
			 "%zu)", off, (unsigned long long)rec->len, sizeof(*e));
		return NULL;
	}
	if (!e->epoll || !e->target || e->epoll == e->target || e->tfd < 0) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "EPOLL_ITEM record at offset %llu is corrupt: epoll %u, target %u, fd %d",
			 off, e->epoll, e->target, e->tfd);
		return NULL;
	}
	if ((e->events & IMG_EPOLL_EXCLUSIVE) && (e->events & ~IMG_EPOLL_EXCLUSIVE_OK)) {
		img_fail(r, IMG_ERR_CORRUPT,
			 "EPOLL_ITEM record at offset %llu is corrupt: events 0x%x (EPOLLEXCLUSIVE "
			 "with bits epoll_ctl refuses with it)", off, e->events);
		return NULL;
	}
	return e;
}

int img_epoll_events(uint32_t events, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ 0x1, "EPOLLIN" }, { 0x2, "EPOLLPRI" }, { 0x4, "EPOLLOUT" }, { 0x8, "EPOLLERR" },
		{ 0x10, "EPOLLHUP" }, { 0x20, "EPOLLNVAL" }, { 0x40, "EPOLLRDNORM" },
		{ 0x80, "EPOLLRDBAND" }, { 0x100, "EPOLLWRNORM" }, { 0x200, "EPOLLWRBAND" },
		{ 0x400, "EPOLLMSG" }, { 0x2000, "EPOLLRDHUP" }, { 1u << 28, "EPOLLEXCLUSIVE" },
		{ 1u << 29, "EPOLLWAKEUP" }, { 1u << 30, "EPOLLONESHOT" }, { 1u << 31, "EPOLLET" },
	};
	uint32_t left = events;
	size_t n = 0;

	buf[0] = '\0';
	if (!(events & ~IMG_EPOLL_PRIVATE))
		n += snprintf(buf, len, "disabled ");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++) {
		if (!(events & names[i].bit))
			continue;
		n += snprintf(buf + n, len - n, "%s%s", n && buf[n - 1] != ' ' ? "|" : "",
			      names[i].name);
		left &= ~names[i].bit;
	}
	if (left && n < len)
		n += snprintf(buf + n, len - n, "%s0x%x", n && buf[n - 1] != ' ' ? "|" : "", left);
	if (!events && n < len)
		n += snprintf(buf + n, len - n, "none");
	return (int)n;
}
