package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newWorkspacesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workspaces",
		Aliases: []string{"workspace", "ws"},
		Short:   "Create, rename, delete, start, stop and update workspaces",
	}
	cmd.AddCommand(
		newWorkspacesCreateCmd(),
		newWorkspacesListCmd(),
		newWorkspacesShowCmd(),
		newWorkspacesRenameCmd(),
		newWorkspacesDeleteCmd(),
		newWorkspacesLifecycleCmd("start", "Start a workspace", (*apiclient.Client).StartWorkspace),
		newWorkspacesLifecycleCmd("stop", "Stop a workspace", (*apiclient.Client).StopWorkspace),
		newWorkspacesLifecycleCmd("update", "Update a workspace (and leave it running)", (*apiclient.Client).UpdateWorkspace),
		newWorkspacesAgentTokenCmd(),
		newWorkspacesStatsCmd(),
		newWorkspacesLogsCmd(),
		newWorkspacesConnectionsCmd(),
		newWorkspacesSettingsCmd(),
		newWorkspacesTransferCmd(),
		newWorkspacesMarkOutdatedCmd(),
	)
	return cmd
}

func newWorkspacesCreateCmd() *cobra.Command {
	var (
		owner, org string
		out        *output
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a workspace and print its agent token (shown once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			res, err := c.CreateWorkspace(cmd.Context(), apitypes.CreateWorkspaceRequest{Name: args[0], Owner: owner, Org: org})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return printJSON(w, res)
			}
			fmt.Fprintf(w, "Created workspace %s/%s.\n", res.Workspace.Owner, res.Workspace.Name)
			fmt.Fprintf(w, "Agent token (shown only now): %s\n", res.AgentToken)
			fmt.Fprintf(w, "Run the agent in the workspace with:\n  wsgate agent --url %s --token %s\n", gatewayURL(c), res.AgentToken)
			return nil
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "owner (site admins only; default you)")
	cmd.Flags().StringVar(&org, "org", "", "organization (default the owner's)")
	out = addOutputFlag(cmd)
	return cmd
}

func gatewayURL(c *apiclient.Client) string { return c.URL().String() }

func newWorkspacesListCmd() *cobra.Command {
	var (
		search string
		out    *output
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every workspace you can see (see `wsgate list` for filters)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			ws, err := c.ListWorkspaces(cmd.Context(), search)
			if err != nil {
				return err
			}
			return printWorkspaces(cmd.OutOrStdout(), ws, out)
		},
	}
	cmd.Flags().StringVar(&search, "search", "", "search query, as for `wsgate list --search`")
	out = addOutputFlag(cmd)
	addColumnsFlag(cmd, out)
	return cmd
}

func newWorkspacesShowCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "show WORKSPACE",
		Short: "Show one workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			if err := printWorkspaces(cmd.OutOrStdout(), []apitypes.Workspace{ws}, out); err != nil {
				return err
			}
			if !out.json() {
				printAgentRefusal(cmd.OutOrStdout(), ws.AgentRefusal)
				if t := ws.AgentTakeover; t != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "agent: taken over (%s) at %s\n", sanitize(t.Message), formatTime(t.At))
				}
				if len(ws.Settings) > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "settings:")
					printWorkspaceSettings(cmd.OutOrStdout(), ws.Settings)
				}
				printAgentKey(cmd.OutOrStdout(), ws)
			}
			return nil
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}

// printAgentRefusal says why the gateway refused the workspace's agent, if
// it did: the agent's own log is often out of the user's sight.
func printAgentRefusal(w io.Writer, r *apitypes.AgentRefusal) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "agent: refused (%s) at %s\n", sanitize(r.Message), formatTime(r.At))
}

func newWorkspacesRenameCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rename WORKSPACE NEW-NAME",
		Short: "Rename a workspace (its grants stay)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			res, err := c.RenameWorkspace(cmd.Context(), ws.ID(), args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Renamed %s to %s/%s.\n", ws.ID(), res.Owner, res.Name)
			return nil
		},
	}
}

func newWorkspacesDeleteCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete WORKSPACE",
		Short: "Delete a workspace (stopping it first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), fmt.Sprintf("Delete workspace %s?", ws.ID()))
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("not deleted")
				}
			}
			if err := c.DeleteWorkspace(cmd.Context(), ws.ID()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s.\n", ws.ID())
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// confirm asks a yes/no question on w and reads the answer from r.
func confirm(r io.Reader, w io.Writer, question string) (bool, error) {
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("no answer (use --yes to skip the question): %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

type lifecycleFunc func(*apiclient.Client, context.Context, acl.WorkspaceID) (apitypes.Workspace, error)

func newWorkspacesLifecycleCmd(verb, short string, f lifecycleFunc) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " WORKSPACE",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			res, err := f(c, cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Workspace %s is %s.\n", ws.ID(), res.State)
			return nil
		},
	}
}

func newWorkspacesAgentTokenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-agent-token WORKSPACE",
		Short: "Replace a workspace's agent token and print the new one (the old one stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			tok, err := c.RotateAgentToken(cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "New agent token for %s (shown only now): %s\n", ws.ID(), tok)
			return nil
		},
	}
}

func newWorkspacesStatsCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "stats WORKSPACE",
		Short: "Show the agent's stats: who is connected, sessions, traffic, uptime, load",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			s, err := c.WorkspaceStats(cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return printJSON(w, s)
			}
			printStats(w, ws.ID(), s)
			return nil
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}

func printStats(w io.Writer, id acl.WorkspaceID, s apitypes.AgentStats) {
	load := "-"
	if len(s.LoadAverage) == 3 {
		load = fmt.Sprintf("%.2f %.2f %.2f", s.LoadAverage[0], s.LoadAverage[1], s.LoadAverage[2])
	}
	t := newTable(w, "WORKSPACE", id.String())
	t.row("UPTIME", (time.Duration(s.UptimeSeconds) * time.Second).String())
	t.row("LOAD", load)
	t.row("CONNECTIONS", strconv.Itoa(s.Connections))
	t.row("SESSIONS", strconv.Itoa(s.Sessions))
	t.row("APP STREAMS", strconv.Itoa(s.TCPStreams))
	t.row("BYTES IN", strconv.FormatUint(s.BytesIn, 10))
	t.row("BYTES OUT", strconv.FormatUint(s.BytesOut, 10))
	_ = t.flush()
	if len(s.Users) == 0 {
		fmt.Fprintln(w, "\nNobody is connected.")
		return
	}
	fmt.Fprintln(w)
	t = newTable(w, "USER", "CONNECTIONS", "SESSIONS", "APP STREAMS")
	for _, u := range s.Users {
		t.row(u.Name, strconv.Itoa(u.Connections), strconv.Itoa(u.Sessions), strconv.Itoa(u.TCPStreams))
	}
	_ = t.flush()
}

func newWorkspacesLogsCmd() *cobra.Command {
	var (
		lines int
		out   *output
	)
	cmd := &cobra.Command{
		Use:   "logs WORKSPACE",
		Short: "Show the agent's recent log lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lines < 1 || lines > apitypes.MaxLogLines {
				return fmt.Errorf("invalid -n %d: expected 1 to %d", lines, apitypes.MaxLogLines)
			}
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			ls, err := c.WorkspaceLogs(cmd.Context(), ws.ID(), lines)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out.json() {
				return printJSON(w, apitypes.AgentLogs{Lines: ls})
			}
			for _, l := range ls {
				// Agent output: a line could carry escape sequences.
				fmt.Fprintln(w, sanitize(l))
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&lines, "lines", "n", apitypes.DefaultLogLines, "number of newest lines to show")
	out = addOutputFlag(cmd)
	return cmd
}

func newWorkspacesConnectionsCmd() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "connections WORKSPACE",
		Short: "List who is connected to a workspace through the gateway",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ws, err := workspaceArg(cmd, args[0])
			if err != nil {
				return err
			}
			cs, err := c.WorkspaceConnections(cmd.Context(), ws.ID())
			if err != nil {
				return err
			}
			return printRows(cmd.OutOrStdout(), out, cs, []string{"USER", "VIA", "FROM", "SINCE", "SESSION"}, func(x apitypes.Connection) []string {
				return []string{x.User, x.Via, x.RemoteAddr, x.Since.Local().Format(time.DateTime), x.SessionID}
			})
		},
	}
	out = addOutputFlag(cmd)
	return cmd
}
