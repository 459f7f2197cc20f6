package sshfront

import (
	"errors"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/internal/access"
)

// errRefusedEarly fails authentication for a user who may not reach the
// target; the user sees the banner sent with it.
var errRefusedEarly = errors.New("access to the target refused")

// refuseEarly decides, while the client authenticates and once its
// identity is settled (a verified key or certificate, or the identity an
// API token bound), whether that user may reach the login's workspace. A
// user who may not is refused there: the BannerError's message reaches
// the user (OpenSSH prints it and exits 255) and no connection is left up
// for port forwards to idle on. The refusals after login (refuse) remain
// for what can only be known then: the agent, or access lost in between.
func (s *Server) refuseEarly(fc *frontConn, cm ssh.ConnMetadata, perms *ssh.Permissions) error {
	remote := cm.RemoteAddr().String()
	if perms != nil && perms.Extensions[extStoreUnavailable] != "" {
		s.cfg.Access.Count(access.Unavailable)
		s.log.Warn("ssh refused: cannot identify the user while the access store is unreachable", "remote", remote)
		return fc.refuseAuth(msgStoreUnavailable)
	}
	id, err := identityFrom(perms)
	if err != nil {
		return err
	}
	log := s.log.With("user", id.User, "remote", remote)
	v := s.decideTarget(fc.auth.ctx, id.User, cm.User(), log)
	if v.refusal == "" {
		fc.allowed = &earlyVerdict{user: id.User, login: cm.User(), v: v}
		return nil
	}
	s.cfg.Access.Count(v.result)
	log.Info("ssh refused during authentication", "target", cm.User())
	return fc.refuseAuth(v.refusal)
}

// earlyVerdict is the verdict that let user in as login during
// authentication. The session's decision carries its invalidation count,
// so an event between then and the session's start still re-checks it.
type earlyVerdict struct {
	user, login string
	v           verdict
}

// refuseAuth records that fc was refused and returns the error that
// sends msg as the authentication banner. Later attempts on the same
// connection fail without a banner (refusedEarly), so that a client
// trying its other keys does not print the line again.
func (fc *frontConn) refuseAuth(msg string) error {
	fc.refused = true
	return &ssh.BannerError{Err: errRefusedEarly, Message: msg + "\n"}
}

// refusedEarly is the error of any attempt after a refusal.
func (fc *frontConn) refusedEarly() error {
	if fc.refused {
		return errRefusedEarly
	}
	return nil
}
