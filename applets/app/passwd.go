package app

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/procfs"
)

// Account is one line of /etc/passwd or /etc/group.
type Account struct {
	Name  string
	ID    uint32
	GID   uint32 // passwd only
	Shell string // passwd only
}

// LookupPasswd finds an account in root's /etc/passwd by name (byName) or
// by uid. nsbox reads the files itself, as glibc's "files" service does,
// so that a static binary needs no NSS modules and a lookup can be made
// in a container's root.
func LookupPasswd(root, name string, uid uint32, byName bool) (*Account, bool) {
	return lookup(filepath.Join(root, "etc/passwd"), name, uid, byName, true)
}

// LookupGroup is LookupPasswd for /etc/group.
func LookupGroup(root, name string, gid uint32, byName bool) (*Account, bool) {
	return lookup(filepath.Join(root, "etc/group"), name, gid, byName, false)
}

func lookup(path, name string, id uint32, byName, passwd bool) (*Account, bool) {
	b, err := procfs.Read(path)
	if err != nil {
		return nil, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Split(line, ":")
		if len(fields) < 3 || fields[0] == "" || fields[0][0] == '+' || fields[0][0] == '-' {
			continue
		}
		n, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if byName && fields[0] != name || !byName && uint32(n) != id {
			continue
		}
		a := &Account{Name: fields[0], ID: uint32(n)}
		if passwd && len(fields) >= 7 {
			if g, err := strconv.ParseUint(fields[3], 10, 32); err == nil {
				a.GID = uint32(g)
			}
			a.Shell = fields[6]
		}
		return a, true
	}
	return nil, false
}
