// Package acl holds wsgate's access model: users, groups, organizations,
// workspaces, grants and API tokens; the role table; the pure policy function
// Authorize; the Store interface every backend implements; and the change
// events a store emits when someone's access may have narrowed.
//
// acl knows no network and imports nothing else of wsgate, so the policy can be
// tested exhaustively as a table and reused by every other part.
package acl
