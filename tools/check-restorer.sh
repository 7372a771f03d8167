#!/bin/sh
# The restorer is copied out of ckpt-restart and run where nothing else
# exists: it must not reference another section or an undefined symbol.
obj=$1
undef=$(nm -u "$obj")
if [ -n "$undef" ]; then
	echo "restorer: $obj references outside code: $undef" >&2
	exit 1
fi
bad=$(readelf -SW "$obj" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 ~ /^\.(text|data|bss|rodata)/ && $5 != "000000" {print $1}')
if [ -n "$bad" ]; then
	echo "restorer: $obj has contents outside section ckpt_restorer: $bad" >&2
	exit 1
fi
if readelf -rW "$obj" | grep -v ckpt_restorer | grep -q 'R_X86_64'; then
	echo "restorer: $obj has relocations to other sections:" >&2
	readelf -rW "$obj" | grep R_X86_64 | grep -v ckpt_restorer >&2
	exit 1
fi
