package tunnel

import (
	"context"
	"net/http"

	"github.com/hashicorp/yamux"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// Authenticate maps an agent's bearer token to the key of its workspace
// ("owner/name"). Any error answers 401.
type Authenticate func(ctx context.Context, token string) (key string, err error)

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
	token, ok := upgrade.BearerToken(req.Header.Get("Authorization"))
	if !ok {
		unauthorized(w)
		return
	}
	if !upgrade.Requested(req, UpgradeProtocol) {
		if !upgrade.HeaderHas(req.Header, "Upgrade", UpgradeProtocol) {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", UpgradeProtocol)
			http.Error(w, "upgrade to "+UpgradeProtocol+" required", http.StatusUpgradeRequired)
			return
		}
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

	// The 101 goes out only after the tunnel is registered: an agent that
	// saw its tunnel come up must be reachable at once, or a client that
	// waited for the agent could still be told it is not connected. Until
	// then Accept holds the 101 in front of any yamux write.
	conn, err := upgrade.Accept(w, UpgradeProtocol)
	if err != nil {
		log.Error("agent tunnel: cannot take over the connection", "err", err)
		http.Error(w, "connection upgrade not supported", http.StatusInternalServerError)
		return
	}
	sess, err := yamux.Server(tunnelConn(conn, r.cfg.splitFrames), yamuxConfig(r.cfg.KeepAliveInterval, log))
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
	if err := conn.Commit(); err != nil {
		// serve sees the closed session and unregisters it.
		log.Warn("agent tunnel: write 101", "err", err)
		_ = sess.Close()
	}
	log.Info("agent tunnel open")
	r.serve(t, prev)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate agent"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}
