package e2e

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// TestOldAgentRefusalIsShown: an agent of the previous tunnel protocol
// (no Wsgate-Tunnel-Version) is told to upgrade, `wsgate workspaces show`
// says it was refused, and an agent of this version clears that.
func TestOldAgentRefusalIsShown(t *testing.T) {
	dir := t.TempDir()
	token := seedServer(t, dir)
	addTokenAndStop(t, dir, "alice")
	d := startServer(t, dir)

	// What a v1 agent sends.
	req, err := http.NewRequest(http.MethodPost, d.url+tunnel.ConnectPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", tunnel.UpgradeProtocol)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("old agent: %s %q, want 426", resp.Status, body)
	}
	mustContain(t, "old agent's answer", string(body), "wsgate agent speaks tunnel protocol v1; this gateway needs v2: upgrade the agent to v2")

	show := d.wsgateCLI(t, "alice", "workspaces", "show", "alice-ws")
	if show.code != 0 {
		t.Fatalf("workspaces show: %d %s", show.code, show.stderr)
	}
	mustContain(t, "workspaces show", show.stdout, "agent: refused (tunnel protocol v1; upgrade the agent to v2) at ")
	mustContain(t, "server log", d.proc.out.String(), "agent refused: it speaks another tunnel protocol")

	// (The workspace is stopped: its agent connects all the same.)
	startWorkspaceAgent(t, d.url, token, aliceWS, filepath.Join(dir, "ws"))
	testutil.WaitFor(t, 20*time.Second, "the refusal cleared by a v2 agent", func() bool {
		show = d.wsgateCLI(t, "alice", "workspaces", "show", "alice-ws")
		return show.code == 0 && !strings.Contains(show.stdout, "refused")
	})
}
