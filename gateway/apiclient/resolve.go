package apiclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// ResolveWorkspace finds the workspace ref names: "owner/name", or a bare
// "name" meaning the caller's own workspace of that name, else the only one
// shared with the caller under that name. When several are shared under the
// name, the error lists them.
func (c *Client) ResolveWorkspace(ctx context.Context, ref string) (apitypes.Workspace, error) {
	if strings.Contains(ref, "/") {
		id, err := acl.ParseWorkspaceID(ref)
		if err != nil {
			return apitypes.Workspace{}, err
		}
		return c.GetWorkspace(ctx, id)
	}
	if err := acl.ValidateName("workspace", ref); err != nil {
		return apitypes.Workspace{}, fmt.Errorf("invalid workspace %q: %w", ref, err)
	}
	me, err := c.Me(ctx)
	if err != nil {
		return apitypes.Workspace{}, err
	}
	own, err := c.GetWorkspace(ctx, acl.WorkspaceID{Owner: me.Name, Name: ref})
	if err == nil {
		return own, nil
	}
	if StatusCode(err) != 404 {
		return apitypes.Workspace{}, err
	}
	list, err := c.ListWorkspaces(ctx, "shared_with_user:me name:"+ref)
	if err != nil {
		return apitypes.Workspace{}, err
	}
	var matches []apitypes.Workspace
	for _, w := range list {
		if w.Name == ref {
			matches = append(matches, w)
		}
	}
	switch len(matches) {
	case 0:
		return apitypes.Workspace{}, &Error{StatusCode: 404, Message: fmt.Sprintf("workspace %q not found: none of yours and none shared with you", ref)}
	case 1:
		return matches[0], nil
	}
	choices := make([]string, len(matches))
	for i, w := range matches {
		choices[i] = w.Owner + "/" + w.Name
	}
	return apitypes.Workspace{}, fmt.Errorf("workspace %q is ambiguous: it may be %s; name it as owner/name", ref, strings.Join(choices, ", "))
}
