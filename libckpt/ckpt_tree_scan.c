/*
 * ckpt_tree_scan.c - what /proc says about other processes of a tree:
 * their children, ids and state, and whether one may be asked to
 * checkpoint (ckpt_tree.h).
 *
 * Asking is sending the control signal, whose default action ends a
 * process: so a process is asked only once /proc shows libckpt mapped in
 * it (the same file as ours: dev and inode) and the signal caught.  A
 * process that has just exec'd may map libckpt before its constructor
 * catches the signal, or not map it yet (the dynamic loader is still at
 * work, and the environment preloads it): -EAGAIN, ask again a little
 * later.  (Between this
 * check and the signal the process could still exec a static binary;
 * the window is a few microseconds, and the exec wrappers block the
 * signal across exec: wrappers/wrap_exec.c.)
 *
 * Async-signal-safe: raw reads of /proc into caller buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arch/x86_64/arch.h"
#include "libckpt/ckpt.h"
#include "libckpt/ckpt_fmt.h"
#include "libckpt/ckpt_tree.h"

#define TREE_PF_EXITING	0x4	/* the kernel's PF_EXITING, in /proc/PID/stat's flags */

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

struct kids {
	pid_t pid;
	int32_t *out;
	int n, max;
	char *buf;
	size_t buflen;
};

static int add_kid(struct kids *k, int32_t pid)
{
	for (int i = 0; i < k->n; i++)
		if (k->out[i] == pid)
			return 0;
	if (k->n == k->max)
		return -E2BIG;
	k->out[k->n++] = pid;
	return 0;
}

/* One thread's children file: "12 34 ". */
static int task_kids(int tid, int dirfd, void *arg)
{
	struct kids *k = arg;
	char path[64];
	const char *s;
	ssize_t n;

	(void)dirfd;
	ckpt_fmt(path, sizeof(path), "/proc/%d/task/%d/children", (int)k->pid, tid);
	n = ckpt_read_file(path, k->buf, k->buflen);
	if (n == -ENOENT || n == -ESRCH)
		return 0;			/* the thread ended meanwhile */
	if (n < 0)
		return (int)n;
	for (s = k->buf; *s; ) {
		if (!is_digit(*s)) {
			s++;
			continue;
		}
		int r = add_kid(k, (int32_t)ckpt_parse_dec(&s));

		if (r < 0)
			return r;
	}
	return 0;
}

/* Without CONFIG_PROC_CHILDREN: every process whose parent is k->pid. */
static int scan_kid(int pid, int dirfd, void *arg)
{
	struct kids *k = arg;
	struct ckpt_tree_stat st;

	(void)dirfd;
	if (ckpt_tree_stat(pid, &st, k->buf, k->buflen) < 0 || st.ppid != k->pid)
		return 0;
	return add_kid(k, pid);
}

int ckpt_tree_children(pid_t pid, int32_t *out, int max, char *buf, size_t buflen)
{
	struct kids k = { pid, out, 0, max, buf, buflen };
	char dir[48], probe[64];
	int r;

	ckpt_fmt(probe, sizeof(probe), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if (arch_sys2(SYS_access, probe, R_OK) < 0)
		r = ckpt_proc_each("/proc", scan_kid, &k);
	else {
		ckpt_fmt(dir, sizeof(dir), "/proc/%d/task", (int)pid);
		r = ckpt_proc_each(dir, task_kids, &k);
	}
	return r < 0 ? r : k.n;
}

int ckpt_tree_stat(pid_t pid, struct ckpt_tree_stat *st, char *buf, size_t buflen)
{
	char path[48];
	const char *s, *open = NULL, *close = NULL;
	ssize_t n;
	size_t c = 0;

	ckpt_fmt(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((n = ckpt_read_file(path, buf, buflen)) < 0)
		return (int)n;
	for (s = buf; *s; s++) {		/* comm may hold ')' */
		if (*s == '(' && !open)
			open = s;
		if (*s == ')')
			close = s;
	}
	if (!open || !close || close < open || close[1] != ' ')
		return -EIO;
	for (s = open + 1; s < close && c < sizeof(st->comm) - 1; s++)
		st->comm[c++] = *s;
	st->comm[c] = '\0';
	s = close + 2;
	st->state = *s;
	st->exit_signal = 0;
	st->tpgid = -1;
	st->flags = 0;
	st->ppid = st->pgid = st->sid = 0;
	/* fields 4 (ppid) .. 6 (session), 8 (tpgid), 9 (flags), then 38 (exit_signal) */
	for (int f = 3; *s && f <= 38; f++) {
		while (*s == ' ')
			s++;
		int64_t v = (*s == '-' || is_digit(*s)) ? ckpt_parse_dec(&s) : 0;

		if (f == 4)
			st->ppid = (int32_t)v;
		else if (f == 5)
			st->pgid = (int32_t)v;
		else if (f == 6)
			st->sid = (int32_t)v;
		else if (f == 8)
			st->tpgid = (int32_t)v;
		else if (f == 9)
			st->flags = (uint32_t)v;
		else if (f == 38)
			st->exit_signal = (int)v;
		while (*s && *s != ' ')
			s++;
	}
	return 0;
}

/* The value of "Name:\t..." in a status text, or NULL. */
static const char *status_line(const char *text, const char *name)
{
	size_t n = ckpt_strlen(name);

	for (const char *s = text; *s; ) {
		if (ckpt_memeq(s, name, n) && s[n] == ':') {
			s += n + 1;
			while (*s == ' ' || *s == '\t')
				s++;
			return s;
		}
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return NULL;
}

/* The dev and inode of the file libckpt.so is mapped from, from our maps. */
static int own_lib(uint64_t *dev, uint64_t *ino, char *buf, size_t buflen)
{
	static uint64_t my_dev, my_ino;
	uintptr_t me = (uintptr_t)&own_lib;

	if (my_ino) {
		*dev = my_dev;
		*ino = my_ino;
		return 0;
	}
	if (ckpt_read_file("/proc/self/maps", buf, buflen) < 0)
		return -EIO;
	for (const char *s = buf; *s; ) {
		uint64_t a = ckpt_parse_hex(&s), b, maj, min, i;

		s++;				/* '-' */
		b = ckpt_parse_hex(&s);
		while (*s == ' ' || (*s >= 'a' && *s <= 'z') || *s == '-')
			s++;			/* perms */
		ckpt_parse_hex(&s);		/* offset */
		s++;
		maj = ckpt_parse_hex(&s);
		s++;
		min = ckpt_parse_hex(&s);
		s++;
		i = (uint64_t)ckpt_parse_dec(&s);
		if (me >= a && me < b) {
			my_dev = maj << 8 | min;	/* compared as maps shows it */
			my_ino = i;
			*dev = my_dev;
			*ino = my_ino;
			return 0;
		}
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return -ENOENT;
}

/* Whether pid's maps hold the file (dev, ino). */
static int maps_have(pid_t pid, uint64_t dev, uint64_t ino, char *buf, size_t buflen)
{
	char path[48];
	ssize_t n;

	ckpt_fmt(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((n = ckpt_read_file(path, buf, buflen)) < 0 && n != -E2BIG)
		return (int)n;
	for (const char *s = buf; *s; ) {
		uint64_t maj, min, i;

		while (*s && *s != ' ')
			s++;			/* range */
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;			/* perms */
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;			/* offset */
		while (*s == ' ')
			s++;
		maj = ckpt_parse_hex(&s);
		if (*s == ':')
			s++;
		min = ckpt_parse_hex(&s);
		while (*s == ' ')
			s++;
		i = (uint64_t)ckpt_parse_dec(&s);
		if (i == ino && (maj << 8 | min) == dev)
			return 1;
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return 0;
}

/* Whether text (n bytes) holds s. */
static int has(const char *text, size_t n, const char *s)
{
	size_t k = ckpt_strlen(s);

	for (size_t i = 0; i + k <= n; i++)
		if (ckpt_memeq(text + i, s, k))
			return 1;
	return 0;
}

/*
 * A process that has just exec'd a dynamic program whose environment
 * preloads libckpt: the dynamic loader has not mapped libckpt yet.  Its
 * maps show the loader; its environ (the exec's) LD_PRELOAD=...libckpt.
 */
static int loading(pid_t pid, char *buf, size_t buflen)
{
	char path[48];
	ssize_t n;

	ckpt_fmt(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((n = ckpt_read_file(path, buf, buflen)) < 0 ||
	    (!has(buf, (size_t)n, "/ld-linux") && !has(buf, (size_t)n, "/ld-musl")))
		return 0;
	ckpt_fmt(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((n = ckpt_read_file(path, buf, buflen)) < 0)
		return 0;
	for (const char *e = buf; e < buf + n; e += ckpt_strlen(e) + 1)
		if (ckpt_memeq(e, "LD_PRELOAD=", 11) && has(e, ckpt_strlen(e), "libckpt"))
			return 1;
	return 0;
}

int ckpt_tree_askable(pid_t pid, int ctl_sig, const struct ckpt_tree_stat *st,
		      char *buf, size_t buflen, char *err, size_t errlen)
{
	struct ckpt_tree_stat now;
	char path[48];
	const char *v;
	uint64_t dev, ino, cgt = 0;
	unsigned ruid, me = (unsigned)arch_sys0(SYS_getuid);
	int r;

	ckpt_fmt(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (ckpt_read_file(path, buf, buflen) < 0)
		return -ESRCH;
	if ((v = status_line(buf, "TracerPid")) && *v != '0') {
		const char *t = v;

		ckpt_fmt(err, errlen, "process %d (%s) is traced by process %d (ptrace: a "
			 "debugger or strace?); a traced process cannot be saved: detach first",
			 (int)pid, st->comm, (int)ckpt_parse_dec(&t));
		return -EPERM;
	}
	if ((v = status_line(buf, "Uid"))) {
		const char *t = v;

		ruid = (unsigned)ckpt_parse_dec(&t);
		for (int k = 0; k < 2; k++) {
			while (*t == '\t' || *t == ' ')
				t++;
			if ((unsigned)ckpt_parse_dec(&t) != ruid)
				ruid = ~0u;
		}
		if (ruid != me) {
			ckpt_fmt(err, errlen, "process %d (%s) runs as another user (uid %u, this "
				 "tree's is %u): set-user-ID programs in a tree are not supported",
				 (int)pid, st->comm, ruid, me);
			return -EPERM;
		}
	}
	if ((v = status_line(buf, "SigCgt")))
		cgt = ckpt_parse_hex(&v);
	if ((r = own_lib(&dev, &ino, buf, buflen)) < 0)
		return r;
	r = maps_have(pid, dev, ino, buf, buflen);
	if (r < 0)
		return -ESRCH;
	if (r == 0 && loading(pid, buf, buflen))
		return -EAGAIN;		/* exec'd an instant ago: ask again */
	if (r == 0 && ckpt_tree_stat(pid, &now, buf, buflen) == 0 &&
	    ((now.flags & TREE_PF_EXITING) || now.state == 'Z'))
		return -EAGAIN;		/* exiting (its memory gone already): a zombie soon */
	if (r == 0) {
		ckpt_fmt(err, errlen, "process %d (%s), a child of process %d, does not run "
			 "libckpt (a static binary, or started without LD_PRELOAD): it cannot be "
			 "saved with the tree", (int)pid, st->comm, (int)st->ppid);
		return -ENOEXEC;
	}
	if (!(cgt & (1ull << (ctl_sig - 1))))
		return -EAGAIN;
	return 0;
}
