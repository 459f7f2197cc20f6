package sessions

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Registry.
type Config struct {
	// Gen is the access invalidation count now (access.Authorizer.Gen). A
	// session authorized under an older count is queued for a re-check
	// when tracked (Stale).
	Gen func() uint64
	// Metrics is where wsgate_sessions_active is registered; nil keeps it
	// unregistered.
	Metrics prometheus.Registerer
	// OnTrack, when set, is told of each session tracked, outside the
	// registry's lock; it must not block (agent key exposure).
	OnTrack func(Info)
}

// Registry indexes the live sessions of one gateway by everything an event
// can name: workspace, user, key fingerprint, API token and certificate
// serial.
type Registry struct {
	gen     func() uint64
	active  prometheus.Gauge
	onTrack func(Info)

	mu       sync.Mutex
	closed   bool
	byID     map[string]*Session
	byWS     index[string] // workspace UID
	byUser   index[string]
	byKey    index[string] // sessions made with a stored key (not a certificate)
	byToken  index[string]
	bySerial index[uint64]
	stale    []*Session

	staleKick  chan struct{} // cap 1: stale holds sessions
	expiryKick chan struct{} // cap 1: a session with an expiry was tracked

	tell *tellFirst
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg Config) (*Registry, error) {
	if cfg.Gen == nil {
		return nil, errors.New("sessions config: Gen is required")
	}
	active := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wsgate_sessions_active",
		Help: "Live SSH connections and app requests (upgraded connections included) proxied to workspaces on this replica.",
	})
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(active); err != nil {
			return nil, fmt.Errorf("sessions metrics: %w", err)
		}
	}
	return &Registry{
		gen: cfg.Gen, active: active, onTrack: cfg.OnTrack,
		byID: map[string]*Session{}, byWS: index[string]{}, byUser: index[string]{},
		byKey: index[string]{}, byToken: index[string]{}, bySerial: index[uint64]{},
		staleKick: make(chan struct{}, 1), expiryKick: make(chan struct{}, 1),
		tell: newTellFirst(MaxTeardownDelay),
	}, nil
}

// Track registers s; false once the registry is closed. A session
// authorized before the latest invalidation may have missed the event
// behind it, so it is queued for a re-check.
func (r *Registry) Track(s *Session) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	i := s.Info
	s.reg.Store(r)
	r.byID[i.ID] = s
	r.byWS.add(i.WorkspaceUID, s)
	r.byUser.add(i.User, s)
	switch {
	case i.TokenID != "":
		r.byToken.add(i.TokenID, s)
	case i.Cert:
		r.bySerial.add(i.CertSerial, s)
	case i.KeyFingerprint != "":
		r.byKey.add(i.KeyFingerprint, s)
	}
	stale := r.gen() != s.gen
	r.active.Set(float64(len(r.byID)))
	r.mu.Unlock()
	if stale {
		r.Recheck(s)
	}
	if !s.ValidUntil().IsZero() || !s.Info.Expires.IsZero() {
		kick(r.expiryKick)
	}
	if r.onTrack != nil {
		r.onTrack(i)
	}
	return true
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Untrack removes s.
func (r *Registry) Untrack(s *Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[s.Info.ID] != s {
		return
	}
	i := s.Info
	delete(r.byID, i.ID)
	r.byWS.remove(i.WorkspaceUID, s)
	r.byUser.remove(i.User, s)
	r.byToken.remove(i.TokenID, s)
	r.bySerial.remove(i.CertSerial, s)
	r.byKey.remove(i.KeyFingerprint, s)
	r.active.Set(float64(len(r.byID)))
}

// Recheck queues sessions for a re-check (Stale, TakeStale).
func (r *Registry) Recheck(ss ...*Session) {
	r.mu.Lock()
	r.stale = append(r.stale, ss...)
	r.mu.Unlock()
	kick(r.staleKick)
}

// Stale is signalled when sessions tracked after an invalidation wait for
// their re-check; TakeStale returns them.
func (r *Registry) Stale() <-chan struct{} { return r.staleKick }

// TakeStale returns and forgets the sessions queued for a re-check.
func (r *Registry) TakeStale() []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.stale
	r.stale = nil
	return out
}

// Expiring is signalled when a session whose access expires is tracked.
func (r *Registry) Expiring() <-chan struct{} { return r.expiryKick }

// Close refuses further sessions and returns the live ones.
func (r *Registry) Close() []*Session {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return r.All()
}

// DropAll closes the registry and drops every live session with msg, in
// parallel, waiting at most wait for each.
func (r *Registry) DropAll(msg string, wait time.Duration) {
	var wg sync.WaitGroup
	for _, s := range r.Close() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Drop(msg, wait)
		}()
	}
	wg.Wait()
}

// HoldTeardown makes the teardown of dropped sessions wait (AwaitTeardown)
// until release is called: a revoker deciding whom to drop holds it, so
// that every user to be dropped is told before the first connection is
// torn down. Each session Cut holds it until it is Told.
func (r *Registry) HoldTeardown() (release func()) { return r.tell.hold() }

// AwaitTeardown is called by an owner that has told its user why the
// session ends, before it tears the connection down: it waits until no
// dropped session is left untold and no HoldTeardown is held, or until
// MaxTeardownDelay after the first of them was taken.
func (r *Registry) AwaitTeardown() { r.tell.wait() }

// AwaitUserClose is called by the owner of a dropped session that has told
// its user and sent the end of the stream, before it says Told: it waits
// until closed is closed (the user's client has closed its side), or until
// MaxTeardownDelay after the storm began. Teardowns thus wait until the
// users of a mass drop have read their messages, not only until they were
// sent: each client's reaction then has its connection whole (the message
// is never lost to a reset) and no teardown competes with it.
func (r *Registry) AwaitUserClose(closed <-chan struct{}) { r.tell.within(closed) }

// Get returns the session with id, nil when there is none.
func (r *Registry) Get(id string) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// Len is the number of live sessions.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// All returns every live session.
func (r *Registry) All() []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Session, 0, len(r.byID))
	for _, s := range r.byID {
		out = append(out, s)
	}
	return out
}

// Connections lists the live SSH connections (not app requests), oldest
// first; with a non-empty uid, only those to that workspace.
func (r *Registry) Connections(uid string) []Info {
	var live []*Session
	if uid != "" {
		live = r.OnWorkspace(uid)
	} else {
		live = r.All()
	}
	out := make([]Info, 0, len(live))
	for _, s := range live {
		if s.Info.AppPort == 0 {
			out = append(out, s.Info)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// OnWorkspace returns the sessions to the workspace with uid.
func (r *Registry) OnWorkspace(uid string) []*Session { return list(r, r.byWS, uid) }

// OfUser returns the sessions of user.
func (r *Registry) OfUser(user string) []*Session { return list(r, r.byUser, user) }

// WithKey returns the sessions made with the stored key fingerprint.
func (r *Registry) WithKey(fingerprint string) []*Session { return list(r, r.byKey, fingerprint) }

// WithToken returns the sessions opened with the API token id.
func (r *Registry) WithToken(id string) []*Session { return list(r, r.byToken, id) }

// WithCertSerial returns the sessions made with a certificate of serial.
func (r *Registry) WithCertSerial(serial uint64) []*Session { return list(r, r.bySerial, serial) }

func list[K comparable](r *Registry, ix index[K], k K) []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ix.list(k)
}

// NextExpiry is the earliest session expiry after t, zero when none: of
// the access a session rests on, or of the credential it was opened with.
func (r *Registry) NextExpiry(after time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	for _, s := range r.byID {
		for _, e := range [2]time.Time{s.ValidUntil(), s.Info.Expires} {
			if e.IsZero() || !e.After(after) {
				continue
			}
			if next.IsZero() || e.Before(next) {
				next = e
			}
		}
	}
	return next
}

// index maps one attribute to the sessions that have it.
type index[K comparable] map[K]map[*Session]struct{}

func (ix index[K]) add(k K, s *Session) {
	set := ix[k]
	if set == nil {
		set = map[*Session]struct{}{}
		ix[k] = set
	}
	set[s] = struct{}{}
}

func (ix index[K]) remove(k K, s *Session) {
	if set := ix[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(ix, k)
		}
	}
}

func (ix index[K]) list(k K) []*Session {
	set := ix[k]
	out := make([]*Session, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	return out
}
