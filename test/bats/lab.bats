#!/usr/bin/env bats
# The container-from-scratch lab, step by step, as the README walks it:
# a root filesystem, chroot and its escape, pivot_root in a mount
# namespace, overlayfs, then each namespace type, and cgroup limits. Each
# test checks what a learner should see at that step.

load helpers

bats_require_minimum_version 1.5.0

setup_file() { links; }
teardown_file() { unlinks; }

teardown() {
	for p in ${targets:-}; do kill -KILL "$p" 2>/dev/null || true; done
	[ -z "${cgdir:-}" ] || rmdir "$cgdir" 2>/dev/null || true
	[ -z "${labroot:-}" ] || rm -rf "$labroot"
}

# host_rootfs DIR PROGRAM...: a root filesystem made of host binaries and
# the shared libraries ldd says they need, as the walkthrough makes it.
host_rootfs() {
	local dir=$1 p lib
	shift
	mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp"
	for p in "$@"; do
		p=$(command -v "$p")
		cp "$p" "$dir/bin/"
		for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
			mkdir -p "$dir$(dirname "$lib")"
			cp -L "$lib" "$dir$lib"
		done
	done
}

# escape_program FILE: the classic chroot escape, built static. It makes a
# directory, chroots into it (leaving its working directory outside the
# new root), climbs with "..", chroots to where it ended up and says
# whether a path of the host's is visible.
escape_program() {
	gcc -static -o "$1" -x c - <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int i;
	if (argc < 2)
		return 2;
	mkdir("escape-dir", 0755);
	if (chroot("escape-dir") < 0) {
		perror("chroot");
		return 2;
	}
	for (i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0) {
		perror("chroot .");
		return 2;
	}
	puts(access(argv[1], F_OK) == 0 ? "escaped" : "inside");
	return 0;
}
EOF
}

@test "step 1: a root filesystem from busybox-static; chroot runs its shell" {
	requires root busybox
	make_rootfs "$BATS_TEST_TMPDIR/root"
	run chroot "$BATS_TEST_TMPDIR/root" /bin/sh -c 'ls /bin/busybox && cat /etc/passwd'
	[ "$status" = 0 ]
	[ "$output" = "/bin/busybox
root:x:0:0:root:/root:/bin/sh" ]
}

@test "step 1b: a root filesystem from host binaries and their shared libraries" {
	requires root
	root=$BATS_TEST_TMPDIR/root
	host_rootfs "$root" sh ls cat
	run chroot "$root" /bin/ls /bin
	[ "$status" = 0 ]
	[ "$output" = "cat
ls
sh" ]
	# Without its libraries a program does not even start.
	mkdir -p "$BATS_TEST_TMPDIR/bare/bin"
	cp "$(command -v ls)" "$BATS_TEST_TMPDIR/bare/bin/"
	run -127 chroot "$BATS_TEST_TMPDIR/bare" /bin/ls
	# The same rootfs under nsbox pivot: a mount namespace, pivot_root,
	# /proc and a minimal /dev.
	nsb_run nsbox pivot "$root" /bin/sh -c 'ls /dev; cat /proc/self/comm'
	expect 0 "fd
full
null
ptmx
pts
random
shm
stderr
stdin
stdout
tty
urandom
zero
cat"
}

@test "step 2: chroot can be escaped; nsbox pivot cannot" {
	requires root busybox
	command -v gcc >/dev/null || skip "gcc is needed to build the escape program"
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	escape_program "$root/escape"
	marker=$BATS_TEST_TMPDIR/only-on-the-host
	touch "$marker"
	[ ! -e "$root$marker" ]
	run chroot "$root" /escape "$marker"
	[ "$output" = escaped ]
	# pivot_root leaves no way back: the old root is detached.
	nsb_run nsbox pivot "$root" /escape "$marker"
	expect 0 inside
	# The old root is not mounted anywhere inside: only the new root,
	# /proc, /sys and /dev with its nodes bound from the host's.
	nsb_run nsbox pivot "$root" sh -c 'cat /proc/self/mountinfo | awk "{print \$5}" | sort'
	expect 0 "/
/dev
/dev/full
/dev/null
/dev/pts
/dev/random
/dev/shm
/dev/tty
/dev/urandom
/dev/zero
/proc
/sys"
}

@test "step 2b: pivot_root as util-linux's, in a mount namespace of one's own" {
	requires root busybox ref:pivot_root ref:unshare
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	mkdir -p "$root/old"
	for tool in "$NSDIR/pivot_root" "$REFDIR/pivot_root"; do
		run unshare -m sh -c "mount --make-rprivate / && mount --bind $root $root && cd $root && $tool . old && exec /bin/sh -c 'ls /old$root/bin/busybox; umount -l /old; ls /old | wc -l'"
		[ "$status" = 0 ]
		[ "$output" = "/old$root/bin/busybox
0" ]
	done
	same pivot_root "$root/nonexistent" "$root/old"
	expect 1 "" "pivot_root: failed to change root from \`$root/nonexistent' to \`$root/old': No such file or directory"
}

@test "step 3: overlayfs: two lowers visible, a delete leaves the lower and a whiteout in upper" {
	requires root busybox overlay
	d=$BATS_TEST_TMPDIR
	make_rootfs "$d/root"
	mkdir -p "$d/lower2" "$d/upper" "$d/work"
	echo root >"$d/root/from-root"
	echo lower2 >"$d/lower2/from-lower2"
	nsb_run nsbox pivot --overlay --lower "$d/lower2" --upper "$d/upper" --work "$d/work" "$d/root" \
		sh -c 'cat /from-root /from-lower2; rm /from-root; echo new >/from-upper; ls /from-root 2>/dev/null || echo gone'
	expect 0 "root
lower2
gone"
	[ "$(cat "$d/root/from-root")" = root ]
	[ "$(stat -c '%F %t:%T' "$d/upper/from-root")" = "character special file 0:0" ]
	[ "$(cat "$d/upper/from-upper")" = new ]
	[ ! -e "$d/root/from-upper" ]
	# Without --upper, changes go to a temporary layer and are gone.
	nsb_run nsbox pivot --overlay "$d/root" sh -c 'rm /from-root; touch /scratch'
	expect 0 ""
	[ -e "$d/root/from-root" ] && [ ! -e "$d/root/scratch" ]
	# --read-only: nothing can be written.
	nsb_run nsbox pivot --read-only "$d/root" touch /x
	[ "$status" = 1 ]
	[ ! -e "$d/root/x" ]
}

@test "step 4: pid namespace: pid 1 inside, real pids outside, killing pid 1 ends it" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	nsb_run nsbox pivot -fp "$root" sh -c 'echo $$; ps -o pid,comm'
	[ "$status" = 0 ]
	[ "$(echo "$output" | head -1)" = 1 ]
	# sh runs its last command in its own place: ps is pid 1 now.
	[ "$output" = "1
PID   COMMAND
    1 ps" ]
	name=nsbox-test-lab$$
	nsb nsbox pivot --name $name -fp "$root" sleep 300 &
	parent=$!
	targets="$parent"
	wait_for test -e /run/nsbox/$name
	pid=$(awk '{print $1}' /run/nsbox/$name)
	targets="$targets $pid"
	[ "$pid" != 1 ] && [ "$(cat /proc/$pid/comm)" = sleep ]
	grep -q "^NSpid:	$pid	1$" /proc/$pid/status
	kill -KILL "$pid"
	rc=0
	wait "$parent" || rc=$?
	[ "$rc" = 137 ]
	[ ! -e /run/nsbox/$name ]
}

# zombies PID: the zombies among the descendants of PID.
zombies() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		awk '$3 == "Z" {print $1, $2}' /proc/"$c"/stat 2>/dev/null
		zombies "$c"
	done
}

@test "step 4b: pid 1 must reap orphans; pivot --init puts an init there that does and passes signals on" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	# An orphan goes to pid 1. A pid 1 that never waits (here sleep)
	# leaves it a zombie; with --init, nsbox's init is pid 1 and reaps it.
	for init in "" --init; do
		"$NSDIR/nsbox" pivot -fp $init "$root" sh -c '(sleep 0.1 &); exec sleep 2' &
		parent=$!
		targets="$parent"
		wait_for has_child "$parent"
		pid1=$(child_of "$parent")
		targets="$targets $pid1"
		sleep 0.6
		z=$(zombies "$parent")
		kill -KILL "$pid1" # the end of the pid namespace
		wait "$parent" || true
		if [ -z "$init" ]; then
			[ -n "$z" ] || { echo "no zombie without an init"; false; }
		else
			[ -z "$z" ] || { echo "zombies under --init: $z"; false; }
		fi
	done
	# The init is pid 1, the program its child; the program's status is
	# pivot's, a signal death as 128+signal.
	nsb_run nsbox pivot --init "$root" ps -o pid,comm
	expect 0 "PID   COMMAND
    1 nsbox
    2 ps"
	nsb_run nsbox pivot --init "$root" sh -c 'exit 5'
	expect 5 ""
	nsb_run nsbox pivot --init "$root" sh -c 'kill -TERM $$'
	expect 143 ""
	# A SIGTERM to pid 1 (from the host, or a supervisor) reaches the
	# program.
	"$NSDIR/nsbox" pivot --init "$root" sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$BATS_TEST_TMPDIR/out" &
	parent=$!
	targets="$parent"
	wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
	init=$(child_of "$parent")
	targets="$targets $init"
	[ "$(cat /proc/$init/comm)" = nsbox ]
	kill -TERM "$init"
	rc=0
	wait "$parent" || rc=$?
	[ "$rc" = 7 ] && [ "$(cat "$BATS_TEST_TMPDIR/out")" = "ready
got TERM" ]
	# A ^C on the terminal reaches the whole foreground process group,
	# the program included: the init does not pass it on a second time.
	command -v script >/dev/null || skip "script (util-linux) is needed for a terminal"
	out=$( (sleep 0.6; printf '\003'; sleep 1.5) |
		script -qec "$NSDIR/nsbox pivot --init $root sh -c 'trap \"echo got INT\" INT; echo ready; sleep 1; sleep 1; echo done'" /dev/null | tr -d '\r')
	[ "$out" = "ready
^Cgot INT
done" ] || { echo "$out"; false; }
}

@test "step 5: uts namespace: a hostname of its own" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	host=$(hostname)
	nsb_run nsbox pivot --hostname lab-box "$root" sh -c 'hostname; hostname other; hostname'
	expect 0 "lab-box
other"
	[ "$(hostname)" = "$host" ]
}

@test "step 6: ipc namespace: System V segments stay inside" {
	requires root
	command -v ipcmk >/dev/null || skip "ipcmk (util-linux) is not installed"
	before=$(ipcs -m | grep -c '^0x' || true)
	nsb_run unshare -i sh -c 'ipcmk -M 4096 >/dev/null && ipcs -m | grep -c "^0x"'
	expect 0 1
	[ "$(ipcs -m | grep -c '^0x' || true)" = "$before" ]
}

@test "step 7: net namespace: only lo, and it is down" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	nsb_run nsbox pivot -n "$root" sh -c 'ls /sys/class/net; ip -o link | wc -l; ip link show lo | grep -o "<[^>]*>"'
	expect 0 "lo
1
<LOOPBACK>"
	nsb_run nsbox pivot -n "$root" sh -c 'ip link set lo up && ping -c1 -W1 127.0.0.1 >/dev/null && echo loopback works'
	expect 0 "loopback works"
}

@test "step 8: user namespace: root inside, the caller outside; -r and a subordinate range" {
	requires root userns testuser newuidmap busybox
	# Somewhere the test user can reach.
	labroot=$(mktemp -d /tmp/nsbox-test-lab.XXXXXX)
	chmod 755 "$labroot"
	root=$labroot/root
	make_rootfs "$root"
	uid=$(id -u "$TEST_USER")
	run nsb_user unshare -r sh -c 'id -u; cat /proc/self/uid_map'
	[ "$status" = 0 ]
	[ "$(echo "$output" | head -1)" = 0 ]
	[ "$(echo "$output" | sed -n 2p | awk '{print $1, $2, $3}')" = "0 $uid 1" ]
	run nsb_user unshare --map-auto -r sh -c 'cat /proc/self/uid_map'
	[ "$status" = 0 ]
	range=$(awk -F: -v u="$TEST_USER" '$1 == u {print $2, $3}' /etc/subuid)
	echo "$output" | awk '{print $2, $3}' | grep -qx "$range"
	# Rootless, a whole container: user namespace first, then the rest.
	run nsb_user nsbox pivot -Ufpuinr --hostname rootless "$root" sh -c 'id -u; hostname; echo $$'
	[ "$status" = 0 ]
	[ "$output" = "0
rootless
1" ]
	# Outside, the process belongs to the caller.
	nsb_user nsbox unshare -Ur sleep 300 &
	targets="$!"
	wait_for pgrep -u "$TEST_USER" -x sleep
	pid=$(pgrep -n -u "$TEST_USER" -x sleep)
	targets="$targets $pid"
	[ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = "$uid" ]
	[ "$(awk '{print $1, $2, $3}' /proc/$pid/uid_map)" = "0 $uid 1" ]
}

@test "step 9: time namespace: --boottime shifts /proc/uptime" {
	requires root timens
	host=$(cut -d. -f1 /proc/uptime)
	nsb_run unshare -T --boottime 86400 cut -d. -f1 /proc/uptime
	[ "$status" = 0 ]
	[ "$output" -ge $((host + 86400)) ] && [ "$output" -lt $((host + 86400 + 60)) ]
	nsb_run unshare -T --monotonic -100 true
	expect 0 ""
}

# pids_cgroup: a new cgroup with the pids controller, v2 or v1; sets
# $cgdir (removed in teardown) or skips.
pids_cgroup() {
	local base
	if grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		base=/sys/fs/cgroup
	elif [ -e /sys/fs/cgroup/pids/cgroup.procs ]; then
		base=/sys/fs/cgroup/pids
	else
		skip "no pids controller"
	fi
	cgdir=$base/nsbox-test-lab$$
	mkdir "$cgdir"
}

@test "step 10: cgroup namespace: its own cgroup is its root" {
	requires root cgroupns
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$mnt" ] || skip "no cgroup2 mount"
	cgdir=$mnt/nsbox-test-lab$$
	mkdir "$cgdir"
	run sh -c "echo \$\$ >$cgdir/cgroup.procs && PATH=$NSDIR:\$PATH exec unshare -C sh -c 'grep ^0:: /proc/self/cgroup; grep ^0:: /proc/1/cgroup || true'"
	[ "$status" = 0 ]
	[ "$(echo "$output" | head -1)" = "0::/" ]
	# Seen from its namespace, the host's processes are above its root.
	[ "$(echo "$output" | sed -n 2p)" = "0::/.." ]
}

@test "step 11: cgroup limits: pids.max stops a fork bomb inside the container" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	pids_cgroup
	# Threads count too: nsbox's Go runtime needs a few before the
	# container starts.
	echo 10 >"$cgdir/pids.max"
	run sh -c "echo \$\$ >$cgdir/cgroup.procs && exec $NSBOX pivot -fp $root sh -c 'for i in \$(seq 20); do sleep 2 & done 2>&1; wait'"
	echo "$output" | grep -q "can't fork"
	[ "$(cat "$cgdir/pids.events" | awk '/max/ {print $2}')" -gt 0 ]
}

@test "pivot inside nsbox unshare -fpmuin, and rootless under unshare -Ur" {
	requires root busybox userns testuser
	labroot=$(mktemp -d /tmp/nsbox-test-lab.XXXXXX)
	chmod 755 "$labroot"
	root=$labroot/root
	make_rootfs "$root"
	# The namespaces made first, the pivot in them: it makes only its own
	# mount namespace and sees the pid namespace it is in.
	nsb_run unshare -fpmuin --mount-proc nsbox pivot "$root" sh -c 'echo $$; ls /bin/busybox; ls /sys/class/net'
	expect 0 "1
/bin/busybox
lo"
	run nsb_user unshare -Urfp nsbox pivot "$root" sh -c 'id -u; echo $$; touch /tmp/x && echo writable'
	[ "$status" = 0 ]
	[ "$output" = "0
1
writable" ]
}

@test "pivot: bad rootfs, no shell, and overlay errors are clear and leave nothing mounted" {
	requires root busybox
	touch "$BATS_TEST_TMPDIR/file"
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	leaves_nothing nsbox pivot "$BATS_TEST_TMPDIR/missing"
	expect 1 "" "pivot: cannot use '$BATS_TEST_TMPDIR/missing' as root: No such file or directory"
	leaves_nothing nsbox pivot "$BATS_TEST_TMPDIR/file"
	expect 1 "" "pivot: cannot use '$BATS_TEST_TMPDIR/file' as root: Not a directory"
	leaves_nothing nsbox pivot "$BATS_TEST_TMPDIR/empty"
	expect 1 "" "pivot: no command given and no /bin/sh in '$BATS_TEST_TMPDIR/empty'"
	leaves_nothing nsbox pivot --overlay --lower "$BATS_TEST_TMPDIR/missing" "$BATS_TEST_TMPDIR/empty" true
	echo "$errout" | grep -q "^pivot: .*missing.*: No such file or directory$"
	leaves_nothing nsbox pivot "$BATS_TEST_TMPDIR/empty" /no/such/program
	[ "$status" = 127 ]
}
