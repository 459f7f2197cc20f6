package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/httpapi"
)

func newGroupsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "groups",
		Aliases: []string{"group"},
		Short:   "Manage groups (changes are for site admins)",
	}
	var (
		createReq httpapi.CreateGroupRequest
		createOut *output
		listOut   *output
		showOut   *output
	)
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a group",
		Example: "  wsgate groups create contractor --member carol,dave",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := createOut.validate(); err != nil {
				return err
			}
			createReq.Name = args[0]
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			g, err := c.CreateGroup(cmd.Context(), createReq)
			if err != nil {
				return err
			}
			return printGroups(cmd.OutOrStdout(), []httpapi.Group{g}, createOut)
		},
	}
	create.Flags().StringVar(&createReq.Org, "org", "", "organization")
	create.Flags().StringSliceVar(&createReq.Members, "member", nil, "members (repeatable, comma lists)")
	createOut = addOutputFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List groups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := listOut.validate(); err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			gs, err := c.ListGroups(cmd.Context())
			if err != nil {
				return err
			}
			return printGroups(cmd.OutOrStdout(), gs, listOut)
		},
	}
	listOut = addOutputFlag(list)

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a group and its members",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := showOut.validate(); err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			g, err := c.GetGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printGroups(cmd.OutOrStdout(), []httpapi.Group{g}, showOut)
		},
	}
	showOut = addOutputFlag(show)

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a group and its grants",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if err := c.DeleteGroup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Group %s deleted.\n", args[0])
			return nil
		},
	}
	add := &cobra.Command{
		Use:   "add-member GROUP USER...",
		Short: "Add users to a group",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			for _, u := range args[1:] {
				if _, err := c.AddGroupMember(cmd.Context(), args[0], u); err != nil {
					return fmt.Errorf("add %s to %s: %w", u, args[0], err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added %s to %s.\n", strings.Join(args[1:], ", "), args[0])
			return nil
		},
	}
	remove := &cobra.Command{
		Use:   "remove-member GROUP USER...",
		Short: "Remove users from a group",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			for _, u := range args[1:] {
				if _, err := c.RemoveGroupMember(cmd.Context(), args[0], u); err != nil {
					return fmt.Errorf("remove %s from %s: %w", u, args[0], err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s from %s.\n", strings.Join(args[1:], ", "), args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, show, del, add, remove)
	return cmd
}

func printGroups(w io.Writer, gs []httpapi.Group, out *output) error {
	if out.json() {
		return printJSON(w, gs)
	}
	t := newTable(w, "GROUP", "ORG", "MEMBERS")
	for _, g := range gs {
		t.row(g.Name, g.Org, strings.Join(g.Members, ","))
	}
	return t.flush()
}
