package unshare

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/applets/cnum"
	"github.com/nsbox/nsbox/procfs"
)

// mapRanges reads one --map-users/--map-groups value: "auto", "subids",
// "all", inner:outer:count, or the deprecated outer,inner,count. The
// ranges come back in the order util-linux chains them (newest first).
func mapRanges(sys *Sys, v string, users bool) ([]Range, error) {
	subid, kernel := "/etc/subgid", "/proc/self/gid_map"
	if users {
		subid, kernel = "/etc/subuid", "/proc/self/uid_map"
	}
	switch v {
	case "auto", "subids":
		r, err := subidRange(sys, subid, v == "subids")
		if err != nil {
			return nil, err
		}
		return []Range{r}, nil
	case "all":
		return kernelMap(sys, kernel)
	}
	if in, out, n, ok := cnum.Scanf3(v, ':'); ok {
		return []Range{{Inner: in, Outer: out, Count: n}}, nil
	}
	if out, in, n, ok := cnum.Scanf3(v, ','); ok {
		return []Range{{Inner: in, Outer: out, Count: n}}, nil
	}
	return nil, app.Errorx("invalid mapping '%s'", v)
}

// subidRange finds the caller's first range in /etc/subuid or /etc/subgid.
// Without identity the range maps to inside ids from 0 (Inner is none
// until addSingle places it), with identity to the same ids.
func subidRange(sys *Sys, file string, identity bool) (Range, error) {
	pw, ok := app.LookupPasswd(sys.Root, "", sys.EUID, false)
	if !ok {
		return Range{}, app.Errorx("you (user %d) don't exist.", int32(sys.EUID))
	}
	data, err := procfs.Read(sys.path(file))
	if err != nil {
		return Range{}, app.Errorf(err, "could not open '%s'", file)
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		who, rest, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		// As util-linux: the owner field matches by name, or by number
		// through strtoul, which reads a name as 0.
		if who != pw.Name && cstrtoul(who) != uint64(pw.ID) {
			continue
		}
		start, count, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		outer, err := unum(start, "failed to parse subid map")
		if err != nil {
			return Range{}, err
		}
		n, err := unum(count, "failed to parse subid map")
		if err != nil {
			return Range{}, err
		}
		r := Range{Inner: none, Outer: uint32(outer), Count: uint32(n)}
		if identity {
			r.Inner = r.Outer
		}
		return r, nil
	}
	return Range{}, app.Errorx("no line matching user \"%s\" in %s", pw.Name, file)
}

// cstrtoul is C's strtoul(s, NULL, 10) with its leniency: the digits at
// the start, 0 when there are none.
func cstrtoul(s string) uint64 {
	v, rest, ok := cnum.ScanUint(s)
	_ = rest
	if !ok {
		return 0
	}
	return uint64(v)
}

// kernelMap passes through every id mapped into our own namespace
// (--map-users=all).
func kernelMap(sys *Sys, file string) ([]Range, error) {
	data, err := procfs.Read(sys.path(file))
	if err != nil {
		return nil, app.Errorf(err, "could not open '%s'", file)
	}
	var chain []Range
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		start, err1 := strconv.ParseUint(f[0], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		chain = append([]Range{{Inner: uint32(start), Outer: uint32(start), Count: uint32(count)}}, chain...)
	}
	return chain, nil
}

// addSingle puts the single mapping outer→inner at the head of chain and
// punches a hole for it in every range it overlaps, as util-linux's
// add_single_map_range does (with its --map-auto fix: an automatic range
// starts at inside id 0 and gives up no id). inner == none adds nothing
// but still places automatic ranges. The arithmetic is C's unsigned int.
func addSingle(chain []Range, outer, inner uint32) []Range {
	if inner == none {
		outer = none
	}
	var out []Range
	push := func(r Range) { out = append([]Range{r}, out...) }
	for _, m := range chain {
		if m.Inner == none {
			m.Inner = 0
		} else if inner != none &&
			((outer >= m.Outer && outer <= m.Outer+m.Count) ||
				(inner >= m.Inner && inner <= m.Inner+m.Count)) {
			m.Count--
		}
		var outerOff, innerOff uint32
		if outer > m.Outer {
			outerOff = outer - m.Outer
		}
		if inner > m.Inner {
			innerOff = inner - m.Inner
		}
		outerOff, innerOff = min(outerOff, m.Count), min(innerOff, m.Count)

		lo := Range{Outer: m.Outer, Inner: m.Inner, Count: min(innerOff, outerOff)}
		mid := Range{Outer: lo.Outer + lo.Count, Inner: lo.Inner + lo.Count}
		if mid.Outer == outer {
			mid.Outer++
		}
		if mid.Inner == inner {
			mid.Inner++
		}
		mid.Count = max(outerOff, innerOff) - min(outerOff, innerOff)
		hi := Range{Outer: mid.Outer + mid.Count, Inner: mid.Inner + mid.Count}
		if hi.Outer == outer {
			hi.Outer++
		}
		if hi.Inner == inner {
			hi.Inner++
		}
		hi.Count = m.Count - lo.Count - mid.Count
		for _, r := range []Range{hi, mid, lo} {
			if r.Count != 0 {
				push(r)
			}
		}
	}
	if inner != none {
		push(Range{Inner: inner, Outer: outer, Count: 1})
	}
	return out
}

// mapText is the content of a uid_map or gid_map for chain.
func mapText(chain []Range) string {
	var b strings.Builder
	for _, r := range chain {
		fmt.Fprintf(&b, "%d %d %d\n", r.Inner, r.Outer, r.Count)
	}
	return b.String()
}
