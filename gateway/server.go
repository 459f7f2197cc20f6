// Package gateway assembles one gateway replica: the SSH front door, the
// HTTP port (agent tunnels, API, web page, apps, metrics) and the parts
// behind them, built once and in order under gateway/internal.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/agentinfo"
	"github.com/wsgate/wsgate/gateway/internal/agentkeys"
	"github.com/wsgate/wsgate/gateway/internal/apps"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/gateway/internal/revokedkeys"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/gateway/webui"
	"github.com/wsgate/wsgate/tunnel"
)

// LockMode says what happens to live sessions while the store is
// unreachable for longer than the grace: LockBestEffort keeps them,
// LockStrict drops them.
type LockMode = revoke.LockMode

// Lock modes.
const (
	LockBestEffort = revoke.LockBestEffort
	LockStrict     = revoke.LockStrict
)

// ParseLockMode parses "best_effort" or "strict".
func ParseLockMode(s string) (LockMode, error) { return revoke.ParseLockMode(s) }

// DefaultStoreGrace is the default of ServerConfig.StoreGrace.
const DefaultStoreGrace = access.DefaultStoreGrace

// ServerConfig wires one gateway replica: the SSH front door, the HTTP port
// (agent tunnels, API) and the store behind both.
type ServerConfig struct {
	Store acl.Store
	// SSHAddr and HTTPAddr are bound unless a listener is given.
	SSHAddr      string // default ":2222"
	HTTPAddr     string // default ":8080"
	SSHListener  net.Listener
	HTTPListener net.Listener
	// AccessURL is the URL agents, the CLI and browsers are told to use
	// (default DefaultAccessURL of the HTTP listener).
	AccessURL  string
	HostSigner ssh.Signer
	UserCAKeys []ssh.PublicKey
	// HostnameSuffix is tolerated at the end of SSH targets (default "coder").
	HostnameSuffix string
	DisableSharing bool
	// AppsDomain, when set, serves apps at <port>--<name>--<owner>.<AppsDomain>.
	AppsDomain string
	// PathApps serves apps at /@<owner>/<name>/apps/<port>/ too (see
	// apps.Config.PathApps for why it is off by default).
	PathApps bool
	// TLSCertFile and TLSKeyFile (PEM, chain allowed) make the HTTP port
	// serve HTTPS; the pair is reloaded when the files change and on
	// ReloadTLS. Without them it serves plain HTTP.
	TLSCertFile, TLSKeyFile string
	// TrustedProxies (comma-separated CIDRs or IPs) are the peers whose
	// Forwarded / X-Forwarded-For / X-Forwarded-Proto headers, and PROXY
	// protocol headers on the SSH port, are believed.
	TrustedProxies string
	// SSHProxyProtocol accepts PROXY protocol v1/v2 headers on the SSH port
	// from TrustedProxies; a header from anyone else closes the connection.
	SSHProxyProtocol bool
	// Provisioner runs workspace start, stop and update for the API; nil
	// only records the states.
	Provisioner httpapi.Provisioner
	// StoreGrace is how long new connections are decided from the cache
	// while the store is unreachable (default DefaultStoreGrace).
	StoreGrace time.Duration
	// LockMode says whether live sessions survive a store outage longer
	// than StoreGrace (default LockBestEffort).
	LockMode LockMode
	Logger   *slog.Logger
	// RevokedKeysFile, when set, is an OpenSSH revoked-keys file (plain
	// text, one key per line): its keys, and certificates of them, are
	// refused; it is reloaded when it changes, dropping the sessions it
	// then revokes.
	RevokedKeysFile string
	// MetricsListener, when set, serves GET /metrics on a port of its own
	// (--metrics-addr, loopback by default). MetricsOnHTTPPort serves it
	// on the public HTTP port instead (wsgate dev, on loopback). With
	// neither, the metrics are not served.
	MetricsListener   net.Listener
	MetricsOnHTTPPort bool
	// MaxTokenLifetime is the longest an API token made through the API may
	// live (default httpapi.DefaultMaxTokenLifetime; negative: no limit).
	MaxTokenLifetime time.Duration
	// Edge bounds what clients hold before they are trusted (pre-auth
	// limits, timeouts, connections per source).
	Edge EdgeLimits
}

// withDefaults validates c and fills its defaults; it also returns the
// parsed trusted proxies.
func (c ServerConfig) withDefaults() (ServerConfig, edge.Proxies, error) {
	var none edge.Proxies
	if c.Store == nil {
		return c, none, errors.New("gateway: Store is required")
	}
	if c.SSHAddr == "" {
		c.SSHAddr = ":2222"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	edgeLimits, _, err := c.Edge.withDefaults()
	if err != nil {
		return c, none, fmt.Errorf("gateway: %w", err)
	}
	c.Edge = edgeLimits
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return c, none, errors.New("gateway: TLS needs both a certificate file and a key file")
	}
	proxies, err := edge.ParseProxies(c.TrustedProxies)
	if err != nil {
		return c, none, fmt.Errorf("gateway: trusted proxies: %w", err)
	}
	if c.SSHProxyProtocol && proxies.String() == "" {
		return c, none, errors.New("gateway: the PROXY protocol on the SSH port needs trusted proxies: headers from anyone else are refused")
	}
	if c.AccessURL != "" {
		u, err := checkAccessURL(c.AccessURL)
		if err != nil {
			return c, none, fmt.Errorf("gateway: %w", err)
		}
		c.AccessURL = u
	}
	return c, proxies, nil
}

// Server is a running gateway replica.
type Server struct {
	cfg      ServerConfig
	proxies  edge.Proxies
	cert     *edge.Certificate // nil: plain HTTP
	agents   *tunnel.Registry
	sessions *sessions.Registry
	ssh      *sshfront.Server
	revoker  *revoke.Revoker
	keys     *agentkeys.Keys // agent key exposure and rotation
	stopRev  context.CancelFunc
	http     *http.Server
	sshLn    net.Listener
	httpLn   net.Listener
	wg       sync.WaitGroup
	errOnce  sync.Once
	err      error
	done     chan struct{} // closed when a listener fails or Shutdown runs
	// revokedKeys is ServerConfig.RevokedKeysFile, loaded; nil without.
	revokedKeys *revokedkeys.File
	metricsSrv  *http.Server // nil without MetricsListener
}

// Start builds the replica's parts, once and in order (access, sessions,
// then the front doors and revocation that use them), binds both ports
// and serves in the background. It returns once both listeners are bound.
func Start(cfg ServerConfig) (*Server, error) {
	cfg, proxies, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, proxies: proxies, done: make(chan struct{})}
	if err := s.build(); err != nil {
		s.closeListeners()
		return nil, err
	}
	revCtx, stopRev := context.WithCancel(context.Background())
	s.stopRev = stopRev
	s.serve("revoke", func() error { return s.revoker.Run(revCtx) }, context.Canceled)
	if s.revokedKeys != nil {
		s.serve("revoked-keys", func() error { s.watchRevokedKeys(revCtx); return nil }, nil)
	}
	if s.cert != nil {
		s.serve("tls-watch", func() error { s.cert.Watch(revCtx, tlsWatchInterval); return nil }, nil)
	}
	s.serve("ssh", func() error { return s.ssh.Serve(s.sshLn) }, sshfront.ErrServerClosed)
	s.serve("http", func() error { return s.http.Serve(s.httpLn) }, http.ErrServerClosed)
	if s.metricsSrv != nil {
		s.serve("metrics", func() error { return s.metricsSrv.Serve(cfg.MetricsListener) }, http.ErrServerClosed)
	}
	attrs := []any{"ssh", s.sshLn.Addr().String(), "http", s.httpLn.Addr().String(), "access_url", s.cfg.AccessURL}
	if cfg.MetricsListener != nil {
		attrs = append(attrs, "metrics", cfg.MetricsListener.Addr().String())
	}
	cfg.Logger.Info("gateway listening", attrs...)
	return s, nil
}

// tlsWatchInterval is how often the certificate files are checked for a
// change.
const tlsWatchInterval = 10 * time.Second

// build constructs every part; nothing runs yet.
func (s *Server) build() error {
	cfg := s.cfg
	log := cfg.Logger
	metrics := prometheus.NewRegistry()
	if cfg.TLSCertFile != "" {
		cert, err := edge.LoadCertificate(cfg.TLSCertFile, cfg.TLSKeyFile, log.With("part", "tls"))
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		s.cert = cert
	}
	az, err := access.New(access.Config{
		Store: cfg.Store, DisableSharing: cfg.DisableSharing, StoreGrace: cfg.StoreGrace,
		Logger: log.With("part", "access"), Metrics: metrics,
	})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	// The agent key's exposure is recorded as sessions are tracked; Keys
	// needs the registry it is told by, so the hook is bound once built.
	var keys *agentkeys.Keys
	if s.sessions, err = sessions.NewRegistry(sessions.Config{Gen: az.Gen, Metrics: metrics, OnTrack: func(i sessions.Info) {
		if keys != nil {
			keys.OnTrack(i)
		}
	}}); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	s.agents = tunnel.NewRegistry(tunnel.RegistryConfig{
		Logger: log.With("part", "tunnel"), CredentialTag: acl.HashToken,
		// The revoker is built below, before any agent can connect.
		OnConnect:    func(uid string) { s.revoker.AgentConnected(uid) },
		OnDisconnect: func(uid string) { s.revoker.AgentDisconnected(uid) },
	})
	info := agentinfo.New(s.agents, s.sessions)
	if keys, err = agentkeys.NewKeys(agentkeys.KeysConfig{
		Store: cfg.Store, Agents: s.agents, Sessions: s.sessions, Logger: log.With("part", "agentkeys"),
	}); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	s.keys = keys
	if cfg.RevokedKeysFile != "" {
		if s.revokedKeys, err = revokedkeys.Load(cfg.RevokedKeysFile, log.With("part", "revoked-keys")); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	_, startups, err := cfg.Edge.withDefaults()
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	upgradeStartups := startups
	if s.ssh, err = sshfront.New(sshfront.Config{
		Access: az, Sessions: s.sessions, Agents: s.agents,
		HostSigner: cfg.HostSigner, UserCAKeys: cfg.UserCAKeys, HostnameSuffix: cfg.HostnameSuffix,
		Logger:           log.With("part", "ssh"),
		Revocations:      revocations{store: cfg.Store, access: az, file: s.revokedKeys},
		HandshakeTimeout: cfg.Edge.SSHLoginGraceTime, BannerTimeout: cfg.Edge.SSHBannerTimeout,
		Startups: &startups, UpgradeStartups: &upgradeStartups, Metrics: metrics,
	}); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if s.revoker, err = revoke.New(revoke.Config{
		Store: cfg.Store, Access: az, Sessions: s.sessions, Agents: s.agents, AgentKeys: keys, LockMode: cfg.LockMode,
		Metrics: metrics, Logger: log.With("part", "revoke"), Processes: info,
	}); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if err := s.listen(metrics); err != nil {
		return err
	}
	if s.cfg.AccessURL == "" {
		s.cfg.AccessURL = DefaultAccessURL(s.httpLn.Addr(), s.cert != nil)
	}
	// One signer for the page's sign-in and the apps' codes and tickets.
	web := websession.New(cfg.Store, nil)
	appProxy, err := apps.New(apps.Config{
		Access: az, Sessions: s.sessions, Agents: s.agents,
		Domain: cfg.AppsDomain, PathApps: cfg.PathApps, Logger: log.With("part", "apps"),
		Web: web, SignInURL: s.cfg.AccessURL,
	})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	api, err := httpapi.New(httpapi.Config{
		AccessURL: s.cfg.AccessURL,
		Store:     cfg.Store, DisableSharing: cfg.DisableSharing, Logger: log.With("part", "api"),
		Provisioner: cfg.Provisioner, SSHAddr: s.sshLn.Addr().String(), HostnameSuffix: cfg.HostnameSuffix,
		AgentInfo: info, Web: web, AppsURL: appsURL(s.cfg.AccessURL, cfg.AppsDomain), MaxTokenLifetime: cfg.MaxTokenLifetime,
		SSHHostKeys: hostKeyLines(cfg.HostSigner),
	})
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	mux := http.NewServeMux()
	agentAuth, err := s.agentAuth()
	if err != nil {
		return err
	}
	mux.Handle("POST "+tunnel.ConnectPath, s.agents.AgentHandler(agentAuth.Authenticate))
	mux.Handle("POST "+apitypes.SSHUpgradePath, s.ssh.UpgradeHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	if cfg.MetricsOnHTTPPort {
		mux.Handle("GET /metrics", metricsHandler(metrics))
	}
	s.buildMetricsServer(metrics)
	mux.Handle("POST "+apitypes.AppCodePath, appProxy.AppCodeHandler())
	mux.Handle("/api/v1/", api)
	// The sharing page at /; every pattern above is more specific.
	mux.Handle("/", webui.Handler())
	s.http = &http.Server{
		Handler:           edge.Forwarded(s.proxies, appProxy.Handler(mux)),
		ReadHeaderTimeout: cfg.Edge.HTTPReadHeaderTimeout,
		IdleTimeout:       cfg.Edge.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          httpErrorLog(log),
	}
	return nil
}

// listen binds the ports that were not given as listeners, and puts TLS
// and the PROXY protocol in front of them as configured, and the HTTP
// connection cap under TLS (it counts TCP peers).
func (s *Server) listen(metrics prometheus.Registerer) error {
	var err error
	if s.sshLn = s.cfg.SSHListener; s.sshLn == nil {
		if s.sshLn, err = net.Listen("tcp", s.cfg.SSHAddr); err != nil {
			return fmt.Errorf("listen ssh %s: %w", s.cfg.SSHAddr, err)
		}
	}
	if s.cfg.SSHProxyProtocol {
		s.sshLn = edge.ProxyProtocol(s.sshLn, s.proxies, edge.DefaultHeaderTimeout)
	}
	if s.httpLn = s.cfg.HTTPListener; s.httpLn == nil {
		if s.httpLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen http %s: %w", s.cfg.HTTPAddr, err)
		}
	}
	limited, err := limitHTTP(s.httpLn, s.cfg.Edge, s.proxies, metrics)
	if err != nil {
		return err
	}
	s.httpLn = limited
	if s.cert != nil {
		s.httpLn = tls.NewListener(s.httpLn, s.cert.TLSConfig())
	} else if !isLoopback(s.httpLn.Addr()) {
		s.cfg.Logger.Warn("serving plain HTTP: API tokens, agent tokens and app cookies cross the network in cleartext; "+
			"set --tls-cert-file and --tls-key-file, or put a TLS proxy in front (--trusted-proxies)", "http", s.httpLn.Addr().String())
	}
	return nil
}

// isLoopback reports whether addr is bound to a loopback address only.
func isLoopback(addr net.Addr) bool {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ReloadTLS loads the certificate files again (SIGHUP): new connections
// get the new pair, live ones keep theirs. Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return nil
	}
	return s.cert.Reload()
}

// closeListeners undoes a Start that failed half-way.
func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.sshLn, s.httpLn, s.cfg.SSHListener, s.cfg.HTTPListener, s.cfg.MetricsListener} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if s.agents != nil {
		_ = s.agents.Close()
	}
}

// serve runs one loop; the first unexpected error is recorded and ends the
// server.
func (s *Server) serve(name string, loop func() error, closed error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := loop(); err != nil && !errors.Is(err, closed) {
			s.fail(fmt.Errorf("%s server: %w", name, err))
		}
	}()
}

func (s *Server) fail(err error) {
	s.errOnce.Do(func() {
		s.err = err
		close(s.done)
	})
}

// agentAuth authenticates agent upgrades: enrolment, then signatures over
// nonces keyed by a secret every replica shares.
func (s *Server) agentAuth() (*agentkeys.Auth, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	secret, err := s.cfg.Store.Secret(ctx, agentkeys.NonceSecret)
	if err != nil {
		return nil, fmt.Errorf("gateway: agent nonce secret: %w", err)
	}
	return agentkeys.NewAuth(s.cfg.Store, secret, s.cfg.AccessURL, s.cfg.Logger.With("part", "agentauth"))
}

// SSHAddr is the bound SSH address.
func (s *Server) SSHAddr() net.Addr { return s.sshLn.Addr() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// AccessURL is the URL clients are told to use.
func (s *Server) AccessURL() string { return s.cfg.AccessURL }

// Agents is the registry of agent tunnels on this replica.
func (s *Server) Agents() *tunnel.Registry { return s.agents }

// Done is closed when the server stops, by Shutdown or by a failed listener.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the error that stopped the server, nil after a clean Shutdown.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Shutdown refuses new connections, closes live ones and waits for every
// goroutine, or until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.fail(nil)
	var errs []error
	if err := s.ssh.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("ssh shutdown: %w", err))
	}
	// Revocation runs until no session is left to revoke.
	s.stopRev()
	// Hijacked tunnel connections are not tracked by http.Server; the
	// registry closes them.
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := s.agents.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close tunnels: %w", err))
	}
	if err := s.shutdownMetrics(ctx); err != nil {
		errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
	}
	waited := make(chan struct{})
	go func() { s.wg.Wait(); s.keys.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// httpErrorLog sends the HTTP server's own messages to log: failed TLS
// handshakes (scanners, clients that do not trust the certificate) at
// debug, anything else as a warning.
func httpErrorLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(logWriter{log}, "", 0)
}

type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	level := slog.LevelWarn
	if strings.Contains(msg, "TLS handshake error") {
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg, "part", "http")
	return len(p), nil
}
