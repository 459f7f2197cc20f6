package tunnel

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/yamux"
)

// Authenticate maps an agent's bearer token to the key of its workspace
// ("owner/name"). Any error answers 401.
type Authenticate func(ctx context.Context, token string) (key string, err error)

// switchingProtocols is the whole 101 answer; written by hand because the
// connection is hijacked first.
const switchingProtocols = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Connection: Upgrade\r\n" +
	"Upgrade: " + UpgradeProtocol + "\r\n\r\n"

// Handler serves POST ConnectPath: it authenticates the agent, answers 101
// and runs the tunnel until it ends. A newer tunnel for the same key
// replaces and closes the older one.
func (r *Registry) Handler(auth Authenticate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.handle(w, req, auth)
	})
}

func (r *Registry) handle(w http.ResponseWriter, req *http.Request, auth Authenticate) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	token, ok := bearerToken(req.Header.Get("Authorization"))
	if !ok {
		unauthorized(w)
		return
	}
	if !headerHasToken(req.Header, "Upgrade", UpgradeProtocol) {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", UpgradeProtocol)
		http.Error(w, "upgrade to "+UpgradeProtocol+" required", http.StatusUpgradeRequired)
		return
	}
	if !headerHasToken(req.Header, "Connection", "upgrade") {
		http.Error(w, "missing Connection: Upgrade", http.StatusBadRequest)
		return
	}
	if !r.enter() {
		http.Error(w, "gateway shutting down", http.StatusServiceUnavailable)
		return
	}
	defer r.wg.Done()

	log := r.log.With("remote", req.RemoteAddr)
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(r.ctx, cancel)
	key, err := auth(ctx, token)
	stop()
	cancel()
	if err != nil || key == "" {
		// Never the token: only that it failed, and why on our side.
		log.Info("agent authentication failed", "err", err)
		unauthorized(w)
		return
	}
	log = log.With("workspace", key)

	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		log.Error("agent tunnel: cannot hijack the connection", "err", err)
		http.Error(w, "connection upgrade not supported", http.StatusInternalServerError)
		return
	}
	// The server's read/write timeouts must not cut a long-lived tunnel.
	_ = conn.SetDeadline(time.Time{})
	var tc net.Conn = conn
	if brw.Reader.Buffered() > 0 {
		tc = &bufferedConn{Conn: conn, r: brw.Reader}
	}
	// The 101 goes out only after the tunnel is registered: an agent that
	// saw its tunnel come up must be reachable at once, or a client that
	// waited for the agent could still be told it is not connected. Until
	// then the 101 is held as a preamble in front of any yamux write.
	pc := &preambleConn{Conn: tc, preamble: []byte(switchingProtocols)}
	sess, err := yamux.Server(pc, yamuxConfig(r.cfg.KeepAliveInterval, log))
	if err != nil {
		log.Error("agent tunnel: start yamux", "err", err)
		_ = conn.Close()
		return
	}
	t := &agentTunnel{key: key, tag: r.cfg.CredentialTag(token), sess: sess, done: make(chan struct{})}
	prev, ok := r.register(t)
	if !ok {
		_ = sess.Close()
		return
	}
	_ = conn.SetWriteDeadline(time.Now().Add(headerTimeout))
	if err := pc.flush(); err != nil {
		// serve sees the closed session and unregisters it.
		log.Warn("agent tunnel: write 101", "err", err)
		_ = sess.Close()
	}
	_ = conn.SetWriteDeadline(time.Time{})
	log.Info("agent tunnel open")
	r.serve(t, prev)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate agent"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// bearerToken returns the token of an "Authorization: Bearer <token>" value.
func bearerToken(v string) (string, bool) {
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// headerHasToken reports whether the comma-separated values of header name
// contain want, ignoring case.
func headerHasToken(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), want) {
				return true
			}
		}
	}
	return false
}
