package sshfront

import (
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// refuse serves an authenticated connection that may not reach any
// workspace: every session shows msg on stderr and exits 255, other channels
// are rejected with reason, global requests fail. The connection lives at
// most HandshakeTimeout more, so refused clients cannot hold it open.
func (s *Server) refuse(cs *connState, sc *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, msg string, reason ssh.RejectionReason) {
	_ = cs.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rejectRequests(reqs)
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(reason, msg)
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		cs.openChannels.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cs.channelClosed()
			s.refuseSession(ch, creqs, msg)
		}()
	}
	_ = sc.Close()
	wg.Wait()
}

// refuseSession waits for the session to ask for a shell, a command or a
// subsystem (so that clients read the answer as the command's outcome), or
// for HandshakeTimeout, then prints msg on stderr, sends exit-status 255 (as OpenSSH does when it cannot run a command at all) and
// closes the channel.
func (s *Server) refuseSession(ch ssh.Channel, reqs <-chan *ssh.Request, msg string) {
	t := time.NewTimer(s.cfg.HandshakeTimeout)
	defer t.Stop()
wait:
	for {
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			switch r.Type {
			case "shell", "exec", "subsystem":
				replyIfWanted(r, true, nil)
				break wait
			case "pty-req", "env", "window-change":
				// Accepted so that the client reaches its shell or exec
				// request instead of printing an error of its own.
				replyIfWanted(r, true, nil)
			default:
				replyIfWanted(r, false, nil)
			}
		case <-t.C:
			break wait
		}
	}
	_, _ = ch.Stderr().Write([]byte(msg + "\r\n"))
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{255}))
	_ = ch.Close()
	rejectRequests(reqs)
}
