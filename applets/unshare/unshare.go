// Package unshare is util-linux's unshare(1): run a program with some
// namespaces unshared from the parent.
package unshare

import (
	"os"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/nsexec"
)

// Main runs unshare. On success it does not return: the process becomes
// the target.
func Main(ctx *app.Context) error {
	sys := &Sys{
		Root: "/", Pid: os.Getpid(),
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid()),
		EUID: uint32(os.Geteuid()), EGID: uint32(os.Getegid()),
		Environ: os.Environ(),
	}
	o, err := Parse(ctx, sys)
	if err != nil {
		return err
	}
	plan, err := o.Plan(sys)
	if err != nil {
		return err
	}
	plan.Prog = ctx.Name
	return app.Errorf(nsexec.Run(plan, os.Args, sys.Environ), "cannot re-execute %s", nsexec.Self)
}
