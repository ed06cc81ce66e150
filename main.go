// Command nsbox is unshare, nsenter, lxc-attach and pivot_root in one
// binary, busybox-style. See applets for the dispatch and nsexec.c for the
// constructor that does the namespace work before the Go runtime starts.
package main

import "C" // nsexec.c: the constructor

import (
	"os"

	"github.com/moby/sys/reexec"
	"github.com/nsbox/nsbox/applets"
)

func main() {
	if reexec.Init() {
		return
	}
	os.Exit(applets.Main(os.Args))
}
