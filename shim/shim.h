/*
 * shim.h - configuration the shim's constructor reads from the environment,
 * for the wrappers and the engine.
 */
#ifndef CKPT_SHIM_H
#define CKPT_SHIM_H

/* Default internal checkpoint signal (ckpt-save, ckpt_save()): SIGRTMAX-1. */
#define SHIM_DEFAULT_SIGNAL	63
/* Environment variable that overrides it (a number or a name). */
#define SHIM_ENV_CTL_SIGNAL	"CKPT_CTL_SIGNAL"
/* The pid of the tree's root, set by the first shim (shim_config.c). */
#define SHIM_ENV_TREE_ROOT	"CKPT_TREE_ROOT"

/*
 * 1 when libckpt owns `sig` (the internal checkpoint signal, and the
 * CKPT_SIGNAL trigger if set): the application may not block, catch or
 * ignore it; the wrappers show it its own view instead.
 * Async-signal-safe; valid before the constructor ran (returns the default).
 */
int shim_reserved_signal(int sig);

/* The internal checkpoint signal. */
int shim_ctl_signal(void);

/*
 * In a child that has a copy of this process's memory (fork(), daemon(),
 * clone() without CLONE_VM), before it runs anything else: forgets the
 * parent's checkpoint state and the triggers only the tree's root acts on
 * (shim/shim_fork.c).  Async-signal-safe.
 */
void shim_forked_child(void);

#endif
