package webui_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/gateway"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/devca"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// appsDomain has two labels, so that every app host is the same site
// (a.localhost and b.localhost would be cross-site and prove nothing).
const appsDomain = "apps.test"

// recorder is an app that notes every request it gets and speaks just
// enough WebSocket to greet.
type recorder struct {
	port int
	page string
	mu   sync.Mutex
	seen []string // "METHOD /path"
}

func (rc *recorder) saw() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.seen = append(rc.seen, r.Method+" "+r.URL.Path)
	rc.mu.Unlock()
	switch {
	case r.URL.Path == "/ws":
		key := r.Header.Get("Sec-WebSocket-Key")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		brw.Write([]byte{0x81, 5}) // one text frame: "hello"
		brw.WriteString("hello")
		_ = brw.Flush()
		// Hold the connection until the client goes.
		_, _ = bufio.NewReader(conn).ReadString(0)
		_ = conn.Close()
	case r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, rc.page)
	default:
		fmt.Fprintln(w, "ok")
	}
}

func startRecorder(t *testing.T, page func(port int) string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &recorder{port: ln.Addr().(*net.TCPAddr).Port}
	rc.page = page(rc.port)
	hs := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return rc
}

// runAgent connects an in-process agent for ws to the gateway at base.
func runAgent(t *testing.T, base string, tlsConf *tls.Config, ws, token string) {
	t.Helper()
	a, err := agent.New(agent.Config{Workspace: ws, Dir: t.TempDir(), Shell: "/bin/sh", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The gateway pins the key the agent enrols with its token.
	ident, err := agentkey.Open(filepath.Join(t.TempDir(), agentkey.FileName(ws)), token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tunnel.Run(ctx, tunnel.ClientConfig{
			URL: base, Identity: ident, Handler: a.HandleStream, TLSConfig: tlsConf,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = a.Close()
	})
}

const victimPage = `<!doctype html><title>victim</title><p id="t">victim app</p><script>
(async () => {
  const r = await fetch("/own-post", {method: "POST", body: "x"});
  window.ownPost = r.status;
  const ws = new WebSocket("wss://" + location.host + "/ws");
  ws.onmessage = (e) => { window.ownWS = e.data; };
  ws.onclose = (e) => { window.wsClosedWith = e.code + " " + e.reason; };
  ws.onerror = () => { window.ownWS = "error"; };
})();
</script>`

// evilPage is a page on a sibling app host that tries to act as its
// visitor on the victim's app.
func evilPage(victim string) string {
	return `<!doctype html><title>evil</title><p id="t">evil app</p><script>
window.results = {};
const V = "` + victim + `";
fetch("https://" + V + "/attack", {method: "POST", mode: "no-cors", credentials: "include", body: "pwn"})
  .then(() => { results.post = "sent"; }, () => { results.post = "failed"; });
fetch("https://" + V + "/attack-get", {mode: "no-cors", credentials: "include"})
  .then(() => { results.get = "sent"; }, () => { results.get = "failed"; });
const ws = new WebSocket("wss://" + V + "/ws");
ws.onopen = () => { results.ws = "open"; };
ws.onmessage = (e) => { results.wsMsg = e.data; };
ws.onclose = () => { results.wsClosed = true; };
</script>`
}

// TestAppIsolationInChromium: carol, who may use alice's and mallory's
// workspaces, signs in with a `wsgate web` link and opens both apps through
// the sign-in redirects; mallory's page then makes carol's browser POST to
// and open a WebSocket to alice's app, same-site, and the gateway refuses
// both. Forged and replayed codes are refused.
func TestAppIsolationInChromium(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	must := mustFor(t)
	now := time.Now().UTC()
	tokens := map[string]string{}
	for _, name := range []string{"alice", "mallory", "carol"} {
		must(st.CreateUser(ctx, acl.User{Name: name, CreatedAt: now}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "t", Hash: acl.HashToken(secret), CreatedAt: now}))
		tokens[name] = secret
	}
	agentTokens := map[string]string{}
	for _, id := range []acl.WorkspaceID{{Owner: "alice", Name: "alice-ws"}, {Owner: "mallory", Name: "mal-ws"}} {
		agentTokens[id.String()] = acl.NewSecret(acl.AgentTokenPrefix)
		must(st.CreateWorkspace(ctx, acl.Workspace{Owner: id.Owner, Name: id.Name, State: acl.StateRunning,
			AgentTokenHash: acl.HashToken(agentTokens[id.String()]), CreatedAt: now, UpdatedAt: now}))
		must(st.ApplyGrants(ctx, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "carol", Role: acl.RoleUse}}))
	}
	// HTTPS: browsers send the Sec-Fetch-* headers the isolation rests on
	// to secure origins only (and "__Host-" cookies need Secure).
	certs, err := devca.Ensure(filepath.Join(t.TempDir(), "ca"), []string{"127.0.0.1", "*." + appsDomain})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.Buffer{}
	srv := startGateway(t, gateway.ServerConfig{Store: st, AppsDomain: appsDomain, TLSCertFile: certs.Cert, TLSKeyFile: certs.Key,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	base := "https://" + srv.HTTPAddr().String()
	client := caClient(t, certs.CA)
	gwPort := srv.HTTPAddr().(*net.TCPAddr).Port
	for ws, tok := range agentTokens {
		runAgent(t, base, client.Transport.(*http.Transport).TLSClientConfig, ws, tok)
	}
	victim := startRecorder(t, func(int) string { return victimPage })
	victimHost := fmt.Sprintf("%d--alice-ws--alice.%s:%d", victim.port, appsDomain, gwPort)
	evil := startRecorder(t, func(int) string { return evilPage(victimHost) })
	evilHost := fmt.Sprintf("%d--mal-ws--mallory.%s:%d", evil.port, appsDomain, gwPort)

	bctx := startBrowser(t, chromedp.Flag("host-resolver-rules", "MAP *."+appsDomain+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiPin(t, certs.Cert, certs.Key)))
	var mu sync.Mutex
	var callbacks []string
	if err := chromedp.Listen(bctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, "/.wsgate/callback") {
			mu.Lock()
			callbacks = append(callbacks, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	// `wsgate web`: a one-time link, no token typed anywhere.
	link := signInLink(t, client, base, tokens["carol"])
	do(t, bctx, "open the sign-in link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(wsLink("alice/alice-ws")),
	)
	href, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || strings.Contains(href, "code=") {
		t.Fatalf("the code stays in the address bar: %q (%v)", href, err)
	}
	// The page's "Open" link for alice's app.
	do(t, bctx, "select alice-ws and type the port",
		chromedp.Click(wsLink("alice/alice-ws")),
		chromedp.WaitVisible(chromedp.ID("app-port")),
		chromedp.SendKeys(chromedp.ID("app-port"), fmt.Sprint(victim.port)),
		chromedp.WaitVisible(chromedp.ID("app-link")),
	)
	open, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("app-link").href`))
	if want := "https://" + victimHost + "/"; err != nil || open != want {
		t.Fatalf("Open link %q (%v), want %q", open, err, want)
	}

	// Both apps open through the sign-in redirects.
	openApp := func(url, want string) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		cond := `location.href === ` + jsString(url) + ` && document.getElementById("t") !== null && document.getElementById("t").textContent === ` + jsString(want)
		if err := pollAcrossNavigations(bctx, cond); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			body, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("open %s: at %s showing %q: %v", url, loc, body, err)
		}
	}
	openApp(open, "victim app")
	// The victim's own page may POST and open a WebSocket.
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`window.ownPost === 200 && window.ownWS === "hello"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify([window.ownPost, window.ownWS])`))
		t.Fatalf("the app's own requests: %s (%v)", got, err)
	}
	// The cookie on the app host is no token and not readable.
	if c, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.cookie`)); c != "" {
		t.Fatalf("app page reads cookies %q", c)
	}
	openApp("https://"+evilHost+"/", "evil app")
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`window.results.post && window.results.get && window.results.wsClosed === true`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the attack did not finish: %v", err)
	}
	res, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify(window.results)`))
	if strings.Contains(res, "hello") || strings.Contains(res, `"ws":"open"`) {
		t.Fatalf("the sibling app's page reached the victim's WebSocket: %s", res)
	}
	for _, s := range victim.saw() {
		if strings.Contains(s, "/attack") {
			t.Fatalf("the victim app got %q from the sibling app's page (saw %q)", s, victim.saw())
		}
	}
	if n := strings.Count(strings.Join(victim.saw(), "\n"), "GET /ws"); n != 1 {
		t.Fatalf("the victim app saw %d WebSockets, want only its own page's: %q", n, victim.saw())
	}
	// And the attack really was same-site, as the gateway saw it.
	refusals := map[string]string{}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="app: cross-site request refused"`) {
			for _, p := range []string{"/attack", "/attack-get", "/ws"} {
				if strings.Contains(line, "path="+p+" ") {
					refusals[p] = line
				}
			}
		}
	}
	for _, p := range []string{"/attack", "/attack-get", "/ws"} {
		line, ok := refusals[p]
		if !ok {
			t.Fatalf("no refusal of %s logged", p)
		}
		if !strings.Contains(line, "user=carol") {
			t.Errorf("refusal of %s was not of carol's signed-in request: %s", p, line)
		}
		// Chromium sends no Sec-Fetch-* on WebSocket handshakes; their
		// Origin (a sibling under the apps domain) is what makes them same-site.
		if p != "/ws" && !strings.Contains(line, "sec_fetch_site=same-site") {
			t.Errorf("refusal of %s was not of a same-site request: %s", p, line)
		}
	}
	if !strings.Contains(refusals["/ws"], "origin=https://"+evilHost) || !strings.Contains(refusals["/attack"], "origin=https://"+evilHost) {
		t.Errorf("refusals do not name the sibling's origin:\n%s\n%s", refusals["/ws"], refusals["/attack"])
	}

	// A forged code, and a replayed one, are refused.
	bodyAt := func(url string) string {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		b, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mu.Lock()
	used := append([]string(nil), callbacks...)
	mu.Unlock()
	if b := bodyAt("https://" + victimHost + "/.wsgate/callback?code=forged.AAAA"); !strings.Contains(b, "invalid, expired, already used") {
		t.Fatalf("forged code: %q", b)
	}
	if len(used) != 2 {
		t.Fatalf("callbacks seen: %q, want one per app", used)
	}
	if b := bodyAt(used[0]); !strings.Contains(b, "invalid, expired, already used") {
		t.Fatalf("replayed code: %q", b)
	}

	// Revoking carol's token closes her app's WebSocket with 1008 and the
	// reason, and her ticket opens nothing any more.
	openApp("https://"+victimHost+"/", "victim app")
	if err := pollAcrossNavigations(bctx, `window.ownWS === "hello"`); err != nil {
		t.Fatalf("the app's WebSocket: %v", err)
	}
	toks, err := st.ListTokens(ctx, "carol")
	must(err)
	for _, tk := range toks {
		must(st.RevokeToken(ctx, "carol", tk.ID))
	}
	if err := pollAcrossNavigations(bctx, `typeof window.wsClosedWith === "string"`); err != nil {
		t.Fatalf("the WebSocket stayed open after the revoke: %v", err)
	}
	closed, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`window.wsClosedWith`))
	if !strings.HasPrefix(closed, "1008 wsgate: ") || !strings.Contains(closed, "revoked") {
		t.Fatalf("WebSocket closed with %q, want 1008 and the reason", closed)
	}
}

// signInLink asks the gateway for a `wsgate web` link with token.
func signInLink(t *testing.T, client *http.Client, base, token string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+apitypes.SignInCodesPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c apitypes.SignInCode
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.URL == "" {
		t.Fatalf("sign-in code: %s %v", resp.Status, err)
	}
	return c.URL
}

// caClient is an HTTP client trusting the CA in caFile.
func caClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate in " + caFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// pollAcrossNavigations waits until cond holds in the page, which may
// navigate (redirects, the sign-in page's own) while it waits.
func pollAcrossNavigations(ctx context.Context, cond string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%s never held", cond)
			}
			return err
		}
		time.Sleep(50 * time.Millisecond) // the page is navigating; look again
	}
}
