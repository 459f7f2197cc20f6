package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// workspaceArg returns an API client and the workspace that ref names
// (NAME or OWNER/NAME, as `wsgate list` shows them).
func workspaceArg(cmd *cobra.Command, ref string) (*apiclient.Client, apitypes.Workspace, error) {
	c, err := newAPIClient()
	if err != nil {
		return nil, apitypes.Workspace{}, err
	}
	ws, err := c.ResolveWorkspace(cmd.Context(), ref)
	if err != nil {
		return nil, apitypes.Workspace{}, err
	}
	return c, ws, nil
}

// userArg returns args[i], or "me" when absent.
func userArg(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return "me"
}

// userAndArg splits the arguments of "[USER] X": the user defaults to "me".
func userAndArg(args []string) (user, arg string) {
	if len(args) == 2 {
		return args[0], args[1]
	}
	return "me", args[0]
}

// expiresAfter turns the duration flag --name into an RFC 3339 time d from
// now; a flag not given means no expiry (""). A given duration must be
// positive: "--for 0s" must not turn into "forever".
func expiresAfter(cmd *cobra.Command, name string, d time.Duration) (string, error) {
	if !cmd.Flags().Changed(name) {
		return "", nil
	}
	if d <= 0 {
		return "", fmt.Errorf("invalid --%s %s: must be positive (leave --%s out for no expiry)", name, d, name)
	}
	return formatTime(time.Now().Add(d)), nil
}
