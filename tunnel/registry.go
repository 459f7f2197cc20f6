package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// RegistryConfig configures a gateway's Registry.
type RegistryConfig struct {
	Logger            *slog.Logger  // default: discard
	KeepAliveInterval time.Duration // yamux keepalive, default 15s
	// OnConnect is called after a tunnel for key is registered. For one key,
	// OnConnect and OnDisconnect strictly alternate: when a newer tunnel
	// replaces an older one, the older one's OnDisconnect returns before the
	// newer one's OnConnect is called. Callbacks must not block for long.
	OnConnect func(key string)
	// OnDisconnect is called when the tunnel announced by the last
	// OnConnect(key) ends (closed, replaced, Disconnect, Close).
	OnDisconnect func(key string)
	// CredentialTag names the credential a tunnel was opened with (for
	// example a hash of the agent's token), so that DisconnectUnless can
	// tell an agent that already came back with a new credential from one
	// still on the old. Default: no tag.
	CredentialTag func(token string) string
	// TakeoverAfter is how long a live tunnel's agent must have been
	// silent (and then miss a ping) before another agent of the same key
	// may replace it; until then a second agent is refused. Default 15s.
	TakeoverAfter time.Duration

	// Test knobs: yamux's own two writes per frame (see tunnelConn); the
	// clock of refusals (default time.Now); how long a silent tunnel's
	// agent has to answer a ping (default defaultTakeoverPing).
	splitFrames  bool
	now          func() time.Time
	takeoverPing time.Duration
}

func (c RegistryConfig) withDefaults() RegistryConfig {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.KeepAliveInterval <= 0 {
		c.KeepAliveInterval = defaultKeepAlive
	}
	if c.CredentialTag == nil {
		c.CredentialTag = func(string) string { return "" }
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.TakeoverAfter <= 0 {
		c.TakeoverAfter = defaultTakeoverAfter
	}
	if c.takeoverPing <= 0 {
		c.takeoverPing = defaultTakeoverPing
	}
	return c
}

// Registry holds a gateway's live agent tunnels, one per workspace key.
type Registry struct {
	cfg    RegistryConfig
	log    *slog.Logger
	ctx    context.Context // canceled by Close: aborts authentications
	cancel context.CancelFunc

	mu      sync.Mutex
	tunnels map[string]*agentTunnel // live: what Open and Connected use
	// latest is each key's newest tunnel until its OnDisconnect returned,
	// even if it is no longer live; a newer one waits for it.
	latest    map[string]*agentTunnel
	refusals  map[string]*refusal // see LastRefusal
	takeovers map[string]notice   // see LastTakeover
	closed    bool
	wg        sync.WaitGroup // Handler calls
}

// agentTunnel is one agent connection.
type agentTunnel struct {
	key    string
	tag    string // CredentialTag of the token it was opened with
	remote string // the agent's address, for logs
	sess   *yamux.Session
	// heard is when the agent last sent anything; probing is set while a
	// ping is out (see takeover.go).
	heard   *heardClock
	probing atomic.Bool
	// streams are the session's live streams, woken when it ends.
	streams *liveStreams
	done    chan struct{} // closed once its OnDisconnect has returned
}

// NewRegistry returns an empty Registry; serve its Handler on ConnectPath.
func NewRegistry(cfg RegistryConfig) *Registry {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "tunnel"),
		ctx:       ctx,
		cancel:    cancel,
		tunnels:   make(map[string]*agentTunnel),
		latest:    make(map[string]*agentTunnel),
		refusals:  make(map[string]*refusal),
		takeovers: make(map[string]notice),
	}
}

// enter registers a Handler call; false once the registry is closed.
func (r *Registry) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// register makes t key's tunnel. It returns the previous tunnel of key whose
// OnDisconnect may not have run yet, if any. It fails with errTunnelBusy
// when key has a live tunnel other than replace (see admit): another agent
// got in since admit looked.
func (r *Registry) register(t, replace *agentTunnel) (prev *agentTunnel, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errRegistryClosed
	}
	if live := r.tunnels[t.key]; live != nil && live != replace && !live.sess.IsClosed() {
		return nil, errTunnelBusy
	}
	prev = r.latest[t.key]
	r.latest[t.key] = t
	r.tunnels[t.key] = t
	delete(r.refusals, t.key) // an agent that speaks our version is here
	return prev, nil
}

// unregister removes t from the live tunnels unless a newer tunnel already
// took its key (a replaced tunnel must not remove its successor).
func (r *Registry) unregister(t *agentTunnel) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tunnels[t.key] == t {
		delete(r.tunnels, t.key)
	}
}

// finished marks t's OnDisconnect as done.
func (r *Registry) finished(t *agentTunnel) {
	r.mu.Lock()
	if r.latest[t.key] == t {
		delete(r.latest, t.key)
	}
	r.mu.Unlock()
	close(t.done)
}

// remoteOf is the address of key's live agent, for logs.
func (r *Registry) remoteOf(key string) string {
	if t := r.lookup(key); t != nil {
		return t.remote
	}
	return ""
}

func (r *Registry) lookup(key string) *agentTunnel {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tunnels[key]
}

// serve runs a registered tunnel until it ends and fires the callbacks.
func (r *Registry) serve(t *agentTunnel, prev *agentTunnel) {
	if prev != nil {
		if !prev.sess.IsClosed() {
			r.log.Info("agent tunnel replaced by a newer one", "workspace", t.key)
		}
		closeSession(prev.sess, prev.streams)
		<-prev.done // keep OnConnect/OnDisconnect alternating for the key
	}
	defer r.finished(t)
	if r.cfg.OnConnect != nil {
		r.cfg.OnConnect(t.key)
	}
	// The agent has no business opening streams; refuse them. Accept returns
	// once the session is closed, by either side.
	for {
		s, err := t.sess.AcceptStream()
		if err != nil {
			break
		}
		r.log.Warn("agent opened a stream; closing it", "workspace", t.key)
		_ = s.Close()
	}
	r.unregister(t)
	r.log.Info("agent tunnel closed", "workspace", t.key)
	if r.cfg.OnDisconnect != nil {
		r.cfg.OnDisconnect(t.key)
	}
}

// Open opens a stream to key's agent and writes h on it. It fails with
// ErrAgentNotConnected (wrapped) when key has no live tunnel. The returned
// conn implements HalfCloser; see the package doc for how it closes.
func (r *Registry) Open(ctx context.Context, key string, h Header) (net.Conn, error) {
	hdr, err := h.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("open stream to %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open stream to %s: %w", key, err)
	}
	t := r.lookup(key)
	if t == nil {
		return nil, fmt.Errorf("open stream to %s: %w", key, ErrAgentNotConnected)
	}
	ys, err := t.sess.OpenStream()
	if errors.Is(err, yamux.ErrSessionShutdown) || errors.Is(err, yamux.ErrRemoteGoAway) {
		return nil, fmt.Errorf("open stream to %s: %w: %w", key, ErrAgentNotConnected, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open stream to %s: %w", key, err)
	}
	s := newStream(ys, t.streams)
	// The header fits the initial window, so this write waits only for the
	// tunnel connection, which yamux bounds by connectionWriteTimeout.
	if _, err := s.Write(hdr); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open stream to %s: write header: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open stream to %s: %w", key, err)
	}
	return s, nil
}

// Connected reports whether key has a live tunnel.
func (r *Registry) Connected(key string) bool {
	t := r.lookup(key)
	return t != nil && !t.sess.IsClosed()
}

// Disconnect closes key's tunnel, if any (token rotated, workspace deleted).
// Open fails for key from now until the agent connects again.
func (r *Registry) Disconnect(key string) {
	r.mu.Lock()
	t := r.tunnels[key]
	delete(r.tunnels, key)
	r.mu.Unlock()
	if t != nil {
		r.log.Info("disconnecting agent", "workspace", key)
		closeSession(t.sess, t.streams)
	}
}

// DisconnectUnless closes key's tunnel unless it was opened with the
// credential whose tag is tag: the agent's token was replaced, and only an
// agent that already holds the new one may stay.
func (r *Registry) DisconnectUnless(key, tag string) {
	r.mu.Lock()
	t := r.tunnels[key]
	if t != nil && t.tag == tag {
		t = nil
	} else {
		delete(r.tunnels, key)
	}
	r.mu.Unlock()
	if t != nil {
		r.log.Info("disconnecting agent: its credential was replaced", "workspace", key)
		closeSession(t.sess, t.streams)
	}
}

// ConnectedWith reports whether key has a live tunnel opened with the
// credential whose tag is tag.
func (r *Registry) ConnectedWith(key, tag string) bool {
	t := r.lookup(key)
	return t != nil && !t.sess.IsClosed() && t.tag == tag
}

// Close refuses new tunnels, closes all live ones and waits until every
// Handler call has returned and every OnDisconnect was called.
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	live := make([]*agentTunnel, 0, len(r.latest))
	for _, t := range r.latest {
		live = append(live, t)
	}
	clear(r.tunnels)
	r.mu.Unlock()
	r.cancel()
	for _, t := range live {
		closeSession(t.sess, t.streams)
	}
	r.wg.Wait()
	return nil
}
