package apitypes

// WorkspaceSettings are a workspace's settings as KEY: VALUE
// ("agent-forwarding": "on"|"off", "remote-forward-bind": "loopback"|"any"):
// the answer of GET, PUT and PATCH /api/v1/workspaces/{owner}/{name}/settings
// (every key), and their body (PATCH: the keys to change; PUT: keys left
// out go back to their defaults).
type WorkspaceSettings map[string]string
