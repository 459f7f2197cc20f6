package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// workspaceColumn is one column `list -c` can pick.
type workspaceColumn struct {
	name, header string
	cell         func(apitypes.Workspace) string
}

var workspaceColumns = []workspaceColumn{
	{"workspace", "WORKSPACE", func(x apitypes.Workspace) string { return x.Owner + "/" + x.Name }},
	{"status", "STATUS", workspaceStatus},
	{"role", "ROLE", workspaceRole},
	{"shared-with", "SHARED WITH", func(x apitypes.Workspace) string {
		shared := sharedWith(x.SharedWith)
		if x.SharingInactive != "" {
			shared += " (inactive: sharing is disabled)"
		}
		return shared
	}},
	{"owner", "OWNER", func(x apitypes.Workspace) string { return x.Owner }},
	{"name", "NAME", func(x apitypes.Workspace) string { return x.Name }},
	{"org", "ORG", func(x apitypes.Workspace) string { return x.Org }},
	{"update-required", "UPDATE REQUIRED", func(x apitypes.Workspace) string { return yesNo(x.UpdateRequired) }},
	{"created", "CREATED", func(x apitypes.Workspace) string { return formatTime(x.CreatedAt) }},
	{"updated", "UPDATED", func(x apitypes.Workspace) string { return formatTime(x.UpdatedAt) }},
}

var defaultWorkspaceColumns = []string{"workspace", "status", "role", "shared-with"}

func columnNames() []string {
	out := make([]string, len(workspaceColumns))
	for i, c := range workspaceColumns {
		out[i] = c.name
	}
	return out
}

// addColumnsFlag adds -c/--column (as Coder's list has) to a command that
// prints workspaces with out; unknown names fail before any request.
func addColumnsFlag(cmd *cobra.Command, out *output) {
	cmd.Flags().StringSliceVarP(&out.columns, "column", "c", nil,
		"columns to show, comma-separated or repeated: "+strings.Join(columnNames(), ", ")+
			" (default "+strings.Join(defaultWorkspaceColumns, ",")+")")
	pre := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if pre != nil {
			if err := pre(c, args); err != nil {
				return err
			}
		}
		_, err := pickColumns(out.columns)
		return err
	}
}

func pickColumns(names []string) ([]workspaceColumn, error) {
	if len(names) == 0 {
		names = defaultWorkspaceColumns
	}
	var out []workspaceColumn
	for _, n := range names {
		found := false
		for _, c := range workspaceColumns {
			if c.name == strings.ToLower(strings.TrimSpace(n)) {
				out = append(out, c)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown column %q: expected one of %s", n, strings.Join(columnNames(), ", "))
		}
	}
	return out, nil
}

func printWorkspaces(w io.Writer, ws []apitypes.Workspace, out *output) error {
	cols, err := pickColumns(out.columns)
	if err != nil {
		return err
	}
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	return printRows(w, out, ws, headers, func(x apitypes.Workspace) []string {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.cell(x)
		}
		return cells
	})
}

// workspaceStatus is the state, marked when an update is required.
func workspaceStatus(x apitypes.Workspace) string {
	if x.UpdateRequired {
		return string(x.State) + " (update required)"
	}
	return string(x.State)
}

// workspaceRole is the caller's role as they hold it: a site admin's
// owner role is shown as site-admin, with their own grant if any.
func workspaceRole(x apitypes.Workspace) string {
	if !x.ViaSiteAdmin {
		return x.Role
	}
	if x.Grant != "" {
		return "site-admin (grant: " + x.Grant + ")"
	}
	return "site-admin"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
