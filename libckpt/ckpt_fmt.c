/*
 * ckpt_fmt.c - string formatting that is safe in a signal handler.
 *
 * glibc's snprintf may take locale locks and allocate; the checkpoint path
 * needs messages anyway ("fd 5: socket, not supported yet"), so this is a
 * small vsnprintf with the conversions libckpt uses: %s %c %d %i %u %x %p
 * %% with the l, ll and z length modifiers.  Output is always NUL
 * terminated and silently truncated; the return value is the length
 * written (not the length wanted).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "libckpt/ckpt_fmt.h"

struct out {
	char *buf;
	size_t len, cap;	/* cap excludes the NUL */
};

static void put(struct out *o, char c)
{
	if (o->len < o->cap)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put(o, *s++);
}

static void put_num(struct out *o, uint64_t v, unsigned base, int neg)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

size_t ckpt_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, 0, size ? size - 1 : 0 };

	if (!size)
		return 0;
	for (; *fmt; fmt++) {
		int lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			put_str(&o, va_arg(ap, const char *));
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, 0);
			break;
		case 'x':
			put_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, 0);
			break;
		case 'p':
			put_str(&o, "0x");
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0);
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
	}
	buf[o.len] = '\0';
	return o.len;
}

size_t ckpt_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = ckpt_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
