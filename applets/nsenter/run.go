package nsenter

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// Main runs nsenter. On success it does not return: the process (or its
// child, for a pid namespace) becomes the target.
func Main(ctx *app.Context) error {
	sys := &Sys{Proc: "/proc", Pid: os.Getpid(), UID: uint32(os.Getuid()), Environ: os.Environ()}
	o, err := Parse(ctx, sys)
	if err == nil {
		var plan *nsexec.Plan
		if plan, err = o.Plan(sys); err == nil {
			plan.Prog = ctx.Name
			err = app.Errorf(nsexec.Run(plan, os.Args, sys.Environ), "cannot re-execute %s", nsexec.Self)
		}
	}
	return err
}

// resolved is what Plan works out from the target before the joins.
type resolved struct {
	env       []string // with -e: the target's environment
	cgroupFD  int
	selinux   string // with -Z: the target's context
	namespace uintptr
}

// Plan finishes what must happen outside (util-linux's steps after option
// parsing, up to the joins) and returns the steps for the constructor.
func (o *Options) Plan(sys *Sys) (*nsexec.Plan, error) {
	r := resolved{cgroupFD: -1}
	if err := o.resolve(sys, &r); err != nil {
		return nil, err
	}
	p := &nsexec.Plan{}
	userns := r.namespace&unix.CLONE_NEWUSER != 0
	// Joining a user namespace makes us uid 0 and gid 0 there unless told
	// otherwise, and drops our groups; setgroups() is tried before and
	// after the join, and only failing both times is an error.
	if userns && !o.Preserve {
		o.ForceUID, o.ForceGID = true, true
		p.Add(nsexec.SetGroupsOp(nsexec.GroupsTry, "setgroups failed"))
	}
	var enter []nsexec.EnterNS
	for _, n := range o.NS {
		if n.enabled {
			enter = append(enter, nsexec.EnterNS{Type: n.Flag, FD: n.fd,
				Msg: "reassociate to namespace 'ns/" + n.Name + "' failed"})
		}
	}
	p.Add(nsexec.EnterOp(o.pidfd, "reassociate to namespaces failed", enter))

	wd := o.wdFD
	if o.rootFD >= 0 && wd < 0 && !o.HasWdns {
		// Keep the directory we are in (in the namespace just joined).
		p.Add(nsexec.OpenOp(".", unix.O_RDONLY, 0, "cannot open current working directory"))
		wd = nsexec.Reg(0)
	}
	if o.rootFD >= 0 {
		p.Add(nsexec.FDOp(nsexec.Fchdir, o.rootFD, "change directory by root file descriptor failed"),
			nsexec.PathOp(nsexec.Chroot, ".", "chroot failed"),
			nsexec.PathOp(nsexec.Chdir, "/", "cannot change directory to /"),
			nsexec.FDOp(nsexec.Close, o.rootFD, ""))
	}
	if o.HasWdns {
		// A path in the namespace: opened after the joins and the chroot.
		p.Add(nsexec.OpenOp(o.Wdns, unix.O_RDONLY, 0, "cannot open current working directory"))
		wd = nsexec.Reg(0)
	}
	if wd != nsexec.NoFD {
		p.Add(nsexec.FDOp(nsexec.Fchdir, wd, "change directory by working directory file descriptor failed"),
			nsexec.FDOp(nsexec.Close, wd, ""))
	}
	env := sys.Environ
	if o.Env {
		env = r.env
		p.Add(nsexec.EnvironOp(env))
	}
	if r.cgroupFD >= 0 {
		p.Add(nsexec.FDOp(nsexec.WritePid, r.cgroupFD, "write cgroup.procs failed"),
			nsexec.FDOp(nsexec.Close, r.cgroupFD, ""))
	}
	if o.Fork == 1 {
		p.Add(nsexec.ForkOps(nsexec.ForkNsenter, 0, false)...)
	}
	if o.ForceGID {
		p.Add(nsexec.SetGroupsOp(nsexec.GroupsIfTried, "setgroups failed"),
			nsexec.IDOp(nsexec.SetGID, o.GID, "setgid() failed"))
	}
	if o.ForceUID {
		p.Add(nsexec.IDOp(nsexec.SetUID, o.UID, "setuid() failed"))
	}
	if o.KeepCaps && userns {
		p.Add(nsexec.AmbientCapsOp(procfs.LastCap(sys.Proc)))
	}
	if r.selinux != "" {
		p.Add(nsexec.WriteOp("/proc/self/attr/exec", r.selinux, 0,
			"failed to set exec context to '"+r.selinux+"'", "failed to set exec context to '"+r.selinux+"'"))
	}
	if len(o.Command) > 0 {
		p.Add(nsexec.ExecOp(true, o.Command[0], o.Command, "failed to execute"))
	} else {
		shell := o.shell(sys, env, userns)
		p.Add(nsexec.ExecOp(false, shell, []string{"-" + filepath.Base(shell)}, "failed to execute"))
	}
	return p, nil
}

// resolve does util-linux's work between option parsing and the joins.
func (o *Options) resolve(sys *Sys, r *resolved) error {
	if o.Follow && selinuxEnabled() {
		if o.Target == 0 {
			return app.Errorx("no target PID specified for --follow-context")
		}
		b, err := procfs.ReadFile(sys.Proc, o.Target, "attr/current")
		if err != nil {
			return app.Errorx("failed to get %d SELinux context", o.Target)
		}
		r.selinux = strings.TrimRight(string(b), "\x00\n")
	}
	if o.All {
		for i := range o.NS {
			n := &o.NS[i]
			if n.enabled {
				continue
			}
			usable, err := o.usable(sys, n)
			if err != nil {
				return err
			}
			n.enabled = usable
		}
	}

	withoutFD := uintptr(0)
	for _, n := range o.NS {
		if n.enabled && n.fd < 0 {
			withoutFD |= n.Flag
		}
	}
	if withoutFD != 0 || o.SockFD >= 0 || o.UserParent {
		if o.Target == 0 {
			return app.Errorx("no target PID specified")
		}
		// One pidfd for all the joins: the target cannot be swapped for
		// another process that reuses its pid halfway through.
		if o.pidfd < 0 {
			if fd, err := unix.PidfdOpen(o.Target, 0); err == nil {
				o.pidfd, _ = nsexec.Keep(fd)
			}
		}
		if o.pidfd < 0 && withoutFD != 0 {
			for i := range o.NS {
				if n := &o.NS[i]; n.enabled && n.fd < 0 {
					if err := o.openTarget(sys, &n.fd, "ns/"+n.Name, ""); err != nil {
						return err
					}
				}
			}
		}
	}

	rootFD, wdFD, envFD, statFD := -1, -1, -1, -1
	if o.DoRoot {
		if err := o.openTarget(sys, &rootFD, "root", ""); err != nil {
			return err
		}
		o.rootFD = rootFD
	}
	if o.DoWd {
		if err := o.openTarget(sys, &wdFD, "cwd", ""); err != nil {
			return err
		}
		o.wdFD = wdFD
	}
	if o.Env {
		if err := o.openTarget(sys, &envFD, "environ", ""); err != nil {
			return err
		}
		r.env = readEnviron(envFD)
		unix.Close(envFD)
	}
	if o.FollowUID || o.FollowGID {
		if err := o.openTarget(sys, &statFD, "", ""); err != nil {
			return err
		}
		var st unix.Stat_t
		if unix.Fstat(statFD, &st) == nil {
			if o.FollowUID {
				o.UID = st.Uid
			}
			if o.FollowGID {
				o.GID = st.Gid
			}
		}
		unix.Close(statFD)
	}
	if o.JoinCgroup {
		fd, err := o.cgroupProcs(sys)
		if err != nil {
			return err
		}
		r.cgroupFD = fd
	}
	if o.UserParent {
		if err := o.openParentUserNS(sys); err != nil {
			return err
		}
	}
	if o.SockFD >= 0 {
		if err := o.openSocketNetNS(); err != nil {
			return err
		}
	}
	for _, n := range o.NS {
		if n.enabled {
			r.namespace |= n.Flag
		}
	}
	if r.namespace == 0 {
		return app.Errorx("no namespace specified")
	}
	if r.namespace&unix.CLONE_NEWPID != 0 && o.Fork == -1 {
		o.Fork = 1
	}
	return nil
}

// usable is util-linux's is_usable_namespace for --all: the kernel has the
// namespace, and a user namespace is not the one we are already in
// (setns refuses to re-enter it).
func (o *Options) usable(sys *Sys, n *ns) (bool, error) {
	var mine unix.Stat_t
	if err := unix.Stat(procfs.NSPath(sys.Proc, sys.Pid, n.Name), &mine); err == unix.ENOENT {
		return false, nil
	}
	if n.Flag != unix.CLONE_NEWUSER {
		return true, nil
	}
	path := procfs.NSPath(sys.Proc, o.Target, n.Name)
	if sys.Proc == "/proc" {
		path = "/proc/" + strconv.Itoa(o.Target) + "/ns/" + n.Name
	}
	var theirs unix.Stat_t
	if err := unix.Stat(path, &theirs); err != nil {
		return false, app.Errorf(err, "stat of %s failed", path)
	}
	return mine.Ino != theirs.Ino, nil
}

// readEnviron reads /proc/PID/environ as util-linux's env_list_from_fd
// and sets it as env_list_setenv does: the list is built back to front
// and set without overwriting, so the order reverses and, for a name given
// twice, the last value wins.
func readEnviron(fd int) []string {
	var data []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			data = append(data, buf[:n]...)
		}
		if n <= 0 || err != nil {
			break
		}
	}
	env := procfs.ParseEnviron(data)
	out := make([]string, 0, len(env))
	seen := map[string]bool{}
	for i := len(env) - 1; i >= 0; i-- {
		name, _, _ := strings.Cut(env[i], "=")
		if !seen[name] {
			seen[name] = true
			out = append(out, env[i])
		}
	}
	return out
}

const sysCgroup = "/sys/fs/cgroup"

// cgroupProcs opens the target's cgroup.procs (cgroup v2 only).
func (o *Options) cgroupProcs(sys *Sys) (int, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(sysCgroup, &st); err != nil {
		return -1, app.Errorf(err, "statfs %s failed", sysCgroup)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return -1, app.Errorx("--join-cgroup is only supported in cgroup v2")
	}
	fd := -1
	if err := o.openTarget(sys, &fd, "cgroup", ""); err != nil {
		return -1, err
	}
	data := make([]byte, 64<<10)
	n, err := unix.Read(fd, data)
	unix.Close(fd)
	if err != nil || n < 1 {
		return -1, app.Errorf(err, "failed to get cgroup path")
	}
	path, ok := procfs.CgroupPath(data[:n])
	if !ok {
		return -1, app.Errorf(unix.Errno(0), "failed to get cgroup path")
	}
	procs, err := openFD(sysCgroup+"/"+path+"/cgroup.procs", unix.O_WRONLY|unix.O_APPEND)
	if err != nil {
		return -1, app.Errorf(err, "failed to open cgroup.procs")
	}
	return procs, nil
}

// openParentUserNS is util-linux's open_parent_user_ns_fd: the owner of
// the user namespace given, or the target's, or of any namespace given.
func (o *Options) openParentUserNS(sys *Sys) error {
	user := o.ns(unix.CLONE_NEWUSER)
	fd, local := -1, false
	if user.enabled {
		fd = user.fd
	}
	if fd < 0 && o.pidfd >= 0 {
		if f, err := unix.IoctlRetInt(o.pidfd, pidfdGetUserNamespace); err == nil {
			fd, local = f, true
		}
	}
	if fd < 0 {
		for _, n := range o.NS {
			if n.enabled && n.fd >= 0 {
				fd = n.fd
				break
			}
		}
	}
	if fd < 0 {
		if err := o.openTarget(sys, &fd, "ns/user", ""); err != nil {
			return err
		}
		local = true
	}
	parent, err := unix.IoctlRetInt(fd, nsGetUserns)
	if err != nil {
		return app.Errorf(err, "failed to open parent namespace")
	}
	if local {
		unix.Close(fd)
	}
	if user.fd > 0 && user.fd != fd {
		unix.Close(user.fd)
	}
	user.fd, _ = nsexec.Keep(parent)
	user.enabled = true
	return nil
}

// openSocketNetNS takes the network namespace of the target's socket.
func (o *Options) openSocketNetNS() error {
	pidfd, local := o.pidfd, false
	if pidfd < 0 {
		fd, err := unix.PidfdOpen(o.Target, 0)
		if err != nil {
			return app.Errorf(err, "failed to pidfd_open() for %d", o.Target)
		}
		pidfd, local = fd, true
	}
	sk, err := unix.PidfdGetfd(pidfd, o.SockFD, 0)
	if err != nil {
		return app.Errorf(err, "pidfd_getfd(%d, %d)", pidfd, o.SockFD)
	}
	var st unix.Stat_t
	if err := unix.Fstat(sk, &st); err != nil {
		return app.Errorf(err, "fstat(%d)", sk)
	}
	nsfd, err := unix.IoctlRetInt(sk, unix.SIOCGSKNS)
	if err != nil {
		return app.Errorf(err, "ioctl(%d, SIOCGSKNS)", sk)
	}
	net := o.ns(unix.CLONE_NEWNET)
	if net.fd >= 0 {
		unix.Close(net.fd)
	}
	net.fd, _ = nsexec.Keep(nsfd)
	net.enabled = true
	unix.Close(sk)
	if local {
		unix.Close(pidfd)
	}
	return nil
}

// selinuxEnabled is libselinux's is_selinux_enabled(): selinuxfs mounted
// with a policy loaded.
func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// shell is what util-linux's exec_shell() would run: $SHELL from the final
// environment, else the passwd shell of the final uid as the joined mount
// namespace (or new root) sees it, else /bin/sh.
func (o *Options) shell(sys *Sys, env []string, userns bool) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SHELL="); ok && v != "" {
			return v
		}
	}
	root := "/"
	if o.Target != 0 && (o.ns(unix.CLONE_NEWNS).enabled || o.rootFD >= 0) {
		root = procfs.Path(sys.Proc, o.Target, "root")
	}
	uid := sys.UID
	switch {
	case o.ForceUID:
		uid = o.UID
	case userns && o.Target != 0:
		if b, err := procfs.ReadFile(sys.Proc, o.Target, "uid_map"); err == nil {
			if in, ok := procfs.Inside(procfs.ParseIDMap(b), uid); ok {
				uid = in
			}
		}
	}
	if pw, ok := app.LookupPasswd(root, "", uid, false); ok && pw.Shell != "" {
		return pw.Shell
	}
	return "/bin/sh"
}
