package agent

import (
	"github.com/pkg/sftp"
)

// runSFTP serves the sftp subsystem on the channel, relative paths
// starting in the workspace directory, until the client ends it.
func (s *session) runSFTP() {
	srv, err := sftp.NewServer(s.ch, sftp.WithServerWorkingDirectory(s.c.a.cfg.Dir))
	if err != nil {
		s.log.Warn("sftp server", "err", err)
		s.finish(exitInfo{status: 1})
		return
	}
	var e exitInfo
	if err := srv.Serve(); err != nil {
		s.log.Info("sftp ended", "err", err)
		e.status = 1
	}
	s.finish(e)
}
