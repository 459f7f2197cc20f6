package agent

import (
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalByName maps an SSH signal name (RFC 4254 §6.9: "TERM", no "SIG"
// prefix) to the signal; 0 for names this system does not know.
func signalByName(name string) syscall.Signal {
	if name == "" || strings.HasPrefix(name, "SIG") {
		return 0
	}
	return unix.SignalNum("SIG" + name)
}

// signalName is the SSH name of sig for exit-signal: "TERM" for SIGTERM.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return "UNKNOWN"
}
