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

// ErrStoreUnavailable means the store could not be asked and the cache
// could not answer instead (nothing cached, or the grace has passed).
var ErrStoreUnavailable = errors.New("the access store is unreachable")

// Defaults of AuthzConfig.
const (
	DefaultStoreGrace   = 30 * time.Second
	DefaultStoreTimeout = 3 * time.Second
	// maxCacheEntries bounds each cache; a full cache is emptied, which
	// costs only store reads.
	maxCacheEntries = 50_000
)

// AuthzConfig configures an Authorizer.
type AuthzConfig struct {
	Store acl.Store
	// DisableSharing is the --disable-sharing flag.
	DisableSharing bool
	// StoreGrace is how long after the last successful store contact new
	// connections may still be decided from the cache.
	StoreGrace time.Duration
	// StoreTimeout bounds one store read made for a decision.
	StoreTimeout time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

func (c AuthzConfig) withDefaults() (AuthzConfig, error) {
	if c.Store == nil {
		return c, errors.New("authz config: Store is required")
	}
	if c.StoreGrace < 0 || c.StoreTimeout < 0 {
		return c, errors.New("authz config: StoreGrace and StoreTimeout must not be negative")
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
	cfg AuthzConfig
	log *slog.Logger

	// gen counts invalidations; a read that started before one is not
	// cached, and a session authorized before one is checked again.
	gen         atomic.Uint64
	live        atomic.Bool
	down        atomic.Bool
	lastContact atomic.Int64 // unix nanoseconds of the last successful store call

	mu    sync.Mutex
	snaps map[snapKey]*acl.Snapshot
	reads map[string]cachedRead
}

type snapKey struct {
	user string
	ws   acl.WorkspaceID
}

type cachedRead struct {
	v   any
	err error // an answer such as *acl.NotFoundError, cached like a value
}

// NewAuthorizer validates cfg. The cache starts not live.
func NewAuthorizer(cfg AuthzConfig) (*Authorizer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Authorizer{cfg: cfg, log: cfg.Logger, snaps: map[snapKey]*acl.Snapshot{}, reads: map[string]cachedRead{}}
	a.lastContact.Store(cfg.Now().UnixNano())
	return a, nil
}

// decision is the outcome of Decide.
type decision struct {
	acl.Decision
	// gen is the invalidation count the decision was made under.
	gen uint64
	// validUntil is when the snapshot behind it stops being valid (the
	// earliest grant expiry in it); zero when nothing in it expires.
	validUntil time.Time
	cached     bool
}

// Decide decides whether user may do action on ws: from a live cached
// snapshot that allows it, else from the store, else (store unreachable,
// within the grace) from whatever snapshot is cached. It fails with
// ErrStoreUnavailable when none of these can answer.
func (a *Authorizer) Decide(ctx context.Context, user string, ws acl.WorkspaceID, action acl.Action) (decision, error) {
	gen := a.gen.Load()
	k := snapKey{user, ws}
	if snap := a.cachedSnapshot(k); snap != nil {
		d := acl.Authorize(snap, user, action, ws)
		if (d.Allow && a.live.Load()) || (a.down.Load() && a.withinGrace()) {
			return decision{Decision: d, gen: gen, validUntil: snap.ValidUntil(), cached: true}, nil
		}
	}
	snap, err := a.Load(ctx, user, ws)
	if err != nil {
		if errors.Is(err, ErrStoreUnavailable) && a.withinGrace() {
			if snap := a.cachedSnapshot(k); snap != nil {
				d := acl.Authorize(snap, user, action, ws)
				return decision{Decision: d, gen: gen, validUntil: snap.ValidUntil(), cached: true}, nil
			}
		}
		return decision{}, err
	}
	a.mu.Lock()
	if a.gen.Load() == gen {
		if len(a.snaps) >= maxCacheEntries {
			clear(a.snaps)
		}
		a.snaps[k] = snap
	}
	a.mu.Unlock()
	return decision{Decision: acl.Authorize(snap, user, action, ws), gen: gen, validUntil: snap.ValidUntil()}, nil
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
	lctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	snap, err := acl.LoadSnapshot(lctx, a.cfg.Store, user, ws, a.cfg.Now(), a.cfg.DisableSharing)
	cancel()
	if err != nil {
		return nil, a.failed(ctx, err)
	}
	a.contact()
	return snap, nil
}

// Probe asks the store for something cheap, to learn whether it answers.
func (a *Authorizer) Probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	_, err := a.cfg.Store.GetSettings(pctx)
	cancel()
	if err != nil {
		return a.failed(ctx, err)
	}
	a.contact()
	return nil
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

// Gen is the number of invalidations so far.
func (a *Authorizer) Gen() uint64 { return a.gen.Load() }

// setLive says whether events reach Invalidate. Either way the cache is
// emptied: entries made while events were not flowing may be stale.
func (a *Authorizer) setLive(live bool) {
	a.live.Store(live)
	a.Invalidate()
}

// lookups returns a store whose identity and name lookups fall back to the
// cache while the store is unreachable. unavailable, when not nil, is set
// when a lookup could not be answered for that reason.
func (a *Authorizer) lookups(unavailable *atomic.Bool) acl.Store {
	return &lookupStore{Store: a.cfg.Store, a: a, unavailable: unavailable}
}

// lookupStore is the store as the SSH front door reads it to identify users
// and resolve names.
type lookupStore struct {
	acl.Store
	a           *Authorizer
	unavailable *atomic.Bool
}

func (s *lookupStore) UserByKeyFingerprint(ctx context.Context, fp string) (acl.User, error) {
	return cachedLookup(ctx, s, "key\x00"+fp, func(ctx context.Context) (acl.User, error) {
		return s.Store.UserByKeyFingerprint(ctx, fp)
	})
}

func (s *lookupStore) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	return cachedLookup(ctx, s, "token\x00"+hash, func(ctx context.Context) (acl.Token, error) {
		return s.Store.TokenByHash(ctx, hash)
	})
}

func (s *lookupStore) GetUser(ctx context.Context, name string) (acl.User, error) {
	return cachedLookup(ctx, s, "user\x00"+name, func(ctx context.Context) (acl.User, error) {
		return s.Store.GetUser(ctx, name)
	})
}

func (s *lookupStore) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (acl.Workspace, error) {
	return cachedLookup(ctx, s, "workspace\x00"+id.String(), func(ctx context.Context) (acl.Workspace, error) {
		return s.Store.GetWorkspace(ctx, id)
	})
}

func (s *lookupStore) WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error) {
	return cachedLookup(ctx, s, "shared\x00"+user, func(ctx context.Context) ([]acl.SharedWorkspace, error) {
		return s.Store.WorkspacesSharedWithUser(ctx, user)
	})
}

// cachedLookup asks the store (or, while it is known to be down, the cache
// first), remembers the answer, and falls back to the remembered answer
// when the store fails within the grace.
func cachedLookup[T any](ctx context.Context, s *lookupStore, key string, read func(context.Context) (T, error)) (T, error) {
	a := s.a
	if a.down.Load() && a.withinGrace() {
		if c, ok := a.cachedRead(key); ok {
			return c.v.(T), c.err
		}
	}
	gen := a.gen.Load()
	rctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	v, err := read(rctx)
	cancel()
	if err == nil || isAnswer(err) {
		a.contact()
		a.mu.Lock()
		if a.gen.Load() == gen {
			if len(a.reads) >= maxCacheEntries {
				clear(a.reads)
			}
			a.reads[key] = cachedRead{v: v, err: err}
		}
		a.mu.Unlock()
		return v, err
	}
	err = a.failed(ctx, err)
	if errors.Is(err, ErrStoreUnavailable) && a.withinGrace() {
		if c, ok := a.cachedRead(key); ok {
			return c.v.(T), c.err
		}
	}
	if s.unavailable != nil && errors.Is(err, ErrStoreUnavailable) {
		s.unavailable.Store(true)
	}
	var zero T
	return zero, err
}

func (a *Authorizer) cachedRead(key string) (cachedRead, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.reads[key]
	return c, ok
}
