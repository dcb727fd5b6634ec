#!/bin/bash
# Guest side of tools/vm/run: runs inside the VM as root, chrooted into the
# host's root (mounted read-only), started by tools/vm/init with the
# variables of run.env exported:
#   VM_REPO     repository root (the command's working directory)
#   VM_OUT      results directory, writable, shared with the host
#   SHMCHAN_KO  absolute path of the module to load
#   VM_CMD      shell command to run; empty for an interactive shell
#   VM_TERM, VM_ROWS, VM_COLS   the user's terminal, for the shell
#
# Leaves in $VM_OUT, for tools/vm/run to read after the VM is gone:
#   status      the command's exit status (only once it has finished)
#   error       why the command could not be run, if it could not
#   dmesg.txt   the whole kernel log, taken after the command
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Written to the kernel log right before the module is loaded; the host's
# dmesg scan only looks at what follows it.
readonly MARKER="shmchan-vm: loading module"

error() {
	echo "vm: error: $*" >&2
	echo "$*" >"$VM_OUT/error"
	dmesg >"$VM_OUT/dmesg.txt"
	exit 1
}

load_module() {
	[[ -f $SHMCHAN_KO ]] || error "module $SHMCHAN_KO not found"
	echo "<5>$MARKER $SHMCHAN_KO" >/dev/kmsg
	insmod "$SHMCHAN_KO" || error "insmod $SHMCHAN_KO failed"
	[[ -c /dev/shmchan ]] || error "insmod succeeded but /dev/shmchan is missing"
}

# Run the command (or a shell) with the serial port as controlling terminal,
# so that Ctrl-C typed on the host interrupts it, in a clean environment.
run_command() {
	local -a env=(
		PATH="$PATH" HOME=/root LANG=C.UTF-8 TERM="${VM_TERM:-dumb}"
		TMPDIR=/tmp SHMCHAN_KO="$SHMCHAN_KO" SHMCHAN_OUT="$VM_OUT"
	)
	local -a cmd
	if [[ -n $VM_CMD ]]; then
		cmd=(bash -c "$VM_CMD")
	else
		stty -F /dev/ttyS0 rows "$VM_ROWS" cols "$VM_COLS"
		env+=("PS1=shmchan-vm:\\w# ")
		cmd=(bash --norc -i)
		echo "vm: interactive shell; 'exit' or Ctrl-D powers the VM off" \
			"(Ctrl-A x kills it)"
	fi
	cd "$VM_REPO" || error "cannot enter $VM_REPO"
	setsid --ctty --wait env -i "${env[@]}" "${cmd[@]}" \
		<>/dev/ttyS0 >&0 2>&0
}

load_module
read -r uptime _ </proc/uptime
echo "vm: module loaded, ${uptime}s after boot; running: ${VM_CMD:-bash}"
run_command
status=$?
# Let the serial port send what the command wrote before the VM reboots:
# setting the port's own settings again waits for its output to drain
# (tcsetattr TCSADRAIN); reboot -f alone could cut the last lines off.
stty -F /dev/ttyS0 "$(stty -F /dev/ttyS0 -g)" 2>/dev/null || true
dmesg >"$VM_OUT/dmesg.txt"
echo "$status" >"$VM_OUT/status"
