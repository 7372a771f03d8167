#!/bin/bash
# Mappable images (ckpt-save --mappable, CKPT_OPT_MAPPABLE): ckpt-restart
# maps the memory from the image file.  The restored process's data is
# the same; it stays right after the image is deleted and after the image
# is replaced by a newer save; it can be checkpointed again (mappable and
# compressed) and restarted from that once the first image is gone.  A
# mappable save to a pipe is refused clearly; a flipped byte in the page
# data is found by `ckpt-restart --check` (and ckpt-info); a flipped byte
# in the metadata still refuses the restart.
. "$(dirname "$0")/lib.sh"

OUT=$TMP/out
nlines() { grep -c "$1" "$2" 2>/dev/null; }
# sig SIGNAL PATTERN FILE: send SIGNAL to $PID, wait for one more PATTERN line.
more() { [ "$(nlines "$1" "$2")" -gt "$3" ]; }
sig() {
	local n
	n=$(nlines "$2" "$3")
	kill -"$1" "$PID" || fail "$CASE: cannot signal $PID"
	wait_for 20 more "$2" "$3" "$n" || fail "$CASE: no new /$2/ after SIG$1: $(tail -3 "$3")"
}
verify_ok() {
	sig USR1 "^verify " "$1"
	tail -1 "$1" | grep -q "^verify ok" || fail "$CASE: $(tail -1 "$1")"
}
# The restorer names the process: from then on signals wait for it.
running() { [ "$(cat "/proc/$PID/comm" 2>/dev/null)" = mapper ]; }
restart_from() {	# IMAGE OUTFILE: restart, prove the data
	restart_bg "$1" > "$2" 2>&1
	wait_for 20 running || fail "$CASE: $1 did not come back: $(cat "$2")"
	verify_ok "$2"
}
# MPAGES data offsets of an image (python: walks the records).
mpages_data() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 128
while off < len(d):
    t, v, f, n, crc, r = struct.unpack_from("<IHHQII", d, off)
    if t == 0xffff:
        break
    if t == 6:
        addr, npages, data_off, dcrc, res = struct.unpack_from("<QQQII", d, off + 24)
        print(off, data_off, npages)
        off = data_off + npages * 4096
    else:
        off += 24 + n
EOF
}

CASE=save
shim "$PROGS/mapper" "$TMP/self.img" > "$OUT" 2>&1 &
PID=$!
PIDS+=("$PID")
wait_line "$OUT" "^ready"
verify_ok "$OUT"
"$BIN/ckpt-save" --mappable "$PID" "$TMP/a.img" > "$TMP/save.out" 2>&1 ||
	fail "$CASE: ckpt-save --mappable: $(cat "$TMP/save.out")"
"$BIN/ckpt-info" "$TMP/a.img" > "$TMP/info" 2>&1 || fail "$CASE: ckpt-info: $(cat "$TMP/info")"
grep -q "flags:.*mappable" "$TMP/info" || fail "$CASE: image not marked mappable"
[ -n "$(mpages_data "$TMP/a.img")" ] || fail "$CASE: no MPAGES records in the image"
# the sparse region's holes of > 16 pages break runs
[ "$(mpages_data "$TMP/a.img" | wc -l)" -ge 4 ] || fail "$CASE: too few MPAGES runs"
# every page of the 24 MiB region (and more) is in MPAGES runs
np=$(mpages_data "$TMP/a.img" | awk '{ n += $3 } END { print n + 0 }')
[ "$np" -ge 6144 ] || fail "$CASE: only $np pages in MPAGES runs"
mpages_data "$TMP/a.img" | while read -r rec data n; do
	[ $((data % 4096)) = 0 ] || fail "$CASE: data of the record at $rec is not page aligned ($data)"
done || exit 1
kill9 "$PID"

CASE=restart
restart_from "$TMP/a.img" "$TMP/r1"
grep -q "$TMP/a.img" "/proc/$PID/maps" || fail "$CASE: memory not mapped from the image"

CASE=deleted
rm "$TMP/a.img"
grep -q "a.img (deleted)" "/proc/$PID/maps" || fail "$CASE: maps does not show the deleted image"
verify_ok "$TMP/r1"
sig USR2 "^modified" "$TMP/r1"
verify_ok "$TMP/r1"

CASE=resave
# The process's memory is backed by the deleted a.img: saved as memory.
"$BIN/ckpt-save" --mappable "$PID" "$TMP/b.img" > "$TMP/save.out" 2>&1 ||
	fail "$CASE: mappable: $(cat "$TMP/save.out")"
"$BIN/ckpt-save" "$PID" "$TMP/c.img" > "$TMP/save.out" 2>&1 ||
	fail "$CASE: compressed: $(cat "$TMP/save.out")"
"$BIN/ckpt-info" "$TMP/c.img" | grep -q "a.img" && fail "$CASE: c.img refers to the deleted a.img"
[ -z "$(mpages_data "$TMP/c.img")" ] || fail "$CASE: the default save wrote MPAGES records"
verify_ok "$TMP/r1"
kill9 "$PID"

CASE=compressed
restart_from "$TMP/c.img" "$TMP/r2"
kill9 "$PID"

CASE=second
restart_from "$TMP/b.img" "$TMP/r3"
grep -q "$TMP/b.img" "/proc/$PID/maps" || fail "$CASE: memory not mapped from b.img"

CASE=replaced
# A newer save renamed over the image this process is mapped from.
sig USR2 "^modified" "$TMP/r3"
"$BIN/ckpt-save" --mappable "$PID" "$TMP/b.img" > "$TMP/save.out" 2>&1 ||
	fail "$CASE: $(cat "$TMP/save.out")"
verify_ok "$TMP/r3"
sig USR2 "^modified" "$TMP/r3"
verify_ok "$TMP/r3"
kill9 "$PID"
restart_from "$TMP/b.img" "$TMP/r4"

CASE=untouched
# Saved before the restored process touches its memory: pagemap says
# "not present" for pages still in the image file; they are saved anyway.
kill9 "$PID"
restart_bg "$TMP/b.img" > "$TMP/r6" 2>&1
wait_for 20 running || fail "$CASE: b.img did not come back: $(cat "$TMP/r6")"
"$BIN/ckpt-save" "$PID" "$TMP/d.img" > "$TMP/save.out" 2>&1 || fail "$CASE: $(cat "$TMP/save.out")"
kill9 "$PID"
restart_from "$TMP/d.img" "$TMP/r4"

CASE=self
# ckpt_save(CKPT_OPT_MAPPABLE) from the restored process itself.
sig HUP "^SAVED\|^save failed" "$TMP/r4"
grep -q "^SAVED" "$TMP/r4" || fail "$CASE: $(tail -1 "$TMP/r4")"
kill9 "$PID"
restart_from "$TMP/self.img" "$TMP/r5"
grep -q "^RESTORED" "$TMP/r5" || fail "$CASE: no RESTORED: $(cat "$TMP/r5")"

CASE=pipe
"$BIN/ckpt-save" --mappable "$PID" - 2> "$TMP/pipe.err" | cat > /dev/null
st=${PIPESTATUS[0]}
[ "$st" = 1 ] || fail "$CASE: exit $st: $(cat "$TMP/pipe.err")"
grep -q "mappable image cannot be written to a pipe" "$TMP/pipe.err" ||
	fail "$CASE: unclear message: $(cat "$TMP/pipe.err")"
verify_ok "$TMP/r5"
kill9 "$PID"
cat "$TMP/b.img" | clean_fds "${RESTART[@]}" --trust-image - > "$TMP/pipe.err" 2>&1
st=$?
[ "$st" = 2 ] || fail "$CASE: restart from a pipe: exit $st: $(cat "$TMP/pipe.err")"
grep -q "cannot be restarted from a pipe" "$TMP/pipe.err" ||
	fail "$CASE: restart from a pipe: $(cat "$TMP/pipe.err")"

# barrier_restart TAG [CKPT-RESTART OPTIONS]: the 4-thread barrier
# program saved mappable from outside into TMP/TAG.img, killed, and
# restarted with the options; returns once the copy made progress
# (output in TMP/TAG.out2, pid TPID, ckpt-restart RPID).
barrier_restart() {
	local tag=$1
	shift
	rm -f "$TMP/stop"
	shim "$PROGS/thr_barrier" "$TMP/stop" 300 3000 > "$TMP/$tag.out1" 2>&1 &
	TPID=$!
	PIDS+=("$TPID")
	wait_line "$TMP/$tag.out1" "^AT M1|BAD"
	"$BIN/ckpt-save" --mappable "$TPID" "$TMP/$tag.img" > "$TMP/save.out" 2>&1 ||
		fail "$CASE: ckpt-save --mappable: $(cat "$TMP/save.out")"
	kill9 "$TPID"
	[ -n "$(mpages_data "$TMP/$tag.img")" ] || fail "$CASE: no MPAGES records"
	restart_bg "$@" "$TMP/$tag.img" > "$TMP/$tag.out2" 2>&1
	wait_line "$TMP/$tag.out2" "^AT M2|BAD|FAILED"
}
# barrier_finish TAG: told to stop, the copy joins its threads, all well.
barrier_finish() {
	local st
	touch "$TMP/stop"
	wait "$RPID"
	st=$?
	[ $st = 0 ] && grep -q '^ALL OK' "$TMP/$1.out2" ||
		fail "$CASE: after restart (rc $st): $(cat "$TMP/$1.out2")"
}

CASE=threads
# A multi-threaded process (4 threads meeting at pthread barriers, then
# joined): saved mappable from outside, killed, restarted; the threads
# carry on from where they were and the main thread joins them (a shared
# futex on each thread's tid word, in memory mapped from the image).
barrier_restart thr
grep -q "$TMP/thr.img" "/proc/$TPID/maps" || fail "$CASE: memory not mapped from the image"
barrier_finish thr

CASE=incremental
# A process restored from a mappable image starts an incremental chain;
# the chain restarts after the mappable image is gone.
clean_fds "$PROGS/mapincr" "$TMP/mi0.img" "$TMP/mi1.img" "$TMP/mi2.img" > "$TMP/mi" 2>&1
grep -q '^SAVED' "$TMP/mi" || fail "$CASE: no mappable image: $(cat "$TMP/mi")"
clean_fds "${RESTART[@]}" "$TMP/mi0.img" > "$TMP/mi" 2>&1
grep -q '^CHAIN SAVED' "$TMP/mi" || fail "$CASE: no chain: $(cat "$TMP/mi")"
"$BIN/ckpt-info" "$TMP/mi2.img" | grep -q "^parent: *$TMP/mi1.img" ||
	fail "$CASE: mi2 is not an incremental child of mi1: $("$BIN/ckpt-info" "$TMP/mi2.img" | head -8)"
rm "$TMP/mi0.img"
clean_fds "${RESTART[@]}" "$TMP/mi2.img" > "$TMP/mi" 2>&1
grep -q '^CHAIN RESTORED ok' "$TMP/mi" || fail "$CASE: restart of the chain: $(cat "$TMP/mi")"

CASE=lazy
# --lazy of a mappable image: nothing to serve lazily, it is mapped (a note).
barrier_restart lz --lazy
grep -q "mappable image is mapped from the file, not read; --lazy is not needed" "$TMP/lz.out2" ||
	fail "$CASE: no note: $(cat "$TMP/lz.out2")"
barrier_finish lz
CASE=env
# CKPT_MAPPABLE=1: the images of CKPT_SIGNAL are mappable.
CKPT_MAPPABLE=1 CKPT_SIGNAL=WINCH CKPT_IMAGE="$TMP/env.img" shim "$PROGS/mapper" "$TMP/x.img" > "$TMP/e1" 2>&1 &
EPID=$!
PIDS+=("$EPID")
wait_line "$TMP/e1" "^ready"
kill -WINCH "$EPID"
wait_for 20 test -f "$TMP/env.img" || fail "$CASE: no image after SIGWINCH: $(cat "$TMP/e1")"
[ -n "$(mpages_data "$TMP/env.img")" ] || fail "$CASE: no MPAGES records"
kill9 "$EPID"
PID=$EPID
restart_from "$TMP/env.img" "$TMP/e2"
kill9 "$PID"

CASE=check
clean_fds "${RESTART[@]}" --check "$TMP/b.img" > "$TMP/check" 2>&1 ||
	fail "$CASE: good image: $(cat "$TMP/check")"
read -r rec data n < <(mpages_data "$TMP/b.img" | tail -1)
cp "$TMP/b.img" "$TMP/flip.img"
flip_byte "$TMP/flip.img" $((data + n * 4096 / 2 + 123))
clean_fds "${RESTART[@]}" --check "$TMP/flip.img" > "$TMP/check" 2>&1
st=$?
[ "$st" = 2 ] || fail "$CASE: flipped data byte: exit $st: $(cat "$TMP/check")"
grep -q "data checksum mismatch" "$TMP/check" || fail "$CASE: $(cat "$TMP/check")"
"$BIN/ckpt-info" "$TMP/flip.img" > "$TMP/check" 2>&1
[ $? = 2 ] && grep -q "data checksum mismatch" "$TMP/check" || fail "$CASE: ckpt-info: $(cat "$TMP/check")"

CASE=metadata
# The padding and the struct of an MPAGES record are checksummed.
for at in $((rec + 24 + 8)) $((rec + 24 + 40)); do
	cp "$TMP/b.img" "$TMP/meta.img"
	flip_byte "$TMP/meta.img" "$at"
	clean_fds "${RESTART[@]}" "$TMP/meta.img" > "$TMP/meta" 2>&1
	st=$?
	[ "$st" = 2 ] || fail "$CASE: byte $at flipped: exit $st: $(cat "$TMP/meta")"
	grep -q "corrupt" "$TMP/meta" || fail "$CASE: byte $at: $(cat "$TMP/meta")"
done
gone "$PID" || fail "$CASE: a process was made from a corrupt image"
exit 0
