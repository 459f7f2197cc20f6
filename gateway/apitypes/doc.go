// Package apitypes holds the request and response bodies of the gateway's
// control API (/api/v1) and its error shape: what the server (httpapi), its
// client (apiclient) and tests share. It holds no behaviour beyond trivial
// accessors and imports only acl and tunnel/control, whose types some
// bodies are.
package apitypes
