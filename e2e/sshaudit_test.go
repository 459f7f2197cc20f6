package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSSHAudit: ssh-audit finds no failure on the front door, and no
// warning but its "unknown algorithm" notes for algorithms newer than the
// tool (mlkem768x25519-sha256, the strict-kex marker).
func TestSSHAudit(t *testing.T) {
	requireTool(t, "ssh-audit")
	d := startDev(t)
	// Its exit status says "warning" for unknown algorithms too: read the
	// report instead.
	r := run(t, 60*time.Second, nil, "ssh-audit", "-n", "-p", d.sshPort, d.sshHost)
	if !strings.Contains(r.stdout, "(kex) curve25519-sha256") {
		t.Fatalf("no report (code %d): %s %s", r.code, r.stdout, r.stderr)
	}
	var fails, warns int
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.Contains(line, "[fail]"):
			fails++
			t.Errorf("fail: %s", line)
		case strings.Contains(line, "[warn]") && !strings.Contains(line, "unknown algorithm"):
			warns++
			t.Errorf("warning: %s", line)
		}
	}
	for _, want := range []string{"(kex) mlkem768x25519-sha256", "(enc) chacha20-poly1305@openssh.com", "(mac) hmac-sha2-256-etm@openssh.com", "(key) ssh-ed25519"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	t.Logf("ssh-audit: %d fail, %d warnings besides unknown algorithms", fails, warns)
}
