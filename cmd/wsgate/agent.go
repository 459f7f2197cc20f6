package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/tunnel"
)

func newAgentCmd() *cobra.Command {
	var (
		url, token, dir, shell, workspace string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the workspace agent: dial the gateway and serve SSH for this workspace",
		Long: `Run inside a workspace. The agent dials the gateway's HTTP port, upgrades the
connection to a multiplexed tunnel and serves SSH sessions, SFTP, port forwards
and app traffic over it. It reconnects with backoff when the gateway goes away.

Every flag can also be set as WSGATE_AGENT_<FLAG>, e.g. WSGATE_AGENT_URL and
WSGATE_AGENT_TOKEN (keep the token out of the command line on shared hosts).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnvPrefix(cmd, "WSGATE_AGENT_"); err != nil {
				return err
			}
			if url == "" || token == "" {
				return errors.New("agent needs --url and --token (or WSGATE_AGENT_URL and WSGATE_AGENT_TOKEN)")
			}
			if dir == "" {
				var err error
				if dir, err = os.Getwd(); err != nil {
					return err
				}
			}
			log := slog.Default().With("part", "agent")
			a, err := agent.New(agent.Config{Workspace: workspace, Dir: dir, Shell: shell, Logger: log})
			if err != nil {
				return fmt.Errorf("start agent: %w", err)
			}
			defer a.Close()
			err = a.Run(cmd.Context(), tunnel.ClientConfig{URL: url, Token: token, Logger: log})
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", "", "gateway base URL, e.g. http://gateway:8080")
	f.StringVar(&token, "token", "", "agent token of this workspace")
	f.StringVar(&dir, "dir", "", "start directory of sessions (default: the current directory)")
	f.StringVar(&shell, "shell", "", "login shell (default: $SHELL, else /bin/bash or /bin/sh)")
	f.StringVar(&workspace, "workspace", "", "owner/name, shown to sessions as WSGATE_WORKSPACE")
	return cmd
}
