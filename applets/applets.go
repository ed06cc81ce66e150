// Package applets dispatches a command line to the applet it names, the
// way busybox does: by the name the binary was called under, or by the
// first argument of "nsbox APPLET ...".
package applets

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/attach"
	"github.com/nsbox/nsbox/applets/nsenter"
	"github.com/nsbox/nsbox/applets/pivot"
	"github.com/nsbox/nsbox/applets/unshare"
)

// Applet is one tool nsbox stands in for.
type Applet struct {
	// Name is the applet's name under "nsbox NAME".
	Name string
	// Link is the name it answers to through a symlink, which is also
	// its program name in messages.
	Link string
	// What says in a line what it does.
	What string
	Main func(*app.Context) error
	// Spec is its command line, for docs and completion.
	Spec *app.Spec
}

// All lists the applets.
var All = []Applet{
	{"unshare", "unshare", "run a program with some namespaces unshared from the parent", unshare.Main, &unshare.Spec},
	{"nsenter", "nsenter", "run a program in the namespaces of other processes", nsenter.Main, &nsenter.Spec},
	{"attach", "lxc-attach", "run a command in a running LXC or nsbox container", attach.Main, &attach.Spec},
	{"pivot", "pivot_root", "change the root filesystem; as \"nsbox pivot\", start a container in a rootfs", pivot.Main, &pivot.RootSpec},
}

func find(name string) *Applet {
	for i := range All {
		if All[i].Name == name || All[i].Link == name {
			return &All[i]
		}
	}
	return nil
}

// Main runs the command line argv and returns the exit status.
func Main(argv []string) int {
	ctx := &app.Context{Stdout: os.Stdout, Stderr: os.Stderr}
	if len(argv) == 0 {
		argv = []string{"nsbox"}
	}
	base := filepath.Base(argv[0])
	if a := find(base); a != nil {
		ctx.Name, ctx.Argv0, ctx.Args, ctx.Called = base, argv[0], argv[1:], base
		return app.Report(ctx, a.Main(ctx))
	}
	ctx.Name, ctx.Argv0 = "nsbox", argv[0]
	return app.Report(ctx, nsbox(ctx, argv[1:]))
}

const nsboxUsage = `Usage: nsbox APPLET [ARGS...]
       nsbox --list
       nsbox --install [-s] DIR
       nsbox --help | --version

nsbox is one binary that is unshare, nsenter, lxc-attach and pivot_root.
Called through a link with an applet's name it behaves as that tool;
"nsbox APPLET" does the same.

Applets:
`

func nsbox(ctx *app.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(ctx.Stderr, nsboxUsage+listing())
		return app.Exit(1)
	}
	switch args[0] {
	case "--help", "-h":
		return app.Print(ctx, nsboxUsage+listing())
	case "--version", "-V":
		return app.Print(ctx, "nsbox "+app.Version+"\n")
	case "--list", "-l":
		var b strings.Builder
		for _, a := range All {
			b.WriteString(a.Name + "\n")
		}
		return app.Print(ctx, b.String())
	case "--install":
		return install(args[1:])
	}
	a := find(args[0])
	if a == nil {
		return app.Errorx("%s: applet not found", args[0])
	}
	ctx.Name, ctx.Argv0, ctx.Args, ctx.Called = a.Link, a.Link, args[1:], args[0]
	return a.Main(ctx)
}

func listing() string {
	var b strings.Builder
	for _, a := range All {
		fmt.Fprintf(&b, "  %-10s (as %s) %s\n", a.Name, a.Link, a.What)
	}
	return b.String()
}

// install makes DIR/LINK for every applet, pointing at this binary:
// symbolic links with -s, else hard links.
func install(args []string) error {
	symbolic := false
	if len(args) > 0 && args[0] == "-s" {
		symbolic, args = true, args[1:]
	}
	if len(args) != 1 {
		return app.Errorx("usage: nsbox --install [-s] DIR")
	}
	dir := args[0]
	self, err := os.Executable()
	if err != nil {
		return app.Errorf(err, "cannot find the nsbox binary")
	}
	names := make([]string, 0, len(All))
	for _, a := range All {
		names = append(names, a.Link)
	}
	sort.Strings(names)
	for _, n := range names {
		dst := filepath.Join(dir, n)
		if symbolic {
			err = os.Symlink(self, dst)
		} else {
			err = os.Link(self, dst)
		}
		if err != nil {
			return app.Errorf(err, "cannot create %s", dst)
		}
	}
	return nil
}
