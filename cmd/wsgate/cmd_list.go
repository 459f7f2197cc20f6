package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newListCmd() *cobra.Command {
	var (
		shared bool
		all    bool
		search string
		out    *output
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your workspaces, or those shared with you",
		Long: "list shows your own workspaces. --shared shows those shared with you, --all\n" +
			"everything you can see, and --search takes a query of space-separated terms:\n" +
			"  owner:<user|me>  shared:true|false  shared_with_user:<user|me>\n" +
			"  shared_with_group:<group>  name:<text>",
		Example: "  wsgate list\n  wsgate list --shared\n  wsgate list --search shared_with_group:contractor -o json",
		Aliases: []string{"ls"},
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var terms []string
			switch {
			case shared:
				terms = append(terms, "shared_with_user:me")
			case search == "" && !all:
				terms = append(terms, "owner:me")
			}
			if search != "" {
				terms = append(terms, search)
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			ws, err := c.ListWorkspaces(cmd.Context(), strings.Join(terms, " "))
			if err != nil {
				return err
			}
			return printWorkspaces(cmd.OutOrStdout(), ws, out)
		},
	}
	cmd.Flags().BoolVar(&shared, "shared", false, "list workspaces shared with you")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "list every workspace you can see")
	cmd.Flags().StringVar(&search, "search", "", "search query (see above)")
	out = addOutputFlag(cmd)
	addColumnsFlag(cmd, out)
	return cmd
}

// sharedWith renders grants as "bob:use, contractor(group):use".
func sharedWith(s apitypes.SharedWith) string {
	parts := make([]string, 0, len(s.Users)+len(s.Groups))
	for _, u := range s.Users {
		parts = append(parts, u.Name+":"+u.Role)
	}
	for _, g := range s.Groups {
		parts = append(parts, g.Name+"(group):"+g.Role)
	}
	return strings.Join(parts, ", ")
}
