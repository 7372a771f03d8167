#!/bin/bash
# A tree of three processes sharing SysV shared memory, a semaphore set
# (SEM_UNDO) and a message queue, a POSIX shm object and message queue,
# and a memfd (tree ipc): every counter in every shared memory must equal
# the sum of what the three added, the 5 SysV messages come back with
# their types and the 5 POSIX ones by priority:
#   crash   the objects outlive the killed tree: reused
#   reboot  the objects are gone (ipcrm, rm of the POSIX shm object): made
#           again with their ids (name), once for the whole tree (every
#           process maps them; the first saves their contents)
#   ipcns   `ckpt-run --ipcns` as an unprivileged user: the tree's own IPC
#           namespace, made again by an unprivileged restart (and the POSIX
#           shm object, a file of the host's /dev/shm, removed and made again
#           by the user)
. "$(dirname "$0")/lib.sh"
[ -r /proc/sysvipc/shm ] || skip "no SysV IPC in this kernel"
command -v ipcrm > /dev/null || skip "needs ipcrm (util-linux)"
T=$PROGS/tree
KEY=$(printf '0x%x' $((0x5f000000 + ($$ % 65536) * 16)))
trap 'ipcrm -M $KEY -S $((KEY + 1)) -Q $((KEY + 2)) 2>/dev/null; rm -f /dev/shm/ckpt-tree-$((KEY)) /dev/mqueue/ckpt-tree-$((KEY)); cleanup' EXIT

# one CASE: the tree until READY (ids in IDS), saved, killed whole; then HOW
one() {
	local name=$1 d=$TMP/$1 img=$TMP/$1/img
	mkdir -p "$d"
	shim "$T" ipc "$d" "$KEY" > "$d/out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$d/out" '^READY|^BAD'
	grep -q '^READY' "$d/out" || fail "$name: $(cat "$d/out")"
	read -r _ shm sem msg < <(grep '^ids ' "$d/out")
	"$BIN/ckpt-save" "$pid" "$img" > "$d/save" 2>&1 || fail "$name: $(cat "$d/save")"
	kill_tree "$pid"
	if [ "$name" = reboot ]; then
		ipcrm -m "$shm" -s "$sem" -q "$msg" || fail "reboot: ipcrm"
		rm "/dev/shm/ckpt-tree-$((KEY))" || fail "reboot: rm of the POSIX shm object"
	fi
	"${RESTART[@]}" --check "$img" > "$d/check" 2>&1 || fail "$name: --check: $(cat "$d/check")"
	restart_bg "$img" > "$d/out.2" 2>&1
	wait_for 20 test -d "/proc/$pid" || fail "$name: not restarted: $(cat "$d/out.2")"
	PIDS+=($(tree_pids "$RPID"))
	# the same objects, with the same ids
	ipcs -m | awk -v id="$shm" -v k="$KEY" '$2 == id && $1 == k && $6 == 3 { f = 1 } END { exit !f }' ||
		fail "$name: segment $shm is not key $KEY attached 3 times: $(ipcs -m)"
	touch "$d/go"
	wait "$RPID" || fail "$name: rc $?: $(cat "$d/out.2")"
	grep -q '^DONE ok' "$d/out.2" || fail "$name: $(cat "$d/out.2")"
}

one crash
one reboot
# the POSIX shm object every process maps: its contents once in the image, by the first
"$BIN/ckpt-info" --json "$TMP/reboot/img" > "$TMP/reboot.json" || fail "reboot: ckpt-info rc $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
p=[(f["file"], f["holds_contents"]) for m in d["processes"] for f in m["files"] if f["kind"] == "pshm"]
assert len(p) == 3 and [h for _, h in p] == [True, False, False], p
v=[m["vmas"] for m in d["processes"]]
assert all(any(x["file"] in [i for i, _ in p] for x in vs) for vs in v), "a process does not map it"' \
	"$TMP/reboot.json" 2> "$TMP/json.err" || fail "reboot: ckpt-info --json: $(cat "$TMP/json.err")"

# unprivileged, in the tree's own IPC (and pid) namespace
unpriv_user
d=$TMP/ns
mkdir -p "$d"
chown "$uid" "$d"
as_user "$BIN/ckpt-run" --ipcns "$T" ipc "$d" "$KEY" > "$d/out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
program_of "$RUN"
wait_line "$d/out" '^READY|^BAD'
grep -q '^READY' "$d/out" || fail "ipcns: $(cat "$d/out")"
ipcs -m | grep -q "$KEY" && fail "ipcns: the segment is in the host's namespace"
as_user "$BIN/ckpt-save" "$PROG" "$d/img" > "$d/save" 2>&1 || fail "ipcns: $(cat "$d/save")"
kill -9 "$RUN" "$INIT" 2>/dev/null
kill_tree "$PROG"
wait_for 20 gone "$INIT" || fail "ipcns: init $INIT did not go"
# the namespace is gone with its SysV objects, as after a reboot: the POSIX
# shm object (a file of the host's /dev/shm) too, made again by the user
[ "$(stat -c %u "/dev/shm/ckpt-tree-$((KEY))")" = "$uid" ] || fail "ipcns: the POSIX shm object is not the user's"
rm "/dev/shm/ckpt-tree-$((KEY))"
as_user "${RESTART[@]}" "$d/img" > "$d/out.2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
touch "$d/go"
wait "$RPID" || fail "ipcns: rc $?: $(cat "$d/out.2")"
grep -q '^DONE ok' "$d/out.2" || fail "ipcns: $(cat "$d/out.2")"
exit 0
