package nsexec

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// nsbox is the built binary the tests hand plans to ($NSBOX, as set by
// make test). The constructor under test lives in package main, so these
// tests run it the way nsexec.Run does: a plan on an inherited fd.
func nsbox(t *testing.T) string {
	t.Helper()
	p := os.Getenv("NSBOX")
	if p == "" {
		t.Skip("NSBOX is not set: run through make test, which builds the binary")
	}
	return p
}

type result struct {
	stdout, stderr string
	code           int    // exit status, or -1 when killed
	signal         string // the signal that killed it
}

// runPlan runs the binary with plan on fd 3, extra from fd 4 on, and the
// gate set.
func runPlan(t *testing.T, plan []byte, gate string, extra ...*os.File) result {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "plan")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(plan); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(nsbox(t))
	cmd.ExtraFiles = append([]*os.File{f}, extra...)
	cmd.Env = append(os.Environ(), gate)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal().String()
		}
	default:
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, p *Plan) result {
	t.Helper()
	if p.Prog == "" {
		p.Prog = "test"
	}
	return runPlan(t, p.Encode(), Gate+"=3")
}

func shell(script string) Op {
	return ExecOp(true, "sh", []string{"sh", "-c", script}, "failed to execute")
}

func TestExecPassesExitStatus(t *testing.T) {
	p := &Plan{}
	p.Add(shell("echo out; echo err >&2; exit 7"))
	r := run(t, p)
	if r.stdout != "out\n" || r.stderr != "err\n" || r.code != 7 {
		t.Errorf("run(exit 7) = %+v; want out, err, 7", r)
	}
}

func TestExecFailures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		search bool
		code   int
		stderr string
	}{
		{"nsbox-no-such-command", true, 127, "test: failed to execute nsbox-no-such-command: No such file or directory\n"},
		{"/etc/passwd", false, 126, "test: failed to execute /etc/passwd: Permission denied\n"},
		{"", true, 127, "test: failed to execute : No such file or directory\n"},
	} {
		p := &Plan{}
		p.Add(ExecOp(tc.search, tc.file, []string{tc.file}, "failed to execute"))
		r := run(t, p)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("exec %q = %d %q; want %d %q", tc.file, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
}

func TestFailureLinesAndLog(t *testing.T) {
	log, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	// A message of two lines, the error text in the first, and their
	// lines for the log file (fd 4) after LogMark.
	msg := "C: f: 1 " + ErrMark + " - exec failed\nC: g: 2 then gave up" +
		LogMark + "cat - f:1 - " + ErrMark + " - exec failed\ncat - g:2 - then gave up"
	p := &Plan{Prog: "test"}
	p.Add(Op{Code: Log, Ints: []int64{4}, Strs: []string{"test C "}},
		ExecFlagsOp(ExecLXC, "/nonexistent", []string{"x"}, msg))
	r := runPlan(t, p.Encode(), Gate+"=3", log)
	want := "test: C: f: 1 No such file or directory - exec failed\ntest: C: g: 2 then gave up\n"
	if r.code != 127 || r.stderr != want {
		t.Errorf("failed exec = %d %q; want 127 %q", r.code, r.stderr, want)
	}
	b, _ := os.ReadFile(log.Name())
	stamp := regexp.MustCompile(` [0-9]{14}\.[0-9]{3} `)
	got := stamp.ReplaceAllString(string(b), " TIME ")
	if want := "test C TIME ERROR    cat - f:1 - No such file or directory - exec failed\ntest C TIME ERROR    cat - g:2 - then gave up\n"; got != want {
		t.Errorf("log = %q; want %q", got, want)
	}
	// The program a successful exec runs does not get the log file.
	p = &Plan{Prog: "test"}
	p.Add(Op{Code: Log, Ints: []int64{4}, Strs: []string{"test C "}}, shell("ls /proc/self/fd"))
	if r := runPlan(t, p.Encode(), Gate+"=3", log); strings.Contains("\n"+r.stdout, "\n4\n") || r.code != 0 {
		t.Errorf("fds of the program: %q, status %d", r.stdout, r.code)
	}
}

func TestExecSearchesPathLikeGlibc(t *testing.T) {
	dir := t.TempDir()
	// A script without #! runs through /bin/sh, as glibc's execvp does.
	if err := os.WriteFile(dir+"/nsbox-script", []byte("echo script ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Plan{}
	p.Add(EnvironOp([]string{"PATH=/nonexistent::" + dir}))
	p.Add(ExecOp(true, "nsbox-script", []string{"nsbox-script"}, "failed to execute"))
	if r := run(t, p); r.stdout != "script ran\n" || r.code != 0 {
		t.Errorf("PATH search = %+v; want the script to run", r)
	}
	// With PATH unset glibc searches /bin:/usr/bin, not musl's list.
	p = &Plan{}
	p.Add(EnvironOp([]string{}))
	p.Add(ExecOp(true, "true", []string{"true"}, "failed to execute"))
	if r := run(t, p); r.code != 0 {
		t.Errorf("exec true without PATH = %+v", r)
	}
}

func TestStrerrorIsGlibcWording(t *testing.T) {
	// musl says "Filename too long"; util-linux (glibc) says otherwise.
	p := &Plan{}
	p.Add(PathOp(Chdir, strings.Repeat("x", 5000), "cannot change directory"))
	p.Add(shell("exit 0"))
	r := run(t, p)
	if r.code != 1 || r.stderr != "test: cannot change directory: File name too long\n" {
		t.Errorf("chdir(long) = %d %q", r.code, r.stderr)
	}
}

func TestEnviron(t *testing.T) {
	p := &Plan{}
	p.Add(EnvironOp([]string{"B=2", "A=1"}))
	p.Add(ExecOp(false, "/usr/bin/env", []string{"env"}, "failed to execute"))
	if r := run(t, p); r.stdout != "B=2\nA=1\n" {
		t.Errorf("env after Environ = %q; want B=2 then A=1 and nothing else", r.stdout)
	}
}

func TestGateNeverReachesTarget(t *testing.T) {
	p := &Plan{}
	p.Add(ExecOp(false, "/bin/ls", []string{"ls", "-l", "/proc/self/fd"}, "failed to execute"))
	r := run(t, p)
	if !strings.Contains(r.stdout, " 0 -> ") || strings.Contains(r.stdout, "plan") {
		t.Errorf("target's fds:\n%s\nwant the caller's, without the plan", r.stdout)
	}
	p = &Plan{}
	p.Add(ExecOp(false, "/usr/bin/env", []string{"env"}, "failed to execute"))
	if r := run(t, p); strings.Contains(r.stdout, Gate) {
		t.Errorf("target saw the gate: %q", r.stdout)
	}
}

func TestCorruptPlans(t *testing.T) {
	for name, tc := range map[string]struct {
		plan []byte
		gate string
		want string
	}{
		"garbage":    {[]byte("garbage"), Gate + "=3", "nsbox: corrupt exec plan\n"},
		"bad gate":   {nil, Gate + "=x", "nsbox: bad _NSBOX_PLAN\n"},
		"not an fd":  {nil, Gate + "=99", "nsbox: cannot read exec plan: Bad file descriptor\n"},
		"no exec":    {(&Plan{Prog: "p"}).Encode(), Gate + "=3", "p: exec plan has no exec step\n"},
		"bad spawn":  {(&Plan{Prog: "p", Ops: []Op{{Code: Spawn, Ints: []int64{0, 5, 0}}}}).Encode(), Gate + "=3", "p: corrupt exec plan\n"},
		"bad slot":   {(&Plan{Prog: "p", Ops: []Op{ReleaseOp(3)}}).Encode(), Gate + "=3", "p: corrupt exec plan\n"},
		"large slot": {(&Plan{Prog: "p", Ops: []Op{ReleaseOp(99)}}).Encode(), Gate + "=3", "p: corrupt exec plan\n"},
	} {
		r := runPlan(t, tc.plan, tc.gate)
		if r.code != 1 || r.stderr != tc.want {
			t.Errorf("%s: got %d %q; want 1 %q", name, r.code, r.stderr, tc.want)
		}
	}
}

func TestHelperStatusEndsMain(t *testing.T) {
	p := &Plan{}
	p.Add(SpawnOps(0, true, shell("exit 5"))...)
	p.Add(ReleaseOp(0), shell("echo main went on"))
	if r := run(t, p); r.code != 5 || r.stdout != "" {
		t.Errorf("failing helper: %+v; want exit 5 before main goes on", r)
	}
	p = &Plan{}
	p.Add(SpawnOps(0, true, shell("echo helper"))...)
	p.Add(shell("echo main"))
	// An unreleased helper waits for its go-ahead, which never comes: it
	// reads EOF when main execs, and fails quietly rather than running.
	if r := run(t, p); r.stdout != "main\n" {
		t.Errorf("unreleased helper: %+v", r)
	}
}

func TestForkMirrorsChild(t *testing.T) {
	for _, tc := range []struct {
		style  int
		script string
		code   int
		signal string
	}{
		{ForkUnshare, "exit 3", 3, ""},
		{ForkUnshare, "kill -TERM $$", -1, "terminated"},
		{ForkUnshare, "kill -KILL $$", -1, "killed"},
		{ForkNsenter, "exit 4", 4, ""},
		{ForkNsenter, "kill -INT $$", -1, "interrupt"},
	} {
		p := &Plan{}
		p.Add(ForkOps(tc.style, 0, false)...)
		p.Add(shell(tc.script))
		r := run(t, p)
		if r.code != tc.code || r.signal != tc.signal {
			t.Errorf("fork(style %d) child %q: parent ended %d %q; want %d %q", tc.style, tc.script, r.code, r.signal, tc.code, tc.signal)
		}
	}
}

func TestForkParentSteps(t *testing.T) {
	p := &Plan{}
	// The parent runs its steps before waiting; here one that fails.
	p.Add(ForkOps(ForkUnshare, 0, false, PathOp(Chdir, "/nonexistent", "parent step"))...)
	p.Add(shell("sleep 0.1; exit 0"))
	r := run(t, p)
	if r.code != 1 || r.stderr != "test: parent step: No such file or directory\n" {
		t.Errorf("failing parent step: %d %q", r.code, r.stderr)
	}
}

func TestPlainRunLeavesPlanAlone(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := t.TempDir() + "/trace"
	cmd := exec.Command(strace, "-f", "-o", out, nsbox(t), "--version")
	// A variable that is not the gate, and an fd where a plan would be.
	cmd.Env = append(os.Environ(), Gate+"X=3")
	cmd.ExtraFiles = []*os.File{f}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("strace cannot trace here: %v: %s", err, b)
	}
	trace, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(trace), "\n") {
		if strings.Contains(l, "(3,") || strings.Contains(l, "(3)") {
			t.Errorf("a plain run touched fd 3: %s", l)
		}
	}
}

// inNewUTS starts a process with hostname name in a new UTS namespace and
// returns its pid; it is killed when the test ends.
func inNewUTS(t *testing.T, name string) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "hostname "+name+" && echo ready && exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create a UTS namespace here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("namespace helper did not start: %q %v", buf, err)
	}
	return cmd.Process.Pid
}

// runWithFiles runs a plan with extra files from fd 4 on (fd 3 is the plan).
func runWithFiles(t *testing.T, p *Plan, files ...*os.File) result {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "plan")
	if err != nil {
		t.Fatal(err)
	}
	p.Prog = "test"
	f.Write(p.Encode())
	f.Seek(0, 0)
	defer f.Close()
	cmd := exec.Command(nsbox(t))
	cmd.ExtraFiles = append([]*os.File{f}, files...)
	cmd.Env = append(os.Environ(), Gate+"=3")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	}
	return r
}

func TestEnterThroughFileAndPidfd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("joining a UTS namespace needs CAP_SYS_ADMIN")
	}
	pid := inNewUTS(t, "nsbox-enter-test")
	nsfile, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	defer nsfile.Close()
	p := &Plan{}
	p.Add(EnterOp(NoFD, "by pidfd", []EnterNS{{Type: syscall.CLONE_NEWUTS, FD: 4, Msg: "by file"}}),
		ExecOp(true, "hostname", []string{"hostname"}, "failed to execute"))
	if r := runWithFiles(t, p, nsfile); r.stdout != "nsbox-enter-test\n" || r.code != 0 {
		t.Errorf("enter by file: %+v", r)
	}

	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Skipf("no pidfd_open here: %v", err)
	}
	pf := os.NewFile(uintptr(pidfd), "pidfd")
	defer pf.Close()
	p = &Plan{}
	p.Add(EnterOp(4, "by pidfd", []EnterNS{{Type: syscall.CLONE_NEWUTS, FD: NoFD, Msg: "by file"}}),
		ExecOp(true, "hostname", []string{"hostname"}, "failed to execute"))
	if r := runWithFiles(t, p, pf); r.stdout != "nsbox-enter-test\n" || r.code != 0 {
		t.Errorf("enter by pidfd: %+v", r)
	}
}

func TestEnterReportsTheNamespaceThatFailed(t *testing.T) {
	// A mount namespace file given as a UTS namespace: the second pass
	// reports it by its own message.
	mnt, err := os.Open("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	defer mnt.Close()
	p := &Plan{}
	p.Add(EnterOp(NoFD, "by pidfd", []EnterNS{{Type: syscall.CLONE_NEWUTS, FD: 4, Msg: "reassociate to namespace 'ns/uts' failed"}}),
		shell("exit 0"))
	r := runWithFiles(t, p, mnt)
	if r.code != 1 || r.stderr != "test: reassociate to namespace 'ns/uts' failed: Invalid argument\n" {
		t.Errorf("enter wrong type: %d %q", r.code, r.stderr)
	}
}

func TestRegistersAndWritePid(t *testing.T) {
	dir := t.TempDir()
	out, err := os.OpenFile(dir+"/pid", os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p := &Plan{}
	p.Add(OpenOp(dir, syscall.O_RDONLY, 3, "cannot open"),
		FDOp(Fchdir, Reg(3), "fchdir failed"), FDOp(Close, Reg(3), ""),
		FDOp(WritePid, 4, "write failed"), FDOp(Close, 4, ""),
		shell(`pwd; echo $$`))
	r := runWithFiles(t, p, out)
	written, _ := os.ReadFile(dir + "/pid")
	if r.code != 0 || r.stdout != dir+"\n"+string(written)+"\n" {
		t.Errorf("registers: %+v, pid file %q", r, written)
	}
	p = &Plan{}
	p.Add(OpenOp("/nonexistent", syscall.O_RDONLY, 0, "cannot open it"), shell("exit 0"))
	if r := runWithFiles(t, p); r.code != 1 || r.stderr != "test: cannot open it: No such file or directory\n" {
		t.Errorf("open failure: %+v", r)
	}
}

func TestSetGroupsModes(t *testing.T) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// As nobody, setgroups fails with EPERM.
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	for _, tc := range []struct {
		ops  []Op
		want string
	}{
		{[]Op{SetGroupsOp(GroupsIfTried, "second"), SetGroupsOp(GroupsTry, "first"), shell("echo went on")}, "went on\n"},
		{[]Op{SetGroupsOp(GroupsTry, "first"), SetGroupsOp(GroupsIfTried, "second"), shell("echo went on")}, "test: second: Operation not permitted\n"},
		{[]Op{SetGroupsOp(GroupsMust, "must"), shell("echo went on")}, "test: must: Operation not permitted\n"},
	} {
		f, err := os.CreateTemp(t.TempDir(), "plan")
		if err != nil {
			t.Fatal(err)
		}
		f.Write((&Plan{Prog: "test", Ops: tc.ops}).Encode())
		f.Seek(0, 0)
		cmd := exec.Command(nsbox(t))
		cmd.ExtraFiles = []*os.File{f}
		cmd.Env = append(os.Environ(), Gate+"=3")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, _ := cmd.CombinedOutput()
		f.Close()
		if string(out) != tc.want {
			t.Errorf("setgroups modes %v: %q; want %q", tc.ops, out, tc.want)
		}
	}
}
