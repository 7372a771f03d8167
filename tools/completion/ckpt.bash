# ckpt.bash - bash completion for ckpt-run, ckpt-save, ckpt-restart and
# ckpt-info (libckpt).
#
# Installed once per command name under
# $(PREFIX)/share/bash-completion/completions/ (bash-completion loads the
# file named after the command being completed); can also be sourced.
#
#   options      read from the command's own usage (`CMD --help`), so new
#                options complete without an edit here; the list below is
#                the fallback when the command cannot be run
#   ckpt-save    PID: the processes whose /proc/PID/maps shows libckpt.so
#                (those ckpt-save can ask: the user's own, or all as root);
#                PATH: files
#   ckpt-restart, ckpt-info: image files; --key: files
#   ckpt-run     a command, then that command's own completion

# Option names "CMD --help" prints (ckpt-save has no --help: any unknown
# option prints its usage); cached per command path.
declare -gA _ckpt_opts_cache 2>/dev/null || true
_ckpt_opts() {
	local cmd=$1 fallback=$2 out
	if [[ -z ${_ckpt_opts_cache[$cmd]+set} ]]; then
		out=$(command "$cmd" --help </dev/null 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
		_ckpt_opts_cache[$cmd]=${out:-$fallback}
	fi
	printf '%s\n' ${_ckpt_opts_cache[$cmd]}
}

_ckpt_files() {
	local cur=$1
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		local IFS=$'\n'
		compopt -o filenames 2>/dev/null
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}

# Pids of the processes that have libckpt.so mapped (readable maps only).
_ckpt_pids() {
	local cur=$1 f pid
	for f in $(grep -lsE '/libckpt\.so( \(deleted\))?$' /proc/[0-9]*/maps 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/maps}
		[[ $pid == "$cur"* ]] && COMPREPLY+=("$pid")
	done
}

# The options of this command line, the number of non-option words before
# the cursor (into _ckpt_npos), and whether the cursor word is an option's
# argument (into _ckpt_argof).  $1: the options that take an argument.
_ckpt_scan() {
	local takes=" $1 " i w opts=1
	_ckpt_npos=0 _ckpt_argof=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((opts)) && [[ $w == -- ]]; then
			opts=0
		elif ((opts)) && [[ $w == -?* ]]; then
			[[ $takes == *" $w "* ]] && ((i + 1 == COMP_CWORD)) && _ckpt_argof=$w
			[[ $takes == *" $w "* ]] && ((i++))
		else
			((_ckpt_npos++))
		fi
	done
	_ckpt_optsdone=$((!opts))
}

# ckpt-run [OPTIONS] [--] PROGRAM ARGS...: options, then a command, then
# that command's own completion (bash-completion's _command_offset).
_ckpt_run() {
	local cmd=$1 cur=$2 fallback=$3 i=1 dashdash=0
	while ((i < COMP_CWORD)) && [[ ${COMP_WORDS[i]} == -* ]]; do
		[[ ${COMP_WORDS[i]} == -- ]] && { dashdash=1; ((i++)); break; }
		((i++))
	done
	if ((i == COMP_CWORD)); then
		if [[ $cur == -* ]] && ((!dashdash)); then
			COMPREPLY=($(compgen -W "$(_ckpt_opts "$cmd" "$fallback") --" -- "$cur"))
		else
			COMPREPLY=($(compgen -c -- "$cur"))
		fi
	elif declare -F _command_offset >/dev/null; then
		_command_offset "$i"
	else
		_ckpt_files "$cur"
	fi
}

_ckpt_complete() {
	local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} name fallback takes
	COMPREPLY=()
	name=${cmd##*/}
	case $name in
	ckpt-run)	fallback="--pidns --ipcns"; takes="" ;;
	ckpt-save)	fallback="--fsync --exit --mappable --incremental --pre-dump --key"; takes="--key" ;;
	ckpt-restart)	fallback="--check --lazy --verify --key --inherit-fd --trust-image --help"
			takes="--key --inherit-fd" ;;
	ckpt-info)	fallback="--json --no-verify --no-backtrace --unwind --diff --key --help"; takes="--key --diff" ;;
	*)		return 0 ;;
	esac
	[[ $name == ckpt-run ]] && { _ckpt_run "$cmd" "$cur" "$fallback"; return 0; }
	_ckpt_scan "$takes"

	case $_ckpt_argof in
	--key|--diff)	_ckpt_files "$cur"; return 0 ;;
	?*)		return 0 ;;	# a number or a list: nothing to offer
	esac
	if [[ $cur == -?* ]] && ((!_ckpt_optsdone)); then
		COMPREPLY=($(compgen -W "$(_ckpt_opts "$cmd" "$fallback")" -- "$cur"))
		return 0
	fi
	case $name in
	ckpt-save)
		if ((_ckpt_npos == 0)); then
			_ckpt_pids "$cur"
		elif ((_ckpt_npos == 1)); then
			_ckpt_files "$cur"
		fi ;;
	ckpt-restart|ckpt-info)
		((_ckpt_npos == 0)) && _ckpt_files "$cur" ;;
	esac
	return 0
}

complete -F _ckpt_complete ckpt-run ckpt-save ckpt-restart ckpt-info
