package tunnel

import (
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/hashicorp/yamux"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestLiveStreamsWake: ending the set wakes every read blocked on its
// streams with the deadline (yamux's ErrTimeout) — the way out of yamux's
// shutdown spin — and a stream added after the end is woken at once.
func TestLiveStreamsWake(t *testing.T) {
	cc, sc := testutil.TCPPair(t)
	cfg := yamuxConfig(defaultKeepAlive, slog.New(slog.DiscardHandler))
	client, err := yamux.Client(cc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := yamux.Server(sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	live := newLiveStreams()
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		ys, err := client.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		s := newStream(ys, live)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Read(make([]byte, 1))
			errs <- err
		}()
	}
	live.end() // the session itself is still up: only the wake can end the reads
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, yamux.ErrTimeout) {
			t.Fatalf("blocked read ended with %v, want yamux.ErrTimeout", err)
		}
	}
	ys, err := client.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	late := newStream(ys, live)
	if _, err := late.Read(make([]byte, 1)); !errors.Is(err, yamux.ErrTimeout) {
		t.Fatalf("stream added after the end: %v", err)
	}
}

// TestWatchStreamsEndsWithSession: the set ends when its session does,
// even when nothing of this package closed it.
func TestWatchStreamsEndsWithSession(t *testing.T) {
	cc, _ := testutil.TCPPair(t)
	client, err := yamux.Client(cc, yamuxConfig(defaultKeepAlive, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	live := newLiveStreams()
	live.watch(client)
	_ = client.Close()
	testutil.Eventually(t, "live streams ended with the session", func() bool {
		live.mu.Lock()
		defer live.mu.Unlock()
		return live.ended
	})
}
