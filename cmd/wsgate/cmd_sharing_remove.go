package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// requireGrants refuses, before any change, to remove grants that do not
// exist: `sharing remove --user eve` on a workspace not shared with eve
// says so instead of succeeding with nothing done.
func requireGrants(cmd *cobra.Command, ref string, users, groups []string) error {
	c, ws, err := workspaceArg(cmd, ref)
	if err != nil {
		return err
	}
	cur, err := c.GetACL(cmd.Context(), ws.ID())
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, u := range cur.Users {
		have["user "+u.Name] = true
	}
	for _, g := range cur.Groups {
		have["group "+g.Name] = true
	}
	var missing []string
	probe := apitypes.ACLUpdate{Users: map[string]string{}, Groups: map[string]string{}}
	for _, u := range users {
		if !have["user "+u] {
			missing = append(missing, "user "+u)
			probe.Users[u] = ""
		}
	}
	for _, g := range groups {
		if !have["group "+g] {
			missing = append(missing, "group "+g)
			probe.Groups[g] = ""
		}
	}
	if len(missing) > 0 {
		// Removing a grant nobody holds changes nothing, and the server
		// still says which user or group does not exist at all.
		if _, err := c.PatchACL(cmd.Context(), ws.ID(), probe); err != nil {
			return fmt.Errorf("share %s: %w", ws.ID(), err)
		}
		return fmt.Errorf("%s has no grant for %s; nothing was removed", ws.ID(), strings.Join(missing, ", "))
	}
	return nil
}
