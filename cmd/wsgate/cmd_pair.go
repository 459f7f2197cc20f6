package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// pairSession is the tmux session `wsgate pair` opens. The agent gives
// each workspace its own TMUX_TMPDIR, so the name is the workspace's alone.
const pairSession = "pair"

// pairCommand is the remote command: open or attach to the shared session,
// or, read-only, attach to it as an observer.
func pairCommand(readOnly bool) string {
	if readOnly {
		return "exec tmux attach -r -t " + pairSession
	}
	return "exec tmux new -A -s " + pairSession
}

func newPairCmd() *cobra.Command {
	var readOnly bool
	cmd := &cobra.Command{
		Use:   "pair WORKSPACE",
		Short: "Open (or join) the workspace's shared tmux session",
		Long: `Open the workspace's shared tmux session "pair", or join it when someone has
opened it already: everyone in it sees and types into the same terminal. It
runs over the gateway's HTTP(S) port like wsgate ssh (your API token, no SSH
key), with a terminal. With OpenSSH it is:

  ssh -t alice-ws.coder tmux new -A -s pair

--read-only joins as an observer (tmux attach -r): keys are not passed to the
session. That is advisory only: whoever can connect to the workspace can
run commands in it, and tmux itself (tmux attach without -r, tmux send-keys).
Detach with C-b d; the session lives on in the workspace until its last
shell exits.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAPIClient()
			if err != nil {
				return err
			}
			err = runSSHSession(cmd.Context(), c, args[0], []string{pairCommand(readOnly)}, ttyForce)
			var ee *exitError
			if readOnly && errors.As(err, &ee) && ee.code == 1 {
				cmd.PrintErrln("wsgate: no pair session to observe in " + args[0] + " yet: someone must open it with `wsgate pair " + args[0] + "`")
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "join as an observer (advisory: tmux cannot stop a user who can run commands)")
	return cmd
}
