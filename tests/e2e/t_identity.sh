#!/bin/bash
# After a restart the process is the same one: pid, tid, cmdline, comm
# (PR_SET_NAME), exe link, environ, auxv and environment variables are
# those saved (not the restarter's), the vdso clocks work and do not go
# back, sched_getcpu() (rseq) follows the CPU the copy now runs on, and
# malloc/free work.
. "$(dirname "$0")/lib.sh"
ID_VAR="the saved value = 1" shim "$PROGS/identity" "$TMP/img" > "$TMP/out1" 2>&1 ||
	fail "save: $(cat "$TMP/out1")"
grep -q '^SAVED' "$TMP/out1" || fail "no SAVED: $(cat "$TMP/out1")"
[ -f "$TMP/img" ] || fail "no image"
# The restarter runs with another value: the copy must keep its own.
ID_VAR="the restarter's value" clean_fds "${RESTART[@]}" "$TMP/img" > "$TMP/out2" 2>&1
rc=$?
grep -q '^RESTORED ok' "$TMP/out2" || fail "restore (rc $rc): $(cat "$TMP/out2")"
[ $rc -eq 0 ] || fail "rc $rc: $(cat "$TMP/out2")"
exit 0
