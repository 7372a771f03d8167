/*
 * wrap_inotify.c - inotify_add_watch and inotify_rm_watch: the path of
 * each watch, for the checkpoint (libckpt/reg_inotify.c), which can read
 * a watch's inode from the kernel but not the path a restart must add it
 * by.  The path is recorded before the call (pending) and given its wd
 * after, so a checkpoint that parks the thread inside the call still
 * finds it.  Return value and errno are the real call's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/inotify.h>
#include "libckpt/reg.h"

#define WRAP_EXPORT __attribute__((visibility("default")))

static void *real_add, *real_rm;

__attribute__((noinline)) static void *resolve(void **slot, const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static inline void *real(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);

	return __builtin_expect(p != NULL, 1) ? p : resolve(slot, name);
}

__attribute__((constructor)) static void wrap_inotify_init(void)
{
	resolve(&real_add, "inotify_add_watch");
	resolve(&real_rm, "inotify_rm_watch");
}

WRAP_EXPORT int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	__typeof__(&inotify_add_watch) add = real(&real_add, "inotify_add_watch");
	int slot, wd, e;

	if (!add) {
		errno = ENOSYS;
		return -1;
	}
	slot = reg_inotify_begin(fd, path);
	wd = add(fd, path, mask);
	e = errno;
	reg_inotify_end(slot, fd, wd);
	errno = e;
	return wd;
}

WRAP_EXPORT int inotify_rm_watch(int fd, int wd)
{
	__typeof__(&inotify_rm_watch) rm = real(&real_rm, "inotify_rm_watch");
	int r, e;

	if (!rm) {
		errno = ENOSYS;
		return -1;
	}
	r = rm(fd, wd);
	e = errno;
	if (r == 0)
		reg_inotify_rm(fd, wd);
	errno = e;
	return r;
}
