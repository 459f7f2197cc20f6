package filestore

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

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
	id := ws.ID().String()
	return s.update(ctx, func(w *wtx) error {
		if w.Bucket(bUsers).Get([]byte(ws.Owner)) == nil {
			return acl.NotFound("user", ws.Owner)
		}
		if w.Bucket(bWorkspaces).Get([]byte(id)) != nil {
			return acl.Conflict("workspace", id)
		}
		if w.Bucket(bWorkspaceUIDs).Get([]byte(ws.UID)) != nil {
			return &acl.ConflictError{Kind: "workspace", Name: id, Detail: "uid " + ws.UID + " is already in use"}
		}
		if err := w.Bucket(bWorkspaceUIDs).Put([]byte(ws.UID), []byte(id)); err != nil {
			return err
		}
		if ws.AgentTokenHash != "" {
			if w.Bucket(bAgentTokens).Get([]byte(ws.AgentTokenHash)) != nil {
				return agentTokenTaken(id)
			}
			if err := w.Bucket(bAgentTokens).Put([]byte(ws.AgentTokenHash), []byte(id)); err != nil {
				return err
			}
		}
		if ws.CreatedAt.IsZero() {
			ws.CreatedAt = w.now
		}
		if ws.UpdatedAt.IsZero() {
			ws.UpdatedAt = ws.CreatedAt
		}
		return putJSON(w.Bucket(bWorkspaces), id, storekit.ToWorkspaceRecord(ws))
	})
}

func agentTokenTaken(id string) error {
	return &acl.ConflictError{Kind: "workspace", Name: id, Detail: "agent token hash is already in use"}
}

// GetWorkspace implements acl.Store.
func (s *Store) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (acl.Workspace, error) {
	if err := storekit.LookupID(id); err != nil {
		return acl.Workspace{}, err
	}
	var ws acl.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		ws, err = readWorkspace(tx, id.String())
		return err
	})
	return ws, err
}

func readWorkspace(tx *bolt.Tx, id string) (acl.Workspace, error) {
	var r storekit.WorkspaceRecord
	if err := getExisting(tx.Bucket(bWorkspaces), "workspace", id, &r); err != nil {
		return acl.Workspace{}, err
	}
	return r.Workspace(), nil
}

// GetWorkspaceByUID implements acl.Store.
func (s *Store) GetWorkspaceByUID(ctx context.Context, uid string) (acl.Workspace, error) {
	if err := storekit.LookupUID(uid); err != nil {
		return acl.Workspace{}, err
	}
	var ws acl.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bWorkspaceUIDs).Get([]byte(uid))
		if id == nil {
			return acl.NotFound("workspace", uid)
		}
		var err error
		ws, err = readWorkspace(tx, string(id))
		if errors.Is(err, acl.ErrNotFound) || (err == nil && ws.UID != uid) {
			// The index and the record change together; this only
			// guards against an index entry that outlived its record.
			return acl.NotFound("workspace", uid)
		}
		return err
	})
	return ws, err
}

// WorkspaceByAgentTokenHash implements acl.Store.
func (s *Store) WorkspaceByAgentTokenHash(ctx context.Context, hash string) (acl.Workspace, error) {
	var ws acl.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bAgentTokens).Get([]byte(hash))
		if id == nil || hash == "" {
			return acl.NotFound("agent token", storekit.ShortHash(hash))
		}
		var err error
		ws, err = readWorkspace(tx, string(id))
		return err
	})
	return ws, err
}

// ListWorkspaces implements acl.Store.
func (s *Store) ListWorkspaces(ctx context.Context) ([]acl.Workspace, error) {
	return s.listWorkspaces(ctx, "")
}

// WorkspacesOwnedBy implements acl.Store; an unknown user is not found.
func (s *Store) WorkspacesOwnedBy(ctx context.Context, user string) ([]acl.Workspace, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	return s.listWorkspaces(ctx, user)
}

// listWorkspaces lists every workspace, or those of owner when set.
func (s *Store) listWorkspaces(ctx context.Context, owner string) ([]acl.Workspace, error) {
	var out []acl.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		prefix := ""
		if owner != "" {
			if tx.Bucket(bUsers).Get([]byte(owner)) == nil {
				return acl.NotFound("user", owner)
			}
			prefix = owner + "/"
		}
		for _, rest := range keysWithPrefix(tx.Bucket(bWorkspaces), prefix) {
			ws, err := readWorkspace(tx, prefix+rest)
			if err != nil {
				return err
			}
			out = append(out, ws)
		}
		return nil
	})
	storekit.SortWorkspaces(out)
	return out, err
}

// RenameWorkspace implements acl.Store. Renaming to the current name is a
// no-op.
func (s *Store) RenameWorkspace(ctx context.Context, id acl.WorkspaceID, newName string) error {
	// The id before the new name, in the order redisstore checks them too.
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	if err := storekit.ValidName("workspace", newName); err != nil {
		return err
	}
	newID := acl.WorkspaceID{Owner: id.Owner, Name: newName}
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		if newName == id.Name {
			return nil
		}
		wsb := w.Bucket(bWorkspaces)
		if wsb.Get([]byte(newID.String())) != nil {
			return acl.Conflict("workspace", newID.String())
		}
		grants, err := deleteWorkspaceGrants(w, id.String())
		if err != nil {
			return err
		}
		for _, g := range grants {
			g.Workspace = newID
			if err := putGrant(w, g); err != nil {
				return err
			}
		}
		if err := moveWorkspaceKeys(w, wsb, r, id, newID); err != nil {
			return err
		}
		r.Name, r.UpdatedAt = newName, w.now
		w.emit(acl.Event{Kind: acl.EventWorkspaceRenamed, Workspace: id, WorkspaceUID: r.UID, NewName: newName})
		return putJSON(wsb, newID.String(), *r)
	})
}

// SetWorkspaceState implements acl.Store.
func (s *Store) SetWorkspaceState(ctx context.Context, id acl.WorkspaceID, state acl.WorkspaceState) error {
	if err := storekit.ValidState(state); err != nil {
		return err
	}
	return s.updateWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		r.State = state
		switch state {
		case acl.StateStopping, acl.StateStopped, acl.StateFailed:
			w.emit(acl.Event{Kind: acl.EventWorkspaceStopped, Workspace: id, WorkspaceUID: r.UID})
		}
		return nil
	})
}

// SetAgentTokenHash implements acl.Store. An empty hash leaves the
// workspace with no agent token.
func (s *Store) SetAgentTokenHash(ctx context.Context, id acl.WorkspaceID, hash string) error {
	return s.updateWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		tokens := w.Bucket(bAgentTokens)
		if hash != "" {
			if holder := tokens.Get([]byte(hash)); holder != nil && string(holder) != id.String() {
				return agentTokenTaken(id.String())
			}
		}
		if r.AgentTokenHash != "" {
			if err := tokens.Delete([]byte(r.AgentTokenHash)); err != nil {
				return err
			}
		}
		if hash != "" {
			if err := tokens.Put([]byte(hash), []byte(id.String())); err != nil {
				return err
			}
		}
		r.AgentTokenHash = hash
		// A new token is a new enrolment: the old agent's key goes.
		if err := dropAgentKey(w, r.UID); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventAgentTokenRotated, Workspace: id, WorkspaceUID: r.UID})
		return nil
	})
}

// onWorkspace runs fn in one write on the stored record of workspace id,
// which must exist.
func (s *Store) onWorkspace(ctx context.Context, id acl.WorkspaceID, fn func(w *wtx, r *storekit.WorkspaceRecord) error) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		var r storekit.WorkspaceRecord
		if err := getExisting(w.Bucket(bWorkspaces), "workspace", id.String(), &r); err != nil {
			return err
		}
		return fn(w, &r)
	})
}

// updateWorkspace is onWorkspace for changes that keep the workspace: it
// stores the record fn changed, updated now.
func (s *Store) updateWorkspace(ctx context.Context, id acl.WorkspaceID, fn func(w *wtx, r *storekit.WorkspaceRecord) error) error {
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		if err := fn(w, r); err != nil {
			return err
		}
		r.UpdatedAt = w.now
		return putJSON(w.Bucket(bWorkspaces), id.String(), *r)
	})
}

// DeleteWorkspace implements acl.Store.
func (s *Store) DeleteWorkspace(ctx context.Context, id acl.WorkspaceID) error {
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		if _, err := deleteWorkspaceGrants(w, id.String()); err != nil {
			return err
		}
		if r.AgentTokenHash != "" {
			if err := w.Bucket(bAgentTokens).Delete([]byte(r.AgentTokenHash)); err != nil {
				return err
			}
		}
		if err := dropAgentKey(w, r.UID); err != nil {
			return err
		}
		if r.UID != "" {
			if err := w.Bucket(bWorkspaceUIDs).Delete([]byte(r.UID)); err != nil {
				return err
			}
		}
		if err := w.Bucket(bWorkspaces).Delete([]byte(id.String())); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventWorkspaceDeleted, Workspace: id, WorkspaceUID: r.UID})
		return nil
	})
}

// moveWorkspaceKeys points the workspace's agent-token and UID indexes at
// newID and removes its record under id (the caller writes it under newID):
// what a rename and a transfer share.
func moveWorkspaceKeys(w *wtx, wsb *bolt.Bucket, r *storekit.WorkspaceRecord, id, newID acl.WorkspaceID) error {
	if r.AgentTokenHash != "" {
		if err := w.Bucket(bAgentTokens).Put([]byte(r.AgentTokenHash), []byte(newID.String())); err != nil {
			return err
		}
	}
	if r.UID != "" {
		if err := w.Bucket(bWorkspaceUIDs).Put([]byte(r.UID), []byte(newID.String())); err != nil {
			return err
		}
	}
	return wsb.Delete([]byte(id.String()))
}
