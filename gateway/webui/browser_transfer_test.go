package webui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wsgate/wsgate/acl"
)

// setSelect picks value in the select id, as a user would (the change
// event follows).
func setSelect(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	eval[bool](t, ctx, `(() => { const s = document.getElementById(`+jsString(id)+`); `+
		`s.value = `+jsString(value)+`; s.dispatchEvent(new Event("change")); return s.value === `+jsString(value)+`; })()`)
}

// TestTransferInChromium: a use or admin grantee is not offered Transfer;
// alice transfers alice-ws to bob keeping use, after a summary that says
// so, and the page follows it to bob/alice-ws where her role is use; a
// transfer to an unknown user is refused in the dialog; a transfer keeping
// nothing goes back to the list with a notice.
func TestTransferInChromium(t *testing.T) {
	g := startLiveGateway(t)
	must := mustFor(t)
	now := time.Now().UTC()
	spare := acl.WorkspaceID{Owner: "alice", Name: "spare-ws"}
	must(g.store.CreateWorkspace(t.Context(), acl.Workspace{Owner: spare.Owner, Name: spare.Name, State: acl.StateStopped,
		AgentTokenHash: acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix)), CreatedAt: now, UpdatedAt: now}))
	ctx := startBrowser(t)

	// alice holds use on bob-ws: no Transfer. As admin: Share, still no
	// Transfer.
	signInAt(t, ctx, g, "/workspaces/bob/bob-ws", "alice", "bob/bob-ws")
	if !eval[bool](t, ctx, `document.getElementById("transfer-open").hidden`) {
		t.Fatal("a use grantee is offered Transfer")
	}
	must(g.store.ApplyGrants(t.Context(), acl.WorkspaceID{Owner: "bob", Name: "bob-ws"},
		[]acl.GrantChange{{Kind: acl.SubjectUser, Subject: "alice", Role: acl.RoleAdmin}}))
	do(t, ctx, "reload as admin", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("share-open")))
	waitText(t, ctx, "ws-role", "Your role: admin")
	if !eval[bool](t, ctx, `document.getElementById("transfer-open").hidden`) {
		t.Fatal("an admin grantee is offered Transfer")
	}

	// The owner is offered it; the summary says what happens.
	do(t, ctx, "open alice-ws, press Transfer",
		chromedp.Click(wsLink("alice/alice-ws")),
		chromedp.WaitVisible(chromedp.ID("transfer-open")),
		chromedp.Click(chromedp.ID("transfer-open")),
		chromedp.WaitVisible(chromedp.ID("transfer-dialog")),
	)
	if !eval[bool](t, ctx, focused("transfer-to")) {
		t.Fatal("the dialog does not focus the new owner's field")
	}
	if !eval[bool](t, ctx, `document.getElementById("transfer-confirm").disabled`) {
		t.Fatal("Transfer is enabled with no new owner")
	}
	do(t, ctx, "type bob", chromedp.SendKeys(chromedp.ID("transfer-to"), "bob"))
	summary := func() string { return eval[string](t, ctx, `document.getElementById("transfer-summary").textContent`) }
	if s := summary(); !strings.Contains(s, "alice/alice-ws will belong to bob and move to bob/alice-ws.") ||
		!strings.Contains(s, "alice will lose access; they have no live session now.") {
		t.Fatalf("summary keeping nothing: %q", s)
	}
	setSelect(t, ctx, "transfer-keep", "use")
	if s := summary(); !strings.Contains(s, "alice will keep use access.") {
		t.Fatalf("summary keeping use: %q", s)
	}
	screenshot(t, ctx, "transfer-dialog", 800)
	do(t, ctx, "press Transfer to bob",
		chromedp.Click(chromedp.ID("transfer-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("transfer-dialog")),
	)
	waitText(t, ctx, "ws-title", "bob/alice-ws")
	waitText(t, ctx, "ws-role", "Your role: use")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/workspaces/bob/alice-ws") {
		t.Fatalf("the page is at %s, want /workspaces/bob/alice-ws", loc)
	}
	if !eval[bool](t, ctx, `document.getElementById("transfer-open").hidden && document.getElementById("share-open").hidden`) {
		t.Fatal("alice, now a use grantee, is offered Transfer or Share")
	}
	if n := eval[string](t, ctx, `document.getElementById("notice").textContent`); !strings.Contains(n, "now belongs to bob") {
		t.Fatalf("notice %q", n)
	}
	ws, err := g.store.GetWorkspace(t.Context(), acl.WorkspaceID{Owner: "bob", Name: "alice-ws"})
	must(err)
	if ws.Owner != "bob" {
		t.Fatalf("store: %+v", ws)
	}

	// spare-ws: an unknown new owner is refused in the dialog; carol,
	// keeping nothing, takes it and the page goes back to the list.
	do(t, ctx, "open spare-ws, transfer to nobody",
		chromedp.Click(wsLink("alice/spare-ws")),
		chromedp.WaitVisible(chromedp.ID("transfer-open")),
		chromedp.Click(chromedp.ID("transfer-open")),
		chromedp.WaitVisible(chromedp.ID("transfer-dialog")),
		chromedp.SendKeys(chromedp.ID("transfer-to"), "nobody"),
		chromedp.Click(chromedp.ID("transfer-confirm")),
		chromedp.WaitVisible(chromedp.ID("transfer-errors")),
	)
	if msg := eval[string](t, ctx, `document.getElementById("transfer-errors").textContent`); msg != `user "nobody" not found` {
		t.Fatalf("transfer errors %q", msg)
	}
	eval[string](t, ctx, `document.getElementById("transfer-to").value = ""`)
	do(t, ctx, "transfer to carol instead",
		chromedp.SendKeys(chromedp.ID("transfer-to"), "carol"),
		chromedp.Click(chromedp.ID("transfer-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("transfer-dialog")),
		chromedp.WaitNotVisible(chromedp.ID("detail")),
		chromedp.WaitNotPresent(wsLink("alice/spare-ws")),
	)
	if n := eval[string](t, ctx, `document.getElementById("notice").textContent`); !strings.Contains(n, "you no longer have access") {
		t.Fatalf("notice %q", n)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/") {
		t.Fatalf("the page is at %s, want the list", loc)
	}
	if _, err := g.store.GetWorkspace(t.Context(), acl.WorkspaceID{Owner: "carol", Name: "spare-ws"}); err != nil {
		t.Fatalf("store: carol/spare-ws: %v", err)
	}
}
