// Command bench measures nsbox against the tools it stands in for.
//
// Each scenario runs N times in one loop, nsbox and the reference
// alternating, so that both see the same machine state; it prints the
// median wall time per invocation of each, their ratio and the target,
// and the peak RSS of each. Speed is proven here, never by timed tests.
//
//	go run ./test/bench -nsbox ./nsbox [-n 200] [-only REGEXP]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type scenario struct {
	name   string
	nsbox  []string // argv[0] is an applet link name under the link dir
	ref    []string
	target string // the ratio to meet, as the design states it
	setup  func(s *scenario) (cleanup func(), err error)
	burst  bool // also start a burst of them at once
}

// burstSize is how many containers start at once in a burst.
const burstSize = 100

func main() {
	nsbox := flag.String("nsbox", "./nsbox", "the nsbox binary")
	n := flag.Int("n", 200, "runs of each side per scenario")
	only := flag.String("only", "", "run only scenarios matching this regexp")
	pair := flag.String("pair", "", "instead of the scenarios, compare two command lines: 'A ... | B ...'")
	flag.Parse()
	if *pair != "" {
		a, b, _ := strings.Cut(*pair, "|")
		s := scenario{name: "pair", nsbox: strings.Fields(a), ref: strings.Fields(b)}
		run(&s, *n)
		return
	}

	self, err := filepath.Abs(*nsbox)
	if err != nil {
		fail(err)
	}
	links, err := os.MkdirTemp("", "nsbox-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(links)
	for _, l := range []string{"nsbox", "unshare", "nsenter", "lxc-attach", "pivot_root"} {
		if err := os.Symlink(self, filepath.Join(links, l)); err != nil {
			fail(err)
		}
	}
	st, err := os.Stat(self)
	if err != nil {
		fail(err)
	}
	fmt.Printf("nsbox %s: %.1f MiB, %d runs per side, alternating\n\n", self, float64(st.Size())/(1<<20), *n)
	fmt.Printf("%-44s %10s %10s %7s %8s %9s %9s\n", "scenario", "nsbox", "reference", "ratio", "target", "RSS nsbox", "RSS ref")

	re := regexp.MustCompile(*only)
	for _, s := range scenarios() {
		if !re.MatchString(s.name) {
			continue
		}
		s.nsbox = append([]string{filepath.Join(links, s.nsbox[0])}, s.nsbox[1:]...)
		if s.setup != nil {
			cleanup, err := s.setup(&s)
			if err != nil {
				fmt.Printf("%-44s skipped: %v\n", s.name, err)
				continue
			}
			defer cleanup()
		}
		if _, err := exec.LookPath(s.ref[0]); err != nil {
			fmt.Printf("%-44s skipped: %s not installed\n", s.name, s.ref[0])
			continue
		}
		a, b := run(&s, *n)
		if s.burst && a > 0 {
			bursts(&s, a, b)
		}
	}
}

// bursts starts burstSize of each side at once, a few times, and prints
// the median time per burst and how the cost per start grows against a
// single start (a, b: the single medians).
func bursts(s *scenario, a, b time.Duration) {
	var da, db []time.Duration
	for i := 0; i < 5; i++ {
		d, err := burst(s.nsbox, burstSize)
		if err != nil {
			fmt.Printf("%-44s failed: nsbox: %v\n", "  "+strconv.Itoa(burstSize)+" at once", err)
			return
		}
		da = append(da, d)
		if d, err = burst(s.ref, burstSize); err != nil {
			fmt.Printf("%-44s failed: reference: %v\n", "  "+strconv.Itoa(burstSize)+" at once", err)
			return
		}
		db = append(db, d)
	}
	ma, mb := median(da), median(db)
	fmt.Printf("%-44s %8.2fms %8.2fms %7.2f   per start: nsbox %.2fms (%.2fx single), reference %.2fms (%.2fx single)\n",
		"  "+strconv.Itoa(burstSize)+" at once (whole burst)", ms(ma), ms(mb), float64(ma)/float64(mb),
		ms(ma)/burstSize, float64(ma)/burstSize/float64(a), ms(mb)/burstSize, float64(mb)/burstSize/float64(b))
}

// burst starts n copies of argv at once, with no output, and waits for
// all of them; it fails if any of them does.
func burst(argv []string, n int) (time.Duration, error) {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{devnull.Fd(), devnull.Fd(), devnull.Fd()}}
	start := time.Now()
	var pids []int
	for i := 0; i < n; i++ {
		pid, err := syscall.ForkExec(argv[0], argv, attr)
		if err != nil {
			return 0, err
		}
		pids = append(pids, pid)
	}
	failed, last := 0, ""
	for _, pid := range pids {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
			failed, last = failed+1, fmt.Sprintf("exit status %d", ws.ExitStatus())
			if ws.Signaled() {
				last = ws.Signal().String()
			}
		}
	}
	d := time.Since(start)
	if failed > 0 {
		return d, fmt.Errorf("%s: %d of %d failed (%s)", strings.Join(argv, " "), failed, n, last)
	}
	return d, nil
}

func run(s *scenario, n int) (time.Duration, time.Duration) {
	var a, b []time.Duration
	// Warm the page cache and the dentry cache for both sides.
	for i := 0; i < 10; i++ {
		if _, err := once(s.nsbox); err != nil {
			fmt.Printf("%-44s failed: nsbox: %v\n", s.name, err)
			return 0, 0
		}
		if _, err := once(s.ref); err != nil {
			fmt.Printf("%-44s failed: reference: %v\n", s.name, err)
			return 0, 0
		}
	}
	for i := 0; i < n; i++ {
		d, _ := once(s.nsbox)
		a = append(a, d)
		d, _ = once(s.ref)
		b = append(b, d)
	}
	ma, mb := median(a), median(b)
	fmt.Printf("%-44s %8.2fms %8.2fms %7.2f %8s %9s %9s\n", s.name,
		ms(ma), ms(mb), float64(ma)/float64(mb), s.target, peakRSS(s.nsbox), peakRSS(s.ref))
	return ma, mb
}

// peakRSS runs argv once under GNU time, which forks (a vfork from this
// process would count our own memory), and returns its peak RSS.
func peakRSS(argv []string) string {
	out, err := exec.Command("/usr/bin/time", append([]string{"-f", "%M"}, argv...)...).CombinedOutput()
	if err != nil {
		return "?"
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1] + "KiB"
}

// once runs argv with no output and returns its wall time.
func once(argv []string) (time.Duration, error) { return burst(argv, 1) }

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

func scenarios() []scenario {
	unshare := lookPath("unshare")
	return []scenario{
		{name: "unshare -m true", nsbox: []string{"unshare", "-m", "true"},
			ref: []string{unshare, "-m", "true"}, target: "<=2.0"},
		{name: "unshare -fp --mount-proc true", nsbox: []string{"unshare", "-fp", "--mount-proc", "true"},
			ref: []string{unshare, "-fp", "--mount-proc", "true"}, target: "<=2.0"},
		{name: "unshare -Ur true", nsbox: []string{"unshare", "-Ur", "true"},
			ref: []string{unshare, "-Ur", "true"}, target: "<=2.0"},
		{name: "nsenter -t PID -a true", nsbox: []string{"nsenter", "-t", "PID", "-a", "true"},
			ref: []string{lookPath("nsenter"), "-t", "PID", "-a", "true"}, target: "<=2.0",
			setup: target(unshare, "-fpmuin", "--kill-child", "--mount-proc", "sleep", "3600")},
		{name: "container start (pid/mnt/uts/ipc/net + pivot)", nsbox: []string{"unshare", "pivot", "-fpuin", "ROOTFS", "true"},
			ref:    []string{lookPath("bwrap"), "--unshare-all", "--bind", "ROOTFS", "/", "--proc", "/proc", "--dev", "/dev", "true"},
			target: "<=1.25", setup: rootfs, burst: true},
		{name: "lxc-attach -n C -- true", nsbox: []string{"lxc-attach", "-n", "CONTAINER", "--", "true"},
			ref: []string{lookPath("lxc-attach"), "-n", "CONTAINER", "--", "true"}, target: "<=0.6", setup: container},
	}
}

// container creates and starts an LXC container (test/lxc.sh) and puts
// its name in place of CONTAINER.
func container(s *scenario) (func(), error) {
	if _, err := exec.LookPath("lxc-create"); err != nil {
		return nil, fmt.Errorf("LXC not installed")
	}
	name := fmt.Sprintf("nsbox-test-bench-%d", os.Getpid())
	cleanup := func() { exec.Command("sh", "test/lxc.sh", "destroy", name).Run() }
	if out, err := exec.Command("sh", "test/lxc.sh", "create", name).CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	for _, argv := range [][]string{s.nsbox, s.ref} {
		for i := range argv {
			if argv[i] == "CONTAINER" {
				argv[i] = name
			}
		}
	}
	return cleanup, nil
}

// rootfs builds a busybox root filesystem and puts it in place of ROOTFS.
// The nsbox side runs "nsbox pivot" (argv[0] is the nsbox binary).
func rootfs(s *scenario) (func(), error) {
	dir, err := os.MkdirTemp("", "nsbox-bench-rootfs-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if out, err := exec.Command("sh", "test/rootfs.sh", dir).CombinedOutput(); err != nil {
		cleanup()
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	s.nsbox[0] = filepath.Join(filepath.Dir(s.nsbox[0]), "nsbox")
	for _, argv := range [][]string{s.nsbox, s.ref} {
		for i := range argv {
			if argv[i] == "ROOTFS" {
				argv[i] = dir
			}
		}
	}
	return cleanup, nil
}

// target starts a long-lived process in new namespaces and puts the pid
// of its innermost process in place of PID in both command lines.
func target(argv ...string) func(s *scenario) (func(), error) {
	return func(s *scenario) (func(), error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stop := func() { cmd.Process.Kill(); cmd.Wait() }
		// With --fork the namespaces belong to unshare's child: wait for it.
		var pid string
		for i := 0; i < 200 && pid == ""; i++ {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
			pid = strings.TrimSpace(string(b))
			if pid == "" {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if pid == "" {
			stop()
			return nil, fmt.Errorf("%s did not start its child", argv[0])
		}
		stopParent := stop
		stop = func() {
			// --kill-child ends the child with its parent; make sure.
			if n, err := strconv.Atoi(pid); err == nil {
				syscall.Kill(n, syscall.SIGKILL)
			}
			stopParent()
		}
		for _, argv := range [][]string{s.nsbox, s.ref} {
			for i := range argv {
				if argv[i] == "PID" {
					argv[i] = pid
				}
			}
		}
		return stop, nil
	}
}
