package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// LockMode says what happens to live sessions while the store is
// unreachable for longer than the grace.
type LockMode string

const (
	// LockBestEffort keeps live sessions; they are re-checked once the
	// store answers again.
	LockBestEffort LockMode = "best_effort"
	// LockStrict drops every live session once the grace has passed
	// without store contact: nobody keeps access that cannot be checked.
	LockStrict LockMode = "strict"
)

// ParseLockMode parses "best_effort" or "strict".
func ParseLockMode(s string) (LockMode, error) {
	switch m := LockMode(s); m {
	case LockBestEffort, LockStrict:
		return m, nil
	}
	return "", fmt.Errorf("invalid lock mode %q: expected best_effort or strict", s)
}

// Defaults of RevokerConfig.
const (
	DefaultProbeInterval = time.Second
	DefaultSweepInterval = time.Second
)

const (
	// recheckParallelism bounds concurrent snapshot loads of one re-check.
	recheckParallelism  = 8
	subscribeBackoffMin = 50 * time.Millisecond
	subscribeBackoffMax = 5 * time.Second
)

// RevokerConfig configures a gateway's revocation.
type RevokerConfig struct {
	// StoreGrace and StoreTimeout configure the Authorizer (AuthzConfig).
	StoreGrace   time.Duration
	StoreTimeout time.Duration
	// LockMode defaults to LockBestEffort.
	LockMode LockMode
	// ProbeInterval is how often the store is asked whether it answers.
	ProbeInterval time.Duration
	// SweepInterval is the longest wait between two removals of expired
	// grants; the sweeper also wakes at each live session's expiry.
	SweepInterval time.Duration
	// Metrics defaults to a fresh set.
	Metrics *Metrics
	Logger  *slog.Logger
}

func (c RevokerConfig) withDefaults() (RevokerConfig, error) {
	if c.LockMode == "" {
		c.LockMode = LockBestEffort
	}
	if _, err := ParseLockMode(string(c.LockMode)); err != nil {
		return c, fmt.Errorf("revoker config: %w", err)
	}
	if c.ProbeInterval < 0 || c.SweepInterval < 0 {
		return c, errors.New("revoker config: intervals must not be negative")
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Revoker drops live sessions of one SSH server the moment their access
// ends. It follows the store's events and re-evaluates exactly the
// sessions each one can touch, keeps the server's authorization cache in
// step with them, removes expired grants, and watches whether the store
// answers.
type Revoker struct {
	cfg     RevokerConfig
	srv     *SSHServer
	store   acl.Store
	authz   *Authorizer
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	pending []*liveSession // sessions to re-check, see enqueue
	resync  bool           // re-check every session at the next chance
	kick    chan struct{}  // cap 1: pending work
	// expiryKick (cap 1) wakes the sweeper when a session with an expiry
	// registers.
	expiryKick chan struct{}

	drops sync.WaitGroup // asynchronous drops in flight
	// handled counts events applied, so tests know when one has been.
	handled atomic.Uint64
}

// NewRevoker connects a Revoker to srv: srv decides from then on with the
// Revoker's Authorizer and reports to its metrics. Call it before srv
// serves, then Run.
func NewRevoker(srv *SSHServer, cfg RevokerConfig) (*Revoker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	authz, err := NewAuthorizer(AuthzConfig{
		Store:          srv.cfg.Store,
		DisableSharing: srv.cfg.DisableSharing,
		StoreGrace:     cfg.StoreGrace,
		StoreTimeout:   cfg.StoreTimeout,
		Now:            srv.cfg.Now,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	r := &Revoker{
		cfg: cfg, srv: srv, store: srv.cfg.Store, authz: authz, metrics: cfg.Metrics,
		log: cfg.Logger, now: srv.cfg.Now,
		kick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
	}
	srv.rev.Store(&revHooks{authz: authz, metrics: cfg.Metrics, recheck: r.enqueue, expiring: r.noteExpiry})
	srv.reg.setOnCount(func(n int) { cfg.Metrics.sessionsActive.Set(float64(n)) })
	return r, nil
}

// Authorizer is the cache the SSH server decides with.
func (r *Revoker) Authorizer() *Authorizer { return r.authz }

// Metrics are where revocations and decisions are counted.
func (r *Revoker) Metrics() *Metrics { return r.metrics }

// Run follows events, probes the store and sweeps expired grants until ctx
// ends, then waits for drops in flight. It returns the first loop error.
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
	wg.Wait()
	r.drops.Wait()
	r.authz.setLive(false)
	return first
}

// followEvents subscribes to the store and handles every event, and the
// re-checks sessions ask for, one at a time. A lost feed is subscribed
// again, and then everything is re-checked: events may have been missed.
func (r *Revoker) followEvents(ctx context.Context) error {
	backoff := subscribeBackoffMin
	for first := true; ; first = false {
		events, err := r.store.Subscribe(ctx)
		for err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("subscribe to store events failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, subscribeBackoffMax)
			events, err = r.store.Subscribe(ctx)
		}
		backoff = subscribeBackoffMin
		r.authz.setLive(true)
		if !first {
			r.handle(ctx, acl.Event{Kind: acl.EventResync, At: r.now()})
		}
		r.consume(ctx, events)
		r.authz.setLive(false)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("store event feed ended; subscribing again")
	}
}

func (r *Revoker) consume(ctx context.Context, events <-chan acl.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			r.handle(ctx, ev)
		case <-r.kick:
			r.handlePending(ctx)
		}
	}
}

// enqueue asks for ls to be re-checked: it was authorized before the
// latest invalidation, so the event behind it may have passed it by.
func (r *Revoker) enqueue(ls *liveSession) {
	r.mu.Lock()
	r.pending = append(r.pending, ls)
	r.mu.Unlock()
	r.poke()
}

// oweResync asks for every session to be re-checked.
func (r *Revoker) oweResync() {
	r.mu.Lock()
	r.resync = true
	r.mu.Unlock()
}

func (r *Revoker) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Revoker) handlePending(ctx context.Context) {
	r.mu.Lock()
	pending, resync := r.pending, r.resync
	r.pending, r.resync = nil, false
	r.mu.Unlock()
	if resync {
		r.handle(ctx, acl.Event{Kind: acl.EventResync})
		return
	}
	if len(pending) > 0 {
		r.recheck(ctx, acl.Event{Kind: acl.EventResync}, pending)
	}
}

// handle applies one event: the cache forgets everything, and the sessions
// the event can touch are dropped or re-evaluated.
func (r *Revoker) handle(ctx context.Context, ev acl.Event) {
	defer r.handled.Add(1)
	r.authz.Invalidate()
	switch ev.Kind {
	case acl.EventKeyRemoved:
		// The key no longer names anyone: sessions made with it end,
		// whatever their user may still do with another key.
		for _, ls := range r.srv.reg.withKey(ev.Fingerprint) {
			if ev.User == "" || ls.info.User == ev.User {
				r.dropAsync(ls, reasonKeyRemoved, "your key was removed", ev.At)
			}
		}
	case acl.EventTokenRevoked:
		for _, ls := range r.srv.reg.withToken(ev.TokenID) {
			r.dropAsync(ls, reasonTokenRevoked, "your API token was revoked", ev.At)
		}
	case acl.EventWorkspaceStopped:
		r.workspaceStopped(ctx, ev)
	default:
		r.recheck(ctx, ev, r.touched(ctx, ev))
	}
}

// touched returns the sessions whose access ev can have narrowed.
func (r *Revoker) touched(ctx context.Context, ev acl.Event) []*liveSession {
	reg := r.srv.reg
	switch ev.Kind {
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired:
		on := reg.onWorkspace(ev.Workspace)
		switch {
		case ev.User != "":
			return filter(on, func(ls *liveSession) bool { return ls.info.User == ev.User })
		case ev.Group != "":
			if members, ok := r.groupMembers(ctx, ev.Group); ok {
				return filter(on, func(ls *liveSession) bool { return members[ls.info.User] })
			}
		}
		return filter(on, notOwner)
	case acl.EventGroupMemberRemoved, acl.EventUserSuspended, acl.EventUserDeleted, acl.EventSiteAdminRevoked:
		return reg.ofUser(ev.User)
	case acl.EventGroupDeleted:
		// Its members are gone with it: anyone but an owner may have
		// rested on it.
		return filter(reg.all(), notOwner)
	case acl.EventSharingDisabled:
		if ev.Org != "" {
			if wss, ok := r.orgWorkspaces(ctx, ev.Org); ok {
				return filter(reg.all(), func(ls *liveSession) bool { return wss[ls.info.Workspace] && notOwner(ls) })
			}
		}
		return filter(reg.all(), notOwner)
	case acl.EventWorkspaceDeleted, acl.EventWorkspaceRenamed, acl.EventAgentTokenRotated:
		return reg.onWorkspace(ev.Workspace)
	}
	// EventResync, and kinds this gateway does not know yet.
	return reg.all()
}

// notOwner: only an owner's access to their own workspace rests on no
// grant, group or sharing setting.
func notOwner(ls *liveSession) bool { return ls.info.User != ls.info.Workspace.Owner }

func filter(in []*liveSession, keep func(*liveSession) bool) []*liveSession {
	out := in[:0]
	for _, ls := range in {
		if keep(ls) {
			out = append(out, ls)
		}
	}
	return out
}

// groupMembers reads the group's members; false when it cannot.
func (r *Revoker) groupMembers(ctx context.Context, group string) (map[string]bool, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.authz.cfg.StoreTimeout)
	defer cancel()
	g, err := r.store.GetGroup(ctx, group)
	if err != nil {
		return nil, false
	}
	m := make(map[string]bool, len(g.Members))
	for _, u := range g.Members {
		m[u] = true
	}
	return m, true
}

// orgWorkspaces lists the workspaces of org; false when it cannot.
func (r *Revoker) orgWorkspaces(ctx context.Context, org string) (map[acl.WorkspaceID]bool, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.authz.cfg.StoreTimeout)
	defer cancel()
	all, err := r.store.ListWorkspaces(ctx)
	if err != nil {
		return nil, false
	}
	m := map[acl.WorkspaceID]bool{}
	for _, w := range all {
		if w.Org == org {
			m[w.ID()] = true
		}
	}
	return m, true
}

// workspaceStopped drops the sessions of a workspace that is stopping,
// stopped or failed, naming who stopped it.
func (r *Revoker) workspaceStopped(ctx context.Context, ev acl.Event) {
	sessions := r.srv.reg.onWorkspace(ev.Workspace)
	if len(sessions) == 0 {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.cfg.StoreTimeout)
	w, err := r.store.GetWorkspace(gctx, ev.Workspace)
	cancel()
	state := acl.StateStopped // what the event says, when the store cannot tell more
	switch {
	case err == nil:
		state = w.State
	case errors.Is(err, acl.ErrNotFound):
		r.recheck(ctx, ev, sessions) // deleted since: the re-check says so
		return
	}
	var msg string
	switch state {
	case acl.StateRunning, acl.StateStarting:
		// Started again since: the workspace decides nothing here.
		r.recheck(ctx, ev, sessions)
		return
	case acl.StateFailed:
		msg = fmt.Sprintf("workspace %s failed", ev.Workspace)
	default:
		msg = fmt.Sprintf("workspace %s was stopped", ev.Workspace)
		if ev.Actor != "" {
			msg += " by " + ev.Actor
		}
	}
	for _, ls := range sessions {
		r.dropAsync(ls, reasonWorkspaceStopped, msg, ev.At)
	}
}

// recheck re-evaluates connect for each session against a fresh snapshot,
// loaded once per (user, workspace), and drops those that fail.
func (r *Revoker) recheck(ctx context.Context, ev acl.Event, sessions []*liveSession) {
	if len(sessions) == 0 {
		return
	}
	groups := map[snapKey][]*liveSession{}
	var keys []snapKey
	for _, ls := range sessions {
		if ls.dropping.Load() {
			continue
		}
		k := snapKey{ls.info.User, ls.info.Workspace}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], ls)
	}
	snaps := make([]*acl.Snapshot, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, recheckParallelism)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			snaps[i], errs[i] = r.authz.Load(ctx, k.user, k.ws)
		}()
	}
	wg.Wait()
	now := r.now()
	for i, k := range keys {
		if errs[i] != nil {
			if ctx.Err() == nil {
				// Keep the sessions, and check them all once the store
				// answers again.
				r.log.Warn("re-check failed; sessions kept until the store answers", "user", k.user, "workspace", k.ws.String(), "err", errs[i])
				r.oweResync()
			}
			continue
		}
		d := acl.Authorize(snaps[i], k.user, acl.ActionConnect, k.ws)
		for _, ls := range groups[k] {
			if d.Allow {
				ls.setValidUntil(snaps[i].ValidUntil())
				if !snaps[i].ValidUntil().IsZero() {
					r.noteExpiry(snaps[i].ValidUntil())
				}
				continue
			}
			reason, msg := dropReason(ev, ls, d, now)
			r.dropAsync(ls, reason, msg, ev.At)
		}
	}
}

// dropReason says why a session that failed its re-check ends, as
// precisely as the event and the decision allow.
func dropReason(ev acl.Event, ls *liveSession, d acl.Decision, now time.Time) (reason, msg string) {
	ws := ls.info.Workspace
	switch d.Reason {
	case acl.ReasonSuspended:
		return reasonSuspended, "your account was suspended"
	case acl.ReasonNoUser:
		return reasonUserDeleted, "your account was deleted"
	case acl.ReasonNoWorkspace:
		if ev.Kind == acl.EventWorkspaceRenamed {
			return reasonWorkspaceRenamed, fmt.Sprintf("workspace %s was renamed", ws)
		}
		return reasonWorkspaceDeleted, fmt.Sprintf("workspace %s was deleted", ws)
	}
	exp := ls.expiry()
	switch {
	case ev.Kind == acl.EventGrantExpired, !exp.IsZero() && !now.Before(exp):
		return reasonExpired, fmt.Sprintf("your access to %s expired", ws)
	case ev.Kind == acl.EventSharingDisabled:
		return reasonSharingDisabled, "workspace sharing was disabled"
	}
	return reasonRevoked, fmt.Sprintf("access to %s was revoked", ws)
}

// dropAsync drops ls without holding up the caller: a client that does not
// read must not delay the next event.
func (r *Revoker) dropAsync(ls *liveSession, reason, msg string, at time.Time) {
	if ls.dropping.Load() {
		return
	}
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		if ls.drop(msg) {
			r.metrics.revoked(reason, at)
			r.log.Info("session revoked", "session", ls.info.ID, "user", ls.info.User,
				"workspace", ls.info.Workspace.String(), "reason", reason)
		}
	}()
}

// watchStore probes the store; in strict mode it drops every live session
// once the grace has passed without contact. A probe that succeeds after
// a re-check failed for lack of the store triggers the owed re-check.
func (r *Revoker) watchStore(ctx context.Context) error {
	t := time.NewTicker(r.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := r.authz.Probe(ctx); err == nil {
			r.mu.Lock()
			owed := r.resync
			r.mu.Unlock()
			if owed {
				r.poke()
			}
			continue
		}
		if r.cfg.LockMode == LockStrict && r.authz.SinceContact() > r.authz.cfg.StoreGrace {
			for _, ls := range r.srv.reg.all() {
				r.dropAsync(ls, reasonStoreUnreachable, "access can no longer be checked: the access store is unreachable", time.Time{})
			}
		}
	}
}
