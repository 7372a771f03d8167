/*
 * wrap_env.h - the environment a program libckpt runs in hands on to the
 * programs it executes (wrappers/wrap_env.c, used by wrap_exec.c).
 *
 * A pure function of its arguments, in two steps so that the caller can
 * size the new environment on its own stack first:
 *
 *   wrap_env_need(envp, keep, &slots, &bytes)
 *	0: envp already has libckpt in LD_PRELOAD and every variable of
 *	   keep, and is passed on as it is;
 *	1: it lacks something; the new environment takes `slots` pointers
 *	   (its NULL included) and `bytes` bytes of new strings;
 *	-E2BIG: it lacks something but the new one would take more than
 *	   WRAP_ENV_MAX_SLOTS or WRAP_ENV_MAX_BYTES: pass envp on unchanged
 *	   (the child then runs without libckpt, which the checkpoint names).
 *   wrap_env_build(envp, keep, out, slots, buf, bytes)
 *	the same answer; on 1 it has filled out[slots] (pointers into envp,
 *	keep and buf) and buf[bytes]; -E2BIG also when the sizes given are
 *	short.  Only on 1 does out hold anything.
 *
 * The new environment is envp in its order, each LD_PRELOAD entry that
 * does not name libckpt rewritten in place as "LD_PRELOAD=LIB:old"
 * (libckpt first, as ckpt-run sets it; an empty one becomes
 * "LD_PRELOAD=LIB"), then "LD_PRELOAD=LIB" if envp had none, then each
 * variable of keep whose name envp lacks, in keep's order.  A variable
 * envp has, whatever its value (empty too), is never replaced: the
 * caller set it.  NULL envp is the empty environment (as for the kernel).
 *
 * An LD_PRELOAD entry names libckpt when one of its elements (split on
 * ':' and ' ', as the dynamic loader splits them) is keep->lib or has the
 * same file name ("libckpt.so").  No allocation, no locks, no errno:
 * callable in a child after fork() or vfork().
 */
#ifndef CKPT_WRAP_ENV_H
#define CKPT_WRAP_ENV_H

#include <stddef.h>

/* Bounds of what a wrapper builds on its stack (12 KiB at most). */
#define WRAP_ENV_MAX_SLOTS	1024
#define WRAP_ENV_MAX_BYTES	4096
/* Variables libckpt keeps (the CKPT_* it was started with). */
#define WRAP_ENV_MAX_VARS	64

struct wrap_env_keep {
	const char *lib;		/* libckpt's absolute path; NULL: none to add */
	const char *const *vars;	/* "NAME=value" entries a child must have */
	int nvars;			/* at most WRAP_ENV_MAX_VARS */
};

int wrap_env_need(char *const envp[], const struct wrap_env_keep *keep, size_t *slots,
		  size_t *bytes);
int wrap_env_build(char *const envp[], const struct wrap_env_keep *keep, char **out,
		   size_t slots, char *buf, size_t bytes);

/* 1 when the LD_PRELOAD value `list` (after the '=') names libckpt. */
int wrap_env_preloads(const char *list, const char *lib);

#endif
