package procfs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fixture builds a fake /proc with one process, 42.
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	ns := filepath.Join(root, "42", "ns")
	if err := os.MkdirAll(ns, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"uts": "uts:[4026531838]", "mnt": "mnt:[4026532176]", "bad": "socket:[12]x"} {
		if err := os.Symlink(target, filepath.Join(ns, name)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"42/environ":              "A=1\x00B=two=2\x00noequals\x00\x00",
		"42/cgroup":               "0::/user.slice/session-1.scope\n",
		"42/status":               "Name:\tinit\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nCapBnd:\t000001ffffffffff\n",
		"42/uid_map":              "         0       1000          1\n         1     100000      65536\n",
		"sys/kernel/cap_last_cap": "40\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestNSInode(t *testing.T) {
	root := fixture(t)
	if ino, err := NSInode(root, 42, "mnt"); err != nil || ino != 4026532176 {
		t.Errorf("NSInode(mnt) = %d, %v", ino, err)
	}
	if _, err := NSInode(root, 42, "bad"); err == nil {
		t.Errorf("NSInode(bad link) succeeded")
	}
	if _, err := NSInode(root, 43, "mnt"); err == nil {
		t.Errorf("NSInode(missing process) succeeded")
	}
}

func TestReaders(t *testing.T) {
	root := fixture(t)
	b, _ := ReadFile(root, 42, "environ")
	if got := ParseEnviron(b); !reflect.DeepEqual(got, []string{"A=1", "B=two=2"}) {
		t.Errorf("ParseEnviron = %q", got)
	}
	b, _ = ReadFile(root, 42, "status")
	if f := StatusField(b, "Uid"); !reflect.DeepEqual(f, []string{"1000", "1000", "1000", "1000"}) {
		t.Errorf("StatusField(Uid) = %q", f)
	}
	if f := StatusField(b, "CapBnd"); !reflect.DeepEqual(f, []string{"000001ffffffffff"}) {
		t.Errorf("StatusField(CapBnd) = %q", f)
	}
	if f := StatusField(b, "Cap"); f != nil {
		t.Errorf("StatusField(Cap) = %q; want nothing", f)
	}
	b, _ = ReadFile(root, 42, "cgroup")
	if p, ok := CgroupPath(b); !ok || p != "/user.slice/session-1.scope" {
		t.Errorf("CgroupPath = %q, %v", p, ok)
	}
	if _, ok := CgroupPath([]byte("no colon here\n")); ok {
		t.Errorf("CgroupPath without a colon succeeded")
	}
	b, _ = ReadFile(root, 42, "uid_map")
	m := ParseIDMap(b)
	if !reflect.DeepEqual(m, []IDRange{{0, 1000, 1}, {1, 100000, 65536}}) {
		t.Errorf("ParseIDMap = %v", m)
	}
	for _, tc := range []struct {
		out, in uint32
		ok      bool
	}{{1000, 0, true}, {100000, 1, true}, {165535, 65536, true}, {165536, 0, false}, {5, 0, false}} {
		if in, ok := Inside(m, tc.out); in != tc.in || ok != tc.ok {
			t.Errorf("Inside(%d) = %d, %v; want %d, %v", tc.out, in, ok, tc.in, tc.ok)
		}
		if tc.ok {
			if out, ok := Outside(m, tc.in); out != tc.out || !ok {
				t.Errorf("Outside(%d) = %d, %v; want %d", tc.in, out, ok, tc.out)
			}
		}
	}
	if _, ok := Outside(m, 65537); ok {
		t.Errorf("Outside(65537) mapped")
	}
	if n := LastCap(root); n != 40 {
		t.Errorf("LastCap(fixture) = %d", n)
	}
	if n := LastCap(t.TempDir()); n < 30 {
		t.Errorf("LastCap by probing = %d", n)
	}
}
