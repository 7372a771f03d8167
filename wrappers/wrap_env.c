/*
 * wrap_env.c - the environment a child of a libckpt process must get:
 * libckpt in LD_PRELOAD, and the CKPT_* variables the process started
 * with (wrap_env.h has the contract; wrap_exec.c the callers).
 *
 * Runs where the exec wrappers run, in a child after fork() of a
 * multithreaded program or after vfork(): plain loops over the caller's
 * memory, nothing else (no libc, no errno, no writes outside out/buf).
 *
 * Cost: one pass over envp, comparing the names of CKPT_* and LD_PRELOAD
 * entries only; each CKPT_* entry against at most WRAP_ENV_MAX_VARS
 * names.  An environment that already has everything (a child of a
 * program that did not touch its environment, the usual case) is
 * detected by that pass and passed on untouched.
 */
#include <errno.h>
#include <stdint.h>
#include "wrappers/wrap_env.h"

#define PRELOAD		"LD_PRELOAD="
#define PRELOAD_LEN	(sizeof(PRELOAD) - 1)

static size_t env_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* 1 when s begins with the n bytes of p. */
static int env_prefix(const char *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != p[i])
			return 0;
	return 1;
}

/* The length of the name of "NAME=value" (the whole string without '='). */
static size_t env_name_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != '=')
		n++;
	return n;
}

/* The file name of path[0..n): its part after the last '/'. */
static const char *env_base(const char *path, size_t n, size_t *len)
{
	size_t b = n;

	while (b > 0 && path[b - 1] != '/')
		b--;
	*len = n - b;
	return path + b;
}

int wrap_env_preloads(const char *list, const char *lib)
{
	size_t llen = env_len(lib), lbase_len;
	const char *lbase = env_base(lib, llen, &lbase_len);

	while (*list) {
		size_t n = 0, blen;
		const char *base;

		while (list[n] && list[n] != ':' && list[n] != ' ')
			n++;
		base = env_base(list, n, &blen);
		if ((n == llen && env_prefix(list, lib, n)) ||
		    (n && blen == lbase_len && env_prefix(base, lbase, blen)))
			return 1;
		list += n;
		if (*list)
			list++;
	}
	return 0;
}

/*
 * The pass both steps share: which keep->vars envp has (bit i of *have),
 * how many entries it has, whether it has an LD_PRELOAD entry, and the
 * bytes the LD_PRELOAD rewrites take.
 */
struct env_scan {
	size_t n;		/* entries of envp */
	uint64_t have;		/* keep->vars present */
	int preload_seen;	/* an LD_PRELOAD entry, any */
	int rewrites;		/* LD_PRELOAD entries without libckpt */
	size_t bytes;		/* for the rewritten entries */
};

static void env_scan(char *const envp[], const struct wrap_env_keep *k, struct env_scan *s)
{
	size_t liblen = k->lib ? env_len(k->lib) : 0;

	*s = (struct env_scan){ 0 };
	for (; envp && envp[s->n]; s->n++) {
		const char *e = envp[s->n];

		if (env_prefix(e, PRELOAD, PRELOAD_LEN)) {
			s->preload_seen = 1;
			if (k->lib && !wrap_env_preloads(e + PRELOAD_LEN, k->lib)) {
				s->rewrites++;
				/* "LD_PRELOAD=" LIB [":" old] NUL */
				s->bytes += PRELOAD_LEN + liblen + 1 + env_len(e + PRELOAD_LEN) + 1;
			}
			continue;
		}
		if (e[0] != 'C')	/* every kept name starts CKPT_ */
			continue;
		for (int i = 0; i < k->nvars; i++) {
			size_t nl = env_name_len(k->vars[i]);

			/* the same name: e starts with it, then '=' or its end */
			if (!(s->have >> i & 1) && env_prefix(e, k->vars[i], nl) &&
			    (e[nl] == '=' || e[nl] == '\0'))
				s->have |= UINT64_C(1) << i;
		}
	}
}

static int env_missing(const struct wrap_env_keep *k, const struct env_scan *s)
{
	int m = 0;

	for (int i = 0; i < k->nvars; i++)
		m += !(s->have >> i & 1);
	return m;
}

/* wrap_env_need's answer, with the scan behind it. */
static int env_plan(char *const envp[], const struct wrap_env_keep *k, struct env_scan *s,
		    size_t *slots, size_t *bytes)
{
	int add_preload, missing;

	if (k->nvars < 0 || k->nvars > WRAP_ENV_MAX_VARS)
		return -E2BIG;
	env_scan(envp, k, s);
	add_preload = k->lib && !s->preload_seen;
	missing = env_missing(k, s);
	if (!add_preload && !s->rewrites && !missing)
		return 0;
	*slots = s->n + (size_t)add_preload + (size_t)missing + 1;
	*bytes = s->bytes + (add_preload ? PRELOAD_LEN + env_len(k->lib) + 1 : 0);
	if (*slots > WRAP_ENV_MAX_SLOTS || *bytes > WRAP_ENV_MAX_BYTES)
		return -E2BIG;
	return 1;
}

int wrap_env_need(char *const envp[], const struct wrap_env_keep *k, size_t *slots,
		  size_t *bytes)
{
	struct env_scan s;

	return env_plan(envp, k, &s, slots, bytes);
}

/* Appends the n bytes of src at *p (sized by env_plan). */
static void env_put(char **p, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(*p)[i] = src[i];
	*p += n;
}

int wrap_env_build(char *const envp[], const struct wrap_env_keep *k, char **out,
		   size_t slots, char *buf, size_t bytes)
{
	size_t want_slots = 0, want_bytes = 0, j = 0, liblen = k->lib ? env_len(k->lib) : 0;
	char *p = buf;
	struct env_scan s;
	int r = env_plan(envp, k, &s, &want_slots, &want_bytes);

	if (r <= 0)
		return r;
	if (slots < want_slots || bytes < want_bytes)
		return -E2BIG;
	for (size_t i = 0; i < s.n; i++) {
		const char *e = envp[i];

		if (k->lib && env_prefix(e, PRELOAD, PRELOAD_LEN) &&
		    !wrap_env_preloads(e + PRELOAD_LEN, k->lib)) {
			size_t old = env_len(e + PRELOAD_LEN);

			out[j++] = p;
			env_put(&p, PRELOAD, PRELOAD_LEN);
			env_put(&p, k->lib, liblen);
			if (old) {
				env_put(&p, ":", 1);
				env_put(&p, e + PRELOAD_LEN, old);
			}
			*p++ = '\0';
		} else {
			out[j++] = (char *)e;
		}
	}
	if (k->lib && !s.preload_seen) {
		out[j++] = p;
		env_put(&p, PRELOAD, PRELOAD_LEN);
		env_put(&p, k->lib, liblen);
		*p++ = '\0';
	}
	for (int i = 0; i < k->nvars; i++)
		if (!(s.have >> i & 1))
			out[j++] = (char *)k->vars[i];
	out[j] = NULL;
	return 1;
}
