/*
 * ghosts.c - files with no name survive checkpoint, SIGKILL and restart:
 * deleted files and memfds (open, mapped, both), shared anonymous memory
 * through /dev/zero, anonymous huge pages, pidfds of the process itself,
 * an unlinked device node.
 *
 *   ghosts CASE DIR GOFILE
 * Makes CASE's resources (in DIR), remembers what they must look like,
 * prints "READY" and waits for GOFILE to appear: meanwhile the test
 * checkpoints the process (ckpt-save), kills it and restarts it.  Then it
 * checks every resource and prints "OK CASE" (exit 0) or "BAD ..." lines
 * (exit 1).  CASEs:
 *   tmp      a deleted temp file (mode 0640, 12345 bytes of pattern) open
 *            four ways: fd A O_RDWR at offset 5000, fd B a dup of A, fd C a
 *            second open O_RDONLY at offset 100, fd D O_WRONLY|O_APPEND;
 *            mapped MAP_SHARED (4 pages) and MAP_PRIVATE with a modified
 *            page.  Another deleted file mapped MAP_SHARED whose fd was
 *            closed; a third in a directory removed after it.  Checks:
 *            contents, sizes, mode, mtime, flags, offsets, the shared
 *            offset of A and B, and that A, C, D and the shared mapping
 *            are one file (a write through one is read through the others)
 *   sparse   a deleted 1 MiB file with data at 0, 512 KiB and its last
 *            byte, a page of zeros written at 700 KiB, holes elsewhere:
 *            the same SEEK_DATA/SEEK_HOLE map and contents
 *   big      a deleted file with 3 MiB of data (for the limit refusal)
 *   memfd    memfd "my memfd" (ALLOW_SEALING, CLOEXEC, 10000 bytes, mapped
 *            shared, sealed SHRINK|GROW), memfd "ro" (sealed WRITE|SEAL,
 *            mapped shared read-only), memfd "noexec" (MFD_NOEXEC_SEAL),
 *            memfd "gone" mapped shared and its fd closed.  Checks names,
 *            seals (enforced), FD_CLOEXEC, mode, contents, sharing
 *   maywrite a memfd and a deleted file, each open O_RDWR and mapped shared
 *            read-only (so mprotect() may make the mapping writable):
 *            after the restart mprotect(PROT_WRITE) still works and a
 *            write through the mapping reaches the fd
 *   devzero  MAP_SHARED of /dev/zero, MAP_SHARED|MAP_ANONYMOUS (their maps
 *            name "/dev/zero (deleted)"), MAP_PRIVATE of /dev/zero, written
 *   hugetlb  anonymous MAP_HUGETLB, 4 MiB shared and 2 MiB private, written;
 *            a memfd of huge pages (MFD_HUGETLB, 2 MiB), open and mapped
 *   pidfd    pidfd_open of itself: plain, PIDFD_NONBLOCK, PIDFD_THREAD;
 *            poll (not readable: alive), pidfd_send_signal reaches it;
 *            of another thread (PIDFD_THREAD|NONBLOCK, and a dup): its
 *            tid, one description, a signal reaches that thread, poll says
 *            when it has ended
 *   devnode  a node of /dev/null made in DIR (mknod 1:3), opened, unlinked
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)
/* a setup that cannot be done says so: the test fails at once, not at its timeout */
#define SETUP_FAIL() do { printf("setup: %s, line %d: %s\n", __func__, __LINE__, strerror(errno)); \
			  exit(3); } while (0)
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static int bad;
static const char *dir;

static unsigned char pat(long i)
{
	return (unsigned char)('A' + (i * 7 + i / 4096) % 26);
}

static void fill(unsigned char *p, long from, long n)
{
	for (long i = 0; i < n; i++)
		p[i] = pat(from + i);
}

static int check_pat(const unsigned char *p, long from, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i] != pat(from + i))
			return 0;
	return 1;
}

static void wait_file(const char *go)
{
	while (access(go, F_OK)) {
		struct timespec t = { 0, 5000000 };

		nanosleep(&t, NULL);
	}
}

static char *path_in(const char *name)
{
	static char p[4][4096];
	static int k;
	char *b = p[k++ % 4];

	snprintf(b, 4096, "%s/%s", dir, name);
	return b;
}

static void link_of(int fd, char *buf, size_t len)
{
	char l[64];
	ssize_t n;

	snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
	n = readlink(l, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

/* A file of n pattern bytes, opened O_RDWR, mode 0640. */
static int pattern_file(const char *path, long n)
{
	unsigned char *buf = malloc(n);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	fill(buf, 0, n);
	if (fd < 0 || write(fd, buf, n) != n || fchmod(fd, 0640)) {
		printf("setup: %s: %s\n", path, strerror(errno));
		exit(3);
	}
	free(buf);
	return fd;
}

/* --- tmp ---------------------------------------------------------------- */

#define TMP_SIZE 12345
static struct { int a, b, c, d, e; unsigned char *shared, *priv, *lone; struct stat st; } T;

static void tmp_setup(void)
{
	char sub[4096];
	int lone;

	T.a = pattern_file(path_in("tmpA"), TMP_SIZE);
	T.b = dup(T.a);
	T.c = open(path_in("tmpA"), O_RDONLY);
	T.d = open(path_in("tmpA"), O_WRONLY | O_APPEND);
	lseek(T.a, 5000, SEEK_SET);
	lseek(T.c, 100, SEEK_SET);
	T.shared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, T.a, 0);
	T.priv = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, T.a, 0);
	if (T.shared == MAP_FAILED || T.priv == MAP_FAILED || T.c < 0 || T.d < 0)
		SETUP_FAIL();
	memset(T.priv + PG, 'p', PG);			/* a private copy */
	/* mapped only: its fd closed */
	lone = pattern_file(path_in("tmpLone"), 3 * PG);
	T.lone = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, lone, 0);
	close(lone);
	memset(T.lone + PG, 'L', 10);
	/* in a directory removed after it */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0700);
	T.e = pattern_file(path_in("sub/tmpE"), 100);
	if (unlink(path_in("tmpA")) || unlink(path_in("tmpLone")) || unlink(path_in("sub/tmpE")) ||
	    rmdir(sub) || T.lone == MAP_FAILED)
		SETUP_FAIL();
	fstat(T.a, &T.st);
}

static void tmp_check(void)
{
	struct stat st, sc, sd;
	unsigned char buf[TMP_SIZE + 100];
	char l[4096];

	if (fstat(T.a, &st) || st.st_nlink || st.st_size != TMP_SIZE || (st.st_mode & 0777) != 0640 ||
	    st.st_mtim.tv_sec != T.st.st_mtim.tv_sec || st.st_mtim.tv_nsec != T.st.st_mtim.tv_nsec)
		BAD("tmp: fd A: nlink %lu, size %ld, mode %o, mtime %ld.%09ld (was %ld.%09ld)",
		    (unsigned long)st.st_nlink, (long)st.st_size, st.st_mode & 0777,
		    (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long)T.st.st_mtim.tv_sec,
		    T.st.st_mtim.tv_nsec);
	link_of(T.a, l, sizeof(l));
	if (strncmp(l, dir, strlen(dir)) || !strstr(l, " (deleted)"))
		BAD("tmp: fd A is %s, not a deleted file in %s", l, dir);
	fstat(T.c, &sc);
	fstat(T.d, &sd);
	if (sc.st_ino != st.st_ino || sd.st_ino != st.st_ino)
		BAD("tmp: fds A, C, D are not one file (inodes %lu %lu %lu)", (unsigned long)st.st_ino,
		    (unsigned long)sc.st_ino, (unsigned long)sd.st_ino);
	if ((fcntl(T.a, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(T.c, F_GETFL) & O_ACCMODE) != O_RDONLY ||
	    (fcntl(T.d, F_GETFL) & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND))
		BAD("tmp: flags %#o %#o %#o", fcntl(T.a, F_GETFL), fcntl(T.c, F_GETFL),
		    fcntl(T.d, F_GETFL));
	if (lseek(T.a, 0, SEEK_CUR) != 5000 || lseek(T.c, 0, SEEK_CUR) != 100)
		BAD("tmp: offsets %ld %ld, want 5000 100", (long)lseek(T.a, 0, SEEK_CUR),
		    (long)lseek(T.c, 0, SEEK_CUR));
	lseek(T.a, 6000, SEEK_SET);
	if (lseek(T.b, 0, SEEK_CUR) != 6000)
		BAD("tmp: fd B does not share fd A's offset");
	/* contents, through C */
	if (pread(T.c, buf, TMP_SIZE, 0) != TMP_SIZE || !check_pat(buf, 0, TMP_SIZE))
		BAD("tmp: the contents differ");
	if (!check_pat(T.shared, 0, TMP_SIZE) || !check_pat(T.priv, 0, PG) ||
	    T.priv[PG] != 'p' || T.priv[2 * PG - 1] != 'p' || !check_pat(T.priv + 2 * PG, 2 * PG, PG))
		BAD("tmp: the mappings' contents differ");
	/* one file: A -> C and the shared mapping; the mapping -> C; D appends */
	if (pwrite(T.a, "XYZ", 3, 10) != 3 || pread(T.c, buf, 3, 10) != 3 || memcmp(buf, "XYZ", 3) ||
	    memcmp(T.shared + 10, "XYZ", 3))
		BAD("tmp: a write through fd A does not reach fd C and the shared mapping");
	memcpy(T.shared + 200, "map", 3);
	if (pread(T.c, buf, 3, 200) != 3 || memcmp(buf, "map", 3))
		BAD("tmp: a write through the shared mapping does not reach fd C");
	if (write(T.d, "tail", 4) != 4 || fstat(T.c, &sc) || sc.st_size != TMP_SIZE + 4 ||
	    pread(T.c, buf, 4, TMP_SIZE) != 4 || memcmp(buf, "tail", 4))
		BAD("tmp: fd D does not append to the file fd C reads");
	if (!check_pat(T.lone, 0, PG) || memcmp(T.lone + PG, "LLLLLLLLLL", 10) ||
	    !check_pat(T.lone + PG + 10, PG + 10, 2 * PG - 10))
		BAD("tmp: the mapping whose fd was closed differs");
	if (fstat(T.e, &st) || st.st_size != 100 || pread(T.e, buf, 100, 0) != 100 ||
	    !check_pat(buf, 0, 100))
		BAD("tmp: the file of the removed directory differs");
	link_of(T.e, l, sizeof(l));
	if (strncmp(l, dir, strlen(dir)) || strstr(l, "/sub/"))
		BAD("tmp: the file of the removed directory is %s, not in %s", l, dir);
}

/* --- sparse --------------------------------------------------------------- */

#define SP_SIZE (1 << 20)
static struct { int fd; long map[32]; int n; } S;

static void sparse_map(int fd, long *map, int *n)
{
	long off = 0, d, h;

	*n = 0;
	while (*n < 30 && (d = lseek(fd, off, SEEK_DATA)) >= 0) {
		h = lseek(fd, d, SEEK_HOLE);
		map[(*n)++] = d;
		map[(*n)++] = h;
		off = h;
	}
}

static void sparse_setup(void)
{
	unsigned char pg[PG];

	S.fd = open(path_in("sparse"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	fill(pg, 0, PG);
	if (S.fd < 0 || ftruncate(S.fd, SP_SIZE) || pwrite(S.fd, pg, PG, 0) != PG ||
	    pwrite(S.fd, pg, PG, 512 << 10) != PG || pwrite(S.fd, "E", 1, SP_SIZE - 1) != 1)
		SETUP_FAIL();
	memset(pg, 0, PG);
	if (pwrite(S.fd, pg, PG, 700 << 10) != PG || fsync(S.fd) || unlink(path_in("sparse")))
		SETUP_FAIL();
	sparse_map(S.fd, S.map, &S.n);
	if (S.n < 6)
		printf("note: the file system keeps no holes here (%d extents)\n", S.n / 2);
}

static void sparse_check(void)
{
	long map[32];
	int n;
	unsigned char *buf = calloc(1, SP_SIZE), want[PG];
	struct stat st;

	sparse_map(S.fd, map, &n);
	if (n != S.n || memcmp(map, S.map, n * sizeof(long))) {
		printf("BAD sparse: data map now:");
		for (int i = 0; i < n; i += 2)
			printf(" %ld-%ld", map[i], map[i + 1]);
		printf(", was:");
		for (int i = 0; i < S.n; i += 2)
			printf(" %ld-%ld", S.map[i], S.map[i + 1]);
		printf("\n");
		bad++;
	}
	fill(want, 0, PG);
	if (fstat(S.fd, &st) || st.st_uid != getuid() || st.st_gid != getgid())
		BAD("sparse: owned by %u:%u, not the process's %u:%u", st.st_uid, st.st_gid, getuid(),
		    getgid());
	if (fstat(S.fd, &st) || st.st_size != SP_SIZE || pread(S.fd, buf, SP_SIZE, 0) != SP_SIZE ||
	    memcmp(buf, want, PG) || memcmp(buf + (512 << 10), want, PG) || buf[SP_SIZE - 1] != 'E')
		BAD("sparse: size %ld or contents differ", (long)st.st_size);
	for (long i = PG; i < SP_SIZE - 1; i++)
		if (buf[i] && (i < (512 << 10) || i >= (512 << 10) + PG)) {
			BAD("sparse: byte %ld is %d, not 0", i, buf[i]);
			break;
		}
	free(buf);
}

/* --- big ------------------------------------------------------------------ */

static int big_fd;

static void big_setup(void)
{
	big_fd = pattern_file(path_in("big"), 3 << 20);
	unlink(path_in("big"));
}

/* --- memfd ---------------------------------------------------------------- */

static struct { int rw, ro, nx; unsigned char *map_rw, *map_ro, *map_gone; struct stat st; } M;

static void memfd_setup(void)
{
	unsigned char buf[10000];
	int gone;

	fill(buf, 0, sizeof(buf));
	M.rw = memfd_create("my memfd", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	M.ro = memfd_create("ro", MFD_ALLOW_SEALING);
	/* MFD_NOEXEC_SEAL is Linux 6.3: older kernels say EINVAL, and the case goes without it */
	M.nx = memfd_create("noexec", MFD_NOEXEC_SEAL);
	if (M.nx < 0 && errno == EINVAL)
		printf("note: no MFD_NOEXEC_SEAL (Linux < 6.3): the noexec memfd is left out\n");
	else if (M.nx < 0 || write(M.nx, "nx", 2) != 2)
		SETUP_FAIL();
	gone = memfd_create("gone", 0);
	if (M.rw < 0 || M.ro < 0 || gone < 0 ||
	    write(M.rw, buf, sizeof(buf)) != sizeof(buf) || write(M.ro, buf, 5000) != 5000 ||
	    ftruncate(gone, 2 * PG))
		SETUP_FAIL();
	/* sealed WRITE before it is mapped (a shared mapping that may write would block it) */
	if (fcntl(M.ro, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL))
		SETUP_FAIL();
	M.map_rw = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, M.rw, 0);
	M.map_ro = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, M.ro, 0);
	M.map_gone = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, gone, 0);
	if (M.map_rw == MAP_FAILED || M.map_ro == MAP_FAILED || M.map_gone == MAP_FAILED)
		SETUP_FAIL();
	close(gone);
	memcpy(M.map_gone + PG, "gone but mapped", 15);
	if (fcntl(M.rw, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		SETUP_FAIL();
	lseek(M.rw, 777, SEEK_SET);
	fstat(M.rw, &M.st);
}

static void memfd_check(void)
{
	unsigned char buf[10000];
	char l[4096], maps[64];
	struct stat st;
	FILE *f;
	int seen = 0;

	link_of(M.rw, l, sizeof(l));
	if (strcmp(l, "/memfd:my memfd (deleted)"))
		BAD("memfd: fd is %s", l);
	link_of(M.ro, l, sizeof(l));
	if (strcmp(l, "/memfd:ro (deleted)"))
		BAD("memfd: fd is %s", l);
	if (fcntl(M.rw, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW) ||
	    fcntl(M.ro, F_GET_SEALS) != (F_SEAL_WRITE | F_SEAL_SEAL) ||
	    (M.nx >= 0 && fcntl(M.nx, F_GET_SEALS) != F_SEAL_EXEC))
		BAD("memfd: seals %#x %#x %#x", fcntl(M.rw, F_GET_SEALS), fcntl(M.ro, F_GET_SEALS),
		    fcntl(M.nx, F_GET_SEALS));
	if (fcntl(M.rw, F_GETFD) != FD_CLOEXEC || fcntl(M.ro, F_GETFD) != 0)
		BAD("memfd: FD_CLOEXEC %d %d", fcntl(M.rw, F_GETFD), fcntl(M.ro, F_GETFD));
	if ((M.nx >= 0 && (fstat(M.nx, &st) || (st.st_mode & 0777) != 0666)) || fstat(M.rw, &st) ||
	    (st.st_mode & 0777) != (M.st.st_mode & 0777) || st.st_size != 10000 ||
	    lseek(M.rw, 0, SEEK_CUR) != 777)
		BAD("memfd: mode %o, size %ld, offset %ld", st.st_mode & 0777, (long)st.st_size,
		    (long)lseek(M.rw, 0, SEEK_CUR));
	if (pread(M.rw, buf, 10000, 0) != 10000 || !check_pat(buf, 0, 10000) ||
	    !check_pat(M.map_rw, 0, 10000) || !check_pat(M.map_ro, 0, 5000))
		BAD("memfd: contents differ");
	memcpy(M.map_rw + 50, "shared", 6);
	if (pread(M.rw, buf, 6, 50) != 6 || memcmp(buf, "shared", 6))
		BAD("memfd: a write through the mapping does not reach the fd");
	if (ftruncate(M.rw, 5000) == 0 || errno != EPERM || write(M.ro, "x", 1) != -1 ||
	    errno != EPERM || fcntl(M.ro, F_ADD_SEALS, F_SEAL_GROW) != -1)
		BAD("memfd: the seals do not hold");
	if (memcmp(M.map_gone + PG, "gone but mapped", 15))
		BAD("memfd: the mapping of the closed memfd differs");
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)getpid());
	if ((f = fopen(maps, "r"))) {
		while (fgets(l, sizeof(l), f))
			seen += strstr(l, "/memfd:gone (deleted)") != NULL;
		fclose(f);
	}
	if (!seen)
		BAD("memfd: no mapping of memfd \"gone\" in maps");
}

/* --- maywrite -------------------------------------------------------------- */

static struct { int fd[2]; unsigned char *map[2]; } W;

static void maywrite_setup(void)
{
	W.fd[0] = memfd_create("mw", 0);
	W.fd[1] = pattern_file(path_in("mw"), 2 * PG);
	if (W.fd[0] < 0 || ftruncate(W.fd[0], 2 * PG) || pwrite(W.fd[0], "memfd", 5, PG) != 5 ||
	    unlink(path_in("mw")))
		SETUP_FAIL();
	for (int i = 0; i < 2; i++)
		if ((W.map[i] = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, W.fd[i], 0)) == MAP_FAILED)
			SETUP_FAIL();
}

static void maywrite_check(void)
{
	unsigned char buf[8];

	if (memcmp(W.map[0] + PG, "memfd", 5) || !check_pat(W.map[1], 0, 2 * PG))
		BAD("maywrite: contents differ");
	for (int i = 0; i < 2; i++) {
		if (mprotect(W.map[i], 2 * PG, PROT_READ | PROT_WRITE)) {
			BAD("maywrite: mprotect of mapping %d to writable: %s", i, strerror(errno));
			continue;
		}
		memcpy(W.map[i] + 10, "mw", 2);
		if (pread(W.fd[i], buf, 2, 10) != 2 || memcmp(buf, "mw", 2))
			BAD("maywrite: a write through mapping %d does not reach its fd", i);
	}
}

/* --- devzero --------------------------------------------------------------- */

static unsigned char *Z[3];

static void devzero_setup(void)
{
	int z = open("/dev/zero", O_RDWR);

	Z[0] = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	Z[1] = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	Z[2] = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	close(z);
	if (Z[0] == MAP_FAILED || Z[1] == MAP_FAILED || Z[2] == MAP_FAILED)
		SETUP_FAIL();
	fill(Z[0] + PG, 0, PG);
	fill(Z[1], 1, 100);
	fill(Z[2] + PG, 2, PG);
}

static void devzero_check(void)
{
	char l[4096], maps[64];
	int shared = 0;
	FILE *f;

	if (!check_pat(Z[0] + PG, 0, PG) || Z[0][0] || Z[0][2 * PG] || !check_pat(Z[1], 1, 100) ||
	    Z[1][100] || !check_pat(Z[2] + PG, 2, PG) || Z[2][0])
		BAD("devzero: contents differ");
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)getpid());
	if ((f = fopen(maps, "r"))) {
		while (fgets(l, sizeof(l), f))
			shared += strstr(l, "rw-s") && strstr(l, "/dev/zero (deleted)");
		fclose(f);
	}
	if (shared != 2)
		BAD("devzero: %d shared /dev/zero mappings in maps, want 2", shared);
}

/* --- hugetlb --------------------------------------------------------------- */

static unsigned char *H[3];
static int hfd;

static void hugetlb_setup(void)
{
	H[0] = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB,
		    -1, 0);
	H[1] = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		    -1, 0);
	if (H[0] == MAP_FAILED || H[1] == MAP_FAILED) {
		printf("setup: MAP_HUGETLB: %s\n", strerror(errno));
		SETUP_FAIL();
	}
	fill(H[0], 0, 4 << 20);
	fill(H[1] + (1 << 20), 5, 100);
	/* a memfd of huge pages, open and mapped */
	hfd = memfd_create("huge", MFD_HUGETLB);
	if (hfd < 0 || ftruncate(hfd, 2 << 20) ||
	    (H[2] = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0)) == MAP_FAILED) {
		printf("setup: memfd MFD_HUGETLB: %s\n", strerror(errno));
		SETUP_FAIL();
	}
	fill(H[2] + 4096, 9, 5000);
}

static void hugetlb_check(void)
{
	char l[4096], smaps[64];
	int huge = 0, kps = 0;
	FILE *f;

	unsigned char buf[5000];
	struct statfs sf;

	if (!check_pat(H[0], 0, 4 << 20) || !check_pat(H[1] + (1 << 20), 5, 100) || H[1][0])
		BAD("hugetlb: contents differ");
	if (!check_pat(H[2] + 4096, 9, 5000) || pread(hfd, buf, 5000, 4096) != 5000 ||
	    !check_pat(buf, 9, 5000) || fstatfs(hfd, &sf) || sf.f_type != 0x958458f6 ||
	    sf.f_bsize != (2 << 20))
		BAD("hugetlb: the memfd of huge pages differs");
	memcpy(H[2], "meet", 4);
	if (pread(hfd, buf, 4, 0) != 4 || memcmp(buf, "meet", 4))
		BAD("hugetlb: the memfd's mapping and fd are not one file");
	snprintf(smaps, sizeof(smaps), "/proc/%d/smaps", (int)getpid());
	if ((f = fopen(smaps, "r"))) {
		int in = 0;

		while (fgets(l, sizeof(l), f)) {
			if ((l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f')) {
				in = strstr(l, "/anon_hugepage (deleted)") != NULL;	/* a mapping's line */
				huge += in;
			}
			if (in && !strncmp(l, "KernelPageSize:", 15) && strstr(l, " 2048 kB"))
				kps++;
		}
		fclose(f);
	}
	if (huge != 2 || kps != 2)
		BAD("hugetlb: %d anonymous huge page mappings, %d of 2 MiB pages, want 2 and 2", huge,
		    kps);
}

/* --- pidfd ----------------------------------------------------------------- */

static struct { int plain, nonblock, thread, other, other2; pid_t tid; pthread_t t; } P;
static volatile sig_atomic_t got_usr1, usr2_tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int thread_go;

static void on_usr1(int sig)
{
	got_usr1 = 1;
}

static void on_usr2(int sig)
{
	usr2_tid = (sig_atomic_t)syscall(SYS_gettid);
}

/* A thread that waits to be told to end. */
static void *waiter(void *arg)
{
	pthread_mutex_lock(&mu);
	P.tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&cv);
	while (!thread_go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void pidfd_setup(void)
{
	P.plain = syscall(SYS_pidfd_open, getpid(), 0);
	P.nonblock = syscall(SYS_pidfd_open, getpid(), O_NONBLOCK);
	/* PIDFD_THREAD is Linux 6.9: older kernels say EINVAL, and the thread pidfds are left out */
	P.thread = syscall(SYS_pidfd_open, getpid(), PIDFD_THREAD);
	if (P.thread < 0 && errno == EINVAL)
		printf("note: no PIDFD_THREAD (Linux < 6.9): thread pidfds are left out\n");
	if (P.plain < 0 || P.nonblock < 0 || (P.thread < 0 && errno != EINVAL) ||
	    pthread_create(&P.t, NULL, waiter, NULL))
		SETUP_FAIL();
	pthread_mutex_lock(&mu);
	while (!P.tid)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	/* a pidfd of the other thread, and a dup of it (one description) */
	P.other = P.other2 = -1;
	if (P.thread >= 0 && ((P.other = syscall(SYS_pidfd_open, P.tid, PIDFD_THREAD | O_NONBLOCK)) < 0 ||
			      (P.other2 = dup(P.other)) < 0))
		SETUP_FAIL();
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
}

static int fdinfo_pid(int fd)
{
	char name[64], l[256];
	int pid = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", fd);
	if ((f = fopen(name, "r"))) {
		while (fgets(l, sizeof(l), f))
			sscanf(l, "Pid: %d", &pid);
		fclose(f);
	}
	return pid;
}

/* Lets the waiter thread end, and waits for it. */
static void pidfd_end_thread(void)
{
	pthread_mutex_lock(&mu);
	thread_go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(P.t, NULL);
}

static void pidfd_check(void)
{
	struct pollfd p = { .fd = P.plain, .events = POLLIN };

	if (fdinfo_pid(P.plain) != getpid() || fdinfo_pid(P.nonblock) != getpid() ||
	    (P.thread >= 0 && fdinfo_pid(P.thread) != getpid()))
		BAD("pidfd: not pidfds of pid %d", (int)getpid());
	if (!(fcntl(P.nonblock, F_GETFL) & O_NONBLOCK) || (fcntl(P.plain, F_GETFL) & O_NONBLOCK) ||
	    (P.thread >= 0 && !(fcntl(P.thread, F_GETFL) & O_EXCL)))
		BAD("pidfd: flags %#o %#o %#o", fcntl(P.plain, F_GETFL), fcntl(P.nonblock, F_GETFL),
		    fcntl(P.thread, F_GETFL));
	if (poll(&p, 1, 0) != 0)
		BAD("pidfd: poll says the process has exited");
	if (syscall(SYS_pidfd_send_signal, P.plain, SIGUSR1, NULL, 0) || !got_usr1)
		BAD("pidfd: pidfd_send_signal did not reach the process: %s", strerror(errno));
	if (P.thread < 0) {	/* no thread pidfds on this kernel */
		pidfd_end_thread();
		return;
	}
	/* the other thread's pidfd: its tid, its flags, one description, its signal, its end */
	if (fdinfo_pid(P.other) != P.tid || fdinfo_pid(P.other2) != P.tid ||
	    (fcntl(P.other, F_GETFL) & (O_NONBLOCK | O_EXCL)) != (O_NONBLOCK | O_EXCL))
		BAD("pidfd: fd %d is not a pidfd of thread %d (Pid %d, flags %#o)", P.other, (int)P.tid,
		    fdinfo_pid(P.other), fcntl(P.other, F_GETFL));
	fcntl(P.other, F_SETFL, O_EXCL);
	if (fcntl(P.other2, F_GETFL) & O_NONBLOCK)
		BAD("pidfd: fds %d and %d do not share their description", P.other, P.other2);
	p.fd = P.other;
	if (poll(&p, 1, 0) != 0)
		BAD("pidfd: poll says thread %d has exited", (int)P.tid);
	if (syscall(SYS_pidfd_send_signal, P.other, SIGUSR2, NULL, 0))
		BAD("pidfd: pidfd_send_signal to thread %d: %s", (int)P.tid, strerror(errno));
	pidfd_end_thread();
	if (usr2_tid != P.tid)
		BAD("pidfd: SIGUSR2 through the thread's pidfd ran in thread %d, not %d", (int)usr2_tid,
		    (int)P.tid);
	if (poll(&p, 1, 5000) != 1)
		BAD("pidfd: poll does not say thread %d has exited", (int)P.tid);
}

/* --- devnode --------------------------------------------------------------- */

static int node_fd;

static void devnode_setup(void)
{
	if (mknod(path_in("mynull"), S_IFCHR | 0600, makedev(1, 3)) ||
	    (node_fd = open(path_in("mynull"), O_WRONLY)) < 0 || unlink(path_in("mynull"))) {
		printf("setup: mknod: %s\n", strerror(errno));
		SETUP_FAIL();
	}
}

static void devnode_check(void)
{
	struct stat st;
	char l[4096];

	if (fstat(node_fd, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3) ||
	    write(node_fd, "gone", 4) != 4)
		BAD("devnode: not /dev/null (rdev %u:%u)", major(st.st_rdev), minor(st.st_rdev));
	link_of(node_fd, l, sizeof(l));
	if (strcmp(l, "/dev/null"))
		BAD("devnode: reopened as %s", l);
}

static const struct { const char *name; void (*setup)(void), (*check)(void); } cases[] = {
	{ "tmp", tmp_setup, tmp_check },
	{ "sparse", sparse_setup, sparse_check },
	{ "big", big_setup, NULL },
	{ "memfd", memfd_setup, memfd_check },
	{ "maywrite", maywrite_setup, maywrite_check },
	{ "devzero", devzero_setup, devzero_check },
	{ "hugetlb", hugetlb_setup, hugetlb_check },
	{ "pidfd", pidfd_setup, pidfd_check },
	{ "devnode", devnode_setup, devnode_check },
};

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	dir = argv[2];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		printf("READY\n");
		wait_file(argv[3]);
		if (cases[i].check)
			cases[i].check();
		if (bad)
			return 1;
		printf("OK %s\n", cases[i].name);
		return 0;
	}
	return 2;
}
