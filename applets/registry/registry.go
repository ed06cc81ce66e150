// Package registry keeps nsbox's named containers: a process tree started
// with --name NAME by unshare or pivot can be found again by attach.
//
// An entry is a file DIR/NAME holding "PID STARTTIME\n": the pid of the
// container's first process as the host sees it and its start time (field
// 22 of /proc/PID/stat), which tells that pid apart from a later process
// that reuses it. With --fork the waiting parent writes the entry for its
// child and removes it when the child ends; otherwise the entry names the
// process itself and is removed by the first lookup that finds it dead.
package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/procfs"
)

// Dir is where entries live: /run/nsbox for root, else the user's runtime
// directory.
func Dir() string {
	if os.Geteuid() == 0 {
		return "/run/nsbox"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "nsbox")
	}
	return filepath.Join(os.TempDir(), "nsbox-"+strconv.Itoa(os.Geteuid()))
}

// ErrNotFound is returned for a name with no live entry.
var ErrNotFound = errors.New("no such container")

// Entry is one registered container.
type Entry struct {
	Name  string
	Pid   int
	Start uint64
}

// CheckName refuses names that cannot be file names.
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 200 {
		return fmt.Errorf("invalid container name '%s'", name)
	}
	return nil
}

// Path is the entry file of name in dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }

// StartTime reads the start time of pid from proc ("/proc").
func StartTime(proc string, pid int) (uint64, error) {
	b, err := procfs.Read(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold anything.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	f := strings.Fields(s[i+1:])
	// Fields after the name start at field 3 (state); starttime is 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("bad stat for %d", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// Lookup returns the live entry for name. A dead entry is removed.
func Lookup(dir, proc, name string) (*Entry, error) {
	b, err := procfs.Read(Path(dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	var e Entry
	if _, err := fmt.Sscanf(string(b), "%d %d\n", &e.Pid, &e.Start); err != nil {
		return nil, fmt.Errorf("corrupt entry %s", Path(dir, name))
	}
	e.Name = name
	if start, err := StartTime(proc, e.Pid); err != nil || start != e.Start {
		os.Remove(Path(dir, name))
		return nil, ErrNotFound
	}
	return &e, nil
}

// Prepare makes dir and refuses a name that a live container holds.
func Prepare(dir, proc, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if e, err := Lookup(dir, proc, name); err == nil {
		return fmt.Errorf("container '%s' is already running (pid %d)", name, e.Pid)
	}
	return nil
}

// Write records pid under name, atomically.
func Write(dir, proc, name string, pid int) error {
	start, err := StartTime(proc, pid)
	if err != nil {
		return err
	}
	tmp := Path(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %d\n", pid, start)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, Path(dir, name))
}
