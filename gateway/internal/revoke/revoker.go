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
	// DropWait is how long a drop waits for the connection to close after
	// telling its user why.
	DropWait = 2 * time.Second
)

const (
	// recheckParallelism bounds concurrent snapshot loads of one re-check.
	recheckParallelism  = 8
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
}

// Config configures a Revoker.
type Config struct {
	Store    Store
	Access   *access.Authorizer
	Sessions *sessions.Registry
	// Agents, when set, loses the tunnels of deleted workspaces and of
	// replaced agent tokens.
	Agents Tunnels
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
	return &Revoker{
		cfg: cfg, store: cfg.Store, authz: cfg.Access, reg: cfg.Sessions, metrics: m,
		log: cfg.Logger, now: cfg.Now, kick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
	}, nil
}

// Handled is the number of events applied so far.
func (r *Revoker) Handled() uint64 { return r.handled.Load() }

// WaitDrops waits for the drops started so far to finish.
func (r *Revoker) WaitDrops() { r.drops.Wait() }

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
	r.authz.SetLive(false)
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
		r.authz.SetLive(true)
		if !first {
			r.handle(ctx, acl.Event{Kind: acl.EventResync, At: r.now()})
		}
		r.consume(ctx, events)
		r.authz.SetLive(false)
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
		case <-r.reg.Stale():
			r.handlePending(ctx)
		}
	}
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
	// Sessions tracked after an invalidation may have missed the event
	// behind it.
	pending := r.reg.TakeStale()
	r.mu.Lock()
	resync := r.resync
	r.resync = false
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
		for _, ls := range r.reg.WithKey(ev.Fingerprint) {
			if ev.User == "" || ls.Info.User == ev.User {
				r.dropAsync(ls, reasonKeyRemoved, "your key was removed", ev.At)
			}
		}
	case acl.EventTokenRevoked:
		for _, ls := range r.reg.WithToken(ev.TokenID) {
			r.dropAsync(ls, reasonTokenRevoked, "your API token was revoked", ev.At)
		}
	case acl.EventWorkspaceStopped:
		r.workspaceStopped(ctx, ev)
	case acl.EventWorkspaceDeleted:
		live := r.touched(ctx, ev)
		r.recheck(ctx, ev, live)
		if r.cfg.Agents != nil && ev.WorkspaceUID != "" {
			// After the sessions are told why they end: cut first, they
			// would only read that the connection was lost.
			r.afterEnded(live, func() { r.cfg.Agents.Disconnect(ev.WorkspaceUID) })
		}
	case acl.EventAgentTokenRotated:
		r.agentTokenRotated(ctx, ev)
		r.recheck(ctx, ev, r.touched(ctx, ev))
	default:
		r.recheck(ctx, ev, r.touched(ctx, ev))
	}
}

// touched returns the sessions whose access ev can have narrowed.
func (r *Revoker) touched(ctx context.Context, ev acl.Event) []*sessions.Session {
	reg := r.reg
	switch ev.Kind {
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired:
		on := r.onWorkspace(ev)
		switch {
		case ev.User != "":
			return filter(on, func(ls *sessions.Session) bool { return ls.Info.User == ev.User })
		case ev.Group != "":
			if members, ok := r.groupMembers(ctx, ev.Group); ok {
				return filter(on, func(ls *sessions.Session) bool { return members[ls.Info.User] })
			}
		}
		return filter(on, notOwner)
	case acl.EventGroupMemberRemoved, acl.EventUserSuspended, acl.EventUserDeleted, acl.EventSiteAdminRevoked:
		return reg.OfUser(ev.User)
	case acl.EventGroupDeleted:
		// Its members are gone with it: anyone but an owner may have
		// rested on it.
		return filter(reg.All(), notOwner)
	case acl.EventSharingDisabled:
		if ev.Org != "" {
			if wss, ok := r.orgWorkspaces(ctx, ev.Org); ok {
				return filter(reg.All(), func(ls *sessions.Session) bool { return wss[ls.Info.WorkspaceUID] && notOwner(ls) })
			}
		}
		return filter(reg.All(), notOwner)
	case acl.EventWorkspaceDeleted, acl.EventWorkspaceRenamed, acl.EventAgentTokenRotated:
		return r.onWorkspace(ev)
	}
	// EventResync, and kinds this gateway does not know yet.
	return reg.All()
}

// onWorkspace returns the sessions to the workspace ev names: by its UID,
// or, for an event written before UIDs existed, by its name.
func (r *Revoker) onWorkspace(ev acl.Event) []*sessions.Session {
	if ev.WorkspaceUID != "" {
		return r.reg.OnWorkspace(ev.WorkspaceUID)
	}
	return filter(r.reg.All(), func(ls *sessions.Session) bool { return ls.Info.Workspace == ev.Workspace })
}

// afterEnded runs f once every session in live has ended, or DropWait has
// passed, without holding up the caller.
func (r *Revoker) afterEnded(live []*sessions.Session, f func()) {
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		t := time.NewTimer(DropWait)
		defer t.Stop()
		for _, ls := range live {
			select {
			case <-ls.Done():
			case <-t.C:
				f()
				return
			}
		}
		f()
	}()
}

// agentTokenRotated closes the workspace's tunnel unless its agent already
// came back with the new token.
func (r *Revoker) agentTokenRotated(ctx context.Context, ev acl.Event) {
	if r.cfg.Agents == nil || ev.WorkspaceUID == "" {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, ev.WorkspaceUID)
	cancel()
	switch {
	case err == nil:
		r.cfg.Agents.DisconnectUnless(ev.WorkspaceUID, w.AgentTokenHash)
	case errors.Is(err, acl.ErrNotFound):
		r.cfg.Agents.Disconnect(ev.WorkspaceUID)
	default:
		// The tunnel stays; the old token no longer opens a new one.
		r.log.Warn("cannot read the rotated agent token; the agent's tunnel stays", "workspace", ev.Workspace.String(), "err", err)
	}
}

// notOwner: only an owner's access to their own workspace rests on no
// grant, group or sharing setting.
func notOwner(ls *sessions.Session) bool { return ls.Info.User != ls.Info.Workspace.Owner }

func filter(in []*sessions.Session, keep func(*sessions.Session) bool) []*sessions.Session {
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
	ctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
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
func (r *Revoker) orgWorkspaces(ctx context.Context, org string) (map[string]bool, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	defer cancel()
	all, err := r.store.ListWorkspaces(ctx)
	if err != nil {
		return nil, false
	}
	m := map[string]bool{}
	for _, w := range all {
		if w.Org == org {
			m[w.UID] = true
		}
	}
	return m, true
}

// workspaceStopped drops the sessions of a workspace that is stopping,
// stopped or failed, naming who stopped it.
func (r *Revoker) workspaceStopped(ctx context.Context, ev acl.Event) {
	live := r.onWorkspace(ev)
	if len(live) == 0 {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, ev.WorkspaceUID)
	cancel()
	state := acl.StateStopped // what the event says, when the store cannot tell more
	switch {
	case err == nil:
		state = w.State
	case errors.Is(err, acl.ErrNotFound):
		r.recheck(ctx, ev, live) // deleted since: the re-check says so
		return
	}
	var msg string
	switch state {
	case acl.StateRunning, acl.StateStarting:
		// Started again since: the workspace decides nothing here.
		r.recheck(ctx, ev, live)
		return
	case acl.StateFailed:
		msg = fmt.Sprintf("workspace %s failed", ev.Workspace)
	default:
		msg = fmt.Sprintf("workspace %s was stopped", ev.Workspace)
		if ev.Actor != "" {
			msg += " by " + ev.Actor
		}
	}
	for _, ls := range live {
		r.dropAsync(ls, reasonWorkspaceStopped, msg, ev.At)
	}
}

// recheck re-evaluates connect for each session against a fresh snapshot,
// loaded once per (user, workspace), and drops those that fail.
func (r *Revoker) recheck(ctx context.Context, ev acl.Event, live []*sessions.Session) {
	if len(live) == 0 {
		return
	}
	groups := map[checkKey][]*sessions.Session{}
	var keys []checkKey
	for _, ls := range live {
		if ls.Dropping() {
			continue
		}
		k := checkKey{ls.Info.User, ls.Info.WorkspaceUID}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], ls)
	}
	checks := make([]check, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, recheckParallelism)
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			checks[i] = r.check(ctx, k, groups[k][0].Info.Workspace)
		}()
	}
	wg.Wait()
	now := r.now()
	for i, k := range keys {
		c := checks[i]
		if c.err != nil {
			if ctx.Err() == nil {
				// Keep the sessions, and check them all once the store
				// answers again.
				r.log.Warn("re-check failed; sessions kept until the store answers", "user", k.user, "workspace", c.ws.String(), "err", c.err)
				r.oweResync()
			}
			continue
		}
		for _, ls := range groups[k] {
			if c.d.Allow {
				ls.SetValidUntil(c.validUntil)
				if !c.validUntil.IsZero() {
					r.noteExpiry(c.validUntil)
				}
				continue
			}
			reason, msg := dropReason(ev, ls, c.ws, c.d, now)
			r.dropAsync(ls, reason, msg, ev.At)
		}
	}
}

// checkKey is what one re-check decides: a user on a workspace, by UID.
type checkKey struct {
	user string
	uid  string
}

// check is the outcome of one re-check.
type check struct {
	ws         acl.WorkspaceID // the workspace's current name
	d          acl.Decision
	validUntil time.Time
	err        error
}

// check decides connect for k from the store. The workspace is found by
// its UID, so a rename keeps the sessions, and the snapshot must be of that
// same workspace: one deleted and created again under the same name is
// another, and its sessions' workspace is gone. named is the name the
// sessions know, used when the workspace is gone.
func (r *Revoker) check(ctx context.Context, k checkKey, named acl.WorkspaceID) check {
	gone := check{ws: named, d: acl.Decision{Reason: acl.ReasonNoWorkspace}}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, k.uid)
	cancel()
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return gone
	case err != nil:
		return check{ws: named, err: err}
	}
	snap, err := r.authz.Load(ctx, k.user, w.ID())
	if err != nil {
		return check{ws: w.ID(), err: err}
	}
	if snap.WorkspaceUID(w.ID()) != k.uid {
		return gone
	}
	return check{ws: w.ID(), d: acl.Authorize(snap, k.user, acl.ActionConnect, w.ID()), validUntil: snap.ValidUntil()}
}

// dropReason says why a session that failed its re-check ends, as
// precisely as the event and the decision allow; ws is the workspace's
// current name.
func dropReason(ev acl.Event, ls *sessions.Session, ws acl.WorkspaceID, d acl.Decision, now time.Time) (reason, msg string) {
	switch d.Reason {
	case acl.ReasonSuspended:
		return reasonSuspended, "your account was suspended"
	case acl.ReasonNoUser:
		return reasonUserDeleted, "your account was deleted"
	case acl.ReasonNoWorkspace:
		return reasonWorkspaceDeleted, fmt.Sprintf("workspace %s was deleted", ws)
	}
	exp := ls.ValidUntil()
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
func (r *Revoker) dropAsync(ls *sessions.Session, reason, msg string, at time.Time) {
	if ls.Dropping() {
		return
	}
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		if ls.Drop(msg, DropWait) {
			r.metrics.revoked(reason, at)
			r.log.Info("session revoked", "session", ls.Info.ID, "user", ls.Info.User,
				"workspace", ls.Info.Workspace.String(), "reason", reason)
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
		if r.cfg.LockMode == LockStrict && r.authz.SinceContact() > r.authz.Grace() {
			for _, ls := range r.reg.All() {
				r.dropAsync(ls, reasonStoreUnreachable, "access can no longer be checked: the access store is unreachable", time.Time{})
			}
		}
	}
}
