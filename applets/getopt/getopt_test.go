package getopt

import (
	"fmt"
	"strings"
	"testing"
)

// table mimics unshare's: "+fhVmuinpCTUrR:w:S:G:cl:" plus a few long-only
// options, and one nsenter-style short option with an optional value.
var table = []Option{
	{Long: "help", Short: 'h', ID: 'h'},
	{Long: "mount", Short: 'm', Arg: Optional, ShortArg: NoArg, ID: 'm'},
	{Long: "mount-proc", Arg: Optional, ID: 300},
	{Long: "map-user", Arg: Required, ID: 301},
	{Long: "map-users", Arg: Required, ID: 302},
	{Long: "fork", Short: 'f', ID: 'f'},
	{Long: "root", Short: 'R', Arg: Required, ShortArg: Required, ID: 'R'},
	{Long: "wd", Short: 'w', Arg: Optional, ShortArg: Optional, ID: 'w'},
	{Long: "user", Short: 'U', Arg: Optional, ShortArg: NoArg, ID: 'U'},
	{Long: "map-root-user", Short: 'r', ID: 'r'},
	{Long: "name", Arg: Required, ID: 400, Exact: true},
	{Long: "net", Arg: Optional, ID: 'n'},
	// Two spellings of one option: a prefix matching both is not ambiguous.
	{Long: "color", Arg: Optional, ID: 500},
	{Long: "colour", Arg: Optional, ID: 500},
}

// parse renders what the parser returns as "id=value" items, then the rest
// after "|", or the error.
func parse(args ...string) string {
	p := New("prog", table, args)
	var out []string
	for {
		r, err := p.Next()
		if err != nil {
			return "error: " + err.Error()
		}
		if r == nil {
			break
		}
		s := fmt.Sprint(r.Opt.ID)
		if r.HasVal {
			s += "=" + r.Value
		}
		out = append(out, s)
	}
	return strings.Join(out, " ") + " | " + strings.Join(p.Rest(), " ")
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-Urm", "true"}, "85 114 109 | true"},
		{[]string{"-f", "-R/tmp/x", "true"}, "102 82=/tmp/x | true"},
		{[]string{"-R", "/tmp/x", "true"}, "82=/tmp/x | true"},
		{[]string{"-fR/x"}, "102 82=/x | "},
		{[]string{"-w", "/x"}, "119 | /x"},
		{[]string{"-w/x"}, "119=/x | "},
		{[]string{"--mount", "/x"}, "109 | /x"},
		{[]string{"--mount=/x"}, "109=/x | "},
		{[]string{"--mount="}, "109= | "},
		{[]string{"--map-user", "0", "x"}, "301=0 | x"},
		{[]string{"--map-user=0"}, "301=0 | "},
		{[]string{"--fo", "--he"}, "102 104 | "},
		{[]string{"--mount-p"}, "300 | "},
		{[]string{"--map-users", "1:2:3"}, "302=1:2:3 | "},
		{[]string{"--col"}, "500 | "},
		{[]string{"--", "-f"}, " | -f"},
		{[]string{"-f", "cmd", "-f"}, "102 | cmd -f"},
		{[]string{"-", "-f"}, " | - -f"},
		{[]string{}, " | "},
		{[]string{"--name", "x"}, "400=x | "},
		{[]string{"--n"}, "110 | "},
		{[]string{"--na"}, "error: prog: unrecognized option '--na'"},
		{[]string{"--bogus"}, "error: prog: unrecognized option '--bogus'"},
		{[]string{"--bogus=1"}, "error: prog: unrecognized option '--bogus=1'"},
		{[]string{"-Z"}, "error: prog: invalid option -- 'Z'"},
		{[]string{"-f:"}, "error: prog: invalid option -- ':'"},
		{[]string{"-R"}, "error: prog: option requires an argument -- 'R'"},
		{[]string{"--root"}, "error: prog: option '--root' requires an argument"},
		{[]string{"--fork=1"}, "error: prog: option '--fork' doesn't allow an argument"},
		{[]string{"--fo=1"}, "error: prog: option '--fork' doesn't allow an argument"},
		{[]string{"--m"}, "error: prog: option '--m' is ambiguous; possibilities: '--mount' '--mount-proc' '--map-user' '--map-users' '--map-root-user'"},
		{[]string{"--map-u"}, "error: prog: option '--map-u' is ambiguous; possibilities: '--map-user' '--map-users'"},
		{[]string{"--=x"}, "error: prog: option '--=x' is ambiguous; possibilities: '--help' '--mount' '--mount-proc' '--map-user' '--map-users' '--fork' '--root' '--wd' '--user' '--map-root-user' '--net' '--color' '--colour'"},
	} {
		if got := parse(tc.args...); got != tc.want {
			t.Errorf("parse(%q) = %q; want %q", tc.args, got, tc.want)
		}
	}
}

func TestPermute(t *testing.T) {
	p := New("prog", table, []string{"a", "-f", "b", "--", "-R"})
	p.Permute = true
	var ids []int
	for {
		r, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			break
		}
		ids = append(ids, r.Opt.ID)
	}
	if fmt.Sprint(ids) != "[102]" || strings.Join(p.Rest(), " ") != "a b -R" {
		t.Errorf("permuted parse = %v | %q; want [102] | a b -R", ids, p.Rest())
	}
}

func TestHelpLines(t *testing.T) {
	opts := []Option{{Long: "a", Help: " -a  first"}, {Long: "b", Help: " -b  second"}}
	got := HelpLines(opts, []string{"b", "", "a"})
	want := " -b  second\n\n -a  first\n"
	if got != want {
		t.Errorf("HelpLines = %q; want %q", got, want)
	}
	if got := Column("-a, --all", 12); got != " -a, --all   " {
		t.Errorf("Column = %q", got)
	}
}
