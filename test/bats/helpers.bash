# helpers.bash: what the nsbox bats suites share.
#
# Every workflow runs the same command line through nsbox's link and, where
# it is installed, through the tool nsbox stands in for, and compares exit
# status, stdout and stderr. Both are called by the same name through PATH
# ("unshare ..."), so getopt's messages, which name argv[0], can match.

: "${NSBOX:?set NSBOX to the nsbox binary (make test does)}"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_USER=nsbox-test

# links makes $NSDIR (nsbox's links) and $REFDIR (the references), in a
# directory the unprivileged test user can reach too; unlinks removes it,
# and fails if the file left the host changed: its hostname (put back;
# a test set one outside a uts namespace of its own), mounts under /tmp,
# or entries in nsbox's registry.
links() {
	export HOST_NAME HOST_LEFT
	HOST_NAME=$(hostname)
	HOST_LEFT=$(host_leftovers)
	LINKS=$(mktemp -d /tmp/nsbox-test-links.XXXXXX)
	chmod 755 "$LINKS"
	export LINKS NSDIR="$LINKS/nsbox" REFDIR="$LINKS/ref"
	mkdir -p "$NSDIR" "$REFDIR"
	local a p
	for a in unshare nsenter lxc-attach pivot_root; do
		ln -sf "$NSBOX" "$NSDIR/$a"
		p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$a") && ln -sf "$p" "$REFDIR/$a"
	done
	ln -sf "$NSBOX" "$NSDIR/nsbox"
	chmod 755 "$NSDIR" "$REFDIR"
}

unlinks() {
	local ok=0 left
	rm -rf "$LINKS"
	if [ "$(hostname)" != "$HOST_NAME" ]; then
		echo "the host's hostname changed to $(hostname); it was $HOST_NAME" >&2
		hostname "$HOST_NAME"
		ok=1
	fi
	left=$(host_leftovers)
	if [ "$left" != "$HOST_LEFT" ]; then
		echo "left behind on the host:" >&2
		diff <(echo "$HOST_LEFT") <(echo "$left") >&2
		ok=1
	fi
	return $ok
}

# host_leftovers lists what a test could leave on the host: mounts under
# /tmp and entries in nsbox's registry.
host_leftovers() {
	awk '$5 ~ "^/tmp/" {print $5}' /proc/self/mountinfo | sort
	ls /run/nsbox 2>/dev/null || true
}

# nsb and ref run a command line with nsbox's or the reference's tools first
# on PATH.
nsb() { PATH="$NSDIR:$PATH" "$@"; }
ref() { PATH="$REFDIR:$PATH" "$@"; }

# requires NAME...: skip the test, saying why, unless each requirement
# holds. An unknown requirement is a mistake in the test: it fails.
requires() {
	local r
	for r in "$@"; do
		case $r in
		root) [ "$(id -u)" = 0 ] || skip "needs root" ;;
		ref:*) [ -x "$REFDIR/${r#ref:}" ] || skip "the reference ${r#ref:} is not installed" ;;
		userns) unshare -U true 2>/dev/null || skip "user namespaces are not available" ;;
		timens) unshare -T true 2>/dev/null || skip "time namespaces are not available" ;;
		cgroupns) unshare -C true 2>/dev/null || skip "cgroup namespaces are not available" ;;
		newuidmap) command -v newuidmap >/dev/null || skip "newuidmap (uidmap) is not installed" ;;
		testuser)
			id "$TEST_USER" >/dev/null 2>&1 && grep -q "^$TEST_USER:" /etc/subuid ||
				skip "the $TEST_USER user with subordinate ids is missing (make deps)"
			;;
		busybox) [ -x /bin/busybox ] || skip "busybox-static is not installed" ;;
		overlay) grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlay filesystem" ;;
		cgroup2) [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || skip "/sys/fs/cgroup is not cgroup v2 here" ;;
		strace) command -v strace >/dev/null || skip "strace is not installed" ;;
		*)
			echo "requires: unknown requirement '$r'" >&2
			return 1
			;;
		esac
	done
}

# as_user CMD...: run a command line as the unprivileged test user.
as_user() {
	local cmd
	printf -v cmd '%q ' "$@"
	su -s /bin/sh "$TEST_USER" -c "cd /; $cmd"
}

# nsb_user / ref_user CMD...: as_user with nsbox's or the reference's
# tools first on PATH; nsb_user checks that the user does reach nsbox.
nsb_user() {
	as_user env PATH="$NSDIR:$PATH" unshare --version | grep -q nsbox || {
		echo "$TEST_USER cannot reach nsbox's links in $NSDIR"
		return 1
	}
	as_user env PATH="$NSDIR:$PATH" "$@"
}
ref_user() { as_user env PATH="$REFDIR:$PATH" "$@"; }

# same CMD...: run CMD through nsbox and the reference; fail, showing both,
# unless exit status, stdout and stderr agree (each passed through $FILTER,
# a sed script, when set). Leaves nsbox's results in $status, $output
# (stdout) and $errout.
same() {
	local d=$BATS_TEST_TMPDIR nrc=0 rrc=0
	nsb "$@" >"$d/n.out" 2>"$d/n.err" </dev/null || nrc=$?
	ref "$@" >"$d/r.out" 2>"$d/r.err" </dev/null || rrc=$?
	if [ -n "${FILTER:-}" ]; then
		local f
		for f in n.out n.err r.out r.err; do sed -i -e "$FILTER" "$d/$f"; done
	fi
	status=$nrc output=$(cat "$d/n.out") errout=$(cat "$d/n.err")
	if [ "$nrc" != "$rrc" ] || ! cmp -s "$d/n.out" "$d/r.out" || ! cmp -s "$d/n.err" "$d/r.err"; then
		echo "command: $*"
		echo "--- nsbox: exit $nrc"
		cat "$d/n.out"
		sed 's/^/stderr: /' "$d/n.err"
		echo "--- reference: exit $rrc"
		cat "$d/r.out"
		sed 's/^/stderr: /' "$d/r.err"
		return 1
	fi
}

# expect STATUS STDOUT [STDERR]: check nsbox's results of the last
# "same" or "nsb_run" against known answers (util-linux's newest release
# where it differs from the installed one).
expect() {
	local ok=1
	[ "$status" = "$1" ] || ok=
	[ "$output" = "$2" ] || ok=
	if [ $# -ge 3 ] && [ "$errout" != "$3" ]; then ok=; fi
	if [ -z "$ok" ]; then
		echo "want: exit $1"
		echo "$2"
		[ $# -ge 3 ] && echo "$3" | sed 's/^/stderr: /'
		echo "got: exit $status"
		echo "$output"
		echo "$errout" | sed 's/^/stderr: /'
		return 1
	fi
}

# nsb_run CMD...: run CMD through nsbox only, results as for same.
nsb_run() {
	local d=$BATS_TEST_TMPDIR rc=0
	nsb "$@" >"$d/n.out" 2>"$d/n.err" </dev/null || rc=$?
	status=$rc output=$(cat "$d/n.out") errout=$(cat "$d/n.err")
}

# host_state: what a failed command must leave as it was.
host_state() {
	{
		grep -v ' /proc/[0-9]' /proc/self/mountinfo | awk '{print $5}' | sort
		ls /run/nsbox 2>/dev/null || true
	} >"$BATS_TEST_TMPDIR/state.$1"
}

# leaves_nothing CMD...: run CMD through nsbox; it must fail and leave no
# mount, registry entry or process behind.
leaves_nothing() {
	host_state before
	local before_procs
	before_procs=$(pgrep -c -f "$NSBOX" || true)
	nsb_run "$@"
	host_state after
	[ "$status" != 0 ] || { echo "expected a failure from: $*"; return 1; }
	diff "$BATS_TEST_TMPDIR/state.before" "$BATS_TEST_TMPDIR/state.after" || { echo "left something behind: $*"; return 1; }
	[ "$(pgrep -c -f "$NSBOX" || true)" -le "$before_procs" ] || { echo "left a process behind: $*"; return 1; }
}

# ns_of PID NAME: the inode of a process's namespace.
ns_of() { stat -Lc %i "/proc/$1/ns/$2"; }

# make_rootfs DIR: a busybox root filesystem.
make_rootfs() { sh "$HERE/../rootfs.sh" "$1"; }

# wait_for CMD...: poll CMD for up to 5 seconds.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# child_of PID: the first child of a process; has_child PID: it has one.
child_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
has_child() { [ -n "$(child_of "$1")" ]; }
