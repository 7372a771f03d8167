#!/bin/bash
# Capabilities come back only from a trusted image, and only those the
# restarter holds itself (docs/SECURITY.md, "Capabilities and
# credentials"):
#  - a user's process that held CAP_NET_BIND_SERVICE (ambient, from
#    setpriv): restarted by root from the user's own image it gets no
#    capability (a note says so); from the same image owned by root, it
#    gets it back;
#  - a user's image edited to claim every capability: none, restarted by
#    root; with --trust-image, the claimed ones;
#  - a --pidns image edited the same way: none inside the namespace,
#    restarted by the user or by root; edited to claim uid 0: root's
#    restart refuses it (it used to run as uid 0 of the host);
#  - --lazy: root keeps CAP_SYS_PTRACE for userfaultfd (the restore is
#    lazy, not eager) and the process ends without it;
#  - a user's 5-thread process (thr_ident) edited to claim every
#    capability, restarted by root: every thread ends as the user with
#    none (each drops what the main thread kept to create their tids),
#    its exe link is restored (that needs CAP_CHECKPOINT_RESTORE, all
#    root kept), and the threads still work (ALL OK);
#  - ckpt-restart given cap_checkpoint_restore by setcap, run by the
#    user on their own image edited to claim that capability: the
#    process ends without it, dumpable (it can be checkpointed again);
#  - ckpt-restart made setuid root refuses to run at all.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/trustprobe
EDIT=$PROGS/ckpt-edit
as_user test -x "$BIN/ckpt-restart" -a -x "$P" -a -r "$LIB" || skip "the build tree is not readable by $U"
UD=$TMP/u
mkdir "$UD"
chown "$uid:$gid" "$UD"
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }
ALL=0x$(awk '/^CapBnd:/ {print $2}' /proc/self/status)	# what root holds here
NBS=0x400							# CAP_NET_BIND_SERVICE
CR=0x10000000000						# CAP_CHECKPOINT_RESTORE

rst() {		# ckpt-restart ARGS as root: OUT, RC
	OUT=$TMP/$CASE.out
	clean_fds timeout 60 "${RESTART[@]}" "$@" > "$OUT" 2>&1 < /dev/null
	RC=$?
}
# caps EFF PRM INH: it ran, holding exactly these (hex, 16 digits), no ambient.
caps() {
	[ "$RC" -eq 0 ] && grep -q '^RESTORED' "$OUT" || { bad "rc $RC: $(cat "$OUT")"; return; }
	grep -q "^CAPS $1 $2 $3 0000000000000000 " "$OUT" ||
		bad "capabilities $(grep '^CAPS' "$OUT"), want eff $1 prm $2 inh $3, no ambient"
}
hex() { printf '%016x' "$1"; }
Z=0000000000000000

# ---- a real capability, held by the user's process ----
CASE=ambient
(cd "$UD" && clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	--inh-caps +net_bind_service --ambient-caps +net_bind_service "$P" "$UD/nbs.img" - - - -) \
	> "$TMP/save.out" 2>&1
grep -q '^SAVED' "$TMP/save.out" || fail "$CASE: no image: $(cat "$TMP/save.out")"
rst "$UD/nbs.img"
caps $Z $Z $Z
grep -q "note: .*capabilit.* not restored" "$OUT" || bad "no note that the capabilities were dropped: $(cat "$OUT")"
CASE=ambient-root-owned
cp "$UD/nbs.img" "$TMP/nbs.img"		# root's copy: trusted
chmod 600 "$TMP/nbs.img"
rst "$TMP/nbs.img"
caps "$(hex $NBS)" "$(hex $NBS)" "$(hex $NBS)"

# ---- every capability claimed ----
CASE=claim
(cd "$UD" && clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$P" "$UD/plain.img" - - - -) \
	> "$TMP/save.out" 2>&1
grep -q '^SAVED' "$TMP/save.out" || fail "$CASE: no image: $(cat "$TMP/save.out")"
cp -p "$UD/plain.img" "$UD/all.img"
"$EDIT" "$UD/all.img" --caps "$ALL" "$ALL" "$ALL" || fail "$CASE: edit"
rst "$UD/all.img"
caps $Z $Z $Z
CASE=claim-trusted
rst --trust-image "$UD/all.img"
caps "$(hex "$ALL")" "$(hex "$ALL")" "$(hex "$ALL")"

# ---- --lazy: root keeps what userfaultfd needs, and drops it too ----
CASE=lazy
CKPT_LAZY_STATS=1 rst --lazy "$UD/all.img"
caps $Z $Z $Z
grep -q 'restoring eagerly' "$OUT" && bad "root's --lazy restart of the user's image went eager: $(cat "$OUT")"
grep -q 'lazy: ' "$OUT" || bad "no lazy statistics: $(cat "$OUT")"

# ---- threads: every one drops what the main one kept for the tids ----
CASE=threads
clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$PROGS/thr_ident" > "$TMP/thr.out1" 2>&1 &
TPID=$!
PIDS+=("$TPID")
wait_line "$TMP/thr.out1" '^READY|BAD'
as_user "$BIN/ckpt-save" "$TPID" "$UD/thr.img" > "$TMP/thr.save" 2>&1 || fail "$CASE: ckpt-save: $(cat "$TMP/thr.save")"
kill9 "$TPID"
"$EDIT" "$UD/thr.img" --caps "$ALL" "$ALL" "$ALL" || fail "$CASE: edit"
restart_bg "$UD/thr.img" > "$TMP/threads.out" 2>&1
wait_for 20 test -d "/proc/$TPID" || fail "$CASE: not restarted: $(cat "$TMP/threads.out")"
in_sigwait() { [ "$(cut -d' ' -f1 "/proc/$TPID/syscall" 2>/dev/null)" = 128 ]; }
wait_for 20 in_sigwait || fail "$CASE: main not back in sigwaitinfo: $(cat "$TMP/threads.out")"
n=0
for t in /proc/$TPID/task/*; do
	n=$((n + 1))
	st=$(grep -E '^(Uid|CapInh|CapPrm|CapEff|CapAmb):' "$t/status" | tr -s '\t ' ' ' | tr '\n' ' ')
	[ "$st" = "Uid: $uid $uid $uid $uid CapInh: $Z CapPrm: $Z CapEff: $Z CapAmb: $Z " ] ||
		bad "thread ${t##*/}: $st"
done
[ $n -eq 5 ] || bad "$n threads, want 5"
# the exe link needed CAP_CHECKPOINT_RESTORE, which is all root kept
[ "$(readlink "/proc/$TPID/exe")" = "$PROGS/thr_ident" ] ||
	bad "exe link $(readlink "/proc/$TPID/exe"), want $PROGS/thr_ident"
kill -USR2 "$TPID"
wait "$RPID"
grep -q '^ALL OK' "$TMP/threads.out" || bad "after the restart: $(cat "$TMP/threads.out")"

# ---- --pidns ----
if as_user unshare --user --pid --mount --fork true 2> /dev/null; then
	CASE=pidns
	(cd "$UD" && as_user "$BIN/ckpt-run" --pidns "$P" "$UD/ns.img" - - - -) > "$TMP/ns.out" 2>&1
	grep -q '^SAVED' "$TMP/ns.out" || fail "$CASE: no image: $(cat "$TMP/ns.out")"
	cp -p "$UD/ns.img" "$UD/nsall.img"
	"$EDIT" "$UD/nsall.img" --caps "$ALL" "$ALL" "$ALL" || fail "$CASE: edit"
	OUT=$TMP/pidns-user.out
	as_user timeout 60 "${RESTART[@]}" "$UD/nsall.img" > "$OUT" 2>&1 < /dev/null
	RC=$?
	caps $Z $Z $Z
	CASE=pidns-root
	rst "$UD/nsall.img"
	caps $Z $Z $Z
	CASE=pidns-uid0
	cp -p "$UD/ns.img" "$UD/ns0.img"
	"$EDIT" "$UD/ns0.img" --uid 0 --gid 0 || fail "$CASE: edit"
	rst "$UD/ns0.img"
	[ "$RC" -eq 4 ] && ! grep -q '^ID' "$OUT" && grep -q -- --trust-image "$OUT" ||
		bad "rc $RC, want 4, refused with the option named: $(cat "$OUT")"
else
	echo "note: $U cannot make a user namespace: the --pidns cases are not run"
fi

# ---- ckpt-restart with file capabilities ----
CASE=setcap
mkdir "$TMP/fc"
cp "$BIN/ckpt-restart" "$TMP/fc/"
if setcap cap_checkpoint_restore+ep "$TMP/fc/ckpt-restart" 2> "$TMP/setcap.err"; then
	cp -p "$UD/plain.img" "$UD/cr.img"
	"$EDIT" "$UD/cr.img" --caps $CR $CR 0 || fail "$CASE: edit"
	OUT=$TMP/setcap.out
	as_user timeout 60 "$TMP/fc/ckpt-restart" --inherit-fd 0,1,2 "$UD/cr.img" > "$OUT" 2>&1 < /dev/null
	RC=$?
	caps $Z $Z $Z
	grep -q '^DUMPABLE 1$' "$OUT" || bad "not dumpable: $(grep DUMPABLE "$OUT")"
else
	echo "note: setcap failed here: $(cat "$TMP/setcap.err")"
fi

# ---- ckpt-restart made setuid root: it refuses to run ----
CASE=setuid
cp "$BIN/ckpt-restart" "$TMP/fc/suid-restart"
chmod 4755 "$TMP/fc/suid-restart"
OUT=$TMP/setuid.out
as_user timeout 60 "$TMP/fc/suid-restart" "$UD/plain.img" > "$OUT" 2>&1 < /dev/null
RC=$?
[ "$RC" -eq 4 ] && grep -q 'refusing to run setuid or setgid' "$OUT" && ! grep -q '^ID' "$OUT" ||
	bad "rc $RC, want 4 and a refusal: $(cat "$OUT")"

# SHOW=1: every output, to read the messages
[ -n "${SHOW:-}" ] && for f in "$TMP"/*.out; do echo "== $f"; cat "$f"; done
[ $nbad -eq 0 ] || exit 1
exit 0
