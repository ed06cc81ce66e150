// Package getopt parses argv the way glibc's getopt_long does with an
// optstring that starts with '+' (stop at the first non-option), which is
// how util-linux's unshare and nsenter call it.
//
// It reproduces the parts of getopt_long that users can observe: bundled
// short options (-Urm), attached values (-R/tmp, -t123), values in the next
// argument for required arguments, optional values only when attached
// (-m/path, --mount=/path), unique prefixes of long options (--fo for --fork)
// with glibc's ambiguity rules, "--", and glibc's error messages, which name
// argv[0] exactly as the program was called.
//
// Options are returned one at a time, in order, so that callers can
// validate each value as it is seen: util-linux rejects a bad value before
// it looks at the options after it, and so do we.
package getopt

import (
	"fmt"
	"strings"
)

// HasArg says whether an option takes a value.
type HasArg int

const (
	// NoArg options take no value: -f, --fork.
	NoArg HasArg = iota
	// Required options take a value, attached or in the next argument.
	Required
	// Optional options take a value only when it is attached.
	Optional
)

// Option is one entry of an option table: a long name, a short letter, or
// both. ID identifies the option to the caller; glibc treats two long
// options with the same ID and HasArg as one when a prefix matches both.
type Option struct {
	Long  string
	Short byte
	Arg   HasArg
	// ShortArg is what the short form takes, which can differ from the
	// long form: unshare's -m takes no value while --mount has an optional
	// one ("m" vs "m::" in the optstring).
	ShortArg HasArg
	ID       int
	// Exact marks an nsbox extension that matches only when spelled out
	// in full, so that adding it cannot make a util-linux prefix such as
	// --n (for --net) ambiguous.
	Exact bool
	// Help is the option's line (or lines) in --help, worded and aligned
	// as the reference prints it. The parser ignores it.
	Help string
}

// Opt is an Option whose short form takes what its long form takes.
func Opt(long string, short byte, arg HasArg, id int, help string) Option {
	return Option{Long: long, Short: short, Arg: arg, ShortArg: arg, ID: id, Help: help}
}

// Column renders a usage column of --help: a space, then usage padded to
// width. It avoids fmt because option tables are built at start-up.
func Column(usage string, width int) string {
	if len(usage) >= width {
		return " " + usage
	}
	return " " + usage + strings.Repeat(" ", width-len(usage))
}

// Lookup returns the option with the given long name.
func Lookup(opts []Option, long string) *Option {
	for i := range opts {
		if opts[i].Long == long {
			return &opts[i]
		}
	}
	return nil
}

// HelpLines renders the help lines of opts in the order of layout, a list
// of long names in which "" stands for a blank line.
func HelpLines(opts []Option, layout []string) string {
	var b strings.Builder
	for _, name := range layout {
		if name == "" {
			b.WriteByte('\n')
			continue
		}
		if o := Lookup(opts, name); o != nil && o.Help != "" {
			b.WriteString(o.Help)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Error is a usage error, worded as glibc's getopt words it.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Parser walks argv. Prog is argv[0] as the program was called; glibc
// prints it unmodified in its messages.
type Parser struct {
	Prog string
	Opts []Option
	// Permute is glibc's default mode (an optstring without '+'): options
	// are found after operands too, and Rest returns the operands in order.
	Permute  bool
	operands []string

	args     []string // argv[1:]
	optind   int      // index into args of the next element to scan
	nextchar string   // rest of a bundle of short options being scanned
}

// New returns a parser for args (argv without argv[0]).
func New(prog string, opts []Option, args []string) *Parser {
	return &Parser{Prog: prog, Opts: opts, args: args}
}

// Result is one parsed option.
type Result struct {
	Opt    *Option
	Value  string
	HasVal bool
	// Name is how the option was spelled ("-m", "--mount"), for messages.
	Name string
}

// Next returns the next option, or nil when the options end. An error is
// a usage error; parsing cannot continue after one.
func (p *Parser) Next() (*Result, error) {
	if p.nextchar == "" {
		if p.optind >= len(p.args) {
			return nil, nil
		}
		a := p.args[p.optind]
		if a == "--" {
			p.optind++
			return nil, nil
		}
		if len(a) < 2 || a[0] != '-' {
			if !p.Permute {
				return nil, nil // REQUIRE_ORDER: stop at the first non-option
			}
			p.operands = append(p.operands, a)
			p.optind++
			return p.Next()
		}
		if a[1] == '-' {
			p.optind++
			return p.long(a[2:])
		}
		p.nextchar = a[1:]
		p.optind++
	}
	return p.short()
}

// Rest returns the arguments after the options (with Permute, every
// operand, in order).
func (p *Parser) Rest() []string {
	return append(p.operands[:len(p.operands):len(p.operands)], p.args[p.optind:]...)
}

func (p *Parser) errorf(format string, a ...any) error {
	return &Error{Msg: p.Prog + ": " + fmt.Sprintf(format, a...)}
}

func (p *Parser) short() (*Result, error) {
	c := p.nextchar[0]
	p.nextchar = p.nextchar[1:]
	var o *Option
	for i := range p.Opts {
		if p.Opts[i].Short == c && c != 0 {
			o = &p.Opts[i]
			break
		}
	}
	if o == nil || c == ':' || c == '-' {
		return nil, p.errorf("invalid option -- '%c'", c)
	}
	r := &Result{Opt: o, Name: "-" + string(c)}
	switch o.ShortArg {
	case Required:
		if p.nextchar != "" {
			r.Value, r.HasVal = p.nextchar, true
			p.nextchar = ""
		} else if p.optind < len(p.args) {
			r.Value, r.HasVal = p.args[p.optind], true
			p.optind++
		} else {
			return nil, p.errorf("option requires an argument -- '%c'", c)
		}
	case Optional:
		if p.nextchar != "" {
			r.Value, r.HasVal = p.nextchar, true
			p.nextchar = ""
		}
	}
	return r, nil
}

func (p *Parser) long(s string) (*Result, error) {
	name, value, hasEq := strings.Cut(s, "=")
	found := -1
	// An exact match wins over any prefix match.
	for i, o := range p.Opts {
		if o.Long != "" && o.Long == name {
			found = i
			break
		}
	}
	if found < 0 {
		var ambiguous []int
		for i, o := range p.Opts {
			if o.Long == "" || o.Exact || !strings.HasPrefix(o.Long, name) {
				continue
			}
			if found < 0 {
				found = i
				continue
			}
			f := p.Opts[found]
			if f.Arg != o.Arg || f.ID != o.ID {
				if ambiguous == nil {
					ambiguous = []int{found}
				}
				ambiguous = append(ambiguous, i)
			}
		}
		if ambiguous != nil {
			var b strings.Builder
			for _, i := range ambiguous {
				fmt.Fprintf(&b, " '--%s'", p.Opts[i].Long)
			}
			return nil, p.errorf("option '--%s' is ambiguous; possibilities:%s", s, b.String())
		}
	}
	if found < 0 {
		return nil, p.errorf("unrecognized option '--%s'", s)
	}
	o := &p.Opts[found]
	r := &Result{Opt: o, Name: "--" + o.Long}
	switch {
	case hasEq && o.Arg == NoArg:
		return nil, p.errorf("option '--%s' doesn't allow an argument", o.Long)
	case hasEq:
		r.Value, r.HasVal = value, true
	case o.Arg == Required:
		if p.optind >= len(p.args) {
			return nil, p.errorf("option '--%s' requires an argument", o.Long)
		}
		r.Value, r.HasVal = p.args[p.optind], true
		p.optind++
	}
	return r, nil
}
