#!/usr/bin/env bats
# nsenter workflows: nsbox's nsenter link against util-linux's nsenter, on
# targets made by util-linux's unshare and by nsbox's. The installed
# util-linux is 2.38.1; nsbox follows 2.42.2, whose answers are used where
# the releases differ.

load helpers

setup_file() { links; }
teardown_file() { unlinks; }

teardown() {
	for p in ${targets:-}; do kill -KILL "$p" 2>/dev/null || true; done
}

# target UNSHARE ARGS...: start "UNSHARE -f ARGS... sleep" in the background
# and set $target to the sleeping process (inside the new namespaces),
# named nsbox-test-target when it has a uts namespace of its own.
target() {
	local u=$1 uts
	shift
	uts=$(readlink /proc/self/ns/uts)
	"$u" -f --kill-child "$@" sh -c "u=\$(readlink /proc/self/ns/uts) && [ -n \"\$u\" ] && [ \"\$u\" != '$uts' ] && hostname nsbox-test-target 2>/dev/null; exec sleep 300" &
	local parent=$!
	disown
	targets="${targets:-} $parent"
	wait_for has_child $parent
	target=$(child_of $parent)
	targets="$targets $target"
	wait_for sh -c "[ \"\$(cat /proc/$target/comm)\" = sleep ]"
}

@test "-a enters every namespace of a target made by either unshare" {
	requires root ref:nsenter ref:unshare
	for maker in "$REFDIR/unshare" "$NSDIR/unshare"; do
		target "$maker" -pmuinC --mount-proc
		same nsenter -t "$target" -a sh -c 'hostname; for n in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$n; done'
		want=$(printf 'nsbox-test-target\n'; for n in mnt uts ipc net pid cgroup; do readlink /proc/$target/ns/$n; done)
		[ "$output" = "$want" ] || { echo "maker $maker: $output"; false; }
	done
}

@test "each namespace option enters that namespace only" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -muinC
	for n in m:mnt u:uts i:ipc n:net C:cgroup; do
		flag=${n%%:*} name=${n#*:}
		same nsenter -t "$target" -$flag readlink /proc/self/ns/$name /proc/self/ns/pid
		expect 0 "$(readlink /proc/$target/ns/$name)
$(readlink /proc/self/ns/pid)"
	done
}

@test "a pid namespace makes nsenter fork, and -F does not" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -pm --mount-proc
	# The forked child is in the target's pid namespace (pid numbers there
	# go on counting, so only their range is checked).
	FILTER='1s/^[0-9]$/SMALL/' same nsenter -t "$target" -p -m sh -c 'echo $$; readlink /proc/self/ns/pid'
	expect 0 "SMALL
$(readlink /proc/$target/ns/pid)"
	# Without the fork the program stays in our pid namespace; only its
	# children are in the target's.
	FILTER='1s/^[0-9][0-9]*$/PID/;2s/^[0-9]$/SMALL/' same nsenter -t "$target" -p -F sh -c 'echo $$; sh -c "echo \$\$"'
	[ "$(echo $output)" = "PID SMALL" ]
	# The waiting nsenter keeps its name (not the "exe" of nsbox's
	# re-execution) for ps and pgrep.
	for dir in "$NSDIR" "$REFDIR"; do
		"$dir/nsenter" -t "$target" -p sleep 5 &
		parent=$!
		targets="${targets:-} $parent"
		wait_for has_child "$parent"
		child=$(child_of "$parent")
		[ "$(cat /proc/$parent/comm)" = nsenter ] || { echo "$dir: $(cat /proc/$parent/comm)"; false; }
		kill "$child"
		wait "$parent" || true
	done
}

@test "a time namespace and its offsets" {
	requires root timens ref:nsenter
	target "$REFDIR/unshare" -T --boottime 1000000
	same nsenter -t "$target" -T cut -d. -f1 /proc/uptime
	[ "$status" = 0 ] && [ "$output" -ge 1000000 ]
}

@test "persistent namespace files" {
	requires root ref:nsenter ref:unshare
	f=$BATS_TEST_TMPDIR/uts
	touch "$f"
	/usr/bin/unshare --uts="$f" hostname nsbox-test-file
	same nsenter --uts="$f" hostname
	expect 0 nsbox-test-file
	same nsenter -u"$f" hostname
	expect 0 nsbox-test-file
	umount "$f"
}

@test "joining a user namespace made by an unprivileged user" {
	requires root userns testuser ref:nsenter
	targets=
	as_user sh -c "exec '$NSDIR/unshare' -r sleep 300" &
	targets=$!
	disown
	wait_for sh -c "pgrep -u $TEST_USER -x sleep >/dev/null"
	target=$(pgrep -u "$TEST_USER" -x sleep | head -1)
	targets="$targets $target"
	same nsenter -t "$target" -U sh -c 'id -u; id -g; readlink /proc/self/ns/user'
	expect 0 "0
0
$(readlink /proc/$target/ns/user)"
	# Root outside is not mapped inside: with its credentials kept it is
	# nobody there.
	same nsenter -t "$target" -U --preserve-credentials id -u
	expect 0 65534
	same nsenter -t "$target" -a id -u
	expect 0 0
	# As the user who made it: setgroups is denied in there, and only
	# failing before and after the join is an error.
	n=$(nsb_user nsenter -t "$target" -U --preserve-credentials id -u 2>&1)
	r=$(ref_user nsenter -t "$target" -U --preserve-credentials id -u 2>&1)
	[ "$n" = 0 ] && [ "$n" = "$r" ]
	n=$(nsb_user nsenter -t "$target" -U id -u 2>&1) || true
	r=$(ref_user nsenter -t "$target" -U id -u 2>&1) || true
	[ "$n" = "nsenter: setgroups failed: Operation not permitted" ] && [ "$n" = "$r" ]
}

@test "--keep-caps keeps capabilities granted in the user namespace" {
	requires root userns
	target "$NSDIR/unshare" -Ur
	nsb_run nsenter -t "$target" -U --keep-caps grep CapAmb /proc/self/status
	[ "$status" = 0 ] && [ "$output" != "CapAmb:	0000000000000000" ]
	nsb_run nsenter -t "$target" -U grep CapAmb /proc/self/status
	expect 0 "CapAmb:	0000000000000000"
}

@test "-r and -w take the target's root and directory" {
	requires root busybox ref:nsenter
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	target "$REFDIR/unshare" -m -R "$root" -w /bin
	same nsenter -t "$target" -m -r -w pwd
	expect 0 /bin
	same nsenter -t "$target" -m -r ls /
	[ "$(echo $output)" = "bin dev etc proc root sys tmp" ]
	# Paths given to -r and -w are opened before the joins, as paths of ours.
	same nsenter -t "$target" -m -r"$root" -w"$root/etc" pwd
	expect 0 /etc
}

@test "-W takes a directory in the namespace, attached (2.42)" {
	requires root busybox
	root=$BATS_TEST_TMPDIR/root
	make_rootfs "$root"
	target "$REFDIR/unshare" -m -R "$root"
	nsb_run nsenter -t "$target" -m -r -W/bin pwd
	expect 0 /bin
	nsb_run nsenter -t "$target" -m -r --wdns=/etc pwd
	expect 0 /etc
	# 2.42 takes -W's value only attached: "-W /bin" runs /bin.
	nsb_run nsenter -t "$target" -m -r -W /bin
	expect 126 "" "nsenter: failed to execute /bin: Permission denied"
	nsb_run nsenter -t "$target" -m -w/ -W/bin pwd
	expect 1 "" "nsenter: options --wd and --wdns cannot be combined"
}

@test "-e takes the target's environment (2.42)" {
	requires root
	env -i A=1 B=2 PATH=/usr/bin:/bin "$NSDIR/unshare" -f --kill-child sleep 300 &
	targets=$!
	disown
	wait_for has_child $targets
	target=$(child_of $targets)
	targets="$targets $target"
	nsb_run env -i C=3 "$NSDIR/nsenter" -t "$target" -u -e /usr/bin/env
	# util-linux sets the variables in reverse order.
	expect 0 "PATH=/usr/bin:/bin
B=2
A=1"
}

@test "-S and -G set ids; follow takes the target's (2.42)" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -u
	same nsenter -t "$target" -u -S 65534 -G 65534 sh -c 'id -u; id -g'
	expect 0 "65534
65534"
	chown 65534:65534 /proc/$target 2>/dev/null || true
	nsb_run nsenter -t "$target" -u -S follow -G follow sh -c 'id -u; id -g'
	expect 0 "$(stat -c %u /proc/$target)
$(stat -c %g /proc/$target)"
}

@test "--user-parent enters the parent of the target's user namespace" {
	requires root userns
	target "$NSDIR/unshare" -Ur
	nsb_run nsenter -t "$target" --user-parent --preserve-credentials readlink /proc/self/ns/user
	# Its parent is our own user namespace, which setns refuses to re-enter.
	expect 1 "" "nsenter: reassociate to namespace 'ns/user' failed: Invalid argument"
	nsb_run nsenter -t "$target" -U readlink /proc/self/ns/user
	expect 0 "$(readlink /proc/$target/ns/user)"
}

@test "-N enters the network namespace of the target's socket (2.42)" {
	requires root
	command -v python3 >/dev/null || skip "python3 is needed to hold a socket open"
	"$NSDIR/unshare" -n python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.fileno(), flush=True); time.sleep(300)' >"$BATS_TEST_TMPDIR/fd" &
	targets=$!
	disown
	target=$targets
	wait_for test -s "$BATS_TEST_TMPDIR/fd"
	fd=$(cat "$BATS_TEST_TMPDIR/fd")
	nsb_run nsenter -t "$target" -N "$fd" readlink /proc/self/ns/net
	expect 0 "$(readlink /proc/$target/ns/net)"
	nsb_run nsenter -N "$fd" true
	expect 1 "" "nsenter: no target PID specified"
}

@test "--join-cgroup joins the target's cgroup in cgroup v2 (2.42)" {
	requires root
	target "$REFDIR/unshare" -u
	# util-linux 2.38 has no -c: known answers.
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		nsb_run nsenter -t "$target" -u -c cat /proc/self/cgroup
		expect 0 "$(cat /proc/$target/cgroup)"
		return
	fi
	nsb_run nsenter -t "$target" -u -c true
	expect 1 "" "nsenter: --join-cgroup is only supported in cgroup v2"
	# A hybrid host: its unified hierarchy, bound on /sys/fs/cgroup in a
	# mount namespace of the test's, is what nsenter sees as cgroup v2.
	# Like util-linux, nsenter takes the path from the first line of the
	# target's /proc/PID/cgroup (here a v1 hierarchy's, "/"), so a shell
	# moved to a cgroup of its own sees its nsenter -c move back to "/".
	unified=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	[ -n "$unified" ] || skip "no cgroup v2 hierarchy here: joining is not testable"
	first=$(head -1 /proc/$target/cgroup)
	first=${first##*:}
	[ -d "$unified$first" ] || skip "the target's first cgroup path $first is not in the unified hierarchy"
	cg=$unified/nsbox-test-cg$$
	mkdir "$cg"
	run /usr/bin/unshare -m sh -c "echo \$\$ >$cg/cgroup.procs && mount --bind $unified /sys/fs/cgroup &&
		grep '^0::' /proc/self/cgroup && $NSDIR/nsenter -t $target -u -c grep '^0::' /proc/self/cgroup"
	wait_for rmdir "$cg"
	[ "$status" = 0 ] && [ "$output" = "0::/nsbox-test-cg$$
0::$first" ] || { echo "$status: $output"; false; }
}

@test "PID:INODE names the target by its pidfd" {
	requires root
	command -v python3 >/dev/null || skip "python3 is needed to read a pidfd's inode"
	target "$REFDIR/unshare" -u
	ino=$(python3 -c "import os; print(os.fstat(os.pidfd_open($target)).st_ino)")
	nsb_run nsenter -t "$target:$ino" -u hostname
	expect 0 nsbox-test-target
	nsb_run nsenter -t "$target:$((ino + 1))" -u hostname
	expect 1 "" "nsenter: failed to obtain a valid file descriptor for PID $target: No such process"
}

@test "exit status and signals pass through the fork" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -pu
	same nsenter -t "$target" -u sh -c 'exit 5'
	[ "$status" = 5 ]
	same nsenter -t "$target" -p sh -c 'exit 6'
	[ "$status" = 6 ]
	same nsenter -t "$target" -p sh -c 'kill -TERM $$'
	[ "$status" = 143 ]
	same nsenter -t "$target" -u nsbox-no-such-command
	expect 127 "" "nsenter: failed to execute nsbox-no-such-command: No such file or directory"
	same nsenter -t "$target" -u /etc/passwd
	[ "$status" = 126 ]
}

@test "usage errors and bad targets are worded as util-linux words them" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -u
	for args in "--bogus" "-X" "-t" "--mount=/nonexistent true" "-m/nonexistent true" \
		"--mount=/etc/passwd true" "--net=/proc/$target/ns/uts true" "-t 2147483646 -m true" "-t $target -S x true"; do
		same nsenter $args || { echo "args: $args"; false; }
	done
	# 2.42.2's answers where 2.38.1 differs.
	nsb_run nsenter -t abc -m true
	expect 1 "" "nsenter: invalid PID argument"
	nsb_run nsenter true
	expect 1 "" "nsenter: no namespace specified"
	nsb_run nsenter -m true
	expect 1 "" "nsenter: no target PID specified"
	nsb_run nsenter -t "$target" -U true
	expect 1 "" "nsenter: reassociate to namespaces failed: Invalid argument"
	nsb_run nsenter -t "$target" -u -S -1 true
	expect 1 "" "nsenter: failed to parse uid: '-1': Numerical result out of range"
}

@test "no permission: an unprivileged user cannot enter root's namespaces" {
	requires root testuser
	target "$REFDIR/unshare" -u
	# 2.42 joins through a pidfd, so setns refuses rather than open.
	n=$(nsb_user nsenter -t "$target" -u true 2>&1) || true
	[ "$n" = "nsenter: reassociate to namespaces failed: Operation not permitted" ]
}

@test "bad input leaves nothing behind" {
	requires root
	target "$REFDIR/unshare" -u
	leaves_nothing nsenter -t "$target" -u -r/nonexistent true
	leaves_nothing nsenter -t 2147483646 -a true
	leaves_nothing nsenter --net=/etc/passwd true
	leaves_nothing nsenter -t "$target" -u -W/nonexistent true
	[ "$errout" = "nsenter: cannot open current working directory: No such file or directory" ]
}

@test "no program: \$SHELL as a login shell" {
	requires root ref:nsenter
	target "$REFDIR/unshare" -u
	n=$(echo 'echo "argv0=$0"' | SHELL=/bin/dash nsb nsenter -t "$target" -u)
	r=$(echo 'echo "argv0=$0"' | SHELL=/bin/dash ref nsenter -t "$target" -u)
	[ "$n" = "argv0=-dash" ] && [ "$n" = "$r" ]
}

@test "--help and --version" {
	nsb_run nsenter --help
	[ "$status" = 0 ]
	echo "$output" | grep -q -- " -W, --wdns <dir>              set the working directory in namespace"
	nsb_run nsenter --version
	[[ "$output" == "nsenter from util-linux 2.42.2 (nsbox "* ]]
}
