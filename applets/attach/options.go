package attach

import (
	"fmt"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/procfs"
)

// Option IDs as LXC numbers them (its own and its common options).
const (
	optClearEnv = 500
	optKeepEnv  = 501
	optKeepVar  = 502
	optUsage    = 0x1000
	optVersion  = optUsage - 1
	optRCFile   = optUsage - 2
)

var opt = getopt.Opt

// options is lxc-attach 5.0's option table: its own options, then LXC's
// common ones, in LXC's order. The short options are those whose ID is a
// character, as LXC builds its optstring ("e::a:s:Rv:L:f:u:g:c:n:h?qo:l:P:"),
// without '+': glibc permutes, so options may follow the container name.
var options = []getopt.Option{
	opt("elevated-privileges", 'e', getopt.Optional, 'e', "  -e, --elevated-privileges=PRIVILEGES\n"+
		"                    Use elevated privileges instead of those of the\n"+
		"                    container. If you don't specify privileges to be\n"+
		"                    elevated as OR'd list: CAP, CGROUP and LSM (capabilities,\n"+
		"                    cgroup and restrictions, respectively) then all of them\n"+
		"                    will be elevated.\n"+
		"                    WARNING: This may leak privileges into the container.\n"+
		"                    Use with care."),
	opt("arch", 'a', getopt.Required, 'a', "  -a, --arch=ARCH   Use ARCH for program instead of container's own\n"+
		"                    architecture."),
	opt("namespaces", 's', getopt.Required, 's', "  -s, --namespaces=FLAGS\n"+
		"                    Don't attach to all the namespaces of the container\n"+
		"                    but just to the following OR'd list of flags:\n"+
		"                    MOUNT, PID, UTSNAME, IPC, USER or NETWORK.\n"+
		"                    WARNING: Using -s implies -e with all privileges\n"+
		"                    elevated, it may therefore leak privileges into the\n"+
		"                    container. Use with care."),
	opt("remount-sys-proc", 'R', getopt.NoArg, 'R', "  -R, --remount-sys-proc\n"+
		"                    Remount /sys and /proc if not attaching to the\n"+
		"                    mount namespace when using -s in order to properly\n"+
		"                    reflect the correct namespace context. See the\n"+
		"                    lxc-attach(1) manual page for details."),
	opt("clear-env", 0, getopt.NoArg, optClearEnv, "      --clear-env   Clear all environment variables before attaching.\n"+
		"                    The attached shell/program will start with only\n"+
		"                    container=lxc set."),
	opt("keep-env", 0, getopt.NoArg, optKeepEnv, "      --keep-env    Keep all current environment variables. This\n"+
		"                    is the current default behaviour, but is likely to\n"+
		"                    change in the future."),
	opt("keep-var", 0, getopt.Required, optKeepVar, "      --keep-var    Keep an additional environment variable. Only\n"+
		"                    applicable if --clear-env is specified. May be used\n"+
		"                    multiple times."),
	opt("set-var", 'v', getopt.Required, 'v', "  -v, --set-var     Set an additional variable that is seen by the\n"+
		"                    attached program in the container. May be specified\n"+
		"                    multiple times."),
	opt("pty-log", 'L', getopt.Required, 'L', "  -L, --pty-log=FILE\n"+
		"                    Log pty output to FILE"),
	opt("rcfile", 'f', getopt.Required, 'f', "  -f, --rcfile=FILE\n"+
		"                    Load configuration file FILE"),
	opt("uid", 'u', getopt.Required, 'u', "  -u, --uid=UID     Execute COMMAND with UID inside the container"),
	opt("gid", 'g', getopt.Required, 'g', "  -g, --gid=GID     Execute COMMAND with GID inside the container"),
	opt("context", 'c', getopt.Required, 'c', "  -c, --context=context\n"+
		"                    SELinux Context to transition into"),
	opt("name", 'n', getopt.Required, 'n', "  -n, --name=NAME   NAME of the container"),
	opt("help", 'h', getopt.NoArg, 'h', ""),
	opt("help", '?', getopt.NoArg, '?', ""),
	opt("usage", 0, getopt.NoArg, optUsage, ""),
	opt("version", 0, getopt.NoArg, optVersion, ""),
	opt("quiet", 'q', getopt.NoArg, 'q', ""),
	opt("logfile", 'o', getopt.Required, 'o', ""),
	opt("logpriority", 'l', getopt.Required, 'l', ""),
	opt("lxcpath", 'P', getopt.Required, 'P', ""),
	opt("rcfile", 0, getopt.Required, optRCFile, ""),
}

// helpLayout is the order of lxc-attach's own help lines.
var helpLayout = []string{"name", "elevated-privileges", "arch", "namespaces", "remount-sys-proc",
	"clear-env", "keep-env", "pty-log", "set-var", "keep-var", "rcfile", "uid", "gid", "context"}

// Spec is lxc-attach's command line.
var Spec = app.Spec{
	Name:     "lxc-attach",
	Synopsis: "--name=NAME [-- COMMAND]",
	Desc:     "Execute the specified COMMAND - enter the container NAME",
	Options:  options,
	Layout:   helpLayout,
	See:      "lxc-attach(1)",
}

// help is what LXC's print_help_exit writes (to stderr, always).
func help() string {
	return "Usage: lxc-attach --name=NAME [-- COMMAND]\n\n" +
		"Execute the specified COMMAND - enter the container NAME\n\nOptions :\n" +
		getopt.HelpLines(options, helpLayout) + `
Common options :
  -o, --logfile=FILE               Output log to FILE instead of stderr
  -l, --logpriority=LEVEL          Set log priority to LEVEL
  -q, --quiet                      Don't produce any output
  -P, --lxcpath=PATH               Use specified container path
  -?, --help                       Give this help list
      --usage                      Give a short usage message
      --version                    Print the version number

Mandatory or optional arguments to long options are also mandatory or optional
for any corresponding short options.

See the lxc-attach man page for further information.

`
}

// usage is LXC's print_usage_exit: every option, four to a line.
func usage() string {
	var b strings.Builder
	b.WriteString("Usage: lxc-attach ")
	for i, o := range options {
		b.WriteString("[")
		if o.Short != 0 {
			fmt.Fprintf(&b, "-%c|", o.Short)
		}
		b.WriteString("--" + o.Long)
		switch o.Arg {
		case getopt.Required:
			b.WriteString("=" + strings.ToUpper(o.Long))
		case getopt.Optional:
			b.WriteString("[=" + strings.ToUpper(o.Long) + "]")
		}
		b.WriteString("] ")
		if (i+1)%4 == 0 {
			b.WriteString("\n\t")
		}
	}
	b.WriteString("\n")
	return b.String()
}

// The attach flags LXC's options turn on and off (attach_options.h).
const (
	flagMoveToCgroup    = 0x00000001
	flagDropCaps        = 0x00000002
	flagSetPersonality  = 0x00000004
	flagLSMExec         = 0x00000008
	flagLSMNow          = 0x00020000
	flagRemountProcSys  = 0x00010000
	flagDefault         = 0x0000ffff
	archUnchanged       = 0xffffffff
	lxcVersion          = "5.0.2"
	defaultLXCPath      = "/var/lib/lxc"
	defaultContainerEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Options is what lxc-attach's command line asks for.
type Options struct {
	Name       string
	LXCPath    string
	RCFile     string
	Flags      uint32 // attach flags
	Elevated   uint32
	Namespaces int // CLONE_NEW* flags with -s, else -1 (the container's)
	Personal   uint64
	ClearEnv   bool
	SetVars    []string
	KeepVars   []string
	PtyLog     string
	UID, GID   uint32
	HasUID     bool
	HasGID     bool
	Context    string
	Quiet      bool
	LogFile    string
	LogLevel   string
	Command    []string

	logFD int // LogFile, open for the constructor's failures, or -1
}

// errParse is LXC's "could not parse command line".
var errParse = fmt.Errorf("could not parse command line")

// Parse reads lxc-attach's command line as LXC's lxc_arguments_parse
// does.
func Parse(ctx *app.Context) (*Options, error) {
	o := &Options{Flags: flagDefault, Namespaces: -1, Personal: archUnchanged, logFD: -1}
	p := getopt.New(ctx.Argv0, options, ctx.Args)
	p.Permute = true
	for {
		r, err := p.Next()
		if err != nil {
			// glibc's message, then the whole help, and failure.
			fmt.Fprintln(ctx.Stderr, err)
			fmt.Fprint(ctx.Stderr, help())
			return nil, app.Exit(1)
		}
		if r == nil {
			break
		}
		if err := o.apply(ctx, r); err != nil {
			return nil, err
		}
	}
	o.Command = p.Rest()
	if o.LXCPath == "" {
		o.LXCPath = globalLXCPath()
	}
	if o.Name == "" {
		if len(o.Command) == 0 {
			return nil, o.toolError(ctx, "No container name specified")
		}
		o.Name, o.Command = o.Command[0], o.Command[1:]
	}
	return o, nil
}

// toolError is LXC's lxc_error: "lxc-attach: MSG" unless --quiet.
func (o *Options) toolError(ctx *app.Context, msg string) error {
	if !o.Quiet {
		fmt.Fprintf(ctx.Stderr, "lxc-attach: %s\n", msg)
	}
	return app.Exit(1)
}

func (o *Options) apply(ctx *app.Context, r *getopt.Result) error {
	v := r.Value
	bad := func() error { return o.toolError(ctx, errParse.Error()) }
	switch r.Opt.ID {
	case 'h':
		fmt.Fprint(ctx.Stderr, help())
		return app.Exit(0)
	case '?':
		fmt.Fprint(ctx.Stderr, help())
		return app.Exit(1)
	case optUsage:
		fmt.Fprint(ctx.Stderr, usage())
		return app.Exit(0)
	case optVersion:
		return app.Print(ctx, lxcVersion+" (nsbox "+app.Version+")\n")
	case 'n':
		o.Name = v
	case 'o':
		o.LogFile = v
	case 'l':
		o.LogLevel = v
	case 'q':
		o.Quiet = true
	case optRCFile, 'f':
		o.RCFile = v
	case 'P':
		o.LXCPath = strings.TrimRight(v, "/")
		if o.LXCPath == "" && v != "" {
			o.LXCPath = "/"
		}
	case 'e':
		flags, ok := elevatedPrivileges(v, r.HasVal)
		if !ok {
			return bad()
		}
		o.Elevated = flags
	case 'R':
		o.Flags |= flagRemountProcSys
	case 'a':
		per, ok := parseArch(v)
		if !ok {
			return bad()
		}
		o.Personal = per
	case 's':
		flags, ok := namespaceFlags(v)
		if !ok {
			return bad()
		}
		o.Namespaces = flags
		o.Elevated, _ = elevatedPrivileges("", false) // -s implies -e
	case optClearEnv:
		o.ClearEnv = true
	case optKeepEnv:
		o.ClearEnv = false
	case optKeepVar:
		o.KeepVars = append(o.KeepVars, v)
	case 'v':
		o.SetVars = append(o.SetVars, v)
	case 'L':
		o.PtyLog = v
	case 'u', 'g':
		id, ok := safeUint(v)
		if !ok {
			return bad()
		}
		if r.Opt.ID == 'u' {
			o.UID, o.HasUID = id, true
		} else {
			o.GID, o.HasGID = id, true
		}
	case 'c':
		o.Context = v
	}
	return nil
}

// elevatedPrivileges is LXC's lxc_fill_elevated_privileges: with no list,
// all of them; else an OR'd list of CGROUP, CAP and LSM.
func elevatedPrivileges(list string, given bool) (uint32, bool) {
	all := map[string]uint32{"CGROUP": flagMoveToCgroup, "CAP": flagDropCaps, "LSM": flagLSMExec}
	if !given {
		return flagMoveToCgroup | flagDropCaps | flagLSMExec, true
	}
	var flags uint32
	for _, tok := range strings.Split(list, "|") {
		if tok == "" {
			continue
		}
		f, ok := all[tok]
		if !ok {
			return 0, false
		}
		flags |= f
	}
	return flags, true
}

// namespaceFlags parses -s as LXC does: MOUNT, NETWORK and UTSNAME (in
// capitals only) stand for mnt, net and uts; then each |-separated name
// is compared with the kernel's names without regard to case.
func namespaceFlags(list string) (int, bool) {
	list = strings.ReplaceAll(list, "MOUNT", "MNT")
	list = strings.ReplaceAll(list, "NETWORK", "NET")
	list = strings.ReplaceAll(list, "UTSNAME", "UTS")
	flags := 0
	for _, tok := range strings.Split(list, "|") {
		if tok == "" {
			continue
		}
		f := 0
		for _, n := range procfs.Namespaces {
			if strings.EqualFold(tok, n.Name) {
				f = int(n.Flag)
			}
		}
		if f == 0 {
			return 0, false
		}
		flags |= f
	}
	return flags, true
}

// Personalities (sys/personality.h).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// archPersonality is LXC's table of lxc.arch names.
var archPersonality = map[string]uint64{
	"arm": perLinux32, "armel": perLinux32, "armhf": perLinux32, "armv7l": perLinux32,
	"athlon": perLinux32, "i386": perLinux32, "i486": perLinux32, "i586": perLinux32,
	"i686": perLinux32, "linux32": perLinux32, "mips": perLinux32, "mipsel": perLinux32,
	"ppc": perLinux32, "powerpc": perLinux32, "x86": perLinux32,
	"aarch64": perLinux, "amd64": perLinux, "arm64": perLinux, "linux64": perLinux,
	"mips64": perLinux, "mips64el": perLinux, "ppc64": perLinux, "ppc64el": perLinux,
	"ppc64le": perLinux, "powerpc64": perLinux, "riscv64": perLinux, "s390x": perLinux,
	"x86_64": perLinux,
}

func parseArch(name string) (uint64, bool) {
	p, ok := archPersonality[name]
	return p, ok
}

// safeUint is LXC's lxc_safe_uint: blanks, then an unsigned number as
// strtoul reads it in base 0 (0x... hex, 0... octal), nothing after it.
func safeUint(s string) (uint32, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	s = strings.TrimPrefix(s, "+")
	base := uint64(10)
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 0xffffffff {
			return 0, false
		}
	}
	return uint32(n), true
}

// globalLXCPath is lxc.lxcpath from LXC's system configuration, else
// its default.
func globalLXCPath() string {
	for _, kv := range readConfig("/etc/lxc/lxc.conf", nil) {
		if kv[0] == "lxc.lxcpath" && kv[1] != "" {
			return strings.TrimRight(kv[1], "/")
		}
	}
	return defaultLXCPath
}
