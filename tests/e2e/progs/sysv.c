/*
 * sysv.c - SysV shared memory, semaphores and message queues survive
 * checkpoint, SIGKILL and restart (tests/e2e/t_sysv.sh).
 *
 *   sysv run KEY GOFILE    make the objects (keys KEY, KEY+1, KEY+2), print
 *                          "ids SHM SHM2 SEM MSG" and "READY", wait for
 *                          GOFILE, check everything: "OK" (exit 0) or
 *                          "BAD ..." lines (exit 1)
 *   sysv mess SHM SEM MSG  what another process might do to the objects
 *                          after the checkpoint: scribble over the segment,
 *                          move semaphore 0 (semop, which leaves ctime), add
 *                          a message
 *   sysv take-msg ID       a queue of its own under id ID (root: msg_next_id)
 *   sysv huge GOFILE       what a checkpoint refuses, each printing "READY" and
 *   sysv noread GOFILE     waiting for GOFILE: a segment of huge pages
 *   sysv unshare GOFILE    (SHM_HUGETLB) attached; a semaphore set of mode
 *                          0200 (alter, not read: run it unprivileged);
 *                          a segment attached, then unshare(CLONE_NEWIPC)
 *
 * The objects of `run`:
 *   SHM   key KEY, 3 pages + 100 bytes, mode 0640; attached three times:
 *         read-write at A (pages 0 and 2 and the last byte written, page 1
 *         left empty; page 2 then made read-only, which splits the attach
 *         in three mappings), SHM_RDONLY at B, and read-write at D whose
 *         first page was unmapped (a mapping at offset 4096)
 *   SHM2  IPC_PRIVATE, 2 pages, attached at C, written, then IPC_RMID'ed:
 *         alive only while attached
 *   SEM   key KEY+1, 3 semaphores, mode 0600: values 5, 2, 21 set, then one
 *         semop: semaphore 2 -4 with SEM_UNDO (this process's adjustment
 *         of it: +4), semaphore 1 -2 without: values 5, 0, 17
 *   MSG   key KEY+2, mode 0620: five messages, types 1 2 1 3 2, one of
 *         them empty, and a msg_qbytes of 8000
 * The checks after the restart: every id answers with its key, mode,
 * owner, size; the segment's bytes at A, through B and D, which are one
 * segment (a write at A shows at B), B read-only (mprotect refuses
 * PROT_WRITE), page 1 zero, A's three mappings with their protections, D
 * without its first page, nattch 5 (one per mapping), and shmdt(D)
 * detaching what is left of D (nattch 4); SHM2's bytes, still SHM_DEST;
 * SEM's values; MSG's messages, in order, with their types.  The
 * adjustments are checked by t_sysv.sh once this process is gone (the
 * kernel applies them at exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
#define SHM_SIZE (3 * PG + 100)
#define BAD(...) do { printf("BAD " __VA_ARGS__); printf("\n"); bad++; } while (0)

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static const long msg_types[] = { 1, 2, 1, 3, 2 };
static const char *const msg_texts[] = { "first", "second, type 2", "", "fourth: type 3",
					 "fifth and last" };

struct msgbuf_ { long mtype; char mtext[256]; };

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

static void wait_for(const char *go)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (access(go, F_OK) != 0)
		nanosleep(&ts, NULL);
}

/* The permissions and offset /proc/self/maps gives the mapping starting at p. */
static int maps_of(const void *p, char perm[5], unsigned long *off)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long a, b;
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx %4s %lx", &a, &b, perm, off) == 4 && a == (uintptr_t)p;
	if (f)
		fclose(f);
	return found;
}

static int check_attaches(int shm, const unsigned char *a, const unsigned char *d)
{
	static const struct { size_t at; const char *perm; } want[] = {
		{ 0, "rw-s" }, { 2 * PG, "r--s" }, { 3 * PG, "rw-s" },
	};
	struct shmid_ds ds;
	unsigned char vec;
	unsigned long off;
	char perm[5];
	int bad = 0;

	for (size_t i = 0; i < 3; i++)
		if (!maps_of(a + want[i].at, perm, &off) || strcmp(perm, want[i].perm) ||
		    off != want[i].at)
			BAD("A + %zu: not a mapping of its own %s at offset %zu", want[i].at,
			    want[i].perm, want[i].at);
	if (!maps_of(d + PG, perm, &off) || strcmp(perm, "rw-s") || off != PG ||
	    mincore((void *)d, PG, &vec) == 0)
		BAD("D: not attached from offset 4096 without its first page");
	if (memcmp(d + PG, a + PG, SHM_SIZE - PG))
		BAD("D does not show the segment's bytes");
	if (shmctl(shm, IPC_STAT, &ds) < 0 || ds.shm_nattch != 5)
		BAD("shm %d: %lu attaches, want 5 (A's three mappings, B, D)", shm,
		    (unsigned long)ds.shm_nattch);
	if (shmdt(d) < 0 || mincore((void *)(d + PG), PG, &vec) == 0 ||
	    shmctl(shm, IPC_STAT, &ds) < 0 || ds.shm_nattch != 4)
		BAD("shmdt(D) did not detach what was left of D (%s, nattch %lu)", strerror(errno),
		    (unsigned long)ds.shm_nattch);
	return bad;
}

static int check_shm(int shm, int shm2, const unsigned char *a, const unsigned char *b,
		     const unsigned char *cc, key_t key)
{
	struct shmid_ds ds;
	int bad = 0;

	if (shmctl(shm, IPC_STAT, &ds) < 0)
		BAD("shm %d: IPC_STAT: %s", shm, strerror(errno));
	else {
		if (ds.shm_perm.__key != key || (ds.shm_perm.mode & 0777) != 0640 ||
		    ds.shm_segsz != SHM_SIZE || ds.shm_perm.uid != getuid() ||
		    ds.shm_perm.cuid != getuid())
			BAD("shm %d: key 0x%x mode 0%o size %zu uid %u cuid %u", shm,
			    (unsigned)ds.shm_perm.__key, ds.shm_perm.mode, ds.shm_segsz,
			    ds.shm_perm.uid, ds.shm_perm.cuid);
	}
	for (size_t i = 0; i < SHM_SIZE; i++) {
		unsigned char want = i / PG == 1 ? 0 : pattern(i);

		if (i == SHM_SIZE - 1)
			want = 0xee;
		if (a[i] != want || b[i] != want) {
			BAD("shm byte %zu: %u at A, %u at B, want %u", i, a[i], b[i], want);
			break;
		}
	}
	((unsigned char *)a)[PG + 7] = 0x5a;
	if (b[PG + 7] != 0x5a)
		BAD("A and B are not one segment any more");
	((unsigned char *)a)[PG + 7] = 0;
	if (mprotect((void *)b, PG, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		BAD("B can be made writable (errno %d): not attached SHM_RDONLY", errno);
	if (shmctl(shm2, IPC_STAT, &ds) < 0)
		BAD("shm2 %d: IPC_STAT: %s", shm2, strerror(errno));
	else if (!(ds.shm_perm.mode & SHM_DEST) || ds.shm_perm.__key != IPC_PRIVATE ||
		 ds.shm_nattch != 1 || ds.shm_segsz != 2 * PG)
		BAD("shm2 %d: mode 0%o key 0x%x nattch %lu size %zu", shm2, ds.shm_perm.mode,
		    (unsigned)ds.shm_perm.__key, (unsigned long)ds.shm_nattch, ds.shm_segsz);
	for (size_t i = 0; i < 2 * PG; i++)
		if (cc[i] != (unsigned char)(i ^ 0x3c)) {
			BAD("shm2 byte %zu: %u", i, cc[i]);
			break;
		}
	return bad;
}

static int check_sem(int sem, key_t key)
{
	unsigned short v[3];
	struct semid_ds ds;
	union semun u = { .buf = &ds };
	int bad = 0;

	if (semctl(sem, 0, IPC_STAT, u) < 0)
		{ BAD("sem %d: IPC_STAT: %s", sem, strerror(errno)); return bad; }
	if (ds.sem_perm.__key != key + 1 || (ds.sem_perm.mode & 0777) != 0600 || ds.sem_nsems != 3)
		BAD("sem %d: key 0x%x mode 0%o nsems %lu", sem, (unsigned)ds.sem_perm.__key,
		    ds.sem_perm.mode, (unsigned long)ds.sem_nsems);
	u.array = v;
	if (semctl(sem, 0, GETALL, u) < 0 || v[0] != 5 || v[1] != 0 || v[2] != 17)
		BAD("sem %d: values %u %u %u, want 5 0 17", sem, v[0], v[1], v[2]);
	return bad;
}

static int check_msg(int msg, key_t key)
{
	struct msqid_ds ds;
	struct msgbuf_ m;
	int bad = 0;

	if (msgctl(msg, IPC_STAT, &ds) < 0)
		{ BAD("msg %d: IPC_STAT: %s", msg, strerror(errno)); return bad; }
	if (ds.msg_perm.__key != key + 2 || (ds.msg_perm.mode & 0777) != 0620 ||
	    ds.msg_qbytes != 8000 || ds.msg_qnum != 5)
		BAD("msg %d: key 0x%x mode 0%o qbytes %lu qnum %lu", msg,
		    (unsigned)ds.msg_perm.__key, ds.msg_perm.mode, (unsigned long)ds.msg_qbytes,
		    (unsigned long)ds.msg_qnum);
	for (int i = 0; i < 5; i++) {
		ssize_t n = msgrcv(msg, &m, sizeof(m.mtext), 0, IPC_NOWAIT);

		if (n < 0 || m.mtype != msg_types[i] || (size_t)n != strlen(msg_texts[i]) ||
		    memcmp(m.mtext, msg_texts[i], n)) {
			BAD("msg %d: message %d: %zd bytes, type %ld", msg, i, n, n < 0 ? 0 : m.mtype);
			break;
		}
	}
	if (msgrcv(msg, &m, sizeof(m.mtext), 0, IPC_NOWAIT) >= 0)
		BAD("msg %d: a sixth message, type %ld", msg, m.mtype);
	return bad;
}

static int run(key_t key, const char *go)
{
	int shm = shmget(key, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	int shm2 = shmget(IPC_PRIVATE, 2 * PG, IPC_CREAT | 0600);
	int sem = semget(key + 1, 3, IPC_CREAT | IPC_EXCL | 0600);
	int msg = msgget(key + 2, IPC_CREAT | IPC_EXCL | 0620);
	unsigned char *a, *b, *cc, *d;
	unsigned short init[3] = { 5, 2, 21 };
	union semun u = { .array = init };
	struct sembuf ops[2] = { { 2, -4, SEM_UNDO }, { 1, -2, 0 } };
	struct msqid_ds ds;
	int bad;

	if (shm < 0 || shm2 < 0 || sem < 0 || msg < 0) {
		printf("setup: get: %s\n", strerror(errno));
		return 1;
	}
	a = shmat(shm, NULL, 0);
	b = shmat(shm, NULL, SHM_RDONLY);
	cc = shmat(shm2, NULL, 0);
	d = shmat(shm, NULL, 0);
	if (a == (void *)-1 || b == (void *)-1 || cc == (void *)-1 || d == (void *)-1) {
		printf("setup: shmat: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < SHM_SIZE; i++)
		if (i / PG != 1)
			a[i] = pattern(i);
	a[SHM_SIZE - 1] = 0xee;
	if (mprotect(a + 2 * PG, PG, PROT_READ) < 0 || munmap(d, PG) < 0) {
		printf("setup: mprotect, munmap: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < 2 * PG; i++)
		cc[i] = (unsigned char)(i ^ 0x3c);
	shmctl(shm2, IPC_RMID, NULL);
	/* values 5 2 21, then sem 2 -4 with SEM_UNDO (adjustment +4), sem 1 -2: 5 0 17 */
	if (semctl(sem, 0, SETALL, u) < 0 || semop(sem, ops, 2) < 0) {
		printf("setup: sem: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 5; i++) {
		struct msgbuf_ m = { .mtype = msg_types[i] };

		strcpy(m.mtext, msg_texts[i]);
		if (msgsnd(msg, &m, strlen(m.mtext), 0) < 0) {
			printf("setup: msgsnd: %s\n", strerror(errno));
			return 1;
		}
	}
	if (msgctl(msg, IPC_STAT, &ds) == 0) {
		ds.msg_qbytes = 8000;
		msgctl(msg, IPC_SET, &ds);
	}
	printf("ids %d %d %d %d\nREADY\n", shm, shm2, sem, msg);
	fflush(stdout);
	wait_for(go);
	bad = check_shm(shm, shm2, a, b, cc, key) + check_attaches(shm, a, d) +
	      check_sem(sem, key) + check_msg(msg, key);
	if (!bad)
		printf("OK\n");
	return bad ? 1 : 0;
}

/* What another process may do meanwhile: the restart must put the saved state back. */
static int mess(int shm, int sem, int msg)
{
	unsigned char *p = shmat(shm, NULL, 0);
	struct sembuf op = { 0, 3, 0 };
	struct msgbuf_ m = { .mtype = 9, .mtext = "extra" };

	if (p == (void *)-1 || semop(sem, &op, 1) < 0 || msgsnd(msg, &m, 5, 0) < 0) {
		printf("mess: %s\n", strerror(errno));
		return 1;
	}
	memset(p, 0xab, 2 * PG);
	shmdt(p);
	return 0;
}

/* Another queue under `id` (root: msg_next_id), where a restart wants to make its own. */
static int take_msg(int id)
{
	FILE *f = fopen("/proc/sys/kernel/msg_next_id", "w");
	int q;

	if (!f || fprintf(f, "%d", id) < 0 || fclose(f) != 0) {
		printf("take-msg: msg_next_id: %s\n", strerror(errno));
		return 1;
	}
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q != id) {
		printf("take-msg: got id %d, not %d\n", q, id);
		return 1;
	}
	printf("taken %d\n", q);
	return 0;
}

/* The shapes a checkpoint refuses (t_sysv.sh checks the messages). */
static int refused(const char *what, const char *go)
{
	if (!strcmp(what, "huge")) {
		int id = shmget(IPC_PRIVATE, 2 << 20, IPC_CREAT | SHM_HUGETLB | 0600);

		if (id < 0 || shmat(id, NULL, 0) == (void *)-1) {
			printf("setup: huge pages: %s\n", strerror(errno));
			return 1;
		}
		shmctl(id, IPC_RMID, NULL);
	} else if (!strcmp(what, "noread")) {
		int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0200);
		struct sembuf op = { 0, 1, 0 };

		if (id < 0 || semop(id, &op, 1) < 0) {
			printf("setup: sem: %s\n", strerror(errno));
			return 1;
		}
		printf("ids %d\n", id);
	} else {
		int id = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0600);

		if (id < 0 || shmat(id, NULL, 0) == (void *)-1 || unshare(CLONE_NEWIPC) < 0) {
			printf("setup: shm, unshare: %s\n", strerror(errno));
			return 1;
		}
		printf("ids %d\n", id);
	}
	printf("READY\n");
	wait_for(go);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && (!strcmp(argv[1], "huge") || !strcmp(argv[1], "noread") ||
			  !strcmp(argv[1], "unshare")))
		return refused(argv[1], argv[2]);
	if (argc == 4 && !strcmp(argv[1], "run"))
		return run((key_t)strtol(argv[2], NULL, 0), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "mess"))
		return mess(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "take-msg"))
		return take_msg(atoi(argv[2]));
	fprintf(stderr, "usage: sysv run KEY GOFILE | mess SHM SEM MSG | take-msg ID\n");
	return 2;
}
