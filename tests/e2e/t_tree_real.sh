#!/bin/bash
# Process trees of programs we did not write, from Debian: `make -j2`
# running two recipes at once (each a shell loop appending to a file),
# `xargs -P 3` running shells whose output goes through `sort -n` into
# `md5sum`, and bash's `seq | while read` (seq has exited: the rest of
# its output waits in a pipe no one writes to any more, the loop's
# stdin, which is the tree's to save, not ckpt-restart's stdin).  Each is saved mid-run with `ckpt-save --exit` (the
# tree ends with the image: nothing runs on to touch the files after
# the cut), restarted, and must print what an uninterrupted run prints.
. "$(dirname "$0")/lib.sh"
command -v make > /dev/null || skip "no make"

# run NAME DIR 'CMD' 'READY-TEST': uninterrupted vs saved and restarted
run() {
	local name=$1 d=$2 cmd=$3 ready=$4 ref pid
	(cd "$d" && bash -c "$cmd") > "$TMP/$name.ref" 2>&1 < /dev/null || fail "$name: the uninterrupted run: $(cat "$TMP/$name.ref")"
	ref=$(cat "$TMP/$name.ref")
	rm -f "$d"/*.tmp "$d/progress"	# (the ready tests look at them)
	(cd "$d" && shim bash -c "$cmd") > "$TMP/$name.out" 2>&1 < /dev/null &
	pid=$!
	PIDS+=("$pid")
	wait_for 20 eval "$ready" || fail "$name: never got going: $(cat "$TMP/$name.out")"
	"$BIN/ckpt-save" --exit "$pid" "$TMP/$name.img" > "$TMP/$name.save" 2>&1 ||
		fail "$name: ckpt-save --exit: $(cat "$TMP/$name.save")"
	wait "$pid"
	n=$("$BIN/ckpt-info" "$TMP/$name.img" | sed -n 's/^tree: *\([0-9]*\) processes.*/\1/p')
	[ "${n:-0}" -ge 3 ] || fail "$name: not a tree of 3 or more: $("$BIN/ckpt-info" "$TMP/$name.img" | head -3)"
	(cd "$d" && clean_fds "${RESTART[@]}" "$TMP/$name.img") >> "$TMP/$name.out" 2>&1 < /dev/null ||
		fail "$name: restarted rc $?: $(cat "$TMP/$name.out")"
	[ "$(cat "$TMP/$name.out")" = "$ref" ] ||
		fail "$name: restarted: $(cat "$TMP/$name.out"), uninterrupted: $ref"
}

mkdir -p "$TMP/make"
cat > "$TMP/make/Makefile" <<'MK'
all: a b c d
	@cat a b c d | md5sum
a b c d:
	@for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do echo $@$$i >> $@.tmp; sleep 0.02; done; mv $@.tmp $@
MK
lines() { [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ]; }
run make "$TMP/make" 'rm -f a b c d *.tmp; make -s -j2' "lines $TMP/make/a.tmp 5"

mkdir -p "$TMP/xargs"
run xargs "$TMP/xargs" 'rm -f progress; seq 1 60 | xargs -P 3 -n 1 sh -c "echo >> progress; sleep 0.02; echo \$((\$0 * \$0))" | sort -n | md5sum' \
	"lines $TMP/xargs/progress 10"

mkdir -p "$TMP/whileread"
run whileread "$TMP/whileread" 'rm -f progress; seq 1 300 | while read i; do echo >> progress; echo $i; sleep 0.005; done | md5sum' \
	"lines $TMP/whileread/progress 20"
exit 0
