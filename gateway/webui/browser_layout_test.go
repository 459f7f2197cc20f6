package webui_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wsgate/wsgate/acl"
)

// boxes returns the bounding boxes of the Share button and of what sits
// below the banners' old place (the status list, the actions, the shares
// heading), to compare before and after a banner comes or goes.
func boxes(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `["share-open", "status", "ws-actions", "no-shares"].map(id => {
		const r = document.getElementById(id).getBoundingClientRect();
		return id + ":" + [r.x, r.y, r.width, r.height].join(",");
	}).join(" ")`)
}

// TestBannersDoNotShiftInChromium: the agent-not-connected banner and a
// notice come and go without moving the Share button or anything else on
// the page; the banner is announced (inside a status live region), seen
// (inside the window) and leaves the page's end scrollable out from under
// it.
func TestBannersDoNotShiftInChromium(t *testing.T) {
	g := startLiveGateway(t)
	must := mustFor(t)
	must(g.store.ApplyGrants(t.Context(), aliceWS, []acl.GrantChange{{Kind: acl.SubjectGroup, Subject: "contractor", Role: acl.RoleNone}}))
	ctx := startBrowser(t)
	signInAt(t, ctx, g, "/workspaces/alice/alice-ws", "alice", "alice/alice-ws")
	waitText(t, ctx, "ws-agent", "not connected")
	before := boxes(t, ctx)

	// Running without its agent: the poll shows the banner.
	must(g.store.SetWorkspaceState(t.Context(), aliceWS, acl.StateRunning))
	do(t, ctx, "the agent banner comes", chromedp.WaitVisible(chromedp.ID("banner-agent")))
	if got := boxes(t, ctx); got != before {
		t.Fatalf("the banner moved the page:\nbefore %s\nafter  %s", before, got)
	}
	if !eval[bool](t, ctx, `document.getElementById("banner-agent").closest('[role="status"][aria-live="polite"]') !== null`) {
		t.Fatal("the banner is in no live region")
	}
	if !eval[bool](t, ctx, `(() => { const r = document.getElementById("banner-agent").getBoundingClientRect(); `+
		`return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; })()`) {
		t.Fatal("the banner is not in the window")
	}
	// The page's end can be scrolled out from under the bar.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`parseFloat(getComputedStyle(document.body).paddingBottom) >= `+
		`document.getElementById("statusbar").getBoundingClientRect().height`)); err != nil {
		t.Fatalf("the page is not padded by the status bar's height: %v", err)
	}

	// A notice too (a lifecycle action's), with the banner still there.
	do(t, ctx, "stop: a notice", chromedp.Click(chromedp.ID("ws-stop")), chromedp.WaitVisible(chromedp.ID("notice")),
		chromedp.WaitNotVisible(chromedp.ID("banner-agent")))
	waitText(t, ctx, "ws-state", "stopped")
	if got := boxes(t, ctx); got != before {
		t.Fatalf("the notice or the banner's leaving moved the page:\nbefore %s\nafter  %s", before, got)
	}
}
