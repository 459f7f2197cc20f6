package main

import (
	"errors"
	"os/exec"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/local/bin/wsgate": "/usr/local/bin/wsgate",
		"/opt/my tools/wsgate":  "'/opt/my tools/wsgate'",
		"/tmp/it's/wsgate":      `'/tmp/it'\''s/wsgate'`,
		"/tmp/100%/wsgate":      "'/tmp/100%%/wsgate'",
		"/tmp/$HOME/`x`/wsgate": "'/tmp/$HOME/`x`/wsgate'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	// What the shell makes of a quoted path is the path (ssh would first
	// turn %% back into %).
	for _, p := range []string{"/opt/my tools/wsgate", "/tmp/it's/wsgate", "/tmp/$HOME/`x`/wsgate"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shellQuote(p)).Output()
		if err != nil || string(out) != p {
			t.Errorf("sh read %q back as %q (%v)", p, out, err)
		}
	}
}

func TestExitStatus(t *testing.T) {
	ctx := t.Context()
	if err := exitStatus(ctx, nil); err != nil {
		t.Fatalf("nil: %v", err)
	}
	var ee *exitError
	if err := exitStatus(ctx, &ssh.ExitMissingError{}); !errors.As(err, &ee) || ee.code != 255 {
		t.Fatalf("missing status: %v", err)
	}
	if err := exitStatus(ctx, errors.New("connection lost")); errors.As(err, &ee) {
		t.Fatalf("a lost connection became exit %d", ee.code)
	}
	if n := signalNumber("TERM"); n != 15 {
		t.Fatalf("TERM = %d", n)
	}
	if n := signalNumber("NOPE"); n != 127 {
		t.Fatalf("unknown signal = %d", n)
	}
}
