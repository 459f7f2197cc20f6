package acl_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

func TestIdentifyToken(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	st, err := filestore.Open(filepath.Join(t.TempDir(), "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []string{"alice", "sus", "gone"} {
		if err := st.CreateUser(ctx, acl.User{Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]acl.Token{
		"wsg_forever": {ID: "t1", User: "alice", Name: "cli"},
		"wsg_later":   {ID: "t2", User: "alice", ExpiresAt: now.Add(time.Second)},
		"wsg_now":     {ID: "t3", User: "alice", ExpiresAt: now},
		"wsg_past":    {ID: "t4", User: "alice", ExpiresAt: now.Add(-time.Hour)},
		"wsg_sus":     {ID: "t5", User: "sus"},
		"wsg_gone":    {ID: "t6", User: "gone"},
	}
	for secret, tok := range tokens {
		tok.Hash = acl.HashToken(secret)
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetUserSuspended(ctx, "sus", true); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		secret string
		user   string // "" means ErrBadToken
		token  string
	}{
		{"wsg_forever", "alice", "t1"},
		{"wsg_later", "alice", "t2"},
		{"wsg_now", "", ""},  // expiry is exclusive
		{"wsg_past", "", ""}, // expired
		{"wsg_sus", "", ""},  // suspended user
		{"wsg_gone", "", ""}, // deleted user
		{"wsg_unknown", "", ""},
		{"", "", ""},
	} {
		u, tok, err := acl.IdentifyToken(ctx, st, c.secret, now)
		if c.user == "" {
			if !errors.Is(err, acl.ErrBadToken) {
				t.Errorf("%q: got %v (user %q), want ErrBadToken", c.secret, err, u.Name)
			}
			if u.Name != "" || tok.ID != "" {
				t.Errorf("%q: refused but returned user %q token %q", c.secret, u.Name, tok.ID)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.secret, err)
			continue
		}
		if u.Name != c.user || tok.ID != c.token || tok.User != c.user {
			t.Errorf("%q: got user %q token %q/%q, want %q %q", c.secret, u.Name, tok.ID, tok.User, c.user, c.token)
		}
	}

	// A failing store is an error of its own, not a bad token: an outage
	// must not read as "your token is wrong".
	failing := failingUsers{TokenReader: st, err: errors.New("disk on fire")}
	_, _, err = acl.IdentifyToken(ctx, failing, "wsg_forever", now)
	if err == nil || errors.Is(err, acl.ErrBadToken) || !errors.Is(err, failing.err) {
		t.Errorf("GetUser failure: got %v, want it wrapped and not ErrBadToken", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err = acl.IdentifyToken(ctx, st, "wsg_forever", now)
	if err == nil || errors.Is(err, acl.ErrBadToken) {
		t.Errorf("closed store: got %v, want a store error", err)
	}
}

// failingUsers is a real store whose user lookups fail, for the one failure
// a healthy store cannot be made to produce between the two reads.
type failingUsers struct {
	acl.TokenReader
	err error
}

func (f failingUsers) GetUser(context.Context, string) (acl.User, error) { return acl.User{}, f.err }
