package redisstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

// TestMigrateRepairsKeyIndex: an index that disagrees with the users' key
// hashes (no script of ours writes that; a hand edit might) is repaired so
// that one key belongs to one user.
func TestMigrateRepairsKeyIndex(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	rc := rawClient(t, srv)
	prefix := newPrefix()
	var logs bytes.Buffer
	st := open(t, redisstore.Config{URL: srv.URL(), Prefix: prefix, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		if err := st.CreateUser(ctx, acl.User{Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	keyJSON := func(fp string) string { return `{"fingerprint":"` + fp + `","authorized_key":"ssh-ed25519 AAAA"}` }
	for _, c := range [][2]string{{"alice", "SHA256:shared"}, {"bob", "SHA256:shared"}, {"alice", "SHA256:a"},
		{"carol", "SHA256:unindexed"}, {"dave", "SHA256:both"}, {"erin", "SHA256:both"}} {
		if err := rc.HSet(ctx, prefix+"user:"+c[0]+":keys", c[1], keyJSON(c[1])).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for fp, u := range map[string]string{"SHA256:shared": "bob", "SHA256:a": "alice", "SHA256:stale": "zed", "SHA256:wrong": "alice"} {
		if err := rc.Set(ctx, prefix+"key:"+fp, u, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for fp, want := range map[string]string{"SHA256:shared": "bob", "SHA256:a": "alice", "SHA256:unindexed": "carol",
		"SHA256:both": "dave", "SHA256:stale": "", "SHA256:wrong": ""} {
		u, err := st.UserByKeyFingerprint(ctx, fp)
		if got := u.Name; (err == nil) != (want != "") || got != want {
			t.Errorf("owner of %s = %q (%v), want %q", fp, got, err, want)
		}
	}
	for name, want := range map[string]int{"alice": 1, "bob": 1, "erin": 0} {
		u, err := st.GetUser(ctx, name)
		if err != nil || len(u.Keys) != want {
			t.Errorf("%s's keys %+v (%v), want %d", name, u.Keys, err, want)
		}
	}
	for _, want := range []string{"kept_by=bob removed_from=alice", "kept_by=dave removed_from=erin"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs.String())
		}
	}
	if err := st.AddUserKey(ctx, "alice", acl.PublicKey{Fingerprint: "SHA256:shared", AuthorizedKey: "x"}); !errors.Is(err, acl.ErrKeyInUse) {
		t.Errorf("alice re-adding bob's key: %v", err)
	}

	// Migrating again changes nothing and logs nothing.
	before := dumpPrefix(t, rc, prefix)
	logs.Reset()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if after := dumpPrefix(t, rc, prefix); !maps.Equal(before, after) {
		t.Fatalf("second Migrate changed data:\n before %v\n after  %v", before, after)
	}
	if logs.Len() != 0 {
		t.Errorf("second Migrate logged:\n%s", logs.String())
	}
}
