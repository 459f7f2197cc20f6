package webui_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway"
	"github.com/wsgate/wsgate/internal/devca"
)

// TestOpenAppFromWorkspaceView: carol, signed in with a `wsgate web` link,
// opens alice-ws's view by its address, sees it running with its agent
// connected, types an app's port and presses Open: a new tab lands on the
// app, through the apps sign-in redirects, without a token pasted.
func TestOpenAppFromWorkspaceView(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	must := mustFor(t)
	now := time.Now().UTC()
	tokens := map[string]string{}
	for _, name := range []string{"alice", "carol"} {
		must(st.CreateUser(ctx, acl.User{Name: name, CreatedAt: now}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "t", Hash: acl.HashToken(secret), CreatedAt: now}))
		tokens[name] = secret
	}
	agentToken := acl.NewSecret(acl.AgentTokenPrefix)
	id := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	must(st.CreateWorkspace(ctx, acl.Workspace{Owner: id.Owner, Name: id.Name, State: acl.StateRunning,
		AgentTokenHash: acl.HashToken(agentToken), CreatedAt: now, UpdatedAt: now}))
	must(st.ApplyGrants(ctx, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "carol", Role: acl.RoleUse}}))
	certs, err := devca.Ensure(filepath.Join(t.TempDir(), "ca"), []string{"127.0.0.1", "*." + appsDomain})
	if err != nil {
		t.Fatal(err)
	}
	srv := startGateway(t, gateway.ServerConfig{Store: st, AppsDomain: appsDomain, TLSCertFile: certs.Cert, TLSKeyFile: certs.Key,
		Logger: slog.New(slog.DiscardHandler)})
	base := "https://" + srv.HTTPAddr().String()
	client := caClient(t, certs.CA)
	runAgent(t, base, client.Transport.(*http.Transport).TLSClientConfig, id.String(), agentToken)
	app := startRecorder(t, func(int) string { return `<!doctype html><title>app</title><p id="t">the app</p>` })
	appHost := fmt.Sprintf("%d--alice-ws--alice.%s:%d", app.port, appsDomain, srv.HTTPAddr().(*net.TCPAddr).Port)

	bctx := startBrowser(t, chromedp.Flag("host-resolver-rules", "MAP *."+appsDomain+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiPin(t, certs.Cert, certs.Key)))
	link := signInLink(t, client, base, tokens["carol"])
	do(t, bctx, "sign in with the link", chromedp.Navigate(link), chromedp.WaitVisible(wsLink("alice/alice-ws")))
	do(t, bctx, "open the workspace's address",
		chromedp.Navigate(base+"/workspaces/alice/alice-ws"),
		chromedp.WaitVisible(chromedp.ID("app-port")),
	)
	waitText(t, bctx, "ws-state", "running")
	waitText(t, bctx, "ws-agent", "connected")
	if eval[bool](t, bctx, `!document.getElementById("share-open").hidden`) {
		t.Fatal("a use grantee is offered Share")
	}
	do(t, bctx, "type the port",
		chromedp.SendKeys(chromedp.ID("app-port"), fmt.Sprint(app.port)),
		chromedp.WaitVisible(chromedp.ID("app-link")),
	)
	newTab := chromedp.WaitNewTarget(bctx, func(info *target.Info) bool { return info.Type == "page" })
	do(t, bctx, "press Open", chromedp.Click(chromedp.ID("app-link")))
	var tabID target.ID
	select {
	case tabID = <-newTab:
	case <-time.After(10 * time.Second):
		t.Fatal("Open opened no tab")
	}
	tctx, cancel := chromedp.NewContext(bctx, chromedp.WithTargetID(tabID))
	defer cancel()
	want := "https://" + appHost + "/"
	if err := pollAcrossNavigations(tctx, `location.href === `+jsString(want)+` && document.getElementById("t") !== null && document.getElementById("t").textContent === "the app"`); err != nil {
		loc, _ := chromedp.Run(tctx, chromedp.Location())
		t.Fatalf("the new tab is at %s, want the app at %s: %v", loc, want, err)
	}
	if seen := strings.Join(app.saw(), ","); !strings.Contains(seen, "GET /") {
		t.Fatalf("the app saw %q", seen)
	}
}
