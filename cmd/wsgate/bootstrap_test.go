package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/gateway/apiclient"
)

func TestBootstrapAdmin(t *testing.T) {
	e := newCLIEnv(t)
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	created, err := bootstrapAdmin(ctx, e.store, dir)
	if err != nil || !created {
		t.Fatalf("bootstrapAdmin: %v, %v", created, err)
	}
	path := filepath.Join(dir, adminTokenFile)
	fi, err := os.Stat(path)
	e.must(err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	e.must(err)

	// The token signs in to the API as a site admin.
	c, err := apiclient.New(e.url, strings.TrimSpace(string(data)))
	e.must(err)
	u, err := c.Me(ctx)
	e.must(err)
	if u.Name != bootstrapUser || !u.SiteAdmin {
		t.Errorf("bootstrap user %+v", u)
	}

	// Not again: the store has a user now.
	created, err = bootstrapAdmin(ctx, e.store, dir)
	if err != nil || created {
		t.Errorf("second bootstrapAdmin: %v, %v", created, err)
	}
	data2, err := os.ReadFile(path)
	e.must(err)
	if string(data2) != string(data) {
		t.Error("second bootstrapAdmin rewrote the token file")
	}
	entries, err := os.ReadDir(dir)
	e.must(err)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s", len(entries), adminTokenFile)
	}
}

// A store that already has users gets no admin and no token file.
func TestBootstrapAdminNotOnAUsedStore(t *testing.T) {
	e := newCLIEnv(t)
	e.user("alice", false)
	dir := filepath.Join(t.TempDir(), "data")
	created, err := bootstrapAdmin(t.Context(), e.store, dir)
	if err != nil || created {
		t.Fatalf("bootstrapAdmin: %v, %v", created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, adminTokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file: %v", err)
	}
}
