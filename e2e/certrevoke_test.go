package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

// TestCertRevokedE2E: with real OpenSSH and ssh-keygen, a certificate's
// live session is dropped when a site admin revokes its serial, and the
// certificate is refused at the next login; a certificate whose key is
// listed in --revoked-keys is refused too.
func TestCertRevokedE2E(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "ssh-keygen")
	tmp := t.TempDir()
	keygen := func(args ...string) {
		t.Helper()
		if r := run(t, 10*time.Second, nil, "ssh-keygen", args...); r.code != 0 {
			t.Fatalf("ssh-keygen %v: %s", args, r.stderr)
		}
	}
	ca := filepath.Join(tmp, "ca")
	keygen("-q", "-t", "ed25519", "-N", "", "-f", ca)
	newCert := func(name, serial string) string {
		key := filepath.Join(tmp, name)
		keygen("-q", "-t", "ed25519", "-N", "", "-f", key)
		keygen("-q", "-s", ca, "-I", name, "-n", "alice", "-z", serial, "-V", "-5m:+1h", key+".pub")
		return key
	}
	listed := newCert("listed", "900")
	revokedKeys := filepath.Join(tmp, "revoked_keys")
	pub, err := os.ReadFile(listed + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(revokedKeys, append([]byte("# revoked\n"), pub...), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "gw")
	agentToken := seedServer(t, dir)
	rootToken := acl.NewSecret(acl.APITokenPrefix)
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, err := range []error{
		st.CreateUser(ctx, acl.User{Name: "root", SiteAdmin: true}),
		st.CreateToken(ctx, acl.Token{ID: "root1", User: "root", Name: "test", Hash: acl.HashToken(rootToken)}),
		st.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	d := startServer(t, dir, "--user-ca-keys", ca+".pub", "--revoked-keys", revokedKeys)
	admin := func(args ...string) result {
		env := append(os.Environ(), "WSGATE_URL="+d.url, "WSGATE_TOKEN="+rootToken, "HOME="+t.TempDir())
		return runWith(t, 30*time.Second, env, nil, wsgateBin, args...)
	}
	startWorkspaceAgent(t, d.url, agentToken, aliceWS, filepath.Join(dir, "ws"))
	d.waitAgent(t, "alice", "alice-ws")

	sshArgs := func(key string) []string {
		return append(d.sshOpts(key), "-o", "CertificateFile="+key+"-cert.pub", "-p", d.sshPort, "-l", "alice-ws", d.sshHost)
	}
	good := newCert("good", "777")
	live := startLiveSSH(t, "alice (certificate 777)", nil, sshArgs(good)...)
	start := time.Now()
	if r := admin("certs", "revoke", "--serial", "777"); r.code != 0 {
		t.Fatalf("certs revoke: %+v", r)
	}
	live.expectDropped(t, start, "your SSH certificate was revoked")
	for name, key := range map[string]string{"revoked serial": good, "key in --revoked-keys": listed} {
		r := run(t, 30*time.Second, nil, "ssh", append(sshArgs(key), "echo in")...)
		if r.code != 255 || !strings.Contains(r.stderr, "Permission denied") {
			t.Fatalf("%s: code %d stdout %q stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
	// Another certificate still logs in.
	if r := run(t, 30*time.Second, nil, "ssh", append(sshArgs(newCert("other", "778")), `echo "$WSGATE_USER"`)...); r.code != 0 || r.stdout != "alice\n" {
		t.Fatalf("a certificate not revoked: %+v", r)
	}
}
