#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# check-syms.sh SO MAP STATIC
#
# The shared library must export exactly the names listed in the version
# map, each with the map's version tag, and those must be exactly the
# functions the public header declares. The static library must define no
# global symbol outside the shmchan_ namespace.
set -eu

so=$1 map=$2 static=$3
header=$(dirname "$0")/../include/shmchan.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# Names and version node from the map (comments removed).
sed -e 's|/\*.*\*/||' -e '/\/\*/,/\*\//d' "$map" > "$tmp/map"
node=$(sed -n 's/^[[:space:]]*\([A-Z0-9_]*\)[[:space:]]*{.*/\1/p' "$tmp/map")
sed -n '/global:/,/local:/p' "$tmp/map" | tr -d ' \t;' |
	grep -v -e '^global:' -e '^local:' -e '^$' | sort > "$tmp/want"

# What the .so exports: everything defined but the version node itself.
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort > "$tmp/got"
sed "s/\$/@@$node/" "$tmp/want" > "$tmp/want-tagged"
if ! diff -u "$tmp/want-tagged" "$tmp/got"; then
	echo "check-syms: $so does not export exactly $map (version $node)"
	fail=1
fi

# Functions the public header declares (its static inlines excepted).
grep -v '^static' "$header" | grep -oE '^[a-z].*[ *](shmchan_[a-z_]+)\(' |
	sed -E 's/.*[ *](shmchan_[a-z_]+)\($/\1/' | sort > "$tmp/header"
if ! diff -u "$tmp/header" "$tmp/want"; then
	echo "check-syms: $header and $map disagree"
	fail=1
fi

# The static library: public names, and internal ones named shmchan__*.
# (i386 PIC code adds hidden __x86.get_pc_thunk.* helpers of its own.)
nm -g --defined-only "$static" | awk 'NF == 3 { print $3 }' |
	grep -v -e '^shmchan_' -e '^__x86\.get_pc_thunk\.' > "$tmp/stray" || true
if [ -s "$tmp/stray" ]; then
	echo "check-syms: $static defines symbols outside shmchan_*:"
	cat "$tmp/stray"
	fail=1
fi

if [ "$fail" = 0 ]; then
	echo "check-syms: $(wc -l < "$tmp/want") symbols, all @@$node: ok"
fi
exit "$fail"
