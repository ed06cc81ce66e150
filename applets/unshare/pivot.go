package unshare

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// Pivot is what nsbox pivot adds to unshare: instead of chroot(2), the
// new mount namespace's root is switched to RootFS with pivot_root(2), the
// old root is detached, and /proc, /sys (read-only) and a minimal /dev are
// mounted. The old root is unreachable afterwards, which a chroot is not.
type Pivot struct {
	RootFS   string
	Hostname string
	// Overlay makes RootFS the lowest layer of an overlay; Lowers stack
	// on it in order (the last one on top). Upper and Work are given or,
	// when empty, live in a tmpfs that goes away with the namespace.
	Overlay     bool
	Lowers      []string
	Upper, Work string
	ReadOnly    bool
	// Init puts a small init at pid 1 of a new pid namespace, with the
	// program as its child: it reaps the orphans and passes signals on.
	Init bool
}

var pivotExtras = []getopt.Option{
	opt("hostname", 0, getopt.Required, optHostname, line("--hostname <name>", "set the hostname (implies --uts)")),
	nameOption,
	opt("overlay", 0, getopt.NoArg, optOverlay, line("--overlay", "use <rootfs> as the lowest layer of an overlay")),
	opt("lower", 0, getopt.Required, optLower, line("--lower <dir>", "add an overlay layer on top (implies --overlay)")),
	opt("upper", 0, getopt.Required, optUpper, line("--upper <dir>", "overlay upper directory (default: a tmpfs)")),
	opt("work", 0, getopt.Required, optWork, line("--work <dir>", "overlay work directory (default: a tmpfs)")),
	opt("read-only", 0, getopt.NoArg, optReadOnly, line("--read-only", "make the new root read-only")),
	opt("init", 0, getopt.NoArg, optInit, line("--init", "run an init as pid 1 that reaps orphans and")+"\n"+
		line("", "passes signals on (implies --pid and --fork)")),
}

// pivotOptions are unshare's, without those the root switch replaces,
// and the pivot options.
var pivotOptions = func() []getopt.Option {
	var o []getopt.Option
	for _, opt := range options {
		switch opt.Long {
		case "root", "mount-proc", "name":
			continue
		}
		o = append(o, opt)
	}
	return append(o, pivotExtras...)
}()

// PivotSpec is nsbox pivot's command line.
var PivotSpec = app.Spec{
	Name:     "pivot",
	Synopsis: "[options] <rootfs> [--] [<program> [<argument>...]]",
	Desc: "Run a program in a new mount namespace whose root is <rootfs>, with /proc,\n" +
		"a read-only /sys and a minimal /dev. <program> defaults to /bin/sh.",
	Options: pivotOptions,
	Layout: []string{
		"hostname", "name", "overlay", "lower", "upper", "work", "read-only", "init", "",
		"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time", "",
		"mount-binfmt", "load-interp", "propagation", "wd", "setuid", "setgid", "map-user", "map-group",
		"map-root-user", "map-current-user", "map-auto", "map-subids", "map-users",
		"map-groups", "owner", "", "fork", "kill-child", "forward-signals", "",
		"setgroups", "keep-caps", "monotonic", "boottime", "clear-env",
		"whitelist-env", "", "help", "version",
	},
	See: "nsbox(1)",
}

func (pv *Pivot) apply(r *getopt.Result) {
	switch r.Opt.ID {
	case optHostname:
		pv.Hostname = r.Value
	case optOverlay:
		pv.Overlay = true
	case optLower:
		pv.Overlay, pv.Lowers = true, append(pv.Lowers, r.Value)
	case optUpper:
		pv.Upper = r.Value
	case optWork:
		pv.Work = r.Value
	case optReadOnly:
		pv.ReadOnly = true
	case optInit:
		pv.Init = true
	}
}

// PivotMain runs nsbox pivot.
func PivotMain(ctx *app.Context) error {
	sys := newSys()
	o, err := parse(ctx, sys, &PivotSpec)
	if err != nil {
		return err
	}
	if len(o.Command) == 0 {
		return app.TryHelp(ctx, "no root filesystem specified")
	}
	o.Pivot.RootFS, o.Command = o.Command[0], o.Command[1:]
	if len(o.Command) > 0 && o.Command[0] == "--" {
		o.Command = o.Command[1:]
	}
	// A pivot happens in a mount namespace of its own, whether or not we
	// already run in one, so that the host's root is never touched.
	o.Flags |= unix.CLONE_NEWNS
	if o.Pivot.Hostname != "" {
		o.Flags |= unix.CLONE_NEWUTS
	}
	if o.Pivot.Init {
		o.Flags |= unix.CLONE_NEWPID
		o.Fork = true
	}
	return run(ctx, sys, o)
}

// checkPivot refuses, before anything changes, what would fail halfway.
func (pv *Pivot) check(command []string) error {
	if err := checkDir(pv.RootFS); err != nil {
		return app.Errorf(err, "cannot use '%s' as root", pv.RootFS)
	}
	for _, dir := range pv.Lowers {
		if err := checkDir(dir); err != nil {
			return app.Errorf(err, "cannot use '%s' as an overlay layer", dir)
		}
	}
	if (pv.Upper == "") != (pv.Work == "") {
		return app.Errorx("--upper and --work go together")
	}
	if pv.Upper != "" && !pv.Overlay {
		return app.Errorx("--upper and --work need --overlay")
	}
	for _, dir := range []string{pv.Upper, pv.Work} {
		if dir == "" {
			continue
		}
		if err := checkDir(dir); err != nil {
			return app.Errorf(err, "cannot use '%s' for the overlay", dir)
		}
	}
	if pv.Overlay && !filesystemSupported("overlay") {
		return app.Errorx("overlay filesystem not supported by this kernel")
	}
	if len(command) == 0 {
		found := false
		for _, dir := range append([]string{pv.RootFS}, pv.Lowers...) {
			if _, err := os.Lstat(filepath.Join(dir, "bin/sh")); err == nil {
				found = true
			}
		}
		if !found {
			return app.Errorx("no command given and no /bin/sh in '%s'", pv.RootFS)
		}
	}
	return nil
}

func filesystemSupported(fs string) bool {
	b, err := procfs.Read("/proc/filesystems")
	return err == nil && strings.Contains(string(b), "\t"+fs+"\n")
}

// devices are bound from the host's /dev, which works rootless too
// (mknod of a device does not).
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// ops returns the steps of the root switch. They run in the new mount
// namespace, after its propagation is set, so nothing reaches the host.
func (pv *Pivot) ops(userns bool) ([]nsexec.Op, error) {
	if len(pv.Lowers)+1 > 8 {
		return nil, app.Errorx("too many overlay layers (at most 7 --lower)")
	}
	var ops []nsexec.Op
	mount := func(src, dst, fstype string, flags uintptr, data string) {
		ops = append(ops, nsexec.MountOp(src, dst, fstype, flags, data, 0, "mount "+dst+" failed"))
	}
	root, err := filepath.Abs(pv.RootFS)
	if err != nil {
		return nil, app.Errorf(err, "cannot use '%s' as root", pv.RootFS)
	}
	newRoot := root
	if pv.Overlay {
		// Layers are named by descriptor, as the tmpfs below may cover
		// them, and opened in the new mount namespace: overlayfs refuses
		// a layer whose mount belongs to another one.
		dirs := append([]string{root}, pv.Lowers...)
		fds := nsexec.FreeFDs(len(dirs))
		var layers []string
		for i, dir := range dirs {
			ops = append(ops, nsexec.OpenAtOp(dir, unix.O_PATH|unix.O_DIRECTORY, i, fds[i], "cannot open "+dir))
			layers = append([]string{"/proc/self/fd/" + strconv.Itoa(fds[i])}, layers...)
		}
		upper, work := pv.Upper, pv.Work
		if upper == "" {
			mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755")
			upper, work, newRoot = root+"/upper", root+"/work", root+"/root"
			for _, d := range []string{upper, work, newRoot} {
				ops = append(ops, nsexec.MkdirOp(d, 0o755, "cannot create "+d))
			}
		}
		data := "lowerdir=" + strings.Join(layers, ":") + ",upperdir=" + upper + ",workdir=" + work
		if userns {
			data += ",userxattr" // trusted.* xattrs are out of reach in a user namespace
		}
		mount("overlay", newRoot, "overlay", 0, data)
		for i := range dirs {
			ops = append(ops, nsexec.FDOp(nsexec.Close, nsexec.Reg(i), ""))
		}
	} else {
		// pivot_root needs the new root to be a mount point.
		mount(root, root, "", unix.MS_BIND|unix.MS_REC, "")
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		ops = append(ops, nsexec.MkdirOp(newRoot+"/"+d, 0o755, "cannot create "+newRoot+"/"+d))
	}
	ops = append(ops, nsexec.PathOp(nsexec.Chdir, newRoot, "cannot change directory to "+newRoot))

	// /proc of our pid namespace; a user namespace that does not own it
	// may not mount one, and gets the host's (recursively bound) instead.
	ops = append(ops, nsexec.MountOp("proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "", int(unix.EPERM), "mount /proc failed"))
	ops = append(ops, nsexec.OrElseOps(nsexec.MountOp("/proc", "proc", "", unix.MS_BIND|unix.MS_REC, "", 0, "mount /proc failed"))...)
	// sysfs needs the network namespace's owner; else bind the host's.
	ops = append(ops, nsexec.MountOp("sysfs", "sys", "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "", int(unix.EPERM), "mount /sys failed"))
	ops = append(ops, nsexec.OrElseOps(
		nsexec.MountOp("/sys", "sys", "", unix.MS_BIND|unix.MS_REC, "", 0, "mount /sys failed"),
		nsexec.MountOp("", "sys", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "", int(unix.EPERM), "mount /sys failed"))...)

	mount("tmpfs", "dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=65536k")
	for _, d := range devices {
		ops = append(ops, nsexec.MknodOp("dev/"+d, unix.S_IFREG|0o666, 0, "cannot create /dev/"+d))
		mount("/dev/"+d, "dev/"+d, "", unix.MS_BIND, "")
	}
	for _, d := range []string{"dev/pts", "dev/shm"} {
		ops = append(ops, nsexec.MkdirOp(d, 0o755, "cannot create /"+d))
	}
	mount("devpts", "dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
	mount("tmpfs", "dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777")
	for _, l := range [][2]string{{"pts/ptmx", "dev/ptmx"}, {"/proc/self/fd", "dev/fd"},
		{"/proc/self/fd/0", "dev/stdin"}, {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"}} {
		ops = append(ops, nsexec.SymlinkOp(l[0], l[1], "cannot create /"+l[1]))
	}
	if pv.ReadOnly {
		// A bind remount keeps the flags the mount is locked with in a
		// user namespace; they must be repeated.
		flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY)
		if !pv.Overlay {
			flags |= lockedFlags(root)
		}
		mount("", ".", "", flags, "")
	}
	// pivot_root(".", ".") stacks the old root on the new one; detaching
	// it leaves no way back to the host's filesystem.
	ops = append(ops,
		nsexec.PivotRootOp(".", ".", "failed to change root to "+pv.RootFS),
		nsexec.UmountOp(".", unix.MNT_DETACH, 0, "cannot detach the old root"),
		nsexec.PathOp(nsexec.Chdir, "/", "cannot change directory to /"))
	if pv.Hostname != "" {
		ops = append(ops, nsexec.SethostnameOp(pv.Hostname, "cannot set hostname"))
	}
	return ops, nil
}

// lockedFlags are the mount flags of the filesystem holding dir that a
// remount in a user namespace must keep.
func lockedFlags(dir string) uintptr {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0
	}
	var f uintptr
	for _, m := range []struct {
		st int64
		ms uintptr
	}{{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME}} {
		if st.Flags&m.st != 0 {
			f |= m.ms
		}
	}
	return f
}
