#!/bin/bash
# Process trees (issue #11): ckpt-save of a program's root saves it and
# every descendant; after SIGKILL of the whole tree, ckpt-restart makes
# it again: every pid, parent, session and process group, the zombies
# with their exit status, an orphan with its adopted parent, a stopped
# process still stopped, a child that execs a shell that forks and execs
# all the time; shared anonymous memory, one file description shared by
# every process (one offset) and descriptions of their own.  Each
# program checks its state itself and the root prints "DONE ok".
# Two generations: the restarted tree is saved and restarted again.
. "$(dirname "$0")/lib.sh"
T=$PROGS/tree

# run_case NAME GENS ARGS...: the tree under the shim until READY, GENS
# times saved, killed whole and restarted; then go, and DONE ok.
run_case() {
	local name=$1 gens=$2 d=$TMP/$1 img=$TMP/$1.img pid g out
	shift 2
	mkdir -p "$d"
	out=$TMP/$name.out
	# (<&0: a background job keeps the script's stdin, a terminal in the fg case)
	shim "$T" "$1" "$d" "${@:2}" > "$out" 2>&1 <&0 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	grep -q '^READY' "$out" || fail "$name: $(cat "$out")"
	before=$(for p in $(tree_pids "$pid"); do awk '{print $1, $4, $5, $6}' /proc/$p/stat; done | sort)
	RPID=
	for ((g = 1; g <= gens; g++)); do
		"$BIN/ckpt-save" "$pid" "$img" > "$TMP/$name.save" 2>&1 ||
			fail "$name: generation $g: ckpt-save rc $?: $(cat "$TMP/$name.save")"
		kill_tree "$pid"
		[ -z "$RPID" ] || wait "$RPID"
		"${RESTART[@]}" --check "$img" > "$TMP/$name.check" 2>&1 ||
			fail "$name: generation $g: ckpt-restart --check rc $?: $(cat "$TMP/$name.check")"
		clean_fds "${RESTART[@]}" "$img" > "$out.$g" 2>&1 <&0 &
		RPID=$!
		wait_for 20 test -d "/proc/$pid" || fail "$name: generation $g: not restarted: $(cat "$out.$g")"
		PIDS+=($(tree_pids "$RPID"))
		# the same tree: pids, parents (the root's is ckpt-restart), groups, sessions
		after=$(for p in $(tree_pids "$pid"); do awk '{print $1, $4, $5, $6}' /proc/$p/stat; done | sort)
		# (the exec case's shell makes and reaps a process every few ms)
		[ "$name" = exec ] || [ "$(echo "$after" | wc -l)" = "$(echo "$before" | wc -l)" ] ||
			fail "$name: generation $g: $(echo "$after" | wc -l) processes, were $(echo "$before" | wc -l): $(cat "$out.$g")"
	done
	touch "$d/go"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] || fail "$name: rc $rc: $(cat "$out.$gens")"
	grep -q '^DONE ok' "$out.$gens" || fail "$name: $(cat "$out.$gens")"
	! grep -q '^BAD' "$out.$gens" || fail "$name: $(grep '^BAD' "$out.$gens")"
}

# ckpt_save() in a child saves it and its own child, not the root
selfsave() {
	local d=$TMP/selfsave img=$TMP/selfsave/img out=$TMP/selfsave.out c g root
	mkdir -p "$d"
	shim "$T" selfsave "$d" "$img" > "$out" 2>&1 &
	root=$!
	PIDS+=("$root")
	wait_line "$out" '^SAVED|^BAD'
	read -r _ c g < <(grep '^SAVED' "$out") || fail "selfsave: $(cat "$out")"
	"$BIN/ckpt-info" "$img" | grep -q "tree:      2 processes, root pid $c" ||
		fail "selfsave: the image is not C's tree: $("$BIN/ckpt-info" "$img" | head -5)"
	kill_tree "$root"
	restart_bg "$img" > "$out.2" 2>&1
	wait_line "$out.2" '^RESTORED|^BAD'
	[ "$(awk '{print $4}' /proc/$g/stat)" = "$c" ] || fail "selfsave: $g is not $c's child"
	touch "$d/go"
	wait "$RPID" || fail "selfsave: restarted rc $?: $(cat "$out.2")"
	grep -q '^DONE ok' "$out.2" || fail "selfsave: $(cat "$out.2")"
}

selfsave
run_case basic 2 basic 3
# the terminal's foreground group: run on a terminal of its own (script)
if [ -z "${TREE_ON_TTY:-}" ]; then
	command -v script > /dev/null || skip "script(1) is needed for the terminal case"
	TREE_ON_TTY=1 script -qec "bash $0" /dev/null > "$TMP/tty.out" 2>&1 ||
		fail "on a terminal: $(tr -d '\r' < "$TMP/tty.out" | tail -5)"
else
	run_case fg 2 fg
	exit 0
fi
run_case session 2 session
run_case stopped 1 stopped
run_case exec 2 exec
exit 0
