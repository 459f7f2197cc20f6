package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRefusals: only the owner gets in to an unshared workspace, and a
// missing workspace looks exactly like a forbidden one.
func TestRefusals(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)

	t.Run("unshared_user", func(t *testing.T) {
		for _, user := range []string{"bob", "carol"} {
			r := d.sshRunLoud(t, user, "alice-ws", "echo should-not-run")
			if r.code == 0 || strings.Contains(r.stdout, "should-not-run") {
				t.Fatalf("%s got in: code %d stdout %q", user, r.code, r.stdout)
			}
			mustContain(t, user+" stderr", r.stderr, `wsgate: workspace "alice-ws" not found or access denied`)
		}
	})

	t.Run("missing_and_forbidden_look_alike", func(t *testing.T) {
		forbidden := d.sshRunLoud(t, "bob", "alice--alice-ws", "true")
		missing := d.sshRunLoud(t, "bob", "alice--no-such-ws", "true")
		norm := func(s string) string {
			return strings.NewReplacer("alice--alice-ws", "X", "alice--no-such-ws", "X").Replace(s)
		}
		if forbidden.code != missing.code || norm(forbidden.stderr) != norm(missing.stderr) {
			t.Fatalf("forbidden (%d %q) and missing (%d %q) differ", forbidden.code, forbidden.stderr, missing.code, missing.stderr)
		}
	})

	t.Run("unknown_key", func(t *testing.T) {
		requireTool(t, "ssh-keygen")
		key := filepath.Join(t.TempDir(), "stranger")
		run(t, 10*time.Second, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
		args := append(d.sshOpts(key), "-p", d.sshPort, "-l", "alice-ws", d.sshHost, "echo in")
		r := run(t, 30*time.Second, nil, "ssh", args...)
		if r.code != 255 || strings.Contains(r.stdout, "in") {
			t.Fatalf("unknown key: code %d stdout %q", r.code, r.stdout)
		}
		mustContain(t, "stderr", r.stderr, "Permission denied")
	})
}

// TestCertificates: user certificates from the trusted CA log in as their
// principal; other CAs and expired certificates are refused.
func TestCertificates(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "ssh-keygen")
	tmp := t.TempDir()
	keygen := func(args ...string) {
		t.Helper()
		if r := run(t, 10*time.Second, nil, "ssh-keygen", args...); r.code != 0 {
			t.Fatalf("ssh-keygen %v: %s", args, r.stderr)
		}
	}
	ca, otherCA := filepath.Join(tmp, "ca"), filepath.Join(tmp, "other-ca")
	keygen("-q", "-t", "ed25519", "-N", "", "-f", ca)
	keygen("-q", "-t", "ed25519", "-N", "", "-f", otherCA)
	d := startDev(t, "--user-ca-keys", ca+".pub")

	// newCert makes a fresh key (unknown to the store) with a certificate
	// for principal, signed by signer, valid for validity.
	newCert := func(name, signer, principal, validity string, opts ...string) string {
		key := filepath.Join(tmp, name)
		keygen("-q", "-t", "ed25519", "-N", "", "-f", key)
		args := append([]string{"-q", "-s", signer, "-I", name, "-n", principal, "-V", validity}, opts...)
		keygen(append(args, key+".pub")...)
		return key
	}
	login := func(key, command string) result {
		args := append(d.sshOpts(key), "-o", "CertificateFile="+key+"-cert.pub", "-p", d.sshPort, "-l", "alice-ws", d.sshHost, command)
		return run(t, 30*time.Second, nil, "ssh", args...)
	}

	t.Run("trusted_ca", func(t *testing.T) {
		r := login(newCert("good", ca, "alice", "-5m:+1h"), `echo "$WSGATE_USER"`)
		if r.code != 0 || r.stdout != "alice\n" {
			t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("force_command", func(t *testing.T) {
		r := login(newCert("forced", ca, "alice", "-5m:+1h", "-O", "force-command=echo forced"), "echo asked")
		if r.code != 0 || r.stdout != "forced\n" {
			t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	for _, c := range []struct{ name, signer, principal, validity string }{
		{"wrong_ca", otherCA, "alice", "-5m:+1h"},
		{"expired", ca, "alice", "-2h:-1h"},
		{"unknown_principal", ca, "mallory", "-5m:+1h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := login(newCert(c.name, c.signer, c.principal, c.validity), "echo in")
			if r.code != 255 || r.stdout != "" {
				t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			mustContain(t, "stderr", r.stderr, "Permission denied")
		})
	}
	t.Run("no_access", func(t *testing.T) {
		// carol's certificate proves who she is; she has no access to
		// alice-ws, so she is refused while authenticating, with the line.
		key := newCert("carols", ca, "carol", "-5m:+1h")
		// At LogLevel INFO, OpenSSH's default: it prints banners from there.
		opts := d.sshOpts(key)
		opts[slices.Index(opts, "LogLevel=ERROR")] = "LogLevel=INFO"
		args := append(opts, "-o", "CertificateFile="+key+"-cert.pub", "-p", d.sshPort, "-l", "alice-ws", d.sshHost, "echo in")
		r := run(t, 30*time.Second, nil, "ssh", args...)
		if r.code != 255 || r.stdout != "" {
			t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		mustContain(t, "stderr", r.stderr, `wsgate: workspace "alice-ws" not found or access denied`)
	})
	t.Run("source_address", func(t *testing.T) {
		r := login(newCert("elsewhere", ca, "alice", "-5m:+1h", "-O", "source-address=10.9.8.7/32"), "echo in")
		if r.code != 255 {
			t.Fatalf("cert bound to another source address accepted: %d %q", r.code, r.stdout)
		}
	})
}
