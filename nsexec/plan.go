// Package nsexec is the Go side of nsbox's executor.
//
// A Go process cannot unshare or join a mount or user namespace: the
// runtime has started threads before main runs. So the applets work out in
// Go what must happen, as a Plan: a short list of typed steps, each carrying
// the words to print if it fails. Run then re-executes the nsbox binary
// with the plan on an inherited file descriptor named by the environment
// variable Gate. The constructor in nsexec.c runs in that new image before
// the Go runtime exists, reads the plan, walks its steps in order (unshare,
// setns, fork, write id maps, mount, chroot, set ids, ...) and execs the
// target itself, so the Go runtime starts once per invocation and the
// process the caller started is the one that ends up in the namespaces,
// just as with util-linux.
//
// The plan format (all integers in host byte order):
//
//	header:  "NSBX" u32(version) u32(op count) u32(len) prog NUL
//	op:      u16(code) u16(int count) u16(string count) u16(0)
//	         int count × i64
//	         string count × ( u32(len) bytes NUL )
//
// Strings are NUL-terminated in the buffer so that the C side can use them
// in place. Encode and Decode are inverses; nsexec.c decodes the same bytes.
package nsexec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Version is the plan format version; nsexec.c refuses any other.
const Version = 1

// Gate is the environment variable that makes the constructor run a plan.
// Its value is the number of the file descriptor holding the plan.
const Gate = "_NSBOX_PLAN"

// Code identifies a step. The numbers are shared with nsexec.c.
type Code uint16

// Steps. Ints and Strs list what each step's Ints and Strs hold.
const (
	// Spawn forks a helper that runs the next Count steps and exits 0.
	// With Sync, the helper first waits until Release(Slot) is reached.
	// The process that spawned it skips those steps.
	// Ints: slot, count, sync.
	Spawn Code = 1
	// Release lets helper Slot go on (if it waits) and waits for it to
	// end; if it exits non-zero, this process exits with its code.
	// Ints: slot.
	Release Code = 2
	// Unshare calls unshare(2). Ints: flags. Strs: msg.
	Unshare Code = 3
	// Write opens Path for writing and writes Data.
	// Ints: flags (WriteIgnoreENOENT, WriteAll). Strs: path, data, open msg, write msg.
	Write Code = 4
	// Mount calls mount(2); an error equal to IgnoreErrno is not fatal.
	// Ints: flags, ignore errno. Strs: source, target, fstype, data, msg.
	Mount Code = 5
	// Chroot calls chroot(2). Strs: path, msg.
	Chroot Code = 6
	// Chdir calls chdir(2); with Tolerate a failure is no error.
	// Ints: tolerate. Strs: path, msg.
	Chdir Code = 7
	// CheckDir opens Path as an O_PATH directory and closes it again.
	// Strs: path, msg.
	CheckDir Code = 8
	// SetGroups drops supplementary groups: setgroups(0, NULL). Mode
	// GroupsMust fails on error; GroupsTry only remembers a failure;
	// GroupsIfTried fails only if an earlier GroupsTry failed too (as
	// nsenter, which tries before and after joining a user namespace).
	// Ints: mode. Strs: msg.
	SetGroups Code = 9
	// SetGID calls setgid(2). Ints: gid. Strs: msg.
	SetGID Code = 10
	// SetUID calls setuid(2). Ints: uid. Strs: msg.
	SetUID Code = 11
	// Fork forks; the child goes on after the parent's steps, the parent
	// runs the next ParentCount steps, waits for the child and ends the way
	// it ended (Style). With Registry, the parent records the child there
	// as a named container and removes the entry when the child ends.
	// Ints: style, kill-child signal, forward signals, parent count.
	// Strs: registry path, or none.
	Fork Code = 12
	// ParentDeath arranges for this process to get Signal when its parent
	// dies, and exits 1 if the parent is already gone (--kill-child).
	// Ints: signal.
	ParentDeath Code = 13
	// AmbientCaps raises every permitted capability into the inheritable
	// and ambient sets (--keep-caps). Ints: last capability.
	AmbientCaps Code = 14
	// Environ replaces the environment. Strs: NAME=VALUE....
	Environ Code = 15
	// Exec runs Strs[1] with the argument vector Strs[2:]. Flags:
	// ExecSearch searches PATH as glibc's execvp does; ExecTry goes on to
	// the next step on failure (a fallback); ExecLXC prints Msg as it is
	// and exits as lxc-attach does (127 for ENOENT, 126 for EACCES and
	// ENOEXEC, else 255). Otherwise a failure prints "Msg FILE: strerror"
	// and exits 127 for ENOENT, else 126. Ints: flags. Strs: msg, file,
	// argv....
	Exec Code = 16
	// Enter joins namespaces as nsenter does: first every one but the user
	// namespace, ignoring errors, then whatever is left, failing on error.
	// Entries without a descriptor go through Pidfd in one setns(2).
	// Joined descriptors and the pidfd are closed. Ints: pidfd (FD ref),
	// then an (nstype, FD ref) pair per namespace in util-linux's order.
	// Strs: the message for a failed pidfd join, then one per namespace.
	Enter Code = 17
	// Open opens Path with Flags into register Reg (a register's
	// descriptor is close-on-exec). With At >= 0 the descriptor is moved to
	// that number, which the Go side chose free, so that later steps can
	// name it in paths (/proc/self/fd/At). Ints: flags, reg, at.
	// Strs: path, msg.
	Open Code = 18
	// Fchdir changes directory to an FD ref. Ints: fd. Strs: msg.
	Fchdir Code = 19
	// Close closes an FD ref. Ints: fd.
	Close Code = 20
	// WritePid writes this process's pid to an FD ref (cgroup.procs).
	// Ints: fd. Strs: msg.
	WritePid Code = 21
	// PivotRoot calls pivot_root(2). Strs: new root, put old, msg.
	PivotRoot Code = 22
	// Umount calls umount2(2); an error equal to IgnoreErrno is not
	// fatal (see OrElse). Ints: flags, ignore errno. Strs: target, msg.
	Umount Code = 23
	// Mkdir makes a directory; one that exists is fine. Ints: mode.
	// Strs: path, msg.
	Mkdir Code = 24
	// Mknod makes a node (a regular file with S_IFREG); one that exists
	// is fine. Ints: mode, dev. Strs: path, msg.
	Mknod Code = 25
	// Symlink makes a symbolic link; one that exists is fine.
	// Strs: target, path, msg.
	Symlink Code = 26
	// Sethostname calls sethostname(2). Strs: name, msg.
	Sethostname Code = 27
	// OrElse runs the next Count steps only if the step before it failed
	// with the errno it was told to ignore (a Mount's or Umount's
	// IgnoreErrno) and skips them otherwise: a fallback. With Then it is
	// the other way round. Ints: count, then.
	OrElse Code = 28
	// Personality calls personality(2). Ints: persona. Strs: msg.
	Personality Code = 29
	// DropBounding drops from the bounding set every capability up to
	// Last that is not in Keep. Ints: keep mask, last. Strs: msg, to which
	// the number of the capability is appended.
	DropBounding Code = 30
	// Prctl calls prctl(Option, Arg). Ints: option, arg. Strs: msg.
	Prctl Code = 31
	// Login makes FD the controlling terminal of a new session and the
	// stdin, stdout and stderr that are terminals. Ints: fd. Strs: msg.
	Login Code = 32
	// Quiet silences the messages of later failures (lxc-attach -q).
	Quiet Code = 33
	// Name sets the process name (comm), which the re-execution through
	// /proc/self/exe turned into "exe": Run and Start put it first so
	// that ps and pgrep see the waiting unshare or nsenter by its name.
	// Strs: name.
	Name Code = 34
	// Log writes the messages of later failures that carry a log line
	// (after LogMark) to FD as well, each as Prefix, a UTC time stamp,
	// " ERROR    " and the line (lxc-attach -o). Ints: fd. Strs: prefix.
	Log Code = 35
	// CPUs sets this process's CPU affinity to Mask, the caller's CPUs,
	// which the constructor of the Go side's run confined to one (see
	// CallerCPUs); Run and Start put it first. Ints: the mask's 64-bit
	// words.
	CPUs    Code = 36
	codeEnd Code = 37
)

// FD refs: a step's file descriptor operand is either a descriptor the
// Go side opened and left open across exec (>= 0), none (NoFD), or a
// register filled by an Open step (Reg(n)).
const NoFD = -1

// Reg names register n (0..7) as an FD ref.
func Reg(n int) int { return -2 - n }

// SetGroups modes.
const (
	GroupsMust = iota
	GroupsTry
	GroupsIfTried
)

// Write flags.
const (
	WriteIgnoreENOENT = 1 << 0 // a missing file is not an error
)

// Fork styles: how the waiting parent mirrors the child's end.
const (
	// ForkUnshare is util-linux unshare's: SIGINT and SIGTERM blocked (or
	// forwarded) while waiting, a signal death reproduced on the parent.
	ForkUnshare = 0
	// ForkNsenter is nsenter's: a stopped child stops the parent too.
	ForkNsenter = 1
	// ForkLXC is lxc-attach's: a signal death becomes exit status
	// 128+signal, and SIGINT and SIGQUIT are ignored while waiting.
	ForkLXC = 2
	// ForkInit is a small init's (nsbox pivot --init): the parent, pid 1
	// of a new pid namespace, passes the signals a shell or a supervisor
	// sends on to the child, reaps every process that ends up its child,
	// and ends as the child does, a signal death as 128+signal (pid 1
	// cannot die of its own signal).
	ForkInit = 3
)

// Exec flags.
const (
	ExecSearch = 1 << 0
	ExecTry    = 1 << 1
	ExecLXC    = 1 << 2
)

// ErrMark in a step's message marks where the error text goes (LXC's
// layout); without it, ": strerror" follows the message.
const ErrMark = "\x01"

// LogMark in a step's message starts its line for the file of a Log step;
// ErrMark may mark the error text there too.
const LogMark = "\x02"

// Op is one step of a plan.
type Op struct {
	Code Code
	Ints []int64
	Strs []string
}

// Plan is what the constructor runs: Prog names the program in messages.
type Plan struct {
	Prog string
	Ops  []Op
}

var magic = [4]byte{'N', 'S', 'B', 'X'}

var ne = binary.NativeEndian

// Encode serialises the plan.
func (p *Plan) Encode() []byte {
	b := make([]byte, 0, 256)
	b = append(b, magic[:]...)
	b = ne.AppendUint32(b, Version)
	b = ne.AppendUint32(b, uint32(len(p.Ops)))
	b = appendString(b, p.Prog)
	for _, op := range p.Ops {
		b = ne.AppendUint16(b, uint16(op.Code))
		b = ne.AppendUint16(b, uint16(len(op.Ints)))
		b = ne.AppendUint16(b, uint16(len(op.Strs)))
		b = ne.AppendUint16(b, 0)
		for _, v := range op.Ints {
			b = ne.AppendUint64(b, uint64(v))
		}
		for _, s := range op.Strs {
			b = appendString(b, s)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = ne.AppendUint32(b, uint32(len(s)))
	b = append(b, s...)
	return append(b, 0)
}

// ErrCorrupt reports a plan that cannot be decoded.
var ErrCorrupt = errors.New("corrupt exec plan")

// Decode parses an encoded plan; it accepts exactly what nsexec.c accepts.
func Decode(b []byte) (*Plan, error) {
	d := decoder{b: b}
	if len(b) < 12 || [4]byte(b[:4]) != magic {
		return nil, ErrCorrupt
	}
	d.b = b[4:]
	if d.u32() != Version {
		return nil, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	n := d.u32()
	p := &Plan{Prog: d.str()}
	for i := uint32(0); i < n && d.err == nil; i++ {
		op := Op{Code: Code(d.u16())}
		ni, ns := int(d.u16()), int(d.u16())
		if d.u16() != 0 {
			return nil, fmt.Errorf("%w: reserved field set", ErrCorrupt)
		}
		if op.Code == 0 || op.Code >= codeEnd {
			return nil, fmt.Errorf("%w: unknown step %d", ErrCorrupt, op.Code)
		}
		for j := 0; j < ni && d.err == nil; j++ {
			op.Ints = append(op.Ints, int64(d.u64()))
		}
		for j := 0; j < ns && d.err == nil; j++ {
			op.Strs = append(op.Strs, d.str())
		}
		p.Ops = append(p.Ops, op)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: trailing bytes", ErrCorrupt)
	}
	if d.err != nil {
		return nil, d.err
	}
	return p, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.err = fmt.Errorf("%w: truncated", ErrCorrupt)
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u16() uint16 { return ne.Uint16(d.take(2)) }
func (d *decoder) u32() uint32 { return ne.Uint32(d.take(4)) }
func (d *decoder) u64() uint64 { return ne.Uint64(d.take(8)) }

func (d *decoder) str() string {
	n := d.u32()
	if d.err != nil || uint64(n)+1 > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: truncated", ErrCorrupt)
		return ""
	}
	s := d.take(int(n) + 1)
	if s[n] != 0 {
		d.err = fmt.Errorf("%w: string not terminated", ErrCorrupt)
		return ""
	}
	return string(s[:n])
}

// String renders a plan one step a line, for tests and debugging.
func (p *Plan) String() string {
	var b strings.Builder
	for _, op := range p.Ops {
		fmt.Fprintf(&b, "%s", op.Code)
		for _, v := range op.Ints {
			fmt.Fprintf(&b, " %d", v)
		}
		for _, s := range op.Strs {
			fmt.Fprintf(&b, " %q", s)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

var codeNames = [...]string{
	Spawn: "spawn", Release: "release", Unshare: "unshare", Write: "write",
	Mount: "mount", Chroot: "chroot", Chdir: "chdir", CheckDir: "checkdir",
	SetGroups: "setgroups", SetGID: "setgid", SetUID: "setuid", Fork: "fork",
	ParentDeath: "parentdeath", AmbientCaps: "ambientcaps", Environ: "environ",
	Exec: "exec", Enter: "enter", Open: "open", Fchdir: "fchdir", Close: "close",
	WritePid: "writepid", PivotRoot: "pivotroot", Umount: "umount", Mkdir: "mkdir",
	Mknod: "mknod", Symlink: "symlink", Sethostname: "sethostname", OrElse: "orelse",
	Personality: "personality", DropBounding: "dropbounding", Prctl: "prctl", Login: "login", Quiet: "quiet", Name: "name", Log: "log", CPUs: "cpus",
}

func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint16(c))
}
