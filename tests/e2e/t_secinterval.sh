#!/bin/bash
# Checkpoints that come faster than an image can be written (issue 9,
# finding 3): one save at a time, a trigger that finds one running is
# skipped, and the image under its name is valid at every instant.
#   interval  CKPT_INTERVAL=0.01 on a process whose image takes longer
#             than that to write (its page data is incompressible and
#             stored raw); it runs until 200 ticks have come (saved or
#             skipped, counted in the debug log);
#   signal    CKPT_SIGNAL sent again as soon as the last one is taken,
#             100 times and until 20 saves are complete;
# the second with the image made under a random name (CKPT_TMPFILE=0).
# (CKPT_SIGNAL goes through the same code as the interval, and shows what
# the interval's ticks did before: libckpt accepted no fraction then.)
# Meanwhile a checker runs ckpt-info on the image again and again: every
# check must find it complete and valid.  Then: some saves were skipped
# and the log says so once (not once per tick), some saves took longer
# than the interval, the process is killed and the directory holds only
# the image, valid.
. "$(dirname "$0")/lib.sh"
P=$PROGS/secsave
MB=64
D=$TMP/img
mkdir "$D"
IMG=$D/app.img
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }

checker() {
	local n=0 nb=0
	while [ ! -e "$TMP/stop-check" ]; do
		if "$BIN/ckpt-info" "$IMG" > /dev/null 2> "$TMP/check.err"; then
			n=$((n + 1))
		else
			nb=$((nb + 1))
			cat "$TMP/check.err" >> "$TMP/check.bad"
		fi
		echo >> "$TMP/check.count"
	done
	echo "$n $nb" > "$TMP/check.res"
}
# run CASE ENV...: the process, the checker; $TRIGGER makes the ticks and
# returns when they are all in.
run() {
	CASE=$1
	shift
	rm -f "$D"/* "$TMP/stop-check" "$TMP/check.res" "$TMP/check.bad" "$TMP/check.count"
	shim env CKPT_COMPRESS=none CKPT_THREADS=1 CKPT_LOG=debug CKPT_IMAGE="$IMG" "$@" \
		"$P" $MB > "$TMP/$CASE.out" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_line "$TMP/$CASE.out" '^READY'
	$TRIGGER first
	wait_for 20 test -f "$IMG" || fail "$CASE: no first image: $(tail -3 "$TMP/$CASE.out")"
	checker &
	CPID=$!
	$TRIGGER rest
	# at least 5 checks while the saves go on (an emulated machine's
	# ckpt-info may be slower than the ticks): the trigger keeps going
	checks5() { [ "$(wc -l < "$TMP/check.count" 2>/dev/null || echo 0)" -ge 5 ]; }
	local k=0
	while ! checks5 && [ $k -lt 30 ]; do
		$TRIGGER more
		k=$((k + 1))
	done
	touch "$TMP/stop-check"
	wait "$CPID"
	read -r nok nfail < "$TMP/check.res"
	[ "$nfail" -eq 0 ] || bad "$nfail of $((nok + nfail)) checks found the image invalid: $(sort -u "$TMP/check.bad" | head -3)"
	[ "$nok" -ge 5 ] || bad "only $nok checks ran"
	kill9 "$PID"
	only() { [ "$(ls -A "$D")" = app.img ]; }
	# a writer still running goes on alone, in its own session, and renames
	wait_for 20 only || bad "left in $D: $(ls -A "$D" | tr '\n' ' ')"
	"$BIN/ckpt-info" "$IMG" > "$TMP/$CASE.info" 2>&1 || bad "the last image is invalid: $(tail -2 "$TMP/$CASE.info")"
	nsaved=$(grep -c "saved $IMG" "$TMP/$CASE.out")
	nskip=$(grep -c "checkpoint skipped" "$TMP/$CASE.out")
	nsaid=$(grep -c "was due while another was still running" "$TMP/$CASE.out")
	echo "$CASE: $nsaved saved, $nskip skipped, $nok checks"
	[ "$nskip" -gt 0 ] || bad "no save was skipped: the saves did not overlap ($nsaved saved)"
	[ "$nsaved" -ge 3 ] || bad "only $nsaved saves completed"
	[ "$nsaid" -eq 1 ] || bad "the skip is said $nsaid times in the log, want once"
	grep -q "failed\|cannot" "$TMP/$CASE.out" && bad "errors in the log: $(grep "failed\|cannot" "$TMP/$CASE.out" | head -3)"
}

# 200 ticks of 10 ms, every save takes longer than that
ticks() {
	[ "$1" = first ] && return
	[ "$1" = more ] && { wait_for 10 checks5; return; }
	count() { [ $(($(grep -c "saved $IMG" "$TMP/$CASE.out") + $(grep -c "checkpoint skipped" "$TMP/$CASE.out"))) -ge 200 ]; }
	wait_for 60 count || bad "200 ticks did not come in 60 s"
}
TRIGGER=ticks run interval CKPT_INTERVAL=0.01
slow=$(grep -o "saved $IMG: [0-9]* bytes of memory in [0-9]* us" "$TMP/interval.out" | awk '$(NF-1) > 10000' | wc -l)
[ "$slow" -gt 0 ] || bad "no save took longer than the interval (10 ms): the test proves nothing"

# CKPT_SIGNALs in a row, as fast as they are taken, at least 100 and
# until 20 saves are complete; the file made under a random name
signals() {
	local i saved=0
	if [ "$1" = first ] || [ "$1" = more ]; then
		kill -USR1 "$PID"
		wait_for 10 grep -qE '^ShdPnd:\s*0+$' "/proc/$PID/status"
		return
	fi
	for ((i = 0; i < 100 || saved < 20; i++)); do
		kill -USR1 "$PID"
		# the next one once this one is taken (a standard signal sent
		# twice while pending is delivered once)
		wait_for 10 grep -qE '^ShdPnd:\s*0+$' "/proc/$PID/status"
		((i % 10)) || saved=$(grep -c "saved $IMG" "$TMP/$CASE.out")
		((i < 20000)) || { bad "20 saves did not complete"; break; }
	done
}
TRIGGER=signals run signal CKPT_SIGNAL=USR1 CKPT_TMPFILE=0
[ $nbad -eq 0 ] || fail "$nbad problems"
exit 0
