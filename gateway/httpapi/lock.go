package httpapi

import (
	"sync"

	"github.com/wsgate/wsgate/acl"
)

// keyedMutex serializes work per workspace without a lock per workspace
// forever: entries live only while someone holds or waits for them.
type keyedMutex struct {
	mu      sync.Mutex
	entries map[acl.WorkspaceID]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks id and returns its unlock function.
func (k *keyedMutex) lock(id acl.WorkspaceID) (unlock func()) {
	k.mu.Lock()
	if k.entries == nil {
		k.entries = map[acl.WorkspaceID]*keyedEntry{}
	}
	e := k.entries[id]
	if e == nil {
		e = &keyedEntry{}
		k.entries[id] = e
	}
	e.refs++
	k.mu.Unlock()

	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.entries, id)
		}
		k.mu.Unlock()
	}
}
