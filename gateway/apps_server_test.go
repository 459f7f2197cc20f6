package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// TestServerApps runs apps through Start's HTTP port: the path and
// subdomain forms, the login route next to the API, and a live upgraded
// connection closed by Shutdown.
func TestServerApps(t *testing.T) {
	ctx := context.Background()
	logs := &testutil.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "acl.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	must(t, st.CreateUser(ctx, acl.User{Name: "alice"}))
	agentTok := acl.NewSecret(acl.AgentTokenPrefix)
	must(t, st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "alice-ws", State: acl.StateRunning, AgentTokenHash: acl.HashToken(agentTok)}))
	apiTok := acl.NewSecret(acl.APITokenPrefix)
	must(t, st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: "alice", Name: "t", Hash: acl.HashToken(apiTok), CreatedAt: time.Now()}))

	srv, err := Start(ServerConfig{
		Store: st, SSHAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HostSigner: testutil.NewSigner(t),
		AppsDomain: testAppsDomain, PathApps: true, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	shut := false
	t.Cleanup(func() {
		if !shut {
			_ = srv.Shutdown(context.Background())
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	base := "http://" + srv.HTTPAddr().String()

	a, err := agent.New(agent.Config{Workspace: "alice/alice-ws", Dir: t.TempDir(), Shell: "/bin/sh", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- tunnel.Run(actx, tunnel.ClientConfig{
			URL: base, Identity: agentIdentity(t, agentTok), Handler: a.HandleStream,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		})
	}()
	t.Cleanup(func() {
		stopAgent()
		<-agentDone
		_ = a.Close()
	})
	testutil.Eventually(t, "agent connected", func() bool { return srv.Agents().Connected(uidOf(t, st, "alice", "alice-ws")) })
	app := startTestApp(t)

	ae := &appEnv{testEnv: &testEnv{t: t}, base: base, appPort: app.port, app: app}
	code, body := ae.get(ae.appPath("alice/alice-ws", "/p"), "", apiTok)
	wantStatus(t, "path form", code, body, http.StatusOK, "uri=/p\n")
	code, body = ae.get("/s", fmt.Sprintf("%d--alice-ws--alice.%s", app.port, testAppsDomain), apiTok)
	wantStatus(t, "subdomain form", code, body, http.StatusOK, "uri=/s\n")
	code, _ = ae.get("/api/v1/deployment", "", apiTok)
	wantStatus(t, "API", code, "", http.StatusOK, "")

	// The app sign-in's code endpoint sits next to the API; it wants a
	// host under the apps domain.
	req, _ := http.NewRequest("POST", base+apitypes.AppCodePath, strings.NewReader(`{"host":"example.com","state":"0123456789abcdef"}`))
	req.Header.Set("Authorization", "Bearer "+apiTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("app code for a foreign host: %s", resp.Status)
	}

	// Shutdown closes an upgraded connection, which http.Server does not
	// track, and waits for its handler.
	_, br := ae.dialUpgrade(ae.appPath("alice/alice-ws", "/ws"), apiTok)
	<-app.upgrade
	readLine(t, br)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	shut = true
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	waitClosed(t, "upgraded connection at shutdown", br)
}

// uidOf reads the UID of owner/name from st.
func uidOf(t *testing.T, st acl.Store, owner, name string) string {
	t.Helper()
	w, err := st.GetWorkspace(context.Background(), acl.WorkspaceID{Owner: owner, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return w.UID
}
