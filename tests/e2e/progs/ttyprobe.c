/*
 * ttyprobe - a program on a terminal, for t_tty_termios.sh.  It sets
 * termios settings of its own (no ICANON, no ECHO, VINTR ^B, VERASE ^H,
 * VMIN 1, VTIME 0, no ICRNL), holds its terminal at fds 0-2, at fd 10 (a
 * dup) and at fd 11 (/dev/tty), and counts SIGWINCH.  It reads single
 * bytes: 'q' prints one report line (what it sees now), 'x' exits.
 *
 *   READY pid=P
 *   T icanon=0 echo=0 icrnl=0 vintr=2 verase=8 vmin=1 vtime=0 rows=R cols=C
 *     winch=N sid=S pgrp=G fg=F fd10=/dev/pts/N fd11=/dev/pts/N|/dev/tty
 *     same10=1 tty11=1
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch++;
}

static void link_of(int fd, char *buf, size_t len)
{
	char p[32];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

static void report(void)
{
	struct termios t;
	struct winsize ws = { 0 };
	struct stat a, b;
	char l10[64], l11[64];

	tcgetattr(0, &t);
	ioctl(0, TIOCGWINSZ, &ws);
	link_of(10, l10, sizeof(l10));
	link_of(11, l11, sizeof(l11));
	fstat(0, &a);
	fstat(10, &b);
	printf("T icanon=%d echo=%d icrnl=%d vintr=%d verase=%d vmin=%d vtime=%d rows=%d cols=%d "
	       "winch=%d sid=%d pgrp=%d fg=%d fd10=%s fd11=%s same10=%d tty11=%d\r\n",
	       !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO), !!(t.c_iflag & ICRNL), t.c_cc[VINTR],
	       t.c_cc[VERASE], t.c_cc[VMIN], t.c_cc[VTIME], ws.ws_row, ws.ws_col, (int)winch,
	       getsid(0), getpgrp(), tcgetpgrp(0), l10, l11, a.st_rdev == b.st_rdev, isatty(11));
	fflush(stdout);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };
	struct termios t;
	char c;

	sigaction(SIGWINCH, &sa, NULL);
	int dev = open("/dev/tty", O_RDWR);

	if (dup2(0, 10) != 10 || dev < 0 || dup2(dev, 11) != 11 || close(dev) < 0) {
		perror("ttyprobe: fds 10, 11");
		return 1;
	}
	tcgetattr(0, &t);
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_iflag &= ~(tcflag_t)ICRNL;
	t.c_cc[VINTR] = 2;
	t.c_cc[VERASE] = 8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &t);
	printf("READY pid=%d\r\n", getpid());
	fflush(stdout);
	while (read(0, &c, 1) == 1) {
		if (c == 'q')
			report();
		else if (c == 'x')
			return 0;
	}
	return 0;
}
