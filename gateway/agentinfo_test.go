package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/internal/agentinfo"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// Stats, logs and connections of a real agent over a real tunnel, while
// alice (front door) and bob (over HTTPS) are connected.
func TestAgentInfoWithARealAgent(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	ws := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	e.share(ws, acl.SubjectUser, "bob", acl.RoleUse)
	info := agentinfo.New(e.reg, e.sessions)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s, err := info.Stats(ctx, e.workspace(ws))
	if err != nil {
		t.Fatal(err)
	}
	if s.Connections != 0 || len(s.Users) != 0 || s.StartedAt.IsZero() {
		t.Fatalf("idle agent: %+v", s)
	}

	alice := e.mustDial("alice", "alice-ws")
	sess, err := alice.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("cat >/dev/null"); err != nil {
		t.Fatal(err)
	}
	hs := e.upgradeServer(false)
	token, _ := e.apiToken("bob")
	bob := e.mustDialHTTPS(hs, token, "alice-ws")
	if r := run(t, bob, "echo hi", nil); r.stdout != "hi\n" {
		t.Fatalf("bob: %+v", r)
	}

	testutil.Eventually(t, "alice's session in the agent's stats", func() bool {
		s, err = info.Stats(ctx, e.workspace(ws))
		return err == nil && s.Sessions == 1
	})
	if s.Connections != 2 || len(s.Users) != 2 || s.Users[0].Name != "alice" || s.Users[0].Sessions != 1 ||
		s.Users[1].Name != "bob" || s.Users[1].Connections != 1 || s.BytesIn == 0 || s.BytesOut == 0 {
		t.Fatalf("stats with alice and bob connected: %+v", s)
	}

	conns := info.Connections(e.workspace(ws))
	if len(conns) != 2 {
		t.Fatalf("connections: %+v", conns)
	}
	a, b := conns[0], conns[1]
	if a.User != "alice" || a.Via != "ssh" || a.KeyFingerprint == "" || a.SessionID == "" ||
		b.User != "bob" || b.Via != "https" || b.KeyFingerprint != "" || b.Since.Before(a.Since) {
		t.Fatalf("connections: %+v", conns)
	}
	if other := info.Connections(e.workspace(acl.WorkspaceID{Owner: "bob", Name: "bob-ws"})); len(other) != 0 {
		t.Fatalf("bob-ws connections: %+v", other)
	}

	lines, err := info.Logs(ctx, e.workspace(ws), 1000)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{`msg="ssh connection open" user=alice`, "user=bob", `msg="program started"`} {
		if !strings.Contains(all, want) {
			t.Errorf("agent logs lack %q:\n%s", want, all)
		}
	}
	if last, err := info.Logs(ctx, e.workspace(ws), 2); err != nil || len(last) != 2 || last[1] != lines[len(lines)-1] {
		t.Fatalf("last 2 lines: %q %v (all ends with %q)", last, err, lines[len(lines)-1])
	}
	_ = stdin.Close()
}

func TestAgentInfoAgentNotConnected(t *testing.T) {
	e := newEnv(t)
	info := agentinfo.New(e.reg, e.sessions)
	ws := acl.WorkspaceID{Owner: "bob", Name: "bob-ws"}
	if _, err := info.Stats(context.Background(), e.workspace(ws)); !errors.Is(err, httpapi.ErrAgentNotConnected) {
		t.Fatalf("stats: %v", err)
	}
	if _, err := info.Logs(context.Background(), e.workspace(ws), 10); !errors.Is(err, httpapi.ErrAgentNotConnected) {
		t.Fatalf("logs: %v", err)
	}
}

// fakeAgent connects a tunnel for key whose streams get handle instead of
// a real agent: agents that are older or stuck.
func (e *testEnv) fakeAgent(key string, handle func(net.Conn, tunnel.Header)) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tunnel.Run(ctx, tunnel.ClientConfig{
			URL: e.httpURL, Token: e.tokens[key], Handler: handle,
			MinBackoff: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		})
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	testutil.Eventually(e.t, "fake agent connected", func() bool { return e.reg.Connected(e.uid(key)) })
}

func TestAgentInfoOldAndStuckAgents(t *testing.T) {
	e := newEnv(t)
	ws := acl.WorkspaceID{Owner: "bob", Name: "bob-ws"}
	info := agentinfo.New(e.reg, e.sessions)

	// An agent that predates control streams closes them at once.
	e.fakeAgent("bob/bob-ws", func(c net.Conn, _ tunnel.Header) { _ = c.Close() })
	if _, err := info.Stats(context.Background(), e.workspace(ws)); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("old agent: %v", err)
	}

	// A stuck agent is given up on when ctx ends.
	release := make(chan struct{})
	stuck := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	e.fakeAgent("alice/alice-ws", func(c net.Conn, _ tunnel.Header) {
		<-release
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := info.Logs(ctx, e.workspace(stuck), 10); err == nil {
		t.Fatal("stuck agent answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// A refused old agent shows in LastRefusal of its workspace only (the
// registry is keyed by UID), until an agent of this version connects.
func TestAgentInfoLastRefusal(t *testing.T) {
	e := newEnv(t)
	info := agentinfo.New(e.reg, e.sessions)
	ws := acl.WorkspaceID{Owner: "bob", Name: "bob-ws"}
	req, err := http.NewRequest(http.MethodPost, e.httpURL+tunnel.ConnectPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens["bob/bob-ws"])
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", tunnel.UpgradeProtocol)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("old agent: %s", resp.Status)
	}
	r := info.LastRefusal(e.workspace(ws))
	if r == nil || r.Message != "tunnel protocol v1; upgrade the agent to v2" || time.Since(r.At) > time.Minute {
		t.Fatalf("LastRefusal = %+v", r)
	}
	if other := info.LastRefusal(e.workspace(acl.WorkspaceID{Owner: "alice", Name: "alice-ws"})); other != nil {
		t.Fatalf("alice-ws has bob's refusal: %+v", other)
	}
	e.startAgent("bob/bob-ws")
	testutil.Eventually(t, "refusal cleared", func() bool { return info.LastRefusal(e.workspace(ws)) == nil })
}
