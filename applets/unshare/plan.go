package unshare

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/registry"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// Helper slots: the process that bind-mounts persistent namespace files
// from outside, and the one that writes id maps.
const (
	slotBind = iota
	slotIDMap
	slotIDMapUser
)

const binfmtMisc = "/proc/sys/fs/binfmt_misc"

// Plan turns the options into the executor's steps, in the order
// util-linux's unshare takes them. It also catches, before anything is
// changed, the bad input that util-linux would only trip over after it had
// bound persistent namespace files (which would then be left behind).
func (o *Options) Plan(sys *Sys) (*nsexec.Plan, error) {
	if err := o.check(sys); err != nil {
		return nil, err
	}
	p := &nsexec.Plan{}
	persist := len(o.Persist) > 0
	bindByHelper := persist && o.Flags&(unix.CLONE_NEWNS|unix.CLONE_NEWUSER) != 0

	// Persistent namespace files are bound from a helper that stays in
	// the original mount namespace, so that the mounts outlive us.
	if bindByHelper {
		p.Add(nsexec.SpawnOps(slotBind, true, o.bindOps(sys.Pid)...)...)
	}

	userMap, groupMap := o.UserMap, o.GroupMap
	mapUser, mapGroup := o.MapUser, o.MapGroup
	if userMap != nil || (mapUser != none && o.OwnerUser != none) {
		userMap, mapUser = addSingle(userMap, sys.EUID, mapUser), none
	}
	if groupMap != nil || (mapGroup != none && o.OwnerGroup != none) {
		groupMap, mapGroup = addSingle(groupMap, sys.EGID, mapGroup), none
	}
	// Ranges are written from outside the new user namespace, once it
	// exists: directly as root, else by the setuid newuidmap/newgidmap.
	if userMap != nil || groupMap != nil {
		ops, err := idMapOps(sys, userMap, groupMap)
		if err != nil {
			return nil, err
		}
		p.Add(nsexec.SpawnOps(slotIDMap, true, ops...)...)
	}

	if o.OwnerGroup != none {
		p.Add(nsexec.SetGroupsOp(nsexec.GroupsMust, "setgroups failed"),
			nsexec.IDOp(nsexec.SetGID, o.OwnerGroup, "setgid() failed"))
	}
	if o.OwnerUser != none {
		p.Add(nsexec.IDOp(nsexec.SetUID, o.OwnerUser, "setuid() failed"))
	}

	p.Add(nsexec.UnshareOp(o.Flags, "unshare failed"))
	if userMap != nil || groupMap != nil {
		p.Add(nsexec.ReleaseOp(slotIDMap))
	}
	if o.ForceBoot {
		p.Add(timeOffset(unix.CLOCK_BOOTTIME, o.Boottime))
	}
	if o.ForceMono {
		p.Add(timeOffset(unix.CLOCK_MONOTONIC, o.Monotonic))
	}

	// The binds happen after the fork so that pid_for_children names the
	// new pid namespace; with --fork the parent does them.
	var binds []nsexec.Op
	if bindByHelper {
		binds = []nsexec.Op{nsexec.ReleaseOp(slotBind)}
	} else if persist {
		binds = o.bindOps(sys.Pid)
	}
	if o.Fork {
		fork := nsexec.ForkOps(nsexec.ForkUnshare, o.KillChild, o.ForwardSignals, binds...)
		if o.Name != "" {
			fork = nsexec.Register(fork, registry.Path(registry.Dir(), o.Name))
		}
		p.Add(fork...)
	} else {
		p.Add(binds...)
	}
	if o.KillChild != 0 {
		p.Add(nsexec.ParentDeathOp(o.KillChild))
	}

	// A single id is mapped by the process itself, from inside.
	if mapUser != none && userMap == nil {
		p.Add(selfMap("/proc/self/uid_map", mapUser, sys.EUID))
	}
	if mapGroup != none && groupMap == nil {
		// Unprivileged writes to gid_map need setgroups denied first.
		p.Add(setgroupsOp("deny"), selfMap("/proc/self/gid_map", mapGroup, sys.EGID))
	}
	if o.Setgroups != "" {
		p.Add(setgroupsOp(o.Setgroups))
	}

	if o.Flags&unix.CLONE_NEWNS != 0 && o.Propagation != 0 {
		p.Add(nsexec.MountOp("none", "/", "", o.Propagation, "", 0, "cannot change root filesystem propagation"))
	}
	fixed := o.Interp != "" && isFixed(o.Interp) && o.Root != ""
	if fixed {
		// A fixed interpreter is opened when registered, so register it
		// before the root changes, from the host's binfmt_misc.
		p.Add(binfmtMount(binfmtMisc))
		p.Add(loadInterp(binfmtMisc, o.Interp)...)
	}
	wd := o.Wd
	if o.Pivot != nil {
		ops, err := o.Pivot.ops(o.Flags&unix.CLONE_NEWUSER != 0)
		if err != nil {
			return nil, err
		}
		p.Add(ops...)
	}
	if o.Root != "" {
		p.Add(nsexec.PathOp(nsexec.Chroot, o.Root, fmt.Sprintf("cannot change root directory to '%s'", o.Root)))
		if wd == "" {
			wd = "/"
		}
	}
	if wd != "" {
		p.Add(nsexec.PathOp(nsexec.Chdir, wd, "cannot change directory to "+wd))
	}
	if o.ProcMnt != "" {
		// Without a new root and with propagation other than private, an
		// existing /proc would still share mounts with the host's: make it
		// private before mounting over it. EINVAL means nothing is
		// mounted there, which is fine.
		if o.Root == "" && o.Propagation != unix.MS_PRIVATE|unix.MS_REC {
			p.Add(nsexec.MountOp("none", o.ProcMnt, "", unix.MS_PRIVATE|unix.MS_REC, "", int(unix.EINVAL),
				fmt.Sprintf("cannot change %s filesystem propagation", o.ProcMnt)))
		}
		p.Add(nsexec.MountOp("proc", o.ProcMnt, "proc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "", 0, "mount "+o.ProcMnt+" failed"))
	}
	if o.BinfmtMnt != "" {
		p.Add(binfmtMount(o.BinfmtMnt))
	}
	if o.Interp != "" && !fixed {
		p.Add(loadInterp(o.BinfmtMnt, o.Interp)...)
	}

	if o.ForceGID {
		p.Add(nsexec.SetGroupsOp(nsexec.GroupsMust, "setgroups failed"),
			nsexec.IDOp(nsexec.SetGID, o.SetGID, "setgid() failed"))
	}
	if o.ForceUID {
		p.Add(nsexec.IDOp(nsexec.SetUID, o.SetUID, "setuid() failed"))
	}
	if o.KeepCaps && o.Flags&unix.CLONE_NEWUSER != 0 {
		p.Add(nsexec.AmbientCapsOp(procfs.LastCap(sys.path("/proc"))))
	}
	env := sys.Environ
	if o.ClearEnv || o.Whitelist != nil {
		env = o.Whitelist
		if env == nil {
			env = []string{}
		}
		p.Add(nsexec.EnvironOp(env))
	}

	if o.Pivot != nil && o.Pivot.Init {
		// pid 1 stays, as the init; its child runs the program.
		p.Add(nsexec.ForkOps(nsexec.ForkInit, 0, false)...)
	}
	if len(o.Command) > 0 {
		p.Add(nsexec.ExecOp(true, o.Command[0], o.Command, "failed to execute"))
	} else if o.Pivot != nil {
		p.Add(nsexec.ExecOp(false, "/bin/sh", []string{"/bin/sh"}, "failed to execute"))
	} else {
		shell := o.shell(sys, env, userMap)
		p.Add(nsexec.ExecOp(false, shell, []string{"-" + filepath.Base(shell)}, "failed to execute"))
	}
	return p, nil
}

// check rejects, before any change is made, input that util-linux would
// reject only halfway through, with the message util-linux would print.
func (o *Options) check(sys *Sys) error {
	if o.MapGroup != none && o.GroupMap == nil && o.OwnerGroup == none && o.Setgroups == "allow" {
		return app.Errorx("options --setgroups=allow and --map-group are mutually exclusive")
	}
	for _, ns := range procfs.Namespaces {
		target, ok := o.Persist[ns.Name]
		if !ok {
			continue
		}
		if _, err := os.Stat(target); err != nil {
			return app.Errorf(err, "mount %s on %s failed", nsSource(sys.Pid, ns), target)
		}
	}
	if o.Root != "" {
		if err := checkDir(o.Root); err != nil {
			return app.Errorf(err, "cannot change root directory to '%s'", o.Root)
		}
	}
	if o.Pivot != nil {
		if err := o.Pivot.check(o.Command); err != nil {
			return err
		}
	}
	if o.Name != "" {
		if err := registry.Prepare(registry.Dir(), "/proc", o.Name); err != nil {
			return app.Errorx("%s", err)
		}
	}
	return nil
}

func checkDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return unix.ENOTDIR
	}
	return nil
}

func nsSource(pid int, ns procfs.Namespace) string {
	name := ns.Name
	if ns.ForChildren != "" {
		name = ns.ForChildren
	}
	return fmt.Sprintf("/proc/%d/ns/%s", pid, name)
}

// bindOps binds our namespace links to the files asked for, in
// util-linux's order of namespaces.
func (o *Options) bindOps(pid int) []nsexec.Op {
	var ops []nsexec.Op
	for _, ns := range procfs.Namespaces {
		target, ok := o.Persist[ns.Name]
		if !ok {
			continue
		}
		src := nsSource(pid, ns)
		ops = append(ops, nsexec.MountOp(src, target, "", unix.MS_BIND, "", 0,
			fmt.Sprintf("mount %s on %s failed", src, target)))
	}
	return ops
}

// idMapOps writes ranges into our uid_map/gid_map from a helper.
func idMapOps(sys *Sys, userMap, groupMap []Range) ([]nsexec.Op, error) {
	var ops []nsexec.Op
	if sys.EUID == 0 {
		for _, m := range []struct {
			file  string
			chain []Range
		}{{"uid_map", userMap}, {"gid_map", groupMap}} {
			if m.chain == nil {
				continue
			}
			path := fmt.Sprintf("/proc/%d/%s", sys.Pid, m.file)
			text := mapText(m.chain)
			if len(text) > 4096 {
				// The kernel takes at most a page.
				return nil, app.Errorx("%s too large for kernel 4k limit", path)
			}
			ops = append(ops, nsexec.WriteOp(path, text, 0, "failed to open "+path, "failed to write "+path))
		}
		return ops, nil
	}
	uidmap := idmapperOp("newuidmap", sys.Pid, userMap)
	gidmap := idmapperOp("newgidmap", sys.Pid, groupMap)
	switch {
	case userMap != nil && groupMap != nil:
		ops = append(nsexec.SpawnOps(slotIDMapUser, false, uidmap), nsexec.ReleaseOp(slotIDMapUser), gidmap)
	case userMap != nil:
		ops = append(ops, uidmap)
	default:
		ops = append(ops, gidmap)
	}
	return ops, nil
}

func idmapperOp(tool string, pid int, chain []Range) nsexec.Op {
	argv := []string{tool, strconv.Itoa(pid)}
	for _, r := range chain {
		argv = append(argv, strconv.FormatUint(uint64(r.Inner), 10),
			strconv.FormatUint(uint64(r.Outer), 10), strconv.FormatUint(uint64(r.Count), 10))
	}
	return nsexec.ExecOp(true, tool, argv, "failed to execute")
}

func selfMap(path string, inner, outer uint32) nsexec.Op {
	return nsexec.WriteOp(path, fmt.Sprintf("%d %d 1", inner, outer), 0, "cannot open "+path, "write failed "+path)
}

func setgroupsOp(v string) nsexec.Op {
	const f = "/proc/self/setgroups"
	return nsexec.WriteOp(f, v, nsexec.WriteIgnoreENOENT, "cannot open "+f, "write failed "+f)
}

func timeOffset(clock int, offset int64) nsexec.Op {
	const f = "/proc/self/timens_offsets"
	return nsexec.WriteOp(f, fmt.Sprintf("%d %d 0", clock, offset), 0, "failed to open "+f, "failed to write to "+f)
}

func binfmtMount(dir string) nsexec.Op {
	return nsexec.MountOp("binfmt_misc", dir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV, "", 0, "mount "+dir+" failed")
}

func loadInterp(dir, interp string) []nsexec.Op {
	reg := dir + "/register"
	return []nsexec.Op{
		nsexec.PathOp(nsexec.CheckDir, dir, "cannot open "+dir),
		nsexec.WriteOp(reg, interp, 0, "cannot open "+reg, "write failed "+reg),
	}
}

// isFixed reports a binfmt_misc definition with the F (fix binary) flag.
func isFixed(interp string) bool {
	i := strings.LastIndexByte(interp, ':')
	return i >= 0 && strings.IndexByte(interp[i:], 'F') >= 0
}

// shell is what util-linux's exec_shell() runs when there is no command:
// $SHELL from the final environment, else the passwd shell of the uid the
// process will have (looked up under the new root), else /bin/sh.
func (o *Options) shell(sys *Sys, env []string, userMap []Range) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SHELL="); ok && v != "" {
			return v
		}
	}
	root := sys.Root
	if o.Root != "" {
		root = o.Root
		if filepath.IsAbs(root) {
			root = sys.path(root)
		}
	}
	if pw, ok := app.LookupPasswd(root, "", o.finalUID(sys, userMap), false); ok && pw.Shell != "" {
		return pw.Shell
	}
	return "/bin/sh"
}

// finalUID is getuid() as the target will see it.
func (o *Options) finalUID(sys *Sys, userMap []Range) uint32 {
	if o.ForceUID {
		return o.SetUID
	}
	uid := sys.UID
	if o.OwnerUser != none {
		uid = o.OwnerUser
	}
	if o.Flags&unix.CLONE_NEWUSER == 0 {
		return uid
	}
	if o.MapUser != none && userMap == nil {
		return o.MapUser
	}
	for _, r := range userMap {
		if uid >= r.Outer && uid-r.Outer < r.Count {
			return r.Inner + (uid - r.Outer)
		}
	}
	return 65534 // the kernel's overflowuid
}
