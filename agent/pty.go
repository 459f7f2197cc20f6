package agent

import (
	"fmt"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// window is a terminal size from pty-req or window-change.
type window struct {
	Cols, Rows, Width, Height uint32
}

// ptyRequest is the RFC 4254 §6.2 pty-req payload.
type ptyRequest struct {
	Term                      string
	Cols, Rows, Width, Height uint32
	Modes                     string
}

// winSlot holds the latest window size. set never blocks: a burst of
// window-change requests (even before the shell exists) collapses into the
// newest size, and the session's resize loop applies it when it gets to it.
type winSlot struct {
	mu      sync.Mutex
	w       window
	changed chan struct{} // capacity 1: "there is a newer size"
}

func newWinSlot() *winSlot { return &winSlot{changed: make(chan struct{}, 1)} }

func (s *winSlot) set(w window) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *winSlot) latest() window {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w
}

// openPty returns a pty pair whose master goes through Go's poller, so
// reads honour deadlines and Close interrupts them. creack/pty leaves the
// master in blocking mode (it calls Fd()), so we switch a close-on-exec
// duplicate to non-blocking and wrap that instead.
func openPty() (ptmx, tty *os.File, err error) {
	p, t, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pty: %w", err)
	}
	defer p.Close()
	fd, err := unix.FcntlInt(p.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Close()
		return nil, nil, fmt.Errorf("dup pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		t.Close()
		return nil, nil, fmt.Errorf("pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), t, nil
}

// setWinsize resizes the terminal. It uses the raw descriptor through
// SyscallConn: File.Fd would put the master back into blocking mode.
func setWinsize(f *os.File, w window) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Row: clamp16(w.Rows), Col: clamp16(w.Cols), Xpixel: clamp16(w.Width), Ypixel: clamp16(w.Height)}
	var ioErr error
	if err := rc.Control(func(fd uintptr) { ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	return ioErr
}

func clamp16(v uint32) uint16 {
	if v > 0xffff {
		return 0xffff
	}
	return uint16(v)
}
