package attach

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/registry"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// nsOrder is LXC's ns_info order: user, mnt, pid, uts, ipc, net, cgroup,
// time.
var nsOrder = []procfs.Namespace{procfs.User, procfs.Mount, procfs.PID, procfs.UTS, procfs.IPC,
	procfs.Net, procfs.Cgroup, procfs.Time}

// Target is a running container as attach sees it.
type Target struct {
	Pid        int
	Pidfd      int     // -1 when the kernel has no pidfds
	Namespaces uintptr // the ones to join
	CgroupFDs  []int   // cgroup.procs files to write our pid to
	CapBnd     uint64  // the init's bounding set
	UID, GID   uint32  // the init's ids, as the host sees them
	SetupUID   uint32  // ids to take in its user namespace first
	SetupGID   uint32
	Personal   uint64
	NoNewPrivs bool
	Env        [][2]string // lxc.environment
	lxc        bool        // an LXC container (else one of nsbox's)
}

// Find looks the container up: nsbox's registry first, then LXC.
func (o *Options) Find(ctx *app.Context) (*Target, error) {
	if e, err := registry.Lookup(registry.Dir(), "/proc", o.Name); err == nil {
		if t, err := o.fromRegistry(e); err == nil {
			return t, nil
		}
	}
	return o.fromLXC(ctx)
}

// fromRegistry describes a container that nsbox started: every namespace
// in which its first process differs from us, its cgroups and bounding
// set.
func (o *Options) fromRegistry(e *registry.Entry) (*Target, error) {
	t := &Target{Pid: e.Pid, Pidfd: -1, Personal: archUnchanged}
	if fd, err := unix.PidfdOpen(e.Pid, 0); err == nil {
		t.Pidfd = fd
	}
	// With the pidfd held, the pid cannot be reused: check it is still
	// the process that was registered.
	if start, err := registry.StartTime("/proc", e.Pid); err != nil || start != e.Start {
		t.close()
		return nil, registry.ErrNotFound
	}
	mask := ^uintptr(0)
	if o.Namespaces >= 0 {
		mask = uintptr(o.Namespaces) // -s names them
	}
	t.Namespaces = differing(e.Pid, mask)
	if err := t.readInit(); err != nil {
		t.close()
		return nil, err
	}
	if o.Flags&^o.Elevated&flagMoveToCgroup != 0 {
		t.CgroupFDs = procCgroupFDs(e.Pid)
	}
	return t, nil
}

// fromLXC asks a container's monitor what attach needs, as LXC's
// get_attach_context does.
func (o *Options) fromLXC(ctx *app.Context) (*Target, error) {
	// Each command is a connection the monitor serves in turn (about a
	// third of a millisecond here): ask only what is needed. The init's
	// pidfd names its pid too.
	t := &Target{Pid: -1, Pidfd: -1, Personal: archUnchanged}
	r, err := lxcCommand(o.LXCPath, o.Name, cmdGetInitPidfd, nil, 1)
	if err == nil {
		if t.Pidfd = r.fd(); t.Pidfd >= 0 {
			t.Pid = pidfdPid(t.Pidfd)
		}
	}
	if err == nil && t.Pid <= 0 {
		// An LXC without pidfds: the pid, then a pidfd of our own.
		if r, err = lxcCommand(o.LXCPath, o.Name, cmdGetInitPID, nil, 0); err == nil {
			switch {
			case r.ret < 0:
				err = unix.Errno(-r.ret)
			case r.value <= 0:
				err = unix.ESRCH
			default:
				t.Pid = int(r.value)
			}
		}
		if err == nil && t.Pidfd < 0 {
			if fd, err := unix.PidfdOpen(t.Pid, 0); err == nil {
				t.Pidfd = fd
			}
		}
	}
	if err != nil {
		t.close()
		o.lxcError(ctx, "get_attach_context", 406, err, "Failed to get init pid")
		o.lxcError(ctx, "lxc_attach", 1470, err, "Failed to get attach context")
		return nil, app.Exit(1)
	}
	if err := t.readInit(); err != nil {
		t.close()
		o.lxcError(ctx, "get_attach_context", 406, err, "Failed to get init pid")
		return nil, app.Exit(1)
	}
	// The namespaces: those the container made (its clone flags, or the
	// ones -s names) and those its init shares with someone other than us
	// (LXC's ns_inherited; the cgroup one only when we join its cgroup).
	// Without -s and with the cgroup joined that is simply every one in
	// which the init differs from us, since one it made differs too: the
	// clone flags are not asked for then.
	move := o.Flags&^o.Elevated&flagMoveToCgroup != 0
	if o.Namespaces < 0 && move {
		t.Namespaces = differing(t.Pid, ^uintptr(0))
	} else {
		clone := uintptr(0)
		if r, err := lxcCommand(o.LXCPath, o.Name, cmdGetCloneFlags, nil, 0); err == nil && r.ret >= 0 {
			clone = uintptr(r.value)
		}
		t.Namespaces = clone
		if o.Namespaces >= 0 {
			t.Namespaces = uintptr(o.Namespaces)
		}
		inherit := ^clone
		if !move {
			inherit &^= unix.CLONE_NEWCGROUP
		}
		t.Namespaces |= differing(t.Pid, inherit)
	}
	config := o.RCFile
	if config == "" {
		config = filepath.Join(o.LXCPath, o.Name, "config")
	}
	kvs := readConfig(config, nil)
	for _, kv := range kvs {
		switch kv[0] {
		case "lxc.arch":
			if p, ok := parseArch(kv[1]); ok {
				t.Personal = p
			}
		case "lxc.no_new_privs":
			t.NoNewPrivs = kv[1] == "1"
		}
	}
	t.Env = configEnvironment(kvs)
	t.lxc = true
	if move {
		t.CgroupFDs = lxcCgroupProcs(lxcCgroupFDs(o.LXCPath, o.Name))
	}
	return t, nil
}

// differing is the namespace types among mask in which pid is not where
// we are.
func differing(pid int, mask uintptr) uintptr {
	var ns uintptr
	self := os.Getpid()
	for _, n := range nsOrder {
		if mask&n.Flag == 0 {
			continue
		}
		theirs, err1 := procfs.NSInode("/proc", pid, n.Name)
		ours, err2 := procfs.NSInode("/proc", self, n.Name)
		if err1 == nil && err2 == nil && ours != theirs {
			ns |= n.Flag
		}
	}
	return ns
}

// readInit reads the init's ids, bounding set and id map.
func (t *Target) readInit() error {
	b, err := procfs.ReadFile("/proc", t.Pid, "status")
	if err != nil {
		return err
	}
	first := func(key string, base, bits int) uint64 {
		f := procfs.StatusField(b, key)
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseUint(f[0], base, bits)
		return n
	}
	t.UID, t.GID = uint32(first("Uid", 10, 32)), uint32(first("Gid", 10, 32))
	t.CapBnd = first("CapBnd", 16, 64)
	// In its user namespace, attach becomes root there if root is mapped,
	// else takes the init's own ids, as they are seen inside.
	t.SetupUID, t.SetupGID = setupID("uid_map", t.Pid, t.UID), setupID("gid_map", t.Pid, t.GID)
	return nil
}

// setupID is 0 if the map of pid's user namespace maps 0, else id (as
// the host sees it) as that namespace sees it.
func setupID(file string, pid int, id uint32) uint32 {
	b, err := procfs.ReadFile("/proc", pid, file)
	if err != nil {
		return id
	}
	m := procfs.ParseIDMap(b)
	if _, ok := procfs.Outside(m, 0); ok {
		return 0
	}
	if in, ok := procfs.Inside(m, id); ok {
		return in
	}
	return id
}

// pidfdPid is the pid a pidfd stands for, from its fdinfo, or -1.
func pidfdPid(fd int) int {
	b, err := procfs.Read("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return n
			}
		}
	}
	return -1
}

func (t *Target) close() {
	if t.Pidfd >= 0 {
		unix.Close(t.Pidfd)
	}
	for _, fd := range t.CgroupFDs {
		unix.Close(fd)
	}
}

// lxcCgroupProcs turns the container's cgroup directories into open
// cgroup.procs files, as LXC's cgroup_attach does: in the unified
// hierarchy the process goes to the leaf ".lxc" (made if need be), since
// a cgroup with children may hold no processes; in a v1 hierarchy to the
// directory itself.
func lxcCgroupProcs(dirs []int) []int {
	var procs []int
	for _, dfd := range dirs {
		var st unix.Statfs_t
		name := "cgroup.procs"
		if unix.Fstatfs(dfd, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			if err := unix.Mkdirat(dfd, ".lxc", 0o755); err == nil || err == unix.EEXIST {
				name = ".lxc/cgroup.procs"
			}
		}
		if fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
			procs = append(procs, fd)
		}
		unix.Close(dfd)
	}
	return procs
}

// procCgroupFDs opens the cgroup.procs files of pid's cgroups in every
// hierarchy where they are not ours.
func procCgroupFDs(pid int) []int {
	theirs, err := procfs.ReadFile("/proc", pid, "cgroup")
	if err != nil {
		return nil
	}
	ours, _ := procfs.Read("/proc/self/cgroup")
	mine := map[string]bool{}
	for _, l := range strings.Split(string(ours), "\n") {
		mine[l] = true
	}
	mounts := cgroupMounts()
	var fds []int
	for _, l := range strings.Split(string(theirs), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 || mine[l] {
			continue
		}
		dir, ok := mounts[f[1]]
		if !ok {
			continue
		}
		if fd, err := unix.Open(filepath.Join(dir, f[2], "cgroup.procs"), unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

// cgroupMounts maps each hierarchy's controller list as /proc/PID/cgroup
// names it ("" for cgroup2, "cpu,cpuacct", "name=systemd") to where it is
// mounted.
func cgroupMounts() map[string]string {
	m := map[string]string{}
	b, err := procfs.Read("/proc/self/mountinfo")
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(sf) < 3 || pf[3] != "/" {
			continue
		}
		var key string
		switch sf[0] {
		case "cgroup2":
			key = ""
		case "cgroup":
			var ctl []string
			for _, opt := range strings.Split(sf[2], ",") {
				switch opt {
				case "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "clone_children", "xattr", "noprefix":
				default:
					if !strings.HasPrefix(opt, "release_agent=") {
						ctl = append(ctl, opt)
					}
				}
			}
			key = strings.Join(ctl, ",")
		default:
			continue
		}
		if _, seen := m[key]; !seen {
			m[key] = unescapeMount(pf[4])
		}
	}
	return m
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
