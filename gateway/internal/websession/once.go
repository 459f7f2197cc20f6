package websession

import (
	"sync"
	"time"
)

// Once remembers used code IDs until they expire: a code is single-use on
// the replica that redeems it. Codes live 60 s at most, so the set stays
// small; expired IDs are dropped as new ones come in.
type Once struct {
	now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time
}

// NewOnce returns an empty replay cache; now is the clock.
func NewOnce(now func() time.Time) *Once {
	return &Once{now: now, seen: map[string]time.Time{}}
}

// Use reports whether id is seen for the first time, and remembers it
// until until.
func (o *Once) Use(id string, until time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	if len(o.seen) >= 64 {
		for k, exp := range o.seen {
			if !now.Before(exp) {
				delete(o.seen, k)
			}
		}
	}
	if exp, ok := o.seen[id]; ok && now.Before(exp) {
		return false
	}
	o.seen[id] = until
	return true
}
