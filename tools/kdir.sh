#!/bin/bash
# Print the kernel build directory to build shmchan.ko against.
#
# The running kernel's own build tree is used when it exists. Otherwise
# (a container or sandbox whose kernel has no headers installed) take the
# kernel Debian's linux-headers-amd64 metapackage points at, else the
# newest installed headers whose kernel image is in /boot, so that
# tools/vm/run can boot exactly the kernel the module was built for.
# Other installed kernels (e.g. 6.12 for the extra CI lane) are chosen
# with KDIR= explicitly.
set -euo pipefail

running=/lib/modules/$(uname -r)/build
if [[ -d $running ]]; then
	echo "$running"
	exit 0
fi

# "linux-headers-6.1.0-56-amd64 (= 6.1.158-1)" -> 6.1.0-56-amd64
meta=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
if [[ -n $meta && -d /lib/modules/$meta/build && -f /boot/vmlinuz-$meta ]]; then
	echo "/lib/modules/$meta/build"
	exit 0
fi

for kver in $(ls /lib/modules 2>/dev/null | sort -rV); do
	if [[ -d /lib/modules/$kver/build && -f /boot/vmlinuz-$kver ]]; then
		echo "/lib/modules/$kver/build"
		exit 0
	fi
done

echo "tools/kdir.sh: no kernel build directory found: neither" \
	"$running nor /lib/modules/*/build with a matching /boot/vmlinuz-*;" \
	"run 'make deps' or set KDIR=" >&2
exit 1
