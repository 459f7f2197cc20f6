package webui_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway"
)

const chromiumPath = "/usr/bin/chromium"

// liveGateway is an in-process gateway with a real filestore, seeded with
// alice (owner of alice-ws and locked-ws, the latter in org "x" whose
// sharing is off), bob (owner of bob-ws, shared with alice), carol and
// group contractor holding an expiring grant on alice-ws.
type liveGateway struct {
	url     string
	store   *filestore.Store
	tokens  map[string]string
	expires time.Time
}

func startLiveGateway(t *testing.T) *liveGateway {
	t.Helper()
	ctx := t.Context()
	st := openStore(t)
	must := mustFor(t)
	now := time.Now().UTC()
	g := &liveGateway{store: st, tokens: map[string]string{}, expires: now.Add(48 * time.Hour).Truncate(time.Second)}
	must(st.CreateOrg(ctx, acl.Org{Name: "x", SharingDisabled: true, CreatedAt: now}))
	for _, name := range []string{"alice", "bob", "carol"} {
		must(st.CreateUser(ctx, acl.User{Name: name, CreatedAt: now}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "web", Hash: acl.HashToken(secret), CreatedAt: now}))
		g.tokens[name] = secret
	}
	must(st.CreateGroup(ctx, acl.Group{Name: "contractor", CreatedAt: now}))
	must(st.AddGroupMember(ctx, "contractor", "carol"))
	for _, w := range []acl.Workspace{
		{Owner: "alice", Name: "alice-ws"},
		{Owner: "alice", Name: "locked-ws", Org: "x"},
		{Owner: "bob", Name: "bob-ws"},
	} {
		w.State = acl.StateStopped
		w.AgentTokenHash = acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix))
		w.CreatedAt, w.UpdatedAt = now, now
		must(st.CreateWorkspace(ctx, w))
	}
	must(st.ApplyGrants(ctx, acl.WorkspaceID{Owner: "alice", Name: "alice-ws"},
		[]acl.GrantChange{{Kind: acl.SubjectGroup, Subject: "contractor", Role: acl.RoleUse, ExpiresAt: g.expires}}))
	must(st.ApplyGrants(ctx, acl.WorkspaceID{Owner: "bob", Name: "bob-ws"},
		[]acl.GrantChange{{Kind: acl.SubjectUser, Subject: "alice", Role: acl.RoleUse}}))

	g.url = "http://" + startGateway(t, gateway.ServerConfig{Store: st}).HTTPAddr().String()
	return g
}

// openStore opens a file store in a temporary directory, closed when the
// test ends.
func openStore(t *testing.T) *filestore.Store {
	t.Helper()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// mustFor returns a check that fails t on a non-nil error.
func mustFor(t *testing.T) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startGateway runs a gateway with cfg on loopback ports, a fresh host key
// unless cfg has one, and no logs unless cfg has a Logger, until the test
// ends.
func startGateway(t *testing.T, cfg gateway.ServerConfig) *gateway.Server {
	t.Helper()
	if cfg.HostSigner == nil {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HostSigner, err = ssh.NewSignerFromKey(key); err != nil {
			t.Fatal(err)
		}
	}
	cfg.SSHAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := gateway.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	return srv
}

// grants returns alice-ws's grants as "kind:name=role".
func (g *liveGateway) grants(t *testing.T) map[string]string {
	t.Helper()
	gs, err := g.store.ListGrants(t.Context(), acl.WorkspaceID{Owner: "alice", Name: "alice-ws"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, gr := range gs {
		out[gr.Kind.String()+":"+gr.Subject] = gr.Role.String()
	}
	return out
}

// expiry returns when user's grant on alice-ws expires.
func (g *liveGateway) expiry(t *testing.T, user string) time.Time {
	t.Helper()
	gs, err := g.store.ListGrants(t.Context(), acl.WorkspaceID{Owner: "alice", Name: "alice-ws"})
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range gs {
		if gr.Kind == acl.SubjectUser && gr.Subject == user {
			return gr.ExpiresAt
		}
	}
	t.Fatalf("store: %s holds no grant on alice-ws", user)
	return time.Time{}
}

// startBrowser runs headless Chromium with a fresh profile and nothing
// that reaches for the network on its own; extra adds allocator options.
func startBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI: %v", err)
		}
		t.Skipf("no %s: %v", chromiumPath, err)
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 700),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	}, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close browser: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	// Bound the whole browser session; each step waits far less.
	ctx, stop := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(stop)
	return ctx
}

// do runs browser steps, then waits until the page has finished every API
// call they started (<main aria-busy="false">), failing the test with what
// was being done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById("main").getAttribute("aria-busy") === "false"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%s: the page stays busy: %v", what, err)
	}
}

// waitAlert waits until the alert shows a text containing want.
func waitAlert(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`!document.getElementById("error").hidden && document.getElementById("error").textContent.includes(`+jsString(want)+`)`,
		chromedp.WithPollingTimeout(10*time.Second)))
	got, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("error")))
	if err != nil {
		t.Fatalf("alert never said %q; it says %q (%v)", want, got, err)
	}
	return got
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// wsLink selects the list's link to workspace owner/name.
func wsLink(id string) chromedp.CSS {
	return chromedp.CSS(`#workspaces a[data-workspace="` + id + `"]`)
}

// dialogRow selects the Share dialog's row of kind:name.
func dialogRow(subject string) chromedp.CSS {
	return chromedp.CSS(`#dialog-shares tr[data-subject="` + subject + `"]`)
}

// openShareDialog presses Share and waits for the dialog.
func openShareDialog(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "press Share",
		chromedp.Click(chromedp.ID("share-open")),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
	)
}

// rowSel selects the share row of kind:name.
func rowSel(subject string) chromedp.CSS {
	return chromedp.CSS(`#shares tr[data-subject="` + subject + `"]`)
}

// pollGrants waits until alice-ws's grants in the store satisfy ok.
func (g *liveGateway) pollGrants(t *testing.T, what string, ok func(map[string]string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := g.grants(t)
		if ok(got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: grants are %v", what, got)
		}
		time.Sleep(20 * time.Millisecond) // polling the store, with a deadline
	}
}

// TestShareButtonInChromium: signing in (a wrong token, then alice's),
// the list and its roles, no token kept, a reload, a share with an expiry
// through the dialog, an unknown name refused per entry, sign out.
func TestShareButtonInChromium(t *testing.T) {
	g := startLiveGateway(t)
	ctx := startBrowser(t)

	// A wrong token is refused with the API's message and keeps the form.
	do(t, ctx, "open page",
		chromedp.Navigate(g.url+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "wsg_not-a-token"),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
	)
	waitAlert(t, ctx, "unauthorized: missing, invalid or expired API token")
	do(t, ctx, "sign-in form stays", chromedp.WaitVisible(chromedp.ID("token")))

	do(t, ctx, "sign in as alice",
		chromedp.SendKeys(chromedp.ID("token"), g.tokens["alice"]),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.WaitVisible(wsLink("alice/alice-ws")),
	)
	who, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("username")))
	if err != nil || who != "alice" {
		t.Fatalf("signed in as %q (%v), want alice", who, err)
	}
	// Own and shared workspaces, each with alice's role.
	list, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#workspaces a")].map(b => b.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice/alice-wsowner", "alice/locked-wsowner", "bob/bob-wsuse"}; strings.Join(list, ",") != strings.Join(want, ",") {
		t.Fatalf("workspace list %q, want %q", list, want)
	}
	// The token is kept nowhere the page can read: not in the URL, not in
	// a readable cookie (the session cookie is HttpOnly), not in storage.
	leak, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[location.href, document.cookie, localStorage.length, sessionStorage.length].join("|")`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(leak, "wsg_") || !strings.HasSuffix(leak, "||0|0") {
		t.Fatalf("token leaks: href|cookie|localStorage|sessionStorage = %q", leak)
	}
	// A reload stays signed in: the session is the cookie's.
	do(t, ctx, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible(wsLink("alice/alice-ws")),
	)

	// A workspace shared with alice at use: shares visible, no Share button.
	do(t, ctx, "open bob/bob-ws",
		chromedp.Click(wsLink("bob/bob-ws")),
		chromedp.WaitVisible(rowSel("user:alice")),
		chromedp.WaitNotVisible(chromedp.ID("share-open")),
		chromedp.WaitNotVisible(chromedp.ID("rename")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/workspaces/bob/bob-ws") {
		t.Fatalf("the view is at %s, want /workspaces/bob/bob-ws", loc)
	}

	// alice-ws: the group's expiring grant is listed with its expiry.
	do(t, ctx, "open alice/alice-ws",
		chromedp.Click(wsLink("alice/alice-ws")),
		chromedp.WaitVisible(rowSel("group:contractor")),
		chromedp.WaitVisible(chromedp.ID("share-open")),
	)
	row, err := chromedp.Run(ctx, chromedp.TextContent(rowSel("group:contractor")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "groupcontractoruse" + g.expires.Format(time.RFC3339); row != want {
		t.Fatalf("contractor row %q, want %q", row, want)
	}

	// An expiring share: the form takes the browser's local time, the
	// store holds it in UTC and the list shows it. A name typed in full
	// (no pick) is added as the kind selected.
	openShareDialog(t, ctx)
	wantExp, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.getElementById("share-expires").value = "2031-05-06T07:08"; `+
			`new Date("2031-05-06T07:08").toISOString().replace(/\.000Z$/, "Z")`))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "share with carol until 2031-05-06 07:08",
		chromedp.SendKeys(chromedp.ID("picker-input"), "carol"),
		chromedp.Click(chromedp.ID("picker-add")),
		chromedp.WaitVisible(dialogRow("user:carol")),
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitVisible(rowSel("user:carol")),
	)
	row, err = chromedp.Run(ctx, chromedp.TextContent(rowSel("user:carol")))
	if err != nil || row != "usercaroluse"+wantExp {
		t.Fatalf("carol row %q (%v), want expiry %s", row, err, wantExp)
	}
	if got := g.expiry(t, "carol"); got.Format(time.RFC3339) != wantExp {
		t.Fatalf("store: carol's grant expires %v, want %s", got, wantExp)
	}

	// An unknown user among good entries: the API's message for that
	// entry, in the dialog, the row marked, and nothing applied.
	openShareDialog(t, ctx)
	do(t, ctx, "share with nobody and bob",
		chromedp.SendKeys(chromedp.ID("picker-input"), "nobody"),
		chromedp.Click(chromedp.ID("picker-add")),
		chromedp.SendKeys(chromedp.ID("picker-input"), "bob"),
		chromedp.Click(chromedp.ID("picker-add")),
		chromedp.WaitVisible(dialogRow("user:bob")),
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitVisible(chromedp.ID("dialog-errors")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr[data-subject="user:nobody"][aria-invalid="true"]`)),
	)
	msg, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("dialog-errors")))
	if err != nil || msg != `user "nobody" not found` {
		t.Fatalf("dialog errors %q (%v)", msg, err)
	}
	if got := g.grants(t); got["user:nobody"] != "" || got["user:bob"] != "" {
		t.Fatalf("store: grants %v after a refused batch", got)
	}
	do(t, ctx, "cancel", chromedp.Click(chromedp.ID("share-cancel")), chromedp.WaitNotVisible(chromedp.ID("share-dialog")))

	do(t, ctx, "sign out",
		chromedp.Click(chromedp.ID("signout")),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.WaitNotVisible(chromedp.ID("app")),
	)
	left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`sessionStorage.length`))
	if err != nil || left != 0 {
		t.Fatalf("sessionStorage holds %d items after sign-out (%v)", left, err)
	}
	// Signed out means the cookie is gone: a reload shows the form.
	do(t, ctx, "reload after sign-out",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
}

// saveScreenshot checks the PNG decodes and is at least minW wide, and
// keeps it as name.png: in docs/screenshots with WSGATE_UPDATE_SCREENSHOTS=1
// (the README shows those), else in $WEBUI_SCREENSHOT_DIR or the test's temp
// dir.
func saveScreenshot(t *testing.T, data []byte, name string, minW int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < minW || b.Dy() < 300 {
		t.Fatalf("screenshot is %v", b)
	}
	dir := os.Getenv("WEBUI_SCREENSHOT_DIR")
	if os.Getenv("WSGATE_UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
