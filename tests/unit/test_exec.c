/*
 * test_exec.c - the environment a libckpt process hands on to the programs
 * it executes (wrappers/wrap_env.c), and the exec wrappers' results
 * (wrappers/wrap_exec.c: this binary links them, so every execve() below
 * goes through them).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "wrappers/wrap_env.h"
#include "tests/unit/unit.h"

#define LIB "/opt/ckpt/lib/libckpt.so"

static const char *const vars3[] = { "CKPT_CTL_SIGNAL=SIGUSR2", "CKPT_TREE_ROOT=100",
				     "CKPT_LOG=debug" };
static const struct wrap_env_keep keep3 = { LIB, vars3, 3 };

/*
 * Builds envp's new environment into out (a NULL-terminated list of at
 * most 64 entries, then a copy of its strings kept in `store`); returns
 * wrap_env_need's answer, checked against wrap_env_build's.
 */
static char store[64][8192];
static char *out[65];

static int build(char *const envp[], const struct wrap_env_keep *k)
{
	size_t slots = 0, bytes = 0;
	int r = wrap_env_need(envp, k, &slots, &bytes);
	char **v;
	char *b;
	int r2;

	if (r <= 0) {
		CU_ASSERT_EQUAL(wrap_env_build(envp, k, out, 65, store[0], 8192), r);
		return r;
	}
	CU_ASSERT(slots >= 1 && slots <= WRAP_ENV_MAX_SLOTS && bytes <= WRAP_ENV_MAX_BYTES);
	v = malloc(slots * sizeof(*v));
	b = malloc(bytes + 1);
	/* exactly the sizes asked for: one short of either is refused */
	if (slots > 1)
		CU_ASSERT_EQUAL(wrap_env_build(envp, k, v, slots - 1, b, bytes), -E2BIG);
	if (bytes > 0)
		CU_ASSERT_EQUAL(wrap_env_build(envp, k, v, slots, b, bytes - 1), -E2BIG);
	r2 = wrap_env_build(envp, k, v, slots, b, bytes);
	CU_ASSERT_EQUAL(r2, 1);
	CU_ASSERT(v[slots - 1] == NULL);
	for (size_t i = 0; i < slots && i < 64; i++) {
		if (v[i]) {
			snprintf(store[i], sizeof(store[i]), "%s", v[i]);
			out[i] = store[i];
		} else {
			out[i] = NULL;
		}
	}
	free(v);
	free(b);
	return r;
}

/* out as one string, entries joined by '|'. */
static const char *joined(void)
{
	static char s[16384];
	size_t n = 0;

	s[0] = '\0';
	for (int i = 0; out[i]; i++)
		n += snprintf(s + n, sizeof(s) - n, "%s%s", i ? "|" : "", out[i]);
	return s;
}

#define EXPECT(envp, keep, want)						\
	do {									\
		CU_ASSERT_EQUAL(build((envp), (keep)), 1);			\
		CU_ASSERT_STRING_EQUAL(joined(), (want));			\
	} while (0)

static void test_null_and_empty(void)
{
	char *empty[] = { NULL };

	EXPECT(NULL, &keep3, "LD_PRELOAD=" LIB "|CKPT_CTL_SIGNAL=SIGUSR2|CKPT_TREE_ROOT=100|"
	       "CKPT_LOG=debug");
	EXPECT(empty, &keep3, "LD_PRELOAD=" LIB "|CKPT_CTL_SIGNAL=SIGUSR2|CKPT_TREE_ROOT=100|"
	       "CKPT_LOG=debug");
}

static void test_custom_env(void)
{
	char *env[] = { "PATH=/bin", "HOME=/root", NULL };

	EXPECT(env, &keep3, "PATH=/bin|HOME=/root|LD_PRELOAD=" LIB "|CKPT_CTL_SIGNAL=SIGUSR2|"
	       "CKPT_TREE_ROOT=100|CKPT_LOG=debug");
}

/* The program's other preloads stay, after libckpt. */
static void test_other_preloads(void)
{
	char *one[] = { "A=1", "LD_PRELOAD=/usr/lib/libfoo.so", "B=2", NULL };
	char *two[] = { "LD_PRELOAD=libfoo.so:/x/libbar.so libbaz.so", NULL };
	char *emp[] = { "LD_PRELOAD=", NULL };
	char *dup[] = { "LD_PRELOAD=libfoo.so", "LD_PRELOAD=libbar.so", NULL };
	const struct wrap_env_keep nov = { LIB, NULL, 0 };

	EXPECT(one, &nov, "A=1|LD_PRELOAD=" LIB ":/usr/lib/libfoo.so|B=2");
	EXPECT(two, &nov, "LD_PRELOAD=" LIB ":libfoo.so:/x/libbar.so libbaz.so");
	EXPECT(emp, &nov, "LD_PRELOAD=" LIB);
	/* ld.so takes the last, getenv() the first: both get libckpt */
	EXPECT(dup, &nov, "LD_PRELOAD=" LIB ":libfoo.so|LD_PRELOAD=" LIB ":libbar.so");
}

/* libckpt already preloaded, by this path or another: nothing changes. */
static void test_already_there(void)
{
	const struct wrap_env_keep nov = { LIB, NULL, 0 };
	char *same[] = { "LD_PRELOAD=" LIB, NULL };
	char *mid[] = { "X=1", "LD_PRELOAD=libfoo.so:" LIB ":libbar.so", NULL };
	char *other[] = { "LD_PRELOAD=/build/tree/libckpt.so", NULL };
	char *bare[] = { "LD_PRELOAD=libfoo.so libckpt.so", NULL };
	size_t slots = 7, bytes = 7;

	CU_ASSERT_EQUAL(wrap_env_need(same, &nov, &slots, &bytes), 0);
	CU_ASSERT_EQUAL(wrap_env_need(mid, &nov, &slots, &bytes), 0);
	CU_ASSERT_EQUAL(wrap_env_need(other, &nov, &slots, &bytes), 0);
	CU_ASSERT_EQUAL(wrap_env_need(bare, &nov, &slots, &bytes), 0);
	CU_ASSERT(slots == 7 && bytes == 7);		/* untouched on 0 */
	CU_ASSERT_EQUAL(wrap_env_build(same, &nov, out, 65, store[0], 10), 0);
	/* everything there, the variables too */
	{
		char *all[] = { "CKPT_LOG=info", "LD_PRELOAD=" LIB, "CKPT_TREE_ROOT=7",
				"CKPT_CTL_SIGNAL=40", NULL };

		CU_ASSERT_EQUAL(wrap_env_need(all, &keep3, &slots, &bytes), 0);
	}
}

static void test_preloads_names(void)
{
	CU_ASSERT(wrap_env_preloads(LIB, LIB));
	CU_ASSERT(wrap_env_preloads("libckpt.so", LIB));
	CU_ASSERT(wrap_env_preloads("a.so:b.so::libckpt.so", LIB));
	CU_ASSERT(wrap_env_preloads("a.so  /elsewhere/libckpt.so ", LIB));
	CU_ASSERT(!wrap_env_preloads("", LIB));
	CU_ASSERT(!wrap_env_preloads(":: :", LIB));
	CU_ASSERT(!wrap_env_preloads("libckpt.so.1", LIB));
	CU_ASSERT(!wrap_env_preloads("/x/notlibckpt.so", LIB));
	CU_ASSERT(!wrap_env_preloads("/opt/ckpt/lib/", LIB));
	CU_ASSERT(!wrap_env_preloads("/opt/ckpt/lib/libckpt.so2", LIB));
}

/* A variable the caller set is kept, whatever its value; others are added. */
static void test_vars_kept(void)
{
	char *env[] = { "CKPT_CTL_SIGNAL=SIGRTMIN+3", "CKPT_LOG=", "LD_PRELOAD=" LIB, NULL };
	char *noeq[] = { "CKPT_TREE_ROOT", "LD_PRELOAD=" LIB, NULL };
	/* a longer name that starts like a kept one is another variable */
	char *longer[] = { "CKPT_LOGX=1", "CKPT_CTL_SIGNAL_=2", "LD_PRELOAD=" LIB, NULL };

	EXPECT(env, &keep3, "CKPT_CTL_SIGNAL=SIGRTMIN+3|CKPT_LOG=|LD_PRELOAD=" LIB
	       "|CKPT_TREE_ROOT=100");
	EXPECT(noeq, &keep3, "CKPT_TREE_ROOT|LD_PRELOAD=" LIB "|CKPT_CTL_SIGNAL=SIGUSR2|CKPT_LOG=debug");
	EXPECT(longer, &keep3, "CKPT_LOGX=1|CKPT_CTL_SIGNAL_=2|LD_PRELOAD=" LIB
	       "|CKPT_CTL_SIGNAL=SIGUSR2|CKPT_TREE_ROOT=100|CKPT_LOG=debug");
}

/* Linked into the program (no library to preload): the variables only. */
static void test_no_lib(void)
{
	const struct wrap_env_keep k = { NULL, vars3, 3 };
	char *env[] = { "LD_PRELOAD=libfoo.so", "CKPT_LOG=quiet", NULL };
	char *all[] = { "CKPT_LOG=quiet", "CKPT_TREE_ROOT=1", "CKPT_CTL_SIGNAL=12", NULL };
	size_t slots, bytes;

	EXPECT(env, &k, "LD_PRELOAD=libfoo.so|CKPT_LOG=quiet|CKPT_CTL_SIGNAL=SIGUSR2|CKPT_TREE_ROOT=100");
	CU_ASSERT_EQUAL(wrap_env_need(all, &k, &slots, &bytes), 0);
	CU_ASSERT_EQUAL(wrap_env_need(NULL, &(struct wrap_env_keep){ NULL, NULL, 0 }, &slots, &bytes), 0);
}

/* Past the bounds: passed on unchanged (-E2BIG), never cut short. */
static void test_too_long(void)
{
	const struct wrap_env_keep nov = { LIB, NULL, 0 };
	size_t n = WRAP_ENV_MAX_SLOTS + 10, slots, bytes;
	char **env = calloc(n + 1, sizeof(*env));
	char *big = malloc(WRAP_ENV_MAX_BYTES + 100);
	char *one[] = { big, NULL };

	for (size_t i = 0; i < n; i++)
		env[i] = "X=1";
	CU_ASSERT_EQUAL(wrap_env_need(env, &nov, &slots, &bytes), -E2BIG);
	CU_ASSERT_EQUAL(wrap_env_build(env, &nov, out, 65, store[0], 8192), -E2BIG);
	/* the most that fits: the new LD_PRELOAD and the NULL make it exactly the bound */
	env[WRAP_ENV_MAX_SLOTS - 2] = NULL;
	CU_ASSERT_EQUAL(wrap_env_need(env, &nov, &slots, &bytes), 1);
	CU_ASSERT_EQUAL(slots, WRAP_ENV_MAX_SLOTS);
	env[WRAP_ENV_MAX_SLOTS - 2] = "X=1";
	env[WRAP_ENV_MAX_SLOTS - 1] = NULL;
	CU_ASSERT_EQUAL(wrap_env_need(env, &nov, &slots, &bytes), -E2BIG);
	/* but a long environment that already has everything goes as it is */
	env[0] = "LD_PRELOAD=" LIB;
	env[WRAP_ENV_MAX_SLOTS - 1] = "X=1";
	CU_ASSERT_EQUAL(wrap_env_need(env, &nov, &slots, &bytes), 0);
	/* an LD_PRELOAD too long to rewrite */
	memcpy(big, "LD_PRELOAD=", 11);
	memset(big + 11, 'a', WRAP_ENV_MAX_BYTES);
	big[11 + WRAP_ENV_MAX_BYTES] = '\0';
	CU_ASSERT_EQUAL(wrap_env_need(one, &nov, &slots, &bytes), -E2BIG);
	/* too many variables to keep */
	CU_ASSERT_EQUAL(wrap_env_need(NULL, &(struct wrap_env_keep){ LIB, vars3, WRAP_ENV_MAX_VARS + 1 },
				      &slots, &bytes), -E2BIG);
	free(env);
	free(big);
}

/* ---- the wrappers: same result and errno as glibc's own ---- */

#define SAME(wrapped, real)							\
	do {									\
		long a_, b_;							\
		int ea_, eb_;							\
		errno = 4242;							\
		a_ = (long)(wrapped);						\
		ea_ = errno;							\
		errno = 4242;							\
		b_ = (long)(real);						\
		eb_ = errno;							\
		CU_ASSERT_EQUAL(a_, b_);					\
		CU_ASSERT_EQUAL(ea_, eb_);					\
	} while (0)

static void *libc_fn(const char *name)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	return h ? dlsym(h, name) : NULL;
}

static void test_exec_errors(void)
{
	char dir[] = "/tmp/ckpt-unit-exec.XXXXXX", noexec[64], path[128];
	char *argv[] = { "x", NULL }, *env[] = { "A=1", NULL };
	int (*r_execvp)(const char *, char *const[]) = libc_fn("execvp");
	int (*r_execvpe)(const char *, char *const[], char *const[]) = libc_fn("execvpe");
	int (*r_fexecve)(int, char *const[], char *const[]) = libc_fn("fexecve");
	int (*r_execveat)(int, const char *, char *const[], char *const[], int) = libc_fn("execveat");
	int (*r_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
		       const posix_spawnattr_t *, char *const[], char *const[]) = libc_fn("posix_spawn");
	int (*r_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]) = libc_fn("posix_spawnp");
	char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	pid_t pid = 0;
	int fd;

	CU_ASSERT_FATAL(r_execvp && r_execvpe && r_fexecve && r_execveat && r_spawn && r_spawnp);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
	fd = open(noexec, O_CREAT | O_WRONLY, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/missing", dir);

	SAME(execve(path, argv, env), syscall(SYS_execve, path, argv, env));
	SAME(execve(noexec, argv, env), syscall(SYS_execve, noexec, argv, env));
	SAME(execve(path, argv, NULL), syscall(SYS_execve, path, argv, NULL));
	SAME(execv(noexec, argv), syscall(SYS_execve, noexec, argv, environ));
	SAME(execl(path, "x", "y", (char *)NULL), syscall(SYS_execve, path, argv, environ));
	SAME(execle(noexec, "x", (char *)NULL, env), syscall(SYS_execve, noexec, argv, env));
	SAME(execveat(AT_FDCWD, path, argv, env, 0), r_execveat(AT_FDCWD, path, argv, env, 0));
	SAME(execveat(AT_FDCWD, noexec, argv, env, 0x7fff0000),
	     r_execveat(AT_FDCWD, noexec, argv, env, 0x7fff0000));
	/* PATH search: ENOENT for a name nowhere, EACCES for one found but not executable */
	setenv("PATH", dir, 1);
	SAME(execvp("missing", argv), r_execvp("missing", argv));
	SAME(execvp("noexec", argv), r_execvp("noexec", argv));
	SAME(execlp("noexec", "x", (char *)NULL), r_execvp("noexec", argv));
	SAME(execvpe("noexec", argv, env), r_execvpe("noexec", argv, env));
	SAME(execvpe("missing", argv, NULL), r_execvpe("missing", argv, NULL));
	if (old_path)
		setenv("PATH", old_path, 1);
	free(old_path);
	fd = open(noexec, O_RDONLY);
	SAME(fexecve(fd, argv, env), r_fexecve(fd, argv, env));
	SAME(fexecve(fd, argv, NULL), r_fexecve(fd, argv, NULL));	/* EINVAL, as glibc's */
	SAME(fexecve(-1, argv, env), r_fexecve(-1, argv, env));
	close(fd);
	/* posix_spawn: the error is the result, errno is left alone */
	SAME(posix_spawn(&pid, path, NULL, NULL, argv, env), r_spawn(&pid, path, NULL, NULL, argv, env));
	SAME(posix_spawn(&pid, noexec, NULL, NULL, argv, NULL),
	     r_spawn(&pid, noexec, NULL, NULL, argv, NULL));
	SAME(posix_spawnp(&pid, path, NULL, NULL, argv, env), r_spawnp(&pid, path, NULL, NULL, argv, env));
	unlink(noexec);
	rmdir(dir);
}

UNIT_SUITE(wrap_exec,
	   { "NULL and empty environments get libckpt and the variables", test_null_and_empty },
	   { "a custom environment keeps its entries, in order", test_custom_env },
	   { "other preloads stay after libckpt", test_other_preloads },
	   { "libckpt already preloaded: passed on as it is", test_already_there },
	   { "LD_PRELOAD elements that name libckpt", test_preloads_names },
	   { "variables the caller set are kept", test_vars_kept },
	   { "libckpt linked into the program: variables only", test_no_lib },
	   { "too long: passed on unchanged", test_too_long },
	   { "exec and spawn fail as glibc's own", test_exec_errors });
