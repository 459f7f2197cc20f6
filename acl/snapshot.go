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
	f, err := LoadWorkspaceFacts(ctx, st, ws, forceSharingDisabled)
	if err != nil {
		return nil, err
	}
	u, err := LoadUser(ctx, st, user)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return f.Snapshot(now), nil
	}
	return f.Snapshot(now, *u), nil
}

// WorkspaceFacts is the part of a snapshot that does not depend on the
// user: the deployment setting and the workspace with its grants and org
// setting. A re-check of many users on one workspace reads it once and
// then only each user.
type WorkspaceFacts struct {
	settings Settings
	ws       *Workspace // nil: no such workspace
	org      *Org       // nil: none, or not found
	grants   []Grant
}

// LoadWorkspaceFacts reads ws's facts; a missing workspace is not an
// error (its snapshots deny).
func LoadWorkspaceFacts(ctx context.Context, st SnapshotReader, ws WorkspaceID, forceSharingDisabled bool) (*WorkspaceFacts, error) {
	settings, err := st.GetSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	settings.SharingDisabled = settings.SharingDisabled || forceSharingDisabled
	f := &WorkspaceFacts{settings: settings}
	w, err := st.GetWorkspace(ctx, ws)
	switch {
	case err == nil:
		f.ws = &w
	case errors.Is(err, ErrNotFound):
		return f, nil
	default:
		return nil, fmt.Errorf("load workspace %s: %w", ws, err)
	}
	if w.Org != "" {
		o, err := st.GetOrg(ctx, w.Org)
		switch {
		case err == nil:
			f.org = &o
		case errors.Is(err, ErrNotFound):
		default:
			return nil, fmt.Errorf("load org %q: %w", w.Org, err)
		}
	}
	if f.grants, err = st.ListGrants(ctx, ws); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("load grants of %s: %w", ws, err)
	}
	return f, nil
}

// Workspace is the workspace the facts are of; false when it was not
// found.
func (f *WorkspaceFacts) Workspace() (Workspace, bool) {
	if f.ws == nil {
		return Workspace{}, false
	}
	return *f.ws, true
}

// Grants are the workspace's grants as stored (expired ones included).
func (f *WorkspaceFacts) Grants() []Grant { return f.grants }

// SharingDisabled says whether sharing is off for the workspace: for the
// deployment (or by the server's flag) or for its org.
func (f *WorkspaceFacts) SharingDisabled() bool {
	return f.settings.SharingDisabled || (f.org != nil && f.org.SharingDisabled)
}

// WorkspaceUID is the UID of the workspace the facts are of, "" when it
// was not found.
func (f *WorkspaceFacts) WorkspaceUID() string {
	if f.ws == nil {
		return ""
	}
	return f.ws.UID
}

// UsersReader reads many users at once (Store.GetUsers).
type UsersReader interface {
	GetUsers(ctx context.Context, names []string) (map[string]User, error)
}

// LoadUsers reads the users of names with their groups, in one read when
// st can (UsersReader); a name with no user is left out.
func LoadUsers(ctx context.Context, st SnapshotReader, names []string) (map[string]User, error) {
	if ur, ok := st.(UsersReader); ok {
		us, err := ur.GetUsers(ctx, names)
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		return us, nil
	}
	out := make(map[string]User, len(names))
	for _, n := range names {
		u, err := LoadUser(ctx, st, n)
		if err != nil {
			return nil, err
		}
		if u != nil {
			out[n] = *u
		}
	}
	return out, nil
}

// LoadUser reads user with their groups; nil when there is no such user.
func LoadUser(ctx context.Context, st SnapshotReader, user string) (*User, error) {
	u, err := st.GetUser(ctx, user)
	switch {
	case err == nil:
		return &u, nil
	case errors.Is(err, ErrNotFound):
		return nil, nil
	default:
		return nil, fmt.Errorf("load user %q: %w", user, err)
	}
}

// Snapshot is the snapshot of users on the facts' workspace as of now
// (one for many users: the workspace is added once); a user left out is
// one that does not exist, and is denied.
func (f *WorkspaceFacts) Snapshot(now time.Time, users ...User) *Snapshot {
	b := NewSnapshotBuilder(now, f.settings)
	for _, u := range users {
		b.AddUser(u)
	}
	if f.ws != nil {
		if f.org != nil {
			b.AddOrg(*f.org)
		}
		b.AddWorkspace(*f.ws, f.grants)
	}
	return b.Build()
}
