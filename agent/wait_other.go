//go:build !linux

package agent

import "errors"

// parkUntilExit has no pollable way to wait here; Wait blocks.
func parkUntilExit(int) error { return errors.New("no pidfd on this system") }
