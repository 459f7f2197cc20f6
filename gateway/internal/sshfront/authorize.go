package sshfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"golang.org/x/crypto/ssh"
)

// Lines shown to users refused before their session starts.
const (
	msgCannotCheck      = "wsgate: cannot check access right now; try again later"
	msgStoreUnavailable = "wsgate: cannot check access right now: the access store is unreachable; try again later"
)

// extStoreUnavailable marks a connection whose user could not be looked up
// because the store was unreachable; it is only ever refused.
const extStoreUnavailable = "wsgate-store-unavailable"

// authorize resolves the login name to a workspace and checks connect, or
// takes early, the verdict refuseEarly reached for the same user and login
// during authentication. On refusal it returns the line to show the user
// and the rejection reason for non-session channels.
func (s *Server) authorize(user, login string, early *earlyVerdict, log *slog.Logger) (acl.WorkspaceID, access.Decision, string, ssh.RejectionReason) {
	var v verdict
	if early != nil && early.user == user && early.login == login {
		v = early.v // decided during authentication (refuseEarly)
	} else {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
		v = s.decideTarget(ctx, user, login, log)
		cancel()
	}
	s.cfg.Access.Count(v.result)
	if v.refusal == "" {
		log.Info("ssh allowed", "workspace", v.ws.String(), "role", v.d.Role.String(), "cached", v.d.Cached)
	}
	return v.ws, v.d, v.refusal, v.reason
}

// verdict is decideTarget's answer: the workspace and decision, or the
// line to show the user and the rejection reason for other channels.
type verdict struct {
	ws      acl.WorkspaceID
	d       access.Decision
	refusal string
	reason  ssh.RejectionReason
	result  access.Result
}

// decideTarget resolves login for user and checks connect, counting
// nothing: refuseEarly asks during authentication, and authorize only when
// it has no verdict from then.
func (s *Server) decideTarget(ctx context.Context, user, login string, log *slog.Logger) verdict {
	az := s.cfg.Access
	denied := fmt.Sprintf("wsgate: workspace %q not found or access denied", login)
	refuse := func(result access.Result, msg string, reason ssh.RejectionReason) verdict {
		return verdict{refusal: msg, reason: reason, result: result}
	}
	failed := func(err error) verdict {
		if errors.Is(err, access.ErrStoreUnavailable) {
			return refuse(access.Unavailable, msgStoreUnavailable, ssh.ConnectionFailed)
		}
		return refuse(access.Unavailable, msgCannotCheck, ssh.ConnectionFailed)
	}

	t, err := ParseTarget(login, s.cfg.HostnameSuffix)
	if err != nil {
		log.Info("ssh denied", "target", login, "reason", "bad_target")
		return refuse(access.Denied, denied, ssh.Prohibited)
	}
	ws, err := az.Resolve(ctx, user, t.Owner, t.Name)
	var amb *access.AmbiguousError
	switch {
	case err == nil:
	case errors.As(err, &amb):
		log.Info("ssh denied", "target", login, "reason", "ambiguous")
		return refuse(access.Denied, "wsgate: "+amb.Error(), ssh.Prohibited)
	case errors.Is(err, acl.ErrNotFound):
		log.Info("ssh denied", "target", login, "reason", acl.ReasonNoWorkspace.String())
		return refuse(access.Denied, denied, ssh.Prohibited)
	default:
		log.Error("ssh target resolution failed", "target", login, "err", err)
		return failed(err)
	}
	d, err := az.Decide(ctx, user, ws, acl.ActionConnect)
	if err != nil {
		log.Error("ssh authorization failed", "workspace", ws.String(), "err", err)
		return failed(err)
	}
	if !d.Allow {
		log.Info("ssh denied", "target", login, "workspace", ws.String(), "reason", d.Reason.String())
		return refuse(access.Denied, denied, ssh.Prohibited)
	}
	return verdict{ws: ws, d: d, result: access.Allowed}
}
