// Package unshare is util-linux's unshare(1): run a program with some
// namespaces unshared from the parent.
package unshare

import (
	"os"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/registry"
	"github.com/nsbox/nsbox/nsexec"
)

func newSys() *Sys {
	return &Sys{
		Root: "/", Pid: os.Getpid(),
		UID: uint32(os.Getuid()), GID: uint32(os.Getgid()),
		EUID: uint32(os.Geteuid()), EGID: uint32(os.Getegid()),
		Environ: os.Environ(),
	}
}

// Main runs unshare. On success it does not return: the process becomes
// the target.
func Main(ctx *app.Context) error {
	sys := newSys()
	o, err := Parse(ctx, sys)
	if err != nil {
		return err
	}
	return run(ctx, sys, o)
}

func run(ctx *app.Context, sys *Sys, o *Options) error {
	plan, err := o.Plan(sys)
	if err != nil {
		return err
	}
	plan.Prog = ctx.Name
	if o.Name != "" && !o.Fork {
		// Without --fork the container is this very process.
		if err := registry.Write(registry.Dir(), "/proc", o.Name, sys.Pid); err != nil {
			return app.Errorf(err, "cannot register container '%s'", o.Name)
		}
	}
	return app.Errorf(nsexec.Run(plan, os.Args, sys.Environ), "cannot re-execute %s", nsexec.Self)
}
