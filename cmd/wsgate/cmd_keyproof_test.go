package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// keyPair writes a fresh ed25519 key to dir/name and dir/name.pub (the
// private key encrypted when passphrase is set) and returns it.
func keyPair(t *testing.T, dir, name, passphrase string) (ed25519.PrivateKey, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sp), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, ssh.FingerprintSHA256(sp)
}

// serveAgent runs an ssh-agent holding keys on a Unix socket and returns
// its path.
func serveAgent(t *testing.T, keys ...ed25519.PrivateKey) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "agent") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); os.RemoveAll(dir) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _ = agent.ServeAgent(kr, c) }()
		}
	}()
	return sock
}

func (c *cliEnv) owner(fp string) string {
	c.t.Helper()
	u, err := c.store.UserByKeyFingerprint(c.t.Context(), fp)
	if err != nil {
		return ""
	}
	return u.Name
}

func TestKeysAddProvesPossession(t *testing.T) {
	c := newCLIEnv(t)
	c.user("root", true)
	c.user("alice", false)
	c.user("mallory", false)
	dir := t.TempDir()

	// The private key file beside the .pub signs.
	_, fileFP := keyPair(t, dir, "file", "")
	c.ok("alice", "users", "keys", "add", "@"+filepath.Join(dir, "file.pub"))
	if got := c.owner(fileFP); got != "alice" {
		t.Fatalf("key from file belongs to %q", got)
	}

	// ssh-agent signs; the .pub alone is enough then.
	agentKey, agentFP := keyPair(t, dir, "agent", "")
	os.Remove(filepath.Join(dir, "agent"))
	r := c.runEnv("alice", []string{"SSH_AUTH_SOCK=" + serveAgent(t, agentKey)}, "", "users", "keys", "add", "@"+filepath.Join(dir, "agent.pub"))
	if r.code != 0 || c.owner(agentFP) != "alice" {
		t.Fatalf("add with agent: exit %d, owner %q\n%s", r.code, c.owner(agentFP), r.stderr)
	}

	// A passphrase-protected file says to use ssh-agent.
	_, lockedFP := keyPair(t, dir, "locked", "secret")
	c.fails("alice", "ssh-add "+filepath.Join(dir, "locked"), "users", "keys", "add", "@"+filepath.Join(dir, "locked.pub"))
	os.Remove(filepath.Join(dir, "locked"))
	// No private key anywhere: refused, and mallory cannot claim alice's
	// key either (it is public, its private half is not hers).
	c.fails("mallory", "needs proof that you hold its private key", "users", "keys", "add", "@"+filepath.Join(dir, "locked.pub"))
	if got := c.owner(lockedFP); got != "" {
		t.Fatalf("unproven key belongs to %q", got)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "locked.pub"))
	c.must(err)
	c.fails("mallory", "needs proof", "users", "keys", "add", strings.TrimSpace(string(pub)))

	// A site admin adds for another user without proof; a key someone
	// holds is refused without naming them.
	c.ok("root", "users", "keys", "add", "mallory", "@"+filepath.Join(dir, "locked.pub"))
	r = c.run("root", "users", "keys", "add", "root", "@"+filepath.Join(dir, "file.pub"))
	if r.code == 0 || strings.Contains(r.stderr, "alice") {
		t.Fatalf("root adding alice's key to root: exit %d, %s", r.code, r.stderr)
	}
	c.fails("root", "registered to another account", "users", "keys", "add", "mallory", "@"+filepath.Join(dir, "file.pub"))
}

func TestKeysAddManualSignature(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	c := newCLIEnv(t)
	c.user("alice", false)
	dir := t.TempDir()
	_, fp := keyPair(t, dir, "k", "")
	chFile := filepath.Join(dir, "challenge.txt")
	c.must(os.WriteFile(chFile, []byte(c.ok("alice", "users", "keys", "challenge", "@"+filepath.Join(dir, "k.pub"))), 0o600))
	// A signature in another namespace is refused.
	sign := func(ns string) {
		os.Remove(chFile + ".sig")
		out, err := exec.Command("ssh-keygen", "-Y", "sign", "-n", ns, "-f", filepath.Join(dir, "k"), chFile).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	sign("file")
	c.fails("alice", "namespace", "users", "keys", "add", "@"+filepath.Join(dir, "k.pub"), "--signature", chFile+".sig")
	sign(apitypes.KeyProofNamespace)
	// The private key is not used: the signature given is.
	os.Remove(filepath.Join(dir, "k"))
	c.ok("alice", "users", "keys", "add", "@"+filepath.Join(dir, "k.pub"), "--signature", chFile+".sig")
	if got := c.owner(fp); got != "alice" {
		t.Fatalf("key belongs to %q", got)
	}
}
