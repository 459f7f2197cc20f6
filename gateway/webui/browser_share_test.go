package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/wsgate/wsgate/acl"
)

var aliceWS = acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}

// option selects the picker's suggestion of kind:name.
func option(subject string) chromedp.CSS {
	return chromedp.CSS(`#picker-list li[data-subject="` + subject + `"]`)
}

// signInAt opens path on the gateway and signs in there with user's token
// (the fallback form), waiting until the workspace view shows title.
func signInAt(t *testing.T, ctx context.Context, g *liveGateway, path, user, title string) {
	t.Helper()
	do(t, ctx, "sign in as "+user+" at "+path,
		chromedp.Navigate(g.url+path),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), g.tokens[user]),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("detail")),
	)
	waitText(t, ctx, "ws-title", title)
}

// waitText waits until element id's text is want.
func waitText(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById(`+jsString(id)+`).textContent === `+jsString(want))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
		t.Fatalf("#%s says %q, want %q (%v)", id, got, want, err)
	}
}

// eval runs a JavaScript expression and fails the test on an error.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// setRole picks role in the Share dialog's selector of kind:name, as a
// user would (the change event follows).
func setRole(t *testing.T, ctx context.Context, subject, role string) {
	t.Helper()
	eval[bool](t, ctx, `(() => { const s = document.querySelector('#dialog-shares tr[data-subject="`+subject+`"] select'); `+
		`s.value = `+jsString(role)+`; s.dispatchEvent(new Event("change")); return true; })()`)
}

func screenshot(t *testing.T, ctx context.Context, name string, minW int) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot, name, minW)
}

// TestShareDialogInChromium is the walk-through: alice opens
// alice-ws by its address, presses Share, adds bob (use) and group
// contractor (admin) in one dialog through the type-ahead, confirms and
// sees both; makes bob admin; removes contractor after confirming; sees
// the banner and inactive grants on a workspace whose org has sharing off
// and the agent banner when alice-ws runs without its agent. Then bob,
// signed in, sees alice-ws with his role and no more Share controls than
// it allows.
func TestShareDialogInChromium(t *testing.T) {
	g := startLiveGateway(t)
	must := mustFor(t)
	must(g.store.ApplyGrants(t.Context(), aliceWS, []acl.GrantChange{{Kind: acl.SubjectGroup, Subject: "contractor", Role: acl.RoleNone}}))
	must(g.store.ApplyGrants(t.Context(), acl.WorkspaceID{Owner: "alice", Name: "locked-ws"},
		[]acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse}}))
	ctx := startBrowser(t)

	// The workspace's own address is the view, after signing in.
	signInAt(t, ctx, g, "/workspaces/alice/alice-ws", "alice", "alice/alice-ws")
	waitText(t, ctx, "ws-state", "stopped")
	waitText(t, ctx, "ws-agent", "not connected")
	waitText(t, ctx, "no-shares", "Not shared with anyone.")
	if role := eval[string](t, ctx, `document.getElementById("ws-role").textContent`); role != "Your role: owner" {
		t.Fatalf("role line %q", role)
	}

	openShareDialog(t, ctx)
	// The owner may grant admin.
	if roles := eval[string](t, ctx, `[...document.getElementById("picker-role").options].map(o => o.value).join(",")`); roles != "use,admin" {
		t.Fatalf("owner's role choices %q", roles)
	}
	do(t, ctx, "pick bob by typing bo",
		chromedp.SendKeys(chromedp.ID("picker-input"), "bo"),
		chromedp.WaitVisible(option("user:bob")),
		chromedp.Click(option("user:bob")),
		chromedp.WaitVisible(dialogRow("user:bob")),
	)
	do(t, ctx, "pick group contractor by typing co, as admin",
		chromedp.SetValue(chromedp.ID("picker-role"), "admin"),
		chromedp.SendKeys(chromedp.ID("picker-input"), "co"),
		chromedp.WaitVisible(option("group:contractor")),
		chromedp.Click(option("group:contractor")),
		chromedp.WaitVisible(dialogRow("group:contractor")),
	)
	if got := eval[string](t, ctx, `[...document.querySelectorAll("#dialog-shares tbody tr")].map(r => r.dataset.subject + "=" + r.querySelector("select").value).join(",")`); got != "user:bob=use,group:contractor=admin" {
		t.Fatalf("dialog rows %q", got)
	}
	if inv := eval[string](t, ctx, `document.getElementById("invitation").value`); !strings.Contains(inv, "wsgate config-ssh") || !strings.Contains(inv, "ssh alice-ws.coder") {
		t.Fatalf("invitation %q", inv)
	}
	eval[bool](t, ctx, `document.getElementById("invite").open = true`)
	screenshot(t, ctx, "share-dialog", 800)
	if got := g.grants(t); len(got) != 0 {
		t.Fatalf("store: grants %v before Confirm", got)
	}
	do(t, ctx, "confirm",
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitVisible(rowSel("user:bob")),
		chromedp.WaitVisible(rowSel("group:contractor")),
	)
	if got := g.grants(t); len(got) != 2 || got["user:bob"] != "use" || got["group:contractor"] != "admin" {
		t.Fatalf("store: grants %v, want bob use and contractor admin", got)
	}

	// bob to admin, in place.
	openShareDialog(t, ctx)
	setRole(t, ctx, "user:bob", "admin")
	do(t, ctx, "confirm bob's new role",
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
	)
	g.pollGrants(t, "bob admin", func(m map[string]string) bool { return m["user:bob"] == "admin" && m["group:contractor"] == "admin" })
	if row, _ := chromedp.Run(ctx, chromedp.TextContent(rowSel("user:bob"))); row != "userbobadmin—" {
		t.Fatalf("bob row %q", row)
	}

	// Remove contractor: Cancel keeps it; Remove in the confirmation marks
	// it; Confirm applies.
	openShareDialog(t, ctx)
	do(t, ctx, "remove contractor, then cancel",
		chromedp.Click(chromedp.CSS(`#dialog-shares tr[data-subject="group:contractor"] button.remove`)),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
	)
	text := eval[string](t, ctx, `document.getElementById("confirm-text").textContent`)
	if !strings.Contains(text, "contractor") || !strings.Contains(text, "live session") {
		t.Fatalf("confirmation says %q", text)
	}
	do(t, ctx, "cancel the removal",
		chromedp.Click(chromedp.ID("confirm-no")),
		chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr[data-subject="group:contractor"] button.remove`)),
	)
	do(t, ctx, "remove contractor, confirmed",
		chromedp.Click(chromedp.CSS(`#dialog-shares tr[data-subject="group:contractor"] button.remove`)),
		chromedp.WaitVisible(chromedp.ID("confirm-dialog")),
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr.removed[data-subject="group:contractor"]`)),
	)
	if got := g.grants(t); got["group:contractor"] != "admin" {
		t.Fatalf("store: contractor removed before Confirm: %v", got)
	}
	do(t, ctx, "confirm the removal",
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitNotPresent(rowSel("group:contractor")),
		chromedp.WaitVisible(rowSel("user:bob")),
	)
	g.pollGrants(t, "contractor removed", func(m map[string]string) bool { return len(m) == 1 && m["user:bob"] == "admin" })
	screenshot(t, ctx, "workspace", 800)

	// The agent banner: alice-ws is running but its agent is not connected;
	// the view's polling shows it without a reload.
	must(g.store.SetWorkspaceState(t.Context(), aliceWS, acl.StateRunning))
	do(t, ctx, "agent banner", chromedp.WaitVisible(chromedp.ID("banner-agent")))
	waitText(t, ctx, "ws-state", "running")

	// Sharing off for org x: the banner and the grant shown inactive; the
	// dialog offers removal only.
	do(t, ctx, "open locked-ws",
		chromedp.Click(wsLink("alice/locked-ws")),
		chromedp.WaitVisible(chromedp.ID("banner-sharing")),
		chromedp.WaitVisible(chromedp.CSS(`#shares tr.inactive[data-subject="user:bob"] .badge`)),
	)
	if b := eval[string](t, ctx, `document.getElementById("banner-sharing").textContent`); !strings.Contains(b, `workspace sharing is disabled for organization "x"`) {
		t.Fatalf("sharing banner %q", b)
	}
	openShareDialog(t, ctx)
	do(t, ctx, "the dialog with sharing off",
		chromedp.WaitVisible(chromedp.ID("share-inactive")),
		chromedp.WaitNotVisible(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr[data-subject="user:bob"] button.remove`)),
	)
	if dis := eval[bool](t, ctx, `document.querySelector('#dialog-shares tr[data-subject="user:bob"] select').disabled`); !dis {
		t.Fatal("a role can be changed while sharing is off")
	}
	screenshot(t, ctx, "sharing-off", 800)
	do(t, ctx, "Escape closes the dialog",
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
	)

	// 360 px wide: nothing wider than the screen, the dialog included.
	do(t, ctx, "narrow screen",
		chromedp.EmulateViewport(360, 740),
		chromedp.Click(wsLink("alice/alice-ws")),
		chromedp.WaitVisible(rowSel("user:bob")),
	)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Fatalf("the page is %d px wide on a 360 px screen", w)
	}
	openShareDialog(t, ctx)
	if w := eval[int](t, ctx, `Math.ceil(document.getElementById("share-dialog").getBoundingClientRect().right)`); w > 360 {
		t.Fatalf("the dialog reaches %d px on a 360 px screen", w)
	}
	screenshot(t, ctx, "narrow", 360)
	do(t, ctx, "close", chromedp.Click(chromedp.ID("share-cancel")), chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.EmulateViewport(1100, 700))

	// bob, an admin grantee now: his role, Share for use grants only, no
	// Remove or role change on admin rows (his own), no admin role offered.
	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("token")))
	signInAt(t, ctx, g, "/workspaces/alice/alice-ws", "bob", "alice/alice-ws")
	if role := eval[string](t, ctx, `document.getElementById("ws-role").textContent`); role != "Your role: admin" {
		t.Fatalf("bob's role line %q", role)
	}
	openShareDialog(t, ctx)
	if roles := eval[string](t, ctx, `[...document.getElementById("picker-role").options].map(o => o.value).join(",")`); roles != "use" {
		t.Fatalf("bob's role choices %q, want use only", roles)
	}
	if got := eval[string](t, ctx, `(() => { const r = document.querySelector('#dialog-shares tr[data-subject="user:bob"]'); `+
		`return [r.querySelector("select").disabled, r.querySelector("button") === null].join(","); })()`); got != "true,true" {
		t.Fatalf("bob's own admin row: select disabled, no button = %s", got)
	}
	// bob may add use grants: carol through the picker.
	do(t, ctx, "bob adds carol",
		chromedp.SendKeys(chromedp.ID("picker-input"), "ca"),
		chromedp.WaitVisible(option("user:carol")),
		chromedp.Click(option("user:carol")),
		chromedp.Click(chromedp.ID("share-confirm")),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitVisible(rowSel("user:carol")),
	)
	g.pollGrants(t, "carol added by bob", func(m map[string]string) bool { return m["user:carol"] == "use" })
	// What bob may not do is not offered: update and rename are (admin),
	// the agent's credential and delete are not on the page at all.
	if got := eval[string](t, ctx, `["ws-start","ws-stop","ws-update","rename"].map(id => document.getElementById(id).hidden).join(",")`); got != "false,false,false,false" {
		t.Fatalf("bob's lifecycle controls hidden = %s", got)
	}
}

// tabUntil presses Tab (Shift+Tab with back) until cond holds, checking
// after each press that focus stays in the open dialog.
func tabUntil(t *testing.T, ctx context.Context, dialog, cond string, back bool) {
	t.Helper()
	var opts []chromedp.KeyOption
	if back {
		opts = append(opts, chromedp.KeyModifiers(kb.ModifierShift))
	}
	for i := 0; i < 40; i++ {
		if eval[bool](t, ctx, cond) {
			return
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab, opts...)); err != nil {
			t.Fatal(err)
		}
		if dialog != "" && !eval[bool](t, ctx, `document.getElementById(`+jsString(dialog)+`).contains(document.activeElement)`) {
			t.Fatalf("focus left #%s for %s", dialog, eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
		}
	}
	t.Fatalf("%s never held; focus is on %s", cond, eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
}

func focused(id string) string { return `document.activeElement.id === ` + jsString(id) }

// TestShareDialogKeyboard drives the Share dialog with the keyboard only:
// Tab to Share, Enter, type, pick with ↓ and Enter, Escape closes the list
// and then the dialog, Tab stays in the dialog, Remove and its
// confirmation, Confirm.
func TestShareDialogKeyboard(t *testing.T) {
	g := startLiveGateway(t)
	ctx := startBrowser(t)
	do(t, ctx, "sign in with the keyboard",
		chromedp.Navigate(g.url+"/workspaces/alice/alice-ws"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), g.tokens["alice"]+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("share-open")),
	)
	tabUntil(t, ctx, "", focused("share-open"), false)
	do(t, ctx, "Enter opens the dialog", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("share-dialog")))
	if !eval[bool](t, ctx, focused("picker-input")) {
		t.Fatal("the dialog does not focus the picker")
	}
	// Escape with the list open closes the list only.
	do(t, ctx, "type ca",
		chromedp.KeyEvent("ca"),
		chromedp.WaitVisible(option("user:carol")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(chromedp.ID("picker-list")),
	)
	if !eval[bool](t, ctx, `document.getElementById("share-dialog").open`) {
		t.Fatal("Escape in the open list closed the dialog")
	}
	// ↓ and Enter pick the highlighted suggestion.
	do(t, ctx, "type r, pick carol",
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible(option("user:carol")),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.ArrowUp),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(dialogRow("user:carol")),
	)
	// Tab cycles inside the dialog: to Confirm, round to the picker, and
	// Shift+Tab back to Confirm.
	tabUntil(t, ctx, "share-dialog", focused("share-confirm"), false)
	tabUntil(t, ctx, "share-dialog", focused("picker-input"), false)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(kb.ModifierShift))); err != nil {
		t.Fatal(err)
	}
	if !eval[bool](t, ctx, focused("share-confirm")) {
		t.Fatalf("Shift+Tab from the first control went to %s", eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	do(t, ctx, "Enter confirms",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitVisible(rowSel("user:carol")),
	)
	g.pollGrants(t, "carol added", func(m map[string]string) bool { return m["user:carol"] == "use" })
	if !eval[bool](t, ctx, focused("share-open")) {
		t.Fatal("focus did not return to Share")
	}
	// Escape closes the dialog.
	do(t, ctx, "Enter, Escape",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
	)
	// Remove carol: Tab to her Remove, Enter, the confirmation (focus on
	// its Cancel), Tab to Remove, Enter, then Tab to Confirm, Enter.
	do(t, ctx, "open again", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("share-dialog")))
	tabUntil(t, ctx, "share-dialog", `document.activeElement.getAttribute("aria-label") === "Remove user carol"`, false)
	do(t, ctx, "Enter on Remove", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	tabUntil(t, ctx, "confirm-dialog", focused("confirm-yes"), false)
	do(t, ctx, "Enter on the confirmation's Remove",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(chromedp.ID("confirm-dialog")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-shares tr.removed[data-subject="user:carol"]`)),
	)
	tabUntil(t, ctx, "share-dialog", focused("share-confirm"), false)
	do(t, ctx, "Enter confirms the removal",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(chromedp.ID("share-dialog")),
		chromedp.WaitNotPresent(rowSel("user:carol")),
	)
	g.pollGrants(t, "carol removed", func(m map[string]string) bool { _, ok := m["user:carol"]; return !ok })
}
