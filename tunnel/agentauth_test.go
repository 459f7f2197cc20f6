package tunnel

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// keyPolicy is a gateway policy for tests: tokens enrol once, nonces are
// remembered with their binding and expiry (the real gateway's are
// stateless; the wire is the same).
type keyPolicy struct {
	mu     sync.Mutex
	now    time.Time
	tokens map[string]string        // token → uid
	pinned map[string]ssh.PublicKey // uid → key
	nonces map[string]nonceFor
	seq    int
}

type nonceFor struct {
	uid, url string
	expires  time.Time
}

func newKeyPolicy() *keyPolicy {
	return &keyPolicy{now: time.Unix(1_900_000_000, 0), tokens: map[string]string{"tok": "uid1"},
		pinned: map[string]ssh.PublicKey{}, nonces: map[string]nonceFor{}}
}

func (p *keyPolicy) auth(_ context.Context, c Credentials) (Identity, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case c.Token != "" && c.Key != nil:
		uid, ok := p.tokens[c.Token]
		if !ok {
			return Identity{}, errors.New("unknown token")
		}
		return Identity{Key: uid, Header: http.Header{WorkspaceUIDHeader: {uid}}, Commit: func(context.Context) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			delete(p.tokens, c.Token)
			p.pinned[uid] = c.Key
			return nil
		}}, nil
	case c.Signed() && c.Nonce == "":
		p.seq++
		n := fmt.Sprintf("n%d", p.seq)
		p.nonces[n] = nonceFor{c.Workspace, c.URL, p.now.Add(30 * time.Second)}
		return Identity{}, &Challenge{Nonce: n}
	case c.Signed():
		nf, ok := p.nonces[c.Nonce]
		switch {
		case !ok || nf.uid != c.Workspace || nf.url != c.URL:
			return Identity{}, errors.New("nonce for another workspace or URL")
		case !p.now.Before(nf.expires):
			return Identity{}, errors.New("nonce expired")
		}
		key, ok := p.pinned[c.Workspace]
		if !ok {
			return Identity{}, errors.New("unknown workspace")
		}
		if err := VerifySignature(key, c); err != nil {
			return Identity{}, err
		}
		return Identity{Key: c.Workspace}, nil
	}
	return Identity{}, errors.New("no credentials")
}

// memIdentity is an AgentIdentity in memory.
type memIdentity struct {
	mu      sync.Mutex
	token   string
	pending ssh.Signer
	uid     string
	signers []ssh.Signer
	authed  []ssh.PublicKey
}

func (m *memIdentity) Enrolment() (string, ssh.PublicKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.token == "" {
		return "", nil, false
	}
	return m.token, m.pending.PublicKey(), true
}

func (m *memIdentity) Enrolled(uid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uid, m.token, m.signers = uid, "", []ssh.Signer{m.pending}
	return nil
}

func (m *memIdentity) Signers() (string, []ssh.Signer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.uid, m.signers
}

func (m *memIdentity) Authenticated(k ssh.PublicKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.authed = append(m.authed, k)
	return nil
}

func startKeyGateway(t *testing.T, p *keyPolicy) *gateway {
	t.Helper()
	g := startGateway(t, "127.0.0.1:0", nil)
	mux := http.NewServeMux()
	mux.Handle(ConnectPath, g.reg.AgentHandler(p.auth))
	g.srv.Handler = mux
	return g
}

// runOnce runs an agent with id until its tunnel is up once (nil) or it
// gives up on a refusal (that error).
func runOnce(t *testing.T, url string, id AgentIdentity) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, ClientConfig{
		URL: url, Identity: id, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Handler:   func(c net.Conn, _ Header) { _ = c.Close() },
		OnConnect: cancel,
		GiveUp: func(err error, _ bool) bool {
			return errors.Is(err, ErrKeyRefused) || errors.Is(err, ErrEnrolmentRefused)
		},
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func TestAgentEnrolsThenSigns(t *testing.T) {
	p := newKeyPolicy()
	g := startKeyGateway(t, p)
	id := &memIdentity{token: "tok", pending: testutil.NewSigner(t)}
	if err := runOnce(t, g.url, id); err != nil {
		t.Fatalf("enrolment: %v", err)
	}
	if id.uid != "uid1" {
		t.Fatalf("the 101 named workspace %q, want uid1", id.uid)
	}
	// A restart: no token, the pinned key signs.
	if err := runOnce(t, g.url, id); err != nil {
		t.Fatalf("signed upgrade: %v", err)
	}
	if len(id.authed) != 1 || string(id.authed[0].Marshal()) != string(id.pending.PublicKey().Marshal()) {
		t.Fatalf("authenticated keys %v, want the enrolled one", id.authed)
	}
	// The token enrols once.
	again := &memIdentity{token: "tok", pending: testutil.NewSigner(t)}
	if err := runOnce(t, g.url, again); !errors.Is(err, ErrEnrolmentRefused) {
		t.Fatalf("second enrolment with the token: %v, want ErrEnrolmentRefused", err)
	}
}

func TestAgentWrongKeyRefused(t *testing.T) {
	p := newKeyPolicy()
	g := startKeyGateway(t, p)
	id := &memIdentity{token: "tok", pending: testutil.NewSigner(t)}
	if err := runOnce(t, g.url, id); err != nil {
		t.Fatal(err)
	}
	thief := &memIdentity{uid: "uid1", signers: []ssh.Signer{testutil.NewSigner(t)}}
	if err := runOnce(t, g.url, thief); !errors.Is(err, ErrKeyRefused) {
		t.Fatalf("another key: %v, want ErrKeyRefused", err)
	}
	// A replacement not yet pinned is tried first; the pinned key after it.
	id.signers = []ssh.Signer{testutil.NewSigner(t), id.pending}
	if err := runOnce(t, g.url, id); err != nil {
		t.Fatalf("falling back to the pinned key: %v", err)
	}
}

// signedDial asks for a nonce as (askUID, askURL) and presents it signed
// by s as (uid, url), advancing p's clock by wait in between.
func signedDial(t *testing.T, g *gateway, p *keyPolicy, s ssh.Signer, askUID, askURL, uid, url string, wait time.Duration) error {
	t.Helper()
	ep := mustEndpoint(t, g.url)
	_, err := dial(context.Background(), ep, "", http.Header{"Authorization": {formatAuth(askUID, askURL, "", nil)}})
	nonce, ok := "", false
	var re *upgrade.ResponseError
	if errors.As(err, &re) {
		nonce, ok = challengeNonce(re.Header)
	}
	if !ok {
		t.Fatalf("no nonce: %v", err)
	}
	p.mu.Lock()
	p.now = p.now.Add(wait)
	p.mu.Unlock()
	sig, err := s.Sign(rand.Reader, SignedData(nonce, uid, url))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial(context.Background(), ep, "", http.Header{"Authorization": {formatAuth(uid, url, nonce, sig)}})
	if err == nil {
		_ = conn.Close()
	}
	return err
}

func TestSignedUpgradeRefusals(t *testing.T) {
	p := newKeyPolicy()
	g := startKeyGateway(t, p)
	id := &memIdentity{token: "tok", pending: testutil.NewSigner(t)}
	if err := runOnce(t, g.url, id); err != nil {
		t.Fatal(err)
	}
	// Let the tunnel of the enrolment go, so that the good case is not
	// refused as a second agent.
	g.reg.Disconnect("uid1")
	testutil.Eventually(t, "tunnel gone", func() bool { return !g.reg.Connected("uid1") })
	s, url := id.pending, mustEndpoint(t, g.url).base
	for name, c := range map[string]struct {
		askUID, askURL, uid, url string
		wait                     time.Duration
	}{
		"expired nonce":        {"uid1", url, "uid1", url, 31 * time.Second},
		"nonce of another ws":  {"uid2", url, "uid1", url, 0},
		"nonce of another URL": {"uid1", "https://evil.example", "uid1", url, 0},
		"unknown workspace":    {"uid9", url, "uid9", url, 0},
	} {
		if err := signedDial(t, g, p, s, c.askUID, c.askURL, c.uid, c.url, c.wait); !errors.Is(err, errUnauthorized) {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}
	if err := signedDial(t, g, p, s, "uid1", url, "uid1", url, 0); err != nil {
		t.Fatalf("the good case: %v", err)
	}
}
