#!/bin/bash
# Usage: tools/dkms-check.sh [KVER...]
#
# `dkms add` and `dkms build -k KVER` of shmchan for each KVER given, or
# for every kernel in /lib/modules that has headers (a build/ directory),
# never assuming the running kernel. The sources are laid out as
# `make dkms-src` does; dkms works in a scratch tree (build/dkms), so the
# system's /usr/src and /var/lib/dkms are left alone.
#
# Exit status: 0 if every build succeeded, 1 if one failed or none was
# possible (no dkms, no kernel headers), 2 on bad usage.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO
readonly SCRATCH=$REPO/build/dkms

msg() { echo "dkms-check: $*" >&2; }

kernels() {
	local dir
	if (($# > 0)); then
		printf '%s\n' "$@"
		return
	fi
	for dir in /lib/modules/*/build; do
		[[ -d $dir ]] && basename "$(dirname "$dir")"
	done
}

main() {
	local version kver status=0 n=0 log
	local -a dkms_args

	[[ ${1:-} == -* ]] && { echo "usage: $0 [KVER...]" >&2; exit 2; }
	command -v dkms >/dev/null || {
		msg "dkms not found: install the Debian package dkms"
		exit 1
	}
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
	[[ -n $version ]] || { msg "no PACKAGE_VERSION in dkms.conf"; exit 1; }

	rm -rf "$SCRATCH"
	mkdir -p "$SCRATCH/tree" "$SCRATCH/install"
	make -s -C "$REPO" dkms-src DESTDIR="$SCRATCH/root" >/dev/null
	dkms_args=(-m shmchan -v "$version"
		--sourcetree "$SCRATCH/root/usr/src" --dkmstree "$SCRATCH/tree"
		--installtree "$SCRATCH/install")
	dkms add "${dkms_args[@]}"

	for kver in $(kernels "$@"); do
		n=$((n + 1))
		log=$SCRATCH/tree/shmchan/$version/build/make.log
		if [[ ! -d /lib/modules/$kver/build ]]; then
			msg "$kver: no headers in /lib/modules/$kver/build"
			status=1
			continue
		fi
		if dkms build "${dkms_args[@]}" -k "$kver"; then
			msg "$kver: ok ($(find "$SCRATCH/tree/shmchan/$version/$kver" -name 'shmchan.ko*' | head -n 1))"
		else
			msg "$kver: dkms build failed"
			[[ -r $log ]] && tail -n 30 "$log" >&2
			status=1
		fi
	done
	((n > 0)) || { msg "no kernel with headers in /lib/modules"; exit 1; }
	return "$status"
}

main "$@"
