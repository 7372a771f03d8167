/*
 * ckpt_proc.c - process-wide state: what is refused (child processes)
 * and the PROC record (ids, mm fields, auxv,
 * rlimits, signal dispositions, umask, cwd, exe, comm, supplementary
 * groups).
 *
 * The mm fields come from /proc/self/stat (fields 26-28, 45-51) and
 * brk(0): exactly what PR_SET_MM_MAP takes at restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"

int ckpt_proc_check(struct ckpt_ctx *c)
{
	siginfo_t si;

	(void)c;
	si.si_pid = 0;
	/* libckpt's own forked writers have exit signal 0: only __WALL sees them */
	return ckpt_waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) == 0;
}

/* Parses the mm fields of /proc/self/stat. */
static int read_stat(struct ckpt_ctx *c, struct img_proc *p)
{
	char *buf = (char *)c->bounce;
	ssize_t len = ckpt_read_file("/proc/self/stat", buf, 4096);
	const char *s;
	uint64_t f[53] = { 0 };

	if (len < 0)
		return ckpt_fail(c, (int)len, "cannot read /proc/self/stat");
	s = buf;
	for (const char *q = buf; *q; q++)	/* comm may hold ')' */
		if (*q == ')')
			s = q;
	s += 2;					/* ") " : field 3 next */
	for (int i = 3; i <= 52 && *s; i++) {
		if (*s == '-') {		/* signed fields: keep bits */
			f[i] = (uint64_t)ckpt_parse_dec(&s);
		} else if (*s >= '0' && *s <= '9') {
			f[i] = (uint64_t)ckpt_parse_dec(&s);
		} else {
			while (*s && *s != ' ')
				s++;
		}
		while (*s == ' ')
			s++;
	}
	p->ppid = f[4];
	p->pgid = f[5];
	p->sid = f[6];
	p->mm.start_code = f[26];
	p->mm.end_code = f[27];
	p->mm.start_stack = f[28];
	p->mm.start_data = f[45];
	p->mm.end_data = f[46];
	p->mm.start_brk = f[47];
	p->mm.arg_start = f[48];
	p->mm.arg_end = f[49];
	p->mm.env_start = f[50];
	p->mm.env_end = f[51];
	p->mm.brk = arch_sys1(SYS_brk, 0);
	return 0;
}

static int read_auxv(struct ckpt_ctx *c, struct img_proc *p)
{
	int fd = ckpt_open("/proc/self/auxv", O_RDONLY | O_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return ckpt_fail(c, -errno, "cannot open /proc/self/auxv");
	n = read(fd, p->auxv, sizeof(p->auxv));
	ckpt_close(fd);
	if (n <= 0 || n % 16)
		return ckpt_fail(c, -EIO, "cannot read /proc/self/auxv");
	p->auxv_words = n / 8;
	return 0;
}

/* gids that fit in c->bounce after the two paths (see ckpt_proc_write) */
#define PROC_GROUPS_ROOM	((int)((IMG_PAGES_MAX * IMG_PAGE_SIZE - 8192 - 8192) / 4))

int ckpt_proc_write(struct ckpt_ctx *c)
{
	static struct img_proc p;	/* 3 KiB: keep it off the signal stack */
	char *paths = (char *)c->bounce + 8192;
	long r;

	p = (struct img_proc){ 0 };
	p.pid = getpid();
	p.uid = getuid();
	p.gid = getgid();
	p.umask = umask(0);
	umask(p.umask);
	p.nthreads = 1 + ckpt_nparked;
	p.ckpt_signal = c->sig;
	prctl(PR_GET_NAME, p.comm);
	if (read_stat(c, &p) < 0 || read_auxv(c, &p) < 0)
		return c->error;
	for (int i = 0; i < IMG_NRLIMIT; i++) {
		struct rlimit rl;

		if (prlimit(0, i, NULL, &rl) == 0) {
			p.rlim[i].cur = rl.rlim_cur;
			p.rlim[i].max = rl.rlim_max;
		}
	}
	for (int sig = 1; sig <= IMG_NSIG; sig++)
		arch_sys4(SYS_rt_sigaction, sig, NULL, &p.sigact[sig - 1], 8);
	p.sigpending = c->leader.shdpending;	/* the process's, not the thread's */

	/* cwd then exe, back to back after the struct. */
	r = arch_sys2(SYS_getcwd, paths, 4096);
	if (r < 0)
		return ckpt_fail(c, (int)r, "the current directory was deleted or is unreachable");
	p.cwd_len = ckpt_strlen(paths);
	r = readlink("/proc/self/exe", paths + p.cwd_len, 4096);
	if (r < 0)
		return ckpt_fail(c, -errno, "cannot read /proc/self/exe");
	p.exe_len = r;
	/*
	 * Then the supplementary groups, raw gids straight after them: what
	 * is left of the bounce buffer (256 KiB, 8 KiB in) holds 61440 of the
	 * kernel's 65536 at most.
	 */
	r = arch_sys2(SYS_getgroups, PROC_GROUPS_ROOM, paths + p.cwd_len + p.exe_len);
	if (r < 0)
		return ckpt_fail(c, (int)r, "the process has more than %d supplementary groups; "
				 "the image holds %d", PROC_GROUPS_ROOM, PROC_GROUPS_ROOM);
	p.ngroups = r;
	img_write_record(&c->w, IMG_REC_PROC, &p, sizeof(p), paths,
			 p.cwd_len + p.exe_len + (size_t)p.ngroups * 4);
	return c->w.error;
}
