package storekit_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)

// The records are what both backends have written to disk and Redis, so
// their JSON names are a storage format: they must not drift.
func TestWorkspaceRecord(t *testing.T) {
	w := acl.Workspace{UID: "u1", Owner: "alice", Name: "ws", Org: "acme", State: acl.StateRunning,
		AgentTokenHash: "h", CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	r := storekit.ToWorkspaceRecord(w)
	if got := r.Workspace(); !reflect.DeepEqual(got, w) {
		t.Fatalf("round trip: %+v, want %+v", got, w)
	}
	wantJSONKeys(t, r, "uid", "owner", "name", "org", "state", "agent_token_hash", "created_at", "updated_at")
	wantJSONKeys(t, storekit.ToWorkspaceRecord(acl.Workspace{Owner: "a", Name: "b"}),
		"owner", "name", "state", "created_at", "updated_at")
}

func TestTokenRecord(t *testing.T) {
	tok := acl.Token{ID: "t1", User: "bob", Name: "ci", Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	r := storekit.ToTokenRecord(tok)
	if got := r.Token(); !reflect.DeepEqual(got, tok) {
		t.Fatalf("round trip: %+v, want %+v", got, tok)
	}
	wantJSONKeys(t, r, "id", "user", "name", "hash", "created_at", "expires_at")
	tok.ExpiresAt = time.Time{}
	wantJSONKeys(t, storekit.ToTokenRecord(tok), "id", "user", "name", "hash", "created_at")
}

func wantJSONKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for k := range m {
		got[k] = true
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON %s: keys %v, want %v", raw, got, want)
	}
}

func TestExpired(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"no deadline", time.Time{}, false},
		{"a nanosecond to go", t0.Add(time.Nanosecond), false},
		{"exactly now", t0, true},
		{"past", t0.Add(-time.Hour), true},
	} {
		if got := storekit.Expired(tc.at, t0); got != tc.want {
			t.Errorf("%s: Expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestShortHash(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"12345678":  "12345678",
		"123456789": "12345678…",
	} {
		if got := storekit.ShortHash(in); got != want {
			t.Errorf("ShortHash(%q) = %q, want %q", in, got, want)
		}
	}
}
