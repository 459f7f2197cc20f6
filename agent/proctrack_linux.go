package agent

import "log/slog"

// newProcBackend picks how processes are tracked: a cgroup v2 subtree
// where one is writable, else a child subreaper (forceSubreaper skips
// the cgroup, for tests), else nothing.
func newProcBackend(shell string, forceSubreaper bool, log *slog.Logger) procBackend {
	if !forceSubreaper {
		h, err := acquireCgroupHome(shell, log)
		if err == nil {
			return cgroupBackend{home: h}
		}
		log.Info("cgroup v2 not usable for process tracking; tracking descendants as a subreaper (best effort)", "err", err)
	}
	r, err := acquireReaper(log)
	if err == nil {
		return reaperBackend{home: r}
	}
	log.Warn("processes are not tracked: they survive the end of their user's access", "err", err)
	return noBackend{}
}
