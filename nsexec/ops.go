package nsexec

import "golang.org/x/sys/unix"

// Constructors for steps, so that plans read as what they do.

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Add appends steps to the plan.
func (p *Plan) Add(ops ...Op) { p.Ops = append(p.Ops, ops...) }

// SpawnOps forks a helper running body (after Release(slot) when sync).
func SpawnOps(slot int, sync bool, body ...Op) []Op {
	return append([]Op{{Code: Spawn, Ints: []int64{int64(slot), int64(len(body)), b2i(sync)}}}, body...)
}

// ReleaseOp lets helper slot go on and waits for it.
func ReleaseOp(slot int) Op { return Op{Code: Release, Ints: []int64{int64(slot)}} }

// UnshareOp calls unshare(flags).
func UnshareOp(flags uintptr, msg string) Op {
	return Op{Code: Unshare, Ints: []int64{int64(flags)}, Strs: []string{msg}}
}

// WriteOp writes data to path.
func WriteOp(path, data string, flags int, openMsg, writeMsg string) Op {
	return Op{Code: Write, Ints: []int64{int64(flags)}, Strs: []string{path, data, openMsg, writeMsg}}
}

// MountOp calls mount(2); "" stands for NULL in source, fstype and data.
func MountOp(source, target, fstype string, flags uintptr, data string, ignore int, msg string) Op {
	return Op{Code: Mount, Ints: []int64{int64(flags), int64(ignore)}, Strs: []string{source, target, fstype, data, msg}}
}

// PathOp is a step on one path: Chroot, Chdir or CheckDir.
func PathOp(code Code, path, msg string) Op {
	return Op{Code: code, Strs: []string{path, msg}}
}

// TryChdirOp changes directory if it can.
func TryChdirOp(path string) Op {
	return Op{Code: Chdir, Ints: []int64{1}, Strs: []string{path, ""}}
}

// IDOp sets an id: SetGID or SetUID.
func IDOp(code Code, id uint32, msg string) Op {
	return Op{Code: code, Ints: []int64{int64(id)}, Strs: []string{msg}}
}

// SetGroupsOp drops supplementary groups (mode: GroupsMust, ...).
func SetGroupsOp(mode int, msg string) Op {
	return Op{Code: SetGroups, Ints: []int64{int64(mode)}, Strs: []string{msg}}
}

// EnterNS is one namespace for EnterOp.
type EnterNS struct {
	Type uintptr // CLONE_NEW*
	FD   int     // FD ref, or NoFD to join through the pidfd
	Msg  string  // what to print if joining it fails
}

// EnterOp joins namespaces in nsenter's two passes.
func EnterOp(pidfd int, pidfdMsg string, ns []EnterNS) Op {
	op := Op{Code: Enter, Ints: []int64{int64(pidfd)}, Strs: []string{pidfdMsg}}
	for _, n := range ns {
		op.Ints = append(op.Ints, int64(n.Type), int64(n.FD))
		op.Strs = append(op.Strs, n.Msg)
	}
	return op
}

// OpenOp opens path into register reg.
func OpenOp(path string, flags, reg int, msg string) Op {
	return Op{Code: Open, Ints: []int64{int64(flags), int64(reg), -1}, Strs: []string{path, msg}}
}

// OpenAtOp opens path into register reg, as descriptor number at.
func OpenAtOp(path string, flags, reg, at int, msg string) Op {
	return Op{Code: Open, Ints: []int64{int64(flags), int64(reg), int64(at)}, Strs: []string{path, msg}}
}

// FreeFDs returns n descriptor numbers from 100 up that are not open now,
// for OpenAtOp. (Close-on-exec ones would be free after exec too; they are
// skipped all the same.)
func FreeFDs(n int) []int {
	var fds []int
	for fd := 100; len(fds) < n; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			fds = append(fds, fd)
		}
	}
	return fds
}

// Keep clears close-on-exec so that fd reaches the constructor; on
// failure it closes fd.
func Keep(fd int) (int, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// FDOp is a step on one FD ref: Fchdir, WritePid (with msg) or Close.
func FDOp(code Code, fd int, msg string) Op {
	if code == Close {
		return Op{Code: code, Ints: []int64{int64(fd)}}
	}
	return Op{Code: code, Ints: []int64{int64(fd)}, Strs: []string{msg}}
}

// ForkOps forks; the parent runs parent, waits and mirrors the child.
func ForkOps(style, killSignal int, forward bool, parent ...Op) []Op {
	return append([]Op{{Code: Fork, Ints: []int64{int64(style), int64(killSignal), b2i(forward), int64(len(parent))}}}, parent...)
}

// Register makes a Fork step record its child as a named container.
func Register(fork []Op, path string) []Op {
	fork[0].Strs = []string{path}
	return fork
}

// ParentDeathOp asks for sig when the parent dies.
func ParentDeathOp(sig int) Op { return Op{Code: ParentDeath, Ints: []int64{int64(sig)}} }

// AmbientCapsOp makes the permitted capabilities ambient.
func AmbientCapsOp(lastCap int) Op { return Op{Code: AmbientCaps, Ints: []int64{int64(lastCap)}} }

// EnvironOp replaces the environment.
func EnvironOp(env []string) Op { return Op{Code: Environ, Strs: env} }

// ExecOp execs file with argv; search makes it execvp.
func ExecOp(search bool, file string, argv []string, msg string) Op {
	return Op{Code: Exec, Ints: []int64{b2i(search)}, Strs: append([]string{msg, file}, argv...)}
}

// ExecFlagsOp execs file with argv and Exec flags.
func ExecFlagsOp(flags int, file string, argv []string, msg string) Op {
	return Op{Code: Exec, Ints: []int64{int64(flags)}, Strs: append([]string{msg, file}, argv...)}
}

// PivotRootOp calls pivot_root(newRoot, putOld).
func PivotRootOp(newRoot, putOld, msg string) Op {
	return Op{Code: PivotRoot, Strs: []string{newRoot, putOld, msg}}
}

// UmountOp calls umount2(target, flags); ignore is an errno to tolerate.
func UmountOp(target string, flags, ignore int, msg string) Op {
	return Op{Code: Umount, Ints: []int64{int64(flags), int64(ignore)}, Strs: []string{target, msg}}
}

// MkdirOp makes a directory unless it exists.
func MkdirOp(path string, mode uint32, msg string) Op {
	return Op{Code: Mkdir, Ints: []int64{int64(mode)}, Strs: []string{path, msg}}
}

// MknodOp makes a node unless it exists.
func MknodOp(path string, mode uint32, dev uint64, msg string) Op {
	return Op{Code: Mknod, Ints: []int64{int64(mode), int64(dev)}, Strs: []string{path, msg}}
}

// SymlinkOp makes path a symbolic link to target unless it exists.
func SymlinkOp(target, path, msg string) Op {
	return Op{Code: Symlink, Strs: []string{target, path, msg}}
}

// SethostnameOp sets the hostname.
func SethostnameOp(name, msg string) Op {
	return Op{Code: Sethostname, Strs: []string{name, msg}}
}

// OrElseOps runs fallback only if the step before failed with the errno
// that step ignores.
func OrElseOps(fallback ...Op) []Op {
	return append([]Op{{Code: OrElse, Ints: []int64{int64(len(fallback)), 0}}}, fallback...)
}

// ThenOps runs next only if the step before succeeded.
func ThenOps(next ...Op) []Op {
	return append([]Op{{Code: OrElse, Ints: []int64{int64(len(next)), 1}}}, next...)
}

// PersonalityOp sets the execution domain.
func PersonalityOp(persona uint64, msg string) Op {
	return Op{Code: Personality, Ints: []int64{int64(persona)}, Strs: []string{msg}}
}

// DropBoundingOp keeps only the capabilities in keep in the bounding set.
func DropBoundingOp(keep uint64, last int, msg string) Op {
	return Op{Code: DropBounding, Ints: []int64{int64(keep), int64(last)}, Strs: []string{msg}}
}

// PrctlOp calls prctl(option, arg).
func PrctlOp(option, arg int, msg string) Op {
	return Op{Code: Prctl, Ints: []int64{int64(option), int64(arg)}, Strs: []string{msg}}
}

// LoginOp makes fd the controlling terminal and the tty stdio.
func LoginOp(fd int, msg string) Op {
	return Op{Code: Login, Ints: []int64{int64(fd)}, Strs: []string{msg}}
}
