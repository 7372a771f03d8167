/*
 * info_evfd.c - ckpt-info's words for the event fds (eventfd, timerfd,
 * signalfd, inotify and its INOTIFY_WATCH records): text and JSON.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libckpt/img.h"
#include "tools/info.h"

static void inotify_json(const struct info_file *f, void (*str)(const char *s, size_t n));

static const char *clock_name(int32_t clock)
{
	switch (clock) {
	case 0: return "CLOCK_REALTIME";
	case 1: return "CLOCK_MONOTONIC";
	case 7: return "CLOCK_BOOTTIME";
	case 8: return "CLOCK_REALTIME_ALARM";
	case 9: return "CLOCK_BOOTTIME_ALARM";
	default: return "?";
	}
}

/* A signal mask as "SIGUSR1,SIGRTMIN+3" (numbers past 31 as RTMIN+n). */
static void mask_text(uint64_t mask, char *buf, size_t len)
{
	static const char *const names[32] = {
		"?", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
		"SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP",
		"TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"
	};
	size_t n = 0;

	buf[0] = '\0';
	for (int sig = 1; sig <= 64 && n < len; sig++) {
		if (!(mask >> (sig - 1) & 1))
			continue;
		if (sig < 32)
			n += snprintf(buf + n, len - n, "%sSIG%s", n ? "," : "", names[sig]);
		else
			n += snprintf(buf + n, len - n, "%s%d", n ? "," : "", sig);
	}
	if (!n)
		snprintf(buf, len, "none");
}

int info_evfd_desc(const struct info_file *f, char *buf, size_t len)
{
	const char *nb = (f->f.flags & O_NONBLOCK) ? ", O_NONBLOCK" : "";

	switch (f->f.kind) {
	case IMG_FILE_EVENTFD: {
		struct img_file_eventfd d;

		memcpy(&d, f->data.s, sizeof(d));
		snprintf(buf, len, "eventfd, counter %llu%s%s", (unsigned long long)d.count,
			 (d.flags & IMG_EVENTFD_SEMAPHORE) ? ", EFD_SEMAPHORE" : "", nb);
		return 1;
	}
	case IMG_FILE_TIMERFD: {
		struct img_file_timerfd d;

		memcpy(&d, f->data.s, sizeof(d));
		snprintf(buf, len, "timerfd on %s, %s%.9f s left, period %.9f s, %llu expirations "
			 "not read%s%s", clock_name(d.clock), d.value_ns ? "" : "disarmed, ",
			 d.value_ns / 1e9, d.interval_ns / 1e9, (unsigned long long)d.ticks,
			 (d.flags & IMG_TIMERFD_ABSTIME) ? ", TFD_TIMER_ABSTIME" : "",
			 (d.flags & IMG_TIMERFD_CANCEL_ON_SET) ? ", TFD_TIMER_CANCEL_ON_SET" : "");
		if (*nb && strlen(buf) + strlen(nb) < len)
			strcat(buf, nb);
		return 1;
	}
	case IMG_FILE_SIGNALFD: {
		struct img_file_signalfd d;
		char m[400];

		memcpy(&d, f->data.s, sizeof(d));
		mask_text(d.mask, m, sizeof(m));
		snprintf(buf, len, "signalfd of %s%s", m, nb);
		return 1;
	}
	case IMG_FILE_INOTIFY: {
		struct img_file_inotify d;

		memcpy(&d, f->data.s, sizeof(d));
		snprintf(buf, len, "inotify, %u watch%s%s%s", d.nwatches, d.nwatches == 1 ? "" : "es",
			 nb, (d.flags & IMG_INOTIFY_OVERFLOW) ? ", events queued: an IN_Q_OVERFLOW "
			 "in their place after a restart" : "");
		return 1;
	}
	}
	return 0;
}

int info_evfd_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	const char *nb = (f->f.flags & O_NONBLOCK) ? "true" : "false";

	switch (f->f.kind) {
	case IMG_FILE_EVENTFD: {
		struct img_file_eventfd d;

		memcpy(&d, f->data.s, sizeof(d));
		printf(", \"eventfd\": {\"count\": %llu, \"semaphore\": %s, \"nonblock\": %s}",
		       (unsigned long long)d.count,
		       (d.flags & IMG_EVENTFD_SEMAPHORE) ? "true" : "false", nb);
		return 1;
	}
	case IMG_FILE_TIMERFD: {
		struct img_file_timerfd d;

		memcpy(&d, f->data.s, sizeof(d));
		printf(", \"timerfd\": {\"clock\": %d, \"clock_name\": \"%s\", \"value_ns\": %llu, "
		       "\"interval_ns\": %llu, \"ticks\": %llu, \"abstime\": %s, "
		       "\"cancel_on_set\": %s, \"nonblock\": %s}", d.clock, clock_name(d.clock),
		       (unsigned long long)d.value_ns, (unsigned long long)d.interval_ns,
		       (unsigned long long)d.ticks,
		       (d.flags & IMG_TIMERFD_ABSTIME) ? "true" : "false",
		       (d.flags & IMG_TIMERFD_CANCEL_ON_SET) ? "true" : "false", nb);
		return 1;
	}
	case IMG_FILE_SIGNALFD: {
		struct img_file_signalfd d;
		char m[400];

		memcpy(&d, f->data.s, sizeof(d));
		mask_text(d.mask, m, sizeof(m));
		printf(", \"signalfd\": {\"mask\": %llu, \"signals\": \"%s\", \"nonblock\": %s}",
		       (unsigned long long)d.mask, m, nb);
		return 1;
	}
	case IMG_FILE_INOTIFY:
		inotify_json(f, str);
		return 1;
	}
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int ev_fail(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, sizeof(in->err), fmt, ap);
	va_end(ap);
	return -1;
}

int info_add_inotify_watch(struct info *in, struct img_reader *r, const struct img_rec *rec)
{
	const struct img_inotify_watch *w = img_get_inotify_watch(r, rec);
	struct info_file *f;
	int32_t last = 0;
	char err[200];

	if (!w)
		return -1;
	f = in->fdata_file ? (struct info_file *)info_file_by_id(in, in->fdata_file) : NULL;
	if (f && f->nwatches)
		memcpy(&last, f->watches[f->nwatches - 1].s + offsetof(struct img_inotify_watch, wd),
		       sizeof(last));
	if (img_inotify_watch_next(f ? &f->f : NULL, f ? f->data.s : NULL, w,
				   f ? f->nwatches : 0, last, err, sizeof(err)) < 0)
		return ev_fail(in, "INOTIFY_WATCH record at offset %llu: %s",
			       (unsigned long long)rec->offset, err);
	f->watches = realloc(f->watches, (f->nwatches + 1) * sizeof(*f->watches));
	if (!f->watches || !(f->watches[f->nwatches].s = malloc(rec->len))) {
		fprintf(stderr, "ckpt-info: out of memory\n");
		exit(INFO_EXIT_CORRUPT);
	}
	memcpy(f->watches[f->nwatches].s, w, rec->len);
	f->watches[f->nwatches++].n = rec->len;
	return 0;
}

int info_inotify_end(struct info *in)
{
	const struct info_file *f = in->fdata_file ? info_file_by_id(in, in->fdata_file) : NULL;
	char err[200];

	if (f && img_inotify_end(&f->f, f->data.s, f->nwatches, err, sizeof(err)) < 0)
		return ev_fail(in, "%s", err);
	return 0;
}

void info_evfd_free(struct info_file *f)
{
	for (uint32_t i = 0; i < f->nwatches; i++)
		free(f->watches[i].s);
	free(f->watches);
}

/* "IN_CREATE|IN_DELETE" */
static void inmask_text(uint32_t mask, char *buf, size_t len)
{
	static const char *const names[] = { "ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE",
					      "CLOSE_NOWRITE", "OPEN", "MOVED_FROM", "MOVED_TO",
					      "CREATE", "DELETE", "DELETE_SELF", "MOVE_SELF" };
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < 12 && n < len; i++)
		if (mask >> i & 1)
			n += snprintf(buf + n, len - n, "%sIN_%s", n ? "|" : "", names[i]);
	if ((mask & 0x04000000) && n < len)
		n += snprintf(buf + n, len - n, "|IN_EXCL_UNLINK");
	if ((mask & 0x80000000) && n < len)
		snprintf(buf + n, len - n, "|IN_ONESHOT");
}

/* A watch's path, printable: bytes below 0x20 and 0x7f as '?'. */
static void put_path(const char *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		putchar((unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i]);
}

void info_evfd_text(const struct info_file *f)
{
	for (uint32_t i = 0; i < f->nwatches; i++) {
		struct img_inotify_watch w;
		char m[300];

		memcpy(&w, f->watches[i].s, sizeof(w));
		inmask_text(w.mask, m, sizeof(m));
		printf("\n       wd %d  %s%s  inode %llu  ", w.wd, m,
		       (w.flags & IMG_INOTIFY_NOFOLLOW) ? " IN_DONT_FOLLOW" : "",
		       (unsigned long long)w.ino);
		put_path(f->watches[i].s + sizeof(w), w.path_len);
	}
}

static void inotify_json(const struct info_file *f, void (*str)(const char *s, size_t n))
{
	struct img_file_inotify d;

	memcpy(&d, f->data.s, sizeof(d));
	printf(", \"inotify\": {\"nonblock\": %s, \"overflow\": %s, \"watches\": [",
	       (f->f.flags & O_NONBLOCK) ? "true" : "false",
	       (d.flags & IMG_INOTIFY_OVERFLOW) ? "true" : "false");
	for (uint32_t i = 0; i < f->nwatches; i++) {
		struct img_inotify_watch w;
		char m[300];

		memcpy(&w, f->watches[i].s, sizeof(w));
		inmask_text(w.mask, m, sizeof(m));
		printf("%s{\"wd\": %d, \"mask\": %u, \"events\": \"%s\", \"dont_follow\": %s, "
		       "\"dev\": %llu, \"ino\": %llu, \"path\": ", i ? ", " : "", w.wd, w.mask, m,
		       (w.flags & IMG_INOTIFY_NOFOLLOW) ? "true" : "false",
		       (unsigned long long)w.dev, (unsigned long long)w.ino);
		str(f->watches[i].s + sizeof(w), w.path_len);
		printf("}");
	}
	printf("]}");
}
