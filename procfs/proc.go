package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Path is the path of file under /proc/PID in root ("/proc").
func Path(root string, pid int, file string) string {
	return filepath.Join(root, strconv.Itoa(pid), file)
}

// ParseEnviron splits the content of /proc/PID/environ into NAME=VALUE
// strings, in the process's order. Entries without '=' are dropped.
func ParseEnviron(data []byte) []string {
	var env []string
	for _, kv := range bytes.Split(data, []byte{0}) {
		if i := bytes.IndexByte(kv, '='); i > 0 {
			env = append(env, string(kv))
		}
	}
	return env
}

// CgroupPath returns the path that the first line of /proc/PID/cgroup
// gives, what follows its last ':'. On a cgroup v2 system that line is the
// process's only one, "0::/path".
func CgroupPath(data []byte) (string, bool) {
	line, _, _ := strings.Cut(string(data), "\n")
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		return "", false
	}
	return line[i+1:], true
}

// StatusField returns the fields of the line KEY of /proc/PID/status
// ("Uid:\t0\t0\t0\t0" gives the four ids), or nothing.
func StatusField(data []byte, key string) []string {
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.Fields(v)
		}
	}
	return nil
}

// IDRange is one line of a uid_map or gid_map.
type IDRange struct{ Inside, Outside, Count uint32 }

// ParseIDMap parses /proc/PID/uid_map or gid_map.
func ParseIDMap(data []byte) []IDRange {
	var m []IDRange
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		var v [3]uint32
		ok := true
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			ok = ok && err == nil
			v[i] = uint32(n)
		}
		if ok {
			m = append(m, IDRange{v[0], v[1], v[2]})
		}
	}
	return m
}

// Inside maps an id seen from the parent namespace into the namespace of
// the map, if it is mapped.
func Inside(m []IDRange, outside uint32) (uint32, bool) {
	for _, r := range m {
		if outside >= r.Outside && outside-r.Outside < r.Count {
			return r.Inside + (outside - r.Outside), true
		}
	}
	return 0, false
}

// Outside maps an id of the namespace of the map to the parent
// namespace, if it is mapped.
func Outside(m []IDRange, inside uint32) (uint32, bool) {
	for _, r := range m {
		if inside >= r.Inside && inside-r.Inside < r.Count {
			return r.Outside + (inside - r.Inside), true
		}
	}
	return 0, false
}

// ReadFile reads a file under /proc/PID.
func ReadFile(root string, pid int, file string) ([]byte, error) {
	return Read(Path(root, pid, file))
}

// Read reads a whole file as os.ReadFile does, with plain system calls:
// os.ReadFile registers what it opens with the runtime's poller (files in
// /proc can be polled), which costs nsbox's short runs an epoll instance
// and a few calls per file. Errors are *os.PathError, as os's.
func Read(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 4096)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// LastCap is the highest capability number the kernel knows, from
// root's sys/kernel/cap_last_cap, else by probing the bounding set.
func LastCap(root string) int {
	if b, err := Read(filepath.Join(root, "sys/kernel/cap_last_cap")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	n := 0
	for ; n < 63; n++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n+1), 0, 0, 0); err != nil {
			break
		}
	}
	return n
}
