//go:build !linux

package agent

import "os"

// applyModes is Linux-only; elsewhere the pty keeps its default modes.
func applyModes(*os.File, string) error { return nil }
