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

# Names and their version nodes from the map (comments removed): each
# name is exported with the tag of the node that lists it.
sed -e 's|/\*.*\*/||' -e '/\/\*/,/\*\//d' "$map" > "$tmp/map"
awk '/^[[:space:]]*[A-Z0-9_.]+[[:space:]]*{/ { node = $1; sub(/{.*/, "", node); glob = 0; next }
     /global:/ { glob = 1; next }
     /local:|}/ { glob = 0; next }
     glob { gsub(/[ \t;]/, ""); if ($0 != "") print $0 "@@" node }' \
	"$tmp/map" | sort > "$tmp/want-tagged"
sed 's/@@.*//' "$tmp/want-tagged" | sort > "$tmp/want"

# What the .so exports: everything defined but the version nodes themselves.
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort > "$tmp/got"
if ! diff -u "$tmp/want-tagged" "$tmp/got"; then
	echo "check-syms: $so does not export exactly $map (with its version nodes)"
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
	echo "check-syms: $(wc -l < "$tmp/want") symbols, each with its version node: ok"
fi
exit "$fail"
