package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apiclient"
)

func newLoginCmd() *cobra.Command {
	var token, caFile string
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Store the gateway URL and your API token",
		Long: "login checks the token against the gateway and stores both under your config\n" +
			"directory (mode 0600). Without --token it reads the token from standard input.\n" +
			"For a gateway whose certificate comes from a private CA, --ca-file names that\n" +
			"CA's certificate (PEM); its absolute path is stored and every later command\n" +
			"trusts it besides the system's roots.\n" +
			envURL + ", " + envToken + " and " + envCAFile + " override the stored values.",
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
			if caFile != "" {
				if caFile, err = filepath.Abs(caFile); err != nil {
					return fmt.Errorf("--ca-file: %w", err)
				}
			}
			// The environment's CA (not stored) helps check the token
			// when no --ca-file is given, as it would any other command.
			checkCA := caFile
			if checkCA == "" {
				checkCA = os.Getenv(envCAFile)
			}
			c, err := dialAPI(u.String(), token, checkCA)
			if err != nil {
				return err
			}
			defer c.CloseIdleConnections()
			me, err := c.Me(cmd.Context())
			if err != nil {
				return fmt.Errorf("check token with %s: %w", u, err)
			}
			replaced, err := replaceBootstrapToken(cmd.Context(), c, me)
			if err != nil {
				return err
			}
			if replaced != "" {
				token = replaced
				fmt.Fprintln(cmd.OutOrStdout(), "Replaced the bootstrap token with a token of this CLI's own; admin.token no longer signs in.")
			}
			path, err := saveCLIConfig(cliConfig{URL: u.String(), Token: token, CAFile: caFile})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in to %s as %s (saved to %s).\n", u, me.Name, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "API token (default: read from standard input)")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "PEM file of the gateway's CA certificate(s), trusted besides the system's")
	return cmd
}
