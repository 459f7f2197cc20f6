package gateway

import (
	"sort"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// SessionInfo describes one live SSH connection proxied to a workspace.
type SessionInfo struct {
	ID        string
	User      string
	Workspace acl.WorkspaceID
	// KeyFingerprint is the SHA256 fingerprint of the user's key; for a
	// certificate, of the certified key.
	KeyFingerprint string
	Cert           bool // authenticated with a user certificate
	CertSerial     uint64
	CertKeyID      string
	RemoteAddr     string
	Started        time.Time
	Conn           *ssh.ServerConn

	// TokenID is the API token a connection over HTTPS was opened with
	// (`wsgate ssh`, apps); empty for the SSH front door.
	TokenID string
	// AppPort is the workspace port of an app request (AppProxy); zero for
	// SSH connections.
	AppPort uint16
}

// register adds a connection authorized by d to the registry; false once
// the server is shutting down. A connection authorized before the latest
// invalidation may have missed the event behind it, so it is checked again.
func (s *SSHServer) register(p *proxy, d decision) bool {
	return s.track(&liveSession{p: p, info: p.info, gen: d.gen}, d)
}

// track registers ls, authorized by d: see register.
func (s *SSHServer) track(ls *liveSession, d decision) bool {
	ls.setValidUntil(d.validUntil)
	if !s.reg.add(ls) {
		return false
	}
	h := s.hooks()
	if h.authz.Gen() != d.gen && h.recheck != nil {
		h.recheck(ls)
	}
	if h.expiring != nil && !d.validUntil.IsZero() {
		h.expiring(d.validUntil)
	}
	return true
}

func (s *SSHServer) unregister(id string) { s.reg.remove(id) }

// Sessions lists the live proxied SSH connections, oldest first. App
// requests share the registry (for revocation) but are not listed.
func (s *SSHServer) Sessions() []SessionInfo {
	live := s.reg.all()
	out := make([]SessionInfo, 0, len(live))
	for _, ls := range live {
		if ls.info.AppPort != 0 {
			continue
		}
		out = append(out, ls.info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Drop ends the connection with session id id: it writes
// "wsgate: <userMessage>" on the stderr of each of its open sessions, then
// closes it. An unknown id is ignored (the connection already ended), and
// so is a connection already being dropped.
func (s *SSHServer) Drop(id string, userMessage string) {
	if ls := s.reg.get(id); ls != nil {
		ls.drop(userMessage)
	}
}

// revHooks connect the SSH server to its gateway's revocation: the
// authorizer it decides with, its metrics, and the Revoker's callbacks
// (nil without a Revoker). NewRevoker installs its own before serving.
type revHooks struct {
	authz   *Authorizer
	metrics *Metrics
	// recheck re-evaluates a session that may have missed an event.
	recheck func(*liveSession)
	// expiring tells the expiry sweeper of a session's access expiry.
	expiring func(time.Time)
}

func (s *SSHServer) hooks() *revHooks { return s.rev.Load() }
