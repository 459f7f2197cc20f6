// Package agentkeys is the gateway's side of agent identity: it
// authenticates agent upgrades (an enrolment with the agent token, then
// signatures by the pinned key over a stateless nonce), records who had a
// session while a key was pinned, and replaces the key — over the live
// tunnel, or by revoking it — when one of them loses access.
package agentkeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/nonce"
	"github.com/wsgate/wsgate/tunnel"
)

// NonceSecret names the store secret the upgrade nonces are keyed by, so
// every replica checks every other's.
const NonceSecret = "agent-nonce"

// NonceTTL is how long an agent has to sign a nonce.
const NonceTTL = 30 * time.Second

const noncePurpose = "wsgate agent upgrade"

// Store is what authentication reads and writes.
type Store interface {
	WorkspaceByAgentTokenHash(ctx context.Context, hash string) (acl.Workspace, error)
	EnrolAgent(ctx context.Context, tokenHash, publicKey string) (acl.Workspace, error)
	GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error)
}

// Auth authenticates agent upgrades (tunnel.Authenticator).
type Auth struct {
	store     Store
	nonces    *nonce.Issuer
	accessURL string
	log       *slog.Logger
}

// NewAuth returns an Auth; secret keys the nonces (Store.Secret of
// NonceSecret); accessURL is the gateway's, which agents may sign besides
// the host they reached.
func NewAuth(store Store, secret []byte, accessURL string, log *slog.Logger) (*Auth, error) {
	iss, err := nonce.New(secret, nil)
	if err != nil {
		return nil, fmt.Errorf("agent auth: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Auth{store: store, nonces: iss, accessURL: accessURL, log: log}, nil
}

// Authenticate implements tunnel.Authenticator. Every failure answers the
// same 401; the error says why, for the gateway's log only.
func (a *Auth) Authenticate(ctx context.Context, c tunnel.Credentials) (tunnel.Identity, error) {
	switch {
	case c.Token != "" && c.Key != nil:
		return a.enrol(ctx, c)
	case c.Token != "":
		return a.keyless(ctx, c)
	case c.Signed() && c.Nonce == "":
		return tunnel.Identity{}, &tunnel.Challenge{Nonce: a.nonces.Issue(noncePurpose, binding(c.Workspace, c.URL), NonceTTL)}
	case c.Signed():
		return a.verify(ctx, c)
	}
	return tunnel.Identity{}, errors.New("no credentials")
}

func (a *Auth) enrol(ctx context.Context, c tunnel.Credentials) (tunnel.Identity, error) {
	hash := acl.HashToken(c.Token)
	ws, err := a.store.WorkspaceByAgentTokenHash(ctx, hash)
	if err != nil {
		return tunnel.Identity{}, fmt.Errorf("enrolment token: %w", err)
	}
	pub := authorizedKey(c.Key)
	fp := ssh.FingerprintSHA256(c.Key)
	return tunnel.Identity{
		Key:    ws.UID,
		Tag:    pub,
		Header: map[string][]string{tunnel.WorkspaceUIDHeader: {ws.UID}},
		Commit: func(ctx context.Context) error {
			got, err := a.store.EnrolAgent(ctx, hash, pub)
			if err != nil {
				return fmt.Errorf("enrolment token: %w", err)
			}
			if got.UID != ws.UID {
				return errors.New("enrolment token: its workspace changed")
			}
			a.log.Info("agent enrolled: its key is pinned and the token consumed",
				"workspace", ws.ID().String(), "key", fp)
			return nil
		},
	}, nil
}

// keyless is a token without a key: an agent older than enrolment. A
// valid token still identifies the workspace, so that an agent of an
// older tunnel protocol is told to upgrade (426, recorded for the owner);
// one of this protocol never gets a tunnel without a key.
func (a *Auth) keyless(ctx context.Context, c tunnel.Credentials) (tunnel.Identity, error) {
	ws, err := a.store.WorkspaceByAgentTokenHash(ctx, acl.HashToken(c.Token))
	if err != nil {
		return tunnel.Identity{}, fmt.Errorf("agent token: %w", err)
	}
	return tunnel.Identity{Key: ws.UID, Commit: func(context.Context) error {
		return errors.New("agent presented a token without a key (an agent older than this gateway: upgrade it)")
	}}, nil
}

func (a *Auth) verify(ctx context.Context, c tunnel.Credentials) (tunnel.Identity, error) {
	switch err := a.nonces.Verify(c.Nonce, noncePurpose, binding(c.Workspace, c.URL)); {
	case errors.Is(err, nonce.ErrExpired):
		return tunnel.Identity{}, errors.New("signed upgrade: the nonce expired")
	case err != nil:
		return tunnel.Identity{}, errors.New("signed upgrade: the nonce is not ours, or was issued for another workspace or URL")
	}
	if !a.ours(c.URL, c.Host) {
		return tunnel.Identity{}, fmt.Errorf("signed upgrade: signed for another gateway (%q)", c.URL)
	}
	k, err := a.store.GetAgentKey(ctx, c.Workspace)
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return tunnel.Identity{}, errors.New("signed upgrade: unknown workspace")
	case err != nil:
		return tunnel.Identity{}, fmt.Errorf("signed upgrade: %w", err)
	case k.PublicKey == "" && k.Revoked:
		return tunnel.Identity{}, errors.New("signed upgrade: the workspace's agent key was revoked; the agent needs a new enrolment token")
	case k.PublicKey == "":
		return tunnel.Identity{}, errors.New("signed upgrade: no key pinned for the workspace (a new token awaits enrolment)")
	}
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
	if err != nil {
		return tunnel.Identity{}, fmt.Errorf("signed upgrade: pinned key: %w", err)
	}
	if err := tunnel.VerifySignature(pinned, c); err != nil {
		return tunnel.Identity{}, errors.New("signed upgrade: wrong signature (not the pinned key)")
	}
	return tunnel.Identity{Key: c.Workspace, Tag: k.PublicKey}, nil
}

// ours reports whether signed names this gateway: its access URL's host,
// or the host the request reached (the agent signed what it dialled, so
// a relay that reached us under another name fails here).
func (a *Auth) ours(signed, host string) bool {
	u, err := url.Parse(signed)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	au, err := url.Parse(a.accessURL)
	return err == nil && au.Host != "" && strings.EqualFold(u.Host, au.Host)
}

func binding(uid, u string) []byte { return []byte(uid + "\n" + u) }

func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}
