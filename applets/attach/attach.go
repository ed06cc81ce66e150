// Package attach is lxc-attach: run a command inside a running container,
// an LXC one found through its command socket or one nsbox started with
// --name, joining its namespaces and cgroups and taking on its limits as
// LXC 5.0 does.
package attach

import (
	"fmt"
	"os"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// Main runs lxc-attach.
func Main(ctx *app.Context) error {
	o, err := Parse(ctx)
	if err != nil {
		return err
	}
	if err := o.openLog(ctx); err != nil {
		return err
	}
	if o.RCFile != "" {
		// LXC loads it before it looks for the container (Find reads it).
		fd, err := unix.Open(o.RCFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			o.lxcLog(ctx, "parse.c", "lxc_file_for_each_line_mmap", 78, err, `Failed to open file "`+o.RCFile+`"`)
			o.lxcLog(ctx, "tools/lxc_attach.c", "main", 313, nil, "Failed to load rcfile")
			return app.Exit(1)
		}
		unix.Close(fd)
	}
	t, err := o.Find(ctx)
	if err != nil {
		return err
	}
	if t.lxc && t.Pidfd >= 0 && t.Namespaces == 0 {
		// LXC joins through the pidfd whatever the set (-s ""): the
		// kernel refuses an empty one, before anything has moved.
		if err := unix.Setns(t.Pidfd, 0); err != nil {
			o.lxcError(ctx, "__attach_namespaces_pidfd", 643, err, "Failed to attach to namespaces via pidfd")
			o.lxcError(ctx, enterFailed.fn, enterFailed.line, nil, enterFailed.what)
			return app.Exit(1)
		}
	}
	env := o.environ(os.Environ(), t)
	pty := o.terminal(t)
	plan := o.Plan(t, pty)
	if pty != nil {
		return pty.run(plan, env)
	}
	return app.Errorf(nsexec.Run(plan, os.Args, env), "cannot re-execute %s", nsexec.Self)
}

// lxcMsg is a constructor message in LXC's layout for function fn, the
// error text in its first line, then the lines of then without one; with
// a log file, their lines for it too.
func (o *Options) lxcMsg(fn string, line int, what string, then ...lxcAt) string {
	msg := o.stderrTail("attach.c", fn, line, nsexec.ErrMark+" - "+what)
	log := logTail("attach.c", fn, line, nsexec.ErrMark+" - "+what)
	for _, t := range then {
		msg += "\n" + o.stderrTail("attach.c", t.fn, t.line, t.what)
		log += "\n" + logTail("attach.c", t.fn, t.line, t.what)
	}
	if o.toFile() {
		msg += nsexec.LogMark + log
	}
	return msg
}

// lxcAt is an ERROR line of LXC's attach.c without an error text.
type lxcAt struct {
	fn   string
	line int
	what string
}

// enterFailed is what LXC's lxc_attach says after a failed join.
var enterFailed = lxcAt{"lxc_attach", 1590, "Failed to enter namespaces"}

// Plan is what happens once the target is known, in LXC's order: into
// the cgroups, into the namespaces, then in a child (the new pid
// namespace's member): /proc and /sys, personality, capabilities, ids,
// terminal, and the command.
func (o *Options) Plan(t *Target, pty *terminal) *nsexec.Plan {
	p := &nsexec.Plan{Prog: "lxc-attach"}
	if !o.toStderr() {
		p.Add(nsexec.Op{Code: nsexec.Quiet})
	}
	if o.toFile() {
		if fd, err := nsexec.Keep(o.logFD); err == nil {
			p.Add(nsexec.Op{Code: nsexec.Log, Ints: []int64{int64(fd)}, Strs: []string{"lxc-attach " + o.Name + " "}})
		}
	}
	// Into the cgroups first, while we are still privileged on the host;
	// the child is born there.
	for _, fd := range t.CgroupFDs {
		if fd, err := nsexec.Keep(fd); err == nil {
			p.Add(nsexec.FDOp(nsexec.WritePid, fd, o.lxcMsg("lxc_attach", 1600, "Failed to attach to cgroup")),
				nsexec.FDOp(nsexec.Close, fd, ""))
		}
	}
	var enter []nsexec.EnterNS
	for _, n := range nsOrder {
		if t.Namespaces&n.Flag == 0 {
			continue
		}
		e := nsexec.EnterNS{Type: n.Flag, FD: nsexec.NoFD,
			Msg: o.lxcMsg("__attach_namespaces_nsfd", 666, fmt.Sprintf("Failed to attach to %s namespace of %d", n.Name, t.Pid), enterFailed)}
		if t.Pidfd < 0 {
			// No pidfds: through /proc, opened now.
			fd, err := unix.Open(procfs.NSPath("/proc", t.Pid, n.Name), unix.O_RDONLY, 0)
			if err != nil {
				continue
			}
			e.FD = fd
		}
		enter = append(enter, e)
	}
	if len(enter) > 0 {
		pidfd := nsexec.NoFD
		if t.Pidfd >= 0 {
			pidfd, _ = nsexec.Keep(t.Pidfd)
		}
		p.Add(nsexec.EnterOp(pidfd, o.lxcMsg("__attach_namespaces_pidfd", 643, "Failed to attach to namespaces via pidfd", enterFailed), enter))
	} else if t.Pidfd >= 0 {
		unix.Close(t.Pidfd)
	}
	if wd, err := os.Getwd(); err == nil {
		p.Add(nsexec.TryChdirOp(wd))
	}
	if pty != nil {
		p.Add(nsexec.ForkOps(nsexec.ForkLXC, 0, false, nsexec.FDOp(nsexec.Close, pty.child, ""))...)
	} else {
		p.Add(nsexec.ForkOps(nsexec.ForkLXC, 0, false)...)
	}

	// The attached process.
	if o.Flags&flagRemountProcSys != 0 && t.Namespaces&unix.CLONE_NEWNS == 0 {
		fn := "lxc_attach_remount_sys_proc"
		p.Add(nsexec.UnshareOp(unix.CLONE_NEWNS, o.lxcMsg(fn, 521, "Failed to unshare mount namespace")),
			nsexec.MountOp("", "/", "", unix.MS_SLAVE|unix.MS_REC, "", int(unix.EINVAL), o.lxcMsg(fn, 525, "Failed to make / rslave")),
			nsexec.UmountOp("/proc", unix.MNT_DETACH, 0, o.lxcMsg(fn, 531, "Failed to unmount /proc")),
			nsexec.MountOp("none", "/proc", "proc", 0, "", 0, o.lxcMsg(fn, 535, "Failed to remount /proc")),
			nsexec.UmountOp("/sys", unix.MNT_DETACH, int(unix.EINVAL), o.lxcMsg(fn, 544, "Failed to unmount /sys")))
		p.Add(nsexec.ThenOps(nsexec.MountOp("none", "/sys", "sysfs", 0, "", 0, o.lxcMsg(fn, 549, "Failed to remount /sys")))...)
	}
	personality := o.Personal
	if personality == archUnchanged {
		personality = t.Personal
	}
	if personality != archUnchanged && o.Flags&flagSetPersonality != 0 {
		p.Add(nsexec.PersonalityOp(personality, o.lxcMsg("attach_child_main", 1114, "Failed to set personality")))
	}
	if o.Flags&^o.Elevated&flagDropCaps != 0 {
		p.Add(nsexec.DropBoundingOp(t.CapBnd, procfs.LastCap("/proc"),
			o.lxcMsg("drop_capabilities", 887, "Failed to drop capability")))
	}
	// LXC's lxc_switch_uid_gid: groups dropped where allowed, then ids.
	switchIDs := func(uid, gid uint32) {
		p.Add(nsexec.SetGroupsOp(nsexec.GroupsTry, ""),
			nsexec.IDOp(nsexec.SetGID, gid, o.lxcMsg("lxc_switch_uid_gid", 1396, "Failed to switch to gid")),
			nsexec.IDOp(nsexec.SetUID, uid, o.lxcMsg("lxc_switch_uid_gid", 1396, "Failed to switch to uid")))
	}
	uid, gid := uint32(0), uint32(0)
	if t.Namespaces&unix.CLONE_NEWUSER != 0 {
		uid, gid = t.SetupUID, t.SetupGID
		switchIDs(uid, gid)
	}
	if t.NoNewPrivs {
		p.Add(nsexec.PrctlOp(unix.PR_SET_NO_NEW_PRIVS, 1, o.lxcMsg("attach_child_main", 1216, "Could not set PR_SET_NO_NEW_PRIVS to block execve() gainable privileges")))
	}
	if pty != nil {
		p.Add(nsexec.LoginOp(pty.child, o.lxcMsg("attach_child_main", 1238, "Failed to prepare terminal file descriptor")))
	}
	if o.HasUID {
		uid = o.UID
	}
	if o.HasGID {
		gid = o.GID
	}
	switchIDs(uid, gid)

	if len(o.Command) > 0 {
		p.Add(nsexec.ExecFlagsOp(nsexec.ExecSearch|nsexec.ExecLXC, o.Command[0], o.Command,
			o.lxcMsg("lxc_attach_run_command", 1841, `Failed to exec "`+o.Command[0]+`"`)))
		return p
	}
	// No command: the user's shell, as the container's passwd names it,
	// else /bin/sh.
	root := "/"
	if t.Namespaces&unix.CLONE_NEWNS != 0 {
		root = procfs.Path("/proc", t.Pid, "root")
	}
	if a, ok := app.LookupPasswd(root, "", uid, false); ok && a.Shell != "" {
		p.Add(nsexec.ExecFlagsOp(nsexec.ExecSearch|nsexec.ExecTry, a.Shell, []string{a.Shell}, ""))
	}
	p.Add(nsexec.ExecFlagsOp(nsexec.ExecSearch|nsexec.ExecLXC, "/bin/sh", []string{"/bin/sh"},
		o.lxcMsg("lxc_attach_run_shell", 1787, "Failed to execute shell")))
	return p
}

// environ is LXC's lxc_attach_set_environment: our environment, or with
// --clear-env only the --keep-var ones and a default PATH; then
// container=lxc, the container's lxc.environment, and -v last. A -v
// without '=' unsets, as putenv does. (base never holds nsexec.Gate: a
// process that has it runs its plan in the constructor and never
// reaches Go.)
func (o *Options) environ(base []string, t *Target) []string {
	env := append(envList(nil), base...) // set and unset work in place
	if o.ClearEnv {
		var kept envList
		pathKept := false
		for _, k := range o.KeepVars {
			if v, ok := env.get(k); ok {
				kept.set(k, v)
			}
			pathKept = pathKept || k == "PATH"
		}
		if !pathKept {
			kept.set("PATH", defaultContainerEnv)
		}
		env = kept
	}
	env.set("container", "lxc")
	for _, kv := range t.Env {
		env.set(kv[0], kv[1])
	}
	for _, kv := range o.SetVars {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env.set(k, v)
		} else {
			env.unset(kv)
		}
	}
	return env
}

// envList is an environment that keeps its order as glibc's does: a
// changed variable stays where it was, a new one goes last.
type envList []string

func (e envList) index(k string) int {
	for i, kv := range e {
		if strings.HasPrefix(kv, k) && len(kv) > len(k) && kv[len(k)] == '=' {
			return i
		}
	}
	return -1
}

func (e envList) get(k string) (string, bool) {
	if i := e.index(k); i >= 0 {
		return e[i][len(k)+1:], true
	}
	return "", false
}

func (e *envList) set(k, v string) {
	if i := e.index(k); i >= 0 {
		(*e)[i] = k + "=" + v
		return
	}
	*e = append(*e, k+"="+v)
}

func (e *envList) unset(k string) {
	if i := e.index(k); i >= 0 {
		*e = append((*e)[:i], (*e)[i+1:]...)
	}
}
