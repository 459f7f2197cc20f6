// Package filestore is the embedded, single-node acl.Store: one bbolt file.
//
// Every write runs in one bbolt read-write transaction that updates the
// records and every secondary index together, so a write is atomic and a
// failed write changes nothing. Events go to in-process subscribers after the
// transaction has committed (after the write is durable).
//
// Buckets (values are JSON unless noted; "\x00" separates parts of a key):
//
//	users          name                          → user (keys included, groups not)
//	keys           fingerprint                   → user name
//	groups         name                          → group (members not)
//	members        group \x00 user               → empty
//	user_groups    user \x00 group               → empty
//	orgs           name                          → org
//	settings       "settings"                    → settings
//	workspaces     owner/name                    → workspace (agent token hash included)
//	workspace_uids workspace uid                 → owner/name
//	agent_tokens   agent token hash              → owner/name
//	grants         owner/name \x00 kind \x00 subject → grant
//	subject_grants kind \x00 subject \x00 owner/name → empty
//	grant_expiry   expiry (12 bytes: unix seconds, nanoseconds) grants key → empty
//	tokens         token hash                    → token (hash included)
//	user_tokens    user \x00 token id            → token hash
//	secrets        name                          → 32 random bytes (raw)
//
// Names never hold "\x00" or "/" (acl.ValidateName), so keys cannot collide.
//
// Open migrates data written before workspaces had UIDs: in the same
// transaction that creates missing buckets it gives every workspace without
// a UID a fresh one and indexes it (see migrate.go).
package filestore
