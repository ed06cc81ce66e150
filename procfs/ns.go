// Package procfs reads what nsbox needs from /proc. Every reader takes the
// proc root as a directory, so tests can point it at a fixture tree.
package procfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Namespace is one kind of Linux namespace.
type Namespace struct {
	// Name is its link under /proc/PID/ns.
	Name string
	// Flag is its CLONE_NEW* flag.
	Flag uintptr
	// ForChildren is the link that names the namespace the process's
	// future children get, for the kinds that have one.
	ForChildren string
}

// The namespace kinds, in the order util-linux keeps them: the user
// namespace first, so that a caller can enter it first or last.
var (
	User   = Namespace{"user", unix.CLONE_NEWUSER, ""}
	Cgroup = Namespace{"cgroup", unix.CLONE_NEWCGROUP, ""}
	IPC    = Namespace{"ipc", unix.CLONE_NEWIPC, ""}
	UTS    = Namespace{"uts", unix.CLONE_NEWUTS, ""}
	Net    = Namespace{"net", unix.CLONE_NEWNET, ""}
	PID    = Namespace{"pid", unix.CLONE_NEWPID, "pid_for_children"}
	Mount  = Namespace{"mnt", unix.CLONE_NEWNS, ""}
	Time   = Namespace{"time", unix.CLONE_NEWTIME, "time_for_children"}

	Namespaces = []Namespace{User, Cgroup, IPC, UTS, Net, PID, Mount, Time}
)

// NSPath is the path of pid's link for ns under root ("/proc").
func NSPath(root string, pid int, name string) string {
	return filepath.Join(root, strconv.Itoa(pid), "ns", name)
}

// NSInode returns the inode number that identifies the namespace a link
// points at, as in "mnt:[4026531841]".
func NSInode(root string, pid int, name string) (uint64, error) {
	l, err := os.Readlink(NSPath(root, pid, name))
	if err != nil {
		return 0, err
	}
	return ParseNSLink(l)
}

// ParseNSLink parses the target of a namespace link, "type:[inode]".
func ParseNSLink(l string) (uint64, error) {
	i := strings.LastIndex(l, ":[")
	if i < 0 || !strings.HasSuffix(l, "]") {
		return 0, fmt.Errorf("not a namespace link: %q", l)
	}
	return strconv.ParseUint(l[i+2:len(l)-1], 10, 64)
}
