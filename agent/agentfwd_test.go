package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestAgentForwarding(t *testing.T) {
	haveCommand(t, "ssh-add")
	client := dialConn(t, newTestAgent(t))

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv, Comment: "bob@laptop"}); err != nil {
		t.Fatal(err)
	}
	client.forwardAgent(keyring)
	s := newSession(t, client)
	if err := s.request("auth-agent-req@openssh.com", nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput(`echo "sock=$SSH_AUTH_SOCK"; ssh-add -l`)
	if err != nil {
		t.Fatalf("ssh-add -l: %v\n%s", err, out)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if !strings.Contains(got, ssh.FingerprintSHA256(sshPub)) || !strings.Contains(got, "bob@laptop") {
		t.Fatalf("ssh-add -l does not list the forwarded key:\n%s", got)
	}

	// The socket's directory is gone once the session has ended.
	var sock string
	for _, line := range strings.Split(got, "\n") {
		if v, ok := strings.CutPrefix(line, "sock="); ok {
			sock = v
		}
	}
	if sock == "" {
		t.Fatalf("no SSH_AUTH_SOCK in:\n%s", got)
	}
	if _, err := os.Stat(filepath.Dir(sock)); !os.IsNotExist(err) {
		t.Fatalf("agent socket directory %s still there after the session: %v", filepath.Dir(sock), err)
	}

	// Without the request there is no socket.
	out, err = newSession(t, client).Output(`echo "sock=${SSH_AUTH_SOCK-none}"`)
	if err != nil || strings.TrimSpace(string(out)) != "sock=none" {
		t.Fatalf("session without agent forwarding: %q %v", out, err)
	}
}
