package httpapi

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// agentKeyState says whether ws's agent has a pinned key, is waiting to
// enrol, or had its key revoked and needs a new token; "" when the store
// cannot say (the rest of the answer does not depend on it).
func (a *api) agentKeyState(ctx context.Context, ws acl.Workspace, _ acl.Role) string {
	k, err := a.store.GetAgentKey(ctx, ws.UID)
	switch {
	case err != nil:
		return ""
	case k.PublicKey != "":
		return apitypes.AgentKeyEnrolled
	case k.Revoked && ws.AgentTokenHash == "":
		return apitypes.AgentKeyRevoked
	}
	return apitypes.AgentKeyAwaiting
}
