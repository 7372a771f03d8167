/*
 * restart_compat.c - the glibc entry points that Debian's libsodium.a
 * (built against glibc, with _FORTIFY_SOURCE) calls, for a ckpt-restart
 * and a ckpt-save linked with musl (Makefile).  Weak: a glibc build uses
 * glibc's own.
 */
#include <stddef.h>
#include <string.h>

void __explicit_bzero_chk(void *p, size_t len, size_t dstlen);

__attribute__((weak)) void __explicit_bzero_chk(void *p, size_t len, size_t dstlen)
{
	(void)dstlen;
	explicit_bzero(p, len);
}
