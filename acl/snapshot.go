package acl

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SnapshotReader is the part of Store that LoadSnapshot reads.
type SnapshotReader interface {
	GetSettings(ctx context.Context) (Settings, error)
	GetUser(ctx context.Context, name string) (User, error)
	GetWorkspace(ctx context.Context, id WorkspaceID) (Workspace, error)
	GetOrg(ctx context.Context, name string) (Org, error)
	ListGrants(ctx context.Context, id WorkspaceID) ([]Grant, error)
}

// LoadSnapshot reads from the store everything Authorize needs to decide
// about user on workspace ws: the user and their groups, the workspace with
// its grants and org setting, and the deployment setting. A missing user or
// workspace is not an error: the snapshot simply lacks it, and Authorize
// denies. forceSharingDisabled is the server's --disable-sharing flag.
func LoadSnapshot(ctx context.Context, st SnapshotReader, user string, ws WorkspaceID, now time.Time, forceSharingDisabled bool) (*Snapshot, error) {
	settings, err := st.GetSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	settings.SharingDisabled = settings.SharingDisabled || forceSharingDisabled
	b := NewSnapshotBuilder(now, settings)

	u, err := st.GetUser(ctx, user)
	switch {
	case err == nil:
		b.AddUser(u)
	case errors.Is(err, ErrNotFound):
	default:
		return nil, fmt.Errorf("load user %q: %w", user, err)
	}

	w, err := st.GetWorkspace(ctx, ws)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		return b.Build(), nil
	default:
		return nil, fmt.Errorf("load workspace %s: %w", ws, err)
	}
	if w.Org != "" {
		o, err := st.GetOrg(ctx, w.Org)
		switch {
		case err == nil:
			b.AddOrg(o)
		case errors.Is(err, ErrNotFound):
		default:
			return nil, fmt.Errorf("load org %q: %w", w.Org, err)
		}
	}
	grants, err := st.ListGrants(ctx, ws)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("load grants of %s: %w", ws, err)
	}
	b.AddWorkspace(w, grants)
	return b.Build(), nil
}
