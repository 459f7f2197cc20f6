package gateway

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
)

// errDown is what flakyStore answers while it is down, as a store whose
// server went away would.
var errDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// flakyStore is a real store that can be switched off: while down, every
// read and write the gateway makes fails as if the network to the store
// were cut (the event feed is left alone). It also counts snapshot loads
// (LoadSnapshot reads the settings first).
type flakyStore struct {
	acl.Store
	down     atomic.Bool
	settings atomic.Int64
}

func (f *flakyStore) fail() error {
	if f.down.Load() {
		return errDown
	}
	return nil
}

func (f *flakyStore) GetSettings(ctx context.Context) (acl.Settings, error) {
	f.settings.Add(1)
	if err := f.fail(); err != nil {
		return acl.Settings{}, err
	}
	return f.Store.GetSettings(ctx)
}

func (f *flakyStore) GetUser(ctx context.Context, name string) (acl.User, error) {
	if err := f.fail(); err != nil {
		return acl.User{}, err
	}
	return f.Store.GetUser(ctx, name)
}

func (f *flakyStore) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	if err := f.fail(); err != nil {
		return acl.Token{}, err
	}
	return f.Store.TokenByHash(ctx, hash)
}

func (f *flakyStore) UserByKeyFingerprint(ctx context.Context, fp string) (acl.User, error) {
	if err := f.fail(); err != nil {
		return acl.User{}, err
	}
	return f.Store.UserByKeyFingerprint(ctx, fp)
}

func (f *flakyStore) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (acl.Workspace, error) {
	if err := f.fail(); err != nil {
		return acl.Workspace{}, err
	}
	return f.Store.GetWorkspace(ctx, id)
}

func (f *flakyStore) GetWorkspaceByUID(ctx context.Context, uid string) (acl.Workspace, error) {
	if err := f.fail(); err != nil {
		return acl.Workspace{}, err
	}
	return f.Store.GetWorkspaceByUID(ctx, uid)
}

func (f *flakyStore) WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Store.WorkspacesSharedWithUser(ctx, user)
}

func (f *flakyStore) GetOrg(ctx context.Context, name string) (acl.Org, error) {
	if err := f.fail(); err != nil {
		return acl.Org{}, err
	}
	return f.Store.GetOrg(ctx, name)
}

func (f *flakyStore) ListGrants(ctx context.Context, id acl.WorkspaceID) ([]acl.Grant, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Store.ListGrants(ctx, id)
}

func (f *flakyStore) DeleteExpiredGrants(ctx context.Context, now time.Time) (int, error) {
	if err := f.fail(); err != nil {
		return 0, err
	}
	return f.Store.DeleteExpiredGrants(ctx, now)
}

// withFlakyStore makes the SSH server read through a flakyStore over the
// env's store; agents and the test still use the store directly.
func withFlakyStore(f **flakyStore) envOption {
	return func(c *envConfig) {
		*f = &flakyStore{Store: c.store}
		c.store = *f
	}
}

func decide(t *testing.T, a *access.Authorizer, user string, ws acl.WorkspaceID) access.Decision {
	t.Helper()
	d, err := a.Decide(context.Background(), user, ws, acl.ActionConnect)
	if err != nil {
		t.Fatalf("decide %s on %s: %v", user, ws, err)
	}
	return d
}

// TestAuthzCache: a live cache answers allowed decisions without the
// store, forgets them on the next event, and never answers a denial: a
// share emits no event, so a cached denial could be stale.
func TestAuthzCache(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, withFlakyStore(&fs))
	rv := e.startRevoker(revoke.Config{ProbeInterval: time.Hour, SweepInterval: time.Hour})
	w := e.watchEvents(rv)
	a := e.access
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)

	loads := fs.settings.Load()
	if d := decide(t, a, "bob", aliceWS); !d.Allow || d.Cached {
		t.Fatalf("first decision %+v, want allowed from the store", d)
	}
	if n := fs.settings.Load() - loads; n != 1 {
		t.Fatalf("%d loads for the first decision, want 1", n)
	}
	for range 3 {
		if d := decide(t, a, "bob", aliceWS); !d.Allow || !d.Cached {
			t.Fatalf("repeat decision %+v, want allowed from the cache", d)
		}
	}
	if n := fs.settings.Load() - loads; n != 1 {
		t.Fatalf("%d loads after cached decisions, want still 1", n)
	}

	// The unshare's event empties the cache: the next decision denies.
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	w.sync()
	if d := decide(t, a, "bob", aliceWS); d.Allow || d.Cached {
		t.Fatalf("after unshare %+v, want denied from the store", d)
	}
	// A share emits no event; the denial is not answered from the cache.
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	if d := decide(t, a, "bob", aliceWS); !d.Allow || d.Cached {
		t.Fatalf("after re-share %+v, want allowed from the store", d)
	}
}

// TestAuthzNotLiveLoadsEveryTime: with no Revoker following events, the
// cache is never answered from while the store is reachable.
func TestAuthzNotLiveLoadsEveryTime(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, withFlakyStore(&fs))
	a := e.access
	loads := fs.settings.Load()
	for range 3 {
		if d := decide(t, a, "alice", aliceWS); !d.Allow || d.Cached {
			t.Fatalf("decision %+v, want allowed from the store", d)
		}
	}
	if n := fs.settings.Load() - loads; n != 3 {
		t.Fatalf("%d loads for 3 decisions, want 3", n)
	}
}

// TestPendingRecheckDrops: a session whose revoking event the Revoker
// never saw (it was not running yet) is dropped once it is re-checked.
func TestPendingRecheckDrops(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	bob := startLive(t, e.mustDial("bob", "alice/alice-ws"))
	alice := startLive(t, e.mustDial("alice", "alice-ws"))
	rv, err := revoke.New(revoke.Config{Store: e.store, Access: e.access, Sessions: e.sessions})
	if err != nil {
		t.Fatal(err)
	}
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone) // nobody follows events yet
	e.sessions.Recheck(e.sessions.All()...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	bob.expectDropped(t, "bob", "access to alice/alice-ws was revoked")
	alice.expectAlive(t, "alice")
	_ = alice.client.Close()
	e.waitNoSessions()
}
