// Command nsbox is unshare, nsenter, lxc-attach and pivot_root in one
// binary, busybox-style. See applets for the dispatch and nsexec.c for the
// constructor that does the namespace work before the Go runtime starts.
package main

// void nsbox_restore_cpus(void);
import "C" // nsexec.c: the constructor

import (
	"os"

	"github.com/moby/sys/reexec"
	"github.com/nsbox/nsbox/applets"
)

// init gives the process back the caller's CPUs: the constructor confined
// it to one so that the Go runtime starts lean.
func init() {
	C.nsbox_restore_cpus()
}

func main() {
	if reexec.Init() {
		return
	}
	os.Exit(applets.Main(os.Args))
}
