#!/bin/sh
# libckpt.so must not import the libc functions it calls while it
# checkpoints or restores a process: an application that interposes them
# (AddressSanitizer's memcpy, ThreadSanitizer's write) would run inside
# libckpt's signal handler (libckpt/ckpt_libc.c has libckpt's own).
lib=$1
list="memcpy memmove memset memcmp memchr strlen strchr strcmp strncmp strstr
read write pread pread64 writev lseek lseek64 fstat fstat64 stat stat64 readlink
rename unlink fsync mmap mmap64 munmap mprotect waitid uname clock_gettime
prlimit prlimit64 prctl _exit sigemptyset sigfillset sigaddset sigdelset sigismember
__memcpy_chk __memset_chk __memmove_chk __read_chk __pread_chk __readlink_chk"
undef=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//')
bad=""
for f in $list; do
	echo "$undef" | grep -qx "$f" && bad="$bad $f"
done
if [ -n "$bad" ]; then
	echo "libckpt: $lib imports libc functions an application may interpose:$bad" >&2
	echo "libckpt: use (or add) the private copy in libckpt/ckpt_libc.c" >&2
	exit 1
fi
