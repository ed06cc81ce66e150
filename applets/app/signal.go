package app

import "strings"

// signalNames are the names util-linux's signame_to_signum knows, in its
// order (x86 numbering).
var signalNames = []struct {
	name string
	num  int
}{
	{"HUP", 1}, {"INT", 2}, {"QUIT", 3}, {"ILL", 4}, {"TRAP", 5}, {"ABRT", 6},
	{"IOT", 6}, {"BUS", 7}, {"FPE", 8}, {"KILL", 9}, {"USR1", 10}, {"SEGV", 11},
	{"USR2", 12}, {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15}, {"STKFLT", 16},
	{"CHLD", 17}, {"CONT", 18}, {"STOP", 19}, {"TSTP", 20}, {"TTIN", 21},
	{"TTOU", 22}, {"URG", 23}, {"XCPU", 24}, {"XFSZ", 25}, {"VTALRM", 26},
	{"PROF", 27}, {"WINCH", 28}, {"IO", 29}, {"POLL", 29}, {"PWR", 30},
	{"SYS", 31},
}

// glibc keeps the first two real-time signals for itself.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// SignalNumber converts a signal name as util-linux does: an optional
// "SIG" prefix, any case, and RTMIN+n / RTMAX-n / RTn for real-time
// signals. Numbers are not names; it returns -1 for anything unknown.
func SignalNumber(s string) int {
	if len(s) >= 3 && strings.EqualFold(s[:3], "sig") {
		s = s[3:]
	}
	if len(s) >= 2 && strings.EqualFold(s[:2], "rt") {
		return rtSignal(s[2:])
	}
	for _, n := range signalNames {
		if strings.EqualFold(n.name, s) {
			return n.num
		}
	}
	return -1
}

func rtSignal(s string) int {
	fromMax := false
	if len(s) >= 4 && strings.EqualFold(s[:4], "min+") {
		s = s[4:]
	} else if len(s) >= 4 && strings.EqualFold(s[:4], "max-") {
		s, fromMax = s[4:], true
	}
	// strtol with the end pointer unchecked: trailing junk is ignored.
	i, n := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		if n > sigRTMax {
			return -1
		}
		i++
	}
	if i == 0 {
		return -1
	}
	if fromMax {
		n = sigRTMax - n
	} else {
		n = sigRTMin + n
	}
	if n < sigRTMin || n > sigRTMax {
		return -1
	}
	return n
}
