// Command nsbox is unshare, nsenter, lxc-attach and pivot_root in one
// binary, busybox-style. See applets for the dispatch and nsexec.c for the
// constructor that does the namespace work before the Go runtime starts.
package main

// void nsbox_restore_cpus(void);
import "C" // nsexec.c: the constructor

import (
	"os"
	"runtime"

	"github.com/moby/sys/reexec"
	"github.com/nsbox/nsbox/applets"
)

// init runs on the main thread, which the constructor confined to one CPU
// so that the Go runtime starts lean: give the caller's CPUs back, and
// keep main on this thread, the one that execs or starts the target.
func init() {
	runtime.LockOSThread()
	C.nsbox_restore_cpus()
}

func main() {
	if reexec.Init() {
		return
	}
	os.Exit(applets.Main(os.Args))
}
