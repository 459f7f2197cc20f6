package agent

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// parkUntilExit returns once the child pid has exited, without reaping it:
// a pidfd becomes readable when its process exits, and waitid with
// WNOWAIT checks that without consuming the exit status. The pidfd is a
// non-blocking file in the netpoller, so the waiting goroutine holds no
// thread. An error means pidfds are unavailable (Linux before 5.4, or a
// seccomp filter): the caller waits the blocking way.
func parkUntilExit(pid int) error {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) { // PIDFD_NONBLOCK is Linux 5.10
		if fd, err = unix.PidfdOpen(pid, 0); err == nil {
			err = unix.SetNonblock(fd, true)
			if err != nil {
				_ = unix.Close(fd)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("pidfd: %w", err)
	}
	var waitErr error
	err = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		for {
			waitErr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
			if !errors.Is(waitErr, unix.EINTR) {
				break
			}
		}
		if waitErr != nil && !errors.Is(waitErr, unix.EAGAIN) {
			return true // give up on the poller; Wait will tell
		}
		// si_signo is SIGCHLD once the child has exited, 0 while it runs.
		waitErr = nil
		return info.Signo != 0
	})
	if err != nil {
		return fmt.Errorf("poll pidfd: %w", err)
	}
	if waitErr != nil {
		return fmt.Errorf("waitid pidfd: %w", waitErr)
	}
	return nil
}
