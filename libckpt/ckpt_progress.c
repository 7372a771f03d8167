/*
 * ckpt_progress.c - how far the page data is, for a ckpt-save that shows
 * it on a terminal (CTL_F_PROGRESS, libckpt/ctl_proto.h).
 *
 * The writer (the process, or its forked copy) calls ckpt_progress()
 * each time it hands pages to the image; at most every CTL_PROGRESS_MS a
 * struct ctl_progress goes to ckpt-save on the control socket, with
 * MSG_DONTWAIT: a full socket drops the message, never stalls the save.
 * The whole is an estimate, read once: the process's anonymous memory
 * (/proc/self/smaps_rollup "Anonymous:"), which is what the page data
 * mostly is; zero pages are not written and file pages a process wrote
 * are, so the estimate can be off either way, and ckpt-save says "~".
 * Signal context: raw system calls and libckpt's own helpers only.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ctl_proto.h"

static uint64_t anon_bytes(void)
{
	char buf[2048];
	ssize_t n = ckpt_read_file("/proc/self/smaps_rollup", buf, sizeof(buf) - 1);
	const char *p;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; *p; p++) {
		if ((p == buf || p[-1] == '\n') && ckpt_memeq(p, "Anonymous:", 10)) {
			int64_t kb;

			p += 10;
			while (*p == ' ')
				p++;
			kb = ckpt_parse_dec(&p);
			return kb > 0 ? (uint64_t)kb << 10 : 0;
		}
	}
	return 0;
}

void ckpt_progress(struct ckpt_ctx *c)
{
	struct ctl_progress m = { .magic = CTL_PRG_MAGIC, .version = CTL_VERSION };
	struct timespec ts;
	uint64_t now;

	if (!c->progress || c->ctl_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (now < c->progress_next_ns)
		return;
	if (!c->progress_next_ns)
		c->progress_total = anon_bytes();
	c->progress_next_ns = now + (uint64_t)CTL_PROGRESS_MS * 1000000;
	m.done_bytes = c->mem_bytes;
	m.total_bytes = c->progress_total > c->mem_bytes ? c->progress_total : 0;
	arch_sys6(SYS_sendto, c->ctl_fd, (long)&m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
}
