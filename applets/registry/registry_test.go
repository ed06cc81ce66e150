package registry

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestWriteLookupAndStaleEntries(t *testing.T) {
	dir := t.TempDir()
	if err := Prepare(dir, "/proc", "web"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := Write(dir, "/proc", "web", cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	e, err := Lookup(dir, "/proc", "web")
	if err != nil || e.Pid != cmd.Process.Pid {
		t.Fatalf("Lookup = %+v, %v", e, err)
	}
	if err := Prepare(dir, "/proc", "web"); err == nil {
		t.Errorf("Prepare took the name of a live container")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := Lookup(dir, "/proc", "web"); err != ErrNotFound {
		t.Errorf("Lookup of a dead container = %v; want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "web")); !os.IsNotExist(err) {
		t.Errorf("the dead entry was left behind")
	}
	// A reused pid has another start time.
	os.WriteFile(filepath.Join(dir, "old"), []byte("1 1\n"), 0o644)
	if _, err := Lookup(dir, "/proc", "old"); err != ErrNotFound {
		t.Errorf("Lookup with a wrong start time = %v", err)
	}
}

func TestCheckName(t *testing.T) {
	for _, n := range []string{"", ".", "..", "a/b", "x\x00"} {
		if CheckName(n) == nil {
			t.Errorf("CheckName(%q) accepted it", n)
		}
	}
	if err := CheckName("nsbox-test-1"); err != nil {
		t.Errorf("CheckName(nsbox-test-1) = %v", err)
	}
}
