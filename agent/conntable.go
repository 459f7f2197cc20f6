package agent

import "sync"

// connTable finds a live user connection by the gateway's id for it, so
// that the connection's channel streams reach it.
type connTable struct {
	mu sync.Mutex
	m  map[string]*userConn
}

// add registers c under its session id; false when the id is taken.
func (t *connTable) add(c *userConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.m[c.hdr.SessionID]; dup {
		return false
	}
	if t.m == nil {
		t.m = make(map[string]*userConn)
	}
	t.m[c.hdr.SessionID] = c
	return true
}

func (t *connTable) remove(c *userConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[c.hdr.SessionID] == c {
		delete(t.m, c.hdr.SessionID)
	}
}

// lookup returns the connection with that id, only if it is user's: a
// channel stream cannot join another user's connection.
func (t *connTable) lookup(id, user string) *userConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.m[id]
	if c == nil || c.hdr.User != user {
		return nil
	}
	return c
}
