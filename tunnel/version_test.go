package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// postUpgrade asks g for a tunnel with token, sending version as
// VersionHeader unless it is "" (an agent before the header, v1), and
// returns the answer and its body.
func postUpgrade(t *testing.T, g *gateway, token, version string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.url+ConnectPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", UpgradeProtocol)
	if version != "" {
		req.Header.Set(VersionHeader, version)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestGatewayRefusesAnAgentOfAnotherVersion(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	for _, tc := range []struct {
		version, reason, body string
	}{
		{"", "tunnel protocol v1; upgrade the agent to v2",
			"wsgate agent speaks tunnel protocol v1; this gateway needs v2: upgrade the agent to v2"},
		{"3", "tunnel protocol v3; upgrade the agent to v2",
			"wsgate agent speaks tunnel protocol v3; this gateway needs v2: upgrade the agent to v2"},
		{"two", `tunnel protocol "two"; upgrade the agent to v2`,
			`wsgate agent speaks tunnel protocol "two"; this gateway needs v2: upgrade the agent to v2`},
	} {
		resp, body := postUpgrade(t, g, "tok", tc.version)
		if resp.StatusCode != http.StatusUpgradeRequired || strings.TrimSpace(body) != tc.body {
			t.Errorf("version %q: answer %s %q, want 426 %q", tc.version, resp.Status, body, tc.body)
		}
		if v := resp.Header.Get(VersionHeader); v != "2" {
			t.Errorf("version %q: answer's %s %q, want 2", tc.version, VersionHeader, v)
		}
		msg, at, ok := g.reg.LastRefusal(wsKey)
		if !ok || msg != tc.reason || time.Since(at) > time.Minute {
			t.Errorf("version %q: LastRefusal = %q, %v, %v; want %q now", tc.version, msg, at, ok, tc.reason)
		}
	}
	if ev := g.events.list(); len(ev) != 0 || g.reg.Connected(wsKey) {
		t.Fatalf("a refused agent got a tunnel: events %q", ev)
	}
	// Three refusals within a minute: one WARN.
	if n := strings.Count(g.logs.String(), "agent refused: it speaks another tunnel protocol"); n != 1 {
		t.Fatalf("%d refusals logged, want 1:\n%s", n, g.logs)
	}
	if !strings.Contains(g.logs.String(), "level=WARN") || !strings.Contains(g.logs.String(), "workspace="+wsKey) ||
		!strings.Contains(g.logs.String(), "agent_version=v1") {
		t.Fatalf("the refusal's log lacks level, workspace or version:\n%s", g.logs)
	}

	// An agent of this version connects, and the refusal is history.
	a := startAgent(t, g.url, "tok", nil)
	a.waitConnect(t)
	if msg, _, ok := g.reg.LastRefusal(wsKey); ok {
		t.Fatalf("LastRefusal = %q after a v2 agent connected", msg)
	}
	if err := roundTrip(t, g.reg, Header{Kind: KindSSH, User: "alice"}, 1024); err != nil {
		t.Fatal(err)
	}
}

// Only the workspace's own agent can put a refusal in its status.
func TestUnauthenticatedOldAgentRecordsNothing(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	resp, _ := postUpgrade(t, g, "stranger", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("answer %s, want 401", resp.Status)
	}
	if msg, _, ok := g.reg.LastRefusal(wsKey); ok {
		t.Fatalf("LastRefusal = %q from an unauthenticated request", msg)
	}
}

func TestRefusalLogIsRateLimitedPerKey(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	g := startGatewayWith(t, "127.0.0.1:0", newTokens("tok", wsKey, "tok2", "bob/ws").auth,
		func(c *RegistryConfig) { c.now = clock })
	const line = "agent refused: it speaks another tunnel protocol"
	for range 3 {
		postUpgrade(t, g, "tok", "")
	}
	postUpgrade(t, g, "tok2", "") // another key has its own limit
	if n := strings.Count(g.logs.String(), line); n != 2 {
		t.Fatalf("%d refusals logged, want 2 (one per key):\n%s", n, g.logs)
	}
	advance(refusalLogEvery)
	postUpgrade(t, g, "tok", "")
	logs := g.logs.String()
	if n := strings.Count(logs, line); n != 3 {
		t.Fatalf("%d refusals logged a minute later, want 3:\n%s", n, logs)
	}
	if !strings.Contains(logs, "suppressed=2") {
		t.Fatalf("the later log does not count the 2 unlogged refusals:\n%s", logs)
	}
	_, at, _ := g.reg.LastRefusal(wsKey)
	if !at.Equal(time.Unix(1000, 0).Add(refusalLogEvery)) {
		t.Fatalf("LastRefusal at %v, want the latest refusal's time", at)
	}
}

func TestRefusalsAreBounded(t *testing.T) {
	reg := NewRegistry(RegistryConfig{})
	defer reg.Close()
	t0 := time.Unix(0, 0)
	clock := t0
	reg.cfg.now = func() time.Time { return clock }
	for i := range maxRefusals + 1 {
		clock = t0.Add(time.Duration(i) * time.Second)
		reg.refuse(fmt.Sprintf("k%d", i), "m")
	}
	if len(reg.refusals) != maxRefusals {
		t.Fatalf("%d refusals kept, want %d", len(reg.refusals), maxRefusals)
	}
	if _, _, ok := reg.LastRefusal("k0"); ok {
		t.Fatal("the oldest refusal was kept")
	}
	if _, _, ok := reg.LastRefusal(fmt.Sprintf("k%d", maxRefusals)); !ok {
		t.Fatal("the newest refusal was dropped")
	}
}

// versionGateway answers every tunnel request with status and, unless
// version is "", VersionHeader: version.
func versionGateway(t *testing.T, status int, version, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if version != "" {
			w.Header().Set(VersionHeader, version)
		}
		http.Error(w, body, status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAgentReportsAGatewayOfAnotherVersion(t *testing.T) {
	for name, tc := range map[string]struct {
		url      string
		mismatch bool
		want     string
	}{
		"newer gateway refuses": {
			versionGateway(t, http.StatusUpgradeRequired, "3", "wsgate agent speaks tunnel protocol v2; this gateway needs v3"), true,
			"gateway speaks tunnel protocol v3; this agent speaks v2: upgrade the agent"},
		"older gateway accepts": {
			rawGatewayURL(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: wsgate-tunnel\r\n\r\n"), true,
			"gateway speaks tunnel protocol v1; this agent speaks v2: upgrade the gateway (or run a v1 agent)"},
		"101 of a newer gateway": {
			rawGatewayURL(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: wsgate-tunnel\r\nWsgate-Tunnel-Version: 9\r\n\r\n"), true,
			"gateway speaks tunnel protocol v9; this agent speaks v2: upgrade the agent"},
		"same version refuses otherwise": {
			versionGateway(t, http.StatusForbidden, "2", "nope"), false, `403 Forbidden: "nope"`},
		"a proxy refuses": {
			versionGateway(t, http.StatusBadGateway, "", "no upstream"), false, `502 Bad Gateway: "no upstream"`},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := Run(ctx, ClientConfig{
				URL: tc.url, Token: "t", Handler: func(net.Conn, Header) {},
				GiveUp: func(error, bool) bool { return true },
			})
			if errors.Is(err, ErrVersionMismatch) != tc.mismatch || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v; want %q, a version mismatch: %v", err, tc.want, tc.mismatch)
			}
		})
	}
}

// rawGatewayURL is rawGateway's URL, for a client that dials once.
func rawGatewayURL(t *testing.T, reply string) string {
	url, _ := rawGateway(t, reply)
	return url
}

func TestAgentLogsVersionMismatchAndRetries(t *testing.T) {
	url := versionGateway(t, http.StatusUpgradeRequired, "3", "needs v3")
	a := startAgent(t, url, "tok", nil)
	testutil.Eventually(t, "two logged mismatches", func() bool {
		return strings.Count(a.logs.String(), "this agent speaks v2: upgrade the agent") >= 2
	})
	if !strings.Contains(a.logs.String(), "level=ERROR msg=\"the gateway speaks another tunnel protocol\"") {
		t.Fatalf("mismatch not logged as an error:\n%s", a.logs)
	}
	a.stop(t)
}
