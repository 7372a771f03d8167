#!/bin/bash
# Root restarting a user's image never acts as root for the user
# (docs/SECURITY.md, "Who may restart what").  The user's process saves
# itself; the image is then edited the way its owner could (ckpt-edit:
# same-length byte replacement, field setters, every CRC recomputed) and
# root restarts it:
#  - unedited: it runs as the user, with the owner's groups from the
#    group database, no capabilities, without root's controlling
#    terminal, dumpable again;
#    --check says "not trusted" and as whom it would run;
#  - an fd to /etc/shadow, an fd writing a root-only file, a mapping of
#    /etc/shadow, a writable mapping of a root-only file, a cwd in a
#    root-only directory: refused (exit 4), the message names the file;
#    the root-only files are unchanged; fd 3 marked "inherited" (it would
#    be ckpt-restart's own fd 3, here a root-only file): refused;
#  - uid 0 or gid 0 claimed: refused (exit 4), naming both uids (gids)
#    and --trust-image; with --trust-image it runs with the recorded uid;
#  - the same image from a pipe: refused without --trust-image;
#  - owned by root and writable by nobody else: trusted, it runs with the
#    recorded uid and supplementary groups (and without root's terminal:
#    its code is still the user's); made group-writable, or
#    given an ACL entry that grants write: refused;
#  - an incremental chain whose parent the user owns, under a child
#    owned by root: refused, naming the parent.
. "$(dirname "$0")/lib.sh"
unpriv_user
P=$PROGS/trustprobe
EDIT=$PROGS/ckpt-edit
as_user test -x "$BIN/ckpt-restart" -a -x "$P" -a -r "$LIB" || skip "the build tree is not readable by $U"
[ -x "$EDIT" ] || fail "no $EDIT (make builds it)"
G=ckpt-test-grp
getent group "$G" > /dev/null || groupadd "$G" || skip "cannot create group $G"
id -nG "$U" | grep -qw "$G" || gpasswd -a "$U" "$G" > /dev/null || skip "cannot add $U to $G"
ggid=$(getent group "$G" | cut -d: -f3)
dbgroups=$(id -G "$U" | tr ' ' '\n' | sort -n | tr '\n' ' ')
UD=$TMP/u R=$TMP/r
mkdir "$UD" "$R"
chown "$uid:$gid" "$UD"
chmod 700 "$R"
# Root's files, and the user's at paths of the same length.
for f in wtarget mtarget; do
	echo "ROOT ONLY $f" > "$R/$f"
	echo "users $f" > "$UD/$f"
done
chown "$uid:$gid" "$UD"/*
# /etc/shadow is 11 bytes long; so is /tmp/ckXXXX.
SH=$(as_user mktemp /tmp/ckXXXX) || fail "mktemp as $U"
trap 'rm -f "$SH"; cleanup' EXIT
as_user sh -c "echo users-secret > $SH"
nbad=0
bad() { echo "FAIL: $CASE: $*"; nbad=$((nbad + 1)); }

# save IMG RFILE WFILE MFILE MWFILE: the probe, as the user, in UD.
save() {
	(cd "$UD" && clean_fds setpriv --reuid="$uid" --regid="$gid" ${GROUPS_OPT:---clear-groups} \
		"$P" "$@") > "$TMP/save.out" 2>&1
	grep -q '^SAVED' "$TMP/save.out" || fail "$CASE: no image: $(cat "$TMP/save.out")"
}
# rst ARGS...: ckpt-restart as root, output in OUT, exit status in RC.
rst() {
	OUT=$TMP/$CASE.out
	clean_fds timeout 60 "${RESTART[@]}" "$@" > "$OUT" 2>&1 < /dev/null
	RC=$?
}
# refused PATTERN...: exit 4, nothing ran, every pattern in the message.
refused() {
	local p miss=
	for p in "$@"; do
		grep -q -- "$p" "$OUT" || miss="$miss \"$p\""
	done
	if [ "$RC" -ne 4 ] || grep -q '^RESTORED\|^ID ' "$OUT" || [ -n "$miss" ]; then
		bad "rc $RC (want 4), the process ran: $(grep -c '^ID ' "$OUT"), the message lacks$miss: $(cat "$OUT")"
	fi
}
# ran_as UID GID GROUPS: it ran, with these ids, no capabilities.
ran_as() {
	[ "$RC" -eq 0 ] && grep -q '^RESTORED' "$OUT" || { bad "rc $RC: $(cat "$OUT")"; return; }
	grep -q "^ID $1 $1 $1 $2 $2 $2\$" "$OUT" || bad "ids: $(grep '^ID' "$OUT"), want uid $1 gid $2"
	local g
	g=$(sed -n 's/^GROUPS *//p' "$OUT" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')
	[ "$g" = "$3" ] || bad "groups \"$g\", want \"$3\""
}
no_caps() {
	grep -q '^CAPS 0000000000000000 0000000000000000 0000000000000000 0000000000000000 ' "$OUT" ||
		bad "capabilities: $(grep '^CAPS' "$OUT")"
}

# ---- unedited: runs as the user, the owner's groups, nothing more ----
CASE=plain
save "$UD/plain.img" - - - -
clean_fds "${RESTART[@]}" --check "$UD/plain.img" > "$TMP/check.out" 2>&1 ||
	bad "--check: rc $?: $(cat "$TMP/check.out")"
grep -q "not trusted" "$TMP/check.out" && grep -q "runs as uid $uid ($U)" "$TMP/check.out" ||
	bad "--check does not say the trust decision and the uid: $(cat "$TMP/check.out")"
rst "$UD/plain.img"
ran_as "$uid" "$gid" "$dbgroups"
no_caps
grep -q '^DUMPABLE 1$' "$OUT" || bad "not dumpable after the restart: $(grep DUMPABLE "$OUT")"
# ... and without root's terminal: run from one (script(1) makes a pty),
# it must not keep it as its controlling terminal (TIOCSTI would type
# into root's shell).
no_tty() {
	command -v script > /dev/null || return 0
	script -qec "${RESTART[*]} $1" /dev/null > "$TMP/tty.out" 2>&1 < /dev/null
	grep -q '^RESTORED' "$TMP/tty.out" || bad "under script: $(cat "$TMP/tty.out")"
	grep -q '^SESSION [0-9]* [0-9]* 0.\?$' "$TMP/tty.out" ||
		bad "it kept root's controlling terminal: $(grep SESSION "$TMP/tty.out")"
}
no_tty "$UD/plain.img"

# ---- files the user may not open ----
CASE=fd-shadow
save "$UD/a.img" "$SH" - - -
cp -p "$UD/a.img" "$UD/a0.img"
"$EDIT" "$UD/a.img" --replace "$SH" /etc/shadow || fail "$CASE: edit"
rst "$UD/a.img"
refused /etc/shadow "Permission denied" "uid $uid"
grep -q '^READ root:' "$OUT" && bad "it read /etc/shadow"

CASE=fd-write
save "$UD/b.img" - "$UD/wtarget" - -
"$EDIT" "$UD/b.img" --replace "$UD/wtarget" "$R/wtarget" || fail "$CASE: edit"
rst "$UD/b.img"
refused "$R/wtarget" "Permission denied"
grep -q PWNED "$R/wtarget" && bad "root's file was written: $(cat "$R/wtarget")"

CASE=map-shadow
save "$UD/c.img" - - "$SH" -
"$EDIT" "$UD/c.img" --replace "$SH" /etc/shadow --restat /etc/shadow || fail "$CASE: edit"
rst "$UD/c.img"
refused /etc/shadow "Permission denied"
grep -q '^MAP root:' "$OUT" && bad "it mapped /etc/shadow"

CASE=map-write
save "$UD/d.img" - - - "$UD/mtarget"
"$EDIT" "$UD/d.img" --replace "$UD/mtarget" "$R/mtarget" --restat "$R/mtarget" || fail "$CASE: edit"
rst "$UD/d.img"
refused "$R/mtarget" "Permission denied"
grep -q PWNED "$R/mtarget" && bad "root's file was written through the mapping: $(cat "$R/mtarget")"

# fd 3 made "inherited": it would be whatever root started ckpt-restart with
CASE=fd-inherit
cp -p "$UD/a0.img" "$UD/i.img"
"$EDIT" "$UD/i.img" --fd-inherit 3 || fail "$CASE: edit"
OUT=$TMP/$CASE.out
clean_fds sh -c 'exec 3< "$0"; exec "$@"' "$R/wtarget" timeout 60 "${RESTART[@]}" "$UD/i.img" \
	> "$OUT" 2>&1 < /dev/null
RC=$?
refused "fd 3" --inherit-fd
grep -q '^READ ROOT' "$OUT" && bad "it read root's fd 3"

CASE=cwd
cp -p "$UD/plain.img" "$UD/e.img"
"$EDIT" "$UD/e.img" --replace "$UD" "$R" || fail "$CASE: edit"
rst "$UD/e.img"
refused "$R" "Permission denied"

# ---- ids claimed ----
CASE=uid0
cp -p "$UD/plain.img" "$UD/f.img"
"$EDIT" "$UD/f.img" --uid 0 || fail "$CASE: edit"
for chk in --check ""; do
	rst $chk "$UD/f.img"
	refused "uid 0" "uid $uid" --trust-image
done
CASE=gid0
cp -p "$UD/plain.img" "$UD/g.img"
"$EDIT" "$UD/g.img" --gid 0 || fail "$CASE: edit"
rst "$UD/g.img"
refused "gid 0" "$U" --trust-image

CASE=trust-image
rst --trust-image "$UD/f.img"
[ "$RC" -eq 0 ] && grep -q '^ID 0 0 0 ' "$OUT" || bad "--trust-image: not the recorded uid 0: rc $RC: $(cat "$OUT")"

CASE=pipe
clean_fds timeout 60 "${RESTART[@]}" - > "$TMP/pipe0.out" 2>&1 < <(cat "$UD/plain.img")
RC=$? OUT=$TMP/pipe0.out
refused pipe --trust-image
clean_fds timeout 60 "${RESTART[@]}" --trust-image - > "$TMP/pipe1.out" 2>&1 < <(cat "$UD/plain.img")
RC=$? OUT=$TMP/pipe1.out
ran_as "$uid" "$gid" ""

# ---- owned by root: trusted when nobody else could have written it ----
CASE=root-owned
GROUPS_OPT="--groups=$ggid" save "$UD/h.img" - - - -
chown root:root "$UD/h.img"
chmod 600 "$UD/h.img"
"$BIN/ckpt-info" --no-verify "$UD/h.img" | grep -q "groups: *$ggid\$" ||
	bad "ckpt-info does not show the groups: $("$BIN/ckpt-info" --no-verify "$UD/h.img" | grep -i groups)"
clean_fds "${RESTART[@]}" --check "$UD/h.img" > "$TMP/check.out" 2>&1
grep -q "trusted" "$TMP/check.out" && ! grep -q "not trusted" "$TMP/check.out" ||
	bad "--check: $(cat "$TMP/check.out")"
rst "$UD/h.img"
ran_as "$uid" "$gid" "$ggid "
no_caps
grep -q '^DUMPABLE 1$' "$OUT" || bad "not dumpable after the restart: $(grep DUMPABLE "$OUT")"
no_tty "$UD/h.img"
CASE=root-owned-g+w
chmod 620 "$UD/h.img"
rst "$UD/h.img"
refused "writable" --trust-image
CASE=root-owned-acl
chmod 600 "$UD/h.img"
# user:UID:rw- and a mask rw-: what setfacl -m u:UID:rw writes.
if python3 -c "import os, struct, sys
e = [(1, 6, 0xffffffff), (2, 6, $uid), (4, 0, 0xffffffff), (0x10, 6, 0xffffffff), (0x20, 0, 0xffffffff)]
os.setxattr(sys.argv[1], 'system.posix_acl_access', struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *x) for x in e))" \
	"$UD/h.img" 2> "$TMP/acl.err"; then
	rst "$UD/h.img"
	refused "ACL" --trust-image
else
	echo "note: no POSIX ACLs here: $(cat "$TMP/acl.err")"
fi

# ---- an incremental chain: a parent the user owns under root's child ----
CASE=chain
(cd "$UD" && clean_fds setpriv --reuid="$uid" --regid="$gid" --clear-groups "$PROGS/incr" self "$UD" 2) \
	> "$TMP/incr.out" 2>&1
[ -f "$UD/img.2" ] || fail "$CASE: no chain: $(cat "$TMP/incr.out")"
chown root:root "$UD/img.2"
chmod 600 "$UD/img.2"
rst "$UD/img.2"
refused "$UD/img.1" "uid $uid" --trust-image

# SHOW=1: every output, to read the messages
[ -n "${SHOW:-}" ] && for f in "$TMP"/*.out; do echo "== $f"; cat "$f"; done
[ $nbad -eq 0 ] || exit 1
exit 0
