package redisstore

import (
	"context"
	"slices"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Agent keys are JSON records agent-key:<uid>, listed in the set
// agent-keys; each write is one script (see acl.AgentKeyStore).

// EnrolAgent implements acl.Store; one round trip.
func (s *Store) EnrolAgent(ctx context.Context, tokenHash, publicKey string) (acl.Workspace, error) {
	if err := storekit.CheckAgentKey(publicKey); err != nil {
		return acl.Workspace{}, err
	}
	if tokenHash == "" {
		return acl.Workspace{}, acl.NotFound("agent token", "")
	}
	return s.oneWorkspace(ctx, "enrol_agent", "enrol_agent", s.newOp(tokenHash, storekit.ShortHash(tokenHash), publicKey))
}

// GetAgentKey implements acl.Store.
func (s *Store) GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error) {
	if err := storekit.LookupUID(uid); err != nil {
		return acl.AgentKey{}, err
	}
	res, err := s.run(ctx, "get_agent_key", s.newOp(uid))
	if err != nil {
		return acl.AgentKey{}, err
	}
	raw := strs(res)
	if len(raw) != 1 {
		return acl.AgentKey{}, errReply("get_agent_key", res)
	}
	k := acl.AgentKey{WorkspaceUID: uid}
	if raw[0] == "" {
		return k, nil
	}
	return k, decode(raw[0], &k)
}

// ListAgentKeys implements acl.Store.
func (s *Store) ListAgentKeys(ctx context.Context) ([]acl.AgentKey, error) {
	res, err := s.run(ctx, "list_agent_keys", s.newOp())
	if err != nil {
		return nil, err
	}
	var out []acl.AgentKey
	for _, raw := range strs(res) {
		var k acl.AgentKey
		if err := decode(raw, &k); err != nil {
			return nil, err
		}
		if k.PublicKey != "" || k.Revoked || len(k.Exposed) > 0 {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b acl.AgentKey) int { return strings.Compare(a.WorkspaceUID, b.WorkspaceUID) })
	return out, nil
}

// ReplaceAgentKey implements acl.Store.
func (s *Store) ReplaceAgentKey(ctx context.Context, uid, old, next string, exposed []string) error {
	exposed, err := storekit.CheckReplaceAgentKey(uid, next, exposed)
	if err != nil {
		return err
	}
	args := []any{uid, old, next}
	for _, u := range exposed {
		args = append(args, u)
	}
	return s.write(ctx, "replace_agent_key", args...)
}

// NoteAgentExposure implements acl.Store.
func (s *Store) NoteAgentExposure(ctx context.Context, uid, user string) error {
	if err := storekit.LookupUID(uid); err != nil {
		return err
	}
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.write(ctx, "note_agent_exposure", uid, user)
}
