package attach

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/applets/app"
	"golang.org/x/sys/unix"
)

func parse(args ...string) (*Options, string, error) {
	var stderr bytes.Buffer
	ctx := &app.Context{Name: "lxc-attach", Argv0: "lxc-attach", Args: args, Stdout: &stderr, Stderr: &stderr}
	o, err := Parse(ctx)
	return o, stderr.String(), err
}

func TestParse(t *testing.T) {
	o, _, err := parse("c1", "-e", "CAP", "-s", "uts|NETWORK", "-v", "A=1", "--clear-env", "--keep-var", "K", "-u", "010", "--", "ls", "-l")
	if err != nil {
		t.Fatal(err)
	}
	// "-e CAP": -e's value is optional, so only an attached one counts;
	// options are permuted, so c1 names the container and CAP starts
	// the command.
	if o.Name != "c1" || o.Elevated != flagMoveToCgroup|flagDropCaps|flagLSMExec {
		t.Errorf("name %q elevated %#x", o.Name, o.Elevated)
	}
	if o.Namespaces != unix.CLONE_NEWUTS|unix.CLONE_NEWNET || !o.ClearEnv || o.UID != 8 || !o.HasUID {
		t.Errorf("parsed %+v", o)
	}
	if !reflect.DeepEqual(o.Command, []string{"CAP", "ls", "-l"}) {
		t.Errorf("command %q", o.Command)
	}
	o, _, _ = parse("-n", "c", "-eCAP|CGROUP")
	if o.Elevated != flagDropCaps|flagMoveToCgroup {
		t.Errorf("-eCAP|CGROUP = %#x", o.Elevated)
	}
	for _, bad := range [][]string{{"-n", "c", "-s", "MOUNT|bogus"}, {"-n", "c", "-u", "-1"}, {"-n", "c", "-a", "vax"}, {"-n", "c", "-eCAPS"}} {
		_, msg, err := parse(bad...)
		var code app.Exit
		if !errors.As(err, &code) || code != 1 || msg != "lxc-attach: could not parse command line\n" {
			t.Errorf("%q: %v %q", bad, err, msg)
		}
	}
	if _, msg, _ := parse(); msg != "lxc-attach: No container name specified\n" {
		t.Errorf("no name: %q", msg)
	}
}

func TestHelpers(t *testing.T) {
	for s, want := range map[string]uint32{"0": 0, "12": 12, " 0x1f": 31, "017": 15, "4294967295": 1<<32 - 1} {
		if got, ok := safeUint(s); !ok || got != want {
			t.Errorf("safeUint(%q) = %d, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-1", "4294967296", "08", "1x", "0x"} {
		if _, ok := safeUint(s); ok {
			t.Errorf("safeUint(%q) accepted", s)
		}
	}
	if got := socketName("/var/lib/lxc", "c1"); got != "@/var/lib/lxc/c1/command" {
		t.Errorf("socketName = %q", got)
	}
	long := strings.Repeat("x", 120)
	if got := socketName("/var/lib/lxc", long); !strings.HasPrefix(got, "@lxc/") || len(got) != len("@lxc/0123456789abcdef/command") {
		t.Errorf("hashed socketName = %q", got)
	}
	// LXC hashes "LXCPATH/NAME" with FNV-1a, 64 bits.
	if got := socketName("/var/lib/lxc", long); got != "@lxc/"+fmt.Sprintf("%016x", fnv1a("/var/lib/lxc/"+long))+"/command" {
		t.Errorf("hashed socketName = %q", got)
	}
}

func TestEnviron(t *testing.T) {
	base := []string{"A=1", "PATH=/x", "B=2"}
	o := &Options{SetVars: []string{"B=3", "C=4", "A"}}
	tg := &Target{Env: [][2]string{{"E", "5"}}}
	if got := o.environ(base, tg); !reflect.DeepEqual(got, []string{"PATH=/x", "B=3", "container=lxc", "E=5", "C=4"}) {
		t.Errorf("keep: %q", got)
	}
	o = &Options{ClearEnv: true, KeepVars: []string{"B", "NONE"}}
	if got := o.environ(base, &Target{}); !reflect.DeepEqual(got, []string{"B=2", "PATH=" + defaultContainerEnv, "container=lxc"}) {
		t.Errorf("clear: %q", got)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.d")
	os.Mkdir(inc, 0o755)
	os.WriteFile(filepath.Join(inc, "b.conf"), []byte("lxc.environment = B=2\n"), 0o644)
	os.WriteFile(filepath.Join(inc, "a.conf"), []byte("lxc.environment = A=1\nlxc.include = "+filepath.Join(dir, "config")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "config"), []byte("# c\nlxc.arch = i686\nlxc.include = "+inc+"\n lxc.environment=HOME_FROM_US\nlxc.environment = Z=9\n"), 0o644)
	t.Setenv("HOME_FROM_US", "h")
	kvs := readConfig(filepath.Join(dir, "config"), nil)
	env := configEnvironment(kvs)
	if !reflect.DeepEqual(env, [][2]string{{"A", "1"}, {"B", "2"}, {"HOME_FROM_US", "h"}, {"Z", "9"}}) {
		t.Errorf("environment %q", env)
	}
	if kvs[0] != [2]string{"lxc.arch", "i686"} {
		t.Errorf("first item %q", kvs[0])
	}
	if p, ok := parseArch("i686"); !ok || p != perLinux32 {
		t.Errorf("i686 = %d", p)
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b\134c`); got != `/a b\c` {
		t.Errorf("unescapeMount = %q", got)
	}
}

// fnv1a is FNV-1a as LXC's fnv_64a_buf computes it, independently of
// hash/fnv.
func fnv1a(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}
