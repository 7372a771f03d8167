#!/bin/bash
# targets.sh - the table of issue #15's targets that ends `make bench`.
#
#   bash tests/bench/targets.sh RUN_OUTPUT [LAST]
# RUN_OUTPUT: what the run's sections printed; every line
# "TARGET <key> <value> <unit>" in it (leading blanks allowed) is a
# figure of this run (the last one of a key wins).  LAST
# (build/bench/targets.last): the figures of earlier runs, "key value
# unit date" a line; shown as "previous", then updated with this run's
# (a key this run did not measure keeps its earlier figure and date).
# A target with no figure in this run shows "not measured".
#
# Each key: its target and how it is judged.  "<= N": the figure must
# not exceed N; "<= @key": not exceed this run's figure of another key
# (a mappable save no slower than a compressed one).
set -u
RUN=$1
LAST=${2:-}

# key | target | what it is (the section that measures it)
TARGETS='
pause_256m_ms|<= 5|application pause, 256 MiB, ckpt-save (pause)
pause_1g_ms|<= 5|application pause, 1 GiB half random (pause)
pause_4g_ms|<= 5|application pause, 4 GiB (pause)
image_1g_ms|<= 250|1 GiB mixed: image complete, compressed, forked (modes)
mappable_save_1g_ms|<= @image_1g_ms|1 GiB mixed: mappable save, no slower than compressed (modes)
restart_eager_1g_ms|<= 200|1 GiB mixed: eager restart to running (modes)
save_1m_ms|<= 2|1 MiB: ckpt-save round trip from the command line (cli)
restart_1m_ms|<= 2|1 MiB: ckpt-restart to running from the command line (cli)
tree_pause_ms|<= 10|16 processes x 64 MiB, mappable: pause (trees)
tree_restart_ms|<= 20|16 processes x 64 MiB, mappable: restart to running (trees)
shim_loop_pct|<= 1|shim cost on a syscall-heavy loop (shim_cost)
shim_redis_pct|<= 1|shim cost on redis-benchmark (redis)
'

declare -A now unit last last_unit last_date
while read -r _ k v u _; do
	[ -n "${k:-}" ] && [ -n "${v:-}" ] || continue
	now[$k]=$v
	unit[$k]=${u:-}
done < <(grep -E '^[[:space:]]*TARGET[[:space:]]' "$RUN" 2>/dev/null)
if [ -n "$LAST" ] && [ -f "$LAST" ]; then
	while read -r k v u d; do
		[ -n "${k:-}" ] || continue
		last[$k]=$v
		last_unit[$k]=${u:-}
		last_date[$k]=${d:-}
	done < "$LAST"
fi

# "yes" / "NO" / "-": whether value meets "OP N" (N a number or @key)
met() {
	local v=$1 op=$2 lim=$3
	[ "$v" = "" ] && { echo "-"; return; }
	if [ "${lim#@}" != "$lim" ]; then
		lim=${now[${lim#@}]:-}
		[ -n "$lim" ] || { echo "-"; return; }
	fi
	awk -v v="$v" -v l="$lim" -v op="$op" 'BEGIN {
		ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
		print ok ? "yes" : "NO" }'
}

echo
echo "== targets (issue #15): this run against the target and the previous run"
printf '  %-20s %-16s %14s %14s  %-5s %s\n' key target "this run" previous met what
nmet=0 nmiss=0 nnone=0
while IFS='|' read -r k tgt what; do
	[ -n "$k" ] || continue
	op=${tgt%% *} lim=${tgt#* }
	v=${now[$k]:-}
	if [ -n "$v" ]; then
		shown="$v ${unit[$k]}"
	else
		shown="not measured"
	fi
	prev="-"
	[ -n "${last[$k]:-}" ] && prev="${last[$k]} ${last_unit[$k]}"
	m=$(met "$v" "$op" "$lim")
	case $m in yes) nmet=$((nmet + 1)) ;; NO) nmiss=$((nmiss + 1)) ;; *) nnone=$((nnone + 1)) ;; esac
	[ "${lim#@}" != "$lim" ] && tgt="$op ${lim#@}"
	printf '  %-20s %-16s %14s %14s  %-5s %s\n' "$k" "$tgt" "$shown" "$prev" "$m" "$what"
done <<< "$TARGETS"
# figures a section printed under a key this table does not know (a new target?)
for k in "${!now[@]}"; do
	grep -q "^$k|" <<< "$TARGETS" && continue
	prev="-"
	[ -n "${last[$k]:-}" ] && prev="${last[$k]} ${last_unit[$k]}"
	printf '  %-20s %-16s %14s %14s  %-5s %s\n' "$k" "?" "${now[$k]} ${unit[$k]}" "$prev" "-" \
		"(no target known for this key: tests/bench/targets.sh)"
done
echo "  met $nmet, not met $nmiss, not measured $nnone; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$LAST" ] && [ -f "$LAST" ] && echo "  previous: $LAST (each figure from the last run that measured it)"

# this run's figures replace the earlier ones; the rest are kept
if [ -n "$LAST" ]; then
	d=$(date -u +%Y-%m-%dT%H:%MZ)
	tmp=$LAST.tmp.$$
	{
		for k in "${!now[@]}"; do
			echo "$k ${now[$k]} ${unit[$k]:--} $d"
		done
		for k in "${!last[@]}"; do
			[ -n "${now[$k]:-}" ] || echo "$k ${last[$k]} ${last_unit[$k]:--} ${last_date[$k]:-}"
		done
	} | sort > "$tmp" && mv "$tmp" "$LAST"
fi
exit 0
