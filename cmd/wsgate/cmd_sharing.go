package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newSharingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sharing",
		Short: "Share workspaces with users and groups",
	}
	cmd.AddCommand(newSharingShareCmd(), newSharingRemoveCmd(), newSharingShowCmd())
	return cmd
}

func newSharingShareCmd() *cobra.Command {
	var (
		users, groups []string
		forDur        time.Duration
		out           *output
	)
	cmd := &cobra.Command{
		Use:     "share WORKSPACE --user NAME[:ROLE],... --group NAME[:ROLE],...",
		Aliases: []string{"add"}, // Coder's name
		Short:   "Grant users or groups a role (use or admin; default use) on a workspace",
		Example: "  wsgate sharing share alice-ws --user alice:admin,bob --group contractor\n" +
			"  wsgate sharing share alice-ws --user bob --for 2h",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Parse everything before any request, so a bad spec changes
			// nothing.
			uspecs, err := acl.ParseShareSpecs(acl.SubjectUser, users)
			if err != nil {
				return err
			}
			gspecs, err := acl.ParseShareSpecs(acl.SubjectGroup, groups)
			if err != nil {
				return err
			}
			if len(uspecs)+len(gspecs) == 0 {
				return errors.New("nothing to share: give --user or --group")
			}
			expires, err := expiresAfter(cmd, "for", forDur)
			if err != nil {
				return err
			}
			upd := apitypes.ACLUpdate{Users: map[string]string{}, Groups: map[string]string{}, ExpiresAt: expires}
			for _, s := range uspecs {
				upd.Users[s.Name] = s.Role.String()
			}
			for _, s := range gspecs {
				upd.Groups[s.Name] = s.Role.String()
			}
			return patchACL(cmd, args[0], upd, out)
		},
	}
	cmd.Flags().StringSliceVar(&users, "user", nil, "users to share with, as name[:role] (repeatable, comma lists)")
	cmd.Flags().StringSliceVar(&groups, "group", nil, "groups to share with, as name[:role] (repeatable, comma lists)")
	cmd.Flags().DurationVar(&forDur, "for", 0, "make the grants expire after this long (e.g. 2h)")
	out = addOutputFlag(cmd)
	return cmd
}

func newSharingRemoveCmd() *cobra.Command {
	var (
		users, groups []string
		out           *output
	)
	cmd := &cobra.Command{
		Use:     "remove WORKSPACE --user NAME,... --group NAME,...",
		Short:   "Remove the grants of users or groups on a workspace",
		Example: "  wsgate sharing remove alice-ws --user bob --group contractor",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			unames, err := acl.ParseShareNames(acl.SubjectUser, users)
			if err != nil {
				return err
			}
			gnames, err := acl.ParseShareNames(acl.SubjectGroup, groups)
			if err != nil {
				return err
			}
			if len(unames)+len(gnames) == 0 {
				return errors.New("nothing to remove: give --user or --group")
			}
			if err := requireGrants(cmd, args[0], unames, gnames); err != nil {
				return err
			}
			upd := apitypes.ACLUpdate{Users: map[string]string{}, Groups: map[string]string{}}
			for _, n := range unames {
				upd.Users[n] = ""
			}
			for _, n := range gnames {
				upd.Groups[n] = ""
			}
			return patchACL(cmd, args[0], upd, out)
		},
	}
	cmd.Flags().StringSliceVar(&users, "user", nil, "users whose grant to remove (repeatable, comma lists)")
	cmd.Flags().StringSliceVar(&groups, "group", nil, "groups whose grant to remove (repeatable, comma lists)")
	out = addOutputFlag(cmd)
	return cmd
}

// patchACL applies one atomic change and prints the resulting shares.
func patchACL(cmd *cobra.Command, ref string, upd apitypes.ACLUpdate, out *output) error {
	c, ws, err := workspaceArg(cmd, ref)
	if err != nil {
		return err
	}
	res, err := c.PatchACL(cmd.Context(), ws.ID(), upd)
	if err != nil {
		return fmt.Errorf("share %s: %w", ws.ID(), err)
	}
	return printACL(cmd.OutOrStdout(), res, out)
}

func newSharingShowCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:     "show WORKSPACE",
		Aliases: []string{"status", "list"}, // Coder's names
		Short:   "Show who a workspace is shared with",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			res, err := c.GetACL(cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			return printACL(cmd.OutOrStdout(), res, out)
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}

// printACL prints one row per user grant and one per member of each shared
// group (a group without members gets one row), with EXPIRES when any grant
// expires.
func printACL(w io.Writer, a apitypes.ACL, out *output) error {
	if out.json() {
		return printJSON(w, a)
	}
	expiring := false
	for _, u := range a.Users {
		expiring = expiring || !u.ExpiresAt.IsZero()
	}
	for _, g := range a.Groups {
		expiring = expiring || !g.ExpiresAt.IsZero()
	}
	cols := []string{"USER", "GROUP", "ROLE"}
	if expiring {
		cols = append(cols, "EXPIRES")
	}
	t := newTable(w, cols...)
	row := func(user, group, role string, exp time.Time) {
		cells := []string{user, group, role}
		if expiring {
			cells = append(cells, formatTime(exp))
		}
		t.row(cells...)
	}
	for _, u := range a.Users {
		row(u.Name, "", u.Role, u.ExpiresAt)
	}
	for _, g := range a.Groups {
		if len(g.Members) == 0 {
			row("", g.Name, g.Role, g.ExpiresAt)
		}
		for _, m := range g.Members {
			row(m, g.Name, g.Role, g.ExpiresAt)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	if a.Inactive != "" && len(a.Users)+len(a.Groups) > 0 {
		fmt.Fprintf(w, "Inactive: %s; these grants give no access until it is enabled again (they can be removed).\n", sanitize(a.Inactive))
	}
	return nil
}
