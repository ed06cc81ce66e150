package attach

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"

	"golang.org/x/sys/unix"
)

// LXC's command socket: each running container's monitor listens on the
// abstract unix socket "@LXCPATH/NAME/command" (hashed when too long). A
// client sends one request and reads one response; some responses carry
// file descriptors. nsbox speaks it directly rather than running
// lxc-info. Numbers and layouts are LXC 5.0's (commands.h), for x86_64:
//
//	request:  i32 cmd, i32 datalen, 8-byte pointer (unused on the wire),
//	          then datalen bytes
//	response: i32 ret (0 or -errno), i32 datalen, 8-byte data (small
//	          answers such as a pid live here), then datalen bytes; file
//	          descriptors come with the first part (SCM_RIGHTS)
const (
	cmdGetInitPID     = 4
	cmdGetCloneFlags  = 5
	cmdGetCgroup2FD   = 17
	cmdGetInitPidfd   = 18
	cmdGetDevptsFD    = 21
	cmdGetCgroupCtx   = 23
	cgroupCtxMaxFD    = 20
	cgroupCtxSize     = 96 // struct cgroup_ctx, 8-byte aligned
	lxcCmdDataMax     = 1 << 16
	abstractPathLimit = 108 - 2
)

type lxcResponse struct {
	ret   int32
	value int64 // the data field, when it holds the answer itself
	data  []byte
	fds   []int
}

// socketName is LXC's lxc_make_abstract_socket_name for "command".
func socketName(lxcpath, name string) string {
	path := lxcpath + "/" + name + "/command"
	if len(path) < abstractPathLimit {
		return "@" + path
	}
	h := fnv.New64a()
	h.Write([]byte(lxcpath + "/" + name))
	return fmt.Sprintf("@lxc/%016x/command", h.Sum64())
}

// lxcCommand sends one command to a container's monitor. A container
// that is not running refuses the connection (ECONNREFUSED).
func lxcCommand(lxcpath, name string, cmd int32, req []byte, maxFDs int) (*lxcResponse, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: socketName(lxcpath, name)}); err != nil {
		return nil, err
	}
	head := make([]byte, 16)
	binary.LittleEndian.PutUint32(head[0:], uint32(cmd))
	binary.LittleEndian.PutUint32(head[4:], uint32(len(req)))
	// The monitor checks who asks: send our credentials, as LXC does.
	creds := unix.UnixCredentials(&unix.Ucred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())})
	if err := unix.Sendmsg(fd, head, creds, nil, unix.MSG_NOSIGNAL); err != nil {
		return nil, err
	}
	if len(req) > 0 {
		if _, err := unix.Write(fd, req); err != nil {
			return nil, err
		}
	}
	rsp := make([]byte, 16)
	oob := make([]byte, unix.CmsgSpace(4*max(maxFDs, 1)))
	n, oobn, _, _, err := unix.Recvmsg(fd, rsp, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if n != len(rsp) {
		return nil, unix.ECONNRESET
	}
	r := &lxcResponse{
		ret:   int32(binary.LittleEndian.Uint32(rsp[0:])),
		value: int64(binary.LittleEndian.Uint64(rsp[8:])),
	}
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				fds, err := unix.ParseUnixRights(&m)
				if err == nil {
					r.fds = append(r.fds, fds...)
				}
			}
		}
	}
	datalen := int(int32(binary.LittleEndian.Uint32(rsp[4:])))
	if datalen > lxcCmdDataMax {
		r.close()
		return nil, unix.E2BIG
	}
	if datalen > 0 {
		r.data = make([]byte, datalen)
		for got := 0; got < datalen; {
			m, err := unix.Read(fd, r.data[got:])
			if err != nil || m == 0 {
				r.close()
				return nil, unix.ECONNRESET
			}
			got += m
		}
	}
	return r, nil
}

func (r *lxcResponse) close() {
	for _, fd := range r.fds {
		unix.Close(fd)
	}
	r.fds = nil
}

// fd returns the one descriptor a response carries, or -1.
func (r *lxcResponse) fd() int {
	if r.ret < 0 || len(r.fds) == 0 {
		r.close()
		return -1
	}
	fd := r.fds[0]
	for _, extra := range r.fds[1:] {
		unix.Close(extra)
	}
	r.fds = nil
	return fd
}

// lxcCgroupFDs returns the container's cgroup directories (one per
// writable hierarchy), through GET_CGROUP_CTX, or else the unified one
// through GET_CGROUP2_FD.
func lxcCgroupFDs(lxcpath, name string) []int {
	r, err := lxcCommand(lxcpath, name, cmdGetCgroupCtx, make([]byte, cgroupCtxSize), cgroupCtxMaxFD)
	if err == nil && r.ret == 0 && len(r.fds) > 0 {
		return r.fds
	}
	if r != nil {
		r.close()
	}
	r, err = lxcCommand(lxcpath, name, cmdGetCgroup2FD, nil, 1)
	if err == nil {
		if fd := r.fd(); fd >= 0 {
			return []int{fd}
		}
	}
	return nil
}
