// Package app holds what every applet shares: how it is called, how its
// errors reach the user (in err(3) style, written once, mapped to an exit
// code in one place) and how it prints help.
package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nsbox/nsbox/applets/getopt"
)

// Version is nsbox's own version.
const Version = "0.1.0"

// UtilLinux is the util-linux release whose behaviour nsbox reproduces.
const UtilLinux = "util-linux 2.42.2"

// Context is how an applet was called.
type Context struct {
	// Name is the program name for messages: basename(argv[0]) when called
	// through a link, the applet's reference name under "nsbox APPLET".
	Name string
	// Argv0 is argv[0] as called; getopt's messages print it as it is.
	Argv0 string
	// Args are the arguments after argv[0].
	Args []string
	// Called is the name the applet was called by: the link's name, or
	// the APPLET of "nsbox APPLET".
	Called string

	Stdout, Stderr io.Writer
}

// Error is a failure worded as util-linux words it: Msg says what failed,
// Err (if any) why, as glibc's strerror text. Code is the exit status
// (1 when zero).
type Error struct {
	Msg  string
	Err  error
	Code int
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + Strerror(e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf reports a failure with a cause, like err(3).
func Errorf(err error, format string, a ...any) error {
	return &Error{Msg: fmt.Sprintf(format, a...), Err: err}
}

// Errorx reports a failure without a cause, like errx(3).
func Errorx(format string, a ...any) error {
	return &Error{Msg: fmt.Sprintf(format, a...)}
}

// Exit ends an applet with a status and no message (after --help).
type Exit int

func (e Exit) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// Strerror renders an error the way glibc's strerror does: Go's errno
// text with a capital first letter.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch {
		case errno == 0:
			return "Success"
		case errno == 133:
			return "Memory page has hardware error" // EHWPOISON
		}
		s := errno.Error()
		if strings.HasPrefix(s, "errno ") {
			return "Unknown error " + s[6:]
		}
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	return err.Error()
}

// Report prints err to stderr as the reference would and returns the exit
// status. It is the one place where errors become exit codes.
func Report(ctx *Context, err error) int {
	if err == nil {
		return 0
	}
	var exit Exit
	if errors.As(err, &exit) {
		return int(exit)
	}
	var usage *getopt.Error
	if errors.As(err, &usage) {
		fmt.Fprintf(ctx.Stderr, "%s\nTry '%s --help' for more information.\n", usage.Msg, ctx.Name)
		return 1
	}
	code := 1
	var e *Error
	if errors.As(err, &e) && e.Code != 0 {
		code = e.Code
	}
	fmt.Fprintf(ctx.Stderr, "%s: %s\n", ctx.Name, err.Error())
	return code
}

// TryHelp is a usage error with no getopt message of its own, as
// util-linux's errtryhelp() after its own warning.
func TryHelp(ctx *Context, msg string) error {
	return &getopt.Error{Msg: ctx.Name + ": " + msg}
}

// Print writes the whole of s to stdout and reports a failed write the way
// util-linux's close_stdout() does.
func Print(ctx *Context, s string) error {
	if _, err := io.WriteString(ctx.Stdout, s); err != nil && !errors.Is(err, syscall.EPIPE) {
		return Errorf(err, "write error")
	}
	if f, ok := ctx.Stdout.(*os.File); ok {
		// A regular file on a full disk reports the error only here.
		if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EROFS) && !errors.Is(err, syscall.EPIPE) {
			return Errorf(err, "write error")
		}
	}
	return Exit(0)
}

// VersionLine is what --version prints for an applet that stands in for
// a util-linux tool.
func VersionLine(name, reference string) string {
	return fmt.Sprintf("%s from %s (nsbox %s)\n", name, reference, Version)
}

// Base is basename(argv[0]).
func Base(argv0 string) string {
	return filepath.Base(argv0)
}

// Spec describes an applet's command line for --help, man pages and
// completion: its options (in the reference's option-table order) and the
// order --help lists them in ("" is a blank line).
type Spec struct {
	Name     string
	Synopsis string
	Desc     string
	Options  []getopt.Option
	Layout   []string
	// See is the man page named at the end of --help.
	See string
}

// Usage renders the applet's --help as the reference prints it, with
// name as the program name.
func (s *Spec) Usage(name string) string {
	return Help(name, s.Synopsis, s.Desc, getopt.HelpLines(s.Options, s.Layout), "\nFor more details see "+s.See+".\n")
}

// Help renders util-linux's usage layout: header, synopsis, description,
// the option lines and the man page pointer.
func Help(name, synopsis, desc, options, tail string) string {
	return fmt.Sprintf("\nUsage:\n %s %s\n\n%s\n\nOptions:\n%s%s", name, synopsis, desc, options, tail)
}
