package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/websession"
)

// Provisioner starts, stops and updates workspaces. Calls block until the
// workspace reached the new state or failed.
type Provisioner interface {
	Start(ctx context.Context, ws acl.Workspace) error
	Stop(ctx context.Context, ws acl.Workspace) error
	Update(ctx context.Context, ws acl.Workspace) error
}

// UpdateChecker is optionally implemented by a Provisioner that knows when a
// workspace requires an update. While one is required, the `use` role may
// update (DESIGN.md: "update when the workspace requires it on start"), and
// start runs Update instead of Start.
type UpdateChecker interface {
	UpdateRequired(ctx context.Context, ws acl.Workspace) (bool, error)
}

// Config configures the API handler.
type Config struct {
	Store acl.Store
	// DisableSharing is the server's --disable-sharing flag; it overrides
	// the stored deployment setting.
	DisableSharing bool
	Logger         *slog.Logger
	// Provisioner runs start/stop/update; nil just flips states.
	Provisioner Provisioner
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SSHAddr and HostnameSuffix are served by GET /api/v1/deployment so
	// that clients (config-ssh) can write SSH config entries.
	SSHAddr        string
	HostnameSuffix string
	// SSHHostKeys (authorized_keys form) are served with them, for the
	// known_hosts file config-ssh writes.
	SSHHostKeys []string
	// AccessURL is the gateway's URL as clients are told to use it
	// (GET /api/v1/info, /api/v1/deployment).
	AccessURL string
	// ProvisionTimeout bounds one provisioner call; default 10 minutes.
	ProvisionTimeout time.Duration
	// AgentInfo serves workspace stats, logs and connections; nil answers
	// 503 on those endpoints.
	AgentInfo AgentInfo
	// AgentWait bounds how long start and update wait, once the
	// provisioner returned, for the workspace's agent to connect: "running"
	// means reachable. Default 60 s; no wait without a Provisioner or an
	// AgentInfo.
	AgentWait time.Duration
	// Web signs browser sessions and sign-in codes; default one keyed by
	// Store's shared secret. The app proxy must use the same one.
	Web *websession.Signer
	// AppsURL is served by GET /api/v1/info for the page's "Open" links
	// (apitypes.Info.AppsURL).
	AppsURL string
	// MaxTokenLifetime is the longest an API token created through the API
	// may live (default DefaultMaxTokenLifetime; negative: no limit).
	MaxTokenLifetime time.Duration
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HostnameSuffix == "" {
		c.HostnameSuffix = apitypes.DefaultHostnameSuffix
	}
	if c.ProvisionTimeout <= 0 {
		c.ProvisionTimeout = 10 * time.Minute
	}
	if c.MaxTokenLifetime == 0 {
		c.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	if c.AgentWait <= 0 {
		c.AgentWait = 60 * time.Second
	}
	if c.Web == nil && c.Store != nil {
		c.Web = websession.New(c.Store, c.Now)
	}
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("httpapi: Config.Store is required")
	}
	return nil
}
