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
// now; 0 means no expiry ("").
func expiresAfter(name string, d time.Duration) (string, error) {
	switch {
	case d < 0:
		return "", fmt.Errorf("invalid --%s %s: must be positive", name, d)
	case d == 0:
		return "", nil
	}
	return formatTime(time.Now().Add(d)), nil
}
