package attach

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nsbox/nsbox/applets/app"
	"github.com/nsbox/nsbox/nsexec"
	"github.com/nsbox/nsbox/procfs"
	"golang.org/x/sys/unix"
)

// terminal is the pty lxc-attach puts between the caller's terminal and
// the command, as LXC does when any of stdin, stdout and stderr is a
// terminal: the command gets a terminal of its own, in the container's
// devpts, as its controlling terminal, so nothing it does (TIOCSTI
// included) reaches the caller's.
type terminal struct {
	once  sync.Once // restore, once, from wherever we end
	ptx   int       // our side
	child int       // the command's side, left open across exec
	peer  int       // the caller's terminal
	log   *os.File
	saved *unix.Termios
}

func isatty(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// terminal makes the pty, or returns nil when no standard descriptor is a
// terminal or the caller has none (then the command runs without one).
func (o *Options) terminal(t *Target) *terminal {
	if !isatty(0) && !isatty(1) && !isatty(2) {
		return nil
	}
	peer, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	ptx, devpts := -1, -1
	if t.lxc {
		// A terminal in the container's own devpts, as LXC makes it.
		if r, err := lxcCommand(o.LXCPath, o.Name, cmdGetDevptsFD, nil, 1); err == nil {
			devpts = r.fd()
		}
	}
	if devpts >= 0 {
		ptx, _ = unix.Openat(devpts, "ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		unix.Close(devpts)
	} else if t.Namespaces&unix.CLONE_NEWNS != 0 {
		ptx, _ = unix.Open(procfs.Path("/proc", t.Pid, "root/dev/pts/ptmx"), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	}
	if ptx < 0 {
		if ptx, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0); err != nil {
			unix.Close(peer)
			return nil
		}
	}
	child := -1
	if unix.IoctlSetPointerInt(ptx, unix.TIOCSPTLCK, 0) == nil {
		fd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(ptx), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
		if errno == 0 {
			child = int(fd)
		}
	}
	if child < 0 {
		unix.Close(ptx)
		unix.Close(peer)
		return nil
	}
	term := &terminal{ptx: ptx, child: child, peer: peer}
	if o.PtyLog != "" {
		f, err := os.OpenFile(o.PtyLog, os.O_RDWR|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
		if err == nil {
			term.log = f
		}
	}
	term.resize()
	return term
}

// resize copies the caller's window size to the pty.
func (term *terminal) resize() {
	if ws, err := unix.IoctlGetWinsize(term.peer, unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(term.ptx, unix.TIOCSWINSZ, ws)
	}
}

// raw puts the caller's terminal in the raw mode LXC's lxc_setup_tios
// sets, remembering how it was.
func (term *terminal) raw() {
	tios, err := unix.IoctlGetTermios(term.peer, unix.TCGETS)
	if err != nil {
		return
	}
	saved := *tios
	term.saved = &saved
	tios.Iflag |= unix.IGNPAR
	tios.Iflag &^= unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXANY | unix.IXOFF | unix.IUCLC
	tios.Lflag &^= unix.TOSTOP | unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL | unix.IEXTEN
	tios.Oflag |= unix.OPOST // LXC 5.0 leaves ONLCR as it is
	tios.Cc[unix.VMIN] = 1
	tios.Cc[unix.VTIME] = 0
	unix.IoctlSetTermios(term.peer, unix.TCSETSF, tios)
}

func (term *terminal) restore() {
	term.once.Do(func() {
		if term.saved != nil {
			unix.IoctlSetTermios(term.peer, unix.TCSETSF, term.saved)
		}
	})
}

// run starts the plan in a child and relays between the caller's
// terminal and the pty until the command ends; it exits with the
// command's status.
func (term *terminal) run(plan *nsexec.Plan, env []string) error {
	if _, err := nsexec.Keep(term.child); err != nil {
		return app.Errorf(err, "cannot pass on the terminal")
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	pid, err := nsexec.Start(plan, os.Args, env)
	unix.Close(term.child)
	if err != nil {
		return app.Errorf(err, "cannot re-execute %s", nsexec.Self)
	}
	// ^C and ^\ reach the command through the pty; one sent to us alone
	// must not leave the terminal raw.
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	// Killed from outside, we go as LXC goes (the command stays), but
	// with the caller's terminal as it was.
	fatal := make(chan os.Signal, 1)
	signal.Notify(fatal, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := (<-fatal).(syscall.Signal)
		term.restore()
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
	}()
	term.raw()
	go func() {
		for range winch {
			term.resize()
		}
	}()
	go copyFD(term.ptx, term.peer, nil)
	done := make(chan struct{})
	go func() {
		copyFD(term.peer, term.ptx, term.log)
		close(done)
	}()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	// The command is gone: what it wrote last is still in the pty. Once
	// nothing else holds the pty open, reading it ends with EIO.
	drain(term.ptx, done)
	term.restore()
	code := 1
	switch {
	case ws.Exited():
		code = ws.ExitStatus()
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	}
	return app.Exit(code)
}

// copyFD copies from one descriptor to the other (and to log) until
// reading fails.
func copyFD(to, from int, log *os.File) {
	buf := make([]byte, 32*1024)
	for {
		n, err := unix.Read(from, buf)
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return
		}
		if log != nil {
			log.Write(buf[:n])
		}
		for b := buf[:n]; len(b) > 0; {
			m, err := unix.Write(to, b)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			b = b[m:]
		}
	}
}

// drain waits for the relay from the pty to finish, or for the pty to
// stay quiet for a moment when a process left behind keeps it open.
func drain(ptx int, done chan struct{}) {
	for {
		fds := []unix.PollFd{{Fd: int32(ptx), Events: unix.POLLIN}}
		n, _ := unix.Poll(fds, 100)
		select {
		case <-done:
			return
		default:
		}
		if n == 0 {
			return
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 && fds[0].Revents&unix.POLLIN == 0 {
			return
		}
	}
}
