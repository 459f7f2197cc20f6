//go:build !linux

package agent

import "log/slog"

// newProcBackend: there is no process tracking outside Linux; processes
// survive the end of their user's access.
func newProcBackend(_ string, _ bool, log *slog.Logger) procBackend {
	log.Warn("processes are not tracked on this system: they survive the end of their user's access")
	return noBackend{}
}
