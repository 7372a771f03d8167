#!/bin/bash
# tests/slurm/run.sh - `make check-slurm`: ckpt-slurm on a real Slurm.
#
# Starts munged, slurmctld and slurmd on this machine (one node, this
# host, its CPUs; everything under a temporary directory, on ports of its
# own), submits a batch job that computes a known result (tests/slurm/lcg.c)
# under samples/slurm/ckpt-slurm, and preempts it twice:
#   1. `scancel --signal=USR1 --batch`, as Slurm's --signal=B:USR1@T warns
#      of the time limit or a preemption: the wrapper checkpoints the job
#      and requeues it; its next start restarts from the image;
#   2. SIGKILL of every process of the job (`scontrol listpids`), as a
#      node crash ends them, then `scontrol requeue`: the next start
#      restarts from the last periodic image (CKPT_INTERVAL).
# The job must end with the right answer, each restart must resume where
# its image was taken, and the runs together must take less time than
# starting over would have (measured from the job's own output).  Two
# such jobs run side by side: one as root (pids restored as they were)
# and one as an ordinary user (nobody) with ckpt-run --pidns (no pid and
# no privilege needed).  Ends with "slurm: N passed, N failed"; it fails
# loudly when Slurm cannot run here, never skips.  Leaves no daemon.
#
# Environment: SLURM_TEST_STEPS and SLURM_TEST_ITERS size the job (100
# steps of 150M iterations: about 20 s on an idle core); SLURM_TEST_KEEP=1
# keeps the temporary directory (logs) for a look.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build}
STEPS=${SLURM_TEST_STEPS:-100}
ITERS=${SLURM_TEST_ITERS:-150000000}
INTERVAL=2			# the jobs' periodic checkpoints, seconds
npass=0 nfail=0

pass() { echo "  PASS  $*"; npass=$((npass + 1)); }
bad() { echo "  FAIL  $*"; nfail=$((nfail + 1)); }
summary() { echo; echo "slurm: $npass passed, $nfail failed"; }
# Slurm could not be brought up or driven: say why, loudly, and fail.
# The daemons' logs first, then what the jobs printed (JOBS_REPORT, set by
# must), then the reason: CI keeps only the last lines of a failed run.
fatal() {
	local f
	for f in "${T:-/nonexistent}"/*.log "${T:-/nonexistent}"/munge/log; do
		[ -s "$f" ] && { echo "--- last lines of $f"; tail -n 12 "$f"; }
	done
	[ -n "${JOBS_REPORT:-}" ] && printf '%s\n' "$JOBS_REPORT"
	echo "check-slurm: FATAL: $*"
	nfail=$((nfail + 1))
	summary
	exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

[ "$(id -u)" = 0 ] || fatal "must run as root: slurmd runs the jobs as their users (CI runs as root; here: sudo make check-slurm)"
for t in munged slurmctld slurmd sbatch scontrol scancel sinfo runuser; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null ||
		fatal "$t not found: install Slurm and munge (bash tools/deps-slurm.sh: slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin:/sbin
for f in "$B/bin/ckpt-run" "$B/bin/ckpt-save" "$B/bin/ckpt-restart" "$B/libckpt.so" "$B/tests/slurm-lcg"; do
	[ -e "$f" ] || fatal "$f is missing: run make first"
done

# Nothing inherited beyond stdio: a job whose program holds a stray fd of
# ours (a pipe shared with a process outside it) is rightly refused a
# checkpoint.  The daemons pass our fds down to the jobs.
for fd in $(ls /proc/$$/fd); do
	[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
done

T=$(mktemp -d /tmp/ckpt-slurm.XXXXXX) || fatal "mktemp failed"
chmod 755 "$T"
PIDS_DAEMON=()
teardown() {
	local p
	# Jobs first (their slurmstepd's end with them), then the daemons.
	if [ ${#JOBS_ALL[@]} -gt 0 ]; then
		scancel --quiet --full --signal=KILL "${JOBS_ALL[@]}" 2>/dev/null
		scancel --quiet "${JOBS_ALL[@]}" 2>/dev/null
		wait_for 30 jobs_gone
	fi
	for p in ${PIDS_DAEMON[@]+"${PIDS_DAEMON[@]}"}; do kill -TERM "$p" 2>/dev/null; done
	for p in ${PIDS_DAEMON[@]+"${PIDS_DAEMON[@]}"}; do
		wait_for 20 eval "! kill -0 $p 2>/dev/null" || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS_DAEMON=()
	if [ "${SLURM_TEST_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
JOBS_ALL=()
# jobs_gone: none of our jobs has a process left.
jobs_gone() {
	local j
	for j in "${JOBS_ALL[@]}"; do
		[ -n "$(scontrol listpids "$j" 2>/dev/null | awk '$1 ~ /^[0-9]+$/')" ] && return 1
	done
	return 0
}
trap teardown EXIT
trap 'exit 130' INT TERM

# --- the installed tree the jobs use: bin/ (ckpt-run finds ../lib/libckpt.so)
# in a directory every user can read (the build may be under /root).
mkdir -p "$T/inst/bin" "$T/inst/lib"
cp "$B/bin/ckpt-run" "$B/bin/ckpt-save" "$B/bin/ckpt-restart" "$ROOT/samples/slurm/ckpt-slurm" "$T/inst/bin/"
cp "$B/tests/slurm-lcg" "$T/inst/bin/lcg"
cp "$B/libckpt.so" "$T/inst/lib/"
chmod -R a+rX "$T/inst"
export PATH=$T/inst/bin:$PATH
unset CKPT_INTERVAL CKPT_IMAGE CKPT_ON_TERM CKPT_SIGNAL CKPT_SLURM_DIR CKPT_SLURM_IMAGE \
	CKPT_SLURM_INTERVAL CKPT_SLURM_PIDNS CKPT_SLURM_SIGNAL CKPT_SLURM_REQUEUE CKPT_SLURM_BIN

# --- munge: a key of our own, a socket of our own (the jobs' users reach
# it too: scontrol requeue from inside a job).
mkdir -p "$T/munge" "$T/munge-key"
chmod 755 "$T/munge"
chmod 700 "$T/munge-key"
head -c 1024 /dev/urandom > "$T/munge-key/key"
chmod 400 "$T/munge-key/key"
munged -F -f --key-file="$T/munge-key/key" --socket="$T/munge/sock" --pid-file="$T/munge-key/pid" \
	--seed-file="$T/munge-key/seed" --log-file="$T/munge-key/log" > "$T/munged.log" 2>&1 &
PIDS_DAEMON+=($!)
wait_for 20 test -S "$T/munge/sock" || fatal "munged did not start (its socket $T/munge/sock never appeared)"

# --- two free ports (a connect that succeeds means taken)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p=$(( ($$ * 7 + $1) % 20000 + 30000 ))
	while ! port_free "$p" || ! port_free $((p + 1)); do p=$((p + 2)); done
	echo "$p"
}
PORT=$(pick_port 0)
H=$(hostname -s)
NCPU=$(nproc)
cat > "$T/slurm.conf" <<EOF
# written by tests/slurm/run.sh: one node, this host, no cgroups
ClusterName=ckpttest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire: a requeued job waits this long (default 120 s) before it may start again
AuthInfo=socket=$T/munge/sock,cred_expire=10
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
NodeName=$H NodeAddr=127.0.0.1 CPUs=$NCPU State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$T/state" "$T/spool"
export SLURM_CONF=$T/slurm.conf
slurmctld -D -i > "$T/slurmctld.out" 2>&1 &
PIDS_DAEMON+=($!)
slurmd -D -N "$H" > "$T/slurmd.out" 2>&1 &
PIDS_DAEMON+=($!)
node_idle() { [ "$(sinfo -h -n "$H" -o %t 2>/dev/null)" = idle ]; }
if ! wait_for 60 node_idle; then
	cat "$T/slurmctld.out" "$T/slurmd.out" 2>/dev/null | tail -n 10
	fatal "node $H did not become idle in 60 s (sinfo: $(sinfo -h -n "$H" -o '%t %E' 2>&1))"
fi
echo "slurm $(sinfo -V | awk '{print $2}'): slurmctld and slurmd up on $H ($NCPU CPUs, port $PORT)"

EXPECT=$("$T/inst/bin/lcg" --expect "$STEPS" "$ITERS")

# --- the jobs: NAME -> job id, directory
declare -A JID DIR
submit() {	# NAME USER PIDNS-OPTION
	local name=$1 user=$2 d=$T/job-$1 out
	mkdir -p "$d"
	chown "$user" "$d"
	# the user submits it (runuser keeps this environment: PATH, SLURM_CONF)
	out=$(runuser -u "$user" -- sbatch --parsable --requeue --signal=B:USR1@60 --open-mode=append \
		-J "ckpt-$name" -D "$d" -o "$d/out.txt" \
		"$T/inst/bin/ckpt-slurm" "$3" --interval "$INTERVAL" "$T/inst/bin/lcg" "$STEPS" "$ITERS" 2>&1) ||
		fatal "sbatch failed for job $name: $out"
	JID[$name]=${out%%;*}
	DIR[$name]=$d
	JOBS_ALL+=("${JID[$name]}")
	echo "job $name: ${JID[$name]} (as $user, $3)"
}
# laststep NAME: the last step the job's output shows (0: none yet).
laststep() { cat "${DIR[$1]}/out.txt" 2>/dev/null | awk '/^step [0-9]+ of/ { s = $2 } END { print s + 0 }'; }
step_at_least() { [ "$(laststep "$1")" -ge "$2" ]; }
has_line() { grep -qE "$2" "${DIR[$1]}/out.txt" 2>/dev/null; }
count_lines() { grep -cE "$2" "${DIR[$1]}/out.txt" 2>/dev/null; }
state() { scontrol show job "${JID[$1]}" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
image() { echo "${DIR[$1]}/ckpt-slurm/job-${JID[$1]}.img"; }
# imageid NAME: which image file is there now (inode numbers are reused:
# with the modification time, to the ns)
imageid() { stat -c '%i %y' "$(image "$1")" 2>/dev/null; }
# fresh_image NAME ID: an image other than ID has replaced it
fresh_image() { local i; i=$(imageid "$1"); [ -n "$i" ] && [ "$i" != "$2" ]; }
# must SECONDS WHAT COMMAND...: waits for COMMAND or gives up on the run.
must() {
	local secs=$1 what=$2
	shift 2
	wait_for "$secs" "$@" && return 0
	local n
	JOBS_REPORT=$(for n in "${!JID[@]}"; do
		echo "--- job $n (${JID[$n]}, $(state "$n")), image now: $(imageid "$n"):"
		{ grep -v '^step ' "${DIR[$n]}/out.txt" | tail -n 15; tail -n 2 "${DIR[$n]}/out.txt"; } 2>/dev/null
	done)
	fatal "timed out ($secs s) waiting for $what"
}

# drive NAME...: takes the jobs through both preemptions, in step.
drive() {
	local n s1=$((STEPS / 5)) s2=$((STEPS * 2 / 5)) limit=$((STEPS * ITERS / 20000000 + 120)) pids s
	local -A ino
	for n in "$@"; do must "$limit" "job $n to reach step $s1" step_at_least "$n" "$s1"; done
	# 1. the warning: USR1 to the batch shell (ckpt-slurm)
	for n in "$@"; do scancel --signal=USR1 --batch "${JID[$n]}" || fatal "scancel --signal=USR1 --batch ${JID[$n]} failed"; done
	for n in "$@"; do
		must 60 "job $n to checkpoint and requeue itself" has_line "$n" 'job [0-9]+ requeue(d| asked for)'
		must 120 "job $n to restart" has_line "$n" 'restarting from'
		ino[$n]=$(imageid "$n")
	done
	# 2. the crash: once a periodic image newer than the restart exists
	# and the job has run on past it, SIGKILL everything of the job.
	for n in "$@"; do
		must "$limit" "job $n to reach step $s2" step_at_least "$n" "$s2"
		must 30 "job $n to write a periodic image after its restart" fresh_image "$n" "${ino[$n]}"
		s=$(laststep "$n")
		echo "job $n: a periodic image since its restart at step $s ($(imageid "$n"); at restart: ${ino[$n]})"
		must 60 "job $n to run on after its periodic image" step_at_least "$n" $((s + 2))
		pids=$(scontrol listpids "${JID[$n]}" 2>&1 | awk '$1 ~ /^[0-9]+$/ { print $1 }')
		[ -n "$pids" ] || fatal "scontrol listpids ${JID[$n]} listed no process: $(scontrol listpids "${JID[$n]}" 2>&1)"
		echo "job $n: SIGKILL of its processes $(echo $pids) at step $(laststep "$n")"
		kill -9 $pids
	done
	for n in "$@"; do
		must 60 "job $n to end after the SIGKILL" eval '[[ "$(state '"$n"')" =~ ^(FAILED|COMPLETED|CANCELLED|NODE_FAIL)$ ]]'
		scontrol requeue "${JID[$n]}" || fatal "scontrol requeue ${JID[$n]} failed"
	done
	for n in "$@"; do
		must 120 "job $n to restart after the crash" eval '[ "$(count_lines '"$n"' "restarting from")" -ge 2 ]'
		must "$limit" "job $n to finish" eval '[ "$(state '"$n"')" = COMPLETED ]'
	done
}

# runs NAME: one line per run of the job: start first-step last-step
# t-start t-first-step t-last (ms) — from the job's own output.
runs() {
	awk '
	# times as strings: mawk prints %d through a 32-bit int
	function flush() { if (n) print n, first, last, t0, tf, tl }
	/^ckpt-slurm: job [0-9]+ (starting|restarting)/ {
		flush(); n++; first = 0; last = 0; tf = 0; t0 = 0
	}
	{ if (match($0, /t=[0-9]+/)) { t = substr($0, RSTART + 2, RLENGTH - 2); if (!t0) t0 = t; tl = t } }
	/^step [0-9]+ of/ { if (!first) { first = $2; tf = t } last = $2 }
	END { flush() }' "${DIR[$1]}/out.txt"
}

check() {	# NAME
	local n=$1 out=${DIR[$1]}/out.txt r
	echo "job $n (${JID[$n]}):"
	r=$(sed -n 's/^result //p' "$out" | tail -n 1)
	[ "$r" = "${EXPECT#result }" ] && pass "$n: the result is right ($r)" ||
		bad "$n: result '$r', expected '${EXPECT#result }'"
	local restarts
	restarts=$(scontrol show job "${JID[$n]}" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
	[ "$(state "$n")" = COMPLETED ] && [ "$restarts" = 2 ] &&
		pass "$n: COMPLETED, ExitCode $(scontrol show job "${JID[$n]}" | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p'), requeued twice" ||
		bad "$n: state $(state "$n"), Restarts=$restarts (want COMPLETED, 2)"
	local -a R
	mapfile -t R < <(runs "$n")
	if [ ${#R[@]} -ne 3 ]; then
		bad "$n: ${#R[@]} runs in the output, want 3:"; printf '        %s\n' "${R[@]}"
		return
	fi
	local a1 f1 l1 s1 tf1 e1 a2 f2 l2 s2 tf2 e2 a3 f3 l3 s3 tf3 e3
	read -r a1 f1 l1 s1 tf1 e1 <<< "${R[0]}"
	read -r a2 f2 l2 s2 tf2 e2 <<< "${R[1]}"
	read -r a3 f3 l3 s3 tf3 e3 <<< "${R[2]}"
	[ "$f1" = 1 ] && [ "$f2" = $((l1 + 1)) ] &&
		pass "$n: after the USR1 checkpoint it resumed at step $f2 (run 1 did steps 1-$l1)" ||
		bad "$n: run 1 did steps $f1-$l1, run 2 began at step $f2 (want $((l1 + 1)))"
	[ "$f3" -gt $((l1 + 1)) ] && [ "$f3" -le $((l2 + 1)) ] && [ "$l3" = "$STEPS" ] &&
		pass "$n: after the SIGKILL it resumed at step $f3 from a periodic image (run 2 did steps $f2-$l2: $((l2 + 1 - f3)) redone)" ||
		bad "$n: run 2 did steps $f2-$l2, run 3 steps $f3-$l3 (want a start in $((l1 + 2))..$((l2 + 1)), an end at $STEPS)"
	# Time: each run from its start line to its last line; starting over
	# would have cost runs 1 and 2 and then a whole run, whose length run 1
	# gives (its time per step, times STEPS, plus its startup).
	local d1=$((e1 - s1)) d2=$((e2 - s2)) d3=$((e3 - s3)) full
	full=$(( (tf1 - s1) + (e1 - tf1) * STEPS / (l1 - f1 > 0 ? l1 - f1 : 1) ))
	local total=$((d1 + d2 + d3)) over=$((d1 + d2 + full))
	echo "        runs: ${d1} + ${d2} + ${d3} = ${total} ms; starting over: ${d1} + ${d2} + ${full} (a whole run, from run 1's pace) = ${over} ms"
	[ "$total" -lt "$over" ] &&
		pass "$n: total ${total} ms < ${over} ms starting over would have taken" ||
		bad "$n: total ${total} ms, not less than starting over (${over} ms)"
	echo "        checkpoints: $(sed -n 's/^ckpt-save: .*: \(.* image\), .* memory, \(.*\)$/\1 in \2/p' "$out" | paste -sd ';' | sed 's/;/; /g') (ckpt-save --exit)"
	[ ! -e "$(image "$n")" ] && pass "$n: image removed at the end" || bad "$n: $(image "$n") left behind"
}

T0=$SECONDS
submit root root --no-pidns
submit user nobody --pidns
if [ "$NCPU" -ge 2 ]; then
	drive root user
else
	drive root
	drive user
fi
echo "both jobs done in $((SECONDS - T0)) s"
for n in root user; do check "$n"; done

# No daemon left: the jobs' slurmstepd's, slurmd, slurmctld, munged.
daemons=("${PIDS_DAEMON[@]}")
teardown
trap - EXIT
# leftovers: our daemons, or any slurmstepd (they end a moment after
# their job; nothing else on a test machine runs one).
leftovers() {
	local p d
	left=""
	for p in "${daemons[@]}"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] && left="$left ${d#/proc/}(slurmstepd)"
	done
	[ -z "$left" ]
}
wait_for 30 leftovers
[ -z "$left" ] && pass "teardown: no daemon left" || bad "teardown: left running:$left"
summary
[ "$nfail" = 0 ]
