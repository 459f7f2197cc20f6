package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apiclient"
)

func newLoginCmd() *cobra.Command {
	var token string
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Store the gateway URL and your API token",
		Long: "login checks the token against the gateway and stores both under your config\n" +
			"directory (mode 0600). Without --token it reads the token from standard input.\n" +
			envURL + " and " + envToken + " override the stored values.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := apiclient.ParseURL(args[0])
			if err != nil {
				return err
			}
			if token == "" {
				fmt.Fprint(cmd.ErrOrStderr(), "API token: ")
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("read token: %w", err)
				}
				token = strings.TrimSpace(line)
			}
			if token == "" {
				return fmt.Errorf("no token given")
			}
			c, err := apiclient.New(u.String(), token)
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return fmt.Errorf("check token with %s: %w", u, err)
			}
			path, err := saveCLIConfig(cliConfig{URL: u.String(), Token: token})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as %s (saved to %s).\n", u, me.Name, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "API token (default: read from standard input)")
	return cmd
}
