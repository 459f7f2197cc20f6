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
		mu       sync.Mutex
		attempts []int
	)
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, ClientConfig{
		URL: closedURL(t), Token: "t", Handler: func(net.Conn, Header) {}, Logger: logs.logger(),
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		ExplainDialError: func(err error) error { return fmt.Errorf("%w: %w", err, errAdvice) },
		GiveUp: func(err error, attempt int) bool {
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(err, errAdvice) {
				t.Errorf("GiveUp got %v, not the explained error", err)
			}
			attempts = append(attempts, attempt)
			return attempt == 3
		},
	})
	if !errors.Is(err, errAdvice) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Run = %v, want the explained dial error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("attempts %v, want [1 2 3]", attempts)
	}
	// The two retried failures were logged explained.
	if n := strings.Count(logs.String(), "advice"); n != 2 {
		t.Errorf("%d explained failures logged, want 2:\n%s", n, logs)
	}
}
