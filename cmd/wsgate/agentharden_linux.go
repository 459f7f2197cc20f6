package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// hardenAgent marks the agent non-dumpable: processes of its own OS user
// (sessions, when they share it) can then neither ptrace it nor read its
// memory or environment through /proc, which become root's. Every exec
// resets the flag, so each agent process sets it first thing.
func hardenAgent() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return nil
}

// selfExe is how the agent runs its own binary again: /proc/self/exe is
// the running binary even after a package upgrade replaced the file.
const selfExe = "/proc/self/exe"
