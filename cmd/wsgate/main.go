// Command wsgate is the SSH gateway for shared workspaces: the server, the
// workspace agent, a one-command dev setup, and the CLI for owners and
// collaborators. It stays thin: flags, config and wiring; the work is in the
// packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		// Errors carry the server's messages.
		fmt.Fprintln(os.Stderr, "wsgate:", sanitizeText(err.Error()))
		os.Exit(1)
	}
}

// exitError ends the process with a given code and no further message (for
// `wsgate ssh`, which passes the remote command's status through).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "wsgate",
		Short:         "SSH gateway for shared workspaces",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServerCmd(),
		newAgentCmd(),
		newDevCmd(),
		newLoginCmd(),
		newSharingCmd(),
		newListCmd(),
		newUsersCmd(),
		newGroupsCmd(),
		newOrgsCmd(),
		newSettingsCmd(),
		newWorkspacesCmd(),
		newTokensCmd(),
		newWebCmd(),
		newCertsCmd(),
		newConfigSSHCmd(),
		newSSHCmd(),
		newPairCmd(),
	)
	strictSubcommands(root)
	return root
}
