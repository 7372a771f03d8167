/*
 * restart_main.c - ckpt-restart: bring a checkpointed process back.
 *
 *   ckpt-restart [--check] [--lazy] IMAGE|-
 *
 * --lazy (restart_lazy.c): the process runs as soon as its registers are
 * back; this process serves its memory with userfaultfd, then waits.
 *
 * The restarted process is a child of ckpt-restart, which waits for it and
 * exits with its status (128+N if a signal N ended it), like `criu
 * restore` without --restore-detached; it inherits ckpt-restart's stdin,
 * stdout and stderr.  SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
 * SIGUSR2 sent to ckpt-restart are passed on to it (not a terminal's:
 * those reach it directly, in the same process group).
 *
 * An image taken under `ckpt-run --pidns` (IMG_F_PIDNS) is restarted in
 * a new user+pid namespace, by its pid 1 (restart_pidns.c): the same
 * steps, with no privilege needed for the pid.  --check runs there too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kernel-assist/assist.h"
#include "restart/rst.h"

static pid_t child;

void rst_error(struct rst_state *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ckpt-restart: %s: ", s->image);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int rst_problem(struct rst_state *s, int code, const char *fmt, ...)
{
	va_list ap;

	s->nproblems++;
	fprintf(stderr, "ckpt-restart: %s: %s", s->image, s->check_only ? "problem: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void forward(int sig, siginfo_t *si, void *uc)
{
	/* ^C went to the whole process group, the restarted process included. */
	if (child > 0 && si->si_code != SI_KERNEL)
		kill(child, sig);
}

static void forward_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO };

	sa.sa_flags |= SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int wait_child(void)
{
	int status;

	forward_signals();
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("ckpt-restart: waitpid");
			return RST_EXIT_ENV;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Blocks every signal 1 to 64 but those in `except` (bit sig-1), with the
 * system call: a libc's sigfillset may leave out the signals it keeps for
 * itself (musl's: 32 to 34), which the image's process may use and whose
 * default action ends it.  The old mask goes to *old unless it is NULL.
 */
static void block_all_but(uint64_t except, uint64_t *old)
{
	uint64_t set = ~except;

	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, old, sizeof(set));
}

static const char *image_name;

/*
 * Images are read from mappings (rst_map): a file cut short while it is
 * read faults with SIGBUS where the missing bytes were.  That is a clear
 * error, not a crash.  (A SIGBUS someone sends is ignored.)
 */
static void image_shrank(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "ckpt-restart: ", post[] =
		": an image file (this one or a parent) shrank while it was being read\n";

	if (si->si_code <= 0)
		return;
	write(2, pre, sizeof(pre) - 1);
	write(2, image_name, strlen(image_name));
	write(2, post, sizeof(post) - 1);
	_exit(RST_EXIT_IMAGE);
}

void rst_map(struct rst_state *s, struct img_reader *r)
{
	struct sigaction sa = { .sa_sigaction = image_shrank, .sa_flags = SA_SIGINFO };

	if (img_reader_map(r) < 0 || image_name)
		return;
	image_name = s->image;
	sigaction(SIGBUS, &sa, NULL);
}

/* In the child, whose pid is the image's: the rest of the restart. */
static int restore(struct rst_state *s)
{
	int r;

	/*
	 * A signal sent to the pid while it is being restored waits, blocked,
	 * and reaches the process's own handlers once it runs (the restorer
	 * keeps everything blocked until each thread's final rt_sigreturn).
	 */
	block_all_but(1ULL << (SIGBUS - 1), NULL);	/* see image_shrank() */
	if ((r = rst_load_rest(s)) || (r = rst_chain_load(s)) || (r = rst_check_env(s)) ||
	    (r = rst_open_files(s)) ||
	    (r = rst_restore_fds(s)) || (r = rst_restore_misc(s)))
		return r;
	return rst_jump(s);
}

static int check_verdict(struct rst_state *s)
{
	if (s->nproblems) {
		fprintf(stderr, "ckpt-restart: %s: cannot be restarted here (%d problem%s)\n",
			s->image, s->nproblems, s->nproblems > 1 ? "s" : "");
		return RST_EXIT_ENV;
	}
	printf("ckpt-restart: %s: can be restarted here (pid %d%s, %d mappings, %d fds)\n",
	       s->image, s->proc.pid, s->pidns ? " in a new pid namespace" : "", s->nvmas,
	       s->nfds);
	return 0;
}

static int check(struct rst_state *s)
{
	int r;

	rst_check_pid(s);
	if ((r = rst_load_rest(s)) || (r = rst_chain_load(s)))
		return r;
	rst_check_env(s);
	return check_verdict(s);
}

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-restart [--check] [--lazy] IMAGE|-\n"
		"  --check  say whether IMAGE can be restarted here, and why not\n"
		"  --lazy   run at once; memory arrives on first touch and in the background\n");
}

int main(int argc, char **argv)
{
	struct rst_state s = { .img_fd = -1, .exe_fd = -1, .lazy_fd = -1 };
	int i, r, lazy = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--check"))
			s.check_only = 1;
		else if (!strcmp(argv[i], "--lazy"))
			lazy = 1;
		else if (!strcmp(argv[i], "--"))
			{ i++; break; }
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			{ usage(); return 0; }
		else
			{ usage(); return RST_EXIT_USAGE; }
	}
	if (i != argc - 1) {
		usage();
		return RST_EXIT_USAGE;
	}
	s.image = argv[i];
	if (!strcmp(s.image, "-")) {
		s.img_fd = 0;
	} else if ((s.img_fd = open(s.image, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "ckpt-restart: %s: cannot open: %s\n", s.image, strerror(errno));
		return RST_EXIT_IMAGE;
	}
	if ((r = rst_load_proc(&s)))
		return r;
	if (s.r.hdr.flags & IMG_F_PIDNS) {
		s.pidns = 1;
		child = rst_pidns_enter(&s);
		if (child < 0)
			return s.check_only ? check_verdict(&s) : RST_EXIT_ENV;
		if (child > 0) {
			/* pid 1 goes on with the restart; we wait for it. */
			if (s.img_fd > 2)
				close(s.img_fd);
			return wait_child();
		}
	}
	if (s.check_only) {
		rst_map(&s, &s.r);
		return check(&s);
	}
	if (lazy && (r = rst_lazy_setup(&s)))
		return r;
	if (!s.lazy)
		rst_map(&s, &s.r);
	if ((r = rst_check_pid(&s)))
		return r;
	/* --lazy: the metadata is read here, so that this process can serve the pages. */
	if (s.lazy && (r = rst_load_rest(&s)))
		return r;

	fflush(NULL);
	/*
	 * The pid is visible from the moment the child exists: a signal sent
	 * to it before the child blocks everything itself (restore()) would
	 * find default dispositions and could kill it.  So the child is born
	 * with every signal blocked.
	 */
	uint64_t old;

	block_all_but(0, &old);
	child = assist_fork_pid(s.proc.pid);
	if (child != 0)
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	if (child < 0) {
		char name[64], desc[160];

		if (child == -EEXIST && assist_pid_holder(s.proc.pid, name, sizeof(name)))
			rst_error(&s, "pid %d was taken by process %d (%s) just now; retry when "
				  "it is free", s.proc.pid, s.proc.pid, name);
		else if (child == -EEXIST && assist_pid_user(s.proc.pid, desc, sizeof(desc)))
			rst_error(&s, "cannot create a process with pid %d: it is still the %s; "
				  "retry once that process has ended and been reaped", s.proc.pid,
				  desc);
		else if (child == -EPERM)
			rst_error(&s, "cannot create a process with pid %d: restoring a pid needs "
				  "root or CAP_CHECKPOINT_RESTORE", s.proc.pid);
		else
			rst_error(&s, "cannot create a process with pid %d: %s", s.proc.pid,
				  strerror(-child));
		return RST_EXIT_ENV;
	}
	if (child == 0) {
		rst_lazy_child(&s);
		_exit(restore(&s));
	}
	if (s.lazy) {
		forward_signals();
		if ((r = rst_lazy_serve(&s, child)))
			return r;
	}
	if (s.img_fd > 2)
		close(s.img_fd);
	return s.pidns ? rst_pidns_init(child) : wait_child();
}
