package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	out := t.TempDir()
	if err := generate(out); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages() {
		man, err := os.ReadFile(filepath.Join(out, "man", p.name+"."+map[int]string{1: "1", 8: "8"}[p.section]))
		if err != nil {
			t.Fatal(err)
		}
		fish, err := os.ReadFile(filepath.Join(out, "completion/fish", p.name+".fish"))
		if err != nil {
			t.Fatal(err)
		}
		bashFile := filepath.Join(out, "completion/bash", p.name)
		bash, err := os.ReadFile(bashFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range documented(p.spec) {
			// roff escapes dashes; look for the name itself.
			if !strings.Contains(string(man), o.Long) {
				t.Errorf("%s man page lacks --%s", p.name, o.Long)
			}
			if !strings.Contains(string(fish), "-l "+o.Long) {
				t.Errorf("%s fish completion lacks --%s", p.name, o.Long)
			}
			if !strings.Contains(string(bash), "--"+o.Long) {
				t.Errorf("%s bash completion lacks --%s", p.name, o.Long)
			}
		}
		if b, err := exec.Command("bash", "-n", bashFile).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v: %s", p.name, err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "man", "nsbox.1")); err != nil {
		t.Error(err)
	}
	// Same input, same output.
	again := t.TempDir()
	generate(again)
	a, _ := os.ReadFile(filepath.Join(out, "man", "unshare.1"))
	b, _ := os.ReadFile(filepath.Join(again, "man", "unshare.1"))
	if string(a) != string(b) {
		t.Errorf("two runs wrote different man pages")
	}
}

func TestDescription(t *testing.T) {
	for in, want := range map[string]string{
		" -m, --mount[=<file>]      unshare mounts namespace":                                     "unshare mounts namespace",
		" --propagation slave|shared\n                           modify mount propagation":        "modify mount propagation",
		" --kill-child[=<signame>]  when dying\n                             defaults to SIGKILL": "when dying defaults to SIGKILL",
	} {
		if got := description(in); got != want {
			t.Errorf("description(%q) = %q; want %q", in, got, want)
		}
	}
}

// The nsbox binary must not link urfave/cli or its man page renderer:
// they cost milliseconds of start-up on every invocation.
func TestBinaryDoesNotLinkDocsLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/nsbox/nsbox").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v: %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/urfave/", "github.com/cpuguy83/", "github.com/russross/"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("the nsbox binary depends on %s", dep)
			}
		}
	}
}
