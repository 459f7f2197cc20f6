package tunnel

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// One live tunnel per workspace. A second agent that authenticates while
// the first one's tunnel is alive is refused: with a copied token it would
// otherwise take the workspace's sessions (and forwarded keys) away from
// the real agent without anyone noticing. A tunnel whose agent stopped
// answering (its machine died without closing the connection) would block
// the real agent's reconnect until yamux's keepalive gives up, so a silent
// tunnel may be replaced — after TakeoverAfter without a byte from its
// agent and an unanswered ping — and the replacement is recorded for the
// owner (LastTakeover).

var (
	// errTunnelBusy: the key has a live tunnel whose agent answers.
	errTunnelBusy = errors.New("another agent is connected for this workspace")
	// errRegistryClosed: the gateway is shutting down.
	errRegistryClosed = errors.New("gateway shutting down")
)

const (
	defaultTakeoverAfter = 15 * time.Second
	// defaultTakeoverPing is how long a silent tunnel's agent has to
	// answer a ping before it is replaced.
	defaultTakeoverPing = 3 * time.Second
)

// heardClock is when a tunnel's agent was last heard from: any bytes read
// from its connection, keepalive pongs included.
type heardClock struct{ nanos atomic.Int64 }

func newHeardClock() *heardClock {
	c := &heardClock{}
	c.stamp()
	return c
}

func (c *heardClock) stamp() { c.nanos.Store(time.Now().UnixNano()) }

func (c *heardClock) silentFor() time.Duration {
	return time.Since(time.Unix(0, c.nanos.Load()))
}

// admit decides whether a new tunnel from remote may serve key. It returns
// the live tunnel the new one replaces (nil when key has none), or
// errTunnelBusy while that tunnel's agent answers.
func (r *Registry) admit(key string) (replace *agentTunnel, err error) {
	old := r.lookup(key)
	if old == nil || old.sess.IsClosed() {
		return nil, nil
	}
	if old.heard.silentFor() < r.cfg.TakeoverAfter {
		// Alive as far as we know; a ping refreshes that, and finds a
		// dead one sooner for the agent's next try.
		old.probe()
		return nil, errTunnelBusy
	}
	if answered(old.sess, r.cfg.takeoverPing) {
		return nil, errTunnelBusy
	}
	return old, nil
}

// probe pings t's agent in the background, one ping at a time. A pong
// stamps t.heard; a dead connection leaves it as it was. The ping ends
// with the session at the latest.
func (t *agentTunnel) probe() {
	if !t.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer t.probing.Store(false)
		_, _ = t.sess.Ping()
	}()
}

// answered reports whether sess's peer answers a ping within d. A late
// ping goroutine ends when its pong arrives, yamux gives up on it, or the
// session closes.
func answered(sess *yamux.Session, d time.Duration) bool {
	done := make(chan error, 1)
	go func() {
		_, err := sess.Ping()
		done <- err
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err == nil
	case <-t.C:
		return false
	}
}

// tookOver records, for the owner, that t replaced the silent tunnel old.
func (r *Registry) tookOver(t, old *agentTunnel) {
	msg := fmt.Sprintf("the tunnel from %s was silent for %s and was replaced by an agent from %s",
		old.remote, old.heard.silentFor().Round(time.Second), t.remote)
	r.log.Warn("agent tunnel taken over: "+msg, "workspace", t.key, "old_remote", old.remote, "remote", t.remote)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.takeovers) >= maxRefusals {
		for k := range r.takeovers { // any: this is only a backstop
			delete(r.takeovers, k)
			break
		}
	}
	r.takeovers[t.key] = notice{msg: msg, at: r.cfg.now()}
}

// notice is something about a key's agent the owner should see.
type notice struct {
	msg string
	at  time.Time
}

// LastTakeover says when and how this gateway last replaced key's silent
// tunnel with another agent's; ok is false when it never did.
func (r *Registry) LastTakeover(key string) (msg string, at time.Time, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.takeovers[key]
	return n.msg, n.at, ok
}
