package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/internal/atomicfile"
)

// bootstrapUser is the site admin created on an empty store.
const bootstrapUser = "admin"

// adminTokenFile is the file in the data dir that receives its token.
const adminTokenFile = "admin.token"

// bootstrapTokenName names the bootstrap token; `wsgate login` replaces it.
const bootstrapTokenName = "bootstrap"

// bootstrapAdmin is bootstrapAdminFor with the default token lifetime.
func bootstrapAdmin(ctx context.Context, st acl.Store, dataDir string) (created bool, err error) {
	return bootstrapAdminFor(ctx, st, dataDir, httpapi.DefaultMaxTokenLifetime)
}

// bootstrapAdminFor creates the site admin "admin" with an API token,
// written to dataDir/admin.token (mode 0600), when the store holds no user
// at all, so that a fresh server can be signed in to. The token expires
// after lifetime (negative: never) and `wsgate login` replaces it. It
// reports whether it created the user. Another replica winning the race is
// not an error.
func bootstrapAdminFor(ctx context.Context, st acl.Store, dataDir string, lifetime time.Duration) (created bool, err error) {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap: list users: %w", err)
	}
	if len(users) > 0 {
		return false, nil
	}
	secret := acl.NewSecret(acl.APITokenPrefix)
	// The token file is staged before the user exists: if the store write
	// succeeded but the file could not be written, nobody could sign in
	// and no later start would bootstrap again.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	staged, err := atomicfile.Stage(filepath.Join(dataDir, adminTokenFile), []byte(secret+"\n"), 0o600)
	if err != nil {
		return false, fmt.Errorf("bootstrap: stage token file: %w", err)
	}
	defer staged.Discard() // a no-op after Commit

	now := time.Now()
	err = st.CreateUser(ctx, acl.User{Name: bootstrapUser, DisplayName: "Site admin", SiteAdmin: true, CreatedAt: now})
	if errors.Is(err, acl.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bootstrap: create user %q: %w", bootstrapUser, err)
	}
	tok := acl.Token{ID: acl.NewID(), User: bootstrapUser, Name: bootstrapTokenName, Hash: acl.HashToken(secret), CreatedAt: now}
	if lifetime > 0 {
		tok.ExpiresAt = now.Add(lifetime).UTC()
	}
	if err := st.CreateToken(ctx, tok); err != nil {
		// Undo, so that the next start tries again.
		if derr := st.DeleteUser(ctx, bootstrapUser); derr != nil {
			return false, fmt.Errorf("bootstrap: create token: %w (and removing user %q: %v)", err, bootstrapUser, derr)
		}
		return false, fmt.Errorf("bootstrap: create token: %w", err)
	}
	if err := staged.Commit(); err != nil {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	return true, nil
}
