package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// closedURL is an http URL on a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

var errAdvice = errors.New("advice")

func TestGiveUpReturnsTheExplainedDialError(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []bool
	)
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, ClientConfig{
		URL: closedURL(t), Token: "t", Handler: func(net.Conn, Header) {}, Logger: logs.logger(),
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		ExplainDialError: func(err error) error { return fmt.Errorf("%w: %w", err, errAdvice) },
		GiveUp: func(err error, wasUp bool) bool {
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(err, errAdvice) {
				t.Errorf("GiveUp got %v, not the explained error", err)
			}
			calls = append(calls, wasUp)
			return len(calls) == 3
		},
	})
	if !errors.Is(err, errAdvice) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Run = %v, want the explained dial error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(calls) != "[false false false]" {
		t.Errorf("GiveUp asked with wasUp %v, want three times false", calls)
	}
	// The two retried failures were logged explained.
	if n := strings.Count(logs.String(), "advice"); n != 2 {
		t.Errorf("%d explained failures logged, want 2:\n%s", n, logs)
	}
}

func TestGiveUpKnowsATunnelWasUp(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []bool
	)
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	a := startAgent(t, g.url, "tok", func(c *ClientConfig) {
		c.GiveUp = func(_ error, wasUp bool) bool {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, wasUp)
			return false
		}
	})
	a.waitConnect(t)
	g.stop()
	testutil.Eventually(t, "failed dials after the tunnel was up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(calls) >= 2
	})
	a.stop(t)
	mu.Lock()
	defer mu.Unlock()
	for i, up := range calls {
		if !up {
			t.Fatalf("GiveUp call %d: wasUp false after a tunnel was up (%v)", i, calls)
		}
	}
}
