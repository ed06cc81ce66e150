// Package pivot is util-linux's pivot_root(8), and nsbox's rootfs switch
// for container labs.
package pivot

import (
	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/applets/unshare"
	"golang.org/x/sys/unix"
)

// rootOptions is pivot_root's option table (optstring "Vh", which glibc
// permutes: an option counts wherever it stands).
var rootOptions = []getopt.Option{
	{Long: "version", Short: 'V', ID: 'V', Help: getopt.Column("-V, --version", 15) + "display version"},
	{Long: "help", Short: 'h', ID: 'h', Help: getopt.Column("-h, --help", 15) + "display this help"},
}

// RootSpec is pivot_root's command line.
var RootSpec = app.Spec{
	Name:     "pivot_root",
	Synopsis: "[options] new_root put_old",
	Desc:     "Change the root filesystem.",
	Options:  rootOptions,
	Layout:   []string{"help", "version"},
	See:      "pivot_root(8)",
}

// pivotRoot is util-linux's pivot_root(8): one pivot_root(2) call. It
// needs no constructor: the call changes the mount namespace's root (and
// that of every process whose root was the old one), not just ours.
func pivotRoot(ctx *app.Context) error {
	p := getopt.New(ctx.Argv0, rootOptions, ctx.Args)
	p.Permute = true
	for {
		r, err := p.Next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		if r.Opt.ID == 'V' {
			return app.Print(ctx, app.VersionLine(ctx.Name, app.UtilLinux))
		}
		return app.Print(ctx, RootSpec.Usage(ctx.Name))
	}
	// util-linux counts argv, not operands: "--" makes a bad usage too.
	if len(ctx.Args) != 2 {
		return app.TryHelp(ctx, "bad usage")
	}
	newRoot, putOld := ctx.Args[0], ctx.Args[1]
	if err := unix.PivotRoot(newRoot, putOld); err != nil {
		return app.Errorf(err, "failed to change root from `%s' to `%s'", newRoot, putOld)
	}
	return nil
}

// Main runs pivot_root, or, called as "nsbox pivot", the root switch.
func Main(ctx *app.Context) error {
	if ctx.Called == "pivot" {
		ctx.Name, ctx.Argv0 = "pivot", "pivot"
		return unshare.PivotMain(ctx)
	}
	return pivotRoot(ctx)
}
