package sshfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
)

// Dialer opens a stream to a workspace's agent; *tunnel.Registry satisfies it.
type Dialer interface {
	Open(ctx context.Context, key string, h tunnel.Header) (net.Conn, error)
}

// Defaults of Config.
const (
	DefaultHostnameSuffix     = "coder"
	DefaultHandshakeTimeout   = 10 * time.Second
	DefaultMaxUnauthenticated = 256
	DefaultMaxAuthTries       = 6
)

// Config configures the SSH front door.
type Config struct {
	// Access identifies users and decides connect; Sessions records the
	// connections it lets through.
	Access     *access.Authorizer
	Sessions   *sessions.Registry
	Agents     Dialer
	HostSigner ssh.Signer // required
	// UserCAKeys are the trusted user CAs; empty: certificates are refused.
	UserCAKeys []ssh.PublicKey
	// HostnameSuffix is tolerated at the end of a target ("alice-ws.coder").
	HostnameSuffix string
	// HandshakeTimeout bounds the whole handshake, authentication included
	// (OpenSSH's LoginGraceTime).
	HandshakeTimeout time.Duration
	// BannerTimeout bounds the wait for the client's version line
	// (default DefaultBannerTimeout; at most HandshakeTimeout).
	BannerTimeout time.Duration
	// MaxUnauthenticated is a hard cap over both pools of connections that
	// have not finished authenticating; extra ones are closed at once.
	MaxUnauthenticated int
	// Startups limits the SSH port's connections still authenticating
	// (nil: DefaultStartups; a zero Limits: no limit), UpgradeStartups
	// those of SSH over HTTPS, a pool of their own (nil:
	// DefaultUpgradeStartups).
	Startups, UpgradeStartups *edge.Limits
	// Metrics is where wsgate_ssh_preauth_refused_total is registered; nil
	// keeps it unregistered.
	Metrics prometheus.Registerer
	// MaxAuthTries caps failed authentication attempts per connection.
	MaxAuthTries int
	// IdleTimeout closes a connection that has had no open channel and no
	// traffic for this long; 0 disables it.
	IdleTimeout time.Duration
	Logger      *slog.Logger
	// Now is the clock for certificate validity and snapshots.
	Now func() time.Time
	// Revocations, when set, refuses revoked certificates and keys at
	// authentication (revoked.go).
	Revocations Revocations
}

// withDefaults validates the config and returns a copy with defaults filled.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Access == nil || c.Sessions == nil {
		errs = append(errs, errors.New("Access and Sessions are required"))
	}
	if c.Agents == nil {
		errs = append(errs, errors.New("Agents is required"))
	}
	if c.HostSigner == nil {
		errs = append(errs, errors.New("HostSigner is required"))
	}
	for i, k := range c.UserCAKeys {
		if k == nil {
			errs = append(errs, fmt.Errorf("UserCAKeys[%d] is nil", i))
		}
	}
	if c.HostnameSuffix == "" {
		c.HostnameSuffix = DefaultHostnameSuffix
	}
	if err := validSuffix(c.HostnameSuffix); err != nil {
		errs = append(errs, err)
	}
	if c.HandshakeTimeout < 0 || c.BannerTimeout < 0 || c.MaxUnauthenticated < 0 || c.MaxAuthTries < 0 || c.IdleTimeout < 0 {
		errs = append(errs, errors.New("timeouts and limits must not be negative"))
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.BannerTimeout == 0 {
		c.BannerTimeout = DefaultBannerTimeout
	}
	if c.Startups == nil {
		l := DefaultStartups
		c.Startups = &l
	}
	if c.UpgradeStartups == nil {
		l := DefaultUpgradeStartups
		c.UpgradeStartups = &l
	}
	for name, l := range map[string]*edge.Limits{"Startups": c.Startups, "UpgradeStartups": c.UpgradeStartups} {
		if err := l.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if c.MaxUnauthenticated == 0 {
		c.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if c.MaxAuthTries == 0 {
		c.MaxAuthTries = DefaultMaxAuthTries
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("ssh config: %w", errors.Join(errs...))
	}
	return c, nil
}
