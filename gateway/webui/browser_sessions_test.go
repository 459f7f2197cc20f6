package webui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway"
	"github.com/wsgate/wsgate/internal/testutil"
)

// liveSession is a long command run over SSH; done gets its end.
type liveSession struct {
	done chan error
}

// startSession dials the gateway at addr as the key's user, logging in to
// target, and runs a command that lasts until the gateway ends it.
func startSession(t *testing.T, addr, target string, key ssh.Signer, hostKey ssh.PublicKey) *liveSession {
	t.Helper()
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: target, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s: %v", target, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	out := &testutil.Buffer{}
	s.Stdout = out
	if err := s.Start("echo started; sleep 600"); err != nil {
		t.Fatal(err)
	}
	ls := &liveSession{done: make(chan error, 1)}
	go func() { ls.done <- s.Wait() }()
	testutil.Eventually(t, "the command started", func() bool { return strings.Contains(out.String(), "started") })
	return ls
}

// TestRemoveWithLiveSessionsInChromium: bob holds two live SSH sessions on
// alice-ws (a real agent behind it); alice sees them in "Connected now",
// and removing bob's share names them in its confirmation; once she
// confirms, both sessions end and the list empties.
func TestRemoveWithLiveSessionsInChromium(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	must := mustFor(t)
	now := time.Now().UTC()
	g := &liveGateway{store: st, tokens: map[string]string{}}
	for _, name := range []string{"alice", "bob"} {
		must(st.CreateUser(ctx, acl.User{Name: name, CreatedAt: now}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "web", Hash: acl.HashToken(secret), CreatedAt: now}))
		g.tokens[name] = secret
	}
	bobKey := testutil.NewSigner(t)
	must(st.AddUserKey(ctx, "bob", acl.PublicKey{
		Fingerprint:   ssh.FingerprintSHA256(bobKey.PublicKey()),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(bobKey.PublicKey()))),
		AddedAt:       now,
	}))
	agentToken := acl.NewSecret(acl.AgentTokenPrefix)
	must(st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "alice-ws", State: acl.StateRunning,
		AgentTokenHash: acl.HashToken(agentToken), CreatedAt: now, UpdatedAt: now}))
	must(st.ApplyGrants(ctx, aliceWS, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse}}))
	hostKey := testutil.NewSigner(t)
	srv := startGateway(t, gateway.ServerConfig{Store: st, HostSigner: hostKey})
	g.url = "http://" + srv.HTTPAddr().String()
	runAgent(t, g.url, nil, aliceWS.String(), agentToken)

	bctx := startBrowser(t)
	signInAt(t, bctx, g, "/workspaces/alice/alice-ws", "alice", "alice/alice-ws")
	waitText(t, bctx, "ws-agent", "connected") // the page's poll follows the agent
	sessions := []*liveSession{
		startSession(t, srv.SSHAddr().String(), "alice/alice-ws", bobKey, hostKey.PublicKey()),
		startSession(t, srv.SSHAddr().String(), "alice/alice-ws", bobKey, hostKey.PublicKey()),
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`[...document.querySelectorAll("#connections tbody tr")].filter(r => r.cells[0].textContent === "bob").length === 2`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("Connected now does not list bob's two sessions: %v", err)
	}
	openShareDialog(t, bctx)
	do(t, bctx, "remove bob",
		chromedp.Click(chromedp.CSS(`#dialog-shares tr[data-subject="user:bob"] button.remove`)),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
	)
	if text := eval[string](t, bctx, `document.getElementById("confirm-text").textContent`); !strings.HasPrefix(text, "bob has 2 live sessions on alice/alice-ws; they will be closed.") {
		t.Fatalf("confirmation says %q", text)
	}
	for i, s := range sessions {
		select {
		case err := <-s.done:
			t.Fatalf("session %d ended before Confirm: %v", i, err)
		default:
		}
	}
	do(t, bctx, "confirm the removal",
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr.removed[data-subject="user:bob"]`)),
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitNotPresent(rowSel("user:bob")),
	)
	for i, s := range sessions {
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("bob's session %d is still running after the removal", i)
		}
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`!document.getElementById("no-connections").hidden`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("Connected now still lists sessions: %v", err)
	}
}
