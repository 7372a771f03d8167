#!/bin/bash
# Checkpoint triggers in a multi-threaded process, alone and at once:
#  - worker: a thread other than main calls ckpt_save() while main and
#    the others compute; the original gets CKPT_SAVED and finishes
#    correctly; restarted, the same thread gets CKPT_RESTORED and every
#    thread's result is still right (the checkpoint's leader was not the
#    main thread);
#  - race: 4 threads call ckpt_save() at the same moment, 200 rounds:
#    every call returns CKPT_SAVED with its image complete, or -1/EBUSY
#    with nothing left at its path; at least one succeeds each round; the
#    process survives.  Then the image of round 100 is restarted: its
#    saver gets CKPT_RESTORED and the copy does the remaining rounds
#    under the same rules;
#  - both: CKPT_SIGNAL (SIGUSR1) and ckpt-save sent together, 30 times,
#    to 8 threads doing verifiable work (thr_gen): each ckpt-save exits 0
#    or 5 (refused: another checkpoint in progress), the process survives,
#    its threads' logs and results are an uninterrupted run's, and the
#    last image saved restarts and ends well.
# Each part runs even when an earlier one failed; all failures are shown.
. "$(dirname "$0")/lib.sh"
P=$PROGS/thr_selfsave
G=$PROGS/thr_gen
nbad=0
bad() { echo "FAIL: $*"; nbad=$((nbad + 1)); }

part_worker() {
	local rc
	clean_fds "$P" worker "$TMP/w.img" > "$TMP/w.out1" 2>&1
	rc=$?
	grep -q '^SAVED by thread 2' "$TMP/w.out1" && grep -q '^ALL OK' "$TMP/w.out1" && [ $rc -eq 0 ] ||
		{ bad "worker, original (rc $rc): $(cat "$TMP/w.out1")"; return; }
	clean_fds "${RESTART[@]}" "$TMP/w.img" > "$TMP/w.out2" 2>&1
	rc=$?
	grep -q '^RESTORED in thread 2' "$TMP/w.out2" && grep -q '^ALL OK' "$TMP/w.out2" && [ $rc -eq 0 ] ||
		{ bad "worker, restarted (rc $rc): $(cat "$TMP/w.out2")"; return; }
	[ "$(sed -n 's/.*(tid \([0-9]*\))/\1/p' "$TMP/w.out1")" = "$(sed -n 's/.*(tid \([0-9]*\))/\1/p' "$TMP/w.out2")" ] ||
		bad "worker: the saving thread's tid changed: $(cat "$TMP/w.out1" "$TMP/w.out2")"
}

part_race() {
	local rc img
	mkdir -p "$TMP/d1" "$TMP/d2"
	clean_fds "$P" race "$TMP/d1" "$TMP/d2" 200 100 > "$TMP/r.out1" 2>&1
	rc=$?
	grep -q '^ALL OK' "$TMP/r.out1" && [ $rc -eq 0 ] ||
		{ bad "race, original (rc $rc$([ $rc -eq 139 ] && echo ": SIGSEGV"), after $(grep -c '^ROUND' "$TMP/r.out1") rounds): $(grep -v '^ROUND' "$TMP/r.out1" | head -10)"; return; }
	img=$(ls "$TMP"/d1/100.*.img 2>/dev/null | head -1)
	[ -n "$img" ] || { bad "race: no image of round 100: $(ls "$TMP/d1")"; return; }
	clean_fds "${RESTART[@]}" "$img" > "$TMP/r.out2" 2>&1
	rc=$?
	grep -q '^RESTORED round 100 thread' "$TMP/r.out2" && grep -q '^ALL OK' "$TMP/r.out2" && [ $rc -eq 0 ] ||
		{ bad "race, restarted from $img (rc $rc): $(grep -v '^ROUND' "$TMP/r.out2" | head -10)"; return; }
	[ "$(grep -c '^ROUND' "$TMP/r.out2")" -eq 100 ] ||
		bad "race, restarted: not 100 rounds done: $(tail -3 "$TMP/r.out2")"
}

part_both() {
	local pid rc i ok=0
	mkdir -p "$TMP/logs"
	CKPT_SIGNAL=USR1 CKPT_IMAGE=$TMP/sig.img shim "$G" "$TMP/logs" "$TMP/stop" > "$TMP/g.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_line "$TMP/g.out" '^READY'
	for ((i = 1; i <= 30; i++)); do
		kill -USR1 "$pid"
		timeout 20 "$BIN/ckpt-save" "$pid" "$TMP/cs.img" > "$TMP/cs.out" 2>&1
		rc=$?
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			bad "both triggers, round $i: the process died (rc $?; ckpt-save rc $rc: $(cat "$TMP/cs.out"))"
			return
		fi
		case $rc in
		0) ok=$((ok + 1)) ;;
		5) grep -qiE "busy|in progress" "$TMP/cs.out" ||
			{ bad "both triggers, round $i: refused: $(cat "$TMP/cs.out")"; return; } ;;
		*) bad "both triggers, round $i: ckpt-save rc $rc: $(cat "$TMP/cs.out")"; return ;;
		esac
	done
	[ $ok -gt 0 ] || { bad "both triggers: no ckpt-save succeeded"; return; }
	touch "$TMP/stop"
	wait "$pid"
	rc=$?
	grep -q '^ALL OK' "$TMP/g.out" && [ $rc -eq 0 ] ||
		{ bad "both triggers: the process (rc $rc): $(grep -v 'another checkpoint' "$TMP/g.out")"; return; }
	"$G" --check "$TMP/logs" 0 > "$TMP/chain" || { bad "both triggers: $(cat "$TMP/chain")"; return; }
	wait_for 20 gone "$pid" || fail "pid $pid did not go away"
	# restarted with the stop file there: it stops at once, and must end well
	clean_fds "${RESTART[@]}" "$TMP/cs.img" > "$TMP/cs.out2" 2>&1
	rc=$?
	grep -q '^ALL OK' "$TMP/cs.out2" && [ $rc -eq 0 ] ||
		bad "both triggers: the last ckpt-save image, restarted (rc $rc): $(cat "$TMP/cs.out2")"
}

part_worker
part_race
part_both
[ $nbad -eq 0 ]
