package agent

import (
	"io"
	"os/exec"

	"github.com/pkg/sftp"
)

// ServeSFTP serves the SFTP protocol on r and w until the client ends it.
// home is the session's home: `~` in paths, and where relative paths
// start (as with sshd's sftp-server). Symlink requests take OpenSSH's
// argument order (target, then link) and keep the target as given; the
// gateway announces itself to clients that check the server's version
// for "OpenSSH" (asyncssh), so they send that order too.
// `wsgate agent sftp-server` runs it on its stdin and stdout as the
// session's user (Config.SFTPCommand).
func ServeSFTP(r io.Reader, w io.WriteCloser, home string) error {
	out := &sftpOut{w: w}
	pr, pw := io.Pipe()
	srv, err := sftp.NewServer(struct {
		io.Reader
		io.WriteCloser
	}{pr, out}, sftp.WithServerWorkingDirectory(home))
	if err != nil {
		return err
	}
	f := &sftpFilter{home: home, out: out}
	go f.run(r, pw)
	err = srv.Serve()
	pr.Close() // the filter stops at its next packet
	return err
}

// runSFTP serves the sftp subsystem on the channel inside the agent, as
// the agent's user, until the client ends it.
func (s *session) runSFTP() {
	var e exitInfo
	if err := ServeSFTP(s.ch, s.ch, s.c.a.cfg.Home); err != nil {
		s.log.Info("sftp ended", "err", err)
		e.status = 1
	}
	s.finish(e)
}

// startSFTPCommand runs Config.SFTPCommand like an exec request without a
// terminal (as sshd runs its sftp-server): as the session's user, in the
// session's home, its stdin and stdout on the channel.
func (s *session) startSFTPCommand() (func(), error) {
	argv := s.c.a.cfg.SFTPCommand
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Dir: s.c.a.cfg.Home, Env: s.env().Environ()}
	run, err := s.startPipes(cmd)
	if err != nil {
		return nil, err
	}
	return func() { s.finish(run()) }, nil
}
