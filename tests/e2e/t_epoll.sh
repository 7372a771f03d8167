#!/bin/bash
# epoll (tests/e2e/progs/epoller.c checks each in the process):
#   one   one process with four epolls: level- and edge-triggered items
#         whose files are ready (the edge one never reported yet), a
#         fired EPOLLONESHOT item that must stay disabled and one armed on
#         an empty pipe, an item added under an fd closed since (a dup
#         keeps its file), EPOLLEXCLUSIVE, EPOLLOUT|EPOLLET on a write
#         end, a nested epoll, 64-bit data, an item whose fd number now
#         holds another file, O_NONBLOCK, unix sockets (a pair with a
#         byte queued, a listener with a connection waiting): saved, killed (SIGKILL),
#         restarted twice over; each interest list is the same (fdinfo:
#         fd, events, data) and the loop goes on as the kernel would
#         have let it (what each epoll_wait reports, re-arming, DEL)
#   tree  an epoll shared by parent and child (items added before and
#         after the fork, on pipes only the child holds, one under a
#         closed fd), the child's own epoll on a pipe only the parent
#         holds: both processes wait on them after the restart
#   stdin an item on fd 0, a pipe from outside the image: the restarted
#         process's fd 0 is ckpt-restart's (a FIFO here), and the item
#         watches it
# what ckpt-info shows (text and --json), and the refusal of an item
# whose file no fd of the image holds (only a message in flight does).
. "$(dirname "$0")/lib.sh"
P=$PROGS/epoller

# start NAME CASE: the program under the shim until READY; pid in PID.
start() {
	rm -f "$TMP/go.$1"
	shim "$P" "$2" "$TMP/go.$1" > "$TMP/$1.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$1.out" '^READY|^setup|^BAD'
	grep -q '^READY' "$TMP/$1.out" || fail "$1: $(cat "$TMP/$1.out")"
}

save() {
	"$BIN/ckpt-save" "$PID" "$TMP/$1.img" > "$TMP/$1.save" 2>&1 ||
		fail "$1: ckpt-save rc $?: $(cat "$TMP/$1.save")"
}

# generations NAME N: N times saved, killed whole, checked and restarted.
gens() {
	local name=$1 n=$2
	RPID=
	for g in $(seq "$n"); do
		save "$name"
		kill_tree "$PID"
		[ -z "$RPID" ] || wait "$RPID"
		"${RESTART[@]}" --check "$TMP/$name.img" > "$TMP/$name.check" 2>&1 ||
			fail "$name: generation $g: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
		restart_bg "$TMP/$name.img" > "$TMP/$name.out2" 2>&1
		wait_for 20 test -d "/proc/$PID" || fail "$name: generation $g: not restarted: $(cat "$TMP/$name.out2")"
		PIDS+=($(tree_pids "$RPID"))
	done
	touch "$TMP/go.$name"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q "^OK $name" "$TMP/$name.out2" ||
		fail "$name: the restarted copy (rc $rc): $(cat "$TMP/$name.out2")"
}

# --- the checks hold without a checkpoint (the program's own expectations) --
for c in one tree; do
	start "$c.plain" "$c"
	touch "$TMP/go.$c.plain"
	wait "$PID" && grep -q "^OK $c" "$TMP/$c.plain.out" ||
		fail "$c without a checkpoint: $(cat "$TMP/$c.plain.out")"
done

# --- one process -----------------------------------------------------------
start one one
gens one 2
"$BIN/ckpt-info" "$TMP/one.img" > "$TMP/one.info" || fail "ckpt-info rc $?"
grep -q 'epoll instance, 8 items' "$TMP/one.info" &&
	grep -q 'epoll instance, 1 item, O_NONBLOCK' "$TMP/one.info" &&
	grep -qE 'fd [0-9]+ -> file [0-9]+ \(pipe\)  disabled EPOLLONESHOT  data 0xc$' "$TMP/one.info" &&
	grep -qE 'fd [0-9]+ -> file [0-9]+ \(epoll\)  EPOLLIN\|EPOLLERR\|EPOLLHUP  data 0xdeadbeefcafef00d$' "$TMP/one.info" &&
	grep -qE 'EPOLLIN\|EPOLLERR\|EPOLLHUP\|EPOLLEXCLUSIVE  data 0x6$' "$TMP/one.info" ||
	fail "ckpt-info: $(grep -A14 '^epoll items' "$TMP/one.info"; grep epoll "$TMP/one.info")"
"$BIN/ckpt-info" --json "$TMP/one.img" > "$TMP/one.json" || fail "ckpt-info --json rc $?"
python3 - "$TMP/one.json" <<'PY' || fail "ckpt-info --json: $(grep -A40 epoll_items "$TMP/one.json" | head -60)"
import json, sys
j = json.load(open(sys.argv[1]))
items = j["epoll_items"]
assert len(items) == 13, len(items)
by = {i["data"]: i for i in items}
assert by[0xc]["disabled"] and by[0xc]["events"] == 0x40000000, by[0xc]
assert by[0xb]["events"] & 0x80000000 and not by[0xb]["disabled"]
assert by[0xdeadbeefcafef00d]["event_names"] == "EPOLLIN|EPOLLERR|EPOLLHUP"
eps = [f for f in j["files"] if f["kind"] == "epoll"]
assert sorted(f["epoll_items"] for f in eps) == [1, 1, 3, 8], eps
ids = {f["file"] for f in j["files"]}
assert all(i["target"] in ids and i["epoll"] in ids for i in items)
PY

# --- a tree ------------------------------------------------------------------
start tree tree
[ "$(tree_pids "$PID" | wc -w)" = 2 ] || fail "tree: not 2 processes: $(tree_pids "$PID")"
gens tree 2
"$BIN/ckpt-info" "$TMP/tree.img" > "$TMP/tree.info" || fail "ckpt-info tree rc $?"
[ "$(grep -c -- '-> file' "$TMP/tree.info")" = 4 ] ||
	fail "tree: ckpt-info shows $(grep -c -- '-> file' "$TMP/tree.info") items, want 4: $(grep -A6 "^epoll items" "$TMP/tree.info")"

# --- an item on fd 0, a pipe from outside: the restart's own fd 0 --------------
rm -f "$TMP/go.stdin"
exec 8< <(exec sleep 600)
PIDS+=("$!")
shim "$P" stdin "$TMP/go.stdin" <&8 8<&- > "$TMP/stdin.out" 2>&1 &
PID=$!
PIDS+=("$PID")
exec 8<&-
wait_line "$TMP/stdin.out" '^READY|^setup|^BAD'
grep -q '^READY' "$TMP/stdin.out" || fail "stdin: $(cat "$TMP/stdin.out")"
save stdin
kill9 "$PID"
mkfifo "$TMP/in"
exec 7<> "$TMP/in"
clean_fds "${RESTART[@]}" "$TMP/stdin.img" < "$TMP/in" > "$TMP/stdin.out2" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_for 20 test -d "/proc/$PID" || fail "stdin: not restarted: $(cat "$TMP/stdin.out2")"
touch "$TMP/go.stdin"
echo x >&7
wait "$RPID"
rc=$?
exec 7>&-
[ $rc -eq 0 ] && grep -q '^OK stdin' "$TMP/stdin.out2" ||
	fail "stdin: the restarted copy (rc $rc): $(cat "$TMP/stdin.out2")"

# --- refused: an item whose file no fd holds (only a message in flight) ------
start gone gone
"$BIN/ckpt-save" "$PID" "$TMP/gone.img" > "$TMP/gone.save" 2>&1 && fail "gone: saved"
grep -qE "fd [0-9]+ \(epoll\): its item for fd [0-9]+ \(events 0x19, data 0x9\) watches a file no fd of the process holds .*EPOLL_CTL_DEL it before closing its last fd" "$TMP/gone.save" ||
	fail "gone: $(cat "$TMP/gone.save")"
[ -z "$(ls "$TMP/gone.img"* 2>/dev/null)" ] || fail "gone: a refused checkpoint left $(ls "$TMP/gone.img"*)"
touch "$TMP/go.gone"
wait "$PID" && grep -q "^OK gone" "$TMP/gone.out" || fail "gone: the process after the refusal: $(cat "$TMP/gone.out")"
echo "PASS"
