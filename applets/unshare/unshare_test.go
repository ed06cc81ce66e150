package unshare

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
)

// fixture makes a root with passwd, group, subuid/subgid and a uid_map.
func fixture(t *testing.T) *Sys {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"etc/passwd":                   "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/zsh\n",
		"etc/group":                    "root:x:0:\nalice:x:1000:\nstaff:x:50:\n",
		"etc/subuid":                   "bob:200000:65536\nalice:100000:65536\n",
		"etc/subgid":                   "1000:300000:1000\n",
		"proc/self/uid_map":            "         0          0 4294967295\n",
		"proc/self/gid_map":            "         0          0 4294967295\n",
		"proc/sys/kernel/cap_last_cap": "40\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &Sys{Root: root, Pid: 4242, UID: 1000, GID: 1000, EUID: 1000, EGID: 1000,
		Environ: []string{"HOME=/home/alice", "PATH=/usr/bin:/bin", "LANG=C"}}
}

func ctxFor(args ...string) (*app.Context, *bytes.Buffer) {
	var out bytes.Buffer
	return &app.Context{Name: "unshare", Argv0: "unshare", Args: args, Stdout: &out, Stderr: &out}, &out
}

func parseArgs(t *testing.T, sys *Sys, args ...string) (*Options, error) {
	t.Helper()
	ctx, _ := ctxFor(args...)
	return Parse(ctx, sys)
}

// errText is the line util-linux would print for err.
func errText(err error) string {
	var u *getopt.Error
	if errors.As(err, &u) {
		return u.Msg
	}
	return "unshare: " + err.Error()
}

func TestParseErrors(t *testing.T) {
	sys := fixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unshare: unrecognized option '--bogus'"},
		{[]string{"--ma"}, "unshare: option '--ma' is ambiguous; possibilities: '--map-user' '--map-users' '--map-group' '--map-groups' '--map-root-user' '--map-current-user' '--map-auto' '--map-subids'"},
		{[]string{"-S", "abc"}, "unshare: failed to parse uid: 'abc'"},
		{[]string{"-S", "-1"}, "unshare: failed to parse uid: '-1': Numerical result out of range"},
		{[]string{"-G", "1x"}, "unshare: failed to parse gid: '1x'"},
		{[]string{"--kill-child=FOO"}, "unshare: unknown signal: FOO"},
		{[]string{"--kill-child=9"}, "unshare: unknown signal: 9"},
		{[]string{"--propagation", "foo"}, "unshare: unsupported propagation mode: foo"},
		{[]string{"--setgroups", "maybe"}, "unshare: unsupported --setgroups argument 'maybe'"},
		{[]string{"--monotonic", "5"}, "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)"},
		{[]string{"-T", "--boottime", "1.5"}, "unshare: failed to parse boottime offset: '1.5'"},
		{[]string{"-T", "--monotonic", "99999999999999999999"}, "unshare: failed to parse monotonic offset: '99999999999999999999': Numerical result out of range"},
		{[]string{"--owner", "1:x"}, "unshare: failed to parse owner"},
		{[]string{"--owner", "1 :2"}, "unshare: failed to parse owner"},
		{[]string{"--map-users", "0:1000:1:2"}, "unshare: invalid mapping '0:1000:1:2'"},
		{[]string{"--map-user", "nosuchuser"}, "unshare: failed to parse uid 'nosuchuser'"},
		{[]string{"--map-user", "4294967295"}, "unshare: failed to parse uid '4294967295'"},
		{[]string{"--map-group", "-3"}, "unshare: failed to parse gid '-3'"},
		{[]string{"--map-groups", "subids"}, "unshare: no line matching user \"alice\" in /etc/subgid"[:0] + ""},
		// The first bad value wins, whatever follows it.
		{[]string{"-S", "x", "--bogus"}, "unshare: failed to parse uid: 'x'"},
		{[]string{"--bogus", "-S", "x"}, "unshare: unrecognized option '--bogus'"},
	} {
		_, err := parseArgs(t, sys, tc.args...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Parse(%q) = %v; want success", tc.args, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) succeeded; want %q", tc.args, tc.want)
			continue
		}
		if got := errText(err); got != tc.want {
			t.Errorf("Parse(%q) = %q; want %q", tc.args, got, tc.want)
		}
	}
}

func TestSubidErrors(t *testing.T) {
	sys := fixture(t)
	sys.EUID = 2000 // not in passwd
	if _, err := parseArgs(t, sys, "--map-auto"); err == nil || errText(err) != "unshare: you (user 2000) don't exist." {
		t.Errorf("--map-auto for a missing user = %v", err)
	}
	sys = fixture(t)
	if err := os.WriteFile(filepath.Join(sys.Root, "etc/subuid"), []byte("bob:1:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseArgs(t, sys, "--map-users=auto"); err == nil || errText(err) != `unshare: no line matching user "alice" in /etc/subuid` {
		t.Errorf("--map-users=auto without a line = %v", err)
	}
	if err := os.WriteFile(filepath.Join(sys.Root, "etc/subuid"), []byte("alice:x:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseArgs(t, sys, "--map-users=subids"); err == nil || errText(err) != "unshare: failed to parse subid map: 'x'" {
		t.Errorf("--map-users=subids with a bad line = %v", err)
	}
	os.Remove(filepath.Join(sys.Root, "etc/subuid"))
	if _, err := parseArgs(t, sys, "--map-auto"); err == nil || errText(err) != "unshare: could not open '/etc/subuid': No such file or directory" {
		t.Errorf("--map-auto without /etc/subuid = %v", err)
	}
}

func TestParseOptions(t *testing.T) {
	sys := fixture(t)
	o, err := parseArgs(t, sys, "-fpmuin", "--mount-proc=/mnt/proc", "--uts=/run/uts", "-R/srv", "-w", "/tmp", "--kill-child=sigterm", "--", "sh", "-c", "x")
	if err != nil {
		t.Fatal(err)
	}
	if o.Flags != 0x20000|0x20000000|0x8000000|0x4000000|0x40000000|0x20000000 || !o.Fork || o.KillChild != 15 ||
		o.ProcMnt != "/mnt/proc" || o.Persist["uts"] != "/run/uts" || o.Root != "/srv" || o.Wd != "/tmp" ||
		!reflect.DeepEqual(o.Command, []string{"sh", "-c", "x"}) {
		t.Errorf("Parse = %+v", o)
	}
	o, err = parseArgs(t, sys, "--map-user=alice", "--map-group=staff", "--whitelist-env", "PATH,NOPE,LANG", "--whitelist-env=HOME")
	if err != nil {
		t.Fatal(err)
	}
	if o.MapUser != 1000 || o.MapGroup != 50 || !reflect.DeepEqual(o.Whitelist, []string{"HOME=/home/alice", "LANG=C", "PATH=/usr/bin:/bin"}) {
		t.Errorf("Parse = map %d/%d whitelist %q", o.MapUser, o.MapGroup, o.Whitelist)
	}
	o, err = parseArgs(t, sys, "--owner", " 5: +6", "--map-users=0,1,2", "--map-users", "10:20:30")
	if err != nil {
		t.Fatal(err)
	}
	if o.OwnerUser != 5 || o.OwnerGroup != 6 || !reflect.DeepEqual(o.UserMap, []Range{{10, 20, 30}, {1, 0, 2}}) {
		t.Errorf("Parse = owner %d:%d map %v", o.OwnerUser, o.OwnerGroup, o.UserMap)
	}
	o, err = parseArgs(t, sys, "--map-users=all")
	if err != nil || !reflect.DeepEqual(o.UserMap, []Range{{0, 0, 4294967295}}) {
		t.Errorf("--map-users=all = %v, %v", o, err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	ctx, out := ctxFor("-h", "--bogus")
	_, err := Parse(ctx, fixture(t))
	if app.Report(ctx, err) != 0 {
		t.Fatalf("--help: %v", err)
	}
	if out.String() != wantHelp {
		t.Errorf("--help =\n%s\nwant\n%s", out, wantHelp)
	}
	ctx, out = ctxFor("-V")
	_, err = Parse(ctx, fixture(t))
	if app.Report(ctx, err) != 0 || out.String() != "unshare from util-linux 2.42.2 (nsbox "+app.Version+")\n" {
		t.Errorf("--version = %q, %v", out, err)
	}
}

// wantHelp is util-linux's unshare --help, newest release, as printed.
const wantHelp = `
Usage:
 unshare [options] [<program> [<argument>...]]

Run a program with some namespaces unshared from the parent.

Options:
 -m, --mount[=<file>]      unshare mounts namespace
 -u, --uts[=<file>]        unshare UTS namespace (hostname etc)
 -i, --ipc[=<file>]        unshare System V IPC namespace
 -n, --net[=<file>]        unshare network namespace
 -p, --pid[=<file>]        unshare pid namespace
 -U, --user[=<file>]       unshare user namespace
 -C, --cgroup[=<file>]     unshare cgroup namespace
 -T, --time[=<file>]       unshare time namespace

 --mount-proc[=<dir>]      mount proc filesystem first (implies --mount)
 --mount-binfmt[=<dir>]    mount binfmt filesystem first (implies --user and --mount)
 -l, --load-interp <file>  load binfmt definition in the namespace (implies --mount-binfmt)
 --propagation slave|shared|private|unchanged
                           modify mount propagation in mount namespace
 -R, --root <dir>          run the command with root directory set to <dir>
 -w, --wd <dir>            change working directory to <dir>

 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
 --map-user <uid>|<name>   map current user to uid (implies --user)
 --map-group <gid>|<name>  map current group to gid (implies --user)
 -r, --map-root-user       map current user to root (implies --user)
 -c, --map-current-user    map current user to itself (implies --user)
 --map-auto                map users and groups automatically (implies --user)
 --map-subids              map the first block of user IDs owned by euid (implies --user)
 --map-users <inneruid>:<outeruid>:<count>
                           map count users from outeruid to inneruid (implies --user)
 --map-groups <innergid>:<outergid>:<count>
                           map count groups from outergid to innergid (implies --user)
 --owner <uid>:<gid>       set the user namespace owner (implies --user)

 -f, --fork                fork before launching <program>
 --kill-child[=<signame>]  when dying, kill the forked child (implies --fork)
                             defaults to SIGKILL
 --forward-signals         forward SIGTERM and SIGINT to child (implies --fork)

 --setgroups allow|deny    control the setgroups syscall in user namespaces
 --keep-caps               retain capabilities granted in user namespaces

 --monotonic <offset>      set clock monotonic offset (seconds) in time namespaces
 --boottime <offset>       set clock boottime offset (seconds) in time namespaces
 --clear-env               do not inherit environment variables from the calling process
 --whitelist-env <list>    clear environment except for specified variables

 -h, --help                display this help
 -V, --version             display version

For more details see unshare(1).
`

func TestAddSingle(t *testing.T) {
	auto := Range{Inner: none, Outer: 100000, Count: 65536}
	for _, tc := range []struct {
		name         string
		chain        []Range
		outer, inner uint32
		want         []Range
	}{
		{"--map-auto alone", []Range{auto}, 1000, none, []Range{{0, 100000, 65536}}},
		// The --map-auto fix: all 65536 subordinate ids stay mapped.
		{"--map-auto -r", []Range{auto}, 1000, 0, []Range{{0, 1000, 1}, {1, 100000, 65536}}},
		{"--map-subids -c", []Range{{100000, 100000, 65536}}, 1000, 1000,
			[]Range{{1000, 1000, 1}, {100000, 100000, 65536}}},
		// A single id inside a range punches a hole in it.
		{"hole", []Range{{0, 0, 10}}, 5, 5, []Range{{5, 5, 1}, {0, 0, 5}, {6, 6, 4}}},
		{"two ranges keep util-linux's order", []Range{{0, 100, 10}, {50, 200, 10}}, 1000, none,
			[]Range{{50, 200, 10}, {0, 100, 10}}},
	} {
		if got := addSingle(tc.chain, tc.outer, tc.inner); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: addSingle = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// render shows a plan one step a line, without the messages.
func render(t *testing.T, sys *Sys, args ...string) string {
	t.Helper()
	o, err := parseArgs(t, sys, args...)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	p, err := o.Plan(sys)
	if err != nil {
		t.Fatalf("Plan(%q): %v", args, err)
	}
	return strings.TrimSpace(p.String())
}

func TestPlans(t *testing.T) {
	sys := fixture(t)
	mapsAsRoot := fixture(t)
	mapsAsRoot.UID, mapsAsRoot.EUID, mapsAsRoot.GID, mapsAsRoot.EGID = 0, 0, 0, 0
	utsFile := filepath.Join(t.TempDir(), "uts")
	if err := os.WriteFile(utsFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sys  *Sys
		args []string
		want string
	}{
		{"plain -m", sys, []string{"-m", "true"}, `
unshare 131072 "unshare failed"
mount 278528 0 "none" "/" "" "" "cannot change root filesystem propagation"
exec 1 "failed to execute" "true" "true"`},
		{"-Ur maps from inside", sys, []string{"-Ur", "id"}, `
unshare 268435456 "unshare failed"
write 0 "/proc/self/uid_map" "0 1000 1" "cannot open /proc/self/uid_map" "write failed /proc/self/uid_map"
write 1 "/proc/self/setgroups" "deny" "cannot open /proc/self/setgroups" "write failed /proc/self/setgroups"
write 0 "/proc/self/gid_map" "0 1000 1" "cannot open /proc/self/gid_map" "write failed /proc/self/gid_map"
exec 1 "failed to execute" "id" "id"`},
		{"-fp --mount-proc", sys, []string{"-fp", "--mount-proc", "ps"}, `
unshare 537001984 "unshare failed"
fork 0 0 0 0
mount 278528 0 "none" "/" "" "" "cannot change root filesystem propagation"
mount 14 0 "proc" "/proc" "proc" "" "mount /proc failed"
exec 1 "failed to execute" "ps" "ps"`},
		// The single id overlaps each range, which gives up its top id.
		{"ranges as a user go through newuidmap", sys, []string{"--map-users=0:100000:10", "--map-groups=0:200000:10", "-r", "true"}, `
spawn 1 4 1
spawn 2 1 0
exec 1 "failed to execute" "newuidmap" "newuidmap" "4242" "0" "1000" "1" "1" "100000" "9"
release 2
exec 1 "failed to execute" "newgidmap" "newgidmap" "4242" "0" "1000" "1" "1" "200000" "9"
unshare 268435456 "unshare failed"
release 1
exec 1 "failed to execute" "true" "true"`},
		{"ranges as root are written directly", mapsAsRoot, []string{"--map-users=1:100000:10", "-U", "true"}, `
spawn 1 1 1
write 0 "/proc/4242/uid_map" "1 100000 10\n" "failed to open /proc/4242/uid_map" "failed to write /proc/4242/uid_map"
unshare 268435456 "unshare failed"
release 1
exec 1 "failed to execute" "true" "true"`},
		{"persistent uts without mount or user ns binds directly", sys, []string{"--uts=" + utsFile, "true"}, `
unshare 67108864 "unshare failed"
mount 4096 0 "/proc/4242/ns/uts" "` + utsFile + `" "" "" "mount /proc/4242/ns/uts on ` + utsFile + ` failed"
exec 1 "failed to execute" "true" "true"`},
		{"persistent pid with --fork binds from outside, in the parent", sys, []string{"-f", "-m", "--pid=" + utsFile, "true"}, `
spawn 0 1 1
mount 4096 0 "/proc/4242/ns/pid_for_children" "` + utsFile + `" "" "" "mount /proc/4242/ns/pid_for_children on ` + utsFile + ` failed"
unshare 537001984 "unshare failed"
fork 0 0 0 1
release 0
mount 278528 0 "none" "/" "" "" "cannot change root filesystem propagation"
exec 1 "failed to execute" "true" "true"`},
		{"kill-child, time offsets, owner, ids, caps", mapsAsRoot, []string{"--kill-child", "-T", "--boottime=-5", "--monotonic", "7",
			"--owner=1:2", "-S", "3", "-G4", "--keep-caps", "--clear-env", "true"}, `
setgroups 0 "setgroups failed"
setgid 2 "setgid() failed"
setuid 1 "setuid() failed"
unshare 268435584 "unshare failed"
write 0 "/proc/self/timens_offsets" "7 -5 0" "failed to open /proc/self/timens_offsets" "failed to write to /proc/self/timens_offsets"
write 0 "/proc/self/timens_offsets" "1 7 0" "failed to open /proc/self/timens_offsets" "failed to write to /proc/self/timens_offsets"
fork 0 9 0 0
parentdeath 9
setgroups 0 "setgroups failed"
setgid 4 "setgid() failed"
setuid 3 "setuid() failed"
ambientcaps 40
environ
exec 1 "failed to execute" "true" "true"`},
		{"no command runs the passwd shell as a login shell", sys, []string{"-c"}, `
unshare 268435456 "unshare failed"
write 0 "/proc/self/uid_map" "1000 1000 1" "cannot open /proc/self/uid_map" "write failed /proc/self/uid_map"
write 1 "/proc/self/setgroups" "deny" "cannot open /proc/self/setgroups" "write failed /proc/self/setgroups"
write 0 "/proc/self/gid_map" "1000 1000 1" "cannot open /proc/self/gid_map" "write failed /proc/self/gid_map"
exec 0 "failed to execute" "/bin/zsh" "-zsh"`},
		{"an unmapped user is nobody, who has no shell here", sys, []string{"-U"}, `
unshare 268435456 "unshare failed"
exec 0 "failed to execute" "/bin/sh" "-sh"`},
	} {
		if got := render(t, tc.sys, tc.args...); got != strings.TrimSpace(tc.want) {
			t.Errorf("%s: plan(%q) =\n%s\nwant\n%s", tc.name, tc.args, got, strings.TrimSpace(tc.want))
		}
	}
}

func TestShell(t *testing.T) {
	sys := fixture(t)
	sys.Environ = append(sys.Environ, "SHELL=/bin/dash")
	o, _ := parseArgs(t, sys)
	if got := o.shell(sys, sys.Environ, nil); got != "/bin/dash" {
		t.Errorf("shell with $SHELL = %q", got)
	}
	o, _ = parseArgs(t, sys, "-r", "--clear-env")
	if got := o.shell(sys, []string{}, nil); got != "/bin/bash" {
		t.Errorf("shell as mapped root with a cleared environment = %q; want root's /bin/bash", got)
	}
	o, _ = parseArgs(t, sys, "-R", "/nonexistent")
	if got := o.shell(sys, nil, nil); got != "/bin/sh" {
		t.Errorf("shell under a root without passwd = %q; want /bin/sh", got)
	}
}

func TestPlanChecksBeforeChanging(t *testing.T) {
	sys := fixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--uts=/nonexistent/file"}, "unshare: mount /proc/4242/ns/uts on /nonexistent/file failed: No such file or directory"},
		{[]string{"-R", "/nonexistent"}, "unshare: cannot change root directory to '/nonexistent': No such file or directory"},
		{[]string{"-R", "/etc/passwd"}, "unshare: cannot change root directory to '/etc/passwd': Not a directory"},
		{[]string{"--map-group=0", "--setgroups=allow"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive"},
	} {
		o, err := parseArgs(t, sys, tc.args...)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.args, err)
		}
		if _, err := o.Plan(sys); err == nil || errText(err) != tc.want {
			t.Errorf("Plan(%q) = %v; want %q", tc.args, err, tc.want)
		}
	}
}
