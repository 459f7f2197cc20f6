package agent

import "log/slog"

// warnSharedUser says once, at start, what it means that the agent and
// its sessions share one OS user: collaborators can read every file the
// agent can (its token file, its key), and only rotating the agent's
// credential when someone loses access protects it.
func warnSharedUser(log *slog.Logger, u osUser) {
	log.Warn("sessions run as the agent's own OS user: every collaborator runs as "+u.name+
		" and can read everything the agent can read, including its token file and key; "+
		"rotating the agent credential when access is revoked is what protects it. "+
		"To separate them, run the agent as root with --run-as another user (see the README)",
		"os_user", u.name)
}
