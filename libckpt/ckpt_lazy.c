/*
 * ckpt_lazy.c - a checkpoint of a process restarted with `ckpt-restart
 * --lazy` whose memory has not all arrived yet.
 *
 * Pages that the page server has not installed yet are missing from the
 * page tables, so /proc/self/pagemap reports them as never touched: saved
 * as they are, they would be holes (zeros) in the new image.  A forked
 * writer would not see them either: without UFFD_FEATURE_EVENT_FORK a
 * fork drops the userfaultfd registration, and missing pages read as
 * zeros in the copy.  So the checkpoint waits until the server is done:
 * it closes the userfaultfd when every page is in, which unregisters the
 * ranges ("um" disappears from VmFlags in /proc/self/smaps).
 *
 * Cost: nothing unless the restorer marked this process as restored
 * lazily (ckpt_restore_info.lazy); then one read of /proc/self/smaps per
 * 2 ms of waiting, until the first time every range is clear.
 * A process that registers memory with its own userfaultfd cannot be
 * checkpointed either way: after CKPT_LAZY_WAIT_S it is refused, with the
 * range named.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "libckpt/ckpt.h"

#define CKPT_LAZY_WAIT_S	60

/* 1 while some mapping is registered for missing faults ("um"), 0 if none, -1 on error. */
static int ckpt_lazy_busy(struct ckpt_ctx *c, unsigned long *at)
{
	char *buf = (char *)c->bounce;
	size_t cap = IMG_PAGES_MAX * IMG_PAGE_SIZE - 1, keep = 0;
	unsigned long range = 0;
	int fd, busy = 0;
	ssize_t n;

	fd = ckpt_open("/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	while (!busy && (n = read(fd, buf + keep, cap - keep)) > 0) {
		size_t len = keep + n, last = 0;
		char *line = buf;

		buf[len] = '\0';
		for (char *eol; !busy && (eol = __builtin_strchr(line, '\n')); line = eol + 1) {
			last = eol + 1 - buf;
			if (line[0] != 'V' || __builtin_strncmp(line, "VmFlags:", 8)) {
				/* a mapping's first line starts with its address */
				unsigned long a = 0;
				char *p = line;

				for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
					a = a * 16 + (unsigned long)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
				if (*p == '-')
					range = a;
				continue;
			}
			for (char *t = line + 8; t + 3 <= eol; t++)
				if (t[0] == ' ' && t[1] == 'u' && t[2] == 'm' &&
				    (t[3] == ' ' || t[3] == '\n'))
					busy = 1;
		}
		keep = len - last;
		__builtin_memmove(buf, buf + last, keep);
	}
	ckpt_close(fd);
	*at = range;
	return busy;
}

int ckpt_lazy_settle(struct ckpt_ctx *c)
{
	unsigned long at = 0;

	if (!ckpt_restore_info.lazy)
		return 0;
	for (long waited_ms = 0;; waited_ms += 2) {
		struct timespec ms = { 0, 2000000 };
		int busy = ckpt_lazy_busy(c, &at);

		if (busy < 0)
			return ckpt_fail(c, -errno, "cannot read /proc/self/smaps");
		if (!busy)
			break;
		if (waited_ms >= CKPT_LAZY_WAIT_S * 1000L)
			return ckpt_fail(c, -EBUSY, "memory at %lx is still registered with "
					 "userfaultfd after %d s (a lazy restart that does not "
					 "finish, or the program's own userfaultfd)", at,
					 CKPT_LAZY_WAIT_S);
		nanosleep(&ms, NULL);
	}
	ckpt_restore_info.lazy = 0;
	return 0;
}
