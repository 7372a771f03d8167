/* ckpt_fmt.h - async-signal-safe snprintf subset (see ckpt_fmt.c). */
#ifndef CKPT_FMT_H
#define CKPT_FMT_H

#include <stdarg.h>
#include <stddef.h>

size_t ckpt_vfmt(char *buf, size_t size, const char *fmt, va_list ap);
size_t ckpt_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The text of an errno value, positive or negative ("No space left on
 * device"); "Unknown error" for a number Linux does not define.
 */
const char *ckpt_strerror(int err);

#endif
