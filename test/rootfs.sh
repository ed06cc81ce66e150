#!/bin/sh
# rootfs.sh DIR: make a minimal root filesystem in DIR out of a static
# busybox: /bin with every busybox applet, and the empty directories a
# container mounts things on. Sourced by the demo, the bats suite and the
# benchmark; it prints nothing and fails if busybox-static is missing.
set -eu

busybox_static() {
	for b in /bin/busybox /usr/bin/busybox; do
		# The static build runs without any shared library in the rootfs.
		if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
			echo "$b"
			return 0
		fi
	done
	echo "rootfs.sh: no static busybox (apt-get install busybox-static)" >&2
	return 1
}

make_rootfs() {
	dir=$1
	bb=$(busybox_static)
	mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/etc" "$dir/root"
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$bb" --list); do
		[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
	echo "root:x:0:" > "$dir/etc/group"
	chmod 1777 "$dir/tmp"
}

if [ "${0##*/}" = rootfs.sh ]; then
	make_rootfs "$1"
fi
