// Package testutil holds helpers shared by the tests of every package. It
// imports only the standard library, so that even the leaf packages (acl,
// tunnel) may use it from their tests.
package testutil

import (
	"testing"
	"time"
)

// DefaultTimeout is how long Eventually waits.
const DefaultTimeout = 10 * time.Second

// Eventually polls cond until it holds, failing t after DefaultTimeout with
// "timed out waiting for <what>".
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitFor(t, DefaultTimeout, what, cond)
}

// WaitFor is Eventually with its own timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
