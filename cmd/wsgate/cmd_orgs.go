package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newOrgsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "orgs",
		Aliases: []string{"org"},
		Short:   "Manage organizations and their sharing setting (changes are for site admins)",
	}
	var (
		sharing   string
		createOut *output
		listOut   *output
	)
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an organization",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			o, err := c.CreateOrg(cmd.Context(), apitypes.CreateOrgRequest{Name: args[0], Sharing: sharing})
			if err != nil {
				return err
			}
			return printOrgs(cmd.OutOrStdout(), []apitypes.Org{o}, createOut)
		},
	}
	create.Flags().StringVar(&sharing, "sharing", "", "sharing setting: enabled (default) or disabled")
	createOut = addOutputFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List organizations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			os, err := c.ListOrgs(cmd.Context())
			if err != nil {
				return err
			}
			return printOrgs(cmd.OutOrStdout(), os, listOut)
		},
	}
	listOut = addOutputFlag(list)
	cmd.AddCommand(create, list, newOrgsSettingsCmd())
	return cmd
}

func newOrgsSettingsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change an organization's settings",
	}
	set := &cobra.Command{
		Use:     "set ORG KEY=VALUE",
		Short:   "Change a setting (sharing=enabled|disabled)",
		Example: "  wsgate orgs settings set acme sharing=disabled",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			val, err := parseSharingSetting(args[1])
			if err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			s, err := c.SetOrgSharing(cmd.Context(), args[0], val)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Organization %s: sharing=%s\n", args[0], s.Sharing)
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show ORG",
		Short: "Show an organization's settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			o, err := c.GetOrg(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sharing=%s\n", o.Sharing)
			return nil
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

func printOrgs(w io.Writer, os []apitypes.Org, out *output) error {
	return printRows(w, out, os, []string{"ORG", "SHARING"}, func(o apitypes.Org) []string { return []string{o.Name, o.Sharing} })
}
