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
	checkpatch help

all: module lib tools selftests

# Installs missing Debian packages when run as root, else names them.
deps:
	@tools/deps.sh

module: deps
	$(MAKE) -C $(kdir) M=$(CURDIR) KCFLAGS=-Werror modules

lib: deps
	$(MAKE) -C lib

tools: deps tools/demo

tools/demo: tools/demo.c uapi/linux/shmchan.h | deps
	$(CC) $(CFLAGS) $(TOOL_CFLAGS) -o $@ $<

selftests: deps
	$(MAKE) -C selftests/shmchan

# The test command: the kselftest suite in the VM, TAP, then a summary line.
check: all
	tools/vm/check $(TESTS)

# A command in the VM (from the repository root), or a shell without CMD.
run: module
	tools/vm/run "$$CMD"

demo: module tools/demo
	tools/vm/run tools/demo

# C=2 runs sparse on every source file, not only on those being rebuilt;
# CF=-Wsparse-error turns its warnings into errors.
sparse: deps
	$(MAKE) -C $(kdir) M=$(CURDIR) C=2 CF=-Wsparse-error modules

checkpatch: $(CHECKPATCH_DIR)/checkpatch.pl
	perl $< --no-tree --strict -f kmod/*.c kmod/*.h uapi/linux/*.h

# checkpatch.pl finds spelling.txt and const_structs.checkpatch beside it.
$(CHECKPATCH_DIR)/checkpatch.pl: | deps
	@echo "  EXTRACT checkpatch.pl from $(LINUX_SOURCE)"
	@mkdir -p $(CHECKPATCH_DIR)
	@tar -xJf $(LINUX_SOURCE) -C $(CHECKPATCH_DIR) --strip-components=2 \
		$(addprefix $(basename $(basename $(notdir $(LINUX_SOURCE))))/scripts/, \
			checkpatch.pl spelling.txt const_structs.checkpatch)
	@touch $@

clean:
	$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C lib clean
	$(MAKE) -C selftests/shmchan clean
	rm -f tools/demo
	rm -rf build

help:
	@echo "make              module (kmod/shmchan.ko), lib, tools and selftests"
	@echo "make check        run the kselftest suite in the VM (TESTS=\"abi ...\" for some)"
	@echo "make run CMD=...  run a command in the VM with the module loaded;"
	@echo "                  without CMD: a shell in the VM"
	@echo "make demo         two processes share a channel, in the VM"
	@echo "make deps         install the Debian packages needed (as root)"
	@echo "make sparse       check the module with sparse"
	@echo "make checkpatch   check kmod/ and uapi/ with checkpatch.pl --strict"
	@echo "make clean        remove everything built"
	@echo "Variables: KDIR VM_KERNEL VM_MEM VM_ACCEL VM_TIMEOUT (see README.md)"
