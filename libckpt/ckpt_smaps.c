/*
 * ckpt_smaps.c - the VmFlags of every mapping, from /proc/self/smaps.
 *
 * Some mapping properties show nowhere else: madvise flags ("dc", "wf",
 * "dd"...), locks ("lo"), a userfaultfd registration for missing pages
 * ("um"): ckpt_memattr.c and ckpt_lazy.c read them.  smaps is read in chunks into c->bounce and parsed line by line:
 * a line that starts with an address opens a mapping, its "VmFlags:" line
 * is handed to the caller, with the entry's "Rss:" and "Swap:" (kB) read
 * before it (ckpt_smaps_sizes: the sparse walk of ckpt_pmscan.c skips a
 * mapping that holds nothing).  Reading smaps walks every page table (it
 * also counts resident pages), so callers read it only when they must.
 * Async-signal-safe: raw fd calls, no allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "libckpt/ckpt.h"

/* The entry being parsed: its Rss and Swap in kB, ~0 until read. */
static uint64_t sm_rss = ~0ULL, sm_swap = ~0ULL;

void ckpt_smaps_sizes(uint64_t *rss_kb, uint64_t *swap_kb)
{
	*rss_kb = sm_rss;
	*swap_kb = sm_swap;
}

/* The kB value of "Key:   N kB" from p (after the key), or ~0 if not a number. */
static uint64_t sm_kb(const char *p)
{
	const char *q;
	uint64_t v;

	while (*p == ' ' || *p == '\t')
		p++;
	q = p;
	v = ckpt_parse_dec(&q);
	return q == p ? ~0ULL : v;
}

int ckpt_smaps_each(struct ckpt_ctx *c,
		    int (*fn)(uint64_t start, uint64_t end, const char *flags, void *arg),
		    void *arg)
{
	char *buf = (char *)c->bounce;
	size_t cap = IMG_PAGES_MAX * IMG_PAGE_SIZE - 1, keep = 0;
	uint64_t start = 0, end = 0;
	int fd, r = 0;
	ssize_t n;

	fd = ckpt_open("/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (!r && (n = read(fd, buf + keep, cap - keep)) > 0) {
		size_t len = keep + n;
		char *line = buf, *eol;

		buf[len] = '\0';
		while (!r && (eol = __builtin_strchr(line, '\n'))) {
			*eol = '\0';
			if (!__builtin_strncmp(line, "VmFlags:", 8)) {
				r = fn(start, end, line + 8, arg);
			} else if (!__builtin_strncmp(line, "Rss:", 4)) {
				sm_rss = sm_kb(line + 4);
			} else if (!__builtin_strncmp(line, "Swap:", 5)) {
				sm_swap = sm_kb(line + 5);
			} else {
				const char *p = line;
				uint64_t a = ckpt_parse_hex(&p);

				if (p != line && *p == '-') {
					sm_rss = sm_swap = ~0ULL;
					start = a;
					p++;
					end = ckpt_parse_hex(&p);
				}
			}
			line = eol + 1;
		}
		/* an unfinished line goes to the front, for the next chunk */
		keep = len - (size_t)(line - buf);
		if (keep == cap) {
			r = -EIO;		/* a line longer than the buffer: not smaps */
			break;
		}
		__builtin_memmove(buf, line, keep);
	}
	if (!r && n < 0)
		r = -errno;
	ckpt_close(fd);
	return r;
}

int ckpt_vmflag(const char *flags, const char *flag)
{
	for (const char *t = flags; *t; t++)
		if (t[0] == ' ' && t[1] == flag[0] && t[2] == flag[1] && (t[3] == ' ' || !t[3]))
			return 1;
	return 0;
}
