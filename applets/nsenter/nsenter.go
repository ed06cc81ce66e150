// Package nsenter is util-linux's nsenter(1): run a program in the
// namespaces of other processes.
//
// Everything that can happen from outside the target's namespaces happens
// here, in the order util-linux does it: files named on the command line
// are opened as their options are read, then the target's pidfd or
// namespace files, its root, cwd and environment. The joins, the changes of
// root and directory, the fork for a pid namespace and the change of
// credentials happen in the constructor (nsexec.c), which a Go process
// cannot stand in for.
package nsenter

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/cnum"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/applets/nsopt"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// ns is one namespace: enabled to be joined, through fd (or through the
// target's pidfd when fd is -1).
type ns struct {
	procfs.Namespace
	enabled bool
	fd      int
}

// Options is what nsenter's command line asks for, with the files it
// named already open.
type Options struct {
	All        bool
	Target     int
	pidfd      int // validated against PID:INODE, or opened for the target
	NS         []ns
	SockFD     int
	UID, GID   uint32
	ForceUID   bool
	ForceGID   bool
	FollowUID  bool
	FollowGID  bool
	Fork       int // -1: when a pid namespace is joined
	JoinCgroup bool
	rootFD     int
	DoRoot     bool
	wdFD       int
	DoWd       bool
	Wdns       string
	HasWdns    bool
	Env        bool
	Preserve   bool
	KeepCaps   bool
	UserParent bool
	Follow     bool // -Z
	Command    []string

	exclusive byte // the first of -w/-W seen
}

// Sys is what nsenter reads from the system; tests may point Proc at a
// fixture.
type Sys struct {
	Proc    string // "/proc"
	Pid     int
	UID     uint32
	Environ []string
}

func newOptions() *Options {
	o := &Options{Fork: -1, pidfd: -1, SockFD: -1, rootFD: -1, wdFD: -1}
	for _, n := range procfs.Namespaces {
		o.NS = append(o.NS, ns{Namespace: n, fd: -1})
	}
	return o
}

func (o *Options) ns(flag uintptr) *ns {
	for i := range o.NS {
		if o.NS[i].Flag == flag {
			return &o.NS[i]
		}
	}
	return nil
}

// openFD opens a file to pass to the constructor: no O_CLOEXEC, since it
// must survive the exec into nsexec.c, which closes it once used.
func openFD(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// openTarget is util-linux's open_target_fd: path, else /proc/PID/what.
func (o *Options) openTarget(sys *Sys, fd *int, what, path string) error {
	if path == "" {
		if o.Target == 0 {
			return app.Errorx("neither filename nor target pid supplied for %s", what)
		}
		path = "/proc/" + strconv.Itoa(o.Target) + "/" + what
		if sys.Proc != "/proc" {
			path = filepath.Join(sys.Proc, strconv.Itoa(o.Target), what)
		}
	}
	if *fd >= 0 {
		unix.Close(*fd)
	}
	f, err := openFD(path, unix.O_RDONLY)
	if err != nil {
		*fd = -1
		return app.Errorf(err, "cannot open %s", path)
	}
	*fd = f
	return nil
}

// Parse reads nsenter's command line, opening the files it names as it
// goes, so that errors come in util-linux's order.
func Parse(ctx *app.Context, sys *Sys) (*Options, error) {
	o := newOptions()
	p := getopt.New(ctx.Argv0, options, ctx.Args)
	for {
		r, err := p.Next()
		if err != nil {
			return o, err
		}
		if r == nil {
			break
		}
		if err := o.apply(ctx, sys, r); err != nil {
			return o, err
		}
	}
	o.Command = p.Rest()
	return o, nil
}

func (o *Options) apply(ctx *app.Context, sys *Sys, r *getopt.Result) error {
	c := r.Opt.ID
	if c == 'w' || c == 'W' {
		// util-linux checks -w and -W before it looks at either value.
		if o.exclusive == 0 {
			o.exclusive = byte(c)
		} else if o.exclusive != byte(c) {
			first, second := "wd", "wdns"
			if o.exclusive == 'W' {
				first, second = second, first
			}
			return app.Errorx("options --%s and --%s cannot be combined", first, second)
		}
	}
	if k, ok := nsopt.ByShort(byte(c)); ok && c < 256 {
		return o.enable(sys, k, r)
	}
	v := r.Value
	switch c {
	case 'h':
		return app.Print(ctx, Spec.Usage(ctx.Name))
	case 'V':
		return app.Print(ctx, app.VersionLine(ctx.Name, app.UtilLinux))
	case 'a':
		o.All = true
	case 't':
		pid, ino, err := parsePid(v)
		if err != nil {
			return app.Errorx("invalid PID argument")
		}
		o.Target = pid
		if ino != 0 {
			fd, err := validPidfd(pid, ino)
			if err != nil {
				return app.Errorf(err, "failed to obtain a valid file descriptor for PID %d", pid)
			}
			if o.pidfd >= 0 {
				unix.Close(o.pidfd)
			}
			o.pidfd = fd
		}
	case 'N':
		n, err := cnum.S64(v)
		if err == nil && n > 2147483647 {
			err = unix.ERANGE
		}
		if err == unix.ERANGE {
			return app.Errorf(err, "failed to parse file descriptor: '%s'", v)
		} else if err != nil {
			return app.Errorx("failed to parse file descriptor: '%s'", v)
		}
		o.SockFD = int(n) // util-linux checks no lower bound: -1 is "none"
	case 'S', 'G':
		what := "uid"
		if c == 'G' {
			what = "gid"
		}
		var id uint32
		follow := v == "follow"
		if !follow {
			n, err := cnum.U64(v)
			if err == unix.ERANGE {
				return app.Errorf(err, "failed to parse %s: '%s'", what, v)
			} else if err != nil {
				return app.Errorx("failed to parse %s: '%s'", what, v)
			}
			id = uint32(n)
		}
		if c == 'S' {
			o.UID, o.ForceUID, o.FollowUID = id, true, o.FollowUID || follow
		} else {
			o.GID, o.ForceGID, o.FollowGID = id, true, o.FollowGID || follow
		}
	case 'F':
		o.Fork = 0
	case 'c':
		o.JoinCgroup = true
	case 'r':
		// -r=dir is taken as the path "=dir", as util-linux does.
		if r.HasVal {
			return o.openTarget(sys, &o.rootFD, "root", v)
		}
		o.DoRoot = true
	case 'w':
		if r.HasVal {
			return o.openTarget(sys, &o.wdFD, "cwd", strings.TrimPrefix(v, "="))
		}
		o.DoWd = true
	case 'W':
		if r.HasVal {
			o.Wdns, o.HasWdns = strings.TrimPrefix(v, "="), true
		}
	case 'e':
		o.Env = true
	case optPreserveCred:
		o.Preserve = true
	case optKeepCaps:
		o.KeepCaps = true
	case optUserParent:
		o.UserParent = true
	case 'Z':
		o.Follow = true
	}
	return nil
}

// enable is util-linux's enable_namespace: an optional value (after one
// '=' that short options may carry) is a file, or :NSID.
func (o *Options) enable(sys *Sys, k nsopt.Kind, r *getopt.Result) error {
	n := o.ns(k.NS.Flag)
	n.enabled = true
	if !r.HasVal {
		return nil
	}
	path := strings.TrimPrefix(r.Value, "=")
	if id, ok := strings.CutPrefix(path, ":"); ok {
		return openByNSID(&n.fd, id)
	}
	return o.openTarget(sys, &n.fd, "ns/"+n.Name, path)
}

// parsePid is util-linux's ul_parse_pid_str: PID or PID:INODE, where the
// inode identifies the process's pidfd so that a reused pid is refused.
func parsePid(s string) (pid int, ino uint64, err error) {
	num, rest, ok := cPrefix(s)
	if !ok || num == 0 || num < 0 || num > 2147483647 {
		return 0, 0, unix.EINVAL
	}
	if strings.HasPrefix(rest, ":") {
		ino, err = cnum.U64(rest[1:])
		if err != nil || ino == 0 {
			return 0, 0, unix.EINVAL
		}
		rest = ""
	}
	if rest != "" {
		return 0, 0, unix.EINVAL
	}
	return int(num), ino, nil
}

// cPrefix reads the number at the start of s as strtoimax does.
func cPrefix(s string) (int64, string, bool) {
	end := 0
	for end < len(s) && (s[end] == ' ' || s[end] >= '\t' && s[end] <= '\r') {
		end++
	}
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0, s, false
	}
	n, err := cnum.S64(s[:end])
	if err != nil {
		return 0, s, false
	}
	return n, s[end:], true
}

const pidfsMagic = 0x50494446

// validPidfd opens a pidfd for pid and checks that it is the process
// whose pidfd inode is ino.
func validPidfd(pid int, ino uint64) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != pidfsMagic {
		unix.Close(fd)
		return -1, unix.ENOTSUP
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_INO, &stx); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if stx.Ino != ino {
		unix.Close(fd)
		return -1, unix.ESRCH
	}
	return nsexec.Keep(fd)
}

const (
	pidfdGetMntNamespace  = 0xff03 // _IO(PIDFS_IOCTL_MAGIC, 3)
	pidfdGetUserNamespace = 0xff09 // _IO(PIDFS_IOCTL_MAGIC, 9)
	nsGetUserns           = 0xb701 // _IO(NSIO, 0x1)
	atHandleFID           = 0x200
)

// openByNSID opens the namespace whose id is idstr through an nsfs file
// handle, as util-linux does for --mount=:NSID: a handle with only the id
// set, which kernels with the unified namespace tree accept (older ones,
// 6.18 among them, answer ESTALE, as they do to util-linux).
func openByNSID(fd *int, idstr string) error {
	id, err := cnum.U64(idstr)
	if err != nil {
		return app.Errorx("failed to parse nsid: %s", idstr)
	}
	self, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return app.Errorf(err, "failed to fill namespace file handle")
	}
	mnt, err := unix.IoctlRetInt(self, pidfdGetMntNamespace)
	unix.Close(self)
	if err != nil {
		return app.Errorf(err, "failed to fill namespace file handle")
	}
	defer unix.Close(mnt)
	h, _, err := unix.NameToHandleAt(mnt, "", unix.AT_EMPTY_PATH|atHandleFID)
	if err != nil {
		return app.Errorf(err, "failed to fill namespace file handle")
	}
	// struct nsfs_file_handle { u64 ns_id; u32 ns_type; u32 ns_inum; }
	var raw [16]byte
	*(*uint64)(unsafe.Pointer(&raw[0])) = id
	if *fd >= 0 {
		unix.Close(*fd)
	}
	f, err := unix.OpenByHandleAt(mnt, unix.NewFileHandle(h.Type(), raw[:]), unix.O_RDONLY)
	if err != nil {
		*fd = -1
		return app.Errorf(err, "cannot open namespace of id %d", id)
	}
	*fd, err = nsexec.Keep(f)
	return err
}
