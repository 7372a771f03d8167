#!/bin/bash
# Each resource libckpt cannot save makes the checkpoint fail with a
# message naming it and leaves neither PATH nor PATH.tmp.*: by ckpt_save()
# (returns -1, ckpt_last_error() says why) and by ckpt-save (exit 5, the
# reason on stderr).  The process carries on normally: the resource still
# works, and once it is released a checkpoint succeeds and restarts.
# Resources: a raw IPv4 socket, a pipe to a process outside the image (named),
# a fanotify fd, a child running a static binary (no libckpt in it), a child
# this process traces, an open file
# whose name was removed while it has another link, a namespace fd, a
# pidfd of another process, one shared anonymous object mapped twice.
. "$(dirname "$0")/lib.sh"
P=$PROGS/refuse
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

# what the message must match (grep -iE), by kind
declare -A WANT=(
	[socket]='a raw IPv4 socket \(SOCK_RAW, protocol 1' [fanotify]='a fanotify fd \(anon_inode:\[fanotify\]\), not supported' [thread]='thread'
	[pipe]='pipe \(pipe:\[[0-9]+\], its write end\) is shared with a process outside the image: its read end is held by process [0-9]+ \(cat\) as its fd 0'
	[child]='process [0-9]+ \(static_pause\), a child of process [0-9]+, does not run libckpt'
	[traced]='process [0-9]+ \(refuse\) is traced by process [0-9]+'
	[linked]='still has 1 other link;.*open it by another name'
	[nsfs]="namespace fd \\(net:\\[[0-9]+\\]: this process's own net namespace\\)"
	[pidfd]='a pidfd of process [0-9]+, not of this process'
	[shmtwice]='mappings [0-9a-f]+-[0-9a-f]+ and [0-9a-f]+-[0-9a-f]+ share memory: one shared anonymous object mapped twice'
)
KINDS="socket pipe fanotify child traced linked nsfs pidfd shmtwice"

# the process outside at the other end of the pipe: cat, reading it on its fd 0
( echo "$BASHPID" > "$TMP/writer.pid"; exec sleep 600 ) | cat > /dev/null &
PIDS+=("$!")
export REFUSE_PEER=$!
wait_for 20 test -s "$TMP/writer.pid" || fail "no pipe to refuse"
PIDS+=("$(cat "$TMP/writer.pid")")
# (until cat has it: the shell's child makes its fd 0 before exec)
cat_reads() { [[ $(readlink "/proc/$REFUSE_PEER/fd/0") == pipe:* ]] && grep -qx cat "/proc/$REFUSE_PEER/comm"; }
wait_for 20 cat_reads || fail "cat does not read a pipe"

# names_fd KIND OUT MSGFILE: for fd resources the message says "fd N".
names_fd() {
	local fds f
	fds=$(sed -n 's/^FD //p' "$2")
	[ -z "$fds" ] && return 0
	for f in $fds; do grep -qiE "fd $f\b" "$3" && return 0; done
	return 1
}

self_case() {
	local k=$1 img=$TMP/s$2.img out=$TMP/self-$1.out rc
	shim "$P" "$k" self "$img" > "$out" 2>&1
	rc=$?
	if ! grep -q '^REFUSED' "$out"; then
		bad "self $k: not refused (rc $rc): $(cat "$out")"
		return
	fi
	grep '^REFUSED' "$out" > "$TMP/self-$k.msg"
	grep -qiE "${WANT[$k]}" "$TMP/self-$k.msg" || bad "self $k: ckpt_last_error() does not name it: $(cat "$TMP/self-$k.msg")"
	names_fd "$k" "$out" "$TMP/self-$k.msg" || bad "self $k: the message does not name the fd: $(cat "$out")"
	if [ $rc -ne 0 ] || ! grep -q '^SAVED' "$out"; then
		bad "self $k: after the refusal (rc $rc): $(cat "$out")"
		return
	fi
	clean_fds "${RESTART[@]}" "$img" > "$TMP/self-$k.out2" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^RESTORED ok' "$TMP/self-$k.out2" ||
		bad "self $k: restart after the release (rc $rc): $(cat "$TMP/self-$k.out2")"
}

wait_case() {
	local k=$1 img=$TMP/t$2.img out=$TMP/save-$1.out go=$TMP/go$2 pid rc left
	shim "$P" "$k" wait "$img" "$go" > "$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$out" '^READY|^BAD'
	"$BIN/ckpt-save" "$pid" "$img" > "$TMP/save-$k.msg" 2>&1
	rc=$?
	[ $rc -eq 5 ] || bad "ckpt-save $k: rc $rc, want 5: $(cat "$TMP/save-$k.msg")"
	grep -qiE "${WANT[$k]}" "$TMP/save-$k.msg" || bad "ckpt-save $k: the message does not name it: $(cat "$TMP/save-$k.msg")"
	names_fd "$k" "$out" "$TMP/save-$k.msg" || bad "ckpt-save $k: the message does not name the fd: $(cat "$TMP/save-$k.msg")"
	left=$(ls "$img" "$img".tmp.* 2>/dev/null)
	[ -z "$left" ] || bad "ckpt-save $k: the refused checkpoint left $left"
	rm -f "$img" "$img".tmp.*
	touch "$go.1"
	wait_line "$out" '^RELEASED|^BAD'
	if ! grep -q '^RELEASED' "$out"; then
		bad "ckpt-save $k: after the refusal: $(cat "$out")"
		kill9 "$pid"
		return
	fi
	if ! "$BIN/ckpt-save" "$pid" "$img" > "$TMP/save-$k.msg2" 2>&1; then
		bad "ckpt-save $k: after the release, rc $?: $(cat "$TMP/save-$k.msg2")"
		kill9 "$pid"
		return
	fi
	kill9 "$pid"
	restart_bg "$img" > "$TMP/save-$k.out2" 2>&1
	wait_for 20 test -d "/proc/$pid" || { bad "ckpt-save $k: not restarted: $(cat "$TMP/save-$k.out2")"; return; }
	PIDS+=("$pid")
	touch "$go.2"
	wait "$RPID"
	rc=$?
	[ $rc -eq 0 ] && grep -q '^FINISHED ok' "$TMP/save-$k.out2" ||
		bad "ckpt-save $k: restarted copy (rc $rc): $(cat "$TMP/save-$k.out2")"
}

i=0
for k in $KINDS; do	# image names carry a number, never the kind's word
	i=$((i + 1))
	self_case "$k" $i
	wait_case "$k" $i
done
[ $nbad -eq 0 ] || exit 1
exit 0
