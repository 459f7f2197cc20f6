package tunnel

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// AgentIdentity is an agent's credentials as the tunnel client uses them:
// an enrolment token until the gateway pinned a key, the key after that.
// It is kept by the agent (see agent/agentkey); calls come from one
// goroutine at a time.
type AgentIdentity interface {
	// Enrolment returns the token to enrol with and the public key to
	// pin; ok is false when the agent signs with a pinned key instead.
	Enrolment() (token string, key ssh.PublicKey, ok bool)
	// Enrolled records that the gateway pinned the enrolment key for the
	// workspace with UID workspace.
	Enrolled(workspace string) error
	// Signers returns the workspace's UID and the keys to sign with, in
	// the order to try them (a replacement not yet used first).
	Signers() (workspace string, signers []ssh.Signer)
	// Authenticated records that key opened a tunnel.
	Authenticated(key ssh.PublicKey) error
}

var (
	// ErrEnrolmentRefused: the gateway refused the enrolment token (used
	// already, replaced, or wrong).
	ErrEnrolmentRefused = errors.New("the gateway refused the enrolment token")
	// ErrKeyRefused: the gateway refused every key of this agent; it
	// needs a new enrolment token from the workspace's owner.
	ErrKeyRefused = errors.New("the gateway refused this agent's key: it needs a new enrolment token (the owner runs `wsgate workspaces rotate-agent-token`)")
)

// dialAgent performs the upgrade with cfg's identity: an enrolment, or a
// signed upgrade with each key in turn.
func (c *client) dialAgent(ctx context.Context) (net.Conn, error) {
	id := c.cfg.Identity
	if id == nil {
		return dial(ctx, c.ep, c.cfg.Token, nil)
	}
	if token, key, ok := id.Enrolment(); ok {
		conn, err := dial(ctx, c.ep, token, http.Header{AgentKeyHeader: {strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))}})
		if errors.Is(err, errUnauthorized) {
			return nil, fmt.Errorf("%w: %w", ErrEnrolmentRefused, err)
		}
		if err != nil {
			return nil, err
		}
		uid := conn.(*upgrade.Conn).ResponseHeader().Get(WorkspaceUIDHeader)
		if uid == "" {
			_ = conn.Close()
			return nil, errors.New("gateway: enrolment answered without the workspace's UID")
		}
		if err := id.Enrolled(uid); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("record enrolment: %w", err)
		}
		c.log.Info("enrolled: the gateway pinned this agent's key", "workspace_uid", uid)
		return conn, nil
	}
	uid, signers := id.Signers()
	if uid == "" || len(signers) == 0 {
		return nil, ErrKeyRefused
	}
	url := c.ep.base
	for _, s := range signers {
		conn, err := c.dialSigned(ctx, uid, url, s)
		if errors.Is(err, errUnauthorized) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := id.Authenticated(s.PublicKey()); err != nil {
			c.log.Warn("cannot record which key authenticated", "err", err)
		}
		return conn, nil
	}
	return nil, ErrKeyRefused
}

// dialSigned asks for a nonce and dials again with s's signature over it.
func (c *client) dialSigned(ctx context.Context, uid, url string, s ssh.Signer) (net.Conn, error) {
	_, err := dial(ctx, c.ep, "", http.Header{"Authorization": {formatAuth(uid, url, "", nil)}})
	var refused *upgrade.ResponseError
	if !errors.As(err, &refused) || refused.StatusCode != http.StatusUnauthorized {
		if err == nil {
			return nil, errors.New("gateway: upgraded without a signature")
		}
		return nil, err
	}
	nonce, ok := challengeNonce(refused.Header)
	if !ok {
		return nil, fmt.Errorf("%w (HTTP 401 without a nonce)", errUnauthorized)
	}
	sig, err := s.Sign(rand.Reader, SignedData(nonce, uid, url))
	if err != nil {
		return nil, fmt.Errorf("sign the gateway's nonce: %w", err)
	}
	return dial(ctx, c.ep, "", http.Header{"Authorization": {formatAuth(uid, url, nonce, sig)}})
}

// isChallenge reports whether a 401's headers carry a nonce.
func isChallenge(h http.Header) bool {
	_, ok := challengeNonce(h)
	return ok
}
