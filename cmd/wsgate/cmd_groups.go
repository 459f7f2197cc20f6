package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newGroupsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "groups",
		Aliases: []string{"group"},
		Short:   "Manage groups (changes are for site admins)",
	}
	var (
		createReq apitypes.CreateGroupRequest
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
			createReq.Name = args[0]
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			g, err := c.CreateGroup(cmd.Context(), createReq)
			if err != nil {
				return err
			}
			return printGroups(cmd.OutOrStdout(), []apitypes.Group{g}, createOut)
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
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			g, err := c.GetGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printGroups(cmd.OutOrStdout(), []apitypes.Group{g}, showOut)
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
	cmd.AddCommand(create, list, show, del,
		newGroupsMemberCmd("add", "to", "Added", (*apiclient.Client).AddGroupMember),
		newGroupsMemberCmd("remove", "from", "Removed", (*apiclient.Client).RemoveGroupMember),
	)
	return cmd
}

type memberFunc func(c *apiclient.Client, ctx context.Context, group, user string) (apitypes.Group, error)

// newGroupsMemberCmd is add-member or remove-member: verb, the preposition
// ("to", "from") and the past tense word the messages.
func newGroupsMemberCmd(verb, prep, past string, f memberFunc) *cobra.Command {
	return &cobra.Command{
		Use:   verb + "-member GROUP USER...",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " users " + prep + " a group",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			group, users := args[0], args[1:]
			for _, u := range users {
				if _, err := f(c, cmd.Context(), group, u); err != nil {
					return fmt.Errorf("%s %s %s %s: %w", verb, u, prep, group, err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %s.\n", past, strings.Join(users, ", "), prep, group)
			return nil
		},
	}
}

func printGroups(w io.Writer, gs []apitypes.Group, out *output) error {
	return printRows(w, out, gs, []string{"GROUP", "ORG", "MEMBERS"}, func(g apitypes.Group) []string {
		return []string{g.Name, g.Org, strings.Join(g.Members, ",")}
	})
}
