/*
 * reaper.c - runs a test as a child subreaper: every process the test
 * orphans (a tree killed whole) comes here and is reaped at once, so its
 * pid is free again at once.  Some machines' init reaps only now and
 * then, and a test restarting a tree waits for its pids (run.sh).
 *
 *   reaper COMMAND [ARGS...]   exits with COMMAND's status
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t child, p;
	int st, rc = 1;

	if (argc < 2)
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	/* every child, adopted or not, until the test itself is done */
	while ((p = waitpid(-1, &st, 0)) != child)
		if (p < 0 && errno != EINTR)
			return 2;
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	while (waitpid(-1, &st, WNOHANG) > 0)
		;
	return rc;
}
