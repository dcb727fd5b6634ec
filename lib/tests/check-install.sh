#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Install into a scratch DESTDIR, then use only what was installed, the way
# a program outside this tree would: build against the installed header
# through pkg-config, link the shared and the static library, run, read the
# man pages (aliases too), and uninstall to nothing. Run from lib/.
set -eu

# Name the Debian package of a missing tool rather than fail obscurely.
for need in pkg-config:pkg-config man:man-db readelf:binutils; do
	command -v "${need%%:*}" >/dev/null 2>&1 || {
		echo "$(basename "$0"): needs ${need%%:*} (Debian package ${need#*:})"
		exit 1
	}
done

MAKE=${MAKE:-make}
root=$(pwd)/tests/install-root
prefix=/opt/shmchan-test
libdir=$prefix/lib64
fail=0

err() {
	echo "check-install: $*"
	fail=1
}

version=$("$(dirname "$0")/../../tools/version")
rm -rf "$root"
$MAKE -s install DESTDIR="$root" PREFIX="$prefix" LIBDIR="$libdir" >/dev/null

for f in include/shmchan.h include/linux/shmchan.h \
	 lib64/libshmchan.so.$version lib64/libshmchan.a \
	 lib64/pkgconfig/shmchan.pc share/man/man7/shmchan.7 \
	 share/man/man3/shmchan_create.3 share/man/man3/shmchan_unmap.3; do
	[ -f "$root$prefix/$f" ] || err "$f not installed"
done
[ "$(readlink "$root$libdir/libshmchan.so.1")" = "libshmchan.so.$version" ] ||
	err "libshmchan.so.1 is not a link to libshmchan.so.$version"
[ "$(readlink "$root$libdir/libshmchan.so")" = libshmchan.so.1 ] ||
	err "libshmchan.so is not a link to libshmchan.so.1"
readelf -d "$root$libdir/libshmchan.so.$version" |
	grep -q 'SONAME.*\[libshmchan\.so\.1\]' || err "wrong SONAME"

# pkg-config, with the scratch root standing in for /.
export PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
[ "$(pkg-config --variable=libdir shmchan)" = "$root$libdir" ] ||
	err "shmchan.pc: libdir is not $libdir"
[ "$(pkg-config --modversion shmchan)" = "$(../tools/version)" ] ||
	err "shmchan.pc: version is not the project's ($(../tools/version))"
read -ra cflags <<<"$(pkg-config --cflags shmchan)"
read -ra libs <<<"$(pkg-config --libs shmchan)"

# Programs built only against what was installed. Not with -I include:
# tests/check.h is found beside tests/smoke.c.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -Wall -Wextra -Werror -std=gnu11 "${cflags[@]}" -o "$tmp/smoke" \
	tests/smoke.c "${libs[@]}" || err "smoke.c does not build against the install"
${CC:-cc} -Wall -Wextra -Werror -std=gnu11 "${cflags[@]}" -o "$tmp/smoke-static" \
	tests/smoke.c "$root$libdir/libshmchan.a" ||
	err "smoke.c does not link with the installed libshmchan.a"
${CC:-cc} -Wall -Wextra -Werror -std=gnu11 "${cflags[@]}" -o "$tmp/example" \
	tests/man-example.c "${libs[@]}" ||
	err "the shmchan(7) example does not build against the install"
if [ -x "$tmp/smoke" ]; then
	LD_LIBRARY_PATH="$root$libdir" "$tmp/smoke" >/dev/null ||
		err "smoke against the installed library failed"
fi

# The man pages, aliases resolved through .so.
for page in shmchan shmchan_create shmchan_unmap shmchan_was_created; do
	MANWIDTH=80 man -M "$root$prefix/share/man" "$page" 2>/dev/null |
		grep -q '^NAME' || err "man $page does not render once installed"
done
MANWIDTH=80 man -M "$root$prefix/share/man" shmchan_unmap 2>/dev/null |
	grep -q 'shmchan_map_range' || err "man shmchan_unmap is not shmchan_map"

$MAKE -s uninstall DESTDIR="$root" PREFIX="$prefix" LIBDIR="$libdir" >/dev/null
left=$(find "$root" ! -type d)
[ -z "$left" ] || err "uninstall left: $left"
rm -rf "$root"
# Give lib/shmchan.pc back its default directories.
$MAKE -s shmchan.pc >/dev/null

[ "$fail" = 0 ] && echo "check-install: install, pkg-config, man, uninstall: ok"
exit "$fail"
