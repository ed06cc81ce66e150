#!/usr/bin/env bats
# lxc-attach workflows: nsbox's lxc-attach link against LXC 5.0's, on a
# real LXC container (busybox template, no network), and nsbox's own
# lxc-attach on containers that nsbox started with --name.

load helpers

setup_file() {
	links
	export C=nsbox-test-attach-$$
	if command -v lxc-create >/dev/null && [ "$(id -u)" = 0 ]; then
		sh "$HERE/../lxc.sh" create "$C" || echo "could not create $C" >&3
	fi
}

teardown_file() {
	sh "$HERE/../lxc.sh" destroy "$C"
	sh "$HERE/../lxc.sh" destroy "$C-stopped"
	sh "$HERE/../lxc.sh" destroy nsbox-test-busy
	unlinks
}

teardown() {
	for p in ${targets:-}; do kill -KILL "$p" 2>/dev/null || true; done
}

# container: skip unless the LXC container of this file runs.
container() {
	requires root ref:lxc-attach
	[ "$(lxc-info -n "$C" -sH 2>/dev/null)" = RUNNING ] || skip "the LXC container $C is not running (LXC or its busybox template missing)"
}

init_of() { lxc-info -n "$1" -pH; }

@test "a command sees the container: hostname, pid 1, namespaces, cgroups, bounding set, ids" {
	container
	same lxc-attach -n "$C" -- sh -c 'hostname; cat /proc/1/comm; for n in mnt uts ipc net pid cgroup user; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep -E "^(CapBnd|CapEff|Uid|Gid|Groups)" /proc/self/status; id; pwd'
	init=$(init_of "$C")
	# Known answers too: the init's namespaces, not ours.
	want=$(for n in mnt uts ipc net pid cgroup user; do readlink /proc/$init/ns/$n; done)
	got=$(echo "$output" | sed -n 3,9p)
	[ "$got" = "$want" ] || { echo "namespaces: $got"; false; }
	[ "$(echo "$output" | head -1)" = "$C" ]
	grep -q "CapBnd:	$(awk '/^CapBnd/ {print $2}' /proc/$init/status)" <<<"$output"
	[ "$(awk '/^CapBnd/ {print $2}' /proc/$init/status)" != "$(awk '/^CapBnd/ {print $2}' /proc/self/status)" ]
	# The CPUs it may run on are the caller's (nsbox starts on one).
	same taskset -c 1 lxc-attach -n "$C" -- grep Cpus_allowed_list /proc/self/status
	same lxc-attach -n "$C" -- grep Cpus_allowed_list /proc/self/status
}

@test "the container name may come as the first argument, options after it" {
	container
	same lxc-attach "$C" -- hostname
	expect 0 "$C"
	same lxc-attach "$C" -e -- hostname
	expect 0 "$C"
}

@test "environment: kept by default, --clear-env, --keep-var, -v, in LXC's order" {
	container
	# bash puts the path of the program in _, which names the link; PATH
	# starts with the directory of the links.
	export FILTER='/^_=/d; s#/tmp/nsbox-test-links[^:]*/\(nsbox\|ref\):##' NSBOX_TEST_A=1 NSBOX_TEST_B=2
	for args in "" "--keep-env" "--clear-env" "--clear-env --keep-var NSBOX_TEST_A --keep-var NSBOX_TEST_NONE" \
		"--clear-env --keep-var PATH" "-v X=1 -v Y=a=b -v NSBOX_TEST_A=changed -v NSBOX_TEST_B -v container=other" \
		"--clear-env -v PATH=/bin"; do
		same lxc-attach -n "$C" $args -- env
	done
	# Odd -v values are not errors to LXC either: putenv takes them.
	for v in "" "=x" "NOEQUALS" "A=1=2"; do
		same lxc-attach -n "$C" -v "$v" -- env
	done
	same lxc-attach -n "$C" --clear-env -- env
	expect 0 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
container=lxc"
}

@test "exit status: the command's, 128+signal, 126 and 127 when exec fails" {
	container
	for cmd in "true" "false" "sh -c 'exit 7'" "sh -c 'kill -9 \$\$'" "sh -c 'kill -TERM \$\$'" \
		"/nonexistent" "/etc/passwd" "no-such-command" "/"; do
		eval "same lxc-attach -n \"\$C\" -- $cmd"
	done
	same lxc-attach -n "$C" -- sh -c 'kill -9 $$'
	expect 137 ""
	same lxc-attach -n "$C" -- /nonexistent
	expect 127 "" "lxc-attach: $C: ../src/lxc/attach.c: lxc_attach_run_command: 1841 No such file or directory - Failed to exec \"/nonexistent\""
}

@test "stdin, stdout and stderr: pipes, files and redirections pass through" {
	container
	d=$BATS_TEST_TMPDIR
	for side in nsb ref; do
		echo "data in" | $side lxc-attach -n "$C" -- sh -c 'cat; echo out; echo err >&2' >"$d/$side.out" 2>"$d/$side.err"
		echo hostname | $side lxc-attach -n "$C" -- >"$d/$side.shell"
		printf 'hostname; rm\n' | $side lxc-attach -n "$C" >"$d/$side.rm.out" 2>"$d/$side.rm.err" || echo "rc=$?" >>"$d/$side.rm.out"
		$side lxc-attach -n "$C" -- sh -c 'ls -l /proc/self/fd/ | grep -c " [0-2] -> "' </dev/null >"$d/$side.fds"
	done
	for f in out err shell rm.out rm.err fds; do
		diff "$d/nsb.$f" "$d/ref.$f"
	done
	[ "$(cat "$d/nsb.out")" = "data in
out" ]
	[ "$(cat "$d/nsb.shell")" = "$C" ]
}

@test "-s attaches to the named namespaces only, in any case" {
	container
	init=$(init_of "$C")
	for s in UTSNAME uts "NETWORK|IPC" "net|ipc" "MOUNT|PID" "pid|UTSNAME|mount"; do
		same lxc-attach -n "$C" -s "$s" -- sh -c 'for n in mnt uts ipc net pid; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep CapBnd /proc/self/status'
	done
	same lxc-attach -n "$C" -s UTSNAME -- readlink /proc/self/ns/uts /proc/self/ns/net
	expect 0 "$(readlink /proc/$init/ns/uts)
$(readlink /proc/self/ns/net)"
}

@test "a join the kernel refuses fails with LXC's two lines: -s USER on a privileged container, an empty -s" {
	container
	init=$(init_of "$C")
	[ "$(readlink /proc/$init/ns/user)" = "$(readlink /proc/self/ns/user)" ] || skip "the container has a user namespace of its own"
	for s in USER "UTSNAME|user" ""; do
		same lxc-attach -n "$C" -s "$s" -- true
		expect 1 "" "lxc-attach: $C: ../src/lxc/attach.c: __attach_namespaces_pidfd: 643 Invalid argument - Failed to attach to namespaces via pidfd
lxc-attach: $C: ../src/lxc/attach.c: lxc_attach: 1590 Failed to enter namespaces"
	done
	for side in nsb ref; do
		$side lxc-attach -n "$C" -s USER -o "$BATS_TEST_TMPDIR/$side.log" -- true 2>/dev/null || true
		sed -E 's/ [0-9]{14}\.[0-9]{3} / TIME /' "$BATS_TEST_TMPDIR/$side.log" >"$BATS_TEST_TMPDIR/$side.log.t"
	done
	diff "$BATS_TEST_TMPDIR/nsb.log.t" "$BATS_TEST_TMPDIR/ref.log.t"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/nsb.log.t")" = 2 ]
}

@test "-R remounts /proc and /sys in a mount namespace of its own when MOUNT is not attached" {
	container
	# ps shows the container's processes, its init first.
	same lxc-attach -n "$C" -s PID -R -- ps -o comm
	[ "$(echo "$output" | sed -n 2p)" = init ]
	same lxc-attach -n "$C" -s 'PID|UTSNAME' -R -- sh -c 'cat /proc/1/comm; grep -c " /proc " /proc/self/mountinfo'
	expect 0 "init
1"
}

@test "the waiting lxc-attach joins the container's cgroups too (LXC's stays outside)" {
	container
	# nsbox moves itself before it joins the namespaces, while it is still
	# privileged on the host; the command is born there. LXC moves only
	# the command. Known answers for both, since they differ.
	for side in nsbox ref; do
		"$LINKS/$side/lxc-attach" -n "$C" -- sleep 1 &
		pid=$!
		sleep 0.4
		grep '^0::' /proc/$pid/cgroup >"$BATS_TEST_TMPDIR/$side.cg"
		wait $pid
	done
	init=$(init_of "$C")
	[ "$(cat "$BATS_TEST_TMPDIR/nsbox.cg")" = "$(grep '^0::' /proc/$init/cgroup)/.lxc" ]
	[ "$(cat "$BATS_TEST_TMPDIR/ref.cg")" = "$(grep '^0::' /proc/self/cgroup)" ]
}

@test "-e keeps what it names: cgroup, capabilities, or both" {
	container
	for e in "-e" "-eCAP" "-eCGROUP" "-eCAP|CGROUP" "--elevated-privileges=LSM" "--elevated-privileges"; do
		same lxc-attach -n "$C" "$e" -- sh -c 'cat /proc/self/cgroup; grep CapBnd /proc/self/status'
	done
	same lxc-attach -n "$C" -e -- grep CapBnd /proc/self/status
	expect 0 "$(grep CapBnd /proc/self/status)"
}

@test "-a sets the personality: i686 inside on x86_64" {
	container
	[ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host"
	same lxc-attach -n "$C" -a i686 -- uname -m
	expect 0 i686
	same lxc-attach -n "$C" -a x86_64 -- uname -m
	expect 0 x86_64
}

@test "-u and -g choose the ids inside" {
	container
	same lxc-attach -n "$C" -u 1000 -g 5 -- id
	expect 0 "uid=1000 gid=5"
	same lxc-attach -n "$C" -u 0x10 -- id -u
	expect 0 "16"
}

@test "bad input: unknown or stopped container, bad -s, -e, -u, -a, no name, unknown option" {
	requires root ref:lxc-attach
	command -v lxc-create >/dev/null || skip "LXC is not installed"
	sh "$HERE/../lxc.sh" create "$C-stopped" stopped
	same lxc-attach -n "$C-stopped" -- true
	expect 1 "" "lxc-attach: $C-stopped: ../src/lxc/attach.c: get_attach_context: 406 Connection refused - Failed to get init pid
lxc-attach: $C-stopped: ../src/lxc/attach.c: lxc_attach: 1470 Connection refused - Failed to get attach context"
	same lxc-attach -n nsbox-test-no-such-container -- true
	same lxc-attach -q -n nsbox-test-no-such-container -- true
	for args in "-s BOGUS" "-s PID|bogus" "-e BOGUS" "-eCAP|bogus" "-u abc" "-u -1" "-g 1x" "-a nosucharch" \
		"--bogus" "-x" "-n" "" "--" "--rcfile" "-s"; do
		same lxc-attach $args -n "$C-stopped" -- true
		[ "$status" != 0 ]
	done
	same lxc-attach
	expect 1 "" "lxc-attach: No container name specified"
	same lxc-attach -s BOGUS -n "$C-stopped"
	expect 1 "" "lxc-attach: could not parse command line"
	# A log file gets LXC's log lines, in LXC's layout.
	for side in nsb ref; do
		$side lxc-attach -o "$BATS_TEST_TMPDIR/$side.log" -n "$C-stopped" -- true 2>/dev/null || true
		sed -E 's/ [0-9]{14}\.[0-9]{3} / TIME /' "$BATS_TEST_TMPDIR/$side.log" >"$BATS_TEST_TMPDIR/$side.log.t"
	done
	diff "$BATS_TEST_TMPDIR/nsb.log.t" "$BATS_TEST_TMPDIR/ref.log.t"
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/nsb.log")" = "$(stat -c %a "$BATS_TEST_TMPDIR/ref.log")" ]
	leaves_nothing lxc-attach -n "$C-stopped" -- true
}

# logged DIR ARGS...: lxc-attach ARGS... from DIR run in a directory of
# its own; prints its stderr, status, and every log file it wrote (there,
# or LXC's default one for the container) without the time stamps.
logged() {
	local dir=$1 run=$BATS_TEST_TMPDIR/run out rc f
	shift
	rm -rf "$run" /var/log/lxc/nsbox-test-no-such-container.log
	mkdir "$run"
	out=$(cd "$run" && "$dir/lxc-attach" "$@" 2>&1 </dev/null) && rc=0 || rc=$?
	printf '%s\nrc=%s\n' "$out" "$rc"
	for f in $(find "$run" /var/log/lxc/nsbox-test-no-such-container.log -type f 2>/dev/null | sort); do
		echo "${f#"$run"/} $(stat -c %a "$f")"
		sed -E 's/ [0-9]{14}\.[0-9]{3} / TIME /' "$f"
	done
}

@test "the log: -o writes LXC's lines, -q yields to a log file, -l filters and picks the default file" {
	container
	n=nsbox-test-no-such-container
	# The constructor's failures (exec) reach the file too; with a log
	# file LXC writes to stderr despite -q; -l without -o logs to
	# /var/log/lxc/NAME.log; CRIT and above drop ERROR lines; -o makes
	# the directories it needs, and one it cannot open is an error.
	while IFS= read -r args; do
		a=$(logged "$NSDIR" $args)
		b=$(logged "$REFDIR" $args)
		[ "$a" = "$b" ] || { echo "lxc-attach $args"; diff <(echo "$b") <(echo "$a"); false; }
	done <<-CASES
		-n $n -o x.log -- true
		-n $n -q -o x.log -- true
		-n $n -q -o none -- true
		-n $n -q -l info -- true
		-n $n -l crit -o x.log -- true
		-n $n -o none -l warn -- true
		-n $n -o a/b/c.log -- true
		-n $n -o /proc/nsbox-test/x -- true
		-n $n -q -o /proc/nsbox-test/x -- true
		-n $n -o . -- true
		-n $C -o x.log -- true
		-n $C -o x.log -- /nonexistent
		-n $C -q -o x.log -- /nonexistent
		-n $C -l fatal -o x.log -- /nonexistent
		-n $C -f /nonexistent -o x.log -- true
	CASES
	rm -f /var/log/lxc/$n.log
}

@test "--help, --usage and --version" {
	requires ref:lxc-attach
	same lxc-attach --help
	same lxc-attach -h
	same lxc-attach '-?'
	same lxc-attach --usage
	nsb_run lxc-attach --version
	expect 0 "5.0.2 (nsbox $(nsb nsbox --version | awk '{print $NF}'))"
}

# named NAME MAKER ARGS...: start a container with --name NAME in the
# background; $target is its first process.
named() {
	local name=$1
	shift
	"$@" &
	local parent=$!
	disown
	targets="${targets:-} $parent"
	wait_for test -e "/run/nsbox/$name"
	target=$(awk '{print $1}' "/run/nsbox/$name")
	targets="$targets $target"
}

@test "containers started by nsbox unshare --name: namespaces, environment, exit status" {
	requires root
	name=nsbox-test-u$$
	named $name nsb unshare --name $name -fpmuinC --mount-proc --kill-child sh -c "hostname $name; exec sleep 300"
	wait_for sh -c "[ \"\$(cat /proc/$target/comm)\" = sleep ]"
	nsb_run lxc-attach -n $name -- sh -c 'hostname; cat /proc/1/comm; for n in mnt uts ipc net pid cgroup; do readlink /proc/self/ns/$n; done; echo $container'
	want=$(echo $name; echo sleep; for n in mnt uts ipc net pid cgroup; do readlink /proc/$target/ns/$n; done; echo lxc)
	expect 0 "$want"
	nsb_run lxc-attach $name -- sh -c 'exit 9'
	expect 9 ""
	nsb_run lxc-attach -n $name -s UTSNAME -- readlink /proc/self/ns/uts /proc/self/ns/pid
	expect 0 "$(readlink /proc/$target/ns/uts)
$(readlink /proc/self/ns/pid)"
	# In a user namespace: its root when root is mapped, else the ids its
	# first process has there.
	first=$target
	for map in "-r:0 0" "--map-user=1000 --map-group=100:1000 100"; do
		named $name-u nsb unshare --name $name-u -U ${map%%:*} -fp --kill-child sleep 300
		nsb_run lxc-attach -n $name-u -- sh -c 'echo $(id -u) $(id -g)'
		expect 0 "${map#*:}"
		kill -KILL "$target"
		wait_for sh -c "! test -e /run/nsbox/$name-u"
	done
	# When it ends, its entry goes and attach says what LXC says.
	kill -KILL "$first"
	wait_for sh -c "! test -e /run/nsbox/$name"
	nsb_run lxc-attach -n $name -- true
	expect 1 "" "lxc-attach: $name: ../src/lxc/attach.c: get_attach_context: 406 Connection refused - Failed to get init pid
lxc-attach: $name: ../src/lxc/attach.c: lxc_attach: 1470 Connection refused - Failed to get attach context"
}

@test "containers started by nsbox pivot --name: the rootfs, its pid 1, a cgroup of its own" {
	requires root busybox
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_rootfs "$rootfs"
	name=nsbox-test-p$$
	named $name nsb nsbox pivot --name $name --hostname $name -fpuin "$rootfs" sleep 300
	wait_for sh -c "[ \"\$(cat /proc/$target/comm)\" = sleep ]"
	nsb_run lxc-attach -n $name -- sh -c 'hostname; cat /proc/1/comm; ls /bin/busybox; id -u'
	expect 0 "$name
sleep
/bin/busybox
0"
	# A container in a cgroup of its own: attach joins it.
	cg=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	if [ -n "$mnt" ] && mkdir "$mnt/nsbox-test-cg$$" 2>/dev/null; then
		echo "$target" >"$mnt/nsbox-test-cg$$/cgroup.procs"
		nsb_run lxc-attach -n $name -- sh -c 'cat /proc/self/cgroup | grep "^0::"'
		kill -KILL "$target"
		wait_for sh -c "! test -s $mnt/nsbox-test-cg$$/cgroup.procs"
		rmdir "$mnt/nsbox-test-cg$$"
		expect 0 "0::/nsbox-test-cg$$"
	fi
}

# in_pty CMD: run a shell command line with a terminal on stdin, stdout
# and stderr (script's pty), 80x24. script runs $SHELL, else /bin/sh;
# bash is named so that the output does not depend on the caller's
# environment (dash reports a waited-for job killed by a signal as
# "Terminated" on stderr, which the pty merges into the output).
in_pty() {
	SHELL=/bin/bash script -qec "stty cols 80 rows 24; $1" /dev/null </dev/null
}

@test "terminal: a pty of the container's, raw mode set and restored, window size, log" {
	container
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	for side in nsb ref; do
		PATH="$([ $side = nsb ] && echo "$NSDIR" || echo "$REFDIR"):$PATH" in_pty "
			before=\$(stty -g)
			lxc-attach -n $C -- sh -c 'tty; stty size; sleep 0.5' </dev/tty &
			sleep 0.3; stty -a | tr ' ;' '\n\n' | grep -E '^-?(icanon|echo|isig|icrnl|ixon|opost|onlcr|iexten)\$' | tr '\n' ' '; echo
			wait
			[ \"\$(stty -g)\" = \"\$before\" ] && echo restored
			stty cols 100 rows 30
			lxc-attach -n $C -- sh -c 'stty size; sleep 0.2'
			lxc-attach -n $C -- sh -c 'grep Cpus_allowed_list /proc/self/status; sleep 0.2'
			lxc-attach -n $C -- sh -c 'kill -9 \$\$'; echo rc=\$?
			[ \"\$(stty -g)\" = \"\$before\" ] && echo restored after a signal
			lxc-attach -n $C -L $BATS_TEST_TMPDIR/$side.ptylog -- sh -c 'echo logged; sleep 0.2'
		" | tr -d '\r' >"$BATS_TEST_TMPDIR/$side.pty"
	done
	# (LXC's lxc-attach may stop relaying when the command ends, before
	# the last output is through: the short commands above wait a little
	# so that its output can be compared.)
	diff "$BATS_TEST_TMPDIR/nsb.pty" "$BATS_TEST_TMPDIR/ref.pty"
	grep -q '^/dev/pts/[0-9]' "$BATS_TEST_TMPDIR/nsb.pty"
	grep -qx '24 80' "$BATS_TEST_TMPDIR/nsb.pty"
	grep -qx '30 100' "$BATS_TEST_TMPDIR/nsb.pty"
	grep -qx 'restored' "$BATS_TEST_TMPDIR/nsb.pty"
	grep -qx 'restored after a signal' "$BATS_TEST_TMPDIR/nsb.pty"
	# Killed itself, nsbox's lxc-attach still leaves the terminal as it was.
	out=$(PATH="$NSDIR:$PATH" in_pty "
		before=\$(stty -g)
		lxc-attach -n $C -- sleep 2 </dev/tty &
		sleep 0.3; kill -TERM \$!; wait \$!; echo rc=\$?
		[ \"\$(stty -g)\" = \"\$before\" ] && echo restored after SIGTERM" | tr -d '\r')
	[ "$out" = "rc=143
restored after SIGTERM" ] || { echo "$out"; false; }
	grep -q 'logged' "$BATS_TEST_TMPDIR/nsb.ptylog"
	diff <(tr -d '\r' <"$BATS_TEST_TMPDIR/nsb.ptylog") <(tr -d '\r' <"$BATS_TEST_TMPDIR/ref.ptylog")
}

@test "terminal: SIGWINCH reaches the command with the new size" {
	container
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	out=$(PATH="$NSDIR:$PATH" in_pty "
		lxc-attach -n $C -- sh -c 'trap \"stty size; exit 0\" WINCH; echo ready; while :; do sleep 0.1; done' </dev/tty &
		sleep 0.5; stty cols 90 rows 20; kill -WINCH \$!; wait" | tr -d '\r')
	[ "$(echo "$out" | tail -1)" = "20 90" ] || { echo "$out"; false; }
}

@test "terminal: TIOCSTI from inside lands in the container's pty, not the caller's terminal" {
	container
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	command -v gcc >/dev/null || skip "gcc is needed to build the TIOCSTI program"
	gcc -static -o "$BATS_TEST_TMPDIR/sti" -x c - <<'EOF'
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
int main(void) {
	const char *p, *s = "injected\n";
	char buf[64];
	ssize_t n;
	for (p = s; *p; p++)
		if (ioctl(0, TIOCSTI, p) < 0) { perror("TIOCSTI"); return 1; }
	n = read(0, buf, sizeof(buf) - 1);
	if (n < 0) { perror("read"); return 1; }
	buf[n] = 0;
	printf("read back: %s", buf);
	return 0;
}
EOF
	rootfs=/var/lib/lxc/$C/rootfs
	cp "$BATS_TEST_TMPDIR/sti" "$rootfs/tmp/sti"
	probe="/tmp/sti; read -t 1 line; echo \"caller got: \$line\""
	out=$(PATH="$NSDIR:$PATH" in_pty "bash -c 'lxc-attach -n $C -- $probe'" | tr -d '\r')
	rm -f "$rootfs/tmp/sti"
	echo "$out" | grep -qx 'read back: injected'
	echo "$out" | grep -qx 'caller got: '
	# The same program run through nsenter (no pty of its own) does reach
	# the caller's terminal: the check above can fail.
	cp "$BATS_TEST_TMPDIR/sti" "$rootfs/tmp/sti"
	out=$(in_pty "bash -c 'nsenter -t $(init_of "$C") -m /tmp/sti </dev/tty; read -t 1 line; echo \"caller got: \$line\"'" | tr -d '\r')
	rm -f "$rootfs/tmp/sti"
	echo "$out" | grep -q 'caller got: injected' || { echo "$out"; false; }
}

@test "LXC's own lxc-attach test (lxc-tests) passes with nsbox's lxc-attach first on PATH" {
	requires root
	[ -x /usr/bin/lxc-test-lxc-attach ] || skip "lxc-tests is not installed"
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# Its container is "busy", made with the system's default config:
	# here nsbox-test-busy, with no network, in a mount namespace where
	# the default config says so.
	sed 's/\bbusy\b/nsbox-test-busy/g' /usr/bin/lxc-test-lxc-attach >"$BATS_TEST_TMPDIR/lxc-attach-test"
	echo "lxc.net.0.type = empty" >"$BATS_TEST_TMPDIR/default.conf"
	run_it="mount --bind $BATS_TEST_TMPDIR/default.conf /etc/lxc/default.conf && PATH=$NSDIR:\$PATH; command -v lxc-attach; lxc-attach --version; sh $BATS_TEST_TMPDIR/lxc-attach-test"
	run unshare -m sh -c "$run_it"
	echo "$output"
	[ "$status" = 0 ]
	[ "$(echo "$output" | sed -n 1p)" = "$NSDIR/lxc-attach" ]
	echo "$output" | sed -n 2p | grep -q nsbox
	# And with a terminal on every standard descriptor (its pty checks).
	run script -qec "unshare -m sh -c '$run_it'" /dev/null
	echo "$output"
	[ "$status" = 0 ]
	echo "$output" | grep -q "All standard file descriptors refer to a pty"
}
