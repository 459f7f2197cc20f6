package filestore

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Agent keys live in bAgentKeys by workspace UID; the workspace record
// itself is not touched, except that enrolment consumes its token.

// EnrolAgent implements acl.Store.
func (s *Store) EnrolAgent(ctx context.Context, tokenHash, publicKey string) (acl.Workspace, error) {
	if err := storekit.CheckAgentKey(publicKey); err != nil {
		return acl.Workspace{}, err
	}
	var ws acl.Workspace
	err := s.update(ctx, func(w *wtx) error {
		id := w.Bucket(bAgentTokens).Get([]byte(tokenHash))
		if id == nil || tokenHash == "" {
			return acl.NotFound("agent token", storekit.ShortHash(tokenHash))
		}
		var r storekit.WorkspaceRecord
		if err := getExisting(w.Bucket(bWorkspaces), "workspace", string(id), &r); err != nil {
			return err
		}
		if err := w.Bucket(bAgentTokens).Delete([]byte(tokenHash)); err != nil {
			return err
		}
		r.AgentTokenHash = ""
		r.UpdatedAt = w.now
		if err := putJSON(w.Bucket(bWorkspaces), string(id), r); err != nil {
			return err
		}
		ws = r.Workspace()
		return putJSON(w.Bucket(bAgentKeys), ws.UID, acl.AgentKey{WorkspaceUID: ws.UID, PublicKey: publicKey, PinnedAt: w.now})
	})
	return ws, err
}

// GetAgentKey implements acl.Store.
func (s *Store) GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error) {
	if err := storekit.LookupUID(uid); err != nil {
		return acl.AgentKey{}, err
	}
	var k acl.AgentKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		k, err = readAgentKey(tx, uid)
		return err
	})
	return k, err
}

// readAgentKey reads uid's key, zero when none; the workspace must exist.
func readAgentKey(tx *bolt.Tx, uid string) (acl.AgentKey, error) {
	if tx.Bucket(bWorkspaceUIDs).Get([]byte(uid)) == nil {
		return acl.AgentKey{}, acl.NotFound("workspace", uid)
	}
	k := acl.AgentKey{WorkspaceUID: uid}
	_, err := getJSON(tx.Bucket(bAgentKeys), uid, &k)
	return k, err
}

// ListAgentKeys implements acl.Store.
func (s *Store) ListAgentKeys(ctx context.Context) ([]acl.AgentKey, error) {
	var out []acl.AgentKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bAgentKeys).ForEach(func(uid, _ []byte) error {
			k, err := readAgentKey(tx, string(uid))
			if errors.Is(err, acl.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if k.PublicKey != "" || k.Revoked || len(k.Exposed) > 0 {
				out = append(out, k)
			}
			return nil
		})
	})
	return out, err
}

// ReplaceAgentKey implements acl.Store.
func (s *Store) ReplaceAgentKey(ctx context.Context, uid, old, next string, exposed []string) error {
	exposed, err := storekit.CheckReplaceAgentKey(uid, next, exposed)
	if err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		k, err := readAgentKey(w.Tx, uid)
		if err != nil {
			return err
		}
		if k.PublicKey != old {
			return &acl.ConflictError{Kind: "agent key", Name: uid, Detail: "the pinned key changed"}
		}
		k = acl.AgentKey{WorkspaceUID: uid, PublicKey: next, Revoked: next == "", Exposed: exposed}
		if next != "" {
			k.PinnedAt = w.now
		}
		return putJSON(w.Bucket(bAgentKeys), uid, k)
	})
}

// NoteAgentExposure implements acl.Store; writes only when user is new.
func (s *Store) NoteAgentExposure(ctx context.Context, uid, user string) error {
	if err := storekit.LookupUID(uid); err != nil {
		return err
	}
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		k, err := readAgentKey(w.Tx, uid)
		if err != nil {
			return err
		}
		var added bool
		if k.Exposed, added = storekit.AddExposed(k.Exposed, user); !added {
			return nil
		}
		return putJSON(w.Bucket(bAgentKeys), uid, k)
	})
}

// dropAgentKey removes uid's key (the token was replaced, or the
// workspace deleted).
func dropAgentKey(w *wtx, uid string) error {
	if uid == "" {
		return nil
	}
	return w.Bucket(bAgentKeys).Delete([]byte(uid))
}
