package apps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/internal/upgrade"
	"github.com/wsgate/wsgate/tunnel"
)

// Dialer opens a stream to a workspace's agent; *tunnel.Registry satisfies it.
type Dialer interface {
	Open(ctx context.Context, key string, h tunnel.Header) (net.Conn, error)
}

// DefaultTimeout bounds authentication, authorization and dialing the
// agent for one request.
const DefaultTimeout = 10 * time.Second

// Config configures the app proxy.
type Config struct {
	Access   *access.Authorizer
	Sessions *sessions.Registry
	Agents   Dialer
	// Domain, when set, also serves apps at
	// http://<port>--<name>--<owner>.<Domain>/ (matched on Host).
	Domain string
	// PathApps also serves apps at /@<owner>/<name>/apps/<port>/ on the
	// gateway's own origin. Off by default: every such app shares that
	// origin with the web page (and its signed-in token) and with every
	// other app, so one app's script could act as the visitor elsewhere.
	PathApps bool
	// Timeout defaults to DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
	// Web signs app codes and tickets (signin.go); required with Domain.
	// The API's sign-in must use the same one.
	Web *websession.Signer
	// SignInURL is the gateway's URL, where browsers without a ticket are
	// sent to sign in; without it they are told to sign in (401).
	SignInURL string
}

func (c Config) withDefaults() (Config, error) {
	if c.Access == nil || c.Sessions == nil || c.Agents == nil {
		return c, errors.New("apps config: Access, Sessions and Agents are required")
	}
	if c.Timeout < 0 {
		return c, errors.New("apps config: Timeout must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.Domain = strings.TrimSuffix(strings.ToLower(c.Domain), ".")
	if err := validAppsDomain(c.Domain); err != nil {
		return c, fmt.Errorf("apps config: %w", err)
	}
	if c.Domain != "" && c.Web == nil {
		return c, errors.New("apps config: Web is required with an apps domain")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Proxy serves HTTP apps that listen on a workspace's loopback, through
// the workspace's agent tunnel (tcp streams), to users allowed to connect.
// Each request, and each upgraded connection (WebSocket) for as long as it
// lasts, is a live session, so revocation ends it like an SSH connection.
type Proxy struct {
	cfg Config
	log *slog.Logger
}

// New validates cfg.
func New(cfg Config) (*Proxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Proxy{cfg: cfg, log: cfg.Logger}, nil
}

// Handler sends app requests (a Host under the apps domain, or a path
// starting with /@) to the proxy and every other request to next.
func (a *Proxy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Domain != "" {
			t, ok, err := parseAppHost(requestHost(r.Host), a.cfg.Domain)
			if ok {
				if err == nil && r.URL.Path == CallbackPath {
					a.callback(w, r)
					return
				}
				if err == nil {
					err = t.setPath(r.URL.EscapedPath())
				}
				a.serve(w, r, t, err)
				return
			}
		}
		if strings.HasPrefix(r.URL.Path, appPathPrefix) {
			if !a.cfg.PathApps {
				appError(w, http.StatusNotFound, msgPathAppsOff)
				return
			}
			t, err := parseAppPath(r.URL.EscapedPath())
			a.serve(w, r, t, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Answers of the app proxy. Browsers show them, so they are plain text.
const (
	msgAppNotFound = "wsgate: workspace not found or access denied"
	msgPathAppsOff = "wsgate: path-based apps are disabled on this gateway: use the subdomain form (--apps-domain), or start the gateway with --path-apps"
	msgAppAuth     = "wsgate: sign in first: open this app in a browser to sign in through the gateway, or send an API token as \"Authorization: Bearer\""
	msgPathAppAuth = "wsgate: path-form apps take an API token only (\"Authorization: Bearer\"): they share the gateway's origin and cannot be isolated from each other; open the app under the apps domain in a browser"
	msgBadCode     = "wsgate: this sign-in code is invalid, expired, already used or for another app: open the app again"
	msgBadState    = "wsgate: this sign-in was not started by this browser for this app: open the app again"
	msgUnavailable = "wsgate: cannot check access right now; try again later"
	msgAppNeedsTLS = "wsgate: apps sign browsers in over HTTPS only (browsers send the Sec-Fetch-* headers that keep apps apart to secure origins only): serve the gateway with TLS, or send an API token as \"Authorization: Bearer\""
	msgCrossSite   = "wsgate: refused: signed-in requests to an app must come from the app's own pages"
)

func appError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

// serve authenticates, authorizes and proxies one app request; perr is
// the outcome of parsing its address.
func (a *Proxy) serve(w http.ResponseWriter, r *http.Request, t appTarget, perr error) {
	switch {
	case errors.Is(perr, errAppBadPort):
		appError(w, http.StatusBadRequest, "wsgate: "+perr.Error())
		return
	case errors.Is(perr, errAppNoSlash):
		u := *r.URL
		u.Path, u.RawPath = t.prefix+"/", ""
		http.Redirect(w, r, u.RequestURI(), http.StatusPermanentRedirect)
		return
	case perr != nil:
		appError(w, http.StatusNotFound, msgAppNotFound)
		return
	}
	az := a.cfg.Access
	id, ok := a.authenticate(w, r, t)
	if !ok {
		return
	}
	if acl.ValidateName("user", t.ws.Owner) != nil || acl.ValidateName("workspace", t.ws.Name) != nil {
		az.Count(access.Denied)
		appError(w, http.StatusNotFound, msgAppNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	d, err := az.Decide(ctx, id.User, t.ws, acl.ActionConnect)
	cancel()
	if err != nil {
		az.Count(access.Unavailable)
		a.log.Error("app: authorization failed", "user", id.User, "workspace", t.ws.String(), "err", err)
		appError(w, http.StatusServiceUnavailable, "wsgate: cannot check access right now; try again later")
		return
	}
	if !d.Allow {
		az.Count(access.Denied)
		a.log.Info("app denied", "user", id.User, "workspace", t.ws.String(), "reason", d.Reason.String())
		appError(w, http.StatusNotFound, msgAppNotFound)
		return
	}
	az.Count(access.Allowed)
	a.proxy(w, r, t, id, d)
}

// proxy forwards r to the app through a tcp stream of the workspace's
// agent, as a registered live session.
func (a *Proxy) proxy(w http.ResponseWriter, r *http.Request, t appTarget, id acl.Identity, d access.Decision) {
	// Dropping the session cancels the request, which closes the stream to
	// the agent and, for an upgraded connection, the user's connection too.
	sess := sessions.New(r.Context(), sessions.Info{
		ID: acl.NewID(), Identity: id, Workspace: t.ws, WorkspaceUID: d.WorkspaceUID,
		RemoteAddr: r.RemoteAddr, Started: time.Now(), AppPort: t.port,
	}, d.Gen, d.ValidUntil)
	// End comes last, once the handler has finished (the ReverseProxy
	// panics with http.ErrAbortHandler on a cut response), so that a drop
	// waits for it.
	defer sess.End()
	info := sess.Info
	log := a.log.With("session", info.ID, "user", id.User, "workspace", t.ws.String(), "port", t.port)
	if !a.cfg.Sessions.Track(sess) {
		appError(w, http.StatusServiceUnavailable, "wsgate: the gateway is shutting down")
		return
	}
	defer a.cfg.Sessions.Untrack(sess)
	ctx := sess.Context()

	header := tunnel.Header{Kind: tunnel.KindTCP, User: id.User, SessionID: info.ID, Port: t.port}
	// One transport per request, without keep-alives: a stream is never
	// reused for another request, user or workspace.
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
			defer cancel()
			return a.cfg.Agents.Open(ctx, info.WorkspaceUID, header)
		},
		DisableKeepAlives: true,
		// Bodies pass as the app encoded them.
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme = "http"
			out.URL.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(t.port)))
			out.URL.Path, out.URL.RawPath = t.path, t.rawPath
			// The app sees the Host the browser used, as behind any reverse
			// proxy, so that its links and origin checks work.
			out.Host = pr.In.Host
			pr.SetXForwarded()
			// The scheme the browser used, also behind a TLS-terminating
			// proxy the gateway trusts.
			out.Header.Set("X-Forwarded-Proto", edge.Scheme(pr.In))
			if t.prefix != "" {
				out.Header.Set("X-Forwarded-Prefix", t.prefix)
			}
			// The user's wsgate credentials are not the app's business.
			out.Header.Del("Authorization")
			for _, name := range gatewayCookies {
				stripCookie(out.Header, name)
			}
		},
		// An app must not set the gateway's cookies: it would sign its
		// visitors in as someone else.
		ModifyResponse: func(resp *http.Response) error {
			for _, name := range gatewayCookies {
				stripSetCookie(resp.Header, name)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols { // an upgrade's body is the connection
				resp.Body = &cutBody{ReadCloser: resp.Body, ctx: ctx}
			} else if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && upgrade.HeaderHas(resp.Header, "Upgrade", "websocket") {
				resp.Body = &wsClose{ReadWriteCloser: rwc, ctx: ctx}
			}
			return nil
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			a.proxyError(w, ctx, t, err, log)
		},
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	log.Debug("app request", "method", r.Method, "path", t.path)
	rp.ServeHTTP(w, r.WithContext(ctx))
}

// cutBody is an app's response body that cannot end cleanly once its
// session was dropped: the app may finish its answer while the revocation
// closes the stream (it sees its client go and returns), and a response cut
// by a revocation must reach the browser cut, never as complete.
type cutBody struct {
	io.ReadCloser
	ctx context.Context
}

func (b *cutBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, context.Cause(b.ctx)
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && b.ctx.Err() != nil {
		return n, context.Cause(b.ctx)
	}
	return n, err
}

// proxyError answers a request the app did not answer.
func (a *Proxy) proxyError(w http.ResponseWriter, ctx context.Context, t appTarget, err error, log *slog.Logger) {
	if msg, ok := sessions.DropMessage(ctx); ok {
		log.Info("app request dropped", "reason", msg)
		appError(w, http.StatusForbidden, "wsgate: "+msg)
		return
	}
	if errors.Is(err, tunnel.ErrAgentNotConnected) {
		log.Info("app: agent not connected")
		appError(w, http.StatusBadGateway, fmt.Sprintf("wsgate: workspace %s is not running (agent not connected)", t.ws))
		return
	}
	log.Info("app did not answer", "err", err)
	appError(w, http.StatusBadGateway, fmt.Sprintf("wsgate: no answer from port %d in workspace %s; is an app listening on 127.0.0.1:%d?", t.port, t.ws, t.port))
}

// stripCookie removes the cookie called name from the Cookie headers of h
// and keeps the others as they were.
func stripCookie(h http.Header, name string) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			k, _, _ := strings.Cut(part, "=")
			if part == "" || strings.TrimSpace(k) == name {
				continue
			}
			kept = append(kept, part)
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// stripSetCookie removes the Set-Cookie headers of h that set name.
func stripSetCookie(h http.Header, name string) {
	lines := h.Values("Set-Cookie")
	kept := lines[:0:0]
	for _, line := range lines {
		k, _, _ := strings.Cut(line, "=")
		if strings.TrimSpace(k) != name {
			kept = append(kept, line)
		}
	}
	if len(kept) == len(lines) {
		return
	}
	h.Del("Set-Cookie")
	for _, line := range kept {
		h.Add("Set-Cookie", line)
	}
}
