package filestore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// SetWorkspaceSettings implements acl.Store.
func (s *Store) SetWorkspaceSettings(ctx context.Context, id acl.WorkspaceID, set acl.WorkspaceSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	return s.updateWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		if r.Settings.Narrows(set) {
			w.emit(acl.Event{Kind: acl.EventWorkspaceSettingsChanged, Workspace: id, WorkspaceUID: r.UID})
		}
		r.Settings = set
		return nil
	})
}
