/*
 * progress.c - the progress line of ckpt-save and ckpt-restart
 * (progress.h).  Plain stdio on stderr; nothing here runs in a signal
 * handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tools/progress.h"

#define PROGRESS_AFTER_S	1.0	/* a save or restart shorter than this shows nothing */
#define PROGRESS_EVERY_S	0.1

static double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *tool, const char *what)
{
	const char *env = getenv("CKPT_PROGRESS");

	memset(p, 0, sizeof(*p));
	p->tool = tool;
	p->what = what;
	p->always = env && !strcmp(env, "always");
	p->on = p->always || (isatty(STDERR_FILENO) && !(env && !strcmp(env, "0")));
	p->t0 = progress_now();
}

const char *progress_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
	return buf;
}

void progress_show(struct progress *p, uint64_t done, uint64_t total, int estimate)
{
	double now = progress_now(), t = now - p->t0, rate;
	char a[32], b[48], r[32], left[48] = "";

	if (!p->on || (!p->always && t < PROGRESS_AFTER_S) ||
	    (p->last && now - p->last < PROGRESS_EVERY_S))
		return;
	p->last = now;
	rate = t > 0 ? done / t : 0;
	if (total > done && rate > 0)
		snprintf(left, sizeof(left), ", %s%.1f s left", estimate ? "~" : "",
			 (total - done) / rate);
	if (total)
		snprintf(b, sizeof(b), " of %s%s", estimate ? "~" : "", progress_bytes(total, a, sizeof(a)));
	else
		b[0] = '\0';
	fprintf(stderr, "%s%s: %s%s %s, %s/s%s%s", p->always ? "" : "\r", p->tool,
		progress_bytes(done, r, sizeof(r)), b, p->what, progress_bytes(rate, a, sizeof(a)),
		left, p->always ? "\n" : "\033[K");
	p->shown = !p->always;
}

void progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}
