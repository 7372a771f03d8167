#!/bin/bash
# memfds and anonymous shared memory survive checkpoint, SIGKILL and
# restart (tests/e2e/progs/ghosts.c checks each in the restarted copy):
#   memfd    names, seals (F_SEAL_SHRINK|GROW, WRITE|SEAL, MFD_NOEXEC_SEAL's
#            EXEC; enforced after the restart), FD_CLOEXEC, mode, offset,
#            contents, a shared mapping and its fd on one file, and a memfd
#            mapped whose fd was closed (read through map_files: root)
#   maywrite a memfd and a deleted file open O_RDWR and mapped shared
#            read-only: mprotect() can still make the mappings writable
#            after the restart (it was refused: "mapped file /memfd:mw
#            (deleted) cannot be opened read-write"), two generations
#   devzero  MAP_SHARED of /dev/zero and MAP_SHARED|MAP_ANONYMOUS (shared
#            anonymous memory, "/dev/zero (deleted)" in maps), MAP_PRIVATE
#            of /dev/zero
#   hugetlb  anonymous MAP_HUGETLB memory, shared and private, and a memfd of
#            huge pages (MFD_HUGETLB): back with 2 MiB pages.  Needs huge pages: reserved here for the test
#            (root), skipped where they cannot be.  With none free at
#            restart, ckpt-restart --check refuses it (exit 4) saying how
#            to reserve them.
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D"

cases="devzero"
[ "$(id -u)" = 0 ] && cases="memfd $cases" ||
	echo "note: memfd needs root (a memfd mapped without an fd is read through map_files), left out"
for c in $cases maywrite; do
	[ $c = maywrite ] && GENS=2 || GENS=1
	GENS=$GENS cycle $c "$TMP/$c.out" "$TMP/go.$c" -- "$PROGS/ghosts" $c "$D" "$TMP/go.$c"
	[ $RC -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out.2" ||
		fail "$c: restarted copy (rc $RC): $(cat "$TMP/$c.out.2")"
done
if [ "$(id -u)" = 0 ]; then
	"$BIN/ckpt-info" "$TMP/memfd.img" > "$TMP/memfd.info" || fail "ckpt-info rc $?"
	grep -q 'memfd "my memfd", seals shrink|grow, mode 777, 10000 bytes' "$TMP/memfd.info" &&
		grep -q 'memfd "ro", seals seal|write' "$TMP/memfd.info" &&
		{ grep -q '^note: no MFD_NOEXEC_SEAL' "$TMP/memfd.out" ||
		  grep -q 'memfd "noexec", seals exec, mode 666' "$TMP/memfd.info"; } &&
		grep -qE 'file [0-9]+  memfd    /memfd:gone \(deleted\)' "$TMP/memfd.info" ||
		fail "ckpt-info: $(cat "$TMP/memfd.info")"
fi

# --- huge pages: 4 needed (4 MiB shared, 2 MiB private, a 2 MiB memfd), 6 reserved ---
NR=/proc/sys/vm/nr_hugepages
FREE=/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages
[ -w $NR ] && [ -r $FREE ] || skip "hugetlb: cannot reserve huge pages here (not root, or no 2 MiB pages)"
old=$(cat $NR)
trap 'echo "$old" > $NR; cleanup' EXIT
want=$(($(cat $NR) - $(cat $FREE) + 6))
echo $want > $NR 2>/dev/null
[ "$(cat $FREE)" -ge 5 ] || skip "hugetlb: could reserve only $(cat $FREE) free huge pages"
c=hugetlb
go=$TMP/go.$c
shim "$PROGS/ghosts" $c "$D" "$go" > "$TMP/$c.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/$c.out" '^READY|^setup'
grep -q '^READY' "$TMP/$c.out" || fail "$c: $(cat "$TMP/$c.out")"
"$BIN/ckpt-save" "$pid" "$TMP/$c.img" > "$TMP/$c.save" 2>&1 || fail "$c: ckpt-save: $(cat "$TMP/$c.save")"
kill9 "$pid"
# none free: refused before anything is made
echo $(($(cat $NR) - $(cat $FREE))) > $NR
"${RESTART[@]}" --check "$TMP/$c.img" > "$TMP/$c.chk" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q 'the image needs 4 huge pages of 2048 kB, this machine has 0 free: reserve them' "$TMP/$c.chk" ||
	fail "$c: --check without huge pages: rc $rc: $(cat "$TMP/$c.chk")"
echo $want > $NR
restart_bg "$TMP/$c.img" > "$TMP/$c.out2" 2>&1
wait_for 20 test -d "/proc/$pid" || fail "$c: not restarted: $(cat "$TMP/$c.out2")"
PIDS+=("$pid")
touch "$go"
wait "$RPID"
rc=$?
[ $rc -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out2" || fail "$c: restarted copy (rc $rc): $(cat "$TMP/$c.out2")"
exit 0
