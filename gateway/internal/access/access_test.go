package access

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var aliceWS = acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}

// newStore is a real file store with users alice and bob and alice's
// workspace alice-ws.
func newStore(t *testing.T) *filestore.Store {
	t.Helper()
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "acl.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		must(t, st.CreateUser(ctx, acl.User{Name: u}))
	}
	must(t, st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "alice-ws", State: acl.StateRunning}))
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func decide(t *testing.T, a *Authorizer, user string, ws acl.WorkspaceID) Decision {
	t.Helper()
	d, err := a.Decide(context.Background(), user, ws, acl.ActionConnect)
	if err != nil {
		t.Fatalf("decide %s on %s: %v", user, ws, err)
	}
	return d
}

// TestDecisionCarriesUID: the decision names the workspace by its UID,
// which is what tunnels and sessions are keyed by.
func TestDecisionCarriesUID(t *testing.T) {
	st := newStore(t)
	a, err := New(Config{Store: st})
	must(t, err)
	w, err := st.GetWorkspace(context.Background(), aliceWS)
	must(t, err)
	if d := decide(t, a, "alice", aliceWS); !d.Allow || d.WorkspaceUID != w.UID || w.UID == "" {
		t.Fatalf("decision %+v, want allowed on UID %q", d, w.UID)
	}
}

// TestNotPastValidUntil: a cached snapshot is not used once its earliest
// grant expiry has passed, even before any sweep removed it.
func TestNotPastValidUntil(t *testing.T) {
	st := newStore(t)
	expiry := time.Now().Add(time.Hour).Truncate(time.Second)
	must(t, st.ApplyGrants(context.Background(), aliceWS, []acl.GrantChange{
		{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse, ExpiresAt: expiry},
	}))
	clk := testutil.NewClock(time.Now())
	a, err := New(Config{Store: st, Now: clk.Now})
	must(t, err)
	a.SetLive(true) // as if a revoker followed events
	d := decide(t, a, "bob", aliceWS)
	if !d.Allow || !d.ValidUntil.Equal(expiry) {
		t.Fatalf("decision %+v, want allowed until %v", d, expiry)
	}
	if d := decide(t, a, "bob", aliceWS); !d.Cached {
		t.Fatalf("before expiry %+v, want cached", d)
	}
	clk.Set(expiry)
	if d := decide(t, a, "bob", aliceWS); d.Allow || d.Cached {
		t.Fatalf("at expiry %+v, want denied from a fresh load", d)
	}
}

// holdingStore blocks one snapshot load (which reads the settings first)
// until released.
type holdingStore struct {
	Store
	mu            sync.Mutex
	hold, holding chan struct{}
}

func (h *holdingStore) GetSettings(ctx context.Context) (acl.Settings, error) {
	h.mu.Lock()
	hold := h.hold
	h.hold = nil
	h.mu.Unlock()
	if hold != nil {
		close(h.holding)
		<-hold
	}
	return h.Store.GetSettings(ctx)
}

// TestLoadRacingInvalidation: a snapshot loaded while an event arrived is
// not cached, because it may predate the event's write.
func TestLoadRacingInvalidation(t *testing.T) {
	hold := make(chan struct{})
	hs := &holdingStore{Store: newStore(t), hold: hold, holding: make(chan struct{})}
	a, err := New(Config{Store: hs})
	must(t, err)
	a.SetLive(true)
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	done := make(chan Decision, 1)
	go func() {
		d, _ := a.Decide(context.Background(), "alice", aliceWS, acl.ActionConnect)
		done <- d
	}()
	<-hs.holding
	a.Invalidate()
	release()
	if d := <-done; !d.Allow {
		t.Fatalf("racing decision %+v", d)
	}
	if d := decide(t, a, "alice", aliceWS); d.Cached {
		t.Fatal("a load that raced an invalidation was cached")
	}
	if d := decide(t, a, "alice", aliceWS); !d.Cached {
		t.Fatal("a clean load was not cached")
	}
}

// TestResolveIgnoresDeadGrants: a bare name resolves to the caller's own
// workspace, else to the only one shared with them that they may connect
// to; grants that give nothing do not make it ambiguous.
func TestResolveIgnoresDeadGrants(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	must(t, st.CreateUser(ctx, acl.User{Name: "carol"}))
	must(t, st.CreateUser(ctx, acl.User{Name: "dave"}))
	must(t, st.CreateOrg(ctx, acl.Org{Name: "closed", SharingDisabled: true}))
	for _, w := range []acl.Workspace{
		{Owner: "carol", Name: "dev", Org: "closed", State: acl.StateRunning},
		{Owner: "dave", Name: "dev", Org: "closed", State: acl.StateRunning},
		{Owner: "alice", Name: "dev", State: acl.StateRunning},
	} {
		must(t, st.CreateWorkspace(ctx, w))
		must(t, st.ApplyGrants(ctx, w.ID(), []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse}}))
	}
	a, err := New(Config{Store: st})
	must(t, err)
	got, err := a.Resolve(ctx, "bob", "", "dev")
	if err != nil || got.String() != "alice/dev" {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := a.Resolve(ctx, "alice", "", "dev"); err != nil || got.String() != "alice/dev" {
		t.Fatalf("own workspace: %v, %v", got, err)
	}
	must(t, st.ApplyGrants(ctx, acl.WorkspaceID{Owner: "alice", Name: "dev"}, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleNone}}))
	if _, err := a.Resolve(ctx, "bob", "", "dev"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("no allowed candidate: %v", err)
	}
	// Sharing back on: both of the org's grants count, and the name is
	// ambiguous.
	must(t, st.SetOrgSharingDisabled(ctx, "closed", false))
	var amb *AmbiguousError
	if _, err := a.Resolve(ctx, "bob", "", "dev"); !errors.As(err, &amb) || len(amb.Candidates) != 2 {
		t.Fatalf("two allowed candidates: %v", err)
	}
	if _, err := a.Resolve(ctx, "bob", "", "nothing"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("unknown name: %v", err)
	}
	if got, err := a.Resolve(ctx, "bob", "zed", "x"); err != nil || got.String() != "zed/x" {
		t.Fatalf("qualified: %v %v", got, err)
	}
}

// TestIdentifyToken: an API token names its active user; every reason it
// does not is ErrBadToken.
func TestIdentifyToken(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	secret := acl.NewSecret(acl.APITokenPrefix)
	must(t, st.CreateToken(ctx, acl.Token{ID: "t1", User: "bob", Name: "cli", Hash: acl.HashToken(secret), CreatedAt: time.Now()}))
	a, err := New(Config{Store: st})
	must(t, err)
	id, err := a.IdentifyToken(ctx, secret)
	if err != nil || id.User != "bob" || id.TokenID != "t1" {
		t.Fatalf("identity %+v, %v", id, err)
	}
	for _, bad := range []string{"", "nope", secret + "x"} {
		if _, err := a.IdentifyToken(ctx, bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("secret %q: %v, want ErrBadToken", bad, err)
		}
	}
	must(t, st.SetUserSuspended(ctx, "bob", true))
	if _, err := a.IdentifyToken(ctx, secret); !errors.Is(err, ErrBadToken) {
		t.Fatalf("suspended user: %v", err)
	}
}

// countingStore counts GetSettings calls (one per snapshot load) and holds
// the first until hold is closed.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls int
	hold  chan struct{}
}

func (c *countingStore) GetSettings(ctx context.Context) (acl.Settings, error) {
	c.mu.Lock()
	c.calls++
	first := c.calls == 1
	c.mu.Unlock()
	if first {
		<-c.hold
	}
	return c.Store.GetSettings(ctx)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// TestConcurrentMissesShareOneRead: decisions for the same user and
// workspace that miss the cache at once share one store read; after an
// invalidation a decision reads again.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &countingStore{Store: newStore(t), hold: make(chan struct{})}
		a, err := New(Config{Store: cs})
		must(t, err)
		a.SetLive(true)
		results := make(chan Decision, 5)
		for range 5 {
			go func() {
				d, _ := a.Decide(context.Background(), "alice", aliceWS, acl.ActionConnect)
				results <- d
			}()
		}
		synctest.Wait() // all five waiting: one in the store, four on its read
		if n := cs.count(); n != 1 {
			t.Fatalf("%d store reads for five decisions at once, want 1", n)
		}
		close(cs.hold)
		for range 5 {
			if d := <-results; !d.Allow || d.Cached {
				t.Fatalf("shared decision %+v", d)
			}
		}
		a.Invalidate()
		decide(t, a, "alice", aliceWS)
		if n := cs.count(); n != 2 {
			t.Fatalf("%d store reads after an invalidation, want 2", n)
		}
	})
}
