#!/bin/bash
# Memory attributes come back (progs/memattrs.c): madvise flags, mlock and
# MLOCK_ONFAULT, MAP_NORESERVE, guard regions, mseal, the maximum
# protection of a shared file mapping, mlockall(MCL_FUTURE).  Checked
# in the restored copy against the original's /proc/self/smaps VmFlags
# and by behaviour (a guard page faults, MADV_DONTFORK memory is absent
# and MADV_WIPEONFORK memory zero in a fork child, mprotect to write the
# shared mapping works).  Saved by ckpt_save() (compressed, mappable,
# advice by raw system calls, mlockall) and by ckpt-save with a forked
# writer; restored eagerly and with --lazy.  A restart that may not lock
# what the process locked is refused by --check, naming the limit.
. "$(dirname "$0")/lib.sh"

# self CASE [ENV=...] -- ARGS: ckpt_save(), exit, restart, compare.
self() {
	local tag=$1 rc
	shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	shim env "${envs[@]}" "$PROGS/memattrs" "$TMP/$tag.img" "$@" > "$TMP/$tag.out1" 2>&1 ||
		fail "$tag: save: $(cat "$TMP/$tag.out1")"
	grep -q SAVED "$TMP/$tag.out1" || fail "$tag: no SAVED: $(cat "$TMP/$tag.out1")"
	clean_fds "${RESTART[@]}" ${RESTART_OPTS:-} "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
	rc=$?
	grep -q "RESTORED ok" "$TMP/$tag.out2" && [ $rc -eq 0 ] ||
		fail "$tag: restore (rc $rc): $(cat "$TMP/$tag.out2")"
}

self libc --
grep -q "NOTE: guard" "$TMP/libc.out1" && echo "NOTE: no guard regions here (Linux 6.13)"
# ckpt-info names the attributes
"$BIN/ckpt-info" --json "$TMP/libc.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
attrs = set(a for v in d["vmas"] for a in v["attrs"])
want = {"dc", "dd", "wf", "lo", "nr", "mw"} | ({"lf"} if sys.argv[1] == "1" else set())
assert want <= attrs, "missing %s" % (want - attrs)
' "$("$PROGS/kfeatures" | sed -n 's/^smaps_lf //p')" || fail "ckpt-info --json does not show the attributes"
"$BIN/ckpt-info" "$TMP/libc.img" | grep -q "guard region" ||
	grep -q "NOTE: guard" "$TMP/libc.out1" || fail "ckpt-info does not show the guard regions"

self mappable -- mappable
RESTART_OPTS=--lazy self lazy --
self raw -- raw
self raw-smaps CKPT_SMAPS=1 -- raw nosign
self future -- future
self raw-future -- raw future

# ckpt-save: the forked copy writes the VMA records and finds the guards
CASE=forked
shim "$PROGS/memattrs" "$TMP/forked.img" wait nofork > "$TMP/forked.out1" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/forked.out1" READY
"$BIN/ckpt-save" "$pid" "$TMP/forked.img" > "$TMP/forked.save" 2>&1 ||
	fail "forked: ckpt-save: $(cat "$TMP/forked.save")"
kill9 "$pid"
restart_bg "$TMP/forked.img" > "$TMP/forked.out2" 2>&1
wait_for 20 test -d "/proc/$pid" || fail "forked: not restarted: $(cat "$TMP/forked.out2")"
kill -USR2 "$pid"
wait "$RPID"
rc=$?
grep -q "RESTORED ok" "$TMP/forked.out2" && [ $rc -eq 0 ] ||
	fail "forked: restore (rc $rc): $(cat "$TMP/forked.out2")"

# Locking needs CAP_IPC_LOCK or room in RLIMIT_MEMLOCK: --check says so
if grep -q "NOTE: mlock" "$TMP/libc.out1"; then
	echo "NOTE: mlock failed here; the --check refusal is not tested"
elif command -v setpriv > /dev/null && command -v prlimit > /dev/null && [ "$(id -u)" = 0 ]; then
	clean_fds setpriv --bounding-set=-ipc_lock,-sys_resource --inh-caps=-ipc_lock,-sys_resource \
		prlimit --memlock=16384:16384 "$BIN/ckpt-restart" --check "$TMP/libc.img" \
		> "$TMP/check.out" 2>&1
	rc=$?
	[ $rc -eq 4 ] || fail "--check without CAP_IPC_LOCK: rc $rc: $(cat "$TMP/check.out")"
	grep -q "of memory locked (mlock, mlockall or MAP_LOCKED: 2 mappings.*RLIMIT_MEMLOCK" \
		"$TMP/check.out" || fail "--check without CAP_IPC_LOCK: $(cat "$TMP/check.out")"
fi
exit 0
