// Package access decides who may reach which workspace: the connect
// decision with its cache and store grace, the cached lookups that identify
// users and resolve names, API token identification, and the decision
// metrics.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/wsgate/wsgate/acl"
)

// ErrStoreUnavailable means the store could not be asked and the cache
// could not answer instead (nothing cached, or the grace has passed).
var ErrStoreUnavailable = errors.New("the access store is unreachable")

// Defaults of Config.
const (
	DefaultStoreGrace   = 30 * time.Second
	DefaultStoreTimeout = 3 * time.Second
	// maxCacheEntries bounds each cache; a full cache is emptied, which
	// costs only store reads.
	maxCacheEntries = 50_000
)

// Store is the part of acl.Store that access reads: what a snapshot needs,
// and the lookups that identify users and resolve names.
type Store interface {
	acl.SnapshotReader
	acl.TokenReader
	UserByKeyFingerprint(ctx context.Context, fp string) (acl.User, error)
	WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error)
	// GetGroup: who a group grant reaches (reach.go).
	GetGroup(ctx context.Context, name string) (acl.Group, error)
}

// Config configures an Authorizer.
type Config struct {
	Store Store
	// DisableSharing is the --disable-sharing flag.
	DisableSharing bool
	// StoreGrace is how long after the last successful store contact new
	// connections may still be decided from the cache.
	StoreGrace time.Duration
	// StoreTimeout bounds one store read made for a decision.
	StoreTimeout time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
	// Metrics is where the decision counter is registered; nil keeps it
	// unregistered.
	Metrics prometheus.Registerer
}

func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("access config: Store is required")
	}
	if c.StoreGrace < 0 || c.StoreTimeout < 0 {
		return c, errors.New("access config: StoreGrace and StoreTimeout must not be negative")
	}
	if c.StoreGrace == 0 {
		c.StoreGrace = DefaultStoreGrace
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Authorizer decides connect for one gateway. It caches snapshots per
// (user, workspace) and the reads that identify users and resolve names.
//
// A cached snapshot is used first only while the cache is live (a Revoker
// receives the store's events and invalidates it) and only when it allows:
// narrowing writes emit events, widening ones do not, so an allowing entry
// can only go stale through an event, while a denying one may be stale
// after a share. Every other cached answer is a fallback, used while the
// store is unreachable, for StoreGrace after the last successful contact.
// No snapshot is used past its ValidUntil.
type Authorizer struct {
	cfg Config
	log *slog.Logger

	// gen counts invalidations; a read that started before one is not
	// cached, and a session authorized before one is checked again.
	gen         atomic.Uint64
	live        atomic.Bool
	down        atomic.Bool
	lastContact atomic.Int64 // unix nanoseconds of the last successful store call

	decisions *prometheus.CounterVec

	mu    sync.Mutex
	snaps map[snapKey]*acl.Snapshot
	reads map[string]cachedRead

	// loads lets concurrent Decides that miss the cache for the same
	// (user, workspace, generation) share one store read: a user's
	// sessions often open at once (ControlMaster, scripts, reconnects).
	loads singleflight.Group
}

type snapKey struct {
	user string
	ws   acl.WorkspaceID
}

type cachedRead struct {
	v   any
	err error // an answer such as *acl.NotFoundError, cached like a value
}

// New validates cfg. The cache starts not live: until a revoker follows
// the store's events (SetLive), every decision reads the store.
func New(cfg Config) (*Authorizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	decisions, err := newDecisionCounter(cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("access metrics: %w", err)
	}
	a := &Authorizer{cfg: cfg, log: cfg.Logger, decisions: decisions, snaps: map[snapKey]*acl.Snapshot{}, reads: map[string]cachedRead{}}
	a.lastContact.Store(cfg.Now().UnixNano())
	return a, nil
}

// Decision is the outcome of Decide.
type Decision struct {
	acl.Decision
	// Gen is the invalidation count the decision was made under.
	Gen uint64
	// ValidUntil is when the snapshot behind it stops being valid (the
	// earliest grant expiry in it); zero when nothing in it expires.
	ValidUntil time.Time
	// Cached says the decision came from the cache.
	Cached bool
	// WorkspaceUID is the immutable ID of the workspace decided about:
	// what agent tunnels and live sessions are keyed by.
	WorkspaceUID string
}

// decision builds the Decision for ws from snap.
func decision(snap *acl.Snapshot, user string, action acl.Action, ws acl.WorkspaceID, gen uint64, cached bool) Decision {
	return Decision{
		Decision: acl.Authorize(snap, user, action, ws), Gen: gen,
		ValidUntil: snap.ValidUntil(), Cached: cached, WorkspaceUID: snap.WorkspaceUID(ws),
	}
}

// Decide decides whether user may do action on ws: from a live cached
// snapshot that allows it, else from the store, else (store unreachable,
// within the grace) from whatever snapshot is cached. It fails with
// ErrStoreUnavailable when none of these can answer.
func (a *Authorizer) Decide(ctx context.Context, user string, ws acl.WorkspaceID, action acl.Action) (Decision, error) {
	gen := a.gen.Load()
	k := snapKey{user, ws}
	if snap := a.cachedSnapshot(k); snap != nil {
		d := decision(snap, user, action, ws, gen, true)
		if (d.Allow && a.live.Load()) || (a.down.Load() && a.withinGrace()) {
			return d, nil
		}
	}
	snap, err := a.sharedLoad(ctx, user, ws, gen)
	if err != nil {
		if errors.Is(err, ErrStoreUnavailable) && a.withinGrace() {
			if snap := a.cachedSnapshot(k); snap != nil {
				return decision(snap, user, action, ws, gen, true), nil
			}
		}
		return Decision{}, err
	}
	a.mu.Lock()
	if a.gen.Load() == gen {
		if len(a.snaps) >= maxCacheEntries {
			clear(a.snaps)
		}
		a.snaps[k] = snap
	}
	a.mu.Unlock()
	return decision(snap, user, action, ws, gen, false), nil
}

// sharedLoad is Load, shared by the callers that ask for the same user and
// workspace under the same invalidation count gen while it runs. The read
// is the first caller's, bounded by the store timeout but not ended when
// that caller gives up: the others may still want it. A caller who gave up
// gets its context's error.
func (a *Authorizer) sharedLoad(ctx context.Context, user string, ws acl.WorkspaceID, gen uint64) (*acl.Snapshot, error) {
	key := user + "\x00" + ws.String() + "\x00" + strconv.FormatUint(gen, 10)
	ch := a.loads.DoChan(key, func() (any, error) {
		return a.Load(context.WithoutCancel(ctx), user, ws)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*acl.Snapshot), nil
	}
}

// cachedSnapshot returns the cached snapshot for k unless it has expired.
func (a *Authorizer) cachedSnapshot(k snapKey) *acl.Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	snap := a.snaps[k]
	if snap == nil {
		return nil
	}
	if vu := snap.ValidUntil(); !vu.IsZero() && !a.cfg.Now().Before(vu) {
		delete(a.snaps, k)
		return nil
	}
	return snap
}

// Load reads a fresh snapshot from the store, bypassing the cache, as
// re-checks of live sessions must.
func (a *Authorizer) Load(ctx context.Context, user string, ws acl.WorkspaceID) (*acl.Snapshot, error) {
	return uncached(ctx, a, func(ctx context.Context) (*acl.Snapshot, error) {
		return acl.LoadSnapshot(ctx, a.cfg.Store, user, ws, a.cfg.Now(), a.cfg.DisableSharing)
	})
}

// LoadFacts reads ws's part of a fresh snapshot (Load in two halves, for
// re-checks of many users on one workspace).
func (a *Authorizer) LoadFacts(ctx context.Context, ws acl.WorkspaceID) (*acl.WorkspaceFacts, error) {
	return uncached(ctx, a, func(ctx context.Context) (*acl.WorkspaceFacts, error) {
		return acl.LoadWorkspaceFacts(ctx, a.cfg.Store, ws, a.cfg.DisableSharing)
	})
}

// Snapshot reads users (in one read where the store can) and returns one
// fresh snapshot of them on f's workspace.
func (a *Authorizer) Snapshot(ctx context.Context, f *acl.WorkspaceFacts, users []string) (*acl.Snapshot, error) {
	us, err := uncached(ctx, a, func(ctx context.Context) (map[string]acl.User, error) {
		return acl.LoadUsers(ctx, a.cfg.Store, users)
	})
	if err != nil {
		return nil, err
	}
	found := make([]acl.User, 0, len(us))
	for _, u := range us {
		found = append(found, u)
	}
	return f.Snapshot(a.cfg.Now(), found...), nil
}

// Probe asks the store for something cheap, to learn whether it answers.
func (a *Authorizer) Probe(ctx context.Context) error {
	_, err := uncached(ctx, a, a.cfg.Store.GetSettings)
	return err
}

// uncached runs one read of the store, bypassing the cache, within
// StoreTimeout, and records whether the store answered (failed, contact).
func uncached[T any](ctx context.Context, a *Authorizer, read func(context.Context) (T, error)) (T, error) {
	rctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	v, err := read(rctx)
	cancel()
	if err != nil {
		var zero T
		return zero, a.failed(ctx, err)
	}
	a.contact()
	return v, nil
}

// failed records a store failure; it returns ctx's error when the caller
// gave up, else err wrapped as ErrStoreUnavailable. Bad input passes as
// it is: the store answered.
func (a *Authorizer) failed(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if isAnswer(err) {
		a.contact()
		return err
	}
	if !a.down.Swap(true) {
		a.log.Warn("access store unreachable; deciding from the cache within the grace", "grace", a.cfg.StoreGrace, "err", err)
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

func (a *Authorizer) contact() {
	a.lastContact.Store(a.cfg.Now().UnixNano())
	if a.down.Swap(false) {
		a.log.Info("access store reachable again")
	}
}

// isAnswer reports whether err is the store's answer about the data rather
// than a failure to reach it.
func isAnswer(err error) bool {
	return errors.Is(err, acl.ErrNotFound) || errors.Is(err, acl.ErrInvalid) || errors.Is(err, acl.ErrConflict)
}

// SinceContact is how long ago the store last answered.
func (a *Authorizer) SinceContact() time.Duration {
	return a.cfg.Now().Sub(time.Unix(0, a.lastContact.Load()))
}

func (a *Authorizer) withinGrace() bool { return a.SinceContact() <= a.cfg.StoreGrace }

// Invalidate empties the cache; every event calls it.
func (a *Authorizer) Invalidate() {
	a.mu.Lock()
	a.gen.Add(1)
	clear(a.snaps)
	clear(a.reads)
	a.mu.Unlock()
}

// Live reports whether events reach Invalidate (SetLive).
func (a *Authorizer) Live() bool { return a.live.Load() }

// Down reports whether the last store call failed.
func (a *Authorizer) Down() bool { return a.down.Load() }

// Gen is the number of invalidations so far.
func (a *Authorizer) Gen() uint64 { return a.gen.Load() }

// SetLive says whether events reach Invalidate. Either way the cache is
// emptied: entries made while events were not flowing may be stale.
func (a *Authorizer) SetLive(live bool) {
	a.live.Store(live)
	a.Invalidate()
}

// StoreTimeout bounds one store read made for a decision.
func (a *Authorizer) StoreTimeout() time.Duration { return a.cfg.StoreTimeout }

// Grace is how long after the last store contact the cache may decide.
func (a *Authorizer) Grace() time.Duration { return a.cfg.StoreGrace }
