package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/webui"
	"github.com/wsgate/wsgate/tunnel"
)

// ServerConfig wires one gateway replica: the SSH front door, the HTTP port
// (agent tunnels, API) and the store behind both.
type ServerConfig struct {
	Store          acl.Store
	SSHAddr        string // default ":2222"
	HTTPAddr       string // default ":8080"
	HostSigner     ssh.Signer
	UserCAKeys     []ssh.PublicKey
	HostnameSuffix string
	DisableSharing bool
	// AppsDomain, when set, serves apps at <port>--<name>--<owner>.<AppsDomain>
	// besides the path form /@<owner>/<name>/apps/<port>/ (AppProxy).
	AppsDomain string
	// PathApps serves apps at /@<owner>/<name>/apps/<port>/ too (see
	// AppsConfig.PathApps for why it is off by default).
	PathApps bool
	// NewAPI, when set, builds the handler of /api/v1/ (all but the agent
	// tunnel and SSH upgrade paths). It is called once the SSH listener is
	// bound, with its address, so the API can tell clients where SSH is, and
	// with this replica's httpapi.AgentInfo for stats, logs and connections.
	NewAPI func(sshAddr net.Addr, agents httpapi.AgentInfo) (http.Handler, error)
	// StoreGrace is how long new connections are decided from the cache
	// while the store is unreachable (default DefaultStoreGrace).
	StoreGrace time.Duration
	// LockMode says whether live sessions survive a store outage longer
	// than StoreGrace (default LockBestEffort).
	LockMode LockMode
	Logger   *slog.Logger
}

func (c *ServerConfig) setDefaults() error {
	if c.Store == nil {
		return errors.New("gateway: Store is required")
	}
	if c.HostSigner == nil {
		return errors.New("gateway: HostSigner is required")
	}
	if c.SSHAddr == "" {
		c.SSHAddr = ":2222"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StoreGrace < 0 {
		return errors.New("gateway: StoreGrace must not be negative")
	}
	if c.LockMode == "" {
		c.LockMode = LockBestEffort
	}
	if _, err := ParseLockMode(string(c.LockMode)); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// Server is a running gateway replica.
type Server struct {
	cfg     ServerConfig
	agents  *tunnel.Registry
	ssh     *SSHServer
	revoker *Revoker
	stopRev context.CancelFunc
	http    *http.Server
	sshLn   net.Listener
	httpLn  net.Listener
	wg      sync.WaitGroup
	errOnce sync.Once
	err     error
	done    chan struct{} // closed when a listener fails or Shutdown runs
}

// Start listens on both ports and serves in the background. It returns once
// both listeners are bound, so their addresses are known.
func Start(cfg ServerConfig) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, done: make(chan struct{})}
	s.agents = tunnel.NewRegistry(tunnel.RegistryConfig{Logger: cfg.Logger.With("part", "tunnel")})
	sshSrv, err := NewSSHServer(SSHConfig{
		Store:          cfg.Store,
		Agents:         s.agents,
		HostSigner:     cfg.HostSigner,
		UserCAKeys:     cfg.UserCAKeys,
		HostnameSuffix: cfg.HostnameSuffix,
		DisableSharing: cfg.DisableSharing,
		Logger:         cfg.Logger.With("part", "ssh"),
	})
	if err != nil {
		s.agents.Close()
		return nil, err
	}
	s.ssh = sshSrv
	s.revoker, err = NewRevoker(sshSrv, RevokerConfig{
		StoreGrace: cfg.StoreGrace,
		LockMode:   cfg.LockMode,
		Logger:     cfg.Logger.With("part", "revoke"),
	})
	if err != nil {
		s.agents.Close()
		return nil, err
	}

	apps, err := NewAppProxy(sshSrv, AppsConfig{Domain: cfg.AppsDomain, PathApps: cfg.PathApps, Logger: cfg.Logger.With("part", "apps")})
	if err != nil {
		s.agents.Close()
		return nil, err
	}

	if s.sshLn, err = net.Listen("tcp", cfg.SSHAddr); err != nil {
		s.agents.Close()
		return nil, fmt.Errorf("listen ssh %s: %w", cfg.SSHAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+tunnel.ConnectPath, s.agents.Handler(s.authenticateAgent))
	mux.Handle("POST "+httpapi.SSHUpgradePath, s.ssh.UpgradeHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /metrics", s.revoker.Metrics().Handler())
	mux.Handle("POST "+AppLoginPath, apps.LoginHandler())
	mux.Handle("POST "+AppLogoutPath, apps.LogoutHandler())
	if cfg.NewAPI != nil {
		api, err := cfg.NewAPI(s.sshLn.Addr(), NewAgentInfo(s.agents, s.ssh))
		if err != nil {
			s.sshLn.Close()
			s.agents.Close()
			return nil, fmt.Errorf("api: %w", err)
		}
		mux.Handle("/api/v1/", api)
	}
	// The sharing page at /; every pattern above is more specific.
	mux.Handle("/", webui.Handler())
	s.http = &http.Server{
		Handler:           apps.Handler(mux),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		s.sshLn.Close()
		s.agents.Close()
		return nil, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
	}
	revCtx, stopRev := context.WithCancel(context.Background())
	s.stopRev = stopRev
	s.serve("revoke", func() error { return s.revoker.Run(revCtx) }, context.Canceled)
	s.serve("ssh", func() error { return s.ssh.Serve(s.sshLn) }, ErrServerClosed)
	s.serve("http", func() error { return s.http.Serve(s.httpLn) }, http.ErrServerClosed)
	cfg.Logger.Info("gateway listening", "ssh", s.sshLn.Addr().String(), "http", s.httpLn.Addr().String())
	return s, nil
}

// serve runs one accept loop; the first unexpected error is recorded and
// ends the server.
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

func (s *Server) authenticateAgent(ctx context.Context, token string) (string, error) {
	ws, err := s.cfg.Store.WorkspaceByAgentTokenHash(ctx, acl.HashToken(token))
	if err != nil {
		return "", fmt.Errorf("agent token: %w", err)
	}
	return ws.ID().String(), nil
}

// SSHAddr is the bound SSH address.
func (s *Server) SSHAddr() net.Addr { return s.sshLn.Addr() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() net.Addr { return s.httpLn.Addr() }

// Agents is the registry of agent tunnels on this replica.
func (s *Server) Agents() *tunnel.Registry { return s.agents }

// SSH is the SSH front door.
func (s *Server) SSH() *SSHServer { return s.ssh }

// Revoker is this replica's revocation: authorization cache, event
// follower, expiry sweeper, metrics.
func (s *Server) Revoker() *Revoker { return s.revoker }

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
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}
