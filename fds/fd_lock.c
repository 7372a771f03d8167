/*
 * fd_lock.c - file locks: POSIX (fcntl F_SETLK), flock, OFD (F_OFD_SETLK)
 * and leases (F_SETLEASE), saved with the open file description they
 * were taken through and taken again before the process runs.
 *
 * Why it matters: a lock is a promise to other processes.  SQLite in WAL
 * mode holds a read lock on its database and one on the -shm file for
 * as long as a connection is open; a restored process without them let
 * the next reader believe it was the last connection: it checkpointed
 * and deleted the WAL, and the restored process went on committing into
 * a deleted file (docs/INTERNALS.md, "File locks").
 *
 * Measured on Linux 6.18 (docs/INTERNALS.md has the details):
 *  - /proc/self/fdinfo/N shows, as "lock:" lines in /proc/locks' format,
 *    the locks whose file is N's description and whose owner is this
 *    process (POSIX) or that description (flock, OFD, lease): fds sharing
 *    one description show the same lines, so each FILE is read once.
 *    Another process's locks never show there; blocked requests (a
 *    thread inside F_SETLKW) neither.
 *  - Ranges are absolute (SEEK_CUR/SEEK_END were resolved when the lock
 *    was taken), the end inclusive or "EOF".
 *  - Closing any fd of a file drops every POSIX lock the process holds
 *    on it, whichever description the lock was taken through.
 *
 * Save (FD_SAVE, in the checkpoint signal handler): fd_locks_check
 * refuses what cannot be restored faithfully; fd_locks_write writes one
 * LOCK record per lock (img_format.h), after the FD records.
 *
 * Restore (FD_RESTORE, ckpt-restart):
 *  1. rst_check_locks, with the environment (and --check): each lock
 *     must be free to take: POSIX and OFD ranges asked with F_OFD_GETLK
 *     on a fresh description (authoritative, names the holder's pid),
 *     flocks and leases looked up in /proc/locks (nothing else tests a
 *     flock without taking it).  A conflict names the file, the range
 *     and the holder's pid and comm, exit 4.
 *  2. rst_restore_locks, once every fd is placed and ckpt-restart's
 *     strays are closed: every lock is taken, non-blocking, through the
 *     process's own fd of its description (leases after F_SETSIG, so a
 *     break signals what the process asked for); a conflict that arrived
 *     since step 1 fails the restart the same way, before the point of
 *     no return.
 *  3. rst_relocks: the POSIX locks on files the restorer will still
 *     close an fd of (restart_jump.c) are taken again by the restorer
 *     right after those closes, before any thread runs (restorer.h,
 *     struct rst_relock).
 * Mandatory locks are gone from the kernel (5.15): not handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include "fds/fd_kind.h"

#ifdef FD_SAVE
#include <sys/syscall.h>
#include <unistd.h>
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"

/* The next "lock:" line of fdinfo text after p (its text after "lock:"), or NULL. */
static const char *lk_next(const char *p)
{
	const char *s = __builtin_strstr(p, "\nlock:");

	return s ? s + 6 : NULL;
}

/* s starts with the word w (followed by a blank): s past it and the blanks. */
static int lk_word(const char **s, const char *w)
{
	size_t n = ckpt_strlen(w);

	if (!ckpt_memeq(*s, w, n) || ((*s)[n] != ' ' && (*s)[n] != '\t'))
		return 0;
	*s += n;
	while (**s == ' ' || **s == '\t')
		(*s)++;
	return 1;
}

static void lk_skip_token(const char **s)
{
	while (**s && **s != ' ' && **s != '\t' && **s != '\n')
		(*s)++;
	while (**s == ' ' || **s == '\t')
		(*s)++;
}

/*
 * One lock line, from after "lock:" ("\t1: POSIX  ADVISORY  WRITE 42
 * fe:00:123 5 EOF"): 0 with kind, type, start and len in *l and
 * *breaking set for a lease being broken, or -1: not a lock libckpt
 * knows (ACCESS, DELEG, UNLCK...).
 */
static int lk_parse(const char *s, struct img_lock *l, int *breaking)
{
	int64_t end;

	*l = (struct img_lock){ 0 };
	*breaking = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	lk_skip_token(&s);				/* "1:" */
	if (lk_word(&s, "POSIX") && lk_word(&s, "ADVISORY"))
		l->kind = IMG_LOCK_POSIX;
	else if (lk_word(&s, "OFDLCK") && lk_word(&s, "ADVISORY"))
		l->kind = IMG_LOCK_OFD;
	else if (lk_word(&s, "FLOCK") && lk_word(&s, "ADVISORY"))
		l->kind = IMG_LOCK_FLOCK;
	else if (lk_word(&s, "LEASE")) {
		l->kind = IMG_LOCK_LEASE;
		if (lk_word(&s, "BREAKING"))
			*breaking = 1;
		else if (!lk_word(&s, "ACTIVE"))
			return -1;
	} else
		return -1;
	if (lk_word(&s, "READ"))
		l->type = IMG_LOCK_READ;
	else if (lk_word(&s, "WRITE"))
		l->type = IMG_LOCK_WRITE;
	else if (*breaking && lk_word(&s, "UNLCK"))
		l->type = IMG_LOCK_WRITE;	/* being broken to nothing: refused anyway */
	else
		return -1;
	lk_skip_token(&s);				/* pid */
	lk_skip_token(&s);				/* dev:ino */
	if (l->kind != IMG_LOCK_POSIX && l->kind != IMG_LOCK_OFD)
		return 0;				/* "0 EOF": the whole file */
	if (*s < '0' || *s > '9')
		return -1;
	l->start = ckpt_parse_dec(&s);
	while (*s == ' ' || *s == '\t')
		s++;
	if (ckpt_memeq(s, "EOF", 3))
		return 0;				/* len 0: to the end, however far */
	if (*s < '0' || *s > '9')
		return -1;
	end = ckpt_parse_dec(&s);
	if (end < l->start)
		return -1;
	l->len = end - l->start + 1;
	return 0;
}

static const char *lk_kind_name(uint32_t kind)
{
	return kind == IMG_LOCK_POSIX ? "POSIX lock" : kind == IMG_LOCK_OFD ? "OFD lock" :
	       kind == IMG_LOCK_FLOCK ? "flock" : "lease";
}

/* The line at s, up to its newline (at most len - 1 bytes), for a message. */
static const char *lk_line(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	while (s[n] && s[n] != '\n' && n + 1 < len) {
		buf[n] = s[n];
		n++;
	}
	buf[n] = '\0';
	return buf;
}

int fd_locks_has(const char *info)
{
	return lk_next(info) != NULL;
}

int fd_locks_check(struct ckpt_ctx *c, const struct fd_probe *p, uint32_t kind)
{
	for (const char *s = p->info; (s = lk_next(s)); ) {
		struct img_lock l;
		int breaking;
		struct f_owner_ex own = { 0 };
		char line[120];

		if (lk_parse(s, &l, &breaking) < 0)
			return ckpt_fail(c, -ENOTSUP, "fd %d: %s: a file lock libckpt does not know "
					 "(fdinfo \"lock:%s\")%s", p->fd, p->path,
					 lk_line(s, line, sizeof(line)), p->origin);
		if (kind != IMG_FILE_REG && kind != IMG_FILE_DIR && kind != IMG_FILE_CHR &&
		    kind != IMG_FILE_PSHM)
			return ckpt_fail(c, -ENOTSUP, "fd %d: %s: the process holds a %s on it, "
					 "but a restart does not reopen this file (it will be "
					 "ckpt-restart's own), so the lock cannot come back%s", p->fd,
					 p->path, lk_kind_name(l.kind), p->origin);
		if (l.kind != IMG_LOCK_LEASE)
			continue;
		if (breaking)
			return ckpt_fail(c, -EAGAIN, "fd %d: %s: the process's lease on it is being "
					 "broken (another process opened the file, or waits to); "
					 "checkpoint again once the process has let go of it", p->fd,
					 p->path);
		/*
		 * F_SETLEASE makes the process the file's owner (the one a break
		 * signals); a restart does the same.  Another owner set later
		 * (F_SETOWN: a thread, a process group) would not come back.
		 */
		if (syscall(SYS_fcntl, p->fd, F_GETOWN_EX, &own) < 0 || own.type != F_OWNER_PID ||
		    own.pid != getpid())
			return ckpt_fail(c, -ENOTSUP, "fd %d: %s: the process holds a lease on it whose "
					 "break signal goes to %s %d (F_SETOWN), not to the process; "
					 "libckpt restores a lease owned by the process only", p->fd,
					 p->path, own.type == F_OWNER_TID ? "thread" : "process group",
					 own.pid);
	}
	return 0;
}

int fd_locks_write(struct ckpt_ctx *c, int fd, const char *info, uint32_t file)
{
	for (const char *s = info; (s = lk_next(s)); ) {
		struct img_lock l;
		int breaking;
		char line[120];

		/* fd_locks_check let these pass a moment ago; a lease may start breaking */
		if (lk_parse(s, &l, &breaking) < 0 || breaking)
			return ckpt_fail(c, -EAGAIN, "fd %d: a file lock changed during the "
					 "checkpoint (fdinfo \"lock:%s\"); checkpoint again", fd,
					 lk_line(s, line, sizeof(line)));
		l.file = file;
		if (l.kind == IMG_LOCK_LEASE) {
			long sig = syscall(SYS_fcntl, fd, F_GETSIG);

			l.sig = sig > 0 && sig <= IMG_NSIG ? (int32_t)sig : 0;
		}
		if (img_write_record(&c->w, IMG_REC_LOCK, &l, sizeof(l), NULL, 0) < 0)
			return c->w.error;
	}
	return 0;
}
#endif

#ifdef FD_RESTORE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "restart/restorer.h"
#include "restart/rst.h"

/* One line of /proc/locks, as far as naming a holder needs it. */
struct lk_entry {
	uint32_t kind;		/* IMG_LOCK_*, 0: another class (ACCESS, DELEG) */
	uint32_t type;		/* IMG_LOCK_READ/WRITE, 0: UNLCK */
	int pid;		/* -1: an OFD lock (the kernel does not say whose) */
	unsigned maj, min;
	unsigned long ino;
	int64_t start, end;	/* end INT64_MAX: EOF */
	int waiting;		/* "->": a blocked request, not a lock held */
};

/* /proc/locks, parsed (malloc'd, *n entries), or NULL when it cannot be read. */
static struct lk_entry *lk_proc_locks(int *n)
{
	FILE *f = fopen("/proc/locks", "re");
	struct lk_entry *v = NULL;
	size_t cap = 0;
	char line[256];

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		struct lk_entry e = { 0 };
		char cls[16], mode[16], type[16], end[32];
		char *p = strchr(line, ':');
		long long st;

		if (!p)
			continue;
		p++;
		while (*p == ' ')
			p++;
		if (!strncmp(p, "-> ", 3)) {
			e.waiting = 1;
			p += 3;
		}
		if (sscanf(p, "%15s %15s %15s %d %x:%x:%lu %lld %31s", cls, mode, type, &e.pid,
			   &e.maj, &e.min, &e.ino, &st, end) != 9)
			continue;
		e.kind = !strcmp(cls, "POSIX") ? IMG_LOCK_POSIX : !strcmp(cls, "OFDLCK") ? IMG_LOCK_OFD :
			 !strcmp(cls, "FLOCK") ? IMG_LOCK_FLOCK : !strcmp(cls, "LEASE") ? IMG_LOCK_LEASE : 0;
		e.type = !strcmp(type, "WRITE") ? IMG_LOCK_WRITE : !strcmp(type, "READ") ? IMG_LOCK_READ : 0;
		e.start = st;
		e.end = !strcmp(end, "EOF") ? INT64_MAX : strtoll(end, NULL, 10);
		if ((size_t)*n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v))))
			abort();
		v[(*n)++] = e;
	}
	fclose(f);
	return v;
}

static int64_t lk_end(const struct img_lock *l)
{
	return l->len ? l->start + (l->len - 1) : INT64_MAX;
}

/*
 * Whether a lock e of another process stands in the way of taking l:
 * POSIX and OFD locks are one family (byte ranges), flocks another,
 * leases a third; in each, two locks conflict when one is a write lock
 * (and, for ranges, they overlap).
 */
static int lk_conflicts(const struct lk_entry *e, const struct img_lock *l)
{
	int ranges = l->kind == IMG_LOCK_POSIX || l->kind == IMG_LOCK_OFD;

	if (e->waiting || !e->type)
		return 0;
	if (ranges ? e->kind != IMG_LOCK_POSIX && e->kind != IMG_LOCK_OFD : e->kind != l->kind)
		return 0;
	if (ranges && (e->end < l->start || e->start > lk_end(l)))
		return 0;
	return e->type == IMG_LOCK_WRITE || l->type == IMG_LOCK_WRITE;
}

/*
 * "process 42 (sqlite3) holds WHAT", or the best the kernel lets us say
 * about who holds it.  self: the image's pid.  A flock or lease shows the
 * pid that took it; one the checkpointed process took on a description
 * another process still has (inherited over fork: a shell's `exec
 * 9>lock; flock 9`) outlives it, under its pid.
 */
static void lk_who(int pid, int self, const char *what, char *buf, size_t len)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (pid == self) {
		snprintf(buf, len, "another process still holds %s that the checkpointed process "
			 "took on an open file it shares with it (passed on over fork or a socket)",
			 what);
		return;
	}
	if (pid < 0) {
		snprintf(buf, len, "another process holds %s (the kernel does not name the owner "
			 "of an OFD lock)", what);
		return;
	}
	if (pid == 0) {
		snprintf(buf, len, "a process outside this pid namespace holds %s", what);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, len, "process %d (%s) holds %s", pid, comm[0] ? comm : "?", what);
}

/*
 * A lock in words: "POSIX write lock on bytes 100-149", "OFD read lock
 * on byte 7", "shared flock (LOCK_SH)", "read lease".
 */
static void lk_phrase(uint32_t kind, uint32_t type, const struct img_lock *l, char *buf,
		      size_t len)
{
	char range[64];

	img_lock_range(l, range, sizeof(range));
	if (kind == IMG_LOCK_FLOCK)
		snprintf(buf, len, "%s flock (%s)", type == IMG_LOCK_WRITE ? "exclusive" : "shared",
			 type == IMG_LOCK_WRITE ? "LOCK_EX" : "LOCK_SH");
	else if (kind == IMG_LOCK_LEASE)
		snprintf(buf, len, "%s lease", img_lock_type_name(type));
	else
		snprintf(buf, len, "%s %s lock on %s", kind == IMG_LOCK_POSIX ? "POSIX" : "OFD",
			 img_lock_type_name(type), range);
}

/* "a POSIX write lock on bytes 0-99" of entry e, for a message. */
static void lk_name_entry(const struct lk_entry *e, char *buf, size_t len)
{
	struct img_lock h = { .kind = e->kind, .type = e->type, .start = e->start,
			      .len = e->end == INT64_MAX ? 0 : e->end - e->start + 1 };
	char what[120];

	lk_phrase(e->kind, e->type, &h, what, sizeof(what));
	snprintf(buf, len, "a%s %s", what[0] == 'O' || what[0] == 'e' ? "n" : "", what);
}

/*
 * Who stands in the way of l on the file st is, by /proc/locks (v, n
 * entries; it names inodes by the superblock's device and the inode
 * number): 1 with "process 42 (flock) holds a shared flock (LOCK_SH)" in
 * buf, or 0 when it shows nobody.
 */
static int lk_holder(const struct lk_entry *v, int n, const struct stat *st,
		     const struct img_lock *l, int self, char *buf, size_t len)
{
	int found = 0;

	for (int i = 0; i < n && !found; i++) {
		char what[160];

		if (v[i].maj != major(st->st_dev) || v[i].min != minor(st->st_dev) ||
		    v[i].ino != st->st_ino || !lk_conflicts(&v[i], l))
			continue;
		lk_name_entry(&v[i], what, sizeof(what));
		lk_who(v[i].pid, self, what, buf, len);
		found = 1;
	}
	return found;
}

/* Whether /proc/locks (v, n entries) shows a lease on st's file (opening it could break one). */
static int lk_leased(const struct lk_entry *v, int n, const struct stat *st)
{
	int found = 0;

	for (int i = 0; i < n; i++)
		found |= v[i].kind == IMG_LOCK_LEASE && v[i].ino == st->st_ino &&
			 v[i].maj == major(st->st_dev) && v[i].min == minor(st->st_dev);
	return found;
}

static short lk_fcntl_type(const struct img_lock *l)
{
	return l->type == IMG_LOCK_WRITE ? F_WRLCK : F_RDLCK;
}

/*
 * For a POSIX or OFD lock: who holds a conflicting range, asked of the
 * kernel through fd (F_GETLK: as this process; F_OFD_GETLK: as fd's
 * description).  1 with the holder in buf, 0 if the range is free.
 */
static int lk_range_holder(int fd, int cmd, const struct img_lock *l, char *buf, size_t len)
{
	struct flock fl = { .l_type = lk_fcntl_type(l), .l_whence = SEEK_SET,
			    .l_start = l->start, .l_len = l->len };
	struct lk_entry e;
	char what[160];

	if (fcntl(fd, cmd, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	e = (struct lk_entry){ .kind = fl.l_pid < 0 ? IMG_LOCK_OFD : IMG_LOCK_POSIX,
			       .type = fl.l_type == F_WRLCK ? IMG_LOCK_WRITE : IMG_LOCK_READ,
			       .start = fl.l_start,
			       .end = fl.l_len ? fl.l_start + fl.l_len - 1 : INT64_MAX };
	lk_name_entry(&e, what, sizeof(what));
	lk_who(fl.l_pid, -2, what, buf, len);	/* a POSIX lock is never shared, an OFD one has pid -1 */
	return 1;
}

/* "the process's POSIX write lock on bytes 5-9" */
static void lk_name(const struct img_lock *l, char *buf, size_t len)
{
	char what[120];

	lk_phrase(l->kind, l->type, l, what, sizeof(what));
	snprintf(buf, len, "the process's %s", what);
}

/* A write lease cannot coexist with another open of its file: the restart's own mapping fd. */
static int lk_mapped(const struct rst_state *s, const struct rst_file *f)
{
	for (int i = 0; i < s->nvmas; i++)
		if ((s->vmas[i].v.flags & IMG_VMA_FILE) && s->vmas[i].v.dev == f->f.dev &&
		    s->vmas[i].v.ino == f->f.ino)
			return 1;
	return 0;
}

/*
 * What step 1 knows of one FILE's file, kept while its locks (which
 * follow one another in the image) are checked: one stat, one probe.
 */
struct lk_probe {
	uint32_t file;		/* FILE id, 0: none yet */
	int gone;		/* stat failed: its kind's verify reports it */
	int fd;			/* a fresh description of it, or -1 */
	struct stat st;
};

static void lk_probe_for(struct lk_probe *pc, const struct rst_file *f, const struct lk_entry *v,
			 int n)
{
	if (pc->file == f->f.id)
		return;
	if (pc->fd >= 0)
		close(pc->fd);
	pc->file = f->f.id;
	pc->fd = -1;
	pc->gone = stat(f->path, &pc->st) < 0;
	/*
	 * A fresh description holds no lock: F_OFD_GETLK through it reports
	 * any conflicting POSIX or OFD lock, with its pid.  Not opened where
	 * someone holds a lease: the open could start breaking it.
	 */
	if (!pc->gone && !lk_leased(v, n, &pc->st))
		pc->fd = open(f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

/* Step 1 for one lock, with /proc/locks read once (v, n): 0, or the problem reported. */
static int lk_check_one(struct rst_state *s, const struct img_lock *l, const struct lk_entry *v,
			int n, struct lk_probe *pc)
{
	const struct rst_file *f = rst_file_by_id(s, l->file);
	char what[160], who[300] = "";
	int busy;

	lk_name(l, what, sizeof(what));
	if (!f->used)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s: %s would be lost: --inherit-fd "
				   "gives the process another file for every fd of it",
				   f->first_fd, f->path, what);
	if (l->kind == IMG_LOCK_LEASE && l->type == IMG_LOCK_WRITE && lk_mapped(s, f))
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s: %s cannot come back: the process "
				   "also maps the file, which ckpt-restart does through a file of "
				   "its own, and a write lease allows no other open file",
				   f->first_fd, f->path, what);
	lk_probe_for(pc, f, v, n);
	if (pc->gone)
		return 0;
	if ((l->kind == IMG_LOCK_POSIX || l->kind == IMG_LOCK_OFD) && pc->fd >= 0)
		busy = lk_range_holder(pc->fd, F_OFD_GETLK, l, who, sizeof(who));
	else
		busy = lk_holder(v, n, &pc->st, l, s->proc.pid, who, sizeof(who));
	if (busy)
		return rst_problem(s, RST_EXIT_ENV, "fd %d: %s: %s cannot be taken back: %s; "
				   "restart once it has let go", f->first_fd, f->path, what, who);
	return 0;
}

int rst_check_locks(struct rst_state *s)
{
	struct lk_probe pc = { .fd = -1 };
	struct lk_entry *v;
	int bad = 0, r, n;

	if (!s->nlocks)
		return 0;
	v = lk_proc_locks(&n);
	for (int i = 0; i < s->nlocks; i++)
		if ((r = lk_check_one(s, &s->locks[i], v, n, &pc)))
			bad = r;
	if (pc.fd >= 0)
		close(pc.fd);
	free(v);
	return bad;
}

/* Takes l through fd: 0 or -errno. */
static int lk_take(int fd, const struct img_lock *l)
{
	struct flock fl = { .l_type = lk_fcntl_type(l), .l_whence = SEEK_SET,
			    .l_start = l->start, .l_len = l->len };
	int r;

	switch (l->kind) {
	case IMG_LOCK_POSIX:
		r = fcntl(fd, F_SETLK, &fl);
		break;
	case IMG_LOCK_OFD:
		r = fcntl(fd, F_OFD_SETLK, &fl);
		break;
	case IMG_LOCK_FLOCK:
		r = flock(fd, (l->type == IMG_LOCK_WRITE ? LOCK_EX : LOCK_SH) | LOCK_NB);
		break;
	default:	/* lease: the break signal first (0: SIGIO, the default) */
		if (l->sig && fcntl(fd, F_SETSIG, l->sig) < 0)
			return -errno;
		r = fcntl(fd, F_SETLEASE, lk_fcntl_type(l));
		break;
	}
	return r < 0 ? -errno : 0;
}

int rst_restore_locks(struct rst_state *s)
{
	for (int i = 0; i < s->nlocks; i++) {
		const struct img_lock *l = &s->locks[i];
		const struct rst_file *f = rst_file_by_id(s, l->file);
		char what[160], who[300] = "";
		struct stat st;
		int e;

		if (f->placed < 0) {		/* rst_check_locks refused it */
			rst_error(s, "fd %d: %s: its locks have no fd to come back through",
				  f->first_fd, f->path);
			return RST_EXIT_ENV;
		}
		if (!(e = lk_take(f->placed, l)))
			continue;
		lk_name(l, what, sizeof(what));
		if (e != -EAGAIN && e != -EACCES && e != -EWOULDBLOCK) {
			rst_error(s, "fd %d: %s: %s cannot be taken back: %s", f->placed, f->path,
				  what, strerror(-e));
			return RST_EXIT_ENV;
		}
		if (l->kind == IMG_LOCK_POSIX || l->kind == IMG_LOCK_OFD)
			lk_range_holder(f->placed, l->kind == IMG_LOCK_POSIX ? F_GETLK : F_OFD_GETLK,
					l, who, sizeof(who));
		else if (fstat(f->placed, &st) == 0) {
			int n;
			struct lk_entry *v = lk_proc_locks(&n);

			lk_holder(v, n, &st, l, s->proc.pid, who, sizeof(who));
			free(v);
		}
		if (!who[0])
			snprintf(who, sizeof(who), l->kind == IMG_LOCK_LEASE ?
				 "the file is open elsewhere%s" : "another process holds a conflicting "
				 "lock%s", l->kind == IMG_LOCK_LEASE && l->type == IMG_LOCK_READ ?
				 " for writing" : "");
		rst_error(s, "fd %d: %s: %s cannot be taken back: %s; restart once it has let go",
			  f->placed, f->path, what, who);
		return RST_EXIT_ENV;
	}
	return 0;
}

int rst_relocks(struct rst_state *s, const int *closing, int nclosing, int err_fd,
		struct rst_relock *out, int *err_locked)
{
	/* each closing fd's file (err_fd last), and each lock's, stat'ed once */
	struct { dev_t dev; ino_t ino; } *shut = calloc(nclosing + 1, sizeof(*shut));
	struct stat st, ls = { 0 };
	uint32_t ls_file = 0;
	int n = 0;

	if (!shut)
		abort();
	for (int k = 0; k <= nclosing; k++) {
		int fd = k < nclosing ? closing[k] : err_fd;

		if (fd >= 0 && fstat(fd, &st) == 0)
			shut[k].dev = st.st_dev, shut[k].ino = st.st_ino;
	}
	*err_locked = 0;
	for (int i = 0; i < s->nlocks; i++) {
		const struct img_lock *l = &s->locks[i];
		const struct rst_file *f = rst_file_by_id(s, l->file);
		int touched = 0;
		char what[160];

		if (l->kind != IMG_LOCK_POSIX || f->placed < 0)
			continue;
		if (ls_file != l->file && fstat(f->placed, &ls) < 0)
			continue;
		ls_file = l->file;
		for (int k = 0; k <= nclosing; k++) {
			if (!shut[k].ino || shut[k].dev != ls.st_dev || shut[k].ino != ls.st_ino)
				continue;
			touched = 1;
			if (k == nclosing)
				*err_locked = 1;
		}
		if (!touched)
			continue;
		if (out) {
			struct rst_relock *r = &out[n];

			memset(r, 0, sizeof(*r));
			r->fd = f->placed;
			r->type = lk_fcntl_type(l);
			r->start = l->start;
			r->len = l->len;
			lk_name(l, what, sizeof(what));
			snprintf(r->msg, sizeof(r->msg), "ckpt-restart: %s: fd %d: %s: %s was taken "
				 "by another process during the restart: pid ", s->image, f->placed,
				 f->path, what);
		}
		n++;
	}
	free(shut);
	return n;
}
#endif
