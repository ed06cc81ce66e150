package nsenter

import (
	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/applets/nsopt"
)

const (
	optPreserveCred = 256 + iota
	optKeepCaps
	optUserParent
)

// line formats one --help line in nsenter's 31-column layout; a usage
// wider than the column gets two spaces, as util-linux's -C line has.
func line(usage, desc string) string {
	if len(usage) >= 30 {
		return " " + usage + "  " + desc
	}
	return getopt.Column(usage, 30) + desc
}

func nsHelp(usage, noun string) string { return line(usage, "enter "+noun) }

var opt = getopt.Opt

// options is nsenter's option table in util-linux's longopts order. The
// optstring is "+ahVt:m::u::i::n::N:p::C::U::T::S:G:r::w::W::ecFZ".
var options = func() []getopt.Option {
	o := []getopt.Option{
		opt("all", 'a', getopt.NoArg, 'a', line("-a, --all", "enter all namespaces")),
		opt("help", 'h', getopt.NoArg, 'h', line("-h, --help", "display this help")),
		opt("version", 'V', getopt.NoArg, 'V', line("-V, --version", "display version")),
		opt("target", 't', getopt.Required, 't', line("-t, --target <PID>", "target process to get namespaces from")),
	}
	for _, k := range nsopt.Kinds {
		if k.Short == 'p' {
			o = append(o, opt("net-socket", 'N', getopt.Required, 'N', line("-N, --net-socket <fd>", "enter socket's network namespace (needs --target)")))
		}
		o = append(o, k.Option("<file>|=:<nsid>", getopt.Optional, nsHelp))
	}
	return append(o,
		opt("setuid", 'S', getopt.Required, 'S', line("-S, --setuid[=<uid>]", "set uid in entered namespace")),
		opt("setgid", 'G', getopt.Required, 'G', line("-G, --setgid[=<gid>]", "set gid in entered namespace")),
		opt("root", 'r', getopt.Optional, 'r', line("-r, --root[=<dir>]", "set the root directory")),
		opt("wd", 'w', getopt.Optional, 'w', line("-w, --wd[=<dir>]", "set the working directory")),
		opt("wdns", 'W', getopt.Optional, 'W', line("-W, --wdns <dir>", "set the working directory in namespace")),
		opt("env", 'e', getopt.NoArg, 'e', line("-e, --env", "inherit environment variables from target process")),
		opt("no-fork", 'F', getopt.NoArg, 'F', line("-F, --no-fork", "do not fork before exec'ing <program>")),
		opt("join-cgroup", 'c', getopt.NoArg, 'c', line("-c, --join-cgroup", "join the cgroup of the target process")),
		opt("preserve-credentials", 0, getopt.NoArg, optPreserveCred, line("    --preserve-credentials", "do not touch uids or gids")),
		opt("keep-caps", 0, getopt.NoArg, optKeepCaps, line("    --keep-caps", "retain capabilities granted in user namespaces")),
		opt("user-parent", 0, getopt.NoArg, optUserParent, line("    --user-parent", "enter parent user namespace")),
		opt("follow-context", 'Z', getopt.NoArg, 'Z', line("-Z, --follow-context", "set SELinux context according to --target PID")),
	)
}()

var helpLayout = []string{
	"all", "target", "mount", "uts", "ipc", "net", "net-socket", "pid", "cgroup",
	"user", "user-parent", "time", "setuid", "setgid", "preserve-credentials",
	"keep-caps", "root", "wd", "wdns", "env", "no-fork", "join-cgroup",
	"follow-context", "", "help", "version",
}

// Spec is nsenter's command line, for --help, man pages and completion.
var Spec = app.Spec{
	Name:     "nsenter",
	Synopsis: "[options] [<program> [<argument>...]]",
	Desc:     "Run a program with namespaces of other processes.",
	Options:  options,
	Layout:   helpLayout,
	See:      "nsenter(1)",
}
