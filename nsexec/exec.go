package nsexec

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Self is the path the executor re-executes: this very binary.
const Self = "/proc/self/exe"

// Run hands plan to the constructor: it writes the plan to a memfd that
// survives execve, puts its number in Gate and re-executes this binary
// with argv (the process's own command line, so that ps shows what the
// caller typed) and env. It returns only on failure.
func Run(plan *Plan, argv, env []string) error {
	fd, err := unix.MemfdCreate("nsbox-plan", 0)
	if err != nil {
		return err
	}
	data := plan.Encode()
	if _, err := unix.Pwrite(fd, data, 0); err != nil {
		unix.Close(fd)
		return err
	}
	gated := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, Gate+"=") {
			gated = append(gated, kv)
		}
	}
	gated = append(gated, Gate+"="+strconv.Itoa(fd))
	err = syscall.Exec(Self, argv, gated)
	unix.Close(fd)
	return err
}
