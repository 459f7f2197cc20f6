package sshfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("ssh server closed")

// serverVersion is the SSH identification string; it names no version so
// that scanners learn nothing useful. The comment after the space tells
// SFTP clients that detect OpenSSH by this string (asyncssh) to send
// SSH_FXP_SYMLINK in OpenSSH's argument order, which the agent's SFTP
// server uses, as OpenSSH's sftp and paramiko always do. It starts with
// "wsgate", so OpenSSH's client applies none of its OpenSSH_* quirks.
const serverVersion = "SSH-2.0-wsgate OpenSSH-compatible"

// Server is the gateway's SSH front door: it authenticates users by key
// or certificate, resolves the workspace named by the login name, checks
// connect, and proxies the connection to the workspace's agent.
type Server struct {
	cfg     Config
	base    *ssh.ServerConfig
	front   *gssh.Server
	checker *ssh.CertChecker
	log     *slog.Logger
	preauth *preauth

	ctx    context.Context // canceled by Shutdown
	cancel context.CancelFunc

	unauth atomic.Int64 // connections not yet authenticated

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*connState]struct{}
	wg        sync.WaitGroup // one per connection being served
}

// New validates cfg and fills its defaults.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	base := &ssh.ServerConfig{
		MaxAuthTries:  cfg.MaxAuthTries,
		ServerVersion: serverVersion,
	}
	applyAlgorithms(base)
	host, err := hardenedHostSigner(cfg.HostSigner)
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	base.AddHostKey(host)
	pa, err := newPreauth(cfg)
	if err != nil {
		return nil, fmt.Errorf("ssh metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		preauth:   pa,
		cfg:       cfg,
		base:      base,
		checker:   newCertChecker(cfg),
		log:       cfg.Logger,
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*connState]struct{}{},
	}
	s.front = s.newFront()
	return s, nil
}

// Serve is the accept loop: it serves each connection on ln in its own
// goroutine until Shutdown, then returns
// ErrServerClosed. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept: %w", err)
			}
			// Transient (out of file descriptors, aborted handshake):
			// back off instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("ssh accept failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
			}
			continue
		}
		backoff = 0
		go s.ServeConn(conn)
	}
}

// Unauthenticated is the number of connections still in their handshake.
func (s *Server) Unauthenticated() int64 { return s.unauth.Load() }

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ServeConn serves one connection and blocks until it is done.
func (s *Server) ServeConn(conn net.Conn) { s.serveConn(conn, nil, nil) }

// serveConn serves conn; bound, when set, is the identity the connection
// already proved (SSH over HTTPS: see UpgradeHandler), else the client
// authenticates by key.
// release, when set, is the pre-authentication slot the caller took for
// conn; else serveConn takes one.
func (s *Server) serveConn(conn net.Conn, bound *identity, release func()) {
	cs := newConnState(conn)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	s.conns[cs] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		_ = conn.Close()
		s.mu.Lock()
		delete(s.conns, cs)
		s.mu.Unlock()
		s.wg.Done()
	}()
	s.handshake(cs, bound, release)
}

// Shutdown stops accepting, tells live sessions the gateway is going away,
// closes every connection and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	s.mu.Unlock()
	// Every live session (app requests too: they share the registry) is
	// told why it ends; one already being revoked closes anyway.
	s.cfg.Sessions.DropAll("the gateway is shutting down", dropWriteTimeout)
	s.cancel()
	s.mu.Lock()
	for cs := range s.conns {
		_ = cs.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ssh shutdown: %w", ctx.Err())
	}
}

// handshake runs the SSH handshake (gliderlabs' HandleConn) under the
// unauthenticated cap and the handshake timeout, then hands the connection
// on.
func (s *Server) handshake(cs *connState, bound *identity, release func()) {
	remote := cs.RemoteAddr().String()
	pool := poolSSH
	if bound != nil {
		pool = poolHTTPS
	}
	if release == nil {
		var ok bool
		if release, ok = s.preauth.admit(pool, remote); !ok {
			return
		}
	}
	defer release() // idempotent: the normal path releases sooner
	if s.unauth.Add(1) > int64(s.cfg.MaxUnauthenticated) {
		s.unauth.Add(-1)
		s.preauth.refuse(pool, reasonMaxUnauthenticated, remote)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	fc := newFrontConn(cs, bound)
	s.watchBanner(fc, cs)
	fc.auth = &authenticator{ctx: ctx, store: s.cfg.Access.Lookups(&fc.unavailable), caKeys: s.cfg.UserCAKeys, checker: s.checker, log: s.log, maxTries: s.cfg.MaxAuthTries, revocations: s.cfg.Revocations}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.front.HandleConn(fc)
		fc.closeInputs()
	}()
	// Runs last: gliderlabs is done once the connection is closed.
	defer func() { <-served }()
	sc := fc.waitServerConn(served)
	cancel()
	s.unauth.Add(-1)
	release()
	if sc == nil {
		return // ConnectionFailedCallback logged why
	}
	_ = cs.SetDeadline(time.Time{})
	defer sc.Close()

	if s.cfg.IdleTimeout > 0 {
		defer s.watchIdle(cs, sc)()
	}
	s.handle(fc, sc)
}

// handshakeFailed logs a handshake that did not end in an authenticated
// connection.
func (s *Server) handshakeFailed(remote string, err error) {
	var authErr *ssh.ServerAuthError
	if errors.As(err, &authErr) {
		s.log.Info("ssh authentication failed", "remote", remote, "err", err)
	} else {
		s.log.Debug("ssh handshake failed", "remote", remote, "err", err)
	}
}

// serverConfig is the x/crypto configuration of one connection: the
// gateway's base with fc's authentication callbacks, each of which tells
// fc when authentication succeeded.
func (s *Server) serverConfig(fc *frontConn) *ssh.ServerConfig {
	conf := *s.base
	if fc.bound != nil {
		bindIdentity(&conf, *fc.bound)
	} else {
		conf.NoClientAuthCallback = refuseNoneAuth
		conf.PublicKeyCallback = func(cm ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			perms, err := fc.auth.publicKey(cm, key)
			if err != nil && fc.unavailable.Load() {
				// Neither the store nor the cache could say whose key this
				// is. Let the client in, once it proved it holds the key,
				// only to be told why it goes no further: handle refuses
				// such a connection.
				return &ssh.Permissions{Extensions: map[string]string{extStoreUnavailable: "1"}}, nil
			}
			return perms, err
		}
		conf.VerifiedPublicKeyCallback = verifiedKey
	}
	// Once the identity is settled, refuseEarly decides the target; only a
	// user who may reach it is let in.
	noneAuth, pubKey, verified := conf.NoClientAuthCallback, conf.PublicKeyCallback, conf.VerifiedPublicKeyCallback
	conf.NoClientAuthCallback = func(cm ssh.ConnMetadata) (*ssh.Permissions, error) {
		if err := fc.refusedEarly(); err != nil {
			return nil, err
		}
		perms, err := noneAuth(cm)
		if err == nil {
			err = s.refuseEarly(fc, cm, perms)
		}
		if err != nil {
			return nil, err
		}
		fc.authenticated()
		return perms, nil
	}
	conf.PublicKeyCallback = func(cm ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if err := fc.refusedEarly(); err != nil {
			return nil, err
		}
		return pubKey(cm, key)
	}
	conf.VerifiedPublicKeyCallback = func(cm ssh.ConnMetadata, key ssh.PublicKey, perms *ssh.Permissions, alg string) (*ssh.Permissions, error) {
		perms, err := verified(cm, key, perms, alg)
		if err == nil {
			err = s.refuseEarly(fc, cm, perms)
		}
		if err != nil {
			return nil, err
		}
		fc.authenticated()
		return perms, nil
	}
	return &conf
}

// handle authorizes the target and proxies to the agent, or refuses.
func (s *Server) handle(fc *frontConn, sc *ssh.ServerConn) {
	cs, chans, reqs := fc.connState, fc.chans, fc.reqs
	if sc.Permissions != nil && sc.Permissions.Extensions[extStoreUnavailable] != "" {
		s.cfg.Access.Count(access.Unavailable)
		s.log.Warn("ssh refused: cannot identify the user while the access store is unreachable", "remote", sc.RemoteAddr().String())
		s.refuse(cs, sc, chans, reqs, msgStoreUnavailable, ssh.ConnectionFailed)
		return
	}
	id, err := identityFrom(sc.Permissions)
	if err != nil {
		s.log.Error("ssh connection without identity", "remote", sc.RemoteAddr().String(), "err", err)
		return
	}
	sid := acl.NewID()
	log := s.log.With("session", sid, "user", id.User, "remote", sc.RemoteAddr().String())
	attrs := []any{"target", sc.User(), "fingerprint", id.KeyFingerprint}
	if id.Cert {
		attrs = append(attrs, "cert_serial", id.CertSerial, "cert_key_id", id.CertKeyID)
	}
	if id.TokenID != "" {
		attrs = append(attrs, "token_id", id.TokenID)
	}
	log.Info("ssh authenticated", attrs...)
	start := time.Now()
	defer func() { log.Info("ssh connection closed", "duration", time.Since(start).Round(time.Millisecond)) }()

	ws, d, refusal, reason := s.authorize(id.User, sc.User(), fc.allowed, log)
	if refusal != "" {
		s.refuse(cs, sc, chans, reqs, refusal, reason)
		return
	}
	log = log.With("workspace", ws.String())

	sess := sessions.New(s.ctx, sessions.Info{
		ID: sid, Identity: id.Identity, Workspace: ws, WorkspaceUID: d.WorkspaceUID,
		RemoteAddr: sc.RemoteAddr().String(), Started: start,
	}, d.Gen, d.ValidUntil)
	defer sess.End()
	p := &proxy{ctx: sess.Context(), policy: s.cfg.Access, info: sess.Info, id: id, user: sc, log: log, state: cs}
	agentChans, agentReqs, err := s.dialAgent(p)
	if err != nil {
		msg := fmt.Sprintf("wsgate: workspace %s is unreachable", ws)
		if errors.Is(err, tunnel.ErrAgentNotConnected) {
			msg = fmt.Sprintf("wsgate: workspace %s is not running (agent not connected)", ws)
		}
		log.Info("ssh agent unavailable", "err", err)
		s.refuse(cs, sc, chans, reqs, msg, ssh.ConnectionFailed)
		return
	}
	if !s.cfg.Sessions.Track(sess) {
		p.closeAgent()
		return
	}
	defer s.cfg.Sessions.Untrack(sess)
	// Dropping the session (revoked, shutting down) tells the user why
	// and ends the connection for them; its teardown waits until this
	// user and the others of a mass drop have closed their side after the
	// message (sessions.Registry.AwaitUserClose, AwaitTeardown).
	stop := context.AfterFunc(sess.Context(), func() {
		if msg, ok := sessions.DropMessage(sess.Context()); ok {
			p.drop(msg, fc)
			s.cfg.Sessions.AwaitUserClose(cs.UserClosed())
			sess.Told()
			s.cfg.Sessions.AwaitTeardown()
			log.Info("ssh session dropped", "reason", msg)
			_ = sc.Close()
		}
	})
	defer stop()
	log.Info("ssh proxying to agent")
	p.run(chans, reqs, agentChans, agentReqs)
}
