/*
 * restart_main.c - ckpt-restart: bring a checkpointed process back.
 *
 *   ckpt-restart [--check] [--lazy] [--verify] [--key FILE] [--inherit-fd N[=M],...]
 *                [--trust-image] [--assist=auto|upstream|module] IMAGE|-
 *
 * Whom it acts as (restart_trust.c): root restarting an image that nobody
 * but root could have written restores the ids and capabilities it
 * records; any other image it restarts as the image file's owner, taken
 * before anything the image names is opened, and refuses when the ids the
 * image records are not the owner's, unless --trust-image says to believe
 * them.  A user restarts only images of their own uid.
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
 *
 * --assist (kernel-assist/assist.h): who makes the process and its
 * threads with their pids: the kernel's clone3 set_tid (upstream, needs
 * CAP_CHECKPOINT_RESTORE) or the kernel-assist module (its policy lists
 * the user); auto: the module when it serves us, else upstream.
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
#include "fds/fd_inet.h"
#include "restart/rst.h"

static pid_t child;

/* One line on rst_err_fd (ckpt-restart's stderr, kept apart from the process's fd 2). */
static void rst_say(struct rst_state *s, const char *pre, const char *fmt, va_list ap)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "ckpt-restart: %s: %s", s->image, pre);

	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write(rst_err_fd, line, n);
}

void rst_error(struct rst_state *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rst_say(s, "", fmt, ap);
	va_end(ap);
}

int rst_problem(struct rst_state *s, int code, const char *fmt, ...)
{
	va_list ap;

	s->nproblems++;
	va_start(ap, fmt);
	rst_say(s, s->check_only ? "problem: " : "", fmt, ap);
	va_end(ap);
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
	pid_t p;

	forward_signals();
	/* a tree's orphans come here too (a subreaper): reaped until the root is */
	while ((p = waitpid(-1, &status, 0)) != child) {
		if (p < 0 && errno != EINTR) {
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
int rst_restore(struct rst_state *s)
{
	int r;

	rst_trust_child(s);

	/*
	 * A signal sent to the pid while it is being restored waits, blocked,
	 * and reaches the process's own handlers once it runs (the restorer
	 * keeps everything blocked until each thread's final rt_sigreturn).
	 */
	block_all_but(1ULL << (SIGBUS - 1), NULL);	/* see image_shrank() */
	if ((r = rst_load_rest(s)) || (r = rst_chain_load(s)) || (r = rst_check_env(s)) ||
	    (r = rst_open_files(s)) ||
	    (r = rst_restore_fds(s)) || (r = rst_tty_job(s)) || (r = rst_restore_locks(s)) || (r = rst_restore_misc(s)) ||
	    (r = rst_restore_attrs(s)) || (r = rst_restore_ipc(s))) {
		/* (a tree's objects are ckpt-restart's: it removes them when the tree fails) */
		if (!s->tree_files)
			rst_pshm_unmake(s);	/* POSIX shm objects it made: not the saved ones */
		rst_trust_hint(s, r);
		return r;
	}
	rst_caps_note(s);
	return rst_jump(s);
}

/* --check: who makes the pids and the timers' ids, and why. */
static void assist_report(struct rst_state *s)
{
	char why[256];
	int b = assist_choose(rst_assist_want, 0, why, sizeof(why));
	int posix = 0;

	if (b >= 0)
		printf("ckpt-restart: %s: pids made through %s\n", s->image, why);
	for (int i = 0; i < s->ntimers; i++)
		posix += s->timers[i].kind == IMG_TIMER_POSIX;
	if (posix)
		printf("ckpt-restart: %s: POSIX timer ids made through %s\n", s->image, s->timer_why);
}

static int check_verdict(struct rst_state *s)
{
	rst_trust_report(s);
	if (s->nproblems) {
		fprintf(stderr, "ckpt-restart: %s: cannot be restarted here (%d problem%s)\n",
			s->image, s->nproblems, s->nproblems > 1 ? "s" : "");
		return RST_EXIT_ENV;
	}
	rst_caps_note(s);
	assist_report(s);
	printf("ckpt-restart: %s: can be restarted here (pid %d%s, %d mappings, %d fds)\n",
	       s->image, s->proc.pid, s->pidns ? " in a new pid namespace" : "", s->nvmas,
	       s->nfds);
	return 0;
}

static int check(struct rst_state *s)
{
	int r;

	rst_check_pid(s);
	if ((r = rst_load_rest(s)) || (r = rst_chain_load(s))) {
		rst_trust_hint(s, r);
		return r;
	}
	rst_check_env(s);
	return check_verdict(s);
}

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-restart [--check] [--lazy] [--verify] [--key FILE]\n"
		"                    [--inherit-fd N[=M],...] [--trust-image]\n"
		"                    [--tcp=refuse|repair|close]\n"
		"                    [--assist=auto|upstream|module] IMAGE|-\n"
		"  --check        say whether IMAGE can be restarted here, and why not\n"
		"  --lazy         run at once; memory arrives on first touch and in the background\n"
		"  --verify       read and check a mappable image's page data before it runs\n"
		"  --key FILE     the image (and its parents) must be sealed with this key\n"
		"                 (ckpt-save --key): checked before anything is used; its seal\n"
		"                 then says whom the process ran as\n"
		"  --inherit-fd   the process's fd N is ckpt-restart's own fd M (default N),\n"
		"                 whatever the image holds for it (repeatable, or a list: 0,1,2)\n"
		"  --trust-image  (root) believe the uid, gid, groups and capabilities IMAGE\n"
		"                 records even though someone other than root could have\n"
		"                 written it (docs/SECURITY.md)\n"
		"  --tcp=MODE     a TCP connection to a peer outside the image: refuse (the\n"
		"                 default: say which), repair (TCP_REPAIR: the peer still holds\n"
		"                 it, after ckpt-save --exit), close (reset: ECONNRESET on its\n"
		"                 next use); connections inside the image are always repaired\n"
		"  --assist=WHO   who makes the process and its threads with their pids:\n"
		"                 upstream (clone3 set_tid: root or CAP_CHECKPOINT_RESTORE),\n"
		"                 module (the kernel-assist module, /dev/ckpt-assist, whose\n"
		"                 policy lists the user), auto (the default: the module when\n"
		"                 it serves this user, else upstream)\n");
}

/* "N[=M],..." into s->inherit: 0, or -1 with the reason printed. */
static int parse_inherit(struct rst_state *s, const char *arg)
{
	const char *p = arg;

	while (*p) {
		char *end;
		long fd = strtol(p, &end, 10), from = fd;

		if (end == p || fd < 0 || fd > 1 << 20)
			goto bad;
		if (*end == '=') {
			p = end + 1;
			from = strtol(p, &end, 10);
			if (end == p || from < 0 || from > 1 << 20)
				goto bad;
		}
		if (*end && *end != ',')
			goto bad;
		if (s->ninherit == RST_INHERIT_MAX) {
			fprintf(stderr, "ckpt-restart: --inherit-fd: at most %d fds\n", RST_INHERIT_MAX);
			return -1;
		}
		for (int i = 0; i < s->ninherit; i++)
			if (s->inherit[i].fd == fd)
				goto bad;
		s->inherit[s->ninherit++] = (struct rst_inherit){ (int)fd, (int)from };
		p = *end ? end + 1 : end;
	}
	if (p != arg)
		return 0;
bad:
	fprintf(stderr, "ckpt-restart: --inherit-fd %s: want N or N=M (fd numbers), comma "
		"separated, each fd once\n", arg);
	return -1;
}

/*
 * fds 0-2 that ckpt-restart was started without: a placeholder holds each
 * number (so the image, say, cannot become fd 1 and then be handed to the
 * process as its stdout), and s->std_closed remembers them.
 */
static void hold_std_fds(struct rst_state *s)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		s->std_closed |= 1u << fd;
		int n = open("/dev/null", O_RDWR);

		if (n >= 0 && n != fd)
			close(n);
	}
}

int main(int argc, char **argv)
{
	struct rst_state s = { .img_fd = -1, .exe_fd = -1, .lazy_fd = -1, .tree_index = -1 };
	int i, r, lazy = 0;

	hold_std_fds(&s);

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--check"))
			s.check_only = 1;
		else if (!strcmp(argv[i], "--lazy"))
			lazy = s.want_lazy = 1;
		else if (!strcmp(argv[i], "--trust-image"))
			s.trust_opt = 1;
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			s.key_path = argv[++i];
		else if (!strcmp(argv[i], "--verify"))
			s.verify = 1;
		else if (!strcmp(argv[i], "--inherit-fd") && i + 1 < argc)
			{ if (parse_inherit(&s, argv[++i])) return RST_EXIT_USAGE; }
		else if (!strncmp(argv[i], "--inherit-fd=", 13))
			{ if (parse_inherit(&s, argv[i] + 13)) return RST_EXIT_USAGE; }
		else if (!strcmp(argv[i], "--tcp=refuse"))
			rst_tcp_mode = RST_TCP_REFUSE;
		else if (!strcmp(argv[i], "--tcp=repair"))
			rst_tcp_mode = RST_TCP_REPAIR;
		else if (!strcmp(argv[i], "--tcp=close"))
			rst_tcp_mode = RST_TCP_CLOSE;
		else if (!strncmp(argv[i], "--assist=", 9) && assist_parse(argv[i] + 9) >= 0)
			rst_assist_want = assist_parse(argv[i] + 9);
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
	if ((r = rst_creds_init(&s)))
		return r;
	if (!strcmp(s.image, "-")) {
		s.img_fd = 0;
	} else if ((s.img_fd = open(s.image, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "ckpt-restart: %s: cannot open: %s\n", s.image, strerror(errno));
		return RST_EXIT_IMAGE;
	}
	/* a seal, when asked for, is checked first: it then says whom to trust */
	if ((r = rst_seal_open(&s)))
		return r;
	rst_trust_decide(&s);
	/* a tree's image: its directory and every section's metadata (restart_tree.c) */
	if ((r = rst_load_proc(&s)) == RST_IS_TREE)
		r = rst_tree_load(&s);
	if (r || (r = rst_seal_check_proc(&s)))
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
	} else if ((r = rst_trust_apply(&s)) && !s.check_only) {
		return r;
	}
	if (s.check_only) {
		if (s.tree)
			return rst_tree_check(&s);
		rst_map(&s, &s.r);
		return check(&s);
	}
	if (s.tree) {
		if ((r = rst_tree_check_pids(&s)))
			return r;
		child = rst_tree_start(&s);
		if (child < 0)
			return RST_EXIT_ENV;
		rst_caps_release(&s);
		assist_module_close();
		if (s.img_fd > 2)
			close(s.img_fd);
		return s.pidns ? rst_pidns_init(child) : wait_child();
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

	/* its terminal: ckpt-restart's, given up if the process leads a session on it */
	rst_tty_prepare(&s, !!(s.r.hdr.flags & IMG_F_CTTY));
	block_all_but(0, &old);
	rst_caps_raise(&s);
	child = assist_fork_pid(s.proc.pid);
	rst_caps_lower(&s);
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
		else if (child == -EPERM && assist_backend() == ASSIST_MODULE)
			rst_error(&s, "cannot create a process with pid %d: the kernel-assist "
				  "module refused it (its policy: /sys/module/ckpt_assist/parameters/)",
				  s.proc.pid);
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
		_exit(rst_restore(&s));
	}
	rst_caps_release(&s);		/* the waiting parent needs none of it */
	assist_module_close();
	if (s.lazy) {
		forward_signals();
		if ((r = rst_lazy_serve(&s, child)))
			return r;
	}
	if (s.img_fd > 2)
		close(s.img_fd);
	return s.pidns ? rst_pidns_init(child) : wait_child();
}
