package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newWorkspacesTransferCmd() *cobra.Command {
	var to, keep string
	cmd := &cobra.Command{
		Use:   "transfer WORKSPACE --to USER [--keep-access admin|use|none]",
		Short: "Make another user the owner of a workspace (owner or site admin)",
		Long: `transfer makes USER the owner of the workspace. Its agent, live sessions
and grants stay; its name moves to USER's namespace (USER/NAME), and USER's
own grant on it, if any, goes. The old owner keeps the role --keep-access
names, or nothing (the default): their live sessions then end.`,
		Example: "  wsgate workspaces transfer ai-ws --to bob\n  wsgate workspaces transfer ai-ws --to bob --keep-access use",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			res, err := c.TransferWorkspace(cmd.Context(), ws.ID(), apitypes.TransferWorkspaceRequest{To: to, KeepAccess: keep})
			if err != nil {
				return err
			}
			kept := "keeps no access"
			if keep != "" && keep != "none" {
				kept = "keeps the " + keep + " role"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Transferred %s to %s: it is now %s/%s; %s %s.\n", ws.ID(), to, to, ws.Name, ws.Owner, kept)
			if res == nil {
				fmt.Fprintln(cmd.OutOrStdout(), "You no longer have access to it.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the new owner (required)")
	cmd.Flags().StringVar(&keep, "keep-access", "none", "role the old owner keeps: admin, use or none")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newWorkspacesMarkOutdatedCmd() *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "mark-outdated WORKSPACE",
		Short: "Mark a workspace as needing an update (site admins): its `use` grantees may then update it, and start updates it first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			if _, err := c.SetUpdateRequired(cmd.Context(), ws.ID(), !clear); err != nil {
				return err
			}
			if clear {
				fmt.Fprintf(cmd.OutOrStdout(), "%s no longer needs an update.\n", ws.ID())
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s needs an update: its next start updates it, and any user of it may run `wsgate workspaces update`.\n", ws.ID())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "clear the mark instead")
	return cmd
}

func newUsersDeleteCmd() *cobra.Command {
	var (
		yes        bool
		transferTo string
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user with their keys, tokens, memberships and grants (site admins only)",
		Long: `delete removes the user. A user who owns workspaces cannot be deleted
unless --transfer-to names who receives them (see workspaces transfer).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if !yes {
				q := fmt.Sprintf("Delete user %s?", args[0])
				if transferTo != "" {
					q = fmt.Sprintf("Delete user %s and transfer their workspaces to %s?", args[0], transferTo)
				}
				ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), q)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("not deleted")
				}
			}
			if transferTo != "" {
				err = c.DeleteUserTransferring(cmd.Context(), args[0], transferTo)
			} else {
				err = c.DeleteUser(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			if transferTo != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "User %s deleted; their workspaces now belong to %s.\n", args[0], transferTo)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "User %s deleted.\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&transferTo, "transfer-to", "", "hand every workspace the user owns to this user first")
	return cmd
}
