#!/bin/bash
# Usage (in the VM, see tools/vm/check): tools/vm/selftests.sh [COLLECTION:]PROGRAM...
#
# Runs kselftest programs in the given order, each from its directory
# selftests/COLLECTION (COLLECTION as kselftest's emit_tests names it:
# shmchan, shmchan-hard, or shmchan/m32 for the 32-bit build; shmchan if
# left out; "lib" is lib/tests, "kunit" tools/debug-kernel/kunit), under the per-program timeout of that
# directory's settings file, or its parent's (timeout=N, kselftest's
# format; 45 s without one).
# Prints TAP the way kselftest's runner does: each program's own TAP output
# prefixed with "# ", then one top-level result line per program. The same
# text goes to $SHMCHAN_OUT/selftests.tap.
#
# A program that times out, dies of a signal, reports fewer tests than its
# plan, or fails without reporting a failed test, gets one more test line
# of its own: "# not ok N PROGRAM # why". So counting the "# ok" and
# "# not ok" lines counts every failure (tools/vm/check does that).
#
# Exit status: 0 if every program passed or was skipped, else 1.
set -uo pipefail

readonly TAP=$SHMCHAN_OUT/selftests.tap

emit() {
	echo "$*" | tee -a "$TAP"
}

# The directory of collection $1's programs: selftests/$1, but the
# library's (queue, sync, heap, pool) live beside it, in lib/tests, and
# the KUnit runner of the debug kernel in tools/debug-kernel/kunit.
dir_of() {
	case $1 in
	lib) echo lib/tests ;;
	kunit) echo tools/debug-kernel/kunit ;;
	*) echo "selftests/$1" ;;
	esac
}

# The timeout of the programs in directory $1.
timeout_of() {
	local dir=$1 t settings=$1/settings
	[[ -e $settings ]] || settings=$(dirname "$dir")/settings
	t=$(sed -n 's/^timeout=\([0-9]\+\)$/\1/p' "$settings" 2>/dev/null)
	echo "${t:-45}"
}

# Run one program ($1, COLLECTION:PROGRAM); print its TAP and its result
# line number $2.
run_one() {
	local coll=${1%%:*} prog=${1#*:} n=$2 limit raw rc start elapsed plan
	local results fails why="" dir
	dir=$(dir_of "$coll")
	limit=$(timeout_of "$dir")
	raw=$(mktemp)
	emit "# selftests: $coll: $prog"
	start=$SECONDS
	(cd "$dir" && timeout -k 5 "$limit" "./$prog" </dev/null 2>&1) |
		tee "$raw" | sed -u 's/^/# /' | tee -a "$TAP"
	rc=${PIPESTATUS[0]}
	elapsed=$((SECONDS - start))

	plan=$(sed -n 's/^1\.\.\([0-9]\+\).*/\1/p' "$raw" | head -n 1)
	results=$(grep -cE '^(not )?ok [0-9]+' "$raw")
	fails=$(grep -cE '^not ok [0-9]+' "$raw")
	rm -f "$raw"

	if ((rc == 124 || (rc == 137 && elapsed >= limit))); then
		why="TIMEOUT after $limit s"
	elif ((rc > 128)); then
		why="killed by signal $((rc - 128)) ($(kill -l $((rc - 128))))"
	elif ((rc == 4 && results == 0)); then
		emit "# ok 1 $prog # SKIP the whole program (exit status 4)"
		emit "ok $n selftests: $coll: $prog # SKIP"
		return 0
	elif [[ -n $plan ]] && ((results < plan)); then
		why="only $results of $plan planned tests reported (exit status $rc)"
	elif ((rc != 0 && fails == 0)); then
		why="exit status $rc but no failed test reported"
	fi

	if [[ -n $why ]]; then
		emit "# not ok $((results + 1)) $prog # $why"
		emit "not ok $n selftests: $coll: $prog # $why"
		return 1
	fi
	if ((rc != 0)); then
		emit "not ok $n selftests: $coll: $prog # exit=$rc"
		return 1
	fi
	emit "ok $n selftests: $coll: $prog # ${elapsed} s"
}

main() {
	local entry n=0 status=0
	(($# > 0)) || { echo "usage: $0 [COLLECTION:]PROGRAM..." >&2; exit 2; }
	: >"$TAP"
	emit "TAP version 13"
	# More top-level tests follow, from tools/vm/check: "dmesg clean",
	# and the errno coverage check if SHMCHAN_HOST_TESTS=2.
	emit "1..$(($# + ${SHMCHAN_HOST_TESTS:-1}))"
	for entry in "$@"; do
		[[ $entry == *:* ]] || entry=shmchan:$entry
		n=$((n + 1))
		if [[ ! -x $(dir_of "${entry%%:*}")/${entry#*:} ]]; then
			emit "# not ok 1 ${entry#*:} # $(dir_of "${entry%%:*}")/${entry#*:} was not built"
			emit "not ok $n selftests: ${entry/:/: } # not built"
			status=1
			continue
		fi
		run_one "$entry" "$n" || status=1
	done
	return "$status"
}

main "$@"
