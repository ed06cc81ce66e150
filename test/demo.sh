#!/bin/sh
# make demo: a container from scratch. It builds a busybox root filesystem,
# then starts a shell in it with new pid, mount, uts, ipc and net
# namespaces, its root switched to the rootfs with pivot_root (nsbox pivot
# -fpuin --hostname nsbox-demo ROOTFS) and prints what it sees: itself as
# pid 1, its own hostname, its mounts and its namespace inodes next to the
# host's.
set -eu
nsbox=$(realpath "${1:-./nsbox}")
here=$(dirname "$0")
. "$here/rootfs.sh"

root=$(mktemp -d /tmp/nsbox-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
make_rootfs "$root"

echo "== host"
echo "hostname: $(hostname)"
for ns in pid mnt uts ipc net; do
	printf '%-4s %s\n' "$ns" "$(readlink /proc/$$/ns/$ns)"
done > "$root/tmp/host-ns"
cat "$root/tmp/host-ns"

cat > "$root/inside.sh" <<'INSIDE'
	echo "hostname: $(hostname)"
	echo "my pid:   $$"
	echo
	echo "processes (ps):"
	ps -o pid,user,args
	echo
	echo "mounts (/proc/mounts):"
	cat /proc/mounts
	echo
	echo "namespaces:       host                 container"
	while read ns link; do
		mine=$(readlink /proc/self/ns/$ns)
		same=different; [ "$mine" = "$link" ] && same=shared
		printf "  %-4s %-20s %-20s %s\n" "$ns" "$link" "$mine" "$same"
	done < /tmp/host-ns
	echo
	echo "network interfaces:"
	ip -o link | cut -d: -f2
INSIDE

echo
echo "== \$ nsbox pivot -fpuin --hostname nsbox-demo $root /bin/sh /inside.sh"
"$nsbox" pivot -fpuin --hostname nsbox-demo "$root" /bin/sh /inside.sh
echo
echo "== back on the host: hostname is still $(hostname)"
