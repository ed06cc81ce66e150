// Package cnum parses numbers the way the C library calls behind
// util-linux's options do, so that nsbox accepts and rejects exactly the
// same spellings: leading blanks and a sign are allowed, trailing junk is
// not, and overflow is an error of its own (ERANGE, "Numerical result out of
// range") rather than a parse error.
package cnum

import (
	"math"
	"syscall"
)

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// strtoimax converts like C's strtoimax (base 10, or with unsigned set,
// strtoumax): it returns the value, how many bytes it used (0 when there
// were no digits) and whether the value overflowed.
func strto(s string, unsigned bool) (v uint64, neg bool, used int, overflow bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		} else {
			v = v*10 + d
		}
		i++
	}
	if i == start {
		return 0, false, 0, false
	}
	if !unsigned {
		limit := uint64(math.MaxInt64)
		if neg {
			limit++
		}
		if v > limit {
			overflow = true
		}
	}
	return v, neg, i, overflow
}

// S64 parses like util-linux's ul_strtos64: EINVAL for an empty string,
// no digits or trailing junk, ERANGE on overflow.
func S64(s string) (int64, error) {
	if s == "" {
		return 0, syscall.EINVAL
	}
	v, neg, used, overflow := strto(s, false)
	if overflow {
		return 0, syscall.ERANGE
	}
	if used == 0 || used != len(s) {
		return 0, syscall.EINVAL
	}
	if neg {
		return -int64(v), nil // v may be 1<<63: wraps to MinInt64, as wanted
	}
	return int64(v), nil
}

// U64 parses like util-linux's ul_strtou64: as S64, but a negative number
// is ERANGE (even "-5x"), and values up to 2^64-1 are accepted.
func U64(s string) (uint64, error) {
	if s == "" {
		return 0, syscall.EINVAL
	}
	v, neg, used, overflow := strto(s, false)
	if used > 0 && neg && (v != 0 || overflow) {
		return 0, syscall.ERANGE
	}
	v, _, used, overflow = strto(s, true)
	if overflow {
		return 0, syscall.ERANGE
	}
	if used == 0 || used != len(s) {
		return 0, syscall.EINVAL
	}
	return v, nil
}

// ScanUint reads one "%u" conversion of scanf from the start of s: blanks,
// a sign and digits, converted with strtoul and truncated to 32 bits (so
// "-1" is 4294967295). It returns the value and the rest of s, or ok=false
// when there is no number.
func ScanUint(s string) (v uint32, rest string, ok bool) {
	u, neg, used, overflow := strto(s, true)
	if used == 0 {
		return 0, s, false
	}
	if overflow {
		u = math.MaxUint64
	} else if neg {
		u = -u
	}
	return uint32(u), s[used:], true
}

// Scanf3 matches s against "%u<sep>%u<sep>%u" with nothing after it, as
// util-linux's id-range parsers do with sscanf and %n.
func Scanf3(s string, sep byte) (a, b, c uint32, ok bool) {
	var vals [3]uint32
	rest := s
	for i := range vals {
		if i > 0 {
			if rest == "" || rest[0] != sep {
				return 0, 0, 0, false
			}
			rest = rest[1:]
		}
		var good bool
		vals[i], rest, good = ScanUint(rest)
		if !good {
			return 0, 0, 0, false
		}
	}
	if rest != "" {
		return 0, 0, 0, false
	}
	return vals[0], vals[1], vals[2], true
}
