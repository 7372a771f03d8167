/*
 * memattrs.c - memory attributes that /proc/PID/maps does not show, saved
 * and restored: madvise flags, locks, guard regions, mseal, NORESERVE, a
 * shared file mapping's maximum protection, mlockall(MCL_FUTURE).
 *
 *   memattrs IMAGE [raw] [nosign] [future] [wait] [nofork] [mappable]
 * Makes one mapping per attribute, with data, and notes each mapping's
 * VmFlags (/proc/self/smaps) and checksum.  Then ckpt_save(IMAGE), or
 * with "wait" prints READY and waits for SIGUSR2 (the test checkpoints
 * it with ckpt-save, kills it and restarts it, then sends SIGUSR2).  The
 * restored copy compares, for each mapping, the VmFlags that matter
 * (dc dd hg nh wf mg sr rr lo lf nr sl mw; not "gu", which a split of a
 * guarded mapping leaves on both parts) and the data, and proves
 * the behaviour in forked children: a guard page faults, MADV_DONTFORK
 * memory is absent, MADV_WIPEONFORK memory reads as zeros; mprotect()
 * makes the read-only shared mapping of a read-write file writable (and
 * refuses it for a read-only file); a sealed mapping refuses mprotect.
 *   raw     gives every advice by a raw system call (libckpt's wrappers
 *           do not see it): the locks and KSM advice are signs that make
 *           libckpt read smaps, so all must come back
 *   nosign  no locks, no KSM advice: raw advice then comes back only with
 *           CKPT_SMAPS=1 (without it, it is printed as a NOTE, unchecked);
 *           guards, the maximum protection and mlockall always
 *   future  mlockall(MCL_FUTURE | MCL_ONFAULT) before the checkpoint: a
 *           mapping the restored copy makes is locked too
 *   nofork  no MADV_DONTFORK/WIPEONFORK mapping (a forked writer then
 *           writes the pages, and scans for the guard regions)
 *   mappable  ckpt_save with CKPT_OPT_MAPPABLE (memory mapped from the image)
 * Prints "SAVED" / "RESTORED ok" (or "BAD ..." lines); exits 0 when all
 * is equal.  An attribute this kernel lacks is skipped with a NOTE.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ckpt.h"

#define PG 4096
#define NREG 24
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static const char *const compared[] = {
	"dc", "dd", "hg", "nh", "wf", "mg", "sr", "rr", "lo", "lf", "nr", "sl", "mw",
};

struct region {
	const char *name;
	unsigned char *p;
	size_t len;
	uint64_t sum;
	char flags[64];		/* the compared VmFlags, before the checkpoint */
	int check;		/* 0: its attribute is not expected back (raw, no sign) */
};
static struct region regs[NREG];
static int nreg, raw, bad;

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 2654435761u % 251);
}

/* The compared VmFlags of the mapping holding p, as " dc lo" (sorted as above). */
static void vmflags(const void *p, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	out[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= a && (uintptr_t)p < b;
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		for (size_t k = 0; k < sizeof(compared) / sizeof(compared[0]); k++) {
			char pat[5] = { ' ', compared[k][0], compared[k][1], 0 };
			char *at = strstr(line + 8, pat);

			if (at && (at[3] == ' ' || at[3] == '\n'))
				snprintf(out + strlen(out), cap - strlen(out), " %s", compared[k]);
		}
		break;
	}
	if (f)
		fclose(f);
}

/* 1 when this kernel's smaps shows "lf" for MLOCK_ONFAULT memory (6.1's does not). */
static int shows_lf(void)
{
	char f[64] = "";
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || syscall(SYS_mlock2, p, PG, MLOCK_ONFAULT) < 0)
		return 1;
	vmflags(p, f, sizeof(f));
	munmap(p, PG);
	return strstr(f, "lf") != NULL;
}

static int advise(void *p, size_t len, int advice)
{
	return raw ? (int)syscall(SYS_madvise, p, len, advice) : madvise(p, len, advice);
}

static unsigned char *anon(size_t pages, unsigned seed, int extra)
{
	unsigned char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	fill(p, pages * PG, seed);
	return p;
}

static void add(const char *name, void *p, size_t len, int check)
{
	struct region *r = &regs[nreg++];

	*r = (struct region){ name, p, len, 0, "", check };
}

/* One mapping with one advice; a NOTE and no region if the kernel lacks it. */
static unsigned char *advised(const char *name, int advice, int check)
{
	unsigned char *p = anon(8, nreg + 10, 0);

	if (advise(p, 8 * PG, advice) < 0) {
		printf("NOTE: %s: %s\n", name, strerror(errno));
		return NULL;
	}
	add(name, p, 8 * PG, check);
	return p;
}

static sigjmp_buf jb;
static void on_segv(int sig)
{
	siglongjmp(jb, 1);
}

/*
 * In a forked child: what the child sees of p.  0 data as the parent's,
 * 1 faults, 2 absent (mincore ENOMEM), 3 reads as zeros.
 */
static int child_sees(const unsigned char *p, size_t len)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		unsigned char v;

		if (mincore((void *)p, PG, &v) < 0 && errno == ENOMEM)
			_exit(2);
		signal(SIGSEGV, on_segv);
		if (sigsetjmp(jb, 1))
			_exit(1);
		for (size_t i = 0; i < len; i++)
			if (((volatile const unsigned char *)p)[i])
				_exit(0);
		_exit(3);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void expect(int ok, const char *what)
{
	if (!ok) {
		printf("BAD %s\n", what);
		bad++;
	}
}

/* Whether the page at p faults when read (in this process). */
static int faults(const unsigned char *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	int r = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(jb, 1))
		r = 1;
	else
		(void)*(volatile const unsigned char *)p;
	sigaction(SIGSEGV, &old, NULL);
	return r;
}

int main(int argc, char **argv)
{
	int future = 0, wait_mode = 0, nofork = 0, nosign = 0, mappable = 0;
	int smaps = getenv("CKPT_SMAPS") != NULL;
	unsigned char *guarded = NULL, *dontfork = NULL, *wipe = NULL, *shrw, *shro, *sealed = NULL;
	char path[512], path_ro[512];
	int fd, fd_ro;

	for (int i = 2; i < argc; i++) {
		raw |= !strcmp(argv[i], "raw");
		future |= !strcmp(argv[i], "future");
		wait_mode |= !strcmp(argv[i], "wait");
		nofork |= !strcmp(argv[i], "nofork");
		nosign |= !strcmp(argv[i], "nosign");
		mappable |= !strcmp(argv[i], "mappable");
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	/*
	 * madvise flags show only in smaps, which libckpt reads when it sees
	 * a sign (libckpt/ckpt_memattr.c): advice through libc, locked
	 * memory, KSM...  "nosign" makes none of those; raw advice is then
	 * found only with CKPT_SMAPS=1.
	 */
	int seen = !raw || smaps || !nosign;

	if (!nofork) {
		dontfork = advised("dontfork", MADV_DONTFORK, seen);
		wipe = advised("wipeonfork", MADV_WIPEONFORK, seen);
	}
	advised("dontdump", MADV_DONTDUMP, seen);
	advised("hugepage", MADV_HUGEPAGE, seen);
	advised("nohugepage", MADV_NOHUGEPAGE, seen);
	advised("sequential", MADV_SEQUENTIAL, seen);
	advised("random", MADV_RANDOM, seen);
	if (!nosign) {
		/* /proc/self/ksm_stat shows KSM advice, however it was given */
		advised("mergeable", MADV_MERGEABLE, 1);

		/* locks: VmLck shows them, however they were made */
		unsigned char *lk = anon(8, 40, 0), *lkof = anon(8, 41, 0);

		if ((raw ? syscall(SYS_mlock, lk, 8 * PG) : mlock(lk, 8 * PG)) < 0 ||
		    (raw ? syscall(SYS_mlock2, lkof, 8 * PG, MLOCK_ONFAULT) :
			   mlock2(lkof, 8 * PG, MLOCK_ONFAULT)) < 0) {
			printf("NOTE: mlock: %s\n", strerror(errno));
		} else {
			add("mlock", lk, 8 * PG, 1);
			add("mlock-onfault", lkof, 8 * PG, 1);
		}
	}
	add("noreserve", anon(8, 42, MAP_NORESERVE), 8 * PG, seen);

	/* guard regions: found by PAGEMAP_SCAN, always */
	guarded = anon(16, 43, 0);
	if (advise(guarded + 2 * PG, 2 * PG, MADV_GUARD_INSTALL) < 0 ||
	    advise(guarded + 9 * PG, PG, MADV_GUARD_INSTALL) < 0) {
		printf("NOTE: guard regions: %s\n", strerror(errno));
		guarded = NULL;
	} else {
		add("guard-before", guarded, 2 * PG, 1);
		add("guard-between", guarded + 4 * PG, 5 * PG, 1);
		add("guard-after", guarded + 10 * PG, 6 * PG, 1);
	}

	/* mseal (Linux 6.10) */
	sealed = anon(4, 44, 0);
	if (syscall(462, sealed, 4 * PG, 0) < 0) {
		printf("NOTE: mseal: %s\n", strerror(errno));
		sealed = NULL;
	} else {
		add("sealed", sealed, 4 * PG, seen);
	}

	/* shared file mappings, read-only now: of a read-write open and of a read-only one */
	snprintf(path, sizeof(path), "%s.shared", argv[1]);
	snprintf(path_ro, sizeof(path_ro), "%s.shared-ro", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fd_ro = open(path_ro, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || fd_ro < 0 || ftruncate(fd, 4 * PG) < 0 || ftruncate(fd_ro, 4 * PG) < 0)
		return 2;
	close(fd_ro);
	fd_ro = open(path_ro, O_RDONLY);
	shrw = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	shro = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd_ro, 0);
	close(fd);
	close(fd_ro);
	if (shrw == MAP_FAILED || shro == MAP_FAILED)
		return 2;
	add("shared-rdwr-file", shrw, 4 * PG, 1);
	add("shared-rdonly-file", shro, 4 * PG, 1);

	if (future) {
		if ((raw ? syscall(SYS_mlockall, MCL_FUTURE | MCL_ONFAULT) :
			   mlockall(MCL_FUTURE | MCL_ONFAULT)) < 0) {
			printf("NOTE: mlockall: %s\n", strerror(errno));
			future = 0;
		}
	}

	for (int i = 0; i < nreg; i++) {
		regs[i].sum = fnv(regs[i].p, regs[i].len);
		vmflags(regs[i].p, regs[i].flags, sizeof(regs[i].flags));
	}
	if (wait_mode) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("READY\n");
		sigwait(&set, &sig);
	} else {
		struct ckpt_options opts = { .flags = mappable ? CKPT_OPT_MAPPABLE : 0 };
		int r = ckpt_save_opts(argv[1], &opts);

		if (r == CKPT_SAVED) {
			printf("SAVED\n");
			return 0;
		}
		if (r != CKPT_RESTORED) {
			printf("ckpt_save failed: %s\n", ckpt_last_error());
			return 1;
		}
	}

	/* --- the restored copy --- */
	for (int i = 0; i < nreg; i++) {
		char now[64], what[256];

		vmflags(regs[i].p, now, sizeof(now));
		if (regs[i].check && strcmp(now, regs[i].flags)) {
			snprintf(what, sizeof(what), "%s: VmFlags [%s ] before, [%s ] now",
				 regs[i].name, regs[i].flags, now);
			expect(0, what);
		}
		if (!regs[i].check)
			printf("NOTE: %s: VmFlags [%s ] before, [%s ] now (not expected back)\n",
			       regs[i].name, regs[i].flags, now);
		snprintf(what, sizeof(what), "%s: data differs", regs[i].name);
		expect(fnv(regs[i].p, regs[i].len) == regs[i].sum, what);
	}
	if (guarded) {
		expect(faults(guarded + 2 * PG) && faults(guarded + 3 * PG) && faults(guarded + 9 * PG),
		       "guard pages do not fault");
		expect(!faults(guarded + 4 * PG) && !faults(guarded + 8 * PG) && !faults(guarded + 10 * PG),
		       "pages around the guards fault");
		expect(child_sees(guarded + 2 * PG, PG) == 1, "a guard page does not fault in a fork child");
	}
	if (dontfork && (!raw || smaps))
		expect(child_sees(dontfork, 8 * PG) == 2, "MADV_DONTFORK memory is present in a fork child");
	if (wipe && (!raw || smaps))
		expect(child_sees(wipe, 8 * PG) == 3, "MADV_WIPEONFORK memory is not zero in a fork child");
	expect(mprotect(shrw, 4 * PG, PROT_READ | PROT_WRITE) == 0,
	       "mprotect(PROT_WRITE) of the shared mapping of a read-write file fails");
	if (mprotect(shrw, 4 * PG, PROT_READ | PROT_WRITE) == 0) {
		int f = open(path, O_RDONLY);
		char c = 0;

		shrw[PG] = 'W';
		expect(f >= 0 && pread(f, &c, 1, PG) == 1 && c == 'W',
		       "a write through the shared mapping did not reach the file");
		close(f);
	}
	expect(mprotect(shro, 4 * PG, PROT_READ | PROT_WRITE) < 0 && errno == EACCES,
	       "mprotect(PROT_WRITE) of the shared mapping of a read-only file succeeds");
	if (sealed && (!raw || smaps))
		expect(mprotect(sealed, 4 * PG, PROT_READ) < 0 && errno == EPERM,
		       "the sealed mapping can be mprotected");
	if (future) {
		char f[64];
		unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		vmflags(p, f, sizeof(f));
		/* smaps shows "lf" after 6.1 only: then it must be there */
		expect(strstr(f, "lo") && (strstr(f, "lf") || !shows_lf()),
		       "a mapping made after the restart is not locked (mlockall MCL_FUTURE|MCL_ONFAULT)");
	}
	printf("RESTORED %s\n", bad ? "BAD" : "ok");
	return bad ? 1 : 0;
}
