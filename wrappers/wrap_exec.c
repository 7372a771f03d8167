/*
 * wrap_exec.c - the calls that run another program (the exec family,
 * posix_spawn) keep libckpt in it; clone() children reset libckpt's
 * per-process state as fork() children do.
 *
 * A program libckpt runs in is a tree's root or one of its members
 * (issue #11): every process of the tree must run libckpt, with the same
 * control signal.  The environment carries both: LD_PRELOAD loads libckpt
 * into an exec'd program, CKPT_CTL_SIGNAL and the other CKPT_* variables
 * configure it, CKPT_TREE_ROOT tells it it is not the root
 * (shim/shim_config.c).  A program that executes another with an
 * environment of its own (execle, execve with a custom envp, env -i,
 * clearenv() before exec, posix_spawn with envp) would drop them; the
 * wrappers add back what that environment lacks (wrappers/wrap_env.h):
 *   LD_PRELOAD   libckpt's own absolute path first, the program's other
 *                preloads after it;
 *   CKPT_*       each variable this process started with (read once at
 *                load, wrap_exec_init) that the environment does not set:
 *                a value the caller set is its choice and is kept.
 *
 *   execve execv execvp execvpe execl execle execlp fexecve execveat
 *   posix_spawn posix_spawnp
 * glibc's execv, execvp, execl... call its internal execve, never ours, so
 * each is wrapped, and calls the real execve/execvpe with the new
 * environment (the PATH search and the ENOEXEC shell fallback stay
 * glibc's).  system() and popen() use glibc's internal posix_spawn with
 * `environ`: they keep libckpt while environ has it (not after clearenv();
 * docs/SUPPORT.md).
 *
 * Invariants
 *   1. Async-signal-safe: these run in a child after fork() of a
 *      multithreaded program, and after vfork() (memory shared with the
 *      parent: nothing here writes outside its own stack frame).  The new
 *      environment is built on the stack, sized to what it needs, at most
 *      WRAP_ENV_MAX_SLOTS pointers and WRAP_ENV_MAX_BYTES of strings
 *      (12 KiB); no malloc, no locks, no stdio, no dlsym (the real
 *      functions are found at load).
 *   2. An environment that would not fit is passed on unchanged: the
 *      program runs without libckpt, which the tree's checkpoint names.
 *      Failing the exec (E2BIG) instead would break a program that works
 *      without libckpt.
 *   3. Return values and errno are the real call's: nothing here makes a
 *      system call or touches errno before the real function, so an exec
 *      that fails (ENOENT, EACCES, E2BIG...) fails exactly as it would
 *      without libckpt; posix_spawn's error number is its return value.
 *
 * clone() without CLONE_VM makes a process with a copy of our memory, as
 * fork() does, but runs no pthread_atfork handler: its function is started
 * through shim_forked_child() (shim/shim_fork.c) first.  With CLONE_VM
 * (threads, vfork-like children) the memory is the parent's own: passed
 * through untouched.  Raw system calls (syscall(SYS_clone), SYS_fork,
 * SYS_execve) bypass all of this, as they bypass every wrapper.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "shim/shim.h"
#include "shim/shim_int.h"
#include "wrappers/wrap.h"
#include "wrappers/wrap_env.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

/* ---- what a child must get (set once, by wrap_exec_init) ---- */

static char exec_lib[PATH_MAX];			/* libckpt's absolute path */
static char exec_saved[8192];			/* the CKPT_* entries, copied */
static const char *exec_vars[WRAP_ENV_MAX_VARS];
static struct wrap_env_keep exec_keep = { .vars = exec_vars };

/* ---- the real functions ---- */

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);
typedef int (*clone_fn)(int (*)(void *), void *, int, void *, ...);

static execve_fn real_execve, real_execvpe;
static fexecve_fn real_fexecve;
static execveat_fn real_execveat;
static spawn_fn real_posix_spawn, real_posix_spawnp;
static clone_fn real_clone;

/*
 * Found at load (wrap_exec_init); the lookup here only serves a call made
 * before that (another library's constructor), never a child after fork.
 */
static void *exec_real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	if (!p) {
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	}
	return p;
}

#define REAL(name) ((__typeof__(real_##name))exec_real((void **)&real_##name, #name))

/* ---- load time ---- */

/*
 * libckpt's absolute path into exec_lib, from the object that holds this
 * code; left empty when that is the main program (libckpt's sources
 * linked into it, as in the unit tests: nothing to preload) or when the
 * dynamic loader could not preload it (':' or ' ' in the path).
 */
static void exec_find_lib(void)
{
	Dl_info self, prog;

	if (!dladdr((void *)exec_find_lib, &self) || !self.dli_fname || !self.dli_fname[0])
		return;
	if (dladdr((void *)getauxval(AT_PHDR), &prog) && prog.dli_fbase == self.dli_fbase)
		return;
	if (!realpath(self.dli_fname, exec_lib)) {
		if (self.dli_fname[0] != '/' || strlen(self.dli_fname) >= sizeof(exec_lib)) {
			exec_lib[0] = '\0';
			return;
		}
		strcpy(exec_lib, self.dli_fname);
	}
	if (strpbrk(exec_lib, ": "))
		exec_lib[0] = '\0';
}

/* The CKPT_* entries of the environment as it is now, copied. */
static void exec_save_vars(void)
{
	size_t used = 0;
	int n = 0;

	for (char **e = environ; e && *e && n < WRAP_ENV_MAX_VARS; e++) {
		size_t len = strlen(*e) + 1;

		if (strncmp(*e, "CKPT_", 5) || !strchr(*e, '=') || used + len > sizeof(exec_saved))
			continue;
		memcpy(exec_saved + used, *e, len);
		exec_vars[n++] = exec_saved + used;
		used += len;
	}
	exec_keep.nvars = n;
}

void wrap_exec_init(void)
{
	exec_real((void **)&real_execve, "execve");
	exec_real((void **)&real_execvpe, "execvpe");
	exec_real((void **)&real_fexecve, "fexecve");
	exec_real((void **)&real_execveat, "execveat");
	exec_real((void **)&real_posix_spawn, "posix_spawn");
	exec_real((void **)&real_posix_spawnp, "posix_spawnp");
	exec_real((void **)&real_clone, "clone");
	exec_find_lib();
	exec_keep.lib = exec_lib[0] ? exec_lib : NULL;
	exec_save_vars();
}

const char *wrap_exec_lib(void)
{
	return exec_keep.lib;
}

/* ---- the new environment ---- */

/*
 * Declares `char *const *name` in the calling function's frame: envp
 * itself, or the environment wrap_env_build made of it in two arrays of
 * that frame (a helper's frame would be gone before the exec).
 */
#define EXEC_ENV(name, envp)							\
	size_t name##_slots = 1, name##_bytes = 1;				\
	int name##_r = wrap_env_need((envp), &exec_keep, &name##_slots, &name##_bytes);	\
	char *name##_v[name##_r > 0 ? name##_slots : 1];			\
	char name##_b[name##_r > 0 && name##_bytes ? name##_bytes : 1];	\
	char *const *name = name##_r > 0 && wrap_env_build((envp), &exec_keep, name##_v,	\
			name##_slots, name##_b, sizeof(name##_b)) > 0 ? name##_v : (envp)

/*
 * A tree's request (libckpt's control signal, ckpt_tree.h) that reached
 * a process between its exec and the new program's libckpt catching the
 * signal would end it: a handler does not survive exec, and the signal's
 * default action terminates.  So the signal is blocked across the exec
 * (with the system call: the program's own view of its mask is not
 * touched).  Pending, a request then waits for the new libckpt, which
 * unblocks it once its handler is in (wrap_sig_adopt).  An exec that
 * fails (it returns) gives the mask back, errno kept.  A spawn's child
 * inherits the block the same way; the caller gets its mask back.
 */
static int exec_hold(uint64_t *old)
{
	uint64_t set = 1ull << (shim_cfg.ctl_sig - 1);

	return shim_cfg.ctl_sig > 0 ? (int)arch_sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set,
						      (long)old, 8) : -1;
}

static void exec_unhold(const uint64_t *old, int held)
{
	int e = errno;

	if (held == 0)
		arch_sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)old, 0, 8);
	errno = e;
}

static int exec_ve(const char *path, char *const argv[], char *const envp[])
{
	EXEC_ENV(env, envp);
	execve_fn real = REAL(execve);
	uint64_t old;
	int held = exec_hold(&old), r;

	if (!real) {
		long k = arch_sys3(SYS_execve, (long)path, (long)argv, (long)env);

		errno = (int)-k;	/* it returned: it failed */
		r = -1;
	} else {
		r = real(path, argv, env);
	}
	exec_unhold(&old, held);
	return r;
}

static int exec_vpe(const char *file, char *const argv[], char *const envp[])
{
	EXEC_ENV(env, envp);
	execve_fn real = REAL(execvpe);
	uint64_t old;
	int held, r;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	held = exec_hold(&old);
	r = real(file, argv, env);
	exec_unhold(&old, held);
	return r;
}

/* ---- the exec family ---- */

WRAP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_ve(path, argv, envp);
}

WRAP_EXPORT int execv(const char *path, char *const argv[])
{
	return exec_ve(path, argv, environ);
}

WRAP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return exec_vpe(file, argv, envp);
}

WRAP_EXPORT int execvp(const char *file, char *const argv[])
{
	return exec_vpe(file, argv, environ);
}

/*
 * The execl* arguments as an argv on this stack, as glibc builds it
 * (posix/execl.c): the count first, E2BIG past INT_MAX.
 */
#define EXEC_ARGV(argv, arg, ap, last)						\
	ptrdiff_t argv##_c;							\
	va_start(ap, last);							\
	for (argv##_c = 1; va_arg(ap, const char *); argv##_c++) {		\
		if (argv##_c == INT_MAX) {					\
			va_end(ap);						\
			errno = E2BIG;						\
			return -1;						\
		}								\
	}									\
	va_end(ap);								\
	char *argv[argv##_c + 1];						\
	va_start(ap, last);							\
	argv[0] = (char *)(arg);						\
	for (ptrdiff_t argv##_i = 1; argv##_i <= argv##_c; argv##_i++)	\
		argv[argv##_i] = va_arg(ap, char *)

WRAP_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;

	EXEC_ARGV(argv, arg, ap, arg);
	va_end(ap);
	return exec_ve(path, argv, environ);
}

WRAP_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	va_list ap;

	EXEC_ARGV(argv, arg, ap, arg);
	envp = va_arg(ap, char *const *);	/* after the NULL */
	va_end(ap);
	return exec_ve(path, argv, envp);
}

WRAP_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;

	EXEC_ARGV(argv, arg, ap, arg);
	va_end(ap);
	return exec_vpe(file, argv, environ);
}

/* glibc's fexecve refuses a NULL envp (EINVAL), where the kernel's exec takes it as empty. */
WRAP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	EXEC_ENV(env, envp);
	fexecve_fn real = REAL(fexecve);

	uint64_t old;
	int held, r;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	held = exec_hold(&old);
	r = real(fd, argv, envp ? env : NULL);
	exec_unhold(&old, held);
	return r;
}

WRAP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			 int flags)
{
	EXEC_ENV(env, envp);
	execveat_fn real = REAL(execveat);

	uint64_t old;
	int held = exec_hold(&old), r;

	if (!real) {		/* a glibc before 2.34 */
		long k = arch_sys5(SYS_execveat, dirfd, (long)path, (long)argv, (long)env, flags);

		errno = (int)-k;
		r = -1;
	} else {
		r = real(dirfd, path, argv, env, flags);
	}
	exec_unhold(&old, held);
	return r;
}

/* ---- posix_spawn ---- */

/* posix_spawn and posix_spawnp: env is the environment libckpt kept. */
static int spawn_held(spawn_fn real, pid_t *pid, const char *path,
		      const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
		      char *const argv[], char *const env[])
{
	uint64_t old;
	int held, r;

	if (!real)
		return ENOSYS;
	held = exec_hold(&old);
	r = real(pid, path, fa, attr, argv, env);
	exec_unhold(&old, held);
	return r;
}

WRAP_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	EXEC_ENV(env, envp);

	return spawn_held(REAL(posix_spawn), pid, path, fa, attr, argv, env);
}

WRAP_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	EXEC_ENV(env, envp);

	return spawn_held(REAL(posix_spawnp), pid, file, fa, attr, argv, env);
}

/* ---- clone ---- */

struct exec_clone_start {
	int (*fn)(void *);
	void *arg;
};

/* The child's first code: its own copy of our memory, like fork's child. */
static int exec_clone_child(void *p)
{
	struct exec_clone_start *s = p;

	shim_forked_child();
	return s->fn(s->arg);
}

/*
 * The optional arguments (parent tid, TLS, child tid) are read and passed
 * on whatever the flags, as glibc's own clone takes them from registers
 * and the stack whatever the flags.
 */
WRAP_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	/* in the parent's frame; the child reads its own copy of it */
	struct exec_clone_start s = { fn, arg };
	clone_fn real = REAL(clone);
	pid_t *ptid, *ctid;
	void *tls;
	va_list ap;

	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* shared memory (a thread, a vfork-like child), or an error glibc reports */
	if ((flags & CLONE_VM) || !fn || !stack)
		return real(fn, stack, flags, arg, ptid, tls, ctid);
	return real(exec_clone_child, stack, flags, &s, ptid, tls, ctid);
}
