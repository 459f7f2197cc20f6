package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// newUser creates user as root through the CLI and gives them an API token
// where d.cli finds it.
func (d *devEnv) newUser(t *testing.T, user string) {
	t.Helper()
	d.cli(t, "root", "users", "create", user)
	req, err := http.NewRequest("POST", d.url+"/api/v1/users/"+user+"/tokens", strings.NewReader(`{"name":"e2e"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token(t, "root"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created apitypes.CreateTokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Secret == "" {
		t.Fatalf("token for %s: %s %v", user, resp.Status, err)
	}
	dir := filepath.Join(d.dir, "users", user)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(created.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeySquatRefused: mallory, holding only dave's public key, cannot
// register it; dave registers it by proving he holds the private key, a
// site admin cannot then give it to mallory, and dave's ssh lands as dave.
func TestKeySquatRefused(t *testing.T) {
	requireTool(t, "ssh")
	keygen := requireTool(t, "ssh-keygen")
	d := startRevokeServer(t) // root is a site admin; dave exists
	d.newUser(t, "mallory")
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "dave,mallory")

	// dave's new key, not yet registered anywhere.
	daveKey := filepath.Join(t.TempDir(), "id_ed25519")
	if r := run(t, 30*time.Second, nil, keygen, "-q", "-t", "ed25519", "-N", "", "-C", "dave", "-f", daveKey); r.code != 0 {
		t.Fatalf("ssh-keygen: %s", r.stderr)
	}
	pub, err := os.ReadFile(daveKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	// mallory has dave's public key (public keys are public), not his
	// private one.
	mallorysCopy := filepath.Join(t.TempDir(), "dave.pub")
	if err := os.WriteFile(mallorysCopy, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	r := d.wsgateCLI(t, "mallory", "users", "keys", "add", "@"+mallorysCopy)
	if r.code == 0 {
		t.Fatalf("mallory registered dave's key: %s", r.stdout)
	}
	mustContain(t, "mallory's add", r.stderr, "needs proof that you hold its private key")

	sshAsDave := func() result {
		args := append(d.sshOpts(daveKey), "-p", d.sshPort, "-l", "alice-ws", d.sshHost, `echo "$WSGATE_USER"`)
		return run(t, 60*time.Second, nil, "ssh", args...)
	}
	if r := sshAsDave(); r.code == 0 {
		t.Fatalf("dave's key got in before anyone registered it, as %q", r.stdout)
	}

	d.cli(t, "dave", "users", "keys", "add", "@"+daveKey+".pub")
	r = d.wsgateCLI(t, "root", "users", "keys", "add", "mallory", "@"+mallorysCopy)
	if r.code == 0 {
		t.Fatal("root gave dave's key to mallory")
	}
	mustContain(t, "root's add for mallory", r.stderr, "registered to another account")
	if strings.Contains(r.stderr, "dave") {
		t.Fatalf("refusal names the key's owner: %s", r.stderr)
	}

	if r := sshAsDave(); r.code != 0 || r.stdout != "dave\n" {
		t.Fatalf("ssh with dave's key: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
