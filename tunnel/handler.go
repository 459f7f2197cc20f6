package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/hashicorp/yamux"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// Authenticate maps an agent's bearer token to the key of its workspace
// ("owner/name"). Any error answers 401.
type Authenticate func(ctx context.Context, token string) (key string, err error)

// Handler serves POST ConnectPath: it authenticates the agent, checks it
// speaks ProtocolVersion, answers 101 and runs the tunnel until it ends. A
// newer tunnel for the same key replaces and closes the older one. Every
// answer carries VersionHeader.
func (r *Registry) Handler(auth Authenticate) http.Handler {
	return r.AgentHandler(r.tokenAuthenticator(auth))
}

// AgentHandler is Handler with an Authenticator, which sees every
// credential an agent can present (agentauth.go): an enrolment, a signed
// upgrade, or a request for a nonce.
func (r *Registry) AgentHandler(auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.handle(w, req, auth)
	})
}

func (r *Registry) handle(w http.ResponseWriter, req *http.Request, auth Authenticator) {
	w.Header().Set(VersionHeader, strconv.Itoa(ProtocolVersion))
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	creds, ok := parseCredentials(req)
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
	id, err := auth(ctx, creds)
	stop()
	cancel()
	var challenge *Challenge
	if errors.As(err, &challenge) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`%s nonce=%q`, AgentAuthScheme, challenge.Nonce))
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	key := id.Key
	if err != nil || key == "" {
		// Never the token: only that it failed, and why on our side.
		log.Info("agent authentication failed", "err", err)
		unauthorized(w)
		return
	}
	log = log.With("workspace", key)

	// Checked only now: a refusal is recorded for the workspace, and only
	// its own agent may write there.
	if !sameVersion(req.Header) {
		r.refuseVersion(w, req, key, log)
		return
	}

	replace, err := r.admit(key)
	if err != nil {
		r.refuseBusy(w, req, key, log)
		return
	}
	if id.Commit != nil {
		ctx, cancel := context.WithCancel(req.Context())
		stop := context.AfterFunc(r.ctx, cancel)
		err := id.Commit(ctx)
		stop()
		cancel()
		if err != nil {
			log.Info("agent authentication failed", "err", err)
			unauthorized(w)
			return
		}
	}

	// The 101 goes out only after the tunnel is registered: an agent that
	// saw its tunnel come up must be reachable at once, or a client that
	// waited for the agent could still be told it is not connected. Until
	// then Accept holds the 101 in front of any yamux write.
	respHeader := http.Header{VersionHeader: {strconv.Itoa(ProtocolVersion)}}
	for k, vs := range id.Header {
		respHeader[k] = vs
	}
	conn, err := upgrade.AcceptHeader(w, UpgradeProtocol, respHeader)
	if err != nil {
		log.Error("agent tunnel: cannot take over the connection", "err", err)
		http.Error(w, "connection upgrade not supported", http.StatusInternalServerError)
		return
	}
	live := newLiveStreams()
	heard := newHeardClock()
	sess, err := yamux.Server(endConn{tunnelConn(conn, r.cfg.splitFrames), live, heard}, yamuxConfig(r.cfg.KeepAliveInterval, log))
	if err != nil {
		log.Error("agent tunnel: start yamux", "err", err)
		_ = conn.Close()
		return
	}
	live.watch(sess)
	t := &agentTunnel{
		key: key, tag: id.Tag, remote: req.RemoteAddr,
		sess: sess, streams: live, heard: heard, done: make(chan struct{}),
	}
	prev, err := r.register(t, replace)
	if err != nil {
		// Too late for an answer: the 101 was never sent, so the agent sees
		// its upgrade fail and tries again later.
		if errors.Is(err, errTunnelBusy) {
			log.Warn("second agent refused: another got in first", "connected", r.remoteOf(key))
		}
		_ = sess.Close()
		return
	}
	if replace != nil {
		r.tookOver(t, replace)
	}
	if err := conn.Commit(); err != nil {
		// serve sees the closed session and unregisters it.
		log.Warn("agent tunnel: write 101", "err", err)
		_ = sess.Close()
	}
	log.Info("agent tunnel open")
	r.serve(t, prev)
}

// refuseVersion answers an authenticated agent of another protocol version
// before anything is upgraded, so no tunnel exists, and records why for
// LastRefusal. It logs once per refusalLogEvery and key.
func (r *Registry) refuseVersion(w http.ResponseWriter, req *http.Request, key string, log *slog.Logger) {
	agent := versionText(req.Header)
	reason, body := agentRefusal(agent)
	if logNow, suppressed := r.refuse(key, reason); logNow {
		log.Warn("agent refused: it speaks another tunnel protocol; upgrade the agent",
			"agent_version", agent, "gateway_version", ProtocolVersion, "suppressed", suppressed)
	}
	// 426: the client must switch protocols, here to another version of
	// this one; VersionHeader (set above) says which.
	w.Header().Set("Upgrade", UpgradeProtocol)
	http.Error(w, body, http.StatusUpgradeRequired)
}

// refuseBusy answers a second agent of key while the first one's tunnel
// is alive, and records it for LastRefusal with both agents' addresses.
func (r *Registry) refuseBusy(w http.ResponseWriter, req *http.Request, key string, log *slog.Logger) {
	connected := r.remoteOf(key)
	msg := fmt.Sprintf("a second agent from %s while the agent from %s is connected", req.RemoteAddr, connected)
	if logNow, suppressed := r.refuse(key, msg); logNow {
		log.Warn("second agent refused: the workspace's tunnel is alive", "connected", connected, "suppressed", suppressed)
	}
	// Retry-After: the earliest a silent tunnel could be replaced.
	w.Header().Set("Retry-After", strconv.Itoa(int(r.cfg.TakeoverAfter.Seconds())))
	http.Error(w, errTunnelBusy.Error()+"; it may take over only once that agent stops answering", http.StatusConflict)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate agent"`)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}
