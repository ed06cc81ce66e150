// Command nsbox is unshare, nsenter, lxc-attach and pivot_root in one
// binary, busybox-style. See applets for the dispatch and nsexec.c for the
// constructor that does the namespace work before the Go runtime starts.
package main

// int nsbox_caller_cpus(void *buf, int len);
import "C" // nsexec.c: the constructor

import (
	"os"
	"unsafe"

	"github.com/moby/sys/reexec"
	"github.com/nsbox/nsbox/applets"
	"github.com/nsbox/nsbox/nsexec"
)

// init lets plans give the target the caller's CPUs: the constructor
// confined this process to one so that the Go runtime runs lean.
func init() {
	nsexec.CallerCPUs = func() []uint64 {
		var mask [16]uint64
		n := C.nsbox_caller_cpus(unsafe.Pointer(&mask[0]), C.int(len(mask)*8))
		return mask[:n/8]
	}
}

func main() {
	if reexec.Init() {
		return
	}
	os.Exit(applets.Main(os.Args))
}
