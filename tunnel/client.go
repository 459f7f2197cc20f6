package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// ClientConfig configures an agent's tunnel (Run).
type ClientConfig struct {
	URL   string // gateway base URL, http:// or https://
	Token string // agent token (plain bearer); unused with Identity
	// Identity, when set, is the agent's enrolment token and keys: the
	// token enrols once, then every upgrade is signed (agentauth.go).
	Identity  AgentIdentity
	TLSConfig *tls.Config // optional; for https URLs
	// Handler serves one stream; it is called in its own goroutine after the
	// stream's header was read and validated. It owns conn and must close
	// it. Run does not wait for Handler calls: when the tunnel ends their
	// conns fail (reads return EOF or an error), and they should return.
	Handler func(conn net.Conn, h Header)
	// Reconnect delays: jittered exponential between MinBackoff (default
	// 250ms) and MaxBackoff (default 30s), from MinBackoff again after a
	// tunnel that stayed up for a while.
	MinBackoff, MaxBackoff time.Duration
	KeepAliveInterval      time.Duration // yamux keepalive, default 15s
	Logger                 *slog.Logger  // default: discard
	// OnConnect is called each time a tunnel is up (tests, readiness). It
	// runs before streams are accepted, so it must not block.
	OnConnect func()
	// ExplainDialError, when set, rewrites the error of a failed dial
	// before it is logged or returned, e.g. to say plainly what to do
	// about a certificate the agent does not trust. It must keep
	// errors.Is and errors.As working on the original.
	ExplainDialError func(error) error
	// GiveUp, when set, is asked after each failed dial, with whether a
	// tunnel was up at any time since Run began. True makes Run return the
	// (explained) error instead of retrying: for failures retrying cannot
	// fix.
	GiveUp func(err error, wasUp bool) bool

	// Test knobs; zero means the default.
	headerTimeout time.Duration
	stableAfter   time.Duration
	splitFrames   bool // yamux's own two writes per frame (see tunnelConn)
}

func (c ClientConfig) withDefaults() (ClientConfig, endpoint, error) {
	if c.URL == "" {
		return c, endpoint{}, errors.New("tunnel client: no gateway URL")
	}
	ep, err := parseEndpoint(c.URL, c.TLSConfig)
	if err != nil {
		return c, endpoint{}, fmt.Errorf("tunnel client: %w", err)
	}
	if c.Token == "" && c.Identity == nil {
		return c, endpoint{}, errors.New("tunnel client: no agent token")
	}
	if c.Handler == nil {
		return c, endpoint{}, errors.New("tunnel client: no stream handler")
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = defaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = defaultMaxBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		return c, endpoint{}, fmt.Errorf("tunnel client: MaxBackoff %v below MinBackoff %v", c.MaxBackoff, c.MinBackoff)
	}
	if c.KeepAliveInterval <= 0 {
		c.KeepAliveInterval = defaultKeepAlive
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.headerTimeout <= 0 {
		c.headerTimeout = headerTimeout
	}
	if c.stableAfter <= 0 {
		c.stableAfter = defaultStableAfter
	}
	return c, ep, nil
}

// Run keeps a tunnel to the gateway up until ctx ends: it dials, serves the
// streams the gateway opens, and reconnects with jittered exponential
// backoff. When ctx ends it closes the tunnel, waits for its own goroutines
// (not for Handler calls, see ClientConfig.Handler) and returns ctx's error.
// It returns early only for an invalid config, or when GiveUp says so.
func Run(ctx context.Context, cfg ClientConfig) error {
	cfg, ep, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	c := &client{
		cfg: cfg,
		ep:  ep,
		log: cfg.Logger.With("component", "tunnel", "gateway", ep.url.Redacted()),
	}
	r := retry{
		backoff:     backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff},
		stableAfter: cfg.stableAfter,
	}
	wasUp := false
	for {
		uptime, err := c.once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if uptime == 0 {
			if cfg.ExplainDialError != nil {
				err = cfg.ExplainDialError(err)
			}
			if cfg.GiveUp != nil && cfg.GiveUp(err, wasUp) {
				return err
			}
		} else {
			wasUp = true
		}
		wait := r.next(uptime)
		switch {
		case errors.Is(err, ErrKeyRefused), errors.Is(err, ErrEnrolmentRefused):
			c.log.Error(err.Error(), "retry_in", wait)
		case errors.Is(err, errUnauthorized):
			c.log.Error("the gateway rejected the agent token (HTTP 401); check the agent's token",
				"retry_in", wait)
		case errors.Is(err, ErrVersionMismatch):
			// Retrying helps only once one side is upgraded (or rolled back).
			c.log.Error("the gateway speaks another tunnel protocol", "err", err, "retry_in", wait)
		case uptime > 0:
			c.log.Warn("tunnel lost; reconnecting", "err", err, "uptime", uptime, "retry_in", wait)
		default:
			c.log.Warn("cannot connect to the gateway", "err", err, "retry_in", wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

type client struct {
	cfg ClientConfig
	ep  endpoint
	log *slog.Logger
}

// once dials and serves one tunnel. It returns how long the tunnel was up
// (0 if it never was) and why it ended.
func (c *client) once(ctx context.Context) (time.Duration, error) {
	conn, err := c.dialAgent(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	err = c.serve(ctx, conn)
	return max(time.Since(start), time.Nanosecond), err
}

// serve runs the yamux session on conn until it ends or ctx does.
func (c *client) serve(ctx context.Context, conn net.Conn) error {
	live := newLiveStreams()
	sess, err := yamux.Client(endConn{tunnelConn(conn, c.cfg.splitFrames), live, nil}, yamuxConfig(c.cfg.KeepAliveInterval, c.log))
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("start yamux: %w", err)
	}
	live.watch(sess)
	stop := context.AfterFunc(ctx, func() { closeSession(sess, live) })
	defer stop()
	c.log.Info("tunnel up")
	if c.cfg.OnConnect != nil {
		c.cfg.OnConnect()
	}
	var wg sync.WaitGroup
	for {
		ys, err := sess.AcceptStream()
		if err != nil {
			closeSession(sess, live)
			wg.Wait()
			return fmt.Errorf("tunnel: %w", err)
		}
		wg.Add(1)
		go c.stream(ys, live, &wg)
	}
}

// stream reads the header of one stream and hands it to the Handler. wg
// covers the header read only: the Handler is not waited for.
func (c *client) stream(ys *yamux.Stream, live *liveStreams, wg *sync.WaitGroup) {
	s := newStream(ys, live)
	h, err := readHeaderTimeout(s, c.cfg.headerTimeout)
	if err != nil {
		// A bad stream never takes the tunnel down.
		c.log.Warn("closing stream with a bad header", "stream", ys.StreamID(), "err", err)
		_ = s.Close()
		wg.Done()
		return
	}
	wg.Done()
	c.cfg.Handler(s, h)
}

// readHeaderTimeout reads a header within d, so a silent stream cannot pin a
// goroutine.
func readHeaderTimeout(s *stream, d time.Duration) (Header, error) {
	if err := s.SetReadDeadline(time.Now().Add(d)); err != nil {
		return Header{}, err
	}
	h, err := ReadHeader(s)
	if err != nil {
		return Header{}, err
	}
	if err := s.SetReadDeadline(time.Time{}); err != nil {
		return Header{}, err
	}
	return h, nil
}
