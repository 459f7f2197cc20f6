// Package acltest is the conformance suite every acl.Store backend passes.
//
// A backend's test calls Run with a Harness that opens fresh stores; Run
// then runs the same named subtests (users/..., grants/..., events/...)
// against it, so `go test -v` shows one list of cases per backend.
package acltest
