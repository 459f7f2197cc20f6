package webui_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway"
	"github.com/wsgate/wsgate/internal/devca"
)

// tlsGateway is an in-process gateway serving HTTPS with a certificate from
// a throwaway CA, over a store holding alice (owner of alice-ws) and bob.
type tlsGateway struct {
	url    string
	store  *filestore.Store
	tokens map[string]string
	certs  devca.Files
	caDir  string
}

func startTLSGateway(t *testing.T) *tlsGateway {
	t.Helper()
	ctx := t.Context()
	caDir := filepath.Join(t.TempDir(), "ca")
	files, err := devca.Ensure(caDir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	must := mustFor(t)
	now := time.Now().UTC()
	g := &tlsGateway{store: st, tokens: map[string]string{}, certs: files, caDir: caDir}
	for _, name := range []string{"alice", "bob"} {
		must(st.CreateUser(ctx, acl.User{Name: name, CreatedAt: now}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "web", Hash: acl.HashToken(secret), CreatedAt: now}))
		g.tokens[name] = secret
	}
	must(st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "alice-ws", State: acl.StateStopped,
		AgentTokenHash: acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix)), CreatedAt: now, UpdatedAt: now}))

	srv := startGateway(t, gateway.ServerConfig{Store: st, TLSCertFile: files.Cert, TLSKeyFile: files.Key})
	g.url = "https://" + srv.HTTPAddr().String()
	return g
}

// spkiPin is the base64 SHA-256 of a certificate's SubjectPublicKeyInfo,
// as Chromium's --ignore-certificate-errors-spki-list takes it.
func spkiPin(t *testing.T, certFile, keyFile string) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// startPinnedBrowser is startBrowser for a browser that trusts, besides
// the system's roots, only certificates whose key hashes to pin (the pin
// takes effect only with a user data dir, which startBrowser sets).
func startPinnedBrowser(t *testing.T, pin string) context.Context {
	t.Helper()
	return startBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", pin))
}

// otherLeafServer serves "other" over HTTPS with another certificate from
// the same CA (its own key), which the browser's pin does not cover.
func otherLeafServer(t *testing.T, caDir string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{devca.CAFile, devca.CAKeyFile} {
		b, err := os.ReadFile(filepath.Join(caDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, err := devca.Ensure(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<!doctype html><title>other</title>other")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	// The browser's refused handshakes are expected here.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSharingPageOverHTTPS: headless Chromium loads the sharing page from
// a gateway serving HTTPS (trust pinned to the gateway's key), signs in
// with a token, lists the workspace and shares it (a POST over TLS). A
// page with another certificate of the same CA, not pinned, does not load:
// the browser trusts the gateway because of the pin, not by accident.
func TestSharingPageOverHTTPS(t *testing.T) {
	g := startTLSGateway(t)
	other := otherLeafServer(t, g.caDir)
	ctx := startPinnedBrowser(t, spkiPin(t, g.certs.Cert, g.certs.Key))

	_, err := chromedp.Run(ctx, chromedp.Navigate(other+"/"))
	if err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
		t.Fatalf("a page with an untrusted certificate: navigation error %v, want ERR_CERT_AUTHORITY_INVALID", err)
	}

	do(t, ctx, "sign in as alice over https",
		chromedp.Navigate(g.url+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), g.tokens["alice"]),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.WaitVisible(wsLink("alice/alice-ws")),
	)
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.protocol + "//" + location.host + "|" + window.isSecureContext`))
	if err != nil || where != strings.TrimSuffix(g.url, "/")+"|true" {
		t.Fatalf("page at %q (%v), want %s in a secure context", where, err, g.url)
	}
	list, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#workspaces a")].map(b => b.textContent)`))
	if err != nil || strings.Join(list, ",") != "alice/alice-wsowner" {
		t.Fatalf("workspace list %q (%v)", list, err)
	}

	do(t, ctx, "share alice-ws with bob over https",
		chromedp.Click(wsLink("alice/alice-ws")),
		chromedp.WaitVisible(chromedp.ID("share-open")),
		chromedp.Click(chromedp.ID("share-open")),
		chromedp.WaitVisible(chromedp.ID("picker-input")),
		chromedp.SendKeys(chromedp.ID("picker-input"), "bob"),
		chromedp.Click(chromedp.ID("picker-add")),
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitVisible(rowSel("user:bob")),
	)
	gs, err := g.store.ListGrants(t.Context(), acl.WorkspaceID{Owner: "alice", Name: "alice-ws"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Subject != "bob" || gs[0].Role != acl.RoleUse {
		t.Fatalf("store: grants %+v, want bob at use", gs)
	}
}
