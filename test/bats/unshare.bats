#!/usr/bin/env bats
# unshare workflows: nsbox's unshare link against util-linux's unshare.
# The installed util-linux is 2.38.1; nsbox follows 2.42.2. Where the two
# releases differ, a test checks nsbox against 2.42.2's known answer and
# says so.

load helpers

setup_file() { links; }
teardown_file() { unlinks; }

# Background processes a test started are killed whatever the outcome.
teardown() {
	for p in ${parent:-} ${child:-}; do kill -KILL "$p" 2>/dev/null || true; done
}

@test "each namespace option gives a namespace of its own" {
	requires root
	for ns in m:mnt u:uts i:ipc n:net U:user C:cgroup T:time; do
		flag=${ns%%:*} name=${ns#*:}
		host=$(readlink /proc/self/ns/$name)
		nsb_run unshare -$flag readlink /proc/self/ns/$name
		[ "$status" = 0 ] && [ -n "$output" ] && [ "$output" != "$host" ] || { echo "-$flag: $status $output $errout"; false; }
		same unshare -$flag true
	done
	host=$(readlink /proc/self/ns/pid)
	nsb_run unshare -fp readlink /proc/self/ns/pid
	[ "$status" = 0 ] && [ "$output" != "$host" ]
}

@test "-Ur maps the caller to root and denies setgroups" {
	requires root userns ref:unshare
	same unshare -Ur sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups'
	expect 0 "0
0
         0          0          1
         0          0          1
deny"
}

@test "-c maps the caller to itself" {
	requires root userns ref:unshare
	same unshare -c cat /proc/self/uid_map
	[ "$output" = "         0          0          1" ]
}

@test "--map-user and --map-group take numbers and names" {
	requires root userns ref:unshare
	same unshare --map-user=1000 --map-group=1000 sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
	expect 0 "      1000          0          1
      1000          0          1"
	same unshare --map-user=nobody --map-group=nogroup sh -c 'id -u; id -g'
	expect 0 "65534
65534"
}

@test "--map-users takes inner:outer:count (2.42) and the deprecated outer,inner,count" {
	requires root userns
	# util-linux 2.38 knows only the comma form; 2.42.2's answers.
	nsb_run unshare --map-users=0:100000:10 --map-groups=0:100000:10 cat /proc/self/uid_map
	expect 0 "         0     100000         10"
	nsb_run unshare --map-users=100000,0,10 --map-groups=100000,0,10 cat /proc/self/uid_map
	expect 0 "         0     100000         10"
	nsb_run unshare --map-users=all --map-groups=all cat /proc/self/uid_map
	expect 0 "         0          0 4294967295"
}

@test "rootless -r as an unprivileged user" {
	requires userns testuser ref:unshare
	nsb_user unshare -r sh -c 'id -u; cat /proc/self/uid_map' >"$BATS_TEST_TMPDIR/n"
	ref_user unshare -r sh -c 'id -u; cat /proc/self/uid_map' >"$BATS_TEST_TMPDIR/r"
	diff "$BATS_TEST_TMPDIR/n" "$BATS_TEST_TMPDIR/r"
	[ "$(head -1 "$BATS_TEST_TMPDIR/n")" = 0 ]
}

@test "rootless --map-auto and --map-subids map subordinate ids through newuidmap" {
	requires userns testuser newuidmap
	uid=$(id -u "$TEST_USER") sub=$(grep "^$TEST_USER:" /etc/subuid | cut -d: -f2)
	run nsb_user unshare --map-auto cat /proc/self/uid_map
	[ "$status" = 0 ]
	[ "$(echo $output)" = "0 $sub 65536" ]
	# -r with --map-auto: root is the caller, the 65536 subids follow
	# (util-linux's --map-auto fix, after 2.42.2).
	run nsb_user unshare -r --map-auto cat /proc/self/uid_map
	[ "$status" = 0 ]
	[ "$(echo $output)" = "0 $uid 1 1 $sub 65536" ]
	run nsb_user unshare --map-subids cat /proc/self/uid_map
	[ "$status" = 0 ]
	[ "$(echo $output)" = "$sub $sub 65536" ]
	run nsb_user unshare --map-users=subids --map-groups=auto sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
	[ "$status" = 0 ]
	[ "$(echo $output)" = "$sub $sub 65536 0 $sub 65536" ]
}

@test "--setgroups allow and deny" {
	requires root userns ref:unshare
	same unshare -U --setgroups=deny cat /proc/self/setgroups
	expect 0 deny
	same unshare -U --setgroups allow cat /proc/self/setgroups
	expect 0 allow
}

@test "-u keeps the hostname inside" {
	requires root ref:unshare
	before=$(hostname)
	same unshare -u sh -c 'hostname nsbox-test-uts; hostname'
	expect 0 nsbox-test-uts
	[ "$(hostname)" = "$before" ]
}

@test "persistent namespace files outlive the process and util-linux nsenter enters them" {
	requires root ref:nsenter
	before=$(hostname)
	for kind in uts net ipc; do
		f=$BATS_TEST_TMPDIR/$kind
		touch "$f"
		# Only in the new uts namespace: elsewhere it would be the host's.
		set_name=true
		[ "$kind" != uts ] || set_name="hostname nsbox-test-persist"
		nsb_run unshare --$kind="$f" sh -c "$set_name"
		[ "$status" = 0 ] || { echo "$kind: $errout"; false; }
		grep -q " $f " /proc/self/mountinfo
		inode=$(stat -Lc %i "$f")
		[ "$(/usr/bin/nsenter --$kind="$f" stat -Lc %i /proc/self/ns/$kind)" = "$inode" ]
		[ "$kind" != uts ] || [ "$(/usr/bin/nsenter --uts="$f" hostname)" = nsbox-test-persist ]
		umount "$f"
	done
	[ "$(hostname)" = "$before" ]
}

@test "a persistent pid namespace file names the namespace of the children" {
	requires root ref:nsenter
	f=$BATS_TEST_TMPDIR/pid
	touch "$f"
	nsb_run unshare -f --pid="$f" --mount-proc readlink /proc/self/ns/pid
	[ "$status" = 0 ]
	[ "pid:[$(stat -Lc %i "$f")]" = "$output" ]
	umount "$f"
}

@test "a persistent mount namespace file is bound outside the new mount namespace" {
	requires root
	# A private mount to hold the file, so the bind stays in this test.
	d=$BATS_TEST_TMPDIR/mnt
	mkdir "$d"
	# Pinned to one CPU: this kernel hands out mount namespace ids from
	# per-CPU batches, so a newer namespace can get a smaller id and the
	# bind is refused as a loop (EINVAL) about one time in three, for
	# util-linux's unshare just as for nsbox's.
	taskset -c 0 unshare -m --propagation private sh -c "
		mount -t tmpfs t '$d' && mount --make-private '$d' && touch '$d/ns' &&
		'$NSDIR/unshare' --mount='$d/ns' true &&
		grep -q ' $d/ns ' /proc/self/mountinfo &&
		[ \$(nsenter --mount='$d/ns' readlink /proc/self/ns/mnt) = mnt:[\$(stat -Lc %i '$d/ns')] ]"
}

# propagation UNSHARE MODE: mount a tmpfs inside a new mount namespace
# made by UNSHARE with --propagation MODE, and one outside; report which
# side sees which. Every wait is bounded.
propagation() {
	local d=$BATS_TEST_TMPDIR/prop
	mkdir -p "$d"
	unshare -m --propagation private sh -c "
		mount -t tmpfs t '$d' && mount --make-shared '$d' && mkdir '$d/in' '$d/out'
		'$1' -m --propagation $2 sh -c '
			mount -t tmpfs i \"$d/in\"
			for i in \$(seq 200); do [ -e \"$d/go\" ] && break; sleep 0.02; done
			grep -q \" $d/out \" /proc/self/mountinfo && echo inside-sees-outside || echo inside-blind' &
		for i in \$(seq 200); do grep -q ' $d/in ' /proc/\$!/mountinfo 2>/dev/null && break; sleep 0.02; done
		mount -t tmpfs o '$d/out'; touch '$d/go'
		grep -q ' $d/in ' /proc/self/mountinfo && echo outside-sees-inside || echo outside-blind
		wait"
}

@test "--propagation is seen from both sides as with util-linux" {
	requires root ref:unshare
	for mode in private slave shared unchanged; do
		n=$(propagation "$NSDIR/unshare" "$mode" | sort) r=$(propagation "$REFDIR/unshare" "$mode" | sort)
		[ "$n" = "$r" ] || { echo "$mode: nsbox [$n] util-linux [$r]"; false; }
	done
	[ "$(propagation "$NSDIR/unshare" shared | sort | tr '\n' ' ')" = "inside-sees-outside outside-sees-inside " ]
	[ "$(propagation "$NSDIR/unshare" private | sort | tr '\n' ' ')" = "inside-blind outside-blind " ]
	[ "$(propagation "$NSDIR/unshare" slave | sort | tr '\n' ' ')" = "inside-sees-outside outside-blind " ]
}

@test "-fp --mount-proc: the command is pid 1 and ps sees only it" {
	requires root ref:unshare
	same unshare -fp --mount-proc sh -c 'echo $$; ps -o pid='
	[ "$(echo $output)" = "1 1 2" ] # sh, then ps as it lists: sh and itself
}

@test "the waiting unshare keeps its name for ps and pgrep" {
	requires root ref:unshare
	# nsbox re-executes itself through /proc/self/exe, which the kernel
	# would name "exe"; the parent of a forked program is still unshare.
	same unshare -f sh -c 'cat /proc/$PPID/comm'
	expect 0 "unshare"
}

@test "-p without -f: the program stays outside, its first child is pid 1" {
	requires root ref:unshare
	FILTER='1s/^[0-9][0-9]*$/PID/' same unshare -p sh -c 'echo $$; sh -c "echo \$\$"'
	[ "$(echo $output)" = "PID 1" ]
}

@test "time namespace offsets shift the boot and monotonic clocks" {
	requires root timens
	up=$(cut -d. -f1 /proc/uptime)
	nsb_run unshare -T --boottime 1000000 cut -d. -f1 /proc/uptime
	[ "$status" = 0 ] && [ "$output" -ge $((up + 1000000)) ] && [ "$output" -lt $((up + 1000100)) ]
	nsb_run unshare -T --monotonic=-$up --boottime=-$((up - 10)) cut -d. -f1 /proc/uptime
	[ "$status" = 0 ] && [ "$output" -ge 10 ] && [ "$output" -lt 100 ]
}

@test "the exit status and a signal death pass through" {
	requires root ref:unshare
	same unshare sh -c 'exit 42'
	[ "$status" = 42 ]
	same unshare -f sh -c 'exit 3'
	[ "$status" = 3 ]
	same unshare -f sh -c 'kill -TERM $$'
	[ "$status" = 143 ]
	same unshare sh -c 'kill -INT $$'
	[ "$status" = 130 ]
	# 2.38 printed "sigprocmask unblock failed" here; 2.42 dies of SIGKILL.
	rc=0
	"$NSDIR/unshare" -f sh -c 'kill -KILL $$' 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" = 137 ] && [ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "failing to execute the program: 127 and 126" {
	requires root ref:unshare
	same unshare nsbox-no-such-command
	expect 127 "" "unshare: failed to execute nsbox-no-such-command: No such file or directory"
	same unshare /etc/passwd
	expect 126 "" "unshare: failed to execute /etc/passwd: Permission denied"
}

@test "--kill-child kills the child when unshare is killed" {
	requires root
	"$NSDIR/unshare" -f --kill-child sleep 300 &
	parent=$!
	disown
	wait_for has_child $parent
	child=$(child_of $parent)
	[ "$(cat /proc/$child/comm)" = sleep ]
	kill -KILL $parent
	wait_for test ! -e /proc/$child
}

@test "without --kill-child the child outlives a killed unshare" {
	requires root
	"$NSDIR/unshare" -f sleep 300 &
	parent=$!
	disown
	wait_for has_child $parent
	child=$(child_of $parent)
	kill -KILL $parent
	wait $parent || true
	sleep 0.2
	[ -e /proc/$child ]
	kill -KILL $child
}

@test "--forward-signals hands SIGTERM to the child" {
	requires root
	"$NSDIR/unshare" --forward-signals sh -c 'trap "echo child got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done' >"$BATS_TEST_TMPDIR/out" &
	parent=$!
	wait_for grep -q ready "$BATS_TEST_TMPDIR/out"
	kill -TERM $parent
	rc=0
	wait $parent || rc=$?
	[ "$rc" = 7 ]
	grep -q "child got TERM" "$BATS_TEST_TMPDIR/out"
}

@test "-R and -w change root and directory" {
	requires root busybox ref:unshare
	make_rootfs "$BATS_TEST_TMPDIR/root"
	same unshare -R "$BATS_TEST_TMPDIR/root" -w /bin pwd
	expect 0 /bin
	same unshare --root="$BATS_TEST_TMPDIR/root" /bin/sh -c 'pwd; ls /'
	[ "$(echo $output)" = "/ bin dev etc proc root sys tmp" ]
	same unshare -w /tmp pwd
	expect 0 /tmp
}

@test "the program runs on the CPUs the caller may use" {
	requires root ref:unshare ref:nsenter
	[ "$(nproc --all)" -gt 1 ] || skip "one CPU: nsbox does not narrow its start-up then"
	# nsbox's Go side starts on one CPU; the program must not notice.
	for t in "" "taskset -c 1" "taskset -c 0,1"; do
		same $t unshare -m grep Cpus_allowed_list /proc/self/status
		same $t unshare -fp grep Cpus_allowed_list /proc/self/status
		same $t nsenter -t $$ -m grep Cpus_allowed_list /proc/self/status
		# The waiting parent too.
		same $t unshare -f sh -c 'grep Cpus_allowed_list /proc/$PPID/status'
	done
	same unshare -m grep Cpus_allowed_list /proc/self/status
	expect 0 "$(grep Cpus_allowed_list /proc/self/status)"
}

@test "--keep-caps makes the capabilities ambient" {
	requires root userns ref:unshare
	same unshare -Ur --keep-caps grep CapAmb /proc/self/status
	[ "$output" != "CapAmb:	0000000000000000" ]
	same unshare -Ur grep CapAmb /proc/self/status
	expect 0 "CapAmb:	0000000000000000"
}

@test "-S and -G set ids in the new namespace" {
	requires root ref:unshare
	same unshare -S 65534 -G 65534 sh -c 'id -u; id -g; id -G'
	expect 0 "65534
65534
65534"
	same unshare --setuid=0 id -u
	expect 0 0
}

@test "--clear-env and --whitelist-env (util-linux's development branch)" {
	requires root
	nsb_run env -i FOO=1 BAR=2 BAZ=3 "$NSDIR/unshare" --clear-env /usr/bin/env
	expect 0 ""
	# Whitelisted variables are set in reverse order, as util-linux does.
	nsb_run env -i FOO=1 BAR=2 BAZ=3 "$NSDIR/unshare" --whitelist-env FOO,BAZ,NOPE /usr/bin/env
	expect 0 "BAZ=3
FOO=1"
}

@test "no program: \$SHELL runs as a login shell" {
	requires root ref:unshare
	n=$(echo 'echo "argv0=$0"' | SHELL=/bin/dash nsb unshare -u)
	r=$(echo 'echo "argv0=$0"' | SHELL=/bin/dash ref unshare -u)
	[ "$n" = "argv0=-dash" ] && [ "$n" = "$r" ]
	# Without $SHELL: the passwd shell of the uid the program runs as.
	n=$(echo 'echo "argv0=$0"' | env -u SHELL "$NSDIR/unshare" -u)
	[ "$n" = "argv0=-$(basename "$(getent passwd root | cut -d: -f7)")" ]
}

@test "--help and --version" {
	nsb_run unshare --help
	[ "$status" = 0 ]
	[ "$(echo "$output" | head -3 | tail -1)" = " unshare [options] [<program> [<argument>...]]" ]
	echo "$output" | grep -q -- "--map-subids"
	nsb_run unshare -V
	[[ "$output" == "unshare from util-linux 2.42.2 (nsbox "* ]]
}

@test "usage errors are worded as util-linux words them" {
	requires ref:unshare
	for args in "--bogus" "-Z" "--propagation" "-R" "--fork=1" "--m" "--map-u" "--=x" "--setgroups maybe" \
		"--propagation foo" "--kill-child=FOO" "--kill-child=9" "-S abc" "-- true"; do
		case $args in
		--m | --=x) continue ;; # 2.42 adds options to the ambiguity lists
		esac
		same unshare $args || { echo "args: $args"; false; }
	done
	# 2.42.2's wording, where it differs from 2.38.1.
	nsb_run unshare --fo=1
	expect 1 "" "unshare: option '--fo=1' is ambiguous; possibilities: '--fork' '--forward-signals'
Try 'unshare --help' for more information."
	nsb_run unshare --owner 1:x
	expect 1 "" "unshare: failed to parse owner"
	nsb_run unshare --ma
	expect 1 "" "unshare: option '--ma' is ambiguous; possibilities: '--map-user' '--map-users' '--map-group' '--map-groups' '--map-root-user' '--map-current-user' '--map-auto' '--map-subids'
Try 'unshare --help' for more information."
	nsb_run unshare -S -1 true
	expect 1 "" "unshare: failed to parse uid: '-1': Numerical result out of range"
	nsb_run unshare --map-user nsbox-no-such-user true
	expect 1 "" "unshare: failed to parse uid 'nsbox-no-such-user'"
	nsb_run unshare --map-users 0:1000:1:2 true
	expect 1 "" "unshare: invalid mapping '0:1000:1:2'"
	nsb_run unshare --monotonic 5 true
	expect 1 "" "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)"
	nsb_run unshare -w /nonexistent true
	expect 1 "" "unshare: cannot change directory to /nonexistent: No such file or directory"
}

@test "bad input leaves nothing behind" {
	requires root
	f=$BATS_TEST_TMPDIR/f
	touch "$f"
	leaves_nothing unshare --uts="$f" -R /nonexistent true
	[ "$errout" = "unshare: cannot change root directory to '/nonexistent': No such file or directory" ]
	leaves_nothing unshare --uts="$f" --net=/nonexistent/x true
	[ "$errout" = "unshare: mount /proc/$(pgrep -n -f nsbox || true)/ns/net on /nonexistent/x failed: No such file or directory" ] ||
		[[ "$errout" == "unshare: mount /proc/"*"/ns/net on /nonexistent/x failed: No such file or directory" ]]
	leaves_nothing unshare --uts="$f" -U --map-group=0 --setgroups=allow true
	[ "$errout" = "unshare: options --setgroups=allow and --map-group are mutually exclusive" ]
	leaves_nothing unshare --uts="$f" --map-users=1:2 true
	leaves_nothing unshare --mount-proc=/nonexistent true
	leaves_nothing unshare --name nsbox-test-bad -R /nonexistent true
	[ ! -e /run/nsbox/nsbox-test-bad ]
}

@test "--name registers the container while it runs (nsbox extension)" {
	requires root
	"$NSDIR/unshare" --name nsbox-test-named -fpu --kill-child sleep 300 &
	parent=$!
	wait_for test -e /run/nsbox/nsbox-test-named
	child=$(child_of $parent)
	read pid start </run/nsbox/nsbox-test-named
	[ "$pid" = "$(child_of $parent)" ]
	nsb_run unshare --name nsbox-test-named true
	[ "$status" = 1 ]
	[[ "$errout" == "unshare: container 'nsbox-test-named' is already running (pid $pid)" ]]
	# The container's init (pid 1 of its pid namespace) takes only SIGKILL
	# from outside; unshare dies of it too, and removes the entry.
	kill -KILL "$child"
	rc=0
	wait $parent || rc=$?
	[ "$rc" = 137 ]
	[ ! -e /run/nsbox/nsbox-test-named ]
	# --name is matched only when spelled in full: --n is still --net.
	same unshare --n readlink /proc/self/ns/net || true
	[ "$status" = 0 ]
}
