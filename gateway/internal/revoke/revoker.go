// Package revoke ends live sessions the moment their access ends: it
// follows the store's events, re-checks exactly the sessions each one can
// touch, keeps the access cache in step with them, removes expired grants,
// and watches whether the store answers.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// Defaults of Config.
const (
	DefaultProbeInterval = time.Second
	DefaultSweepInterval = time.Second
	// DropWait is how long the revoker waits for dropped sessions'
	// owners to end them (after telling their users why) before it acts
	// as if they had: closing a tunnel, looking for processes, returning
	// from Run.
	DropWait = 2 * time.Second
)

const (
	// recheckParallelism bounds concurrent snapshot loads of one re-check,
	// and recheckBatch the users each reads at once (one Redis script call
	// runs alone on the server: keep each short).
	recheckParallelism  = 8
	recheckBatch        = 64
	subscribeBackoffMin = 50 * time.Millisecond
	subscribeBackoffMax = 5 * time.Second
)

// Store is the part of acl.Store the revoker reads and writes.
type Store interface {
	Subscribe(ctx context.Context) (<-chan acl.Event, error)
	GetGroup(ctx context.Context, name string) (acl.Group, error)
	GetWorkspaceByUID(ctx context.Context, uid string) (acl.Workspace, error)
	ListWorkspaces(ctx context.Context) ([]acl.Workspace, error)
	DeleteExpiredGrants(ctx context.Context, now time.Time) (int, error)
}

// Tunnels is the part of the agent tunnel registry that revocation uses:
// an agent whose workspace was deleted, or whose token was replaced, must
// not stay reachable.
type Tunnels interface {
	// Disconnect closes the tunnel of the workspace with UID key.
	Disconnect(key string)
	// DisconnectUnless closes it unless it was opened with the credential
	// whose tag (its hash) is tag.
	DisconnectUnless(key, tag string)
	// ConnectedWith reports whether the workspace's tunnel is live and was
	// opened with the credential whose tag is tag.
	ConnectedWith(key, tag string) bool
}

// Config configures a Revoker.
type Config struct {
	Store    Store
	Access   *access.Authorizer
	Sessions *sessions.Registry
	// Agents, when set, loses the tunnels of deleted workspaces and of
	// replaced agent tokens.
	Agents Tunnels
	// AgentKeys, when set, replaces a workspace's agent key when a user
	// exposed to it loses access (agentkey.go).
	AgentKeys AgentKeys
	// LockMode defaults to LockBestEffort.
	LockMode LockMode
	// ProbeInterval is how often the store is asked whether it answers.
	ProbeInterval time.Duration
	// SweepInterval is the longest wait between two removals of expired
	// grants; the sweeper also wakes at each live session's expiry.
	SweepInterval time.Duration
	// Metrics is where the revocation metrics are registered; nil keeps
	// them unregistered.
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	Now     func() time.Time
	// Processes, when set, ends the processes of users who lost access,
	// through the agents connected to this replica (see processes.go;
	// tell it of agents with AgentConnected and AgentDisconnected).
	Processes AgentProcesses
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Store == nil || c.Access == nil || c.Sessions == nil {
		errs = append(errs, errors.New("Store, Access and Sessions are required"))
	}
	if c.LockMode == "" {
		c.LockMode = LockBestEffort
	}
	if _, err := ParseLockMode(string(c.LockMode)); err != nil {
		errs = append(errs, err)
	}
	if c.ProbeInterval < 0 || c.SweepInterval < 0 {
		errs = append(errs, errors.New("intervals must not be negative"))
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("revoke config: %w", errors.Join(errs...))
	}
	return c, nil
}

// Revoker drops live sessions the moment their access ends.
type Revoker struct {
	cfg     Config
	store   Store
	authz   *access.Authorizer
	reg     *sessions.Registry
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	resync bool          // re-check every session at the next chance
	kick   chan struct{} // cap 1: an owed resync
	// expiryKick (cap 1) wakes the sweeper when a re-check learned of an
	// expiry.
	expiryKick chan struct{}

	drops sync.WaitGroup // asynchronous drops in flight
	// handled counts events applied, so tests know when one has been.
	handled atomic.Uint64

	procs *procWatch // nil without Config.Processes

	// moved holds the UIDs of workspaces whose owner changed since their
	// sessions opened (transfer.go).
	moved sync.Map
}

// New validates cfg; Run does the work.
func New(cfg Config) (*Revoker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("revoke metrics: %w", err)
	}
	r := &Revoker{
		cfg: cfg, store: cfg.Store, authz: cfg.Access, reg: cfg.Sessions, metrics: m,
		log: cfg.Logger, now: cfg.Now, kick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
	}
	if cfg.Processes != nil {
		r.procs = &procWatch{connected: map[string]bool{}, pending: map[string]bool{}, kick: make(chan struct{}, 1)}
	}
	return r, nil
}

// Handled is the number of events applied so far.
func (r *Revoker) Handled() uint64 { return r.handled.Load() }

// WaitDrops waits for the drops started so far to finish.
func (r *Revoker) WaitDrops() { r.drops.Wait() }

// Run follows events, probes the store and sweeps expired grants until ctx
// ends, then waits for drops in flight (at most DropWait). It returns the
// first loop error.
func (r *Revoker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	loop := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() {
					first = fmt.Errorf("revoker %s: %w", name, err)
					cancel()
				})
			}
		}()
	}
	loop("events", r.followEvents)
	loop("health", r.watchStore)
	loop("expiry", r.sweepExpired)
	if r.procs != nil {
		loop("processes", r.followProcesses)
	}
	wg.Wait()
	r.waitDrops()
	r.authz.SetLive(false)
	return first
}

// waitDrops waits for the drops in flight, at most DropWait.
func (r *Revoker) waitDrops() {
	done := make(chan struct{})
	go func() {
		r.drops.Wait()
		close(done)
	}()
	t := time.NewTimer(DropWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.log.Warn("dropped sessions not ended yet; stopping without them", "waited", DropWait)
	}
}
