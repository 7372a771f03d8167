/*
 * sqlite_wal.c DB DIR - a process holding an SQLite database open in WAL
 * mode, with the real SQLite library (t_sqlite_wal.sh).
 *
 * It commits rows 1-100, one transaction each, prints "COMMITTED 100"
 * and READY, and keeps the connection open: SQLite then holds a read
 * lock on the database file and one on the -shm file (which it maps),
 * and other connections know from those locks that they are not alone.
 * Then it polls DIR:
 *   ping  (removed)  prints "PONG count=N" (its own SELECT count(*))
 *   go    (removed)  commits rows 101-200, one transaction each, prints
 *                    "COMMITTED 200" and goes on polling, the connection
 *                    open (the test reads, then kills it: committed rows
 *                    must survive that)
 * Every statement that fails prints "SQL ERROR ..." and exits 1.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sqlite3 *db;

static void sql(const char *stmt)
{
	char *err = NULL;

	if (sqlite3_exec(db, stmt, NULL, NULL, &err) != SQLITE_OK) {
		printf("SQL ERROR %s: %s\n", stmt, err ? err : "?");
		exit(1);
	}
}

static int count_cb(void *arg, int n, char **v, char **names)
{
	*(int *)arg = v[0] ? atoi(v[0]) : -1;
	return 0;
}

static int count(void)
{
	char *err = NULL;
	int n = -1;

	if (sqlite3_exec(db, "SELECT count(*) FROM t", count_cb, &n, &err) != SQLITE_OK) {
		printf("SQL ERROR count: %s\n", err ? err : "?");
		exit(1);
	}
	return n;
}

static void commit_rows(int from, int to)
{
	char stmt[128];

	for (int i = from; i <= to; i++) {
		snprintf(stmt, sizeof(stmt), "INSERT INTO t VALUES(%d, 'row %d')", i, i);
		sql(stmt);
	}
	printf("COMMITTED %d\n", to);
}

int main(int argc, char **argv)
{
	char ping[4096], go[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: sqlite_wal DB DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(ping, sizeof(ping), "%s/ping", argv[2]);
	snprintf(go, sizeof(go), "%s/go", argv[2]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
		printf("SQL ERROR open: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sql("PRAGMA journal_mode=WAL");
	sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	commit_rows(1, 100);
	printf("READY pid=%d count=%d\n", getpid(), count());
	for (;;) {
		if (access(ping, F_OK) == 0) {
			unlink(ping);
			printf("PONG count=%d\n", count());
		}
		if (access(go, F_OK) == 0) {
			unlink(go);
			commit_rows(101, 200);
		}
		usleep(10000);
	}
}
