package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/acltest"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const eventBuffer = 16

var prefixes atomic.Int64

func newPrefix() string { return fmt.Sprintf("t%d:", prefixes.Add(1)) }

func open(t *testing.T, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	srv := testredis.Start(t)
	acltest.RunAt(t, eventBuffer,
		func(*testing.T) string { return newPrefix() },
		func(t *testing.T, prefix string, now func() time.Time) acl.Store {
			return open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix, Now: now, EventBuffer: eventBuffer})
		})
}

func rawClient(t *testing.T, srv *testredis.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func next(t *testing.T, ch <-chan acl.Event) acl.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return acl.Event{}
}

func TestPrefixIsolation(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	a := open(t, redisstore.Config{URL: srv.URL(), Prefix: "dep-a:"})
	b := open(t, redisstore.Config{URL: srv.URL(), Prefix: "dep-b:"})
	evB, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The same names live side by side.
	for _, st := range []*redisstore.Store{a, b} {
		if err := st.CreateUser(ctx, acl.User{Name: "bob", Keys: []acl.PublicKey{{Fingerprint: "SHA256:k", AuthorizedKey: "ssh-ed25519 AAAA"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.CreateUser(ctx, acl.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetUser(ctx, "alice"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("b sees a's user: %v", err)
	}
	// a's event does not reach b's subscriber: b's own later event is next.
	if err := a.SetUserSuspended(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	nextIs(t, evB, acl.EventUserDeleted)
	if u, err := a.GetUser(ctx, "bob"); err != nil || !u.Suspended {
		t.Fatalf("a's bob after b deleted its bob: %+v %v", u, err)
	}
	// Every key sits under one of the prefixes.
	keys, err := rawClient(t, srv).Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys written")
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "dep-a:") && !strings.HasPrefix(k, "dep-b:") {
			t.Errorf("key %q outside the prefixes", k)
		}
	}
}

func TestEventsReachOtherClients(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	writer := open(t, redisstore.Config{URL: srv.URL(), Prefix: "x:"})
	// A second store on the same prefix is another gateway replica.
	reader := open(t, redisstore.Config{Client: rawClient(t, srv), Prefix: "x:"})
	ch, err := reader.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.CreateUser(ctx, acl.User{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := writer.SetUserSuspended(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch)
	if ev.Kind != acl.EventUserSuspended || ev.User != "bob" {
		t.Fatalf("got %+v", ev)
	}
	if ev.At.Before(before.Add(-time.Second)) || ev.At.After(time.Now()) {
		t.Fatalf("event time %v is not the write's time (~%v)", ev.At, before)
	}
	if u, err := reader.GetUser(ctx, "bob"); err != nil || !u.Suspended {
		t.Fatalf("reader sees %+v %v", u, err)
	}
}

func TestValuesReadableWithRedisCLI(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	st := open(t, redisstore.Config{URL: srv.URL()})
	rc := rawClient(t, srv)
	if err := st.CreateUser(ctx, acl.User{Name: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, acl.User{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	if err := st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyGrants(ctx, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(rc.Get(ctx, "wsgate:user:alice").Val()), &u); err != nil || u["display_name"] != "Alice" {
		t.Fatalf("wsgate:user:alice = %v (%v)", u, err)
	}
	var g map[string]any
	if err := json.Unmarshal([]byte(rc.HGet(ctx, "wsgate:workspace:alice/ws:grants", "user:bob").Val()), &g); err != nil || g["subject"] != "bob" {
		t.Fatalf("grant = %v (%v)", g, err)
	}
	if got := rc.Get(ctx, "wsgate:agent-token:h").Val(); got != "alice/ws" {
		t.Fatalf("agent token index = %q", got)
	}
	if got := rc.SMembers(ctx, "wsgate:user:bob:grants").Val(); len(got) != 1 || got[0] != "alice/ws" {
		t.Fatalf("grant index = %q", got)
	}
}

// nextIs reads one event, which must be of kind.
func nextIs(t *testing.T, ch <-chan acl.Event, kind acl.EventKind) {
	t.Helper()
	if ev := next(t, ch); ev.Kind != kind {
		t.Fatalf("got %+v, want %s", ev, kind)
	}
}

// nextAfterResyncs is nextIs for a subscription that may first deliver
// resyncs (it reconnected).
func nextAfterResyncs(t *testing.T, ch <-chan acl.Event, kind acl.EventKind) {
	t.Helper()
	for {
		ev := next(t, ch)
		if ev.Kind == kind {
			return
		}
		if ev.Kind != acl.EventResync {
			t.Fatalf("got %+v, want %s", ev, kind)
		}
	}
}

// waitResync reads until an EventResync arrives.
func waitResync(t *testing.T, ch <-chan acl.Event) {
	t.Helper()
	for {
		if ev := next(t, ch); ev.Kind == acl.EventResync {
			return
		}
	}
}

func TestResyncAfterRedisRestart(t *testing.T) {
	srv := testredis.Start(t, testredis.WithPersistence())
	ctx := t.Context()
	st := open(t, redisstore.Config{URL: srv.URL()})
	ch, err := st.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, acl.User{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetUserSuspended(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	nextIs(t, ch, acl.EventUserSuspended)

	srv.Restart(t)
	waitResync(t, ch)
	// Data survived (persistence), scripts are loaded again, events flow.
	if err := st.SetUserSiteAdmin(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	nextAfterResyncs(t, ch, acl.EventSiteAdminRevoked)

	// A longer outage: writes fail while Redis is down, then it all resumes.
	srv.Stop(t)
	if err := st.SetUserSuspended(ctx, "bob", false); err == nil {
		t.Fatal("write succeeded with Redis down")
	}
	srv.Restart(t)
	waitResync(t, ch)
	if err := st.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	nextAfterResyncs(t, ch, acl.EventUserDeleted)
}

func TestConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, cfg := range []redisstore.Config{
		{},
		{Client: c, URL: "redis://127.0.0.1:1"},
		{URL: "http://nope"},
		{Client: c, EventBuffer: -1},
		{Client: c, HealthCheckInterval: -time.Second},
	} {
		if st, err := redisstore.New(cfg); err == nil {
			st.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestSubscribeFailsWithoutRedis(t *testing.T) {
	srv := testredis.Start(t)
	st := open(t, redisstore.Config{URL: srv.URL()})
	srv.Stop(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := st.Subscribe(ctx); err == nil {
		t.Fatal("Subscribe succeeded with Redis down")
	}
	if err := st.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis down")
	}
}

func TestCloseEndsSubscriptionsWhileRedisIsDown(t *testing.T) {
	srv := testredis.Start(t)
	st, err := redisstore.New(redisstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := st.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	start := time.Now()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	deadline := time.After(5 * time.Second)
	for more := true; more; {
		select {
		case _, more = <-ch:
		case <-deadline:
			t.Fatal("event channel still open after Close")
		}
	}
	if _, err := st.Subscribe(t.Context()); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}
