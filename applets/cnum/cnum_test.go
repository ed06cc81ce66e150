package cnum

import (
	"syscall"
	"testing"
)

func TestU64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  error
	}{
		{"0", 0, nil},
		{"42", 42, nil},
		{"  7", 7, nil},
		{"+7", 7, nil},
		{"-0", 0, nil},
		{"18446744073709551615", 18446744073709551615, nil},
		{"18446744073709551616", 0, syscall.ERANGE},
		{"-1", 0, syscall.ERANGE},
		{"-5x", 0, syscall.ERANGE},
		{"", 0, syscall.EINVAL},
		{"-", 0, syscall.EINVAL},
		{"12 ", 0, syscall.EINVAL},
		{"0x10", 0, syscall.EINVAL},
		{"abc", 0, syscall.EINVAL},
	} {
		got, err := U64(tc.in)
		if got != tc.want || err != tc.err {
			t.Errorf("U64(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestS64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  error
	}{
		{"-100", -100, nil},
		{"9223372036854775807", 9223372036854775807, nil},
		{"-9223372036854775808", -9223372036854775808, nil},
		{"9223372036854775808", 0, syscall.ERANGE},
		{"-9223372036854775809", 0, syscall.ERANGE},
		{"1.5", 0, syscall.EINVAL},
		{"", 0, syscall.EINVAL},
	} {
		got, err := S64(tc.in)
		if got != tc.want || err != tc.err {
			t.Errorf("S64(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestScanf3(t *testing.T) {
	for _, tc := range []struct {
		in      string
		sep     byte
		a, b, c uint32
		ok      bool
	}{
		{"0:1000:1", ':', 0, 1000, 1, true},
		{"0: 1000: 1", ':', 0, 1000, 1, true},
		{"0 :1000:1", ':', 0, 0, 0, false},
		{"-1:0:1", ':', 4294967295, 0, 1, true},
		{"1,2,3", ',', 1, 2, 3, true},
		{"1,2,3", ':', 0, 0, 0, false},
		{"1:2:3x", ':', 0, 0, 0, false},
		{"1:2", ':', 0, 0, 0, false},
		{"4294967296:0:1", ':', 0, 0, 1, true},
	} {
		a, b, c, ok := Scanf3(tc.in, tc.sep)
		if a != tc.a || b != tc.b || c != tc.c || ok != tc.ok {
			t.Errorf("Scanf3(%q, %q) = %d %d %d %v; want %d %d %d %v", tc.in, tc.sep, a, b, c, ok, tc.a, tc.b, tc.c, tc.ok)
		}
	}
}
