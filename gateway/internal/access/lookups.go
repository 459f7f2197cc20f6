package access

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/wsgate/wsgate/acl"
)

// Lookups are the store reads that identify users and resolve names, as the
// front doors make them: while the store is unreachable they fall back, for
// the grace, to the answers remembered from earlier reads.
type Lookups struct {
	a *Authorizer
	// unavailable, when set, is set when a lookup could not be answered
	// because the store is unreachable.
	unavailable *atomic.Bool
}

// Lookups returns the cached lookups; unavailable, when not nil, is set
// when one of them could not be answered for lack of the store.
func (a *Authorizer) Lookups(unavailable *atomic.Bool) *Lookups {
	return &Lookups{a: a, unavailable: unavailable}
}

// UserByKeyFingerprint finds the user who holds the key.
func (l *Lookups) UserByKeyFingerprint(ctx context.Context, fp string) (acl.User, error) {
	return cachedLookup(ctx, l, "key\x00"+fp, func(ctx context.Context) (acl.User, error) {
		return l.a.cfg.Store.UserByKeyFingerprint(ctx, fp)
	})
}

// TokenByHash finds an API token by its hash.
func (l *Lookups) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	return cachedLookup(ctx, l, "token\x00"+hash, func(ctx context.Context) (acl.Token, error) {
		return l.a.cfg.Store.TokenByHash(ctx, hash)
	})
}

// GetUser reads a user.
func (l *Lookups) GetUser(ctx context.Context, name string) (acl.User, error) {
	return cachedLookup(ctx, l, "user\x00"+name, func(ctx context.Context) (acl.User, error) {
		return l.a.cfg.Store.GetUser(ctx, name)
	})
}

// GetWorkspace reads a workspace.
func (l *Lookups) GetWorkspace(ctx context.Context, id acl.WorkspaceID) (acl.Workspace, error) {
	return cachedLookup(ctx, l, "workspace\x00"+id.String(), func(ctx context.Context) (acl.Workspace, error) {
		return l.a.cfg.Store.GetWorkspace(ctx, id)
	})
}

// WorkspacesSharedWithUser lists the workspaces user holds a grant on.
func (l *Lookups) WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error) {
	return cachedLookup(ctx, l, "shared\x00"+user, func(ctx context.Context) ([]acl.SharedWorkspace, error) {
		return l.a.cfg.Store.WorkspacesSharedWithUser(ctx, user)
	})
}

// cachedLookup asks the store (or, while it is known to be down, the cache
// first), remembers the answer, and falls back to the remembered answer
// when the store fails within the grace.
func cachedLookup[T any](ctx context.Context, l *Lookups, key string, read func(context.Context) (T, error)) (T, error) {
	a := l.a
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
		a.remember(gen, key, cachedRead{v: v, err: err})
		return v, err
	}
	err = a.failed(ctx, err)
	if errors.Is(err, ErrStoreUnavailable) && a.withinGrace() {
		if c, ok := a.cachedRead(key); ok {
			return c.v.(T), c.err
		}
	}
	if l.unavailable != nil && errors.Is(err, ErrStoreUnavailable) {
		l.unavailable.Store(true)
	}
	var zero T
	return zero, err
}

// remember caches a read made under invalidation count gen, unless an
// invalidation came since.
func (a *Authorizer) remember(gen uint64, key string, c cachedRead) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen.Load() != gen {
		return
	}
	if len(a.reads) >= maxCacheEntries {
		clear(a.reads)
	}
	a.reads[key] = c
}

func (a *Authorizer) cachedRead(key string) (cachedRead, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.reads[key]
	return c, ok
}
