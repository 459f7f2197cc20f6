package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

const (
	reconnectMin     = 50 * time.Millisecond
	reconnectMax     = 2 * time.Second
	subscribeTimeout = 5 * time.Second
)

func (s *Store) channel() string { return s.cfg.Prefix + "events" }

// Subscribe implements acl.Store. It returns once Redis has confirmed the
// subscription, so every write after it returns is delivered.
func (s *Store) Subscribe(ctx context.Context) (<-chan acl.Event, error) {
	select {
	case <-s.done:
		return nil, errors.New("redisstore: store is closed")
	default:
	}
	ps, err := s.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	// sctx also ends when the store closes, so that a reconnect in
	// progress gives up at once.
	sctx, cancel := context.WithCancel(ctx)
	x := &subscription{s: s, ctx: sctx, cancel: cancel, sub: storekit.NewSub(s.cfg.EventBuffer), ps: ps}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		x.sub.Run(sctx, s.done, s.cfg.Now, s.cfg.Logger)
		x.stop()
	}()
	go func() {
		defer s.wg.Done()
		x.read()
	}()
	return x.sub.Events(), nil
}

// subscribe opens a pub/sub connection and waits for the confirmation.
func (s *Store) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
	defer cancel()
	ps := s.rdb.Subscribe(ctx, s.channel())
	msg, err := ps.Receive(ctx)
	if err == nil {
		if sub, ok := msg.(*redis.Subscription); !ok || sub.Kind != "subscribe" {
			err = fmt.Errorf("unexpected first message %T", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("redisstore: subscribe %s: %w", s.channel(), err)
	}
	return ps, nil
}

// subscription is one subscriber's pub/sub connection, replaced whenever
// it fails.
type subscription struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	sub    *storekit.Sub

	mu      sync.Mutex
	ps      *redis.PubSub
	stopped bool
}

// stop ends the subscription's context and closes the current
// connection, which ends read.
func (x *subscription) stop() {
	x.cancel()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.stopped = true
	_ = x.ps.Close()
}

// swap installs a new connection; false (and ps closed) once stopped.
func (x *subscription) swap(ps *redis.PubSub) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopped {
		_ = ps.Close()
		return false
	}
	x.ps = ps
	return true
}

func (x *subscription) ended() bool {
	select {
	case <-x.ctx.Done():
		return true
	case <-x.s.done:
		return true
	default:
		return false
	}
}

// read delivers events until the subscription ends, reconnecting when the
// connection fails and then owing the reader a resync.
func (x *subscription) read() {
	log := x.s.cfg.Logger.With("channel", x.s.channel())
	x.mu.Lock()
	ps := x.ps
	x.mu.Unlock()
	for {
		err := x.receive(ps)
		if x.ended() {
			return
		}
		log.Warn("redisstore: event feed lost; reconnecting", "err", err)
		_ = ps.Close()
		var ok bool
		if ps, ok = x.reconnect(); !ok {
			return
		}
		log.Info("redisstore: event feed back; subscribers resync")
		x.sub.Deliver(acl.Event{Kind: acl.EventResync, At: x.s.cfg.Now().UTC()})
	}
}

// reconnect subscribes again with backoff; false when the subscription
// ended first.
func (x *subscription) reconnect() (*redis.PubSub, bool) {
	wait := reconnectMin
	for {
		t := time.NewTimer(wait)
		select {
		case <-x.ctx.Done():
			t.Stop()
			return nil, false
		case <-x.s.done:
			t.Stop()
			return nil, false
		case <-t.C:
		}
		ps, err := x.s.subscribe(x.ctx)
		if err == nil {
			return ps, x.swap(ps)
		}
		wait = min(2*wait, reconnectMax)
	}
}

// receive delivers messages from ps until it fails. A quiet connection is
// PINGed; a PING unanswered for a whole interval counts as a failure.
func (x *subscription) receive(ps *redis.PubSub) error {
	interval := x.s.cfg.HealthCheckInterval
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(context.Background(), interval)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
			if pinged {
				return fmt.Errorf("no answer to PING within %v", interval)
			}
			if err := ps.Ping(context.Background()); err != nil {
				return err
			}
			pinged = true
			continue
		}
		pinged = false // any traffic shows the connection is alive
		switch m := msg.(type) {
		case *redis.Message:
			var ev acl.Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				x.s.cfg.Logger.Warn("redisstore: undecodable event; subscribers resync", "err", err)
				ev = acl.Event{Kind: acl.EventResync, At: x.s.cfg.Now().UTC()}
			}
			x.sub.Deliver(ev)
		case *redis.Subscription:
			// go-redis resubscribed on a new connection by itself, so
			// messages may have been lost in between.
			if m.Kind == "subscribe" {
				x.sub.Deliver(acl.Event{Kind: acl.EventResync, At: x.s.cfg.Now().UTC()})
			}
		}
	}
}
