#!/bin/sh
# embed.sh SYMBOL INPUT: writes C source defining SYMBOL_text[] (the bytes of
# INPUT plus a NUL) and SYMBOL_len on stdout. od is POSIX; xxd is not
# always installed.
set -eu
sym=$1
in=$2
echo "/* generated from $in by build-aux/embed.sh: do not edit */"
echo "#include <stddef.h>"
echo "const char ${sym}_text[] = {"
od -An -v -tx1 "$in" | sed -e 's/  */ /g' -e 's/^ //' -e '/^$/d' -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00 };"
echo "const size_t ${sym}_len = sizeof(${sym}_text) - 1;"
