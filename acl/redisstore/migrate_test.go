package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

// writeLegacyWorkspaces stores workspaces as the code before UIDs did: a
// JSON record without "uid", the id in the two sets, no uid index.
func writeLegacyWorkspaces(t *testing.T, rc *redis.Client, prefix string, names ...string) {
	t.Helper()
	ctx := t.Context()
	for _, name := range names {
		id := "alice/" + name
		raw := `{"owner":"alice","name":"` + name + `","state":"running","created_at":"2030-01-02T03:04:05Z","updated_at":"2030-01-02T03:04:05Z"}`
		if err := rc.Set(ctx, prefix+"workspace:"+id, raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rc.SAdd(ctx, prefix+"workspaces", id).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rc.SAdd(ctx, prefix+"user:alice:workspaces", id).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// dumpPrefix reads every string and set under prefix.
func dumpPrefix(t *testing.T, rc *redis.Client, prefix string) map[string]string {
	t.Helper()
	ctx := t.Context()
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		switch typ := rc.Type(ctx, k).Val(); typ {
		case "string":
			out[k] = rc.Get(ctx, k).Val()
		case "set":
			m := rc.SMembers(ctx, k).Val()
			out[k] = fmt.Sprintf("set of %d", len(m))
			for _, x := range m {
				out[k+" ∋ "+x] = ""
			}
		default:
			out[k] = typ
		}
	}
	return out
}

func TestMigrateGivesLegacyWorkspacesUIDs(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	rc := rawClient(t, srv)
	prefix := newPrefix()
	st := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix})
	if err := st.CreateUser(ctx, acl.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	writeLegacyWorkspaces(t, rc, prefix, "ws", "old")
	legacy := acl.WorkspaceID{Owner: "alice", Name: "ws"}

	// Before migrating, legacy records read and write without a UID.
	w, err := st.GetWorkspace(ctx, legacy)
	if err != nil || w.UID != "" {
		t.Fatalf("legacy read: %+v, %v", w, err)
	}
	if _, err := st.ListWorkspaces(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := st.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetWorkspaceState(ctx, legacy, acl.StateStopped); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Kind != acl.EventWorkspaceStopped || ev.WorkspaceUID != "" {
		t.Fatalf("legacy stop event: %+v", ev)
	}
	if err := st.RenameWorkspace(ctx, acl.WorkspaceID{Owner: "alice", Name: "old"}, "renamed"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Kind != acl.EventWorkspaceRenamed || ev.NewName != "renamed" || ev.WorkspaceUID != "" {
		t.Fatalf("legacy rename event: %+v", ev)
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, name := range []string{"ws", "renamed"} {
		id := acl.WorkspaceID{Owner: "alice", Name: name}
		w, err := st.GetWorkspace(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := acl.ValidateUID(w.UID); err != nil || uids[w.UID] {
			t.Fatalf("%s after migration: uid %q (%v), seen before: %v", id, w.UID, err, uids[w.UID])
		}
		uids[w.UID] = true
		if w.State == "" || w.CreatedAt.IsZero() {
			t.Fatalf("%s lost fields in migration: %+v", id, w)
		}
		byUID, err := st.GetWorkspaceByUID(ctx, w.UID)
		if err != nil || byUID.ID() != id {
			t.Fatalf("GetWorkspaceByUID(%q) = %v, %v; want %s", w.UID, byUID.ID(), err, id)
		}
	}

	// Migrating again changes nothing.
	before := dumpPrefix(t, rc, prefix)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if after := dumpPrefix(t, rc, prefix); !maps.Equal(before, after) {
		t.Fatalf("second Migrate changed data:\n before %v\n after  %v", before, after)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	rc := rawClient(t, srv)
	prefix := newPrefix()
	first := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix})
	if err := first.CreateUser(ctx, acl.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	writeLegacyWorkspaces(t, rc, prefix, names...)
	// One workspace already written by the new code keeps its UID.
	if err := first.CreateWorkspace(ctx, acl.Workspace{UID: "new-1", Owner: "alice", Name: "fresh"}); err != nil {
		t.Fatal(err)
	}

	// Replicas starting together all migrate.
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		st := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.Migrate(context.WithoutCancel(ctx))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := first.ListWorkspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, w := range all {
		if prev, dup := seen[w.UID]; dup || w.UID == "" {
			t.Fatalf("%s has uid %q (also %s)", w.ID(), w.UID, prev)
		}
		seen[w.UID] = w.ID().String()
		if w.Name == "fresh" && w.UID != "new-1" {
			t.Fatalf("migration changed a new workspace's uid to %q", w.UID)
		}
	}
	if len(all) != len(names)+1 {
		t.Fatalf("%d workspaces, want %d", len(all), len(names)+1)
	}
	// The index holds exactly one entry per workspace: no replica's UID
	// was written and then overwritten.
	idx, err := rc.Keys(ctx, prefix+"workspace-uid:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != len(all) {
		t.Fatalf("uid index holds %d entries for %d workspaces: %v", len(idx), len(all), idx)
	}
}

// A replica older than UIDs deletes a workspace without dropping its index
// entry and creates it again without a UID: the old UID must not lead to
// the new workspace, and migrating must give it a UID of its own.
func TestStaleUIDIndexFindsNothing(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	rc := rawClient(t, srv)
	prefix := newPrefix()
	st := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix})
	if err := st.CreateUser(ctx, acl.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWorkspace(ctx, acl.Workspace{UID: "old-uid", Owner: "alice", Name: "ws"}); err != nil {
		t.Fatal(err)
	}
	// The old code's delete and create: the record goes, the index stays.
	if err := rc.Del(ctx, prefix+"workspace:alice/ws").Err(); err != nil {
		t.Fatal(err)
	}
	writeLegacyWorkspaces(t, rc, prefix, "ws")
	if _, err := st.GetWorkspaceByUID(ctx, "old-uid"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("stale uid before migration: %v, want not found", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := st.GetWorkspace(ctx, acl.WorkspaceID{Owner: "alice", Name: "ws"})
	if err != nil || w.UID == "" || w.UID == "old-uid" {
		t.Fatalf("re-created workspace after migration: %+v, %v", w, err)
	}
	if _, err := st.GetWorkspaceByUID(ctx, "old-uid"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("stale uid after migration: %v, want not found", err)
	}
}

// A replica older than UIDs renames a migrated workspace: the record keeps
// its uid but the index still names the old id. Migrating again repairs it.
func TestMigrateRepairsIndexAfterOldRename(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	rc := rawClient(t, srv)
	prefix := newPrefix()
	st := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix})
	if err := st.CreateUser(ctx, acl.User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWorkspace(ctx, acl.Workspace{UID: "u-1", Owner: "alice", Name: "old"}); err != nil {
		t.Fatal(err)
	}
	// The old code's rename: record and sets move, the uid index does not.
	raw := rc.Get(ctx, prefix+"workspace:alice/old").Val()
	raw = strings.Replace(raw, `"name":"old"`, `"name":"new"`, 1)
	for _, err := range []error{
		rc.Del(ctx, prefix+"workspace:alice/old").Err(),
		rc.Set(ctx, prefix+"workspace:alice/new", raw, 0).Err(),
		rc.SRem(ctx, prefix+"workspaces", "alice/old").Err(),
		rc.SAdd(ctx, prefix+"workspaces", "alice/new").Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.GetWorkspaceByUID(ctx, "u-1"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("before repair: %v, want not found", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := st.GetWorkspaceByUID(ctx, "u-1")
	if err != nil || w.Name != "new" {
		t.Fatalf("after repair: %+v, %v", w, err)
	}
}
