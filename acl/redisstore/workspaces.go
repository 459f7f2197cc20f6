package redisstore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateWorkspace implements acl.Store. An empty State means stopped; the
// owner must exist; a non-empty agent token hash must be unused.
func (s *Store) CreateWorkspace(ctx context.Context, ws acl.Workspace) error {
	ws, err := storekit.CheckNewWorkspace(ws)
	if err != nil {
		return err
	}
	o := s.newOp()
	if ws.CreatedAt.IsZero() {
		ws.CreatedAt = o.now
	}
	if ws.UpdatedAt.IsZero() {
		ws.UpdatedAt = ws.CreatedAt
	}
	o.args = append(o.args, ws.Owner, ws.ID().String(), mustJSON(storekit.ToWorkspaceRecord(ws)), ws.AgentTokenHash, ws.UID)
	_, err = s.run(ctx, "create_workspace", o)
	return err
}

// GetWorkspace implements acl.Store.
func (s *Store) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (acl.Workspace, error) {
	if err := storekit.LookupID(id); err != nil {
		return acl.Workspace{}, err
	}
	var r storekit.WorkspaceRecord
	ok, err := s.getJSON(ctx, "workspace:"+id.String(), &r)
	if err != nil {
		return acl.Workspace{}, err
	}
	if !ok {
		return acl.Workspace{}, acl.NotFound("workspace", id.String())
	}
	return r.Workspace(), nil
}

// GetWorkspaceByUID implements acl.Store; one round trip.
func (s *Store) GetWorkspaceByUID(ctx context.Context, uid string) (acl.Workspace, error) {
	if err := storekit.LookupUID(uid); err != nil {
		return acl.Workspace{}, err
	}
	return s.oneWorkspace(ctx, "workspace_by_uid", "workspace", s.newOp(uid))
}

// oneWorkspace runs script, which answers exactly one workspace (what
// names it in errors).
func (s *Store) oneWorkspace(ctx context.Context, script, what string, op *op) (acl.Workspace, error) {
	res, err := s.run(ctx, script, op)
	if err != nil {
		return acl.Workspace{}, err
	}
	ws, err := decodeWorkspaces(res)
	if err != nil {
		return acl.Workspace{}, err
	}
	if len(ws) != 1 {
		return acl.Workspace{}, errReply(what, res)
	}
	return ws[0], nil
}

// WorkspaceByAgentTokenHash implements acl.Store; one round trip.
func (s *Store) WorkspaceByAgentTokenHash(ctx context.Context, hash string) (acl.Workspace, error) {
	if hash == "" {
		return acl.Workspace{}, acl.NotFound("agent token", "")
	}
	return s.oneWorkspace(ctx, "workspace_by_agent_token", "workspace", s.newOp(hash, storekit.ShortHash(hash)))
}

func decodeWorkspaces(res []any) ([]acl.Workspace, error) {
	var out []acl.Workspace
	for _, raw := range strs(res) {
		var r storekit.WorkspaceRecord
		if err := decode(raw, &r); err != nil {
			return nil, err
		}
		out = append(out, r.Workspace())
	}
	storekit.SortWorkspaces(out)
	return out, nil
}

// ListWorkspaces implements acl.Store.
func (s *Store) ListWorkspaces(ctx context.Context) ([]acl.Workspace, error) {
	res, err := s.run(ctx, "list_json", s.newOp("workspaces", "workspace"))
	if err != nil {
		return nil, err
	}
	return decodeWorkspaces(res)
}

// WorkspacesOwnedBy implements acl.Store; an unknown user is not found.
func (s *Store) WorkspacesOwnedBy(ctx context.Context, user string) ([]acl.Workspace, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	res, err := s.run(ctx, "list_json", s.newOp("user:"+user+":workspaces", "workspace", "user:"+user, "user", user))
	if err != nil {
		return nil, err
	}
	return decodeWorkspaces(res)
}

// RenameWorkspace implements acl.Store. Renaming to the current name is a
// no-op.
func (s *Store) RenameWorkspace(ctx context.Context, id acl.WorkspaceID, newName string) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	if err := storekit.ValidName("workspace", newName); err != nil {
		return err
	}
	return s.write(ctx, "rename_workspace", id.Owner, id.Name, newName)
}

// SetWorkspaceState implements acl.Store.
func (s *Store) SetWorkspaceState(ctx context.Context, id acl.WorkspaceID, state acl.WorkspaceState) error {
	if err := storekit.ValidState(state); err != nil {
		return err
	}
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	ev := ""
	switch state {
	case acl.StateStopping, acl.StateStopped, acl.StateFailed:
		ev = string(acl.EventWorkspaceStopped)
	}
	return s.write(ctx, "set_workspace_state", id.String(), string(state), ev)
}

// SetAgentTokenHash implements acl.Store. An empty hash leaves the
// workspace with no agent token.
func (s *Store) SetAgentTokenHash(ctx context.Context, id acl.WorkspaceID, hash string) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.write(ctx, "set_agent_token", id.String(), hash)
}

// DeleteWorkspace implements acl.Store.
func (s *Store) DeleteWorkspace(ctx context.Context, id acl.WorkspaceID) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.write(ctx, "delete_workspace", id.Owner, id.String())
}
