#!/bin/bash
# The man pages (docs/man) and the bash completion (tools/completion):
#  - every option each tool prints in its usage (--help; ckpt-save: no
#    arguments) and every option its parser compares argv with appears in
#    its page, and every CKPT_* variable the usage names: pages and tools
#    stay in step;
#  - every CKPT_* variable the code reads with getenv() is in libckpt(7);
#  - each page has the sections a Linux tool's page has, and renders with
#    no warning under groff -ww and man --warnings (where installed);
#  - the example of ckpt_save(3) compiles and links with -lckpt;
#  - `make install DESTDIR=...` puts the pages under share/man/man{1,3,7}
#    and the completion under share/bash-completion/completions, one per
#    command, and `make uninstall` removes every file install made;
#  - the completion, sourced, is registered for the four commands and
#    completes options, image files and, for ckpt-save, the pids of the
#    processes running libckpt (and not those of others).
. "$(dirname "$0")/lib.sh"
MAN=$ROOT/docs/man

# A page's text with roff's escaped dashes plain: "\-\-pidns" is --pidns.
page_text() { sed -e 's/\\-/-/g' -e 's/\\&//g' "$1"; }

# --- options and variables: usage and parser against the page ---
declare -A SRC=([ckpt-run]=tools/ckpt_run.c [ckpt-save]=tools/ckpt_save.c
		[ckpt-info]=tools/ckpt_info.c [ckpt-restart]=restart/restart_main.c)
for t in ckpt-run ckpt-save ckpt-restart ckpt-info; do
	page=$MAN/$t.1
	[ -f "$page" ] || fail "no man page $page"
	if [ "$t" = ckpt-save ]; then
		usage=$("$BIN/$t" 2>&1)
	else
		usage=$("$BIN/$t" --help 2>&1)
	fi
	echo "$usage" | grep -q "^usage: $t" || fail "$t prints no usage: $usage"
	text=$(page_text "$page")
	opts=$(echo "$usage" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	[ -n "$opts" ] || fail "$t: no option found in its usage"
	parsed=$(grep -oE 'str(n)?cmp\(argv\[i\], "--?[a-z][a-z0-9-]*' "$ROOT/${SRC[$t]}" |
		 sed 's/.*"//' | sort -u)
	[ -n "$parsed" ] || fail "$t: no option found in ${SRC[$t]}'s parser"
	for o in $opts $parsed; do
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<< "$text" ||
			fail "$t accepts $o but its man page ($page) does not say so"
	done
	for v in $(echo "$usage" | grep -oE 'CKPT_[A-Z_]+' | sort -u); do
		grep -qw -- "$v" <<< "$text" || fail "$t's usage names $v but its man page does not"
	done
	echo "$t: $(echo $opts $parsed | tr ' ' '\n' | sort -u | tr '\n' ' ')in $t.1"
done

# every CKPT_* the code reads (by name or through a #define) in libckpt(7)
text=$(page_text "$MAN/libckpt.7")
cd "$ROOT" || fail "no $ROOT"
vars=$(grep -rhoE 'getenv\(("CKPT_[A-Z_]+"|[A-Z_]+)\)' shim libckpt restart tools wrappers fds kernel-assist |
	sed -E 's/getenv\("?([A-Z_]+)"?\)/\1/' | sort -u)
for v in $vars; do
	case $v in
	CKPT_*) ;;
	*) v=$(grep -rhE "#define[[:space:]]+$v[[:space:]]+\"CKPT_" shim libckpt restart tools | sed -E 's/.*"(CKPT_[A-Z_]+)".*/\1/' | head -1)
	   [ -n "$v" ] || continue ;;	# not one of ours (HOME, ...)
	esac
	grep -qw -- "$v" <<< "$text" || fail "the code reads $v, libckpt(7) does not describe it"
	seen="${seen:-} $v"
done
[ "$(echo $seen | wc -w)" -ge 15 ] || fail "found only these CKPT_ variables in the code: $seen"
echo "libckpt.7 describes every variable the code reads:$seen"

# --- sections, rendering ---
pages=()
for p in "$MAN"/*.[1-8]; do
	if grep -q '^\.so ' "$p"; then		# an alias page: .so man3/ckpt_save.3
		target=$(sed -n 's/^\.so man[1-8]\///p' "$p")
		[ -f "$MAN/$target" ] || fail "$p points to $target, which is not in docs/man"
		continue
	fi
	pages+=("$p")
	want=(NAME SYNOPSIS DESCRIPTION "SEE ALSO")
	case $p in
	*.1) want+=(OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES) ;;
	*.3) want+=("RETURN VALUE" ERRORS EXAMPLES) ;;
	*.7) want+=(ENVIRONMENT EXAMPLES) ;;
	esac
	for s in "${want[@]}"; do
		grep -qE "^\.SH \"?$s\"?$" "$p" || fail "$(basename "$p") has no $s section"
	done
done
[ ${#pages[@]} -ge 6 ] || fail "expected 6 man pages in docs/man, found ${#pages[@]}"
if command -v groff > /dev/null; then
	for p in "${pages[@]}"; do
		w=$(groff -man -Tutf8 -ww -z "$p" 2>&1)
		[ -z "$w" ] || fail "groff warns on $(basename "$p"): $w"
	done
	echo "groff -ww: no warning on ${#pages[@]} pages"
else
	echo "note: no groff here; its check is skipped"
fi
if command -v man > /dev/null; then
	for p in "${pages[@]}"; do
		w=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 > /dev/null)
		[ -z "$w" ] || fail "man --warnings on $(basename "$p"): $w"
	done
	echo "man --warnings: no warning on ${#pages[@]} pages"
else
	echo "note: no man here; its check is skipped"
fi

# --- the example of ckpt_save(3) compiles and links ---
sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$MAN/ckpt_save.3" |
	awk '/^\.EX/ { n++; next } /^\.EE/ { if (n == 1) exit; next } n == 1' |	# the first .EX block
	sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e 's/\\&//g' > "$TMP/example.c"
grep -q 'ckpt_save("ready.img")' "$TMP/example.c" || fail "no example program in ckpt_save.3: $(cat "$TMP/example.c")"
${CC:-cc} -Wall -Werror -I"$ROOT/include" -o "$TMP/example" "$TMP/example.c" -L"$B" -lckpt ||
	fail "the example of ckpt_save(3) does not compile: $(cat "$TMP/example.c")"
echo "ckpt_save(3)'s example compiles and links with -lckpt"

# --- make install / uninstall ---
inst=$TMP/inst
make -s -C "$ROOT" install DESTDIR="$inst" PREFIX=/usr > "$TMP/install.log" 2>&1 ||
	fail "make install failed: $(tail -5 "$TMP/install.log")"
for f in man1/ckpt-run.1 man1/ckpt-save.1 man1/ckpt-restart.1 man1/ckpt-info.1 \
	 man3/ckpt_save.3 man3/ckpt_save_opts.3 man3/ckpt_last_error.3 man3/ckpt_available.3 man7/libckpt.7; do
	[ -f "$inst/usr/share/man/$f" ] || fail "make install did not install $f"
	cmp -s "$inst/usr/share/man/$f" "$MAN/${f#*/}" || fail "installed $f differs from docs/man"
done
for c in ckpt-run ckpt-save ckpt-restart ckpt-info; do
	f=$inst/usr/share/bash-completion/completions/$c
	[ -f "$f" ] || fail "make install did not install the completion for $c"
	# bash-completion sources the file named after the command; it must register that command
	out=$(bash --norc -c ". '$f' && complete -p $c" 2>&1)
	[ "$out" = "complete -F _ckpt_complete $c" ] || fail "the installed completion for $c: $out"
done
if command -v man > /dev/null; then
	out=$(MANPATH=$inst/usr/share/man MANWIDTH=80 man ckpt_last_error 2>/dev/null | grep -c 'ckpt_last_error')
	[ "$out" -gt 0 ] || fail "man ckpt_last_error does not find the installed ckpt_save(3)"
fi
make -s -C "$ROOT" uninstall DESTDIR="$inst" PREFIX=/usr > "$TMP/install.log" 2>&1 ||
	fail "make uninstall failed: $(tail -5 "$TMP/install.log")"
left=$(find "$inst" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "make install put the pages and completions in place; make uninstall removed them"

# --- the completion, driven by COMP_WORDS/COMP_CWORD ---
. "$ROOT/tools/completion/ckpt.bash" || fail "tools/completion/ckpt.bash does not source"
[ "$(complete -p ckpt-restart)" = "complete -F _ckpt_complete ckpt-restart" ] ||
	fail "ckpt-restart has no completion: $(complete -p ckpt-restart 2>&1)"
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_ckpt_complete
	((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' '
}
got=$(comp "$BIN/ckpt-restart" --ch)
[ "$got" = "--check " ] || fail "ckpt-restart --ch<TAB>: '$got', not --check"
got=$(comp "$BIN/ckpt-restart" --)
for o in --check --lazy --verify --key --inherit-fd --trust-image; do
	[[ " $got" == *" $o "* ]] || fail "ckpt-restart --<TAB> lacks $o: $got"
done
got=$(comp /nonexistent/ckpt-info --no)		# the command cannot run: the list it knows
[ "$got" = "--no-verify " ] || fail "ckpt-info --no<TAB> without the command: '$got'"
mkdir "$TMP/imgs" && : > "$TMP/imgs/app.img" && : > "$TMP/imgs/other"
got=$(cd "$TMP/imgs" && comp ckpt-restart --check ap)
[ "$got" = "app.img " ] || fail "ckpt-restart --check ap<TAB>: '$got', not app.img"
got=$(cd "$TMP/imgs" && comp ckpt-restart --inherit-fd ap)
[ -z "$got" ] || fail "ckpt-restart --inherit-fd <TAB> offers '$got' (it takes fd numbers)"
got=$(cd "$TMP/imgs" && comp ckpt-info --key o)
[ "$got" = "other " ] || fail "ckpt-info --key o<TAB>: '$got'"
got=$(comp "$BIN/ckpt-run" --pi)
[ "$got" = "--pidns " ] || fail "ckpt-run --pi<TAB>: '$got'"

# ckpt-save PID: a process running libckpt is offered, one that does not is not
shim "$B/samples/counter" > "$TMP/counter.out" 2>&1 &
lib_pid=$!
PIDS+=($lib_pid)
clean_fds sleep 600 &
plain_pid=$!
PIDS+=($plain_pid)
wait_for 10 grep -qs libckpt.so "/proc/$lib_pid/maps" || fail "counter never mapped libckpt"
got=$(comp ckpt-save "")
[[ " $got" == *" $lib_pid "* ]] || fail "ckpt-save <TAB> does not offer $lib_pid, which runs libckpt: $got"
[[ " $got" != *" $plain_pid "* ]] || fail "ckpt-save <TAB> offers $plain_pid (sleep), which does not run libckpt"
got=$(comp ckpt-save --fsync "$lib_pid")
[ "$got" = "$lib_pid " ] || fail "ckpt-save --fsync $lib_pid<TAB>: '$got'"
got=$(cd "$TMP/imgs" && comp ckpt-save "$lib_pid" ap)
[ "$got" = "app.img " ] || fail "ckpt-save PID ap<TAB>: '$got', not app.img"
got=$(comp ckpt-save --key "$TMP/imgs/oth")
[ "$got" = "$TMP/imgs/other " ] || fail "ckpt-save --key FILE<TAB>: '$got'"
echo "completion: options, image files, key files, libckpt pids ($lib_pid offered, $plain_pid not)"
echo "PASS"
