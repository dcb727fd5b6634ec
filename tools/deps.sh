#!/bin/bash
# Make sure the Debian packages shmchan needs are installed.
#
# As root, missing packages are installed with apt-get (one line of notice,
# then apt's own output). Otherwise the missing packages and the command
# that installs them are printed, and the exit status is 1.
#
# Set INITRD=No to skip building a host initramfs for linux-image-amd64
# (the kernel is only booted in QEMU with tools/vm's own initramfs); only do
# that on a throwaway machine, as .ci/run does, since the host then cannot
# boot that kernel.
set -euo pipefail

packages=(
	make gcc libc6-dev gcc-multilib     # module, library, tools, 32-bit selftests
	linux-headers-amd64                 # KDIR for the module
	linux-image-amd64 kmod              # the kernel the VM boots, its modules
	qemu-system-x86 busybox-static cpio xz-utils  # the VM and its initramfs
	linux-source-6.1                    # kselftest_harness.h, checkpatch.pl
	libkmod-dev                         # shmchan(1) load/unload, selftests that unload
	dkms python3                        # make dkms-check; shmchan(1) tests (JSON)
	sparse perl shellcheck              # make lint
	flex bison bc libelf-dev libssl-dev # make check-debug: the debug kernel
	linux-image-6.12.107+deb12-amd64-unsigned  # CI's second kernel lane:
	linux-headers-6.12.107+deb12-amd64         #   make check KDIR=<its build>
	gnuplot-nox                         # make bench: plots
	g++ libboost-dev libzmq3-dev libnng-dev  # make bench: the peers (Boost.Interprocess, ZeroMQ, nng)
	debhelper dh-dkms pkgconf lintian   # make deb (debian/control)
	debootstrap                         # make deb-check: its Debian 12 root
	libevent-dev                        # lib/examples/evloop: a queue in an event loop
)

if ! command -v dpkg-query >/dev/null; then
	echo "deps: not a Debian system (no dpkg-query); install the equivalents" \
		"of: ${packages[*]}" >&2
	exit 1
fi

# dpkg-query lists the packages it knows (and fails when one is unknown).
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${packages[@]}" \
	2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
missing=()
for pkg in "${packages[@]}"; do
	grep -qx "$pkg" <<<"$installed" || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
