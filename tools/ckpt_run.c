/*
 * ckpt_run.c - `ckpt-run [--] PROGRAM [ARGS...]`: run a program with
 * libckpt preloaded.
 *
 * It finds libckpt.so relative to its own executable, so a build tree and
 * an installed tree both work without configuration:
 *   build/bin/ckpt-run    -> build/libckpt.so       (<dir>/../libckpt.so)
 *   PREFIX/bin/ckpt-run   -> PREFIX/lib/libckpt.so  (<dir>/../lib/libckpt.so)
 * then puts its absolute path first in LD_PRELOAD (keeping what was
 * there) and execs the program.  The library path is absolute because the
 * program may change directory before it execs children, which inherit
 * LD_PRELOAD.
 *
 * Exit status: the program's own; 1 for a usage error or when libckpt.so
 * cannot be found; 127 when the program cannot be executed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const run_candidates[] = {
	"/../libckpt.so",
	"/../lib/libckpt.so",
};

static void run_usage(void)
{
	fprintf(stderr, "usage: ckpt-run [--] PROGRAM [ARGS...]\n");
	exit(1);
}

/* The absolute path of libckpt.so into buf, or -1 (message printed). */
static int run_find_lib(char *buf, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0) {
		fprintf(stderr, "ckpt-run: cannot read /proc/self/exe: %s\n",
			strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < sizeof(run_candidates) / sizeof(run_candidates[0]); i++) {
		struct stat st;

		if (snprintf(cand, sizeof(cand), "%s%s", exe, run_candidates[i]) >=
		    (int)sizeof(cand))
			continue;
		if (stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!realpath(cand, buf) || strlen(buf) >= len)
			continue;
		/* LD_PRELOAD splits on both; such a path cannot be preloaded. */
		if (strpbrk(buf, ": ")) {
			fprintf(stderr, "ckpt-run: cannot preload %s: the path "
				"contains ':' or ' '\n", buf);
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "ckpt-run: cannot find libckpt.so (looked in %s/.. and "
		"%s/../lib)\n", exe, exe);
	return -1;
}

/* LD_PRELOAD with lib first; the old value follows unless lib leads it. */
static int run_set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t llen = strlen(lib);
	char *val;
	int rc;

	if (!old || !*old)
		return setenv("LD_PRELOAD", lib, 1);
	if (!strncmp(old, lib, llen) && (old[llen] == '\0' || old[llen] == ':' ||
					 old[llen] == ' '))
		return 0;
	val = malloc(llen + 1 + strlen(old) + 1);
	if (!val)
		return -1;
	sprintf(val, "%s:%s", lib, old);
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX];
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-')
		run_usage();
	if (i >= argc)
		run_usage();

	if (run_find_lib(lib, sizeof(lib)) < 0)
		return 1;
	if (run_set_preload(lib) < 0) {
		fprintf(stderr, "ckpt-run: cannot set LD_PRELOAD: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "ckpt-run: cannot run %s: %s\n", argv[i], strerror(errno));
	return 127;
}
