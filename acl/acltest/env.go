package acltest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// eventWait bounds how long the suite waits for one event.
const eventWait = 5 * time.Second

// env is one case's store, clock and helpers.
type env struct {
	t     *testing.T
	h     Harness
	clock *Clock
	st    acl.Store
	ctx   context.Context
}

func newEnv(t *testing.T, h Harness) *env {
	c := NewClock()
	return &env{t: t, h: h, clock: c, st: h.Open(t, c.Now), ctx: t.Context()}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("unexpected error: %v", err)
	}
}

func (e *env) user(name string) {
	e.t.Helper()
	e.must(e.st.CreateUser(e.ctx, acl.User{Name: name}))
}

func (e *env) users(names ...string) {
	e.t.Helper()
	for _, n := range names {
		e.user(n)
	}
}

func (e *env) group(name string, members ...string) {
	e.t.Helper()
	e.must(e.st.CreateGroup(e.ctx, acl.Group{Name: name, Members: members}))
}

func (e *env) workspace(owner, name string) acl.WorkspaceID {
	e.t.Helper()
	e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: owner, Name: name, State: acl.StateRunning}))
	return acl.WorkspaceID{Owner: owner, Name: name}
}

func (e *env) apply(id acl.WorkspaceID, changes ...acl.GrantChange) {
	e.t.Helper()
	e.must(e.st.ApplyGrants(e.ctx, id, changes))
}

func (e *env) grants(id acl.WorkspaceID) []acl.Grant {
	e.t.Helper()
	gs, err := e.st.ListGrants(e.ctx, id)
	e.must(err)
	return gs
}

func (e *env) sharedWithUser(name string) []acl.SharedWorkspace {
	e.t.Helper()
	sw, err := e.st.WorkspacesSharedWithUser(e.ctx, name)
	e.must(err)
	return sw
}

func (e *env) sharedWithGroup(name string) []acl.SharedWorkspace {
	e.t.Helper()
	sw, err := e.st.WorkspacesSharedWithGroup(e.ctx, name)
	e.must(err)
	return sw
}

func (e *env) getUser(name string) acl.User {
	e.t.Helper()
	u, err := e.st.GetUser(e.ctx, name)
	e.must(err)
	return u
}

func userGrant(name string, r acl.Role) acl.GrantChange {
	return acl.GrantChange{Kind: acl.SubjectUser, Subject: name, Role: r}
}

func groupGrant(name string, r acl.Role) acl.GrantChange {
	return acl.GrantChange{Kind: acl.SubjectGroup, Subject: name, Role: r}
}

// summary renders grants as "user:bob=use" for compact comparisons.
func summary(gs []acl.Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s:%s=%s", g.Kind, g.Subject, g.Role)
	}
	return strings.Join(parts, " ")
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func wantNotFound(t *testing.T, err error, kind, name string) {
	t.Helper()
	var nf *acl.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("got error %v, want not-found %s %q", err, kind, name)
	}
	if nf.Kind != kind || nf.Name != name {
		t.Fatalf("not-found names %s %q, want %s %q", nf.Kind, nf.Name, kind, name)
	}
}

func wantConflict(t *testing.T, err error, kind string) {
	t.Helper()
	var ce *acl.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, acl.ErrConflict) {
		t.Fatalf("got error %v, want a %s conflict", err, kind)
	}
	if ce.Kind != kind {
		t.Fatalf("conflict kind %q (%v), want %q", ce.Kind, err, kind)
	}
}

// wantInvalid checks for an *acl.InvalidError whose message holds mention.
func wantInvalid(t *testing.T, err error, mention string) {
	t.Helper()
	var ie *acl.InvalidError
	if !errors.As(err, &ie) || !errors.Is(err, acl.ErrInvalid) {
		t.Fatalf("got error %v, want invalid", err)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("invalid error %q does not mention %q", err, mention)
	}
}

// watcher reads one subscription.
type watcher struct {
	e  *env
	ch <-chan acl.Event
}

func (e *env) watch() *watcher {
	e.t.Helper()
	ch, err := e.st.Subscribe(e.ctx)
	e.must(err)
	return &watcher{e: e, ch: ch}
}

func (w *watcher) next() acl.Event {
	w.e.t.Helper()
	timer := time.NewTimer(eventWait)
	defer timer.Stop()
	select {
	case ev, ok := <-w.ch:
		if !ok {
			w.e.t.Fatal("event channel closed")
		}
		return ev
	case <-timer.C:
		w.e.t.Fatalf("no event within %v", eventWait)
	}
	return acl.Event{}
}

// expect reads len(want) events and compares them in order; every event
// must carry the write's time, which is the clock's current time.
func (w *watcher) expect(want ...acl.Event) {
	w.e.t.Helper()
	var got []acl.Event
	for range want {
		got = append(got, w.stamped(w.next()))
	}
	wantEqual(w.e.t, "events", got, want)
}

// expectAnyOrder is expect for writes whose events have no defined order.
func (w *watcher) expectAnyOrder(want ...acl.Event) {
	w.e.t.Helper()
	var got []acl.Event
	for range want {
		got = append(got, w.stamped(w.next()))
	}
	key := func(ev acl.Event) string { return fmt.Sprintf("%+v", ev) }
	sort.Slice(got, func(i, j int) bool { return key(got[i]) < key(got[j]) })
	want = append([]acl.Event(nil), want...)
	sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
	wantEqual(w.e.t, "events (any order)", got, want)
}

// stamped checks At and clears it for comparison.
func (w *watcher) stamped(ev acl.Event) acl.Event {
	w.e.t.Helper()
	if now := w.e.clock.Now(); !ev.At.Equal(now) {
		w.e.t.Fatalf("event %s at %v, want the write's time %v", ev.Kind, ev.At, now)
	}
	ev.At = time.Time{}
	return ev
}

// quiet proves that nothing was emitted since the last expected event: it
// makes a marker write and requires the marker to be the next event.
func (w *watcher) quiet() {
	w.e.t.Helper()
	old, err := w.e.st.GetSettings(w.e.ctx)
	w.e.must(err)
	w.e.must(w.e.st.SetSettings(w.e.ctx, acl.Settings{SharingDisabled: true}))
	w.expect(acl.Event{Kind: acl.EventSharingDisabled})
	if !old.SharingDisabled {
		w.e.must(w.e.st.SetSettings(w.e.ctx, old))
	}
}

func isNotFound(err error) bool { return errors.Is(err, acl.ErrNotFound) }

// uid returns the UID of a stored workspace, which must have one.
func (e *env) uid(id acl.WorkspaceID) string {
	e.t.Helper()
	w, err := e.st.GetWorkspace(e.ctx, id)
	e.must(err)
	if w.UID == "" {
		e.t.Fatalf("workspace %s has no uid", id)
	}
	return w.UID
}
