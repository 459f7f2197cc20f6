package apiclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// Users.

// Me returns the signed-in user.
func (c *Client) Me(ctx context.Context) (apitypes.User, error) { return c.GetUser(ctx, "me") }

func (c *Client) CreateUser(ctx context.Context, req apitypes.CreateUserRequest) (apitypes.User, error) {
	var u apitypes.User
	err := c.do(ctx, http.MethodPost, path("users"), nil, req, &u)
	return u, err
}

func (c *Client) ListUsers(ctx context.Context) ([]apitypes.User, error) {
	var us []apitypes.User
	err := c.do(ctx, http.MethodGet, path("users"), nil, nil, &us)
	return us, err
}

func (c *Client) GetUser(ctx context.Context, name string) (apitypes.User, error) {
	var u apitypes.User
	err := c.do(ctx, http.MethodGet, path("users", name), nil, nil, &u)
	return u, err
}

func (c *Client) SetSiteAdmin(ctx context.Context, name string, siteAdmin bool) (apitypes.User, error) {
	var u apitypes.User
	err := c.do(ctx, http.MethodPatch, path("users", name), nil, apitypes.UpdateUserRequest{SiteAdmin: &siteAdmin}, &u)
	return u, err
}

// SetSuspended suspends or unsuspends a user.
func (c *Client) SetSuspended(ctx context.Context, name string, suspended bool) (apitypes.User, error) {
	verb := "suspend"
	if !suspended {
		verb = "unsuspend"
	}
	var u apitypes.User
	err := c.do(ctx, http.MethodPost, path("users", name, verb), nil, nil, &u)
	return u, err
}

func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, path("users", name), nil, nil, nil)
}

func (c *Client) ListKeys(ctx context.Context, user string) ([]apitypes.PublicKey, error) {
	var ks []apitypes.PublicKey
	err := c.do(ctx, http.MethodGet, path("users", user, "keys"), nil, nil, &ks)
	return ks, err
}

// KeyChallenge asks for a challenge to prove holding the private key of
// authorizedKey, for adding it to user's account.
func (c *Client) KeyChallenge(ctx context.Context, user, authorizedKey string) (apitypes.KeyChallenge, error) {
	var ch apitypes.KeyChallenge
	err := c.do(ctx, http.MethodPost, path("users", user, "keys", "challenge"), nil, apitypes.KeyChallengeRequest{AuthorizedKey: authorizedKey}, &ch)
	return ch, err
}

// AddKeyWithProof adds a key with a signed challenge (see KeyChallenge),
// as adding a key to one's own account requires.
func (c *Client) AddKeyWithProof(ctx context.Context, user string, req apitypes.AddKeyRequest) (apitypes.PublicKey, error) {
	var k apitypes.PublicKey
	err := c.do(ctx, http.MethodPost, path("users", user, "keys"), nil, req, &k)
	return k, err
}

// RemoveKey removes a key by its SHA256 fingerprint.
func (c *Client) RemoveKey(ctx context.Context, user, fingerprint string) error {
	return c.do(ctx, http.MethodDelete, path("users", user, "keys", fingerprint), nil, nil, nil)
}

// Tokens.

func (c *Client) CreateToken(ctx context.Context, user string, req apitypes.CreateTokenRequest) (apitypes.CreateTokenResponse, error) {
	var t apitypes.CreateTokenResponse
	err := c.do(ctx, http.MethodPost, path("users", user, "tokens"), nil, req, &t)
	return t, err
}

func (c *Client) ListTokens(ctx context.Context, user string) ([]apitypes.Token, error) {
	var ts []apitypes.Token
	err := c.do(ctx, http.MethodGet, path("users", user, "tokens"), nil, nil, &ts)
	return ts, err
}

func (c *Client) RevokeToken(ctx context.Context, user, id string) error {
	return c.do(ctx, http.MethodDelete, path("users", user, "tokens", id), nil, nil, nil)
}

// Groups.

func (c *Client) CreateGroup(ctx context.Context, req apitypes.CreateGroupRequest) (apitypes.Group, error) {
	var g apitypes.Group
	err := c.do(ctx, http.MethodPost, path("groups"), nil, req, &g)
	return g, err
}

func (c *Client) ListGroups(ctx context.Context) ([]apitypes.Group, error) {
	var gs []apitypes.Group
	err := c.do(ctx, http.MethodGet, path("groups"), nil, nil, &gs)
	return gs, err
}

func (c *Client) GetGroup(ctx context.Context, name string) (apitypes.Group, error) {
	var g apitypes.Group
	err := c.do(ctx, http.MethodGet, path("groups", name), nil, nil, &g)
	return g, err
}

func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, path("groups", name), nil, nil, nil)
}

func (c *Client) AddGroupMember(ctx context.Context, group, user string) (apitypes.Group, error) {
	var g apitypes.Group
	err := c.do(ctx, http.MethodPost, path("groups", group, "members"), nil, apitypes.AddMemberRequest{User: user}, &g)
	return g, err
}

func (c *Client) RemoveGroupMember(ctx context.Context, group, user string) (apitypes.Group, error) {
	var g apitypes.Group
	err := c.do(ctx, http.MethodDelete, path("groups", group, "members", user), nil, nil, &g)
	return g, err
}

// Orgs and settings.

func (c *Client) CreateOrg(ctx context.Context, req apitypes.CreateOrgRequest) (apitypes.Org, error) {
	var o apitypes.Org
	err := c.do(ctx, http.MethodPost, path("orgs"), nil, req, &o)
	return o, err
}

func (c *Client) ListOrgs(ctx context.Context) ([]apitypes.Org, error) {
	var os []apitypes.Org
	err := c.do(ctx, http.MethodGet, path("orgs"), nil, nil, &os)
	return os, err
}

func (c *Client) GetOrg(ctx context.Context, name string) (apitypes.Org, error) {
	var o apitypes.Org
	err := c.do(ctx, http.MethodGet, path("orgs", name), nil, nil, &o)
	return o, err
}

// SetOrgSharing sets an org's sharing to apitypes.SharingEnabled or
// apitypes.SharingDisabled.
func (c *Client) SetOrgSharing(ctx context.Context, org, sharing string) (apitypes.SharingSetting, error) {
	var s apitypes.SharingSetting
	err := c.do(ctx, http.MethodPatch, path("orgs", org, "settings"), nil, apitypes.SharingSetting{Sharing: sharing}, &s)
	return s, err
}

func (c *Client) GetSettings(ctx context.Context) (apitypes.Settings, error) {
	var s apitypes.Settings
	err := c.do(ctx, http.MethodGet, path("settings"), nil, nil, &s)
	return s, err
}

// SetDeploymentSharing sets the deployment-wide sharing setting.
func (c *Client) SetDeploymentSharing(ctx context.Context, sharing string) (apitypes.Settings, error) {
	var s apitypes.Settings
	err := c.do(ctx, http.MethodPatch, path("settings"), nil, apitypes.SharingSetting{Sharing: sharing}, &s)
	return s, err
}

func (c *Client) Deployment(ctx context.Context) (apitypes.Deployment, error) {
	var d apitypes.Deployment
	err := c.do(ctx, http.MethodGet, path("deployment"), nil, nil, &d)
	return d, err
}

// Workspaces.

func (c *Client) CreateWorkspace(ctx context.Context, req apitypes.CreateWorkspaceRequest) (apitypes.CreateWorkspaceResponse, error) {
	var r apitypes.CreateWorkspaceResponse
	err := c.do(ctx, http.MethodPost, path("workspaces"), nil, req, &r)
	return r, err
}

// ListWorkspaces lists the workspaces the caller sees that match the search
// query q (see httpapi: owner:, shared:, shared_with_user:,
// shared_with_group:, name:).
func (c *Client) ListWorkspaces(ctx context.Context, q string) ([]apitypes.Workspace, error) {
	var query url.Values
	if q != "" {
		query = url.Values{"q": {q}}
	}
	var ws []apitypes.Workspace
	err := c.do(ctx, http.MethodGet, path("workspaces"), query, nil, &ws)
	return ws, err
}

func wsPath(id acl.WorkspaceID, rest ...string) string {
	return path(append([]string{"workspaces", id.Owner, id.Name}, rest...)...)
}

func (c *Client) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (apitypes.Workspace, error) {
	var w apitypes.Workspace
	err := c.do(ctx, http.MethodGet, wsPath(id), nil, nil, &w)
	return w, err
}

func (c *Client) RenameWorkspace(ctx context.Context, id acl.WorkspaceID, newName string) (apitypes.Workspace, error) {
	var w apitypes.Workspace
	err := c.do(ctx, http.MethodPatch, wsPath(id), nil, apitypes.UpdateWorkspaceRequest{Name: newName}, &w)
	return w, err
}

func (c *Client) DeleteWorkspace(ctx context.Context, id acl.WorkspaceID) error {
	return c.do(ctx, http.MethodDelete, wsPath(id), nil, nil, nil)
}

func (c *Client) StartWorkspace(ctx context.Context, id acl.WorkspaceID) (apitypes.Workspace, error) {
	return c.lifecycle(ctx, id, "start")
}

func (c *Client) StopWorkspace(ctx context.Context, id acl.WorkspaceID) (apitypes.Workspace, error) {
	return c.lifecycle(ctx, id, "stop")
}

func (c *Client) UpdateWorkspace(ctx context.Context, id acl.WorkspaceID) (apitypes.Workspace, error) {
	return c.lifecycle(ctx, id, "update")
}

func (c *Client) lifecycle(ctx context.Context, id acl.WorkspaceID, op string) (apitypes.Workspace, error) {
	var w apitypes.Workspace
	err := c.do(ctx, http.MethodPost, wsPath(id, op), nil, nil, &w)
	return w, err
}

// RotateAgentToken replaces the workspace's agent token and returns the new one.
func (c *Client) RotateAgentToken(ctx context.Context, id acl.WorkspaceID) (string, error) {
	var r apitypes.AgentTokenResponse
	err := c.do(ctx, http.MethodPost, wsPath(id, "agent-token"), nil, nil, &r)
	return r.AgentToken, err
}

// Sharing.

func (c *Client) GetACL(ctx context.Context, id acl.WorkspaceID) (apitypes.ACL, error) {
	var a apitypes.ACL
	err := c.do(ctx, http.MethodGet, wsPath(id, "acl"), nil, nil, &a)
	return a, err
}

// PatchACL merges grants; a role "" removes one. The change is atomic.
func (c *Client) PatchACL(ctx context.Context, id acl.WorkspaceID, upd apitypes.ACLUpdate) (apitypes.ACL, error) {
	var a apitypes.ACL
	err := c.do(ctx, http.MethodPatch, wsPath(id, "acl"), nil, upd, &a)
	return a, err
}

// GetWorkspaceSettings returns the workspace's settings, every key.
func (c *Client) GetWorkspaceSettings(ctx context.Context, id acl.WorkspaceID) (apitypes.WorkspaceSettings, error) {
	var s apitypes.WorkspaceSettings
	err := c.do(ctx, http.MethodGet, wsPath(id, "settings"), nil, nil, &s)
	return s, err
}

// SetWorkspaceSettings changes the given keys (PATCH) and returns every key.
func (c *Client) SetWorkspaceSettings(ctx context.Context, id acl.WorkspaceID, set apitypes.WorkspaceSettings) (apitypes.WorkspaceSettings, error) {
	var s apitypes.WorkspaceSettings
	err := c.do(ctx, http.MethodPatch, wsPath(id, "settings"), nil, set, &s)
	return s, err
}
