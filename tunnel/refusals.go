package tunnel

import "time"

const (
	// maxRefusals bounds the refusals a Registry remembers; past it the
	// oldest is forgotten. Keys are authenticated workspaces, so this is
	// only a backstop.
	maxRefusals = 4096
	// refusalLogEvery spaces the WARNs about one key's refused agent: an
	// old agent retries every few seconds forever.
	refusalLogEvery = time.Minute
)

// refusal is the last refused tunnel of a key whose agent authenticated.
type refusal struct {
	msg        string
	at         time.Time
	logged     time.Time // last WARN about key
	suppressed int       // refusals since, not logged
}

// refuse records that key's authenticated agent was refused for msg. It
// reports whether to log it now, and how many refusals of key went
// unlogged since the last time.
func (r *Registry) refuse(key, msg string) (logNow bool, suppressed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.now()
	f := r.refusals[key]
	if f == nil {
		if len(r.refusals) >= maxRefusals {
			r.forgetOldestRefusal()
		}
		f = &refusal{}
		r.refusals[key] = f
	}
	f.msg, f.at = msg, now
	if !f.logged.IsZero() && now.Sub(f.logged) < refusalLogEvery {
		f.suppressed++
		return false, 0
	}
	suppressed, f.suppressed, f.logged = f.suppressed, 0, now
	return true, suppressed
}

// forgetOldestRefusal drops the least recent refusal; r.mu is held.
func (r *Registry) forgetOldestRefusal() {
	var oldest string
	var at time.Time
	for k, f := range r.refusals {
		if oldest == "" || f.at.Before(at) {
			oldest, at = k, f.at
		}
	}
	delete(r.refusals, oldest)
}

// LastRefusal returns why and when this gateway last refused key's agent
// after it authenticated (today: it speaks another tunnel protocol
// version), until an agent of key connects. ok is false when there is
// none.
func (r *Registry) LastRefusal(key string) (msg string, at time.Time, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.refusals[key]
	if f == nil {
		return "", time.Time{}, false
	}
	return f.msg, f.at, true
}
