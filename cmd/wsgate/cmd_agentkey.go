package main

import (
	"fmt"
	"io"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// printAgentKey says when the workspace's agent cannot come back on its
// own: its key was revoked and it needs a new enrolment token.
func printAgentKey(w io.Writer, ws apitypes.Workspace) {
	switch ws.AgentKey {
	case apitypes.AgentKeyRevoked:
		fmt.Fprintf(w, "agent: key revoked (a user with access lost it while the agent was not connected); "+
			"the agent needs a new enrolment token: wsgate workspaces rotate-agent-token %s/%s\n", ws.Owner, ws.Name)
	case apitypes.AgentKeyAwaiting:
		fmt.Fprintln(w, "agent: not enrolled (waiting for an agent with the current token)")
	}
}
