#!/bin/bash
# Standard input and output are part of the state (fds/fd_inherit.c,
# docs/USAGE.md "Standard input and output"):
#  - fds 0-2 on regular files are reopened at their offsets: a filter
#    whose stdin and stdout are files finishes its output file exactly
#    (each line once, in order) and writes nothing to ckpt-restart's own
#    stdout (the `sort -o FILE` loss);
#  - fds 0-2 on a pipe are ckpt-restart's own, and ckpt-save says so;
#  - --inherit-fd 1 takes ckpt-restart's stdout instead of the file;
#    a source fd that is not open is refused (exit 4), a bad list too (1);
#  - the restarted process has exactly its own fds: none of ckpt-restart's
#    strays; O_PATH fds on a file, a directory and a symbolic link come
#    back as O_PATH fds on the same kind of file (FD_CLOEXEC kept).
. "$(dirname "$0")/lib.sh"
P=$PROGS/stdio
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }
setup() {
	mkdir -p "$1"
	echo data > "$1/file"
	ln -s file "$1/link"
	printf 'l1\nl2\nl3\nl4\nl5\nl6\n' > "$1/in"
}
expect_lines() {	# FILE FIRST LAST
	local want="" i
	for ((i = $2; i <= $3; i++)); do want+="$i: l$i"$'\n'; done
	[ "$(cat "$1")"$'\n' = "$want" ]
}

# --- files: reopened, output completed in place --------------------------
A=$TMP/a
setup "$A"
shim "$P" "$A/img" "$A" < "$A/in" > "$A/out" 2> "$A/err" &
PID=$!
PIDS+=("$PID")
wait_line "$A/err" '^SAVED'
kill9 "$PID"
# ckpt-restart started with strays: fd 7, and whatever this shell holds
"$BIN/ckpt-restart" "$A/img" 7< /dev/null > "$A/rout" 2> "$A/rerr"
rc=$?
[ $rc -eq 0 ] || bad "files: restart rc $rc: $(cat "$A/rerr" "$A/err")"
expect_lines "$A/out" 1 6 || bad "files: the output file is not lines 1-6 once each: $(cat "$A/out")"
[ -s "$A/rout" ] && bad "files: the restarted copy wrote to ckpt-restart's stdout: $(cat "$A/rout")"
grep -q '^RESTORED' "$A/err" && grep -q '^OPATH ok' "$A/err" && grep -q '^DONE' "$A/err" ||
	bad "files: stderr (reopened file): $(cat "$A/err")"
fds=$(sed -n 's/^FDS //p' "$A/err")
[ "$fds" = "0 1 2 3 4 5" ] || bad "files: the restarted copy has fds '$fds', want '0 1 2 3 4 5' (its own, none of ckpt-restart's)"

# --- --inherit-fd 1: the same image, stdout from ckpt-restart ------------
cp "$A/out" "$A/out.before"
"$BIN/ckpt-restart" --inherit-fd 1 "$A/img" > "$A/rout2" 2> "$A/rerr2"
rc=$?
[ $rc -eq 0 ] || bad "--inherit-fd 1: rc $rc: $(cat "$A/rerr2")"
expect_lines "$A/rout2" 4 6 || bad "--inherit-fd 1: ckpt-restart's stdout has: $(cat "$A/rout2")"
cmp -s "$A/out" "$A/out.before" || bad "--inherit-fd 1: the original output file was written"
"$BIN/ckpt-restart" --inherit-fd 1=9 "$A/img" > /dev/null 2> "$A/rerr3"
rc=$?
[ $rc -eq 4 ] && grep -q "fd 9" "$A/rerr3" || bad "--inherit-fd 1=9 with fd 9 closed: rc $rc: $(cat "$A/rerr3")"
"$BIN/ckpt-restart" --inherit-fd 1=x "$A/img" > /dev/null 2> "$A/rerr4"
rc=$?
[ $rc -eq 1 ] && grep -q "inherit-fd" "$A/rerr4" || bad "--inherit-fd 1=x: rc $rc: $(cat "$A/rerr4")"

# --- a pipe: inherited, and ckpt-save says so -----------------------------
Bd=$TMP/b
setup "$Bd"
( shim "$P" - "$Bd" < "$Bd/in" 2> "$Bd/err" | cat > "$Bd/out1" ) &
PIDS+=("$!")
wait_line "$Bd/err" '^READY'
PID=$(sed -n 's/^READY //p' "$Bd/err")
PIDS+=("$PID")
"$BIN/ckpt-save" "$PID" "$Bd/img" > "$Bd/save" 2>&1 || fail "pipe: ckpt-save: $(cat "$Bd/save")"
grep -q "note: fd 1 (pipe:\[[0-9]*\]) will be ckpt-restart's own fd 1" "$Bd/save" ||
	bad "pipe: ckpt-save does not say fd 1 is inherited: $(cat "$Bd/save")"
"$BIN/ckpt-info" "$Bd/img" | grep -E '^ +1 +inherited +pipe:' > /dev/null ||
	bad "pipe: ckpt-info does not show fd 1 as inherited: $("$BIN/ckpt-info" "$Bd/img" | grep -A6 '^fds')"
kill9 "$PID"
touch "$Bd/go"
"$BIN/ckpt-restart" "$Bd/img" 2> "$Bd/rerr" < /dev/null | cat > "$Bd/out2"
rc=${PIPESTATUS[0]}
[ $rc -eq 0 ] || bad "pipe: restart rc $rc: $(cat "$Bd/rerr" "$Bd/err")"
expect_lines "$Bd/out1" 1 3 || bad "pipe: the first pipe got: $(cat "$Bd/out1")"
expect_lines "$Bd/out2" 4 6 || bad "pipe: ckpt-restart's pipe got: $(cat "$Bd/out2")"
"$BIN/ckpt-restart" "$Bd/img" > /dev/null 2> "$Bd/rerr2" >&-
rc=$?
[ $rc -eq 4 ] && grep -q "fd 1 (pipe:.*not open" "$Bd/rerr2" ||
	bad "pipe: restart with its stdout closed: rc $rc, want 4 naming fd 1: $(cat "$Bd/rerr2")"
[ $nbad -eq 0 ] || exit 1
exit 0
