package agentkeys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/control"
)

// Defaults of KeysConfig.
const (
	// DefaultOfflineGrace is how long a replica without the agent's tunnel
	// waits before revoking its key: a replica that has it rotates the
	// key meanwhile, and the revocation (a compare-and-swap on the old
	// key) then changes nothing.
	DefaultOfflineGrace = 2 * time.Second
	rotateTimeout       = 10 * time.Second
	noteTimeout         = 5 * time.Second
)

// KeyStore is what Keys reads and writes.
type KeyStore interface {
	GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error)
	ListAgentKeys(ctx context.Context) ([]acl.AgentKey, error)
	ReplaceAgentKey(ctx context.Context, uid, old, next string, exposed []string) error
	NoteAgentExposure(ctx context.Context, uid, user string) error
}

// Tunnels is the part of the agent registry Keys uses.
type Tunnels interface {
	Open(ctx context.Context, key string, h tunnel.Header) (net.Conn, error)
	Connected(key string) bool
	Tag(key string) string
	Disconnect(key string)
}

// KeysConfig configures Keys.
type KeysConfig struct {
	Store    KeyStore
	Agents   Tunnels
	Sessions *sessions.Registry
	Logger   *slog.Logger
	// OfflineGrace: see DefaultOfflineGrace.
	OfflineGrace time.Duration
}

// Keys records exposure (OnTrack) and replaces keys (Replace, for the
// revoker).
type Keys struct {
	cfg KeysConfig
	log *slog.Logger

	mu sync.Mutex
	// noted holds (workspace UID, tunnel tag, user) already written since
	// the key was pinned: the session path writes once per user and key.
	noted map[noteKey]struct{}
	wg    sync.WaitGroup
	// replacing serializes replacements per workspace UID: two at once
	// would have the agent make two keys of which only one is pinned.
	replacing sync.Map // uid → *sync.Mutex
}

type noteKey struct{ uid, tag, user string }

// NewKeys returns Keys.
func NewKeys(cfg KeysConfig) (*Keys, error) {
	if cfg.Store == nil || cfg.Agents == nil || cfg.Sessions == nil {
		return nil, errors.New("agent keys config: Store, Agents and Sessions are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OfflineGrace <= 0 {
		cfg.OfflineGrace = DefaultOfflineGrace
	}
	return &Keys{cfg: cfg, log: cfg.Logger, noted: map[noteKey]struct{}{}}, nil
}

// GetAgentKey reads the store (revoke.AgentKeys).
func (k *Keys) GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error) {
	return k.cfg.Store.GetAgentKey(ctx, uid)
}

// ListAgentKeys reads the store (revoke.AgentKeys).
func (k *Keys) ListAgentKeys(ctx context.Context) ([]acl.AgentKey, error) {
	return k.cfg.Store.ListAgentKeys(ctx)
}

// Wait waits for the exposure writes in flight.
func (k *Keys) Wait() { k.wg.Wait() }

// OnTrack records that the session's user was exposed to the workspace's
// agent key (sessions.Config.OnTrack). The owner is never recorded: their
// access rests on nothing that can be revoked. The write happens once per
// user and key, in the background.
func (k *Keys) OnTrack(info sessions.Info) {
	if info.User == "" || info.User == info.Workspace.Owner || info.WorkspaceUID == "" {
		return
	}
	nk := noteKey{info.WorkspaceUID, k.cfg.Agents.Tag(info.WorkspaceUID), info.User}
	k.mu.Lock()
	_, done := k.noted[nk]
	if !done {
		k.noted[nk] = struct{}{}
	}
	k.mu.Unlock()
	if done {
		return
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		k.note(nk)
	}()
}

func (k *Keys) note(nk noteKey) {
	ctx, cancel := context.WithTimeout(context.Background(), noteTimeout)
	defer cancel()
	if err := k.cfg.Store.NoteAgentExposure(ctx, nk.uid, nk.user); err != nil {
		// The next session tries again.
		k.mu.Lock()
		delete(k.noted, nk)
		k.mu.Unlock()
		if !errors.Is(err, acl.ErrNotFound) {
			k.log.Warn("cannot record a session against the agent key", "workspace_uid", nk.uid, "user", nk.user, "err", err)
		}
	}
}

// forget drops what was noted for uid: its key changed.
func (k *Keys) forget(uid string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for nk := range k.noted {
		if nk.uid == uid {
			delete(k.noted, nk)
		}
	}
}

// Replace has ws's connected agent replace the key old, and pins the new
// one with a compare-and-swap; when the agent is not connected here, or
// fails to, old is revoked and the agent needs a new enrolment token.
// lost are the users whose lost access is why (for the log).
func (k *Keys) Replace(ctx context.Context, ws acl.Workspace, old string, lost []string) {
	log := k.log.With("workspace", ws.ID().String(), "lost_access", strings.Join(lost, ","))
	mu, _ := k.replacing.LoadOrStore(ws.UID, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if cur, err := k.cfg.Store.GetAgentKey(ctx, ws.UID); err != nil || cur.PublicKey != old {
		return // replaced already (an earlier event, another replica, a new token), or gone
	}
	if k.cfg.Agents.Connected(ws.UID) {
		connected := k.connectedUsers(ws)
		next, err := k.rotate(ctx, ws, old, connected)
		if err == nil {
			log.Info("agent key rotated: users who lost access can no longer use a copy of the old key", "key", fingerprint(next))
			k.renote(ws, connected)
			return
		}
		if errors.Is(err, acl.ErrConflict) {
			return // replaced meanwhile, by another replica or a new token
		}
		log.Warn("the connected agent could not replace its key; revoking it", "err", err)
		k.revoke(ctx, ws, old, log)
		return
	}
	t := time.NewTimer(k.cfg.OfflineGrace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	k.revoke(ctx, ws, old, log)
}

// rotate asks the agent for a new key and pins it in place of old.
func (k *Keys) rotate(ctx context.Context, ws acl.Workspace, old string, exposed []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, rotateTimeout)
	defer cancel()
	stream, err := k.cfg.Agents.Open(ctx, ws.UID, tunnel.Header{Kind: tunnel.KindControl})
	if err != nil {
		return "", err
	}
	resp, err := control.Ask(ctx, stream, control.Request{Op: control.OpRotateKey})
	_ = stream.Close()
	if err != nil {
		return "", err
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(resp.PublicKey)); err != nil {
		return "", fmt.Errorf("the agent answered rotate-key with no valid key: %w", err)
	}
	if err := k.cfg.Store.ReplaceAgentKey(ctx, ws.UID, old, resp.PublicKey, exposed); err != nil {
		return "", fmt.Errorf("pin the new agent key: %w", err)
	}
	return resp.PublicKey, nil
}

// revoke revokes old unless it was replaced, and cuts a tunnel opened
// with it.
func (k *Keys) revoke(ctx context.Context, ws acl.Workspace, old string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, rotateTimeout)
	defer cancel()
	switch err := k.cfg.Store.ReplaceAgentKey(ctx, ws.UID, old, "", nil); {
	case errors.Is(err, acl.ErrConflict), errors.Is(err, acl.ErrNotFound):
		return // rotated elsewhere, a new token, or the workspace is gone
	case err != nil:
		log.Error("cannot revoke the agent key", "err", err)
		return
	}
	log.Warn("agent key revoked: the agent was not connected here when a user with access lost it; " +
		"it needs a new enrolment token (wsgate workspaces rotate-agent-token)")
	k.forget(ws.UID)
	if k.cfg.Agents.Tag(ws.UID) == old {
		k.cfg.Agents.Disconnect(ws.UID)
	}
}

// connectedUsers are the users other than the owner with sessions here
// that are not being dropped: their sessions outlive a rotation and can
// read the new key, so the new key starts with them exposed.
func (k *Keys) connectedUsers(ws acl.Workspace) []string {
	var out []string
	for _, s := range k.cfg.Sessions.OnWorkspace(ws.UID) {
		if u := s.Info.User; !s.Dropping() && u != ws.Owner && u != "" {
			out = append(out, u)
		}
	}
	return out
}

// renote resets what was noted for ws to users, which the store already
// holds as the new key's exposure (one write, not one per user). A
// session tracked since is noted by its own OnTrack.
func (k *Keys) renote(ws acl.Workspace, users []string) {
	k.forget(ws.UID)
	tag := k.cfg.Agents.Tag(ws.UID)
	k.mu.Lock()
	for _, u := range users {
		k.noted[noteKey{ws.UID, tag, u}] = struct{}{}
	}
	k.mu.Unlock()
	// A session that arrived while the agent was asked was noted against
	// the old key: note it again (its entry was just forgotten).
	for _, s := range k.cfg.Sessions.OnWorkspace(ws.UID) {
		if !s.Dropping() {
			k.OnTrack(s.Info)
		}
	}
}

func fingerprint(authorized string) string {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(pk)
}
