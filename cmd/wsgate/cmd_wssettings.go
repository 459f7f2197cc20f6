package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// newWorkspacesSettingsCmd shows (view) or changes (owner, admin) a
// workspace's own settings.
func newWorkspacesSettingsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change a workspace's settings (agent-forwarding, remote-forward-bind)",
	}
	set := &cobra.Command{
		Use:   "set WORKSPACE KEY=VALUE...",
		Short: "Change settings: agent-forwarding=on|off, remote-forward-bind=loopback|any (owner and admins)",
		Long: `Change a workspace's settings (owner and admins):

  agent-forwarding=on|off        let users forward their ssh-agent (ssh -A) into the
                                 workspace while other users can reach it too (default off)
  remote-forward-bind=loopback|any
                                 where ssh -R listens: loopback only (default), or the
                                 address the client asks for (like sshd's GatewayPorts
                                 clientspecified)`,
		Example: "  wsgate workspaces settings set alice/ws agent-forwarding=on",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kv, err := parseKeyValues(args[1:])
			if err != nil {
				return err
			}
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			s, err := c.SetWorkspaceSettings(cmd.Context(), ws.ID(), kv)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Workspace %s:\n", ws.ID())
			printWorkspaceSettings(cmd.OutOrStdout(), s)
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show WORKSPACE",
		Short: "Show a workspace's settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			s, err := c.GetWorkspaceSettings(cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			printWorkspaceSettings(cmd.OutOrStdout(), s)
			return nil
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

// printWorkspaceSettings prints KEY=VALUE lines, keys sorted.
func printWorkspaceSettings(w io.Writer, s apitypes.WorkspaceSettings) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%s\n", k, s[k])
	}
}
