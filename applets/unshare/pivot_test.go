package unshare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/applets/app"
)

func pivotParse(t *testing.T, sys *Sys, args ...string) (*Options, error) {
	t.Helper()
	ctx, _ := ctxFor(args...)
	ctx.Name = "pivot"
	o, err := parse(ctx, sys, &PivotSpec)
	if err != nil {
		return nil, err
	}
	o.Pivot.RootFS, o.Command = o.Command[0], o.Command[1:]
	return o, nil
}

func rootfsFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"bin", "proc", "sys", "dev"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.Symlink("busybox", filepath.Join(dir, "bin/sh"))
	return dir
}

func TestPivotOptions(t *testing.T) {
	sys := fixture(t)
	root := rootfsFixture(t)
	o, err := pivotParse(t, sys, "-fpuin", "--hostname=box", "--lower", "/l1", "--lower=/l2", "--read-only", "--init", root, "--", "sh")
	if err != nil {
		t.Fatal(err)
	}
	pv := o.Pivot
	if pv.Hostname != "box" || !pv.Overlay || strings.Join(pv.Lowers, ",") != "/l1,/l2" || !pv.ReadOnly || !pv.Init || pv.RootFS != root {
		t.Errorf("pivot options = %+v", pv)
	}
	// unshare's --root and --mount-proc make no sense with a pivot.
	for _, bad := range []string{"--root=/x", "--mount-proc"} {
		if _, err := pivotParse(t, sys, bad, root); err == nil {
			t.Errorf("pivot accepted %s", bad)
		}
	}
}

func TestPivotChecks(t *testing.T) {
	sys := fixture(t)
	root := rootfsFixture(t)
	empty := t.TempDir()
	file := filepath.Join(empty, "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"/nonexistent"}, "cannot use '/nonexistent' as root: No such file or directory"},
		{[]string{file}, "cannot use '" + file + "' as root: Not a directory"},
		{[]string{empty}, "no command given and no /bin/sh in '" + empty + "'"},
		{[]string{"--upper", empty, "--overlay", root}, "--upper and --work go together"},
		{[]string{"--upper", empty, "--work", empty, root}, "--upper and --work need --overlay"},
		{[]string{"--lower", "/nonexistent", root}, "cannot use '/nonexistent' as an overlay layer: No such file or directory"},
		{[]string{"--name", "a/b", root}, "invalid container name 'a/b'"},
	} {
		o, err := pivotParse(t, sys, tc.args...)
		if err == nil {
			_, err = o.Plan(sys)
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("pivot %q = %v; want %q", tc.args, err, tc.want)
		}
	}
	// A command is enough without /bin/sh.
	o, _ := pivotParse(t, sys, empty, "/bin/busybox")
	if _, err := o.Plan(sys); err != nil {
		t.Errorf("pivot with a command = %v", err)
	}
}

func TestPivotPlan(t *testing.T) {
	sys := fixture(t)
	root := rootfsFixture(t)
	o, err := pivotParse(t, sys, "--hostname", "box", root, "true")
	if err != nil {
		t.Fatal(err)
	}
	o.Flags |= 0x20000 | 0x4000000 // as PivotMain: a mount and a UTS namespace
	p, err := o.Plan(sys)
	if err != nil {
		t.Fatal(err)
	}
	got := p.String()
	for _, want := range []string{
		"unshare 67239936 ",
		`mount 278528 0 "none" "/" `,
		`mount 20480 0 "` + root + `" "` + root + `" "" ""`,
		`chdir "` + root + `"`,
		`mount 14 1 "proc" "proc" "proc"`,
		"orelse 1 0\n" + `mount 20480 0 "/proc" "proc" "" ""`,
		`mount 15 1 "sysfs" "sys" "sysfs"`,
		`mknod 33206 0 "dev/null"`,
		`mount 4096 0 "/dev/null" "dev/null"`,
		`mount 10 0 "devpts" "dev/pts" "devpts" "newinstance,ptmxmode=0666,mode=0620"`,
		`symlink "pts/ptmx" "dev/ptmx"`,
		`pivotroot "." "."`,
		`umount 2 0 "." "cannot detach the old root"`,
		`chdir "/" `,
		`sethostname "box"`,
		`exec 1 "failed to execute" "true" "true"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pivot plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "pivotroot") > strings.Index(got, "sethostname") || strings.Index(got, `"devpts"`) > strings.Index(got, "pivotroot") {
		t.Errorf("pivot plan out of order:\n%s", got)
	}
	// No command: plain /bin/sh, not a login shell.
	o, _ = pivotParse(t, sys, root)
	p, _ = o.Plan(sys)
	if !strings.HasSuffix(strings.TrimSpace(p.String()), `exec 0 "failed to execute" "/bin/sh" "/bin/sh"`) {
		t.Errorf("pivot without a command:\n%s", p)
	}
}

func TestPivotOverlayPlan(t *testing.T) {
	sys := fixture(t)
	root := rootfsFixture(t)
	o, _ := pivotParse(t, sys, "--overlay", "--lower", root, root, "true")
	o.Flags |= 0x20000 | 0x10000000 // and a user namespace: userxattr
	p, err := o.Plan(sys)
	if err != nil {
		t.Fatal(err)
	}
	got := p.String()
	for _, want := range []string{
		`mount 6 0 "tmpfs" "` + root + `" "tmpfs" "mode=0755"`,
		`mkdir 493 "` + root + `/upper"`,
		",upperdir=" + root + "/upper,workdir=" + root + "/work,userxattr",
		`"overlay" "` + root + `/root" "overlay"`,
		`chdir "` + root + `/root"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("overlay plan lacks %q:\n%s", want, got)
		}
	}
	// The top layer comes first in lowerdir, the rootfs last.
	i, j, k := strings.Index(got, "unshare "), strings.Index(got, "open 2162688 0 100 "), strings.Index(got, "open 2162688 1 101 ")
	if i < 0 || j < i || k < j || !strings.Contains(got, "lowerdir=/proc/self/fd/101:/proc/self/fd/100,") {
		t.Errorf("overlay layers not opened in the new namespace, top first in lowerdir:\n%s", got)
	}
}

func TestPivotHelpMentionsEveryOption(t *testing.T) {
	ctx, out := ctxFor("--help")
	ctx.Name = "pivot"
	_, err := parse(ctx, fixture(t), &PivotSpec)
	if app.Report(ctx, err) != 0 {
		t.Fatal(err)
	}
	for _, opt := range PivotSpec.Options {
		if !strings.Contains(out.String(), "--"+opt.Long) {
			t.Errorf("pivot --help lacks --%s", opt.Long)
		}
	}
}
