// Package nsopt defines, once, the namespace options that unshare and
// nsenter share: -m/--mount, -u/--uts, -i/--ipc, -n/--net, -p/--pid,
// -U/--user, -C/--cgroup and -T/--time, each with an optional =FILE.
package nsopt

import (
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/procfs"
)

// Kind is one namespace option.
type Kind struct {
	Short byte
	Long  string
	NS    procfs.Namespace
	// Noun is how util-linux's --help names the namespace.
	Noun string
}

// Kinds lists the namespace options in util-linux's option-table order,
// which is also the order glibc lists them in when a prefix is ambiguous.
var Kinds = []Kind{
	{'m', "mount", procfs.Mount, "mount namespace"},
	{'u', "uts", procfs.UTS, "UTS namespace (hostname etc)"},
	{'i', "ipc", procfs.IPC, "System V IPC namespace"},
	{'n', "net", procfs.Net, "network namespace"},
	{'p', "pid", procfs.PID, "pid namespace"},
	{'U', "user", procfs.User, "user namespace"},
	{'C', "cgroup", procfs.Cgroup, "cgroup namespace"},
	{'T', "time", procfs.Time, "time namespace"},
}

// ByShort returns the kind whose option letter is c.
func ByShort(c byte) (Kind, bool) {
	for _, k := range Kinds {
		if k.Short == c {
			return k, true
		}
	}
	return Kind{}, false
}

// Option is the getopt entry for k, with ID = the letter: the long form
// takes an optional value, the short form takes shortArg. help renders its
// --help line from the usage column and the noun.
func (k Kind) Option(value string, shortArg getopt.HasArg, help func(usage, noun string) string) getopt.Option {
	usage := "-" + string(k.Short) + ", --" + k.Long + "[=" + value + "]"
	return getopt.Option{Long: k.Long, Short: k.Short, Arg: getopt.Optional, ShortArg: shortArg,
		ID: int(k.Short), Help: help(usage, k.Noun)}
}
