package redisstore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// SetWorkspaceSettings implements acl.Store. Whether the change narrows
// is decided in the script, against the settings it replaces.
func (s *Store) SetWorkspaceSettings(ctx context.Context, id acl.WorkspaceID, set acl.WorkspaceSettings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.write(ctx, "set_workspace_settings", id.String(), mustJSON(set),
		flag(set.AgentForwarding), flag(set.BindsAny()))
}
