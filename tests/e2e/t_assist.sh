#!/bin/bash
# ckpt-restart --assist=auto|upstream|module (kernel-assist/assist.h): who
# makes the process and its threads with their pids.  On a kernel without
# the kernel-assist module (this machine; the module's own tests run in a
# VM: tests/kernel/t_mod_*.sh): --assist=module is refused, naming the
# missing module, before any process is made; --check and ckpt-info (text
# and --json) say which back end a restart would use and why, and how
# POSIX timers get their ids; an unknown name is a usage error; as root,
# --assist=upstream and auto restart the program (its timers, ids and all:
# progs/timers.c checks them).
. "$(dirname "$0")/lib.sh"
IMG=$TMP/timers.img
shim "$PROGS/timers" "$IMG" > "$TMP/out" 2>&1 || fail "original: $(cat "$TMP/out")"
pid=$(sed -n 's/^ARMED .* pid \([0-9]*\) .*/\1/p' "$TMP/out")
[ -n "$pid" ] && wait_for 20 gone "$pid" || fail "the original ($pid) is still there"

out=$("${RESTART[@]}" --assist=kernel "$IMG" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q -- "--assist=WHO" || fail "--assist=kernel: not a usage error: $out"

out=$("${RESTART[@]}" --check "$IMG" 2>&1)
echo "$out" | grep -q "pids made through " || fail "--check does not say who makes the pids: $out"
echo "$out" | grep -q "POSIX timer ids made through " || fail "--check does not say how timer ids are made: $out"
"$BIN/ckpt-info" "$IMG" > "$TMP/info" 2>&1 || fail "ckpt-info: $(cat "$TMP/info")"
grep -qE '^restart: +here, pids by (upstream|module|none): ' "$TMP/info" || fail "ckpt-info: no restart line: $(head -8 "$TMP/info")"
grep -q 'POSIX timer ids through ' "$TMP/info" || fail "ckpt-info: no timer id line"
"$BIN/ckpt-info" --json "$IMG" | python3 -c '
import json, sys
a = json.load(sys.stdin)["image"]["assist"]
assert a["pids"] in ("upstream", "module", "none"), a
assert a["why"] and a["timer_ids"], a' 2> "$TMP/json" || fail "ckpt-info --json assist: $(cat "$TMP/json")"

if [ ! -e /dev/ckpt-assist ]; then
	out=$(clean_fds "${RESTART[@]}" --assist=module "$IMG" 2>&1)
	rc=$?
	[ $rc -eq 4 ] || fail "--assist=module without the module: rc $rc: $out"
	echo "$out" | grep -q -- "--assist=module: the kernel-assist module is not loaded (no /dev/ckpt-assist)" ||
		fail "--assist=module without the module: the message does not say so: $out"
	gone "$pid" || fail "--assist=module without the module made process $pid"
	grep -q 'not the module: the kernel-assist module is not loaded' "$TMP/info" ||
		[ "$(id -u)" != 0 ] || fail "ckpt-info does not say why not the module: $(grep restart: "$TMP/info")"
fi
[ "$(id -u)" = 0 ] || exit 0
for a in upstream auto; do
	clean_fds "${RESTART[@]}" --assist=$a "$IMG" > "$TMP/out.$a" 2>&1
	rc=$?
	grep -q '^ALL OK' "$TMP/out.$a" && [ $rc -eq 0 ] || fail "--assist=$a, restarted (rc $rc): $(cat "$TMP/out.$a")"
done
exit 0
