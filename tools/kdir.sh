#!/bin/bash
# Print the kernel build directory to build shmchan.ko against, in this
# order of preference:
#
#  1. the running kernel's own build tree, if it exists;
#  2. the headers of Debian's default kernel, the one the metapackage
#     linux-headers-amd64 depends on (what `make deps` installs), so that
#     every machine with the same packages picks the same kernel even when
#     others are installed beside it;
#  3. the newest /lib/modules/*/build.
#
# In cases 2 and 3 the kernel image must be in /boot too: tools/vm/run
# boots exactly the kernel the module was built for.
set -euo pipefail

running=/lib/modules/$(uname -r)/build
if [[ -d $running ]]; then
	echo "$running"
	exit 0
fi

usable() {
	[[ -d /lib/modules/$1/build && -f /boot/vmlinuz-$1 ]]
}

# "linux-headers-6.1.0-56-amd64 (= 6.1.192-2)" -> "6.1.0-56-amd64"
default=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p' || true)
if [[ -n $default ]] && usable "$default"; then
	echo "/lib/modules/$default/build"
	exit 0
fi

for dir in $(printf '%s\n' /lib/modules/*/ | sort -rV); do
	kver=$(basename "$dir")
	if usable "$kver"; then
		echo "/lib/modules/$kver/build"
		exit 0
	fi
done

echo "tools/kdir.sh: no kernel build directory found: neither" \
	"$running nor /lib/modules/*/build with a matching /boot/vmlinuz-*;" \
	"run 'make deps' or set KDIR=" >&2
exit 1
