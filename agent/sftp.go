package agent

import (
	"io"
	"os/exec"

	"github.com/pkg/sftp"
)

// ServeSFTP serves the SFTP protocol on r and w, relative paths starting
// in dir, until the client ends it. `wsgate agent sftp-server` runs it on
// its stdin and stdout as the session's user (Config.SFTPCommand).
func ServeSFTP(r io.Reader, w io.WriteCloser, dir string) error {
	srv, err := sftp.NewServer(struct {
		io.Reader
		io.WriteCloser
	}{r, w}, sftp.WithServerWorkingDirectory(dir))
	if err != nil {
		return err
	}
	return srv.Serve()
}

// runSFTP serves the sftp subsystem on the channel inside the agent, as
// the agent's user, until the client ends it.
func (s *session) runSFTP() {
	var e exitInfo
	if err := ServeSFTP(s.ch, s.ch, s.c.a.cfg.Dir); err != nil {
		s.log.Info("sftp ended", "err", err)
		e.status = 1
	}
	s.finish(e)
}

// startSFTPCommand runs Config.SFTPCommand like an exec request without a
// terminal (as sshd runs its sftp-server): as the session's user, in the
// workspace directory, its stdin and stdout on the channel.
func (s *session) startSFTPCommand() (func(), error) {
	argv := s.c.a.cfg.SFTPCommand
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Dir: s.c.a.cfg.Dir, Env: s.env().Environ()}
	run, err := s.startPipes(cmd)
	if err != nil {
		return nil, err
	}
	return func() { s.finish(run()) }, nil
}
