package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apiclient"
)

// TestBootstrapTokenExpiresAndIsReplaced: the bootstrap token expires after
// the token lifetime, and the first `wsgate login` with it replaces it by
// a token of the CLI's own, so that admin.token stops signing in.
func TestBootstrapTokenExpiresAndIsReplaced(t *testing.T) {
	e := newCLIEnv(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	before := time.Now()
	created, err := bootstrapAdminFor(ctx, e.store, dir, time.Hour)
	if err != nil || !created {
		t.Fatalf("bootstrap: %v, %v", created, err)
	}
	toks, err := e.store.ListTokens(ctx, bootstrapUser)
	e.must(err)
	if len(toks) != 1 || toks[0].ExpiresAt.Before(before.Add(time.Hour-time.Second)) || toks[0].ExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Fatalf("bootstrap token %+v, want an expiry in an hour", toks)
	}
	data, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	e.must(err)
	old := strings.TrimSpace(string(data))

	r := e.runEnv("", nil, "", "login", e.url, "--token", old)
	if r.code != 0 || !strings.Contains(r.stdout, "Replaced the bootstrap token") {
		t.Fatalf("login: %+v", r)
	}
	c, err := apiclient.New(e.url, old)
	e.must(err)
	if _, err := c.Me(ctx); err == nil {
		t.Fatal("the bootstrap token still signs in after the first login")
	}
	// The CLI signs in with its own token now.
	r = e.runEnv("", nil, "", "tokens", "list")
	if r.code != 0 || strings.Contains(r.stdout, "bootstrap") || !strings.Contains(r.stdout, "cli@") {
		t.Fatalf("tokens list after login: %+v", r)
	}
	// Gone from the store, not only refused.
	if _, err := e.store.TokenByHash(ctx, acl.HashToken(old)); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("bootstrap token in the store: %v", err)
	}
}
