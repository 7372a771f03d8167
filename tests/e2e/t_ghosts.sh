#!/bin/bash
# Deleted files ("ghost files") survive checkpoint, SIGKILL and restart
# (tests/e2e/progs/ghosts.c checks each in the restarted copy):
#   tmp     a deleted temp file open four ways (two descriptions sharing
#           an offset, one read-only, one O_APPEND), mapped shared and
#           private; one mapped only (fd closed); one whose directory was
#           removed: contents, size, mode, mtime, flags, offsets, and one
#           file behind every fd and the shared mapping; three generations
#           (the copy's files, made again, are saved again)
#   sparse  holes stay holes (SEEK_DATA/SEEK_HOLE map), allocated zeros stay
#   devnode an unlinked node of /dev/null comes back as /dev/null (root)
# ckpt-info shows them (kinds, same file, contents, the mappings' file).
# Refused: a deleted file past the contents limit (CKPT_GHOST_LIMIT), with
# its size, the limit and how to raise it; the process runs on.
. "$(dirname "$0")/lib.sh"
D=$TMP/d
mkdir -p "$D"

for c in tmp sparse devnode; do
	if [ $c = devnode ] && [ "$(id -u)" != 0 ]; then
		echo "note: devnode needs root (mknod), left out"
		continue
	fi
	# tmp: the restarted copy is saved and restarted again (its files were made again)
	GENS=$([ $c = tmp ] && echo 3 || echo 1) \
		cycle $c "$TMP/$c.out" "$TMP/go.$c" -- "$PROGS/ghosts" $c "$D" "$TMP/go.$c"
	[ $RC -eq 0 ] && grep -q "^OK $c" "$TMP/$c.out.2" ||
		fail "$c: restarted copy (rc $RC): $(cat "$TMP/$c.out.2")"
done
grep -q 'note: fd 3 (.*mynull (deleted)) will be /dev/null again (device 1:3)' "$TMP/devnode.save" 2>/dev/null ||
	[ "$(id -u)" != 0 ] || fail "devnode: ckpt-save did not say so: $(cat "$TMP/devnode.save")"

# What the image says of them.
"$BIN/ckpt-info" --json "$TMP/tmp.img" > "$TMP/tmp.json" || fail "ckpt-info --json rc $?"
python3 - "$TMP/tmp.json" <<'PY' || fail "ckpt-info --json: $(cat "$TMP/tmp.json" | head -c 3000)"
import json, sys
j = json.load(open(sys.argv[1]))
fds = {d["fd"]: d for d in j["fds"]}
g = [d for d in j["fds"] if d["kind"] == "ghost"]
assert len(g) == 5, g                          # A, B (dup), C, D, E
a = fds[3]
# (the third generation's: the files the second restart made, unnamed)
assert a["path"].endswith(" (deleted)") and a["offset"] == 5000 and a["same_as"] == 0, a
assert a["size"] == 12345 and a["mode"] == 0o640 and a["contents"]["data_bytes"] == 12345, a
assert fds[4]["file"] == a["file"]             # the dup: one description
c = [d for d in g if d["fd"] not in (3, 4) and d["path"] == a["path"]]
assert len(c) == 2 and all(d["same_as"] == a["file"] for d in c), c
only = [f for f in j["files"] if f["fds"] == 0]
assert len(only) == 1 and only[0]["kind"] == "ghost" and only[0]["path"].endswith(" (deleted)"), only
assert only[0]["size"] == 3 * 4096 and only[0]["path"] != a["path"], only
maps = [v for v in j["vmas"] if v["file"]]
assert sorted(v["file"] for v in maps) == sorted([a["file"], a["file"], only[0]["file"]]), maps
PY
"$BIN/ckpt-info" "$TMP/tmp.img" > "$TMP/tmp.info" || fail "ckpt-info rc $?"
grep -q 'deleted file, mode 640, 12345 bytes, 12345 bytes of data' "$TMP/tmp.info" &&
	grep -q 'files only mappings hold' "$TMP/tmp.info" ||
	fail "ckpt-info: $(cat "$TMP/tmp.info")"

# The limit: 3 MiB of data in a deleted file, 1 MiB allowed.
go=$TMP/go.big
CKPT_GHOST_LIMIT=1M shim "$PROGS/ghosts" big "$D" "$go" > "$TMP/big.out" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_line "$TMP/big.out" '^READY|^setup'
"$BIN/ckpt-save" "$pid" "$TMP/big.img" > "$TMP/big.save" 2>&1
rc=$?
[ $rc -eq 5 ] || fail "limit: ckpt-save rc $rc, want 5: $(cat "$TMP/big.save")"
grep -q 'fd 3: .*/big (deleted) holds 3145728 bytes of data, more than the limit of 1048576 bytes.*CKPT_GHOST_LIMIT=' \
	"$TMP/big.save" || fail "limit: the message: $(cat "$TMP/big.save")"
[ ! -e "$TMP/big.img" ] || fail "limit: an image was left"
kill -0 "$pid" || fail "limit: the process is gone"
touch "$go"
wait "$pid" || fail "limit: the process (rc $?): $(cat "$TMP/big.out")"
exit 0
