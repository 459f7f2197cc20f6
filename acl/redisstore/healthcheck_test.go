package redisstore_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

// blackhole is a loopback TCP proxy whose existing connections can be made
// to swallow everything without closing, like a peer that silently went
// away; connections made later pass through normally.
type blackhole struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	dead   []*atomic.Bool
	wg     sync.WaitGroup
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, target: target}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) addr() string { return b.ln.Addr().String() }

func (b *blackhole) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", b.target)
		if err != nil {
			c.Close()
			continue
		}
		dead := &atomic.Bool{}
		b.mu.Lock()
		b.conns = append(b.conns, c, up)
		b.dead = append(b.dead, dead)
		b.mu.Unlock()
		b.wg.Add(2)
		go b.pipe(up, c, dead)
		go b.pipe(c, up, dead)
	}
}

// pipe copies src to dst until src fails; once dead it discards.
func (b *blackhole) pipe(dst, src net.Conn, dead *atomic.Bool) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !dead.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = dst.Close()
			return
		}
	}
}

// swallow makes every current connection a black hole.
func (b *blackhole) swallow() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.dead {
		d.Store(true)
	}
}

func (b *blackhole) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// TestResyncAfterSilentDrop covers a connection that stays open but
// carries nothing: only the health-check PING can notice it.
func TestResyncAfterSilentDrop(t *testing.T) {
	srv := testredis.Start(t)
	ctx := t.Context()
	hole := newBlackhole(t, srv.Addr())
	const interval = 100 * time.Millisecond
	sub := open(t, redisstore.Config{URL: "redis://" + hole.addr(), Prefix: "h:", HealthCheckInterval: interval})
	writer := open(t, redisstore.Config{URL: srv.URL(), Prefix: "h:"})
	ch, err := sub.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.CreateUser(ctx, acl.User{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := writer.SetUserSuspended(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	nextIs(t, ch, acl.EventUserSuspended)

	hole.swallow()
	// Lost while the connection is silent: the resync stands in for it.
	if err := writer.SetUserSiteAdmin(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nextIs(t, ch, acl.EventResync)
	if d := time.Since(start); d > 20*interval+time.Second {
		t.Fatalf("resync after %v", d)
	}
	if err := writer.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	nextIs(t, ch, acl.EventUserDeleted)
}
