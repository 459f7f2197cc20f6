// Package httpapi is wsgate's control API: JSON over HTTP under /api/v1 for
// users, groups, orgs, settings, workspaces with their lifecycle, API tokens
// and workspace sharing. Every request is authenticated by a bearer API
// token, and every workspace decision goes through acl.Authorize, so the
// server, not the CLI, enforces the rules.
//
// The request and response bodies live in gateway/apitypes, shared with
// gateway/apiclient.
package httpapi
