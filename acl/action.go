package acl

import "fmt"

// Action is something a subject asks to do on a workspace.
type Action uint8

const (
	ActionConnect        Action = iota // SSH, SFTP, port forward, apps
	ActionStart                        // start the workspace
	ActionStop                         // stop the workspace
	ActionView                         // status, logs, stats, who is connected
	ActionUpdateRequired               // update when the workspace requires it on start
	ActionUpdate                       // update at any time
	ActionRename                       // rename the workspace
	ActionShareUse                     // add or remove use grants
	ActionShareAdmin                   // add or remove admin grants
	ActionDelete                       // delete the workspace
	ActionManageAgent                  // rotate the agent's credential
	numActions
)

var actionNames = [numActions]string{
	ActionConnect:        "connect",
	ActionStart:          "start",
	ActionStop:           "stop",
	ActionView:           "view",
	ActionUpdateRequired: "update-required",
	ActionUpdate:         "update",
	ActionRename:         "rename",
	ActionShareUse:       "share-use",
	ActionShareAdmin:     "share-admin",
	ActionDelete:         "delete",
	ActionManageAgent:    "manage-agent",
}

// String names the action in logs and metrics.
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Actions lists every action, for exhaustive tests and docs.
func Actions() []Action {
	out := make([]Action, 0, numActions)
	for a := Action(0); a < numActions; a++ {
		out = append(out, a)
	}
	return out
}

// minRole is DESIGN.md's role table as code: the least role that may do each
// action. An action missing here would be RoleNone+0 and is denied below,
// because Authorize never allows RoleNone.
var minRole = [numActions]Role{
	ActionConnect:        RoleUse,
	ActionStart:          RoleUse,
	ActionStop:           RoleUse,
	ActionView:           RoleUse,
	ActionUpdateRequired: RoleUse,
	ActionUpdate:         RoleAdmin,
	ActionRename:         RoleAdmin,
	ActionShareUse:       RoleAdmin,
	ActionShareAdmin:     RoleOwner,
	ActionDelete:         RoleOwner,
	// Whoever holds the agent's credential can put their own agent in the
	// workspace's place; an admin grantee must not be able to mint one.
	ActionManageAgent: RoleOwner,
}

// MinRole returns the least role allowed to do a. Unknown actions need more
// than any role.
func MinRole(a Action) Role {
	if a < numActions && minRole[a] != RoleNone {
		return minRole[a]
	}
	return RoleOwner + 1
}
