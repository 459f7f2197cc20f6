package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/apps"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/internal/upgrade"
)

const testAppsDomain = "apps.test"

// appEnv is a gateway with a Revoker, alice's agent running, and the app
// proxy on a real HTTP server, as Server mounts it.
type appEnv struct {
	*testEnv
	rv      *revoke.Revoker
	base    string // the proxy's URL
	appPort int    // port of the test's app, reachable from the agent
	app     *testApp
	// lastSetCookies are the Set-Cookie headers of the last get.
	lastSetCookies []string
	// clock drives the app sign-in's codes and tickets.
	clock *testutil.Clock
}

func newAppEnv(t *testing.T) *appEnv {
	t.Helper()
	return newAppEnvWith(t, true)
}

// newAppEnvWith is newAppEnv with path-form apps on or off.
func newAppEnvWith(t *testing.T, pathApps bool) *appEnv {
	t.Helper()
	e := newEnv(t)
	ae := &appEnv{testEnv: e, clock: testutil.NewClock(time.Now())}
	ae.rv = e.startRevoker(revoke.Config{})
	e.startAgent("alice/alice-ws")
	ae.app = startTestApp(t)
	ae.appPort = ae.app.port
	appProxy, err := apps.New(apps.Config{
		Access: e.access, Sessions: e.sessions, Agents: e.reg,
		Domain:    testAppsDomain,
		PathApps:  pathApps,
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("part", "apps"),
		Web:       websession.New(e.store, ae.clock.Now),
		SignInURL: "http://gw.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+apitypes.AppCodePath, appProxy.AppCodeHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	hs := httptest.NewServer(appProxy.Handler(mux))
	t.Cleanup(hs.Close)
	ae.base = hs.URL
	return ae
}

// testApp is an HTTP app listening on loopback, where the agent dials it.
type testApp struct {
	port    int
	started chan string   // /slow: the request's path, once it is in the handler
	ended   chan struct{} // /slow: the handler saw its request end
	upgrade chan net.Conn // the app side of each upgraded connection
}

func startTestApp(t *testing.T) *testApp {
	t.Helper()
	a := &testApp{started: make(chan string, 4), ended: make(chan struct{}, 4), upgrade: make(chan net.Conn, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		a.started <- r.URL.Path
		<-r.Context().Done()
		a.ended <- struct{}{}
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first chunk\n")
		_ = http.NewResponseController(w).Flush()
		a.started <- r.URL.Path
		<-r.Context().Done()
		a.ended <- struct{}{}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !upgrade.HeaderHas(r.Header, "Upgrade", "websocket") || !upgrade.HeaderHas(r.Header, "Connection", "upgrade") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello from app\n")
		_ = brw.Flush()
		a.upgrade <- conn
		// Echo lines back until either side closes.
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				_ = conn.Close()
				return
			}
			if _, err := io.WriteString(conn, "echo: "+line); err != nil {
				_ = conn.Close()
				return
			}
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The app tries to set the gateway's cookie besides its own.
		w.Header().Add("Set-Cookie", "theme=light; Path=/")
		w.Header().Add("Set-Cookie", "__Host-wsgate_app=planted; Path=/; Secure")
		w.Header().Add("Set-Cookie", "wsgate_web=planted; Path=/")
		w.Header().Add("Set-Cookie", "lang=fr; Path=/")
		// Tell the test what the app saw.
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "method=%s\nuri=%s\nhost=%s\nprefix=%s\nauthorization=%s\ncookie=%s\nforwarded-for=%s\n",
			r.Method, r.RequestURI, r.Host, r.Header.Get("X-Forwarded-Prefix"), r.Header.Get("Authorization"),
			r.Header.Get("Cookie"), r.Header.Get("X-Forwarded-For"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = hs.Close()
		<-done
	})
	a.port = ln.Addr().(*net.TCPAddr).Port
	return a
}

// get sends one request to the proxy; token "" sends none.
func (ae *appEnv) get(path, host, token string, mod ...func(*http.Request)) (int, string) {
	ae.t.Helper()
	req, err := http.NewRequest("GET", ae.base+path, nil)
	if err != nil {
		ae.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, m := range mod {
		m(req)
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		ae.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	ae.lastSetCookies = resp.Header.Values("Set-Cookie")
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ae.t.Fatalf("GET %s: read body: %v", path, err)
	}
	if resp.StatusCode == http.StatusPermanentRedirect {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func (ae *appEnv) appPath(ws string, rest string) string {
	owner, name, _ := strings.Cut(ws, "/")
	return fmt.Sprintf("/@%s/%s/apps/%d%s", owner, name, ae.appPort, rest)
}

func wantStatus(t *testing.T, what string, got int, body string, want int, wantBody string) {
	t.Helper()
	if got != want || !strings.Contains(body, wantBody) {
		t.Fatalf("%s: %d %q, want %d containing %q", what, got, body, want, wantBody)
	}
}

func TestAppPathForm(t *testing.T) {
	ae := newAppEnv(t)
	tok, _ := ae.apiToken("alice")
	code, body := ae.get(ae.appPath("alice/alice-ws", "/a/b%2Fc?x=1&y=2"), "", tok, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
		r.AddCookie(&http.Cookie{Name: "wsgate_web", Value: "secret-must-not-pass"})
		r.AddCookie(&http.Cookie{Name: "wsgate_app", Value: "secret-must-not-pass"})
		r.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	})
	if got := ae.lastSetCookies; strings.Join(got, "|") != "theme=light; Path=/|lang=fr; Path=/" {
		t.Errorf("Set-Cookie from the app: %q, want the app's own cookies only", got)
	}
	prefix := fmt.Sprintf("/@alice/alice-ws/apps/%d", ae.appPort)
	for _, want := range []string{
		"method=GET\n", "uri=/a/b%2Fc?x=1&y=2\n", "host=" + strings.TrimPrefix(ae.base, "http://") + "\n",
		"prefix=" + prefix + "\n", "authorization=\n", "cookie=theme=dark; lang=en\n", "forwarded-for=127.0.0.1\n",
	} {
		wantStatus(t, "path form", code, body, http.StatusOK, want)
	}
	// Without the slash after the port, relative links would break.
	code, loc := ae.get(ae.appPath("alice/alice-ws", "?q=1"), "", tok)
	wantStatus(t, "no slash", code, loc, http.StatusPermanentRedirect, prefix+"/?q=1")
	// Not an app address: the rest of the gateway answers.
	code, _ = ae.get("/api/v1/other", "", tok)
	wantStatus(t, "other path", code, "", http.StatusTeapot, "")
	ae.waitNoSessions()
}

func TestAppSubdomainForm(t *testing.T) {
	ae := newAppEnv(t)
	tok, _ := ae.apiToken("alice")
	host := fmt.Sprintf("%d--alice-ws--alice.%s", ae.appPort, testAppsDomain)
	code, body := ae.get("/x/y?z=1", host+":8080", tok)
	wantStatus(t, "subdomain", code, body, http.StatusOK, "uri=/x/y?z=1\n")
	wantStatus(t, "subdomain", code, body, http.StatusOK, "host="+host+":8080\n")
	wantStatus(t, "subdomain", code, body, http.StatusOK, "prefix=\n")
	// Case and a trailing dot do not matter in host names.
	code, body = ae.get("/", strings.ToUpper(host)+".", tok)
	wantStatus(t, "subdomain upper case", code, body, http.StatusOK, "uri=/\n")
	// Under the apps domain every path is the app's, /@ and /api too.
	code, body = ae.get("/api/v1/whatever", host, tok)
	wantStatus(t, "subdomain api path", code, body, http.StatusOK, "uri=/api/v1/whatever\n")
	// A malformed subdomain is not found, not handed to the gateway's API.
	for _, h := range []string{"alice-ws--alice." + testAppsDomain, "1--a--b--c." + testAppsDomain, "x.1--alice-ws--alice." + testAppsDomain} {
		code, body = ae.get("/", h, tok)
		wantStatus(t, h, code, body, http.StatusNotFound, "wsgate: workspace not found or access denied\n")
	}
	code, body = ae.get("/", "0--alice-ws--alice."+testAppsDomain, tok)
	wantStatus(t, "port 0", code, body, http.StatusBadRequest, "bad app port")
	// The apps domain itself is the gateway (where the login is).
	code, _ = ae.get("/", testAppsDomain, tok)
	wantStatus(t, "apps domain", code, "", http.StatusTeapot, "")
	ae.waitNoSessions()
}

func TestAppNotFoundSameAsForbidden(t *testing.T) {
	ae := newAppEnv(t)
	bob, _ := ae.apiToken("bob")
	forbiddenCode, forbidden := ae.get(ae.appPath("alice/alice-ws", "/"), "", bob)
	wantStatus(t, "forbidden", forbiddenCode, forbidden, http.StatusNotFound, "wsgate: workspace not found or access denied\n")
	for _, ws := range []string{"alice/nope", "nobody/ws", "Alice/alice-ws", "alice/a--b"} {
		code, body := ae.get(ae.appPath(ws, "/"), "", bob)
		if code != forbiddenCode || body != forbidden {
			t.Errorf("%s: %d %q, want what a forbidden workspace gets: %d %q", ws, code, body, forbiddenCode, forbidden)
		}
	}
	host := fmt.Sprintf("%d--alice-ws--alice.%s", ae.appPort, testAppsDomain)
	code, body := ae.get("/", host, bob)
	if code != forbiddenCode || body != forbidden {
		t.Errorf("subdomain forbidden: %d %q, want %d %q", code, body, forbiddenCode, forbidden)
	}
	// Suspended users and unknown, expired or missing tokens are
	// unauthorized, never told about workspaces.
	dave, _ := ae.apiToken("dave")
	expired, _ := ae.apiToken("alice", func(tk *acl.Token) { tk.ExpiresAt = time.Now().Add(-time.Minute) })
	for name, tok := range map[string]string{"none": "", "unknown": "wsg_nope", "suspended": dave, "expired": expired} {
		code, body := ae.get(ae.appPath("alice/alice-ws", "/"), "", tok)
		wantStatus(t, name, code, body, http.StatusUnauthorized, "take an API token only")
	}
	m := scrape(t, ae.metrics)
	if got := m[`wsgate_auth_decisions_total{result="denied"}`]; got != "6" {
		t.Errorf("denied decisions = %s, want 6", got)
	}
}

func TestAppBadPort(t *testing.T) {
	ae := newAppEnv(t)
	tok, _ := ae.apiToken("alice")
	for _, p := range []string{"0", "65536", "abc", "080", "-1", "+80"} {
		code, body := ae.get("/@alice/alice-ws/apps/"+p+"/", "", tok)
		wantStatus(t, "port "+p, code, body, http.StatusBadRequest, "bad app port")
	}
}

func TestAppSharedUser(t *testing.T) {
	ae := newAppEnv(t)
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	tok, _ := ae.apiToken("bob")
	code, body := ae.get(ae.appPath("alice/alice-ws", "/shared"), "", tok)
	wantStatus(t, "shared bearer", code, body, http.StatusOK, "uri=/shared\n")
	ae.waitNoSessions()
}

func TestAppAgentDownAndNoApp(t *testing.T) {
	ae := newAppEnv(t)
	bob, _ := ae.apiToken("bob")
	code, body := ae.get(ae.appPath("bob/bob-ws", "/"), "", bob)
	wantStatus(t, "agent down", code, body, http.StatusBadGateway, "wsgate: workspace bob/bob-ws is not running (agent not connected)")

	// A port where nothing listens: the agent's dial fails.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	alice, _ := ae.apiToken("alice")
	code, body = ae.get(fmt.Sprintf("/@alice/alice-ws/apps/%d/", free), "", alice)
	wantStatus(t, "no app", code, body, http.StatusBadGateway, fmt.Sprintf("no answer from port %d in workspace alice/alice-ws", free))
	ae.waitNoSessions()
}

// dialUpgrade opens a WebSocket-style upgraded connection through the
// proxy with a bearer token and returns it with its reader.
func (ae *appEnv) dialUpgrade(path, token string) (net.Conn, *bufio.Reader) {
	ae.t.Helper()
	return ae.dialUpgradeHeaders("gw.test", path, map[string]string{"Authorization": "Bearer " + token})
}

// dialUpgradeHeaders opens an upgraded connection to host with headers h.
func (ae *appEnv) dialUpgradeHeaders(host, path string, h map[string]string) (net.Conn, *bufio.Reader) {
	ae.t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(ae.base, "http://"), 5*time.Second)
	if err != nil {
		ae.t.Fatal(err)
	}
	ae.t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var extra strings.Builder
	for k, v := range h {
		fmt.Fprintf(&extra, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", path, host, extra.String())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		ae.t.Fatalf("upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !upgrade.HeaderHas(resp.Header, "Upgrade", "websocket") {
		b, _ := io.ReadAll(resp.Body)
		ae.t.Fatalf("upgrade: %s %q", resp.Status, b)
	}
	return conn, br
}

func readLine(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, line)
	}
	return line
}

// waitClosed waits until the peer closes: reads end with an error and no
// more data.
func waitClosed(t *testing.T, what string, r io.Reader) {
	t.Helper()
	b, err := io.ReadAll(r)
	if err == nil && len(b) == 0 {
		return // EOF
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: still open", what)
	}
	if len(b) > 0 {
		t.Fatalf("%s: got %q before the close", what, b)
	}
}

func TestAppWebSocketRevoked(t *testing.T) {
	ae := newAppEnv(t)
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	ae.share(aliceWS, acl.SubjectUser, "carol", acl.RoleUse)
	w := ae.watchEvents(ae.rv)
	bob, _ := ae.apiToken("bob")
	carol, _ := ae.apiToken("carol")

	conn, br := ae.dialUpgrade(ae.appPath("alice/alice-ws", "/ws"), bob)
	appSide := <-ae.app.upgrade
	if got := readLine(t, br); got != "hello from app\n" {
		t.Fatalf("first line %q", got)
	}
	fmt.Fprintf(conn, "ping\n")
	if got := readLine(t, br); got != "echo: ping\n" {
		t.Fatalf("echo %q", got)
	}
	// carol's connection must outlive bob's revocation.
	other, obr := ae.dialUpgrade(ae.appPath("alice/alice-ws", "/ws"), carol)
	<-ae.app.upgrade
	readLine(t, obr)
	if n := ae.sessions.Len(); n != 2 {
		t.Fatalf("%d live sessions, want 2", n)
	}
	if s := ae.sessions.Connections(""); len(s) != 0 {
		t.Errorf("Sessions lists app connections: %+v", s)
	}

	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	w.sync()
	waitClosed(t, "bob's upgraded connection", br)
	_ = appSide.SetReadDeadline(time.Now().Add(10 * time.Second))
	waitClosed(t, "the app's side", appSide)
	testutil.Eventually(t, "bob's session unregistered", func() bool { return ae.sessions.Len() == 1 })

	fmt.Fprintf(other, "still here\n")
	if got := readLine(t, obr); got != "echo: still here\n" {
		t.Fatalf("carol's echo %q", got)
	}
	m := scrape(t, ae.metrics)
	if got := m[`wsgate_revocations_total{reason="revoked"}`]; got != "1" {
		t.Errorf("revocations = %s, want 1", got)
	}
	_ = other.Close()
	ae.waitNoSessions()
}

func TestAppInFlightRequestRevoked(t *testing.T) {
	ae := newAppEnv(t)
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	w := ae.watchEvents(ae.rv)
	bob, _ := ae.apiToken("bob")

	type answer struct {
		code int
		body string
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", ae.base+ae.appPath("alice/alice-ws", "/slow"), nil)
		req.Header.Set("Authorization", "Bearer "+bob)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			got <- answer{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b)}
	}()
	select {
	case <-ae.app.started:
	case a := <-got:
		t.Fatalf("slow request ended early: %+v", a)
	}
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	w.sync()
	a := <-got
	wantStatus(t, "revoked request", a.code, a.body, http.StatusForbidden, "wsgate: access to alice/alice-ws was revoked")
	// The app saw its request end too: the stream to it was closed.
	select {
	case <-ae.app.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the app's request did not end")
	}
	ae.waitNoSessions()
	if got := scrape(t, ae.metrics)[`wsgate_revocations_total{reason="revoked"}`]; got != "1" {
		t.Errorf("revocations = %s, want 1", got)
	}
}

func TestAppTokenRevoked(t *testing.T) {
	ae := newAppEnv(t)
	w := ae.watchEvents(ae.rv)
	tok, id := ae.apiToken("alice")
	_, br := ae.dialUpgrade(ae.appPath("alice/alice-ws", "/ws"), tok)
	<-ae.app.upgrade
	readLine(t, br)
	must(t, ae.store.RevokeToken(context.Background(), "alice", id))
	w.sync()
	waitClosed(t, "upgraded connection of a revoked token", br)
	ae.waitNoSessions()
	if got := scrape(t, ae.metrics)[`wsgate_revocations_total{reason="token_revoked"}`]; got != "1" {
		t.Errorf("token revocations = %s, want 1", got)
	}
}

func TestAppStreamingResponseRevoked(t *testing.T) {
	ae := newAppEnv(t)
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	w := ae.watchEvents(ae.rv)
	bob, _ := ae.apiToken("bob")
	req, _ := http.NewRequest("GET", ae.base+ae.appPath("alice/alice-ws", "/stream"), nil)
	req.Header.Set("Authorization", "Bearer "+bob)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if got := readLine(t, br); got != "first chunk\n" {
		t.Fatalf("first chunk %q", got)
	}
	<-ae.app.started
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	w.sync()
	// The answer had begun: all the gateway can do is cut it.
	rest, err := io.ReadAll(br)
	var ne net.Error
	if err == nil || len(rest) > 0 || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("after the revoke: %q, %v; want the response cut", rest, err)
	}
	select {
	case <-ae.app.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the app's request did not end")
	}
	ae.waitNoSessions()
}

// TestPathAppsOffByDefault: without PathApps the path form is refused with
// a message saying how to reach the app, and nothing reaches the app; the
// subdomain form still works.
func TestPathAppsOffByDefault(t *testing.T) {
	ae := newAppEnvWith(t, false)
	tok, _ := ae.apiToken("alice")
	code, body := ae.get(ae.appPath("alice/alice-ws", "/slow"), "", tok)
	wantStatus(t, "path form", code, body, http.StatusNotFound, "wsgate: path-based apps are disabled on this gateway: use the subdomain form (--apps-domain), or start the gateway with --path-apps\n")
	select {
	case p := <-ae.app.started:
		t.Fatalf("the app got %s although path apps are off", p)
	default:
	}
	code, body = ae.get("/s", fmt.Sprintf("%d--alice-ws--alice.%s", ae.appPort, testAppsDomain), tok)
	wantStatus(t, "subdomain form", code, body, http.StatusOK, "uri=/s\n")
}
