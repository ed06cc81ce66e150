#!/bin/sh
# lxc.sh create NAME [stopped] | destroy NAME: an LXC container for the
# attach tests and the benchmark, from LXC's busybox template, with no
# network (lxc.net.0.type = empty: nothing touches the host's bridges),
# started unless told otherwise. destroy stops and removes it; both are
# quiet unless something fails.
set -eu

case "${1:-}" in
create)
	name=$2
	conf=$(mktemp)
	trap 'rm -f "$conf"' EXIT
	echo "lxc.net.0.type = empty" > "$conf"
	lxc-create -q -n "$name" -t busybox -f "$conf" >/dev/null
	[ "${3:-}" = stopped ] && exit 0
	lxc-start -n "$name"
	lxc-wait -n "$name" -s RUNNING -t 10
	# The busybox template's init starts a shell on the console and
	# little else; give it a moment to exist.
	i=0
	while [ $i -lt 50 ] && ! lxc-attach -n "$name" -- true 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	;;
destroy)
	name=$2
	lxc-stop -k -n "$name" >/dev/null 2>&1 || true
	lxc-destroy -q -n "$name" >/dev/null 2>&1 || true
	;;
*)
	echo "usage: lxc.sh create|destroy NAME" >&2
	exit 2
	;;
esac
