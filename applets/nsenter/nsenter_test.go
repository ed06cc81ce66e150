package nsenter

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
)

func ctxFor(args ...string) (*app.Context, *bytes.Buffer) {
	var out bytes.Buffer
	return &app.Context{Name: "nsenter", Argv0: "nsenter", Args: args, Stdout: &out, Stderr: &out}, &out
}

func sys() *Sys {
	return &Sys{Proc: "/proc", Pid: os.Getpid(), UID: uint32(os.Getuid()), Environ: []string{"SHELL=/bin/sh"}}
}

func errText(err error) string {
	var u *getopt.Error
	if errors.As(err, &u) {
		return u.Msg
	}
	return "nsenter: " + err.Error()
}

// wantHelp is util-linux 2.42.2's nsenter --help (built with SELinux).
const wantHelp = `
Usage:
 nsenter [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all                     enter all namespaces
 -t, --target <PID>            target process to get namespaces from
 -m, --mount[=<file>|=:<nsid>] enter mount namespace
 -u, --uts[=<file>|=:<nsid>]   enter UTS namespace (hostname etc)
 -i, --ipc[=<file>|=:<nsid>]   enter System V IPC namespace
 -n, --net[=<file>|=:<nsid>]   enter network namespace
 -N, --net-socket <fd>         enter socket's network namespace (needs --target)
 -p, --pid[=<file>|=:<nsid>]   enter pid namespace
 -C, --cgroup[=<file>|=:<nsid>]  enter cgroup namespace
 -U, --user[=<file>|=:<nsid>]  enter user namespace
     --user-parent             enter parent user namespace
 -T, --time[=<file>|=:<nsid>]  enter time namespace
 -S, --setuid[=<uid>]          set uid in entered namespace
 -G, --setgid[=<gid>]          set gid in entered namespace
     --preserve-credentials    do not touch uids or gids
     --keep-caps               retain capabilities granted in user namespaces
 -r, --root[=<dir>]            set the root directory
 -w, --wd[=<dir>]              set the working directory
 -W, --wdns <dir>              set the working directory in namespace
 -e, --env                     inherit environment variables from target process
 -F, --no-fork                 do not fork before exec'ing <program>
 -c, --join-cgroup             join the cgroup of the target process
 -Z, --follow-context          set SELinux context according to --target PID

 -h, --help                    display this help
 -V, --version                 display version

For more details see nsenter(1).
`

func TestHelp(t *testing.T) {
	ctx, out := ctxFor("--he")
	_, err := Parse(ctx, sys())
	if app.Report(ctx, err) != 0 || out.String() != wantHelp {
		t.Errorf("--help (%v) =\n%s\nwant\n%s", err, out, wantHelp)
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-t", "abc"}, "nsenter: invalid PID argument"},
		{[]string{"-t", "0"}, "nsenter: invalid PID argument"},
		{[]string{"-t", "-5"}, "nsenter: invalid PID argument"},
		{[]string{"-t", "12x"}, "nsenter: invalid PID argument"},
		{[]string{"-t", "1:0"}, "nsenter: invalid PID argument"},
		{[]string{"-t", "2147483647:5"}, "nsenter: failed to obtain a valid file descriptor for PID 2147483647: No such process"},
		{[]string{"--mount=/nonexistent"}, "nsenter: cannot open /nonexistent: No such file or directory"},
		{[]string{"-m=/nonexistent"}, "nsenter: cannot open /nonexistent: No such file or directory"},
		{[]string{"-r=" + dir}, "nsenter: cannot open =" + dir + ": No such file or directory"},
		{[]string{"-S", "x"}, "nsenter: failed to parse uid: 'x'"},
		{[]string{"-G", "-1"}, "nsenter: failed to parse gid: '-1': Numerical result out of range"},
		{[]string{"-N", "x"}, "nsenter: failed to parse file descriptor: 'x'"},
		{[]string{"-N", "2147483648"}, "nsenter: failed to parse file descriptor: '2147483648': Numerical result out of range"},
		{[]string{"-w/", "-W/tmp"}, "nsenter: options --wd and --wdns cannot be combined"},
		{[]string{"-W/tmp", "-w"}, "nsenter: options --wdns and --wd cannot be combined"},
		{[]string{"--uts=:x"}, "nsenter: failed to parse nsid: x"},
		{[]string{"--bogus"}, "nsenter: unrecognized option '--bogus'"},
		{[]string{"-X"}, "nsenter: invalid option -- 'X'"},
		{[]string{"-t"}, "nsenter: option requires an argument -- 't'"},
	} {
		ctx, _ := ctxFor(tc.args...)
		_, err := Parse(ctx, sys())
		if err == nil || errText(err) != tc.want {
			t.Errorf("Parse(%q) = %v; want %q", tc.args, err, tc.want)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"true"}, "nsenter: no namespace specified"},
		{[]string{"-m", "true"}, "nsenter: no target PID specified"},
		{[]string{"-t", "2147483646", "-m"}, "nsenter: cannot open /proc/2147483646/ns/mnt: No such file or directory"},
		{[]string{"-r"}, "nsenter: neither filename nor target pid supplied for root"},
		{[]string{"-a"}, "nsenter: stat of /proc/0/ns/user failed: No such file or directory"},
	} {
		ctx, _ := ctxFor(tc.args...)
		o, err := Parse(ctx, sys())
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.args, err)
		}
		if _, err := o.Plan(sys()); err == nil || errText(err) != tc.want {
			t.Errorf("Plan(%q) = %v; want %q", tc.args, err, tc.want)
		}
	}
}

var fdNumber = regexp.MustCompile(`\b[0-9]{1,3}\b`)

// render shows a plan with descriptor numbers and namespace flags as N.
func render(t *testing.T, args ...string) string {
	t.Helper()
	ctx, _ := ctxFor(args...)
	o, err := Parse(ctx, sys())
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	p, err := o.Plan(sys())
	if err != nil {
		t.Fatalf("Plan(%q): %v", args, err)
	}
	return strings.TrimSpace(p.String())
}

func TestPlans(t *testing.T) {
	self := os.Getpid()
	file := filepath.Join(t.TempDir(), "uts")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pid := func(args ...string) []string { return append([]string{"-t", strconv.Itoa(self)}, args...) }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a file joins through its descriptor", []string{"--uts=" + file, "hostname"}, `
enter -1 67108864 FD "reassociate to namespaces failed" "reassociate to namespace 'ns/uts' failed"
exec 1 "failed to execute" "hostname" "hostname"`},
		{"a target's namespaces join through one pidfd", pid("-u", "-n", "true"), `
enter FD 67108864 -1 1073741824 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/uts' failed" "reassociate to namespace 'ns/net' failed"
exec 1 "failed to execute" "true" "true"`},
		{"a pid namespace forks, -F does not", pid("-p", "true"), `
enter FD 536870912 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/pid' failed"
fork 1 0 0 0
exec 1 "failed to execute" "true" "true"`},
		{"-F", pid("-p", "-F", "true"), `
enter FD 536870912 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/pid' failed"
exec 1 "failed to execute" "true" "true"`},
		{"root and working directory of the target", pid("-m", "-r", "-w", "pwd"), `
enter FD 131072 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/mnt' failed"
fchdir FD "change directory by root file descriptor failed"
chroot "." "chroot failed"
chdir "/" "cannot change directory to /"
close FD
fchdir FD "change directory by working directory file descriptor failed"
close FD
exec 1 "failed to execute" "pwd" "pwd"`},
		{"-r alone keeps the directory we are in", pid("-m", "-r", "pwd"), `
enter FD 131072 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/mnt' failed"
open 0 0 -1 "." "cannot open current working directory"
fchdir FD "change directory by root file descriptor failed"
chroot "." "chroot failed"
chdir "/" "cannot change directory to /"
close FD
fchdir -2 "change directory by working directory file descriptor failed"
close -2
exec 1 "failed to execute" "pwd" "pwd"`},
		{"-W opens its path after the joins", pid("-m", "--wdns=/tmp", "pwd"), `
enter FD 131072 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/mnt' failed"
open 0 0 -1 "/tmp" "cannot open current working directory"
fchdir -2 "change directory by working directory file descriptor failed"
close -2
exec 1 "failed to execute" "pwd" "pwd"`},
		{"explicit ids", pid("-u", "-S", "1500", "-G1600", "id"), `
enter FD 67108864 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/uts' failed"
setgroups 2 "setgroups failed"
setgid 1600 "setgid() failed"
setuid 1500 "setuid() failed"
exec 1 "failed to execute" "id" "id"`},
		{"no command runs $SHELL as a login shell", pid("-u"), `
enter FD 67108864 -1 "reassociate to namespaces failed" "reassociate to namespace 'ns/uts' failed"
exec 0 "failed to execute" "/bin/sh" "-sh"`},
	} {
		got := fdNumber.ReplaceAllStringFunc(render(t, tc.args...), func(s string) string {
			if s == "0" || s == "1" || s == "2" {
				return s
			}
			return "FD"
		})
		if want := strings.TrimSpace(tc.want); got != want {
			t.Errorf("%s: plan(%q) =\n%s\nwant\n%s", tc.name, tc.args, got, want)
		}
	}
}

func TestReadEnvironOrder(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "environ")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("A=1\x00B=2\x00junk\x00A=3\x00")
	f.Seek(0, 0)
	defer f.Close()
	got := readEnviron(int(f.Fd()))
	// Reversed, and the last A wins, as util-linux's list does it.
	if strings.Join(got, " ") != "A=3 B=2" {
		t.Errorf("readEnviron = %q; want [A=3 B=2]", got)
	}
}
