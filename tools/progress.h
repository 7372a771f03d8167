/*
 * progress.h - a progress line on the terminal for a save or a restart
 * that takes over a second (ckpt-save, ckpt-restart): bytes, rate, time
 * left.  Silent when stderr is not a terminal.  CKPT_PROGRESS=0: never;
 * CKPT_PROGRESS=always: from the start, terminal or not, each update on
 * a line of its own (tests, logs).
 */
#ifndef CKPT_TOOLS_PROGRESS_H
#define CKPT_TOOLS_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *tool;	/* "ckpt-save" */
	const char *what;	/* "saved", "read" */
	int on;			/* 0: silent */
	int always;		/* CKPT_PROGRESS=always */
	double t0, last;	/* start, last line shown (seconds) */
	int shown;		/* a line is on the terminal */
};

/* Decides whether to show anything (stderr a terminal, CKPT_PROGRESS). */
void progress_init(struct progress *p, const char *tool, const char *what);
/*
 * done of total bytes (total 0: unknown; estimate: the total is a guess,
 * shown with "~").  Shows a line after the first second, at most 10 a
 * second (always: from the first call).
 */
void progress_show(struct progress *p, uint64_t done, uint64_t total, int estimate);
/* "812.0 MiB", "512 B" into buf (also the tools' reports). */
const char *progress_bytes(double b, char *buf, size_t len);
/* Clears the line (before the tool's own report). */
void progress_end(struct progress *p);

#endif
