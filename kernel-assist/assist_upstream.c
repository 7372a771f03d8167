/*
 * assist_upstream.c - kernel-assist on the upstream kernel's interfaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "kernel-assist/assist.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

static int have_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

void assist_probe(struct assist_caps *caps)
{
	int cr = have_cap(CAP_CHECKPOINT_RESTORE) || have_cap(CAP_SYS_ADMIN);

	caps->set_tid = cr;
	caps->exe_link = cr;
	/* The file is 0666; writing it needs the capability all the same. */
	caps->ns_last_pid = cr && access("/proc/sys/kernel/ns_last_pid", W_OK) == 0;
}

/* struct clone_args of <linux/sched.h>, which clashes with <sched.h>. */
struct assist_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static pid_t clone3_pid(pid_t pid)
{
	struct assist_clone_args args;
	pid_t tid = pid;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)&tid;
	args.set_tid_size = 1;
	long r = syscall(SYS_clone3, &args, sizeof(args));
	return r < 0 ? -errno : (pid_t)r;
}

/* Fallback for kernels before 5.5: racy, so the result is checked. */
static pid_t last_pid_fork(pid_t pid)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", pid - 1);
	pid_t r;

	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != n) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	r = fork();
	if (r < 0)
		return -errno;
	if (r == 0 && getpid() != pid)
		_exit(111);		/* lost the race: the parent sees it */
	if (r > 0 && r != pid)
		return -EAGAIN;
	return r;
}

pid_t assist_fork_pid(pid_t pid)
{
	char name[64];
	pid_t r;

	/*
	 * A pid whose process was just reaped may stay allocated for a few
	 * ms more (the kernel frees it later): retry a taken pid that no
	 * process holds, for up to 200 ms.
	 */
	for (int tries = 0;; tries++) {
		struct timespec ms = { 0, 1000000 };

		r = assist_backend() == ASSIST_MODULE ? assist_module_fork(pid) : clone3_pid(pid);
		if (r != -EEXIST || tries == 200 || assist_pid_holder(pid, name, sizeof(name)))
			break;
		nanosleep(&ms, NULL);
	}

	if ((r == -ENOSYS || r == -E2BIG) && assist_backend() == ASSIST_UPSTREAM)
		r = last_pid_fork(pid);
	return r;
}

int assist_pid_holder(pid_t pid, char *name, size_t len)
{
	char path[64];
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(name, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((f = fopen(path, "r"))) {
		if (fgets(name, len, f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
	}
	return 1;
}

int assist_pid_user(pid_t pid, char *desc, size_t len)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[300], buf[512], *comm, *rp;
		int pgrp, sid, n;
		char state;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		n = (int)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = '\0';
		/* "pid (comm) S ppid pgrp session": comm may hold ')', so the last one */
		comm = strchr(buf, '(');
		rp = strrchr(buf, ')');
		if (!comm || !rp || rp < comm ||
		    sscanf(rp + 1, " %c %*d %d %d", &state, &pgrp, &sid) != 3)
			continue;
		if (pgrp != pid && sid != pid)
			continue;
		*rp = '\0';
		snprintf(desc, len, "%s id of process %s (%s%s)",
			 sid == pid ? "session" : "process group", e->d_name, comm + 1,
			 state == 'Z' ? ", a zombie" : "");
		found = 1;
	}
	closedir(d);
	return found;
}

void assist_mm_map_prepare(struct prctl_mm_map *m, const struct img_proc *p,
			   const uint64_t *auxv, int exe_fd)
{
	memset(m, 0, sizeof(*m));
	m->start_code = p->mm.start_code;
	m->end_code = p->mm.end_code;
	m->start_data = p->mm.start_data;
	m->end_data = p->mm.end_data;
	m->start_brk = p->mm.start_brk;
	m->brk = p->mm.brk;
	m->start_stack = p->mm.start_stack;
	m->arg_start = p->mm.arg_start;
	m->arg_end = p->mm.arg_end;
	m->env_start = p->mm.env_start;
	m->env_end = p->mm.env_end;
	m->auxv = (void *)auxv;		/* __u64 * (kernel), uint64_t * (musl) */
	m->auxv_size = p->auxv_words * 8;
	m->exe_fd = exe_fd;
}
