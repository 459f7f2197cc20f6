package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newTokensCmd() *cobra.Command {
	var user string
	cmd := &cobra.Command{
		Use:     "tokens",
		Aliases: []string{"token"},
		Short:   "Create, list and revoke API tokens (yours, or anyone's for site admins)",
	}
	cmd.PersistentFlags().StringVar(&user, "user", "me", "whose tokens")

	var (
		name      string
		lifetime  time.Duration
		createOut *output
		listOut   *output
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			expires, err := expiresAfter(cmd, "lifetime", lifetime)
			if err != nil {
				return err
			}
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			res, err := c.CreateToken(cmd.Context(), user, apitypes.CreateTokenRequest{Name: name, ExpiresAt: expires})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if createOut.json() {
				return printJSON(w, res)
			}
			fmt.Fprintf(w, "Token %s (id %s) for %s, shown only now:\n%s\n", sanitize(res.Token.Name), res.Token.ID, res.Token.User, res.Secret)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "cli", "a name to recognise the token by")
	create.Flags().DurationVar(&lifetime, "lifetime", 0, "expire the token after this long (default never)")
	createOut = addOutputFlag(create)

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			ts, err := c.ListTokens(cmd.Context(), user)
			if err != nil {
				return err
			}
			return printRows(cmd.OutOrStdout(), listOut, ts, []string{"ID", "NAME", "CREATED", "EXPIRES"}, func(tok apitypes.Token) []string {
				return []string{tok.ID, tok.Name, tok.CreatedAt.UTC().Format(time.RFC3339), formatTime(tok.ExpiresAt)}
			})
		},
	}
	listOut = addOutputFlag(list)

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), user, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Token %s revoked.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
