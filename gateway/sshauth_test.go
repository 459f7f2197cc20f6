package gateway

import (
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/internal/testutil"
	"golang.org/x/crypto/ssh"
)

func TestKeyAuth(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")

	t.Run("known key", func(t *testing.T) {
		c := e.mustDial("alice", "alice-ws")
		r := run(t, c, "echo hi; echo \"$WSGATE_USER $WSGATE_WORKSPACE\"", nil)
		if r.err != nil || r.stdout != "hi\nalice alice/alice-ws\n" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := e.dialWith("alice-ws", ssh.PublicKeys(testutil.NewSigner(t)))
		if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("dial with an unknown key: %v", err)
		}
	})
	t.Run("suspended user", func(t *testing.T) {
		_, err := e.dial("dave", "alice-ws")
		if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("dial as suspended dave: %v", err)
		}
	})
	t.Run("too many tries", func(t *testing.T) {
		// Seven unknown keys: the server gives up after MaxAuthTries (6)
		// failures, before the good key is tried.
		var keys []ssh.Signer
		for range 7 {
			keys = append(keys, testutil.NewSigner(t))
		}
		keys = append(keys, e.keys["alice"])
		_, err := e.dialWith("alice-ws", ssh.PublicKeys(keys...))
		if err == nil {
			t.Fatal("authenticated after 7 failed keys")
		}
		// Fewer failures than the cap still let the good key in.
		c, err := e.dialWith("alice-ws", ssh.PublicKeys(keys[0], keys[1], e.keys["alice"]))
		if err != nil {
			t.Fatalf("good key after 2 bad ones: %v", err)
		}
		_ = c.Close()
	})
}

// certOpt tweaks a certificate before it is signed.
type certOpt func(*ssh.Certificate)

// cert makes a user certificate for a fresh key, signed by ca.
func cert(t *testing.T, ca ssh.Signer, principals []string, opts ...certOpt) ssh.Signer {
	t.Helper()
	key := testutil.NewSigner(t)
	c := &ssh.Certificate{
		Key:             key.PublicKey(),
		Serial:          42,
		CertType:        ssh.UserCert,
		KeyId:           "test-cert",
		ValidPrincipals: principals,
		ValidAfter:      uint64(time.Now().Add(-time.Minute).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
		Permissions: ssh.Permissions{Extensions: map[string]string{
			"permit-pty": "", "permit-port-forwarding": "", "permit-agent-forwarding": "",
		}},
	}
	for _, o := range opts {
		o(c)
	}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(c, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCertAuth(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")

	ok := func(t *testing.T, s ssh.Signer) *ssh.Client {
		t.Helper()
		c, err := e.dialWith("alice-ws", ssh.PublicKeys(s))
		if err != nil {
			t.Fatalf("dial with certificate: %v", err)
		}
		return c
	}
	refused := func(t *testing.T, s ssh.Signer) {
		t.Helper()
		_, err := e.dialWith("alice-ws", ssh.PublicKeys(s))
		if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("dial with a bad certificate: %v", err)
		}
	}

	t.Run("signed by the CA", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"alice"}))
		if r := run(t, c, "echo $WSGATE_USER", nil); r.stdout != "alice\n" {
			t.Fatalf("got %+v", r)
		}
		var info sessions.Info
		testutil.Eventually(t, "session listed", func() bool {
			for _, s := range e.sessions.Connections("") {
				if s.Cert {
					info = s
					return true
				}
			}
			return false
		})
		if info.User != "alice" || info.CertSerial != 42 || info.CertKeyID != "test-cert" || info.Workspace.String() != "alice/alice-ws" {
			t.Fatalf("session info %+v", info)
		}
	})
	t.Run("unknown principals are skipped", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"nobody", "Not A Name", "alice"}))
		if r := run(t, c, "echo $WSGATE_USER", nil); r.stdout != "alice\n" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		refused(t, cert(t, testutil.NewSigner(t), []string{"alice"}))
	})
	t.Run("expired", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.ValidAfter = uint64(time.Now().Add(-2 * time.Hour).Unix())
			c.ValidBefore = uint64(time.Now().Add(-time.Hour).Unix())
		}))
	})
	t.Run("not yet valid", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.ValidAfter = uint64(time.Now().Add(time.Hour).Unix())
		}))
	})
	t.Run("principal is no user", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"mallory"}))
	})
	t.Run("two users", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice", "bob"}))
	})
	t.Run("suspended principal", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"dave"}))
	})
	t.Run("host certificate", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) { c.CertType = ssh.HostCert }))
	})
	t.Run("unknown critical option", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.CriticalOptions = map[string]string{"verify-required": ""}
		}))
	})
	t.Run("source-address elsewhere", func(t *testing.T) {
		refused(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.CriticalOptions = map[string]string{"source-address": "10.0.0.0/8,192.0.2.7"}
		}))
	})
	t.Run("source-address matches", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.CriticalOptions = map[string]string{"source-address": "10.0.0.0/8,127.0.0.1/32"}
		}))
		if r := run(t, c, "true", nil); r.err != nil {
			t.Fatal(r.err)
		}
	})
	t.Run("force-command", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			c.CriticalOptions = map[string]string{"force-command": "echo forced; exit 3"}
		}))
		r := run(t, c, "echo asked", nil)
		if r.stdout != "forced\n" || r.exit != 3 {
			t.Fatalf("exec under force-command: %+v", r)
		}
		// The shell is replaced too.
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		out := &testutil.Buffer{}
		s.Stdout = out
		if err := s.Shell(); err != nil {
			t.Fatal(err)
		}
		_ = s.Wait()
		if out.String() != "forced\n" {
			t.Fatalf("shell under force-command printed %q", out.String())
		}
	})
	t.Run("no permit-pty", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			delete(c.Extensions, "permit-pty")
		}))
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.RequestPty("xterm", 24, 80, nil); err == nil {
			t.Fatal("pty granted to a certificate without permit-pty")
		}
	})
	t.Run("no permit-port-forwarding", func(t *testing.T) {
		c := ok(t, cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
			delete(c.Extensions, "permit-port-forwarding")
		}))
		_, err := c.Dial("tcp", "127.0.0.1:1")
		if err == nil || !strings.Contains(err.Error(), "not permitted") {
			t.Fatalf("direct-tcpip without permit-port-forwarding: %v", err)
		}
		if _, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
			t.Fatal("tcpip-forward granted without permit-port-forwarding")
		}
	})
	t.Run("no CA configured", func(t *testing.T) {
		e2 := newEnv(t, withSSH(func(c *sshfront.Config) { c.UserCAKeys = nil }))
		_, err := e2.dialWith("alice-ws", ssh.PublicKeys(cert(t, e.ca, []string{"alice"})))
		if err == nil {
			t.Fatal("certificate accepted with no CA configured")
		}
	})
}

// TestCertClock checks validity against the configured clock, not the
// machine's.
func TestCertClock(t *testing.T) {
	future := time.Now().Add(48 * time.Hour)
	e := newEnv(t, withNow(func() time.Time { return future }))
	_, err := e.dialWith("alice-ws", ssh.PublicKeys(cert(t, e.ca, []string{"alice"})))
	if err == nil {
		t.Fatal("a certificate valid for an hour was accepted two days later")
	}
}

// offerOnly offers a public key it does not hold: it cannot sign.
type offerOnly struct{ pub ssh.PublicKey }

func (s offerOnly) PublicKey() ssh.PublicKey { return s.pub }
func (s offerOnly) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	return nil, errors.New("no private key")
}

// impostor offers a public key it does not hold and signs with another.
type impostor struct {
	pub   ssh.PublicKey
	other ssh.Signer
}

func (s impostor) PublicKey() ssh.PublicKey { return s.pub }
func (s impostor) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return s.other.Sign(r, data)
}

// TestOnlyProvenKeysAuthenticate: "none" is refused (gliderlabs would
// accept it on its own), a key the client cannot sign for names no one, and
// a key only offered never becomes the connection's identity.
func TestOnlyProvenKeysAuthenticate(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	authenticated := func() int { return strings.Count(e.logs.String(), `msg="ssh authenticated"`) }

	t.Run("none", func(t *testing.T) {
		_, err := e.dialWith("alice-ws")
		if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("dial without authentication: %v", err)
		}
		if n := authenticated(); n != 0 {
			t.Fatalf("%d connections authenticated", n)
		}
	})
	t.Run("key not held", func(t *testing.T) {
		_, err := e.dialWith("alice-ws", ssh.PublicKeys(impostor{pub: e.keys["alice"].PublicKey(), other: testutil.NewSigner(t)}))
		if err == nil {
			t.Fatal("authenticated with alice's key signed by another")
		}
		if n := authenticated(); n != 0 {
			t.Fatalf("%d connections authenticated", n)
		}
	})
	t.Run("offered then another", func(t *testing.T) {
		// Alice's key is offered (and accepted as one that could
		// authenticate), then bob signs with his own: the connection is
		// bob's. x/crypto tries each method once unless AuthCallback
		// picks them.
		methods := []ssh.AuthMethod{
			ssh.PublicKeys(offerOnly{pub: e.keys["alice"].PublicKey()}),
			ssh.PublicKeys(e.keys["bob"]),
		}
		c, err := ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
			User: "alice/alice-ws",
			AuthCallback: func(*ssh.ClientAuthContext) (ssh.AuthMethod, error) {
				if len(methods) == 0 {
					return nil, errors.New("no more methods")
				}
				m := methods[0]
				methods = methods[1:]
				return m, nil
			},
			HostKeyCallback: ssh.FixedHostKey(e.hostKey),
			Timeout:         5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if len(methods) != 0 {
			t.Fatal("bob's key was not tried")
		}
		if r := run(t, c, "echo $WSGATE_USER", nil); r.err != nil || r.stdout != "bob\n" {
			t.Fatalf("got %+v, want bob", r)
		}
		if n := authenticated(); n != 1 || !strings.Contains(e.logs.String(), "user=bob") {
			t.Fatalf("%d connections authenticated, want one of bob's", n)
		}
	})
}
