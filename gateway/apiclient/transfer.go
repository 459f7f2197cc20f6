package apiclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// TransferWorkspace hands the workspace to req.To. It returns the
// workspace as the caller sees it afterwards, or nil when the caller kept
// no access.
func (c *Client) TransferWorkspace(ctx context.Context, id acl.WorkspaceID, req apitypes.TransferWorkspaceRequest) (*apitypes.Workspace, error) {
	var w apitypes.Workspace
	if err := c.do(ctx, http.MethodPost, wsPath(id, "transfer"), nil, req, &w); err != nil {
		return nil, err
	}
	if w.Owner == "" { // 204: the caller no longer sees it
		return nil, nil
	}
	return &w, nil
}

// SetUpdateRequired marks the workspace as needing an update, or clears
// the mark (site admins).
func (c *Client) SetUpdateRequired(ctx context.Context, id acl.WorkspaceID, required bool) (apitypes.Workspace, error) {
	var w apitypes.Workspace
	err := c.do(ctx, http.MethodPut, wsPath(id, "update-required"), nil, apitypes.UpdateRequiredRequest{Required: required}, &w)
	return w, err
}

// DeleteUserTransferring deletes the user after handing every workspace
// they own to transferTo.
func (c *Client) DeleteUserTransferring(ctx context.Context, name, transferTo string) error {
	q := url.Values{apitypes.DeleteUserTransferParam: {transferTo}}
	return c.do(ctx, http.MethodDelete, path("users", name), q, nil, nil)
}
