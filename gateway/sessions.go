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
	// (`wsgate ssh`); empty for the SSH front door.
	TokenID string
}

func (s *SSHServer) register(p *proxy) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.proxies[p.info.ID] = p
	return true
}

func (s *SSHServer) unregister(id string) {
	s.mu.Lock()
	delete(s.proxies, id)
	s.mu.Unlock()
}

// Sessions lists the live proxied connections, oldest first.
func (s *SSHServer) Sessions() []SessionInfo {
	s.mu.Lock()
	out := make([]SessionInfo, 0, len(s.proxies))
	for _, p := range s.proxies {
		out = append(out, p.info)
	}
	s.mu.Unlock()
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
// closes it. An unknown id is ignored (the connection already ended).
func (s *SSHServer) Drop(id string, userMessage string) {
	s.mu.Lock()
	p := s.proxies[id]
	s.mu.Unlock()
	if p != nil {
		p.drop(userMessage)
	}
}
