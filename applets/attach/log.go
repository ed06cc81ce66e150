package attach

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nsbox/nsbox/applets/app"
	"golang.org/x/sys/unix"
)

// LXC's log: ERROR lines on stderr unless -q, and in a log file when -o
// names one (or -l is given without -o: then the container's default log
// file). With a log file open LXC writes to stderr even under -q, and a
// -l of CRIT, ALERT or FATAL drops ERROR lines everywhere.

// logOpenFlags and logMode are how LXC's log_open opens the file.
const (
	logOpenFlags = unix.O_CREAT | unix.O_WRONLY | unix.O_APPEND | unix.O_CLOEXEC
	logMode      = 0o660
	logDir       = "/var/log/lxc" // LXC's LOGPATH
)

// openLog opens the log file as LXC's lxc_log_init does, right after the
// command line is parsed. Only a file named by -o that cannot be opened
// is an error.
func (o *Options) openLog(ctx *app.Context) error {
	switch {
	case o.LogFile == "none":
	case o.LogFile != "":
		if err := o.createLog(ctx, o.LogFile, true); err != nil {
			o.lxcLog(ctx, "log.c", "lxc_log_init", 690, err, "Failed to enable logfile")
			return app.Exit(1)
		}
	case o.LogLevel != "":
		// lxc_arguments_parse: -l without -o asks for the default file.
		name := o.Name + ".log"
		if o.LXCPath != defaultLXCPath || unix.Geteuid() != 0 || o.createLog(nil, filepath.Join(logDir, name), false) != nil {
			if o.createLog(nil, filepath.Join(o.LXCPath, o.Name, name), true) != nil {
				o.createLog(nil, filepath.Join(logDir, name), false)
			}
		}
	}
	return nil
}

// createLog is LXC's __lxc_log_set_file: the directories leading to path
// when told to, then the file. ctx nil keeps the failures quiet (the
// default file is tried in several places).
func (o *Options) createLog(ctx *app.Context, path string, dirs bool) error {
	report := func(fn string, line int, err error, msg string) error {
		if ctx != nil {
			o.lxcLog(ctx, "log.c", fn, line, err, msg)
		}
		return err
	}
	if dirs {
		for i := 1; i < len(path); i++ {
			if path[i] != '/' {
				continue
			}
			if err := unix.Mkdir(path[:i], 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				report("build_dir", 516, err, `Failed to create directory "`+path+`"`)
				return report("__lxc_log_set_file", 629, err, `Failed to create dir for log file "`+path+`"`)
			}
		}
	}
	fd, err := unix.Open(path, logOpenFlags, logMode)
	if err != nil {
		return report("log_open", 534, err, `Failed to open log file "`+path+`"`)
	}
	o.logFD = fd
	return nil
}

// errorsShown is whether -l lets ERROR lines through.
func (o *Options) errorsShown() bool {
	switch strings.ToUpper(o.LogLevel) {
	case "CRIT", "ALERT", "FATAL":
		return false
	}
	return true
}

// toStderr and toFile say where ERROR lines go.
func (o *Options) toStderr() bool { return o.errorsShown() && (!o.Quiet || o.logFD >= 0) }
func (o *Options) toFile() bool   { return o.errorsShown() && o.logFD >= 0 }

// lxcError is an ERROR line of LXC's attach.c.
func (o *Options) lxcError(ctx *app.Context, fn string, line int, err error, msg string) {
	o.lxcLog(ctx, "attach.c", fn, line, err, msg)
}

// lxcLog is an ERROR line of LXC's from any of its source files.
func (o *Options) lxcLog(ctx *app.Context, file, fn string, line int, err error, msg string) {
	text := msg
	if err != nil {
		text = app.Strerror(err) + " - " + msg
	}
	if o.toStderr() {
		fmt.Fprintf(ctx.Stderr, "lxc-attach: %s\n", o.stderrTail(file, fn, line, text))
	}
	if o.toFile() {
		// LXC's log file has its own layout, with a time stamp.
		now := time.Now().UTC()
		entry := fmt.Sprintf("lxc-attach %s %s.%03d ERROR    %s\n",
			o.Name, now.Format("20060102150405"), now.Nanosecond()/1e6, logTail(file, fn, line, text))
		unix.Write(o.logFD, []byte(entry))
	}
}

// stderrTail is an ERROR line of LXC's on stderr after the program name:
// "NAME: ../src/lxc/FILE: FUNC: LINE TEXT".
func (o *Options) stderrTail(file, fn string, line int, text string) string {
	return fmt.Sprintf("%s: ../src/lxc/%s: %s: %d %s", o.Name, file, fn, line, text)
}

// logTail is a log file line of LXC's after the level: "CATEGORY -
// ../src/lxc/FILE:FUNC:LINE - TEXT", the category being FILE's base name.
func logTail(file, fn string, line int, text string) string {
	return fmt.Sprintf("%s - ../src/lxc/%s:%s:%d - %s", strings.TrimSuffix(filepath.Base(file), ".c"), file, fn, line, text)
}
