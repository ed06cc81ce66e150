package nsexec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func samplePlan() *Plan {
	p := &Plan{Prog: "unshare"}
	p.Add(SpawnOps(0, true, MountOp("/proc/1/ns/uts", "/tmp/uts", "", 4096, "", 0, "mount failed"))...)
	p.Add(UnshareOp(0x20000, "unshare failed"), ReleaseOp(0))
	p.Add(WriteOp("/proc/self/uid_map", "0 1000 1", WriteIgnoreENOENT, "cannot open", "write failed"))
	p.Add(ForkOps(ForkUnshare, 9, true, ReleaseOp(1))...)
	p.Add(EnvironOp([]string{}), EnvironOp([]string{"A=1", "B="}))
	p.Add(ExecOp(true, "sh", []string{"sh", "-c", "exit 3", ""}, "failed to execute"))
	return p
}

func TestRoundTrip(t *testing.T) {
	p := samplePlan()
	got, err := Decode(p.Encode())
	if err != nil {
		t.Fatalf("Decode(Encode(p)) = %v", err)
	}
	// Decode has no way to tell an empty list from none.
	for i := range p.Ops {
		if len(p.Ops[i].Strs) == 0 {
			p.Ops[i].Strs = nil
		}
		if len(p.Ops[i].Ints) == 0 {
			p.Ops[i].Ints = nil
		}
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Decode(Encode(p)) =\n%v\nwant\n%v", got, p)
	}
}

func TestSpawnCountsBody(t *testing.T) {
	ops := SpawnOps(2, false, ReleaseOp(1), ReleaseOp(3))
	if len(ops) != 3 || ops[0].Ints[1] != 2 {
		t.Errorf("SpawnOps = %v; want a spawn of count 2 and its body", ops)
	}
	ops = ForkOps(ForkNsenter, 0, false)
	if len(ops) != 1 || ops[0].Ints[3] != 0 {
		t.Errorf("ForkOps with no parent steps = %v", ops)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := samplePlan().Encode()
	cases := map[string][]byte{
		"empty":       nil,
		"bad magic":   append([]byte("XXXX"), good[4:]...),
		"truncated":   good[:len(good)-3],
		"trailing":    append(append([]byte{}, good...), 0),
		"bad version": append(append([]byte("NSBX"), 9, 0, 0, 0), good[8:]...),
	}
	unknown := append([]byte{}, good...)
	// The first op's code follows the header: magic, version, count,
	// and the program name with its length and NUL.
	unknown[12+4+len("unshare")+1] = 0xff
	cases["unknown step"] = unknown
	unterminated := append([]byte{}, good...)
	unterminated[12+4+len("unshare")] = 'x'
	cases["unterminated string"] = unterminated
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%s) = %v; want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(samplePlan().Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		if again := p.Encode(); !bytes.Equal(again, b) {
			t.Errorf("Encode(Decode(b)) != b for a plan that decoded")
		}
	})
}
