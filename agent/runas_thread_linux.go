//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || ppc64 || s390x || loong64 || mips64 || mips64le)

package agent

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// asUser runs fn on an OS thread that has u's identity (uid, gid,
// supplementary groups, and so none of root's capabilities): socket files
// it creates belong to u, and it may connect, bind and create only where u
// may. fn must do its system calls itself, in this goroutine.
//
// Why a thread and not a helper process: the kernel checks permissions
// against the calling thread's credentials, so switching one thread is
// exact (groups, CAP_NET_BIND_SERVICE for ports below 1024, directory
// permissions), needs no protocol to pass descriptors back, and costs a
// thread, not a fork and exec. setfsuid alone would keep root's groups and
// network capabilities. The switch uses raw per-thread system calls (the
// syscall package's Setuid changes every thread); the goroutine never
// unlocks its thread, so the runtime ends the thread when fn returns, and
// the runtime creates new threads from its template thread, never from a
// locked one, so the identity cannot leak into another goroutine.
func asUser(u osUser, fn func() error) error {
	if u.cred == nil {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		if err := switchThread(u.cred); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func switchThread(c *syscall.Credential) error {
	var groups unsafe.Pointer
	if len(c.Groups) > 0 {
		groups = unsafe.Pointer(&c.Groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(c.Groups)), uintptr(groups), 0); e != 0 {
		return fmt.Errorf("setgroups: %w", e)
	}
	gid, uid := uintptr(c.Gid), uintptr(c.Uid)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); e != 0 {
		return fmt.Errorf("setresgid %d: %w", c.Gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); e != 0 {
		return fmt.Errorf("setresuid %d: %w", c.Uid, e)
	}
	return nil
}
