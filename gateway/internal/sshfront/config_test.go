package sshfront

import (
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
)

func TestConfigValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "acl.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	az, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sessions.NewRegistry(sessions.Config{Gen: az.Gen})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	host, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	agents := tunnel.NewRegistry(tunnel.RegistryConfig{})
	t.Cleanup(func() { _ = agents.Close() })
	base := Config{Access: az, Sessions: reg, Agents: agents, HostSigner: host}
	for name, tweak := range map[string]func(*Config){
		"no access":     func(c *Config) { c.Access = nil },
		"no sessions":   func(c *Config) { c.Sessions = nil },
		"no agents":     func(c *Config) { c.Agents = nil },
		"no host key":   func(c *Config) { c.HostSigner = nil },
		"bad suffix":    func(c *Config) { c.HostnameSuffix = "Co der" },
		"negative":      func(c *Config) { c.HandshakeTimeout = -1 },
		"nil CA key":    func(c *Config) { c.UserCAKeys = []ssh.PublicKey{nil} },
		"negative idle": func(c *Config) { c.IdleTimeout = -time.Second },
	} {
		cfg := base
		tweak(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	if c.HostnameSuffix != "coder" || c.HandshakeTimeout != 10*time.Second || c.MaxUnauthenticated != 256 || c.MaxAuthTries != 6 || c.Now == nil || c.Logger == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
}
