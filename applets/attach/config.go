package attach

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nsbox/nsbox/procfs"
)

// readConfig reads the "key = value" lines of an LXC configuration file,
// following lxc.include (files, and directories of *.conf) as LXC does.
// attach uses lxc.arch, lxc.no_new_privs and lxc.environment from it.
func readConfig(path string, seen map[string]bool) [][2]string {
	if seen == nil {
		seen = map[string]bool{}
	}
	if seen[path] {
		return nil
	}
	seen[path] = true
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		entries, _ := os.ReadDir(path)
		var names []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		var kvs [][2]string
		for _, n := range names {
			kvs = append(kvs, readConfig(filepath.Join(path, n), seen)...)
		}
		return kvs
	}
	b, err := procfs.Read(path)
	if err != nil {
		return nil
	}
	var kvs [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "lxc.include" {
			kvs = append(kvs, readConfig(v, seen)...)
			continue
		}
		kvs = append(kvs, [2]string{k, v})
	}
	return kvs
}

// configEnvironment is the container's lxc.environment from its
// configuration, as LXC sets it: KEY=VALUE, or KEY alone for the value
// KEY has in our environment.
func configEnvironment(config [][2]string) [][2]string {
	var env [][2]string
	for _, kv := range config {
		switch kv[0] {
		case "lxc.environment":
			if kv[1] == "" {
				env = nil // an empty value clears the list
				continue
			}
			k, v, ok := strings.Cut(kv[1], "=")
			if !ok {
				val, set := os.LookupEnv(k)
				if !set {
					continue
				}
				v = val
			}
			env = append(env, [2]string{k, v})
		}
	}
	return env
}
