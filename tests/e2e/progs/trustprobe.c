/*
 * trustprobe.c - what a restarted process was given, for the trust tests
 * (tests/e2e/t_trust*.sh): who it runs as, and what its files give it.
 *
 *   trustprobe IMAGE RFILE WFILE MFILE MWFILE      ("-": none)
 * Opens RFILE read-only and WFILE write-only (O_APPEND), maps MFILE
 * (MAP_SHARED, read-only) and MWFILE (MAP_SHARED, read-write; one page
 * each), then ckpt_save(IMAGE).  The original prints "SAVED pid" and
 * exits 0.  A restarted copy prints, one line each:
 *   ID uid euid suid gid egid sgid
 *   GROUPS g...                    (getgroups)
 *   CAPS eff prm inh amb bnd       (/proc/self/status, hex)
 *   SESSION sid pgid tty_nr        (tty_nr 0: no controlling terminal)
 *   DUMPABLE n
 *   READ xxxxx      the first 5 bytes RFILE's fd reads (no more: the
 *                   tests point it at /etc/shadow and must not log it)
 *   WROTE n|-errno  a line written to WFILE's fd
 *   MAP xxxxx       the first 5 bytes of MFILE's mapping
 *   MAPW ok         "PWNED" written at the start of MWFILE's mapping
 * then "RESTORED" and exits 0.  Nothing else: the tests decide what was
 * allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "ckpt.h"

static void show5(const char *what, const unsigned char *p, ssize_t n)
{
	printf("%s ", what);
	for (ssize_t i = 0; i < n && i < 5; i++)
		putchar(p[i] >= 0x21 && p[i] < 0x7f ? p[i] : '.');
	putchar('\n');
}

static void *map(const char *path, int prot)
{
	int fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);
	void *p;

	if (fd < 0) {
		perror(path);
		exit(3);
	}
	p = mmap(NULL, 4096, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror(path);
		exit(3);
	}
	close(fd);
	return p;
}

static void status_line(const char *key, char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(out, len, "?");
	while (f && fgets(line, sizeof(line), f)) {
		char *v = line + strlen(key);

		if (strncmp(line, key, strlen(key)))
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, " \t\n")] = '\0';
		snprintf(out, len, "%s", v);
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	int rfd = -1, wfd = -1, r;
	unsigned char *m = NULL, *mw = NULL;

	if (argc != 6)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(argv[2], "-") && (rfd = open(argv[2], O_RDONLY)) < 0)
		return perror(argv[2]), 3;
	if (strcmp(argv[3], "-") && (wfd = open(argv[3], O_WRONLY | O_APPEND)) < 0)
		return perror(argv[3]), 3;
	if (strcmp(argv[4], "-"))
		m = map(argv[4], PROT_READ);
	if (strcmp(argv[5], "-"))
		mw = map(argv[5], PROT_READ | PROT_WRITE);

	r = ckpt_save(argv[1]);
	if (r == CKPT_SAVED) {
		printf("SAVED %d\n", (int)getpid());
		return 0;
	}
	if (r != CKPT_RESTORED) {
		printf("ckpt_save failed: %s\n", ckpt_last_error());
		return 1;
	}

	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[256];
	int ng = getgroups(256, groups);
	char caps[5][32];
	static const char *const keys[5] = { "CapEff:", "CapPrm:", "CapInh:", "CapAmb:", "CapBnd:" };
	char stat[1024] = "";
	FILE *f;

	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	printf("ID %u %u %u %u %u %u\n", ru, eu, su, rg, eg, sg);
	printf("GROUPS");
	for (int i = 0; i < ng; i++)
		printf(" %u", groups[i]);
	printf("\n");
	for (int i = 0; i < 5; i++)
		status_line(keys[i], caps[i], sizeof(caps[i]));
	printf("CAPS %s %s %s %s %s\n", caps[0], caps[1], caps[2], caps[3], caps[4]);
	if ((f = fopen("/proc/self/stat", "r"))) {
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		fclose(f);
	}
	int pgid = 0, sid = 0, tty = 0;
	char *s = strrchr(stat, ')');

	if (s)
		sscanf(s + 2, "%*c %*d %d %d %d", &pgid, &sid, &tty);
	printf("SESSION %d %d %d\n", sid, pgid, tty);
	printf("DUMPABLE %d\n", prctl(PR_GET_DUMPABLE));
	if (rfd >= 0) {
		unsigned char b[5];
		ssize_t n = pread(rfd, b, sizeof(b), 0);

		show5("READ", b, n);
	}
	if (wfd >= 0) {
		static const char line[] = "PWNED by trustprobe\n";
		ssize_t n = write(wfd, line, sizeof(line) - 1);

		printf("WROTE %zd\n", n < 0 ? -(ssize_t)errno : n);
	}
	if (m)
		show5("MAP", m, 5);
	if (mw) {
		memcpy(mw, "PWNED", 5);
		printf("MAPW ok\n");
	}
	printf("RESTORED\n");
	return 0;
}
