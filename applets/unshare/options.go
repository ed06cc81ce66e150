package unshare

import (
	"math"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/cnum"
	"github.com/nsbox/nsbox/applets/getopt"
	"github.com/nsbox/nsbox/applets/nsopt"
	"github.com/nsbox/nsbox/applets/registry"
	"golang.org/x/sys/unix"
)

// Option IDs beyond the short letters, as util-linux numbers its OPT_*.
const (
	optMountProc = 256 + iota
	optMountBinfmt
	optPropagation
	optSetgroups
	optKillChild
	optKeepCaps
	optMonotonic
	optBoottime
	optMapUser
	optMapUsers
	optMapGroup
	optMapGroups
	optMapAuto
	optMapSubids
	optOwner
	optForwardSignals
	optClearEnv
	optWhitelistEnv
	optName
	optHostname
	optOverlay
	optLower
	optUpper
	optWork
	optReadOnly
	optInit
)

// line formats one --help line in unshare's 27-column layout.
func line(usage, desc string) string {
	return getopt.Column(usage, 26) + desc
}

func nsHelp(usage, noun string) string {
	if noun == "mount namespace" {
		noun = "mounts namespace" // sic: unshare's own wording
	}
	return line(usage, "unshare "+noun)
}

var opt = getopt.Opt

// options is unshare's option table, in util-linux's longopts order (the
// order glibc lists candidates in when a prefix is ambiguous).
var options = func() []getopt.Option {
	o := []getopt.Option{
		opt("help", 'h', getopt.NoArg, 'h', line("-h, --help", "display this help")),
		opt("version", 'V', getopt.NoArg, 'V', line("-V, --version", "display version")),
	}
	for _, k := range nsopt.Kinds {
		// "+fhVmuinpCTUr...": the short forms take no value.
		o = append(o, k.Option("<file>", getopt.NoArg, nsHelp))
	}
	return append(o,
		opt("fork", 'f', getopt.NoArg, 'f', line("-f, --fork", "fork before launching <program>")),
		opt("kill-child", 0, getopt.Optional, optKillChild, line("--kill-child[=<signame>]", "when dying, kill the forked child (implies --fork)")+"\n"+line("", "  defaults to SIGKILL")),
		opt("forward-signals", 0, getopt.NoArg, optForwardSignals, line("--forward-signals", "forward SIGTERM and SIGINT to child (implies --fork)")),
		opt("mount-proc", 0, getopt.Optional, optMountProc, line("--mount-proc[=<dir>]", "mount proc filesystem first (implies --mount)")),
		opt("mount-binfmt", 0, getopt.Optional, optMountBinfmt, line("--mount-binfmt[=<dir>]", "mount binfmt filesystem first (implies --user and --mount)")),
		opt("map-user", 0, getopt.Required, optMapUser, line("--map-user <uid>|<name>", "map current user to uid (implies --user)")),
		opt("map-users", 0, getopt.Required, optMapUsers, " --map-users <inneruid>:<outeruid>:<count>\n"+line("", "map count users from outeruid to inneruid (implies --user)")),
		opt("map-group", 0, getopt.Required, optMapGroup, line("--map-group <gid>|<name>", "map current group to gid (implies --user)")),
		opt("map-groups", 0, getopt.Required, optMapGroups, " --map-groups <innergid>:<outergid>:<count>\n"+line("", "map count groups from outergid to innergid (implies --user)")),
		opt("map-root-user", 'r', getopt.NoArg, 'r', line("-r, --map-root-user", "map current user to root (implies --user)")),
		opt("map-current-user", 'c', getopt.NoArg, 'c', line("-c, --map-current-user", "map current user to itself (implies --user)")),
		opt("map-auto", 0, getopt.NoArg, optMapAuto, line("--map-auto", "map users and groups automatically (implies --user)")),
		opt("map-subids", 0, getopt.NoArg, optMapSubids, line("--map-subids", "map the first block of user IDs owned by euid (implies --user)")),
		opt("owner", 0, getopt.Required, optOwner, line("--owner <uid>:<gid>", "set the user namespace owner (implies --user)")),
		opt("propagation", 0, getopt.Required, optPropagation, " --propagation slave|shared|private|unchanged\n"+line("", "modify mount propagation in mount namespace")),
		opt("setgroups", 0, getopt.Required, optSetgroups, line("--setgroups allow|deny", "control the setgroups syscall in user namespaces")),
		opt("keep-caps", 0, getopt.NoArg, optKeepCaps, line("--keep-caps", "retain capabilities granted in user namespaces")),
		opt("setuid", 'S', getopt.Required, 'S', line("-S, --setuid <uid>", "set uid in entered namespace")),
		opt("setgid", 'G', getopt.Required, 'G', line("-G, --setgid <gid>", "set gid in entered namespace")),
		opt("root", 'R', getopt.Required, 'R', line("-R, --root <dir>", "run the command with root directory set to <dir>")),
		opt("wd", 'w', getopt.Required, 'w', line("-w, --wd <dir>", "change working directory to <dir>")),
		opt("monotonic", 0, getopt.Required, optMonotonic, line("--monotonic <offset>", "set clock monotonic offset (seconds) in time namespaces")),
		opt("boottime", 0, getopt.Required, optBoottime, line("--boottime <offset>", "set clock boottime offset (seconds) in time namespaces")),
		opt("load-interp", 'l', getopt.Required, 'l', line("-l, --load-interp <file>", "load binfmt definition in the namespace (implies --mount-binfmt)")),
		opt("clear-env", 0, getopt.NoArg, optClearEnv, line("--clear-env", "do not inherit environment variables from the calling process")),
		opt("whitelist-env", 0, getopt.Required, optWhitelistEnv, line("--whitelist-env <list>", "clear environment except for specified variables")),
		hidden(nameOption),
	)
}()

// nameOption registers the container for attach. In unshare's table it is
// an nsbox extension: matched only when spelled in full (so --n is still
// --net) and left out of util-linux's --help.
var nameOption = opt("name", 0, getopt.Required, optName, line("--name <name>", "register the container for lxc-attach -n <name>"))

func hidden(o getopt.Option) getopt.Option {
	o.Exact, o.Help = true, ""
	return o
}

// helpLayout is the order of --help; "" is a blank line.
var helpLayout = []string{
	"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time", "",
	"mount-proc", "mount-binfmt", "load-interp", "propagation", "root", "wd", "",
	"setuid", "setgid", "map-user", "map-group", "map-root-user", "map-current-user",
	"map-auto", "map-subids", "map-users", "map-groups", "owner", "",
	"fork", "kill-child", "forward-signals", "",
	"setgroups", "keep-caps", "",
	"monotonic", "boottime", "clear-env", "whitelist-env", "",
	"help", "version",
}

// Spec is unshare's command line, for --help, man pages and completion.
var Spec = app.Spec{
	Name:     "unshare",
	Synopsis: "[options] [<program> [<argument>...]]",
	Desc:     "Run a program with some namespaces unshared from the parent.",
	Options:  options,
	Layout:   helpLayout,
	See:      "unshare(1)",
}

const none = math.MaxUint32 // an id that was not given (C's (uid_t) -1)

// Range maps Count ids from Outer (outside) to Inner (inside).
type Range struct{ Inner, Outer, Count uint32 }

// Options is what unshare's command line asks for.
type Options struct {
	Flags   uintptr           // CLONE_NEW*
	Persist map[string]string // namespace name → file to bind it to

	Fork           bool
	KillChild      int // signal; 0 without --kill-child
	ForwardSignals bool

	ProcMnt   string
	BinfmtMnt string
	Interp    string

	Propagation uintptr // mount flags; 0 is "unchanged"
	Setgroups   string  // "", "allow" or "deny"

	MapUser, MapGroup     uint32 // none when not given
	UserMap, GroupMap     []Range
	OwnerUser, OwnerGroup uint32

	KeepCaps bool
	Root     string
	Wd       string

	SetUID, SetGID       uint32
	ForceUID, ForceGID   bool
	Monotonic, Boottime  int64
	ForceMono, ForceBoot bool

	ClearEnv  bool
	Whitelist []string // NAME=VALUE, in the order util-linux sets them
	Command   []string

	// Name registers the container (nsbox extension).
	Name string
	// Pivot is set by nsbox pivot: switch root to a rootfs.
	Pivot *Pivot
}

// Sys is what parsing and planning read from the system; tests fake it.
type Sys struct {
	Root       string // "/" normally; a fixture tree in tests
	Pid        int
	UID, GID   uint32 // real ids
	EUID, EGID uint32
	Environ    []string
}

func (s *Sys) getenv(name string) (string, bool) {
	for _, kv := range s.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func (s *Sys) path(p string) string {
	if s.Root == "" || s.Root == "/" {
		return p
	}
	return s.Root + p
}

// Parse reads unshare's command line. Each value is checked as its option
// is reached, so the first bad one is the one reported, as in util-linux.
func Parse(ctx *app.Context, sys *Sys) (*Options, error) {
	return parse(ctx, sys, &Spec)
}

func parse(ctx *app.Context, sys *Sys, spec *app.Spec) (*Options, error) {
	o := &Options{
		Propagation: unix.MS_REC | unix.MS_PRIVATE,
		MapUser:     none, MapGroup: none,
		OwnerUser: none, OwnerGroup: none,
	}
	if spec == &PivotSpec {
		o.Pivot = &Pivot{}
	}
	p := getopt.New(ctx.Argv0, spec.Options, ctx.Args)
	for {
		r, err := p.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		if err := o.apply(ctx, sys, spec, r); err != nil {
			return nil, err
		}
	}
	if (o.ForceMono || o.ForceBoot) && o.Flags&unix.CLONE_NEWTIME == 0 {
		return nil, app.Errorx("options --monotonic and --boottime require unsharing of a time namespace (-T)")
	}
	o.Command = p.Rest()
	return o, nil
}

func (o *Options) apply(ctx *app.Context, sys *Sys, spec *app.Spec, r *getopt.Result) error {
	v := r.Value
	if k, ok := nsopt.ByShort(byte(r.Opt.ID)); ok && r.Opt.ID < 256 {
		o.Flags |= k.NS.Flag
		if r.HasVal {
			if o.Persist == nil {
				o.Persist = map[string]string{}
			}
			o.Persist[k.NS.Name] = v
		}
		return nil
	}
	switch r.Opt.ID {
	case 'h':
		return app.Print(ctx, spec.Usage(ctx.Name))
	case 'V':
		if o.Pivot != nil {
			return app.Print(ctx, "pivot from nsbox "+app.Version+"\n")
		}
		return app.Print(ctx, app.VersionLine(ctx.Name, app.UtilLinux))
	case optName:
		if err := registry.CheckName(v); err != nil {
			return app.Errorx("%s", err)
		}
		o.Name = v
	case optHostname, optOverlay, optLower, optUpper, optWork, optReadOnly, optInit:
		o.Pivot.apply(r)
	case 'f':
		o.Fork = true
	case optMountProc:
		o.Flags |= unix.CLONE_NEWNS
		o.ProcMnt = "/proc"
		if r.HasVal {
			o.ProcMnt = v
		}
	case optMountBinfmt:
		o.Flags |= unix.CLONE_NEWNS | unix.CLONE_NEWUSER
		o.binfmtDefault(r.HasVal, v)
	case 'l':
		o.Flags |= unix.CLONE_NEWNS | unix.CLONE_NEWUSER
		if o.BinfmtMnt == "" {
			o.binfmtDefault(false, "")
		}
		o.Interp = v
	case optMapUser:
		o.Flags |= unix.CLONE_NEWUSER
		id, err := lookupID(sys, v, true)
		if err != nil {
			return err
		}
		o.MapUser = id
	case optMapGroup:
		o.Flags |= unix.CLONE_NEWUSER
		id, err := lookupID(sys, v, false)
		if err != nil {
			return err
		}
		o.MapGroup = id
	case 'r':
		o.Flags |= unix.CLONE_NEWUSER
		o.MapUser, o.MapGroup = 0, 0
	case 'c':
		o.Flags |= unix.CLONE_NEWUSER
		o.MapUser, o.MapGroup = sys.EUID, sys.EGID
	case optMapUsers, optMapGroups:
		o.Flags |= unix.CLONE_NEWUSER
		users := r.Opt.ID == optMapUsers
		m, err := mapRanges(sys, v, users)
		if err != nil {
			return err
		}
		if users {
			o.UserMap = append(m, o.UserMap...)
		} else {
			o.GroupMap = append(m, o.GroupMap...)
		}
	case optMapAuto, optMapSubids:
		o.Flags |= unix.CLONE_NEWUSER
		identity := r.Opt.ID == optMapSubids
		u, err := subidRange(sys, "/etc/subuid", identity)
		if err != nil {
			return err
		}
		g, err := subidRange(sys, "/etc/subgid", identity)
		if err != nil {
			return err
		}
		o.UserMap = append([]Range{u}, o.UserMap...)
		o.GroupMap = append([]Range{g}, o.GroupMap...)
	case optOwner:
		o.Flags |= unix.CLONE_NEWUSER
		u, rest, ok1 := cnum.ScanUint(v)
		ok2 := ok1 && rest != "" && rest[0] == ':'
		var g uint32
		if ok2 {
			g, rest, ok2 = cnum.ScanUint(rest[1:])
		}
		if !ok2 || rest != "" {
			return app.Errorx("failed to parse owner")
		}
		o.OwnerUser, o.OwnerGroup = u, g
	case optSetgroups:
		if v != "allow" && v != "deny" {
			return app.Errorx("unsupported --setgroups argument '%s'", v)
		}
		o.Setgroups = v
	case optPropagation:
		p, ok := propagations[v]
		if !ok {
			return app.Errorx("unsupported propagation mode: %s", v)
		}
		o.Propagation = p
	case optKillChild:
		o.Fork = true
		o.KillChild = int(unix.SIGKILL)
		if r.HasVal {
			if o.KillChild = app.SignalNumber(v); o.KillChild < 0 {
				return app.Errorx("unknown signal: %s", v)
			}
		}
	case optKeepCaps:
		o.KeepCaps = true
	case optForwardSignals:
		o.Fork, o.ForwardSignals = true, true
	case 'S':
		n, err := unum(v, "failed to parse uid")
		if err != nil {
			return err
		}
		o.SetUID, o.ForceUID = uint32(n), true
	case 'G':
		n, err := unum(v, "failed to parse gid")
		if err != nil {
			return err
		}
		o.SetGID, o.ForceGID = uint32(n), true
	case 'R':
		o.Root = v
	case 'w':
		o.Wd = v
	case optMonotonic:
		n, err := snum(v, "failed to parse monotonic offset")
		if err != nil {
			return err
		}
		o.Monotonic, o.ForceMono = n, true
	case optBoottime:
		n, err := snum(v, "failed to parse boottime offset")
		if err != nil {
			return err
		}
		o.Boottime, o.ForceBoot = n, true
	case optClearEnv:
		o.ClearEnv = true
	case optWhitelistEnv:
		for _, name := range strings.Split(v, ",") {
			if name == "" {
				continue
			}
			if val, ok := sys.getenv(name); ok {
				// util-linux prepends each to a list and sets them in
				// list order, so the last named is set first.
				o.Whitelist = append([]string{name + "=" + val}, o.Whitelist...)
			}
		}
	}
	return nil
}

func (o *Options) binfmtDefault(hasVal bool, v string) {
	if hasVal {
		o.BinfmtMnt = v
		return
	}
	if o.ProcMnt == "" {
		o.ProcMnt = "/proc"
	}
	o.BinfmtMnt = "/proc/sys/fs/binfmt_misc"
}

var propagations = map[string]uintptr{
	"slave":     unix.MS_REC | unix.MS_SLAVE,
	"private":   unix.MS_REC | unix.MS_PRIVATE,
	"shared":    unix.MS_REC | unix.MS_SHARED,
	"unchanged": 0,
}

// unum is util-linux's strtoul_or_err: a parse error names the value, an
// overflow adds strerror.
func unum(s, msg string) (uint64, error) {
	n, err := cnum.U64(s)
	if err == unix.ERANGE {
		return 0, app.Errorf(err, "%s: '%s'", msg, s)
	}
	if err != nil {
		return 0, app.Errorx("%s: '%s'", msg, s)
	}
	return n, nil
}

// snum is util-linux's strtos64_or_err.
func snum(s, msg string) (int64, error) {
	n, err := cnum.S64(s)
	if err == unix.ERANGE {
		return 0, app.Errorf(err, "%s: '%s'", msg, s)
	}
	if err != nil {
		return 0, app.Errorx("%s: '%s'", msg, s)
	}
	return n, nil
}

// lookupID resolves a --map-user/--map-group value as util-linux's
// ul_getuserpw_str does: a number is taken as it is, anything else is
// looked up as a name.
func lookupID(sys *Sys, s string, user bool) (uint32, error) {
	what := "gid"
	if user {
		what = "uid"
	}
	n, err := cnum.U64(s)
	switch {
	case err == unix.EINVAL:
		var a *app.Account
		var ok bool
		if user {
			a, ok = app.LookupPasswd(sys.Root, s, 0, true)
		} else {
			a, ok = app.LookupGroup(sys.Root, s, 0, true)
		}
		if ok && a.ID != none {
			return a.ID, nil
		}
	case err == nil && n < none:
		return uint32(n), nil
	}
	return 0, app.Errorx("failed to parse %s '%s'", what, s)
}
