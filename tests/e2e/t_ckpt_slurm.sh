#!/bin/bash
# ckpt-slurm (samples/slurm/ckpt-slurm) without a Slurm: SLURM_JOB_ID set
# by hand and an `scontrol` on PATH that only notes what it was asked.
# (make check-slurm runs it under a real slurmctld and slurmd.)
#  - USR1 to the wrapper: ckpt-save --exit of the program, `scontrol
#    requeue JOBID`, exit 0, the image left for the next start;
#  - the next start restarts from it and goes on at the next step;
#  - SIGKILL of the wrapper and everything under it (a node crash) once a
#    periodic image newer than the restart is there: the next start goes
#    on from that image, and the job ends with the right answer, exit 0,
#    the image removed;
#  - SIGTERM to every process (as Slurm sends it): the program saves
#    itself (CKPT_ON_TERM), the wrapper exits 143 without requeueing, and
#    the next start finishes the job;
#  - usage errors say what is wrong.
. "$(dirname "$0")/lib.sh"
W=$ROOT/samples/slurm/ckpt-slurm
LCG=$PROGS/slurm-lcg
[ -x "$LCG" ] || fail "$LCG missing (make)"
# CKPT_E2E_SLURM_STEPS: more steps where the test's own shell is slow
# (check-kernel's emulated VM: the job must still be running at the crash)
STEPS=${CKPT_E2E_SLURM_STEPS:-40} ITERS=15000000
EXPECT=$("$LCG" --expect $STEPS $ITERS)
mkdir -p "$TMP/fake" "$TMP/job"
cat > "$TMP/fake/scontrol" <<EOF
#!/bin/sh
echo "\$*" >> "$TMP/scontrol.log"
EOF
chmod +x "$TMP/fake/scontrol"
export PATH=$TMP/fake:$BIN:$PATH SLURM_JOB_ID=4242
unset CKPT_INTERVAL CKPT_IMAGE CKPT_ON_TERM CKPT_SIGNAL
IMG=$TMP/job/ckpt-slurm/job-4242.img
OUT=$TMP/job/out.txt
cd "$TMP/job" || fail "cd"

# start: the wrapper in the background (in a subshell of its own, with only
# stdio open), its output appended to OUT; WPID.
start() {
	( _close_fds; exec "$W" --no-pidns --interval 0.3 "$LCG" $STEPS $ITERS ) >> "$OUT" 2>&1 &
	WPID=$!
	PIDS+=("$WPID")
}
laststep() { awk '/^step [0-9]+ of/ { s = $2 } END { print s + 0 }' "$OUT"; }
step_ge() { [ "$(laststep)" -ge "$1" ]; }
imageid() { stat -c '%i %y' "$IMG" 2>/dev/null; }
fresh() { local i; i=$(imageid); [ -n "$i" ] && [ "$i" != "$1" ]; }
# the first step the run that began at line N of OUT printed
first_step_after() { tail -n +"$1" "$OUT" | awk '/^step [0-9]+ of/ { print $2; exit }'; }

# 1. USR1: save, requeue, exit 0
start
wait_for 30 step_ge 5 || fail "no progress: $(tail -3 "$OUT")"
kill -USR1 "$WPID"
wait "$WPID"
rc=$?
[ $rc = 0 ] || fail "after USR1 the wrapper exited $rc: $(tail -3 "$OUT")"
grep -qx "requeue 4242" "$TMP/scontrol.log" 2>/dev/null || fail "no 'scontrol requeue 4242' (log: $(cat "$TMP/scontrol.log" 2>/dev/null))"
[ -f "$IMG" ] || fail "no image at $IMG after USR1"
l1=$(laststep)

# 2. the next start restarts and goes on at the next step
n=$(($(wc -l < "$OUT") + 1))
id0=$(imageid)
start
wait_line "$OUT" 'restarting from' 20
wait_for 30 fresh "$id0" || fail "no periodic image after the restart"
s=$(laststep)
wait_for 30 step_ge $((s + 2)) || fail "no progress after the periodic image"
f2=$(first_step_after "$n")
[ "$f2" = $((l1 + 1)) ] || fail "after USR1 at step $l1, the restart began at step $f2"

# 3. a crash: SIGKILL of the wrapper and all under it
kill_tree "$WPID"
l2=$(laststep)
[ "$l2" -lt "$STEPS" ] ||
	fail "the job ended (step $l2 of $STEPS) before the crash: too few steps for this machine (CKPT_E2E_SLURM_STEPS)"
n=$(($(wc -l < "$OUT") + 1))
start
wait "$WPID"
rc=$?
f3=$(first_step_after "$n")
[ "$rc" = 0 ] || fail "after the crash the job exited $rc: $(tail -3 "$OUT")"
[ "$f3" -gt $((l1 + 1)) ] && [ "$f3" -le $((l2 + 1)) ] ||
	fail "after the crash at step $l2 the restart began at step $f3 (want a periodic image's, after $((l1 + 1))): $(tail -n +"$n" "$OUT" | grep -v '^step ' | head -20)"
r=$(sed -n 's/^result //p' "$OUT" | tail -n 1)
[ "result $r" = "$EXPECT" ] || fail "result $r, expected ${EXPECT#result }"
[ ! -e "$IMG" ] || fail "the image is still there after the job ended with 0"
grep -q 'done (the program exited 0); image removed' "$OUT" || fail "no 'done' line: $(tail -2 "$OUT")"

# 4. SIGTERM to every process of the job: saved by CKPT_ON_TERM, 143, no requeue
: > "$TMP/scontrol.log"
: > "$OUT"
start
wait_for 30 step_ge 5 || fail "no progress: $(tail -3 "$OUT")"
wait_for 10 child_of "$WPID" > /dev/null || fail "no program under the wrapper"
kill -TERM $(tree_pids "$WPID")
wait "$WPID"
rc=$?
[ $rc = 143 ] || fail "after SIGTERM the wrapper exited $rc: $(tail -3 "$OUT")"
[ -f "$IMG" ] || fail "no image after SIGTERM (CKPT_ON_TERM): $(tail -3 "$OUT")"
[ ! -s "$TMP/scontrol.log" ] || fail "SIGTERM requeued the job: $(cat "$TMP/scontrol.log")"
lt=$(laststep)
n=$(($(wc -l < "$OUT") + 1))
start
wait "$WPID"
rc=$?
ft=$(first_step_after "$n")
r=$(sed -n 's/^result //p' "$OUT" | tail -n 1)
[ "$rc" = 0 ] && [ "result $r" = "$EXPECT" ] || fail "after SIGTERM the restarted job exited $rc with result $r"
[ "$ft" -le $((lt + 1)) ] && [ "$ft" -gt 1 ] || fail "after SIGTERM at step $lt the restart began at step $ft"

# 5. usage errors
out=$("$W" --bogus x 2>&1) && fail "--bogus accepted"
[[ $out == *"unknown option --bogus"* ]] || fail "--bogus: $out"
out=$(env -u SLURM_JOB_ID "$W" true 2>&1) && fail "ran without SLURM_JOB_ID"
[[ $out == *"SLURM_JOB_ID is not set"* ]] || fail "no SLURM_JOB_ID: $out"
out=$("$W" --interval soon true 2>&1) && fail "--interval soon accepted"
[[ $out == *"not a number of seconds"* ]] || fail "--interval soon: $out"
echo "USR1 at step $l1 -> resumed at $f2; crash at step $l2 -> resumed at $f3; SIGTERM at step $lt -> resumed at $ft"
exit 0
