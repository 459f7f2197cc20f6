package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// sshRunLoud is sshRun at OpenSSH's default LogLevel (INFO): the client
// prints authentication banners only from that level, and the gateway
// refuses users without access during authentication, with a banner.
func (d *devEnv) sshRunLoud(t testing.TB, user, target string, command ...string) result {
	t.Helper()
	args := append(d.sshArgs(user, target), command...)
	for i, a := range args {
		if a == "LogLevel=ERROR" {
			args[i] = "LogLevel=INFO"
		}
	}
	return run(t, 60*time.Second, nil, "ssh", args...)
}

// TestForwardOnlyRefusedDuringAuthentication: carol, without access to
// alice-ws, asks only for a port forward (ssh -N -L PORT:127.0.0.1:1). She is refused while
// authenticating: OpenSSH prints the gateway's line and exits 255 at
// once, instead of holding a connection whose every forward is refused.
func TestForwardOnlyRefusedDuringAuthentication(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	fwd := fmt.Sprintf("127.0.0.1:%d:127.0.0.1:1", freePort(t))
	start := time.Now()
	r := d.sshRunLoud(t, "carol", "alice-ws", "-N", "-L", fwd)
	took := time.Since(start)
	if r.code != 255 {
		t.Fatalf("code %d (after %v), want 255; stderr %q", r.code, took, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, `wsgate: workspace "alice-ws" not found or access denied`)
	if strings.Count(r.stderr, "not found or access denied") != 1 {
		t.Fatalf("the line is printed more than once: %q", r.stderr)
	}
	// Refused at authentication: "Permission denied" is OpenSSH's line
	// for a failed login, which a refusal after login would not print.
	mustContain(t, "stderr", r.stderr, "Permission denied")
	if took > 10*time.Second {
		t.Fatalf("refusal took %v", took)
	}
	t.Logf("refused in %v: %q", took.Round(time.Millisecond), r.stderr)
}
