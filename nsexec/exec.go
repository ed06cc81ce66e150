package nsexec

import (
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Self is the path the executor re-executes: this very binary.
const Self = "/proc/self/exe"

// Run hands plan to the constructor: it writes the plan to a memfd that
// survives execve, puts its number in Gate and re-executes this binary
// with argv (the process's own command line, so that ps shows what the
// caller typed) and env. It returns only on failure.
func Run(plan *Plan, argv, env []string) error {
	fd, gated, err := prepare(plan, env)
	if err != nil {
		return err
	}
	err = syscall.Exec(Self, argv, gated)
	unix.Close(fd)
	return err
}

// Start is Run in a child process, for a caller that stays to look after
// it (lxc-attach relaying a terminal). It returns the child's pid.
func Start(plan *Plan, argv, env []string) (int, error) {
	fd, gated, err := prepare(plan, env)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return syscall.ForkExec(Self, argv, &syscall.ProcAttr{Env: gated, Files: []uintptr{0, 1, 2}})
}

// CallerCPUs, set by package main, returns the CPUs the caller gave us as
// a sched_setaffinity mask when the constructor confined this process to
// one, else nothing.
var CallerCPUs func() []uint64

// prepare writes plan to a memfd, after steps that give the process the
// caller's CPUs and its name back, and returns it and env with the gate.
func prepare(plan *Plan, env []string) (int, []string, error) {
	fd, err := unix.MemfdCreate("nsbox-plan", 0)
	if err != nil {
		return -1, nil, err
	}
	first := []Op{{Code: Name, Strs: []string{name()}}}
	if CallerCPUs != nil {
		if mask := CallerCPUs(); len(mask) > 0 {
			words := make([]int64, len(mask))
			for i, w := range mask {
				words[i] = int64(w)
			}
			first = append([]Op{{Code: CPUs, Ints: words}}, first...)
		}
	}
	full := Plan{Prog: plan.Prog, Ops: append(first, plan.Ops...)}
	data := full.Encode()
	if _, err := unix.Pwrite(fd, data, 0); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	gated := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, Gate+"=") {
			gated = append(gated, kv)
		}
	}
	return fd, append(gated, Gate+"="+strconv.Itoa(fd)), nil
}

// name is the process name (comm) as the kernel has it now.
func name() string {
	var b [16]byte // TASK_COMM_LEN
	if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0); err != nil {
		return ""
	}
	return unix.ByteSliceToString(b[:])
}
