# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2030,SC2031 # TMP is per test, set in its subshell
#
# TAP helpers for the shmchan(1) tests. Each program sources this, calls
# plan N, then tcase NAME FUNCTION for each test; FUNCTION runs in a
# subshell and passes by returning 0. Inside, `run CMD...` runs a command
# and keeps its stdout in $OUT, its stderr in $ERR and its status in $RC,
# and the expect_* helpers check them, printing a diagnostic and returning
# 1 when they fail.
#
# The programs run as root with shmchan.ko loaded (tools/vm/check, or a
# host where it is loaded), from this directory. SHMCHAN names the command
# (default: tools/shmchan of this tree); SHMCHAN_KO the module that the
# kmod tests load back.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
S=${SHMCHAN:-$TOP/tools/shmchan}
NOBODY=65534
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmchan-tool.XXXXXX")
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

tap_n=0
tap_failed=0

plan() {
	echo "TAP version 13"
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

fail() {
	diag "$*"
	return 1
}

# Remove every channel (root sees and may remove them all), if there is
# one: starting a command costs much under emulation.
cleanup() {
	[[ -r /proc/shmchan ]] && (($(wc -l </proc/shmchan) > 1)) || return 0
	"$S" rm --all >/dev/null 2>&1 || true
}

# tcase NAME FUNCTION [ARGS...]
tcase() {
	local name=$1
	shift
	local start=$SECONDS
	tap_n=$((tap_n + 1))
	cleanup
	# Each test in a subshell, with a scratch directory of its own.
	if (TMP=$TMP/$tap_n && mkdir "$TMP" && chmod 755 "$TMP" && "$@"); then
		echo "ok $tap_n $name # $((SECONDS - start)) s"
	else
		echo "not ok $tap_n $name # $((SECONDS - start)) s"
		tap_failed=1
	fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $1 # SKIP $2"
}

done_testing() {
	cleanup
	exit "$tap_failed"
}

run() {
	OUT=$("$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(<"$TMP/stderr")
}

# The same as user and group nobody, with no supplementary groups.
as_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$@"
}

shown() {
	printf 'status %s\n--- stdout:\n%s\n--- stderr:\n%s' "$RC" "$OUT" "$ERR"
}

expect_rc() {
	[[ $RC == "$1" ]] || fail "$(printf 'want exit status %s, got:\n' "$1")$(shown)"
}

# expect_err TEXT: stderr holds TEXT, with the "shmchan: " prefix.
expect_err() {
	[[ $ERR == *"$1"* ]] || { fail "$(printf 'want on stderr: %s\n' "$1")$(shown)"; return; }
	[[ $ERR == shmchan:* ]] || fail "stderr lacks the 'shmchan: ' prefix: $ERR"
}

expect_out() {
	[[ $OUT == *"$1"* ]] || fail "$(printf 'want on stdout: %s\n' "$1")$(shown)"
}

expect_no_out() {
	[[ $OUT != *"$1"* ]] || fail "$(printf 'do not want on stdout: %s\n' "$1")$(shown)"
}

expect_quiet() {
	[[ -z $OUT && -z $ERR ]] || fail "$(printf 'want no output:\n')$(shown)"
}

# A usage error: status 2, the message, and the pointer to --help.
expect_usage() {
	expect_rc 2 && expect_err "$1" && expect_err "--help"
}

# json_get EXPR: evaluate a Python expression on the JSON in $OUT (as j).
# Python starts slowly under emulation: one call per test.
json_get() {
	python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' \
		"$1" <<<"$OUT"
}

# wait_for CMD...: until CMD succeeds, for at most 60 s.
wait_for() {
	local end=$((SECONDS + 60))
	until "$@"; do
		((SECONDS < end)) || { fail "timed out waiting for: $*"; return; }
		sleep 0.1
	done
}

# waiters NAME: the number of tasks waiting in channel NAME (read from
# /proc/shmchan directly: cheaper than a command under emulation; columns
# found by the header's names, the name last).
waiters() {
	awk -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$NF == name && $col["state"] !~ /D/ { print $col["nwaiters"] }' \
		/proc/shmchan
}

has_waiters() {
	[[ $(waiters "$1") == "$2" ]]
}

# blocked_writing_pipe PID: the process sleeps in a write to a full pipe
# or fifo (its /proc wchan).
blocked_writing_pipe() {
	[[ $(cat "/proc/$1/wchan" 2>/dev/null) == pipe_write ]]
}
