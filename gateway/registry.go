package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// dropper ends one live connection with a message for its user: an SSH
// proxy, or an app request (appConn).
type dropper interface{ drop(msg string) }

// liveSession is one registered connection and what revocation needs to
// know about it.
type liveSession struct {
	p    dropper
	info SessionInfo
	// gen is the authorizer's invalidation count when the connection was
	// authorized: a later count means an event may have been missed.
	gen uint64
	// validUntil is when the access it rests on expires (zero: never);
	// re-checks update it.
	validUntil atomic.Int64 // unix nanoseconds, 0 for none
	dropping   atomic.Bool
}

func (ls *liveSession) setValidUntil(t time.Time) {
	if t.IsZero() {
		ls.validUntil.Store(0)
		return
	}
	ls.validUntil.Store(t.UnixNano())
}

func (ls *liveSession) expiry() time.Time {
	n := ls.validUntil.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// drop ends the connection with "wsgate: msg" on each open session's
// stderr; only the first call does anything. It blocks until the
// connection is closed (bounded by dropWriteTimeout).
func (ls *liveSession) drop(msg string) bool {
	if !ls.dropping.CompareAndSwap(false, true) {
		return false
	}
	ls.p.drop(msg)
	return true
}

// index maps one attribute to the sessions that have it.
type index[K comparable] map[K]map[*liveSession]struct{}

func (ix index[K]) add(k K, ls *liveSession) {
	set := ix[k]
	if set == nil {
		set = map[*liveSession]struct{}{}
		ix[k] = set
	}
	set[ls] = struct{}{}
}

func (ix index[K]) remove(k K, ls *liveSession) {
	if set := ix[k]; set != nil {
		delete(set, ls)
		if len(set) == 0 {
			delete(ix, k)
		}
	}
}

func (ix index[K]) list(k K) []*liveSession {
	set := ix[k]
	out := make([]*liveSession, 0, len(set))
	for ls := range set {
		out = append(out, ls)
	}
	return out
}

// registry indexes the live connections of one SSH server by everything an
// event can name: workspace, user, key fingerprint, API token and
// certificate serial.
type registry struct {
	mu       sync.Mutex
	closed   bool
	byID     map[string]*liveSession
	byWS     index[acl.WorkspaceID]
	byUser   index[string]
	byKey    index[string] // sessions made with a stored key (not a certificate)
	byToken  index[string]
	bySerial index[uint64]
	// onCount, when set, is told the number of sessions after each change.
	onCount func(int)
}

func newRegistry() *registry {
	return &registry{
		byID:     map[string]*liveSession{},
		byWS:     index[acl.WorkspaceID]{},
		byUser:   index[string]{},
		byKey:    index[string]{},
		byToken:  index[string]{},
		bySerial: index[uint64]{},
	}
}

// add registers ls; false once the registry is closed.
func (r *registry) add(ls *liveSession) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	i := ls.info
	r.byID[i.ID] = ls
	r.byWS.add(i.Workspace, ls)
	r.byUser.add(i.User, ls)
	switch {
	case i.TokenID != "":
		r.byToken.add(i.TokenID, ls)
	case i.Cert:
		r.bySerial.add(i.CertSerial, ls)
	case i.KeyFingerprint != "":
		r.byKey.add(i.KeyFingerprint, ls)
	}
	r.counted()
	return true
}

func (r *registry) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ls := r.byID[id]
	if ls == nil {
		return
	}
	i := ls.info
	delete(r.byID, id)
	r.byWS.remove(i.Workspace, ls)
	r.byUser.remove(i.User, ls)
	r.byToken.remove(i.TokenID, ls)
	r.bySerial.remove(i.CertSerial, ls)
	r.byKey.remove(i.KeyFingerprint, ls)
	r.counted()
}

func (r *registry) counted() {
	if r.onCount != nil {
		r.onCount(len(r.byID))
	}
}

func (r *registry) setOnCount(f func(int)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onCount = f
	f(len(r.byID))
}

// close refuses further sessions and returns the live ones.
func (r *registry) close() []*liveSession {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.all()
}

func (r *registry) get(id string) *liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

func (r *registry) all() []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*liveSession, 0, len(r.byID))
	for _, ls := range r.byID {
		out = append(out, ls)
	}
	return out
}

func (r *registry) onWorkspace(ws acl.WorkspaceID) []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byWS.list(ws)
}

func (r *registry) ofUser(user string) []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byUser.list(user)
}

func (r *registry) withKey(fingerprint string) []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byKey.list(fingerprint)
}

func (r *registry) withToken(id string) []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byToken.list(id)
}

func (r *registry) withCertSerial(serial uint64) []*liveSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bySerial.list(serial)
}

// nextExpiry is the earliest session expiry after t, zero when none.
func (r *registry) nextExpiry(after time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	for _, ls := range r.byID {
		e := ls.expiry()
		if e.IsZero() || !e.After(after) {
			continue
		}
		if next.IsZero() || e.Before(next) {
			next = e
		}
	}
	return next
}
