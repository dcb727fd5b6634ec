#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# check-man.sh PAGE...
#
# Every page renders without a groff warning and names itself in its .TH;
# every .so alias points at a page that exists beside it. Rendering of the
# aliases themselves is checked after installing (check-install.sh).
set -eu

# Name the Debian package of a missing tool rather than fail obscurely.
for need in groff:groff-base man:man-db; do
	command -v "${need%%:*}" >/dev/null 2>&1 || {
		echo "$(basename "$0"): needs ${need%%:*} (Debian package ${need#*:})"
		exit 1
	}
done

fail=0
for page in "$@"; do
	base=$(basename "$page")
	first=$(head -n 1 "$page")
	case $first in
	.so\ *)
		target=$(dirname "$page")/$(basename "${first#.so }")
		if [ ! -f "$target" ]; then
			echo "check-man: $page: $first: no such page"
			fail=1
		fi
		continue
		;;
	esac

	name=${base%.*} sect=${base##*.}
	th=$(grep -m 1 '^\.TH ' "$page" | awk '{ print $2, $3 }')
	want=$(printf '%s %s' "$name" "$sect" | tr '[:lower:]' '[:upper:]')
	if [ "$th" != "$want" ]; then
		echo "check-man: $page: .TH says \"$th\", want \"$want\""
		fail=1
	fi

	warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1 || true)
	if [ -n "$warnings" ]; then
		echo "check-man: $page:"
		echo "$warnings"
		fail=1
	fi
	if ! man -l "$page" 2>/dev/null | grep -q '^NAME'; then
		echo "check-man: $page: man -l shows no NAME section"
		fail=1
	fi
done

if [ "$fail" = 0 ]; then
	echo "check-man: $# pages: ok"
fi
exit "$fail"
