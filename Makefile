# SPDX-License-Identifier: GPL-2.0
#
# shmchan: user-facing targets. `make help` lists them.
#
# The module is built by Kbuild (see Kbuild and kmod/Kbuild); lib/ and
# selftests/shmchan/ have their own Makefiles. Everything that needs the
# module loaded runs in QEMU through tools/vm/run, which reads KDIR,
# VM_KERNEL, KVER, VM_MEM, VM_ACCEL and VM_TIMEOUT from the environment.

# Kernel build directory. Evaluated on first use only (after `deps` has
# had a chance to install the headers), then kept; $(kdir) stops make with
# a message when there is none.
ifdef KVER
# `make install KVER=...` builds for, and installs into, that kernel.
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIR ?= $(eval KDIR := $(shell tools/kdir.sh))$(KDIR)
kdir = $(or $(KDIR),$(error no kernel build directory: run 'make deps' or set KDIR=))

# `make run CMD='...'` hands CMD to tools/vm/run through the environment,
# so that no shell on the host parses it.
export CMD

CC ?= cc
CFLAGS ?= -O2 -g
TOOL_CFLAGS := -Wall -Wextra -Werror -std=gnu11 -Iuapi

CHECKPATCH_DIR := build/checkpatch
LINUX_SOURCE ?= /usr/src/linux-source-6.1.tar.xz

# Named by `make check TESTS="abi wait"` to run only these selftests.
TESTS ?=

.PHONY: all deps module lib tools selftests check run demo clean sparse \
	checkpatch help install uninstall dkms-src dkms-check bench bench-quick \
	stress check-debug fuzz lint shellcheck dmesg-scan-test errno-cov \
	errno-cov-report

all: module lib tools selftests errno-cov

# Installs missing Debian packages when run as root, else names them.
deps:
	@tools/deps.sh

module: deps
	$(MAKE) -C $(kdir) M=$(CURDIR) KCFLAGS=-Werror modules

lib: deps
	$(MAKE) -C lib
	$(MAKE) -C lib vm-tests

# The benchmark is built with everything (so that a broken mechanism file
# fails the build), run only by `make bench`.
tools: deps tools/demo tools/shmchan tools/bench

.PHONY: tools/bench
tools/bench: lib
	$(MAKE) -C tools/bench

# shmchan(1), by tools/cli/Makefile, once the library it links is built.
tools/shmchan: lib
	$(MAKE) -C tools/cli

tools/demo: tools/demo.c uapi/linux/shmchan.h lib | deps
	$(CC) $(CFLAGS) $(TOOL_CFLAGS) -Ilib/include -o $@ $< lib/libshmchan.a

# Both kselftest suites, and their 32-bit builds (they go through
# compat_ioctl).
selftests: deps
	$(MAKE) -C selftests/shmchan
	$(MAKE) -C selftests/shmchan M32=1
	$(MAKE) -C selftests/shmchan-hard
	$(MAKE) -C selftests/shmchan-hard M32=1

# The test command: the kselftest suite in the VM, TAP, then a summary line.
check: all
	tools/vm/check $(TESTS)

# The errno coverage check's recorder, preloaded by tools/vm/check into
# every test program (tools/errno-cov/README).
errno-cov: deps
	$(MAKE) -C tools/errno-cov

# Its table again, from the log of the last `make check` (or ERRNO_LOG=...).
errno-cov-report:
	tools/errno-cov/report $(or $(ERRNO_LOG),build/errno-cov/last.log)

# The same on the debug kernel (KASAN, lockdep, kmemleak, fault injection;
# built from linux-source-6.1 once per machine, tools/debug-kernel/), with
# the suites' slow tests scaled down; TESTS as for check.
check-debug: selftests
	tools/debug-kernel/vm tools/vm/check $(TESTS)

# The fuzzer alone, for longer: make fuzz [SECONDS=20] [SEED=n] [PROCS=4],
# on the debug kernel with KERNEL=debug. A failing run prints its seed.
FUZZ_SECONDS = $(or $(SECONDS),20)
fuzz: selftests $(if $(filter debug,$(KERNEL)),,module)
	VM_TIMEOUT=$$(($(FUZZ_SECONDS) + 900)) \
	$(if $(filter debug,$(KERNEL)),tools/debug-kernel/vm) tools/vm/run \
		selftests/shmchan-hard/fuzz -t $(FUZZ_SECONDS) \
		$(if $(SEED),-s $(SEED)) $(if $(PROCS),-p $(PROCS))

# The library's queue at full size in the VM: 10^7 messages from 4 producers
# to 4 consumers, and 1 GiB messages through 64 KiB (make check runs 10^5).
stress: module lib
	VM_TIMEOUT=$${VM_TIMEOUT:-3600} tools/vm/run \
		env QUEUE_STRESS=1 TAP_TIMEOUT_SCALE=20 \
		lib/tests/queue mpmc_4x4 one_gib_through_64k random_sizes

# A command in the VM (from the repository root), or a shell without CMD.
run: module
	tools/vm/run "$$CMD"

demo: module tools/demo
	tools/vm/run tools/demo

# Benchmarks (tools/bench/): in the VM, then CSV, tables and plots in
# build/bench/full or build/bench/quick. Not part of `make check`; the
# figures never fail the build.
bench bench-quick: module lib
	$(MAKE) -C tools/bench
	tools/bench/run $(if $(filter bench-quick,$@),--quick) $(BENCH_ARGS)

# C=2 runs sparse on every source file, not only on those being rebuilt;
# CF=-Wsparse-error turns its warnings into errors.
sparse: deps
	$(MAKE) -C $(kdir) M=$(CURDIR) C=2 CF=-Wsparse-error modules

# compat.h exists to compare kernel versions, and a uapi header cannot use
# the kernel's BIT(): those two checks are off for those files only.
CHECKPATCH = perl $(CHECKPATCH_DIR)/checkpatch.pl --no-tree --strict
checkpatch: $(CHECKPATCH_DIR)/checkpatch.pl
	$(CHECKPATCH) -f $(filter-out kmod/compat.h %.mod.c,$(wildcard kmod/*.[ch]))
	$(CHECKPATCH) --ignore LINUX_VERSION_CODE -f kmod/compat.h
	$(CHECKPATCH) --ignore BIT_MACRO -f uapi/linux/*.h

# Every shell script in git (found by its #! line), sourced files followed.
shellcheck: | deps
	git ls-files -z | xargs -0 grep -lE '^#! ?/bin/(ba)?sh' | \
		xargs shellcheck -x --source-path=SCRIPTDIR

# All of the static checks; `make` itself builds userspace with -Werror.
lint: checkpatch sparse shellcheck dmesg-scan-test

# The VM's kernel-log scanner against sample logs (host only, no VM).
dmesg-scan-test:
	tools/vm/dmesg-scan-test

# checkpatch.pl finds spelling.txt and const_structs.checkpatch beside it.
$(CHECKPATCH_DIR)/checkpatch.pl: | deps
	@echo "  EXTRACT checkpatch.pl from $(LINUX_SOURCE)"
	@mkdir -p $(CHECKPATCH_DIR)
	@tar -xJf $(LINUX_SOURCE) -C $(CHECKPATCH_DIR) --strip-components=2 \
		$(addprefix $(basename $(basename $(notdir $(LINUX_SOURCE))))/scripts/, \
			checkpatch.pl spelling.txt const_structs.checkpatch)
	@touch $@

# `make install` (PREFIX, DESTDIR; the kernel is KDIR's, or KVER's): the
# module into /lib/modules/$(KVER)/updates then depmod, the library, the
# shmchan command, man pages and the udev rule. `make uninstall` undoes it.
KVER ?= $(eval KVER := $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(kdir)/include/generated/utsrelease.h))$(KVER)
INSTALL_ROOT = $(if $(DESTDIR),$(abspath $(DESTDIR)))
KMOD_DIR = $(INSTALL_ROOT)/lib/modules/$(KVER)
MODULE_DIR = $(KMOD_DIR)/updates
SUB_INSTALL = $(if $(DESTDIR),DESTDIR=$(abspath $(DESTDIR)))

install: module lib tools
	@test -n "$(KVER)" || { echo "install: no kernel version: set KVER=" >&2; exit 1; }
	install -d $(MODULE_DIR)
	install -m 644 kmod/shmchan.ko $(MODULE_DIR)/shmchan.ko
	$(if $(DESTDIR),@echo "install: $(DESTDIR) holds no index files of the kernel (modules.order," \
		"modules.builtin): depmod's warnings about them are harmless")
	depmod -b $(or $(INSTALL_ROOT),/) $(KVER)
	$(MAKE) -C lib install $(SUB_INSTALL)
	$(MAKE) -C tools/cli install $(SUB_INSTALL)

# In a DESTDIR root that has no module left, depmod's index goes too.
uninstall:
	@test -n "$(KVER)" || { echo "uninstall: no kernel version: set KVER=" >&2; exit 1; }
	rm -f $(MODULE_DIR)/shmchan.ko
	-rmdir $(MODULE_DIR) 2>/dev/null
	@if [ -n "$(DESTDIR)" ] && [ -z "$$(find $(KMOD_DIR) -name '*.ko*' 2>/dev/null)" ]; then \
		echo "rm -f $(KMOD_DIR)/modules.*"; rm -f $(KMOD_DIR)/modules.*; \
		rmdir $(KMOD_DIR) $(INSTALL_ROOT)/lib/modules 2>/dev/null || true; \
	elif [ -d $(KMOD_DIR) ]; then \
		echo "depmod -b $(or $(INSTALL_ROOT),/) $(KVER)"; \
		depmod -b $(or $(INSTALL_ROOT),/) $(KVER); \
	fi
	$(MAKE) -C lib uninstall $(SUB_INSTALL)
	$(MAKE) -C tools/cli uninstall $(SUB_INSTALL)

# DKMS: `make dkms-src` puts the module's sources in /usr/src/shmchan-VERSION
# for `dkms add shmchan/VERSION`; `make dkms-check` runs dkms add and build
# for every installed kernel with headers, in a scratch dkms tree.
DKMS_VERSION = $(shell tools/version)
DKMS_SRC = $(INSTALL_ROOT)/usr/src/shmchan-$(DKMS_VERSION)

dkms-src:
	install -d $(DKMS_SRC)/kmod $(DKMS_SRC)/uapi/linux
	install -m 644 dkms.conf Kbuild $(DKMS_SRC)/
	install -m 644 kmod/Kbuild kmod/*.c kmod/*.h $(DKMS_SRC)/kmod/
	install -m 644 uapi/linux/shmchan.h $(DKMS_SRC)/uapi/linux/

dkms-check:
	tools/dkms-check.sh

# Debian packages (debian/; tools/deb/): `make deb` builds shmchan-dkms,
# libshmchan1, libshmchan-dev and shmchan into build/deb (DEB_OUT=...) and
# runs lintian on them; `make deb-check` installs them with apt in a fresh
# Debian 12 root (debootstrap, cached in /var/cache/shmchan), boots that
# root's kernel in QEMU, loads the DKMS-built module with modprobe, uses it
# as an ordinary user, then purges the packages and checks that no file is
# left behind. deb-check needs root.
.PHONY: deb deb-check version-check
deb:
	tools/deb/build

deb-check: deb
	tools/deb/check

# The version (PACKAGE_VERSION of dkms.conf) is the same in the man pages
# and debian/changelog; part of make lint.
version-check:
	tools/version --check
lint: version-check

clean:
	$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C lib clean
	$(MAKE) -C selftests/shmchan clean
	$(MAKE) -C selftests/shmchan-hard clean
	rm -f tools/demo
	$(MAKE) -C tools/cli clean
	$(MAKE) -C tools/bench clean
	rm -rf build

help:
	@echo "make              module (kmod/shmchan.ko), lib, tools and selftests"
	@echo "make check        run the kselftest suites in the VM (TESTS=\"abi ...\" for some)"
	@echo "make errno-cov-report  the errno coverage table of the last make check"
	@echo "make check-debug  the same on a debug kernel (KASAN, lockdep, kmemleak, fault"
	@echo "                  injection), built once per machine (about 15 min)"
	@echo "make fuzz         the fuzzer (SECONDS=20 SEED=n PROCS=4 KERNEL=debug)"
	@echo "make run CMD=...  run a command in the VM with the module loaded;"
	@echo "                  without CMD: a shell in the VM"
	@echo "make demo         two processes share a channel, in the VM"
	@echo "make bench        the benchmark in the VM (under 10 min; bench-quick: 3 min)"
	@echo "make stress       the library's queue at full size in the VM (10^7 messages, 1 GiB)"
	@echo "make deps         install the Debian packages needed (as root)"
	@echo "make sparse       check the module with sparse"
	@echo "make checkpatch   check kmod/ and uapi/ with checkpatch.pl --strict"
	@echo "make lint         checkpatch, sparse, shellcheck, the dmesg scanner's test"
	@echo "make clean        remove everything built"
	@echo "make install      module, library, shmchan command, man pages, udev rule"
	@echo "                  (PREFIX, DESTDIR, KVER); make uninstall undoes it"
	@echo "make dkms-check   dkms build for every installed kernel with headers"
	@echo "make deb          the Debian packages, into build/deb (lintian-checked)"
	@echo "make deb-check    install them in a fresh Debian 12 root, test in QEMU, purge"
	@echo "Variables: KDIR VM_KERNEL VM_MEM VM_ACCEL VM_TIMEOUT (see README.md)"
