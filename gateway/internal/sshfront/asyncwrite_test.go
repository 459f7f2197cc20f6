package sshfront

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestAsyncWriterKeepsOrderAndFlushesOnClose: writes reach the socket whole
// and in order, and Close sends what is still queued before closing.
func TestAsyncWriterKeepsOrderAndFlushesOnClose(t *testing.T) {
	c, s := testutil.TCPPair(t)
	w := newAsyncWriter(c)
	var want bytes.Buffer
	for i := range 200 {
		p := bytes.Repeat([]byte{byte(i)}, 1+i*97%5000)
		want.Write(p)
		if n, err := w.Write(p); err != nil || n != len(p) {
			t.Fatalf("write %d: %d %v", i, n, err)
		}
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(s)
		got <- b
	}()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("read %d bytes, want %d in order", len(b), want.Len())
	}
	if _, err := w.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// gatedConn counts its writes and holds the first until open is closed;
// entered is closed when the first began.
type gatedConn struct {
	net.Conn
	entered, open chan struct{}
	mu            sync.Mutex
	writes        int
}

func (g *gatedConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.open
	}
	return g.Conn.Write(p)
}

// TestAsyncWriterSendsWhatQueuedInOneWrite: packets written while the
// socket is busy go out together, in one system call, in order.
func TestAsyncWriterSendsWhatQueuedInOneWrite(t *testing.T) {
	c, s := testutil.TCPPair(t)
	g := &gatedConn{Conn: c, entered: make(chan struct{}), open: make(chan struct{})}
	w := newAsyncWriter(g)
	for i, p := range []string{"one ", "two ", "three ", "four"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-g.entered
		}
	}
	close(g.open) // "one " was being written; the rest queued behind it
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(s)
	if err != nil || string(b) != "one two three four" {
		t.Fatalf("read %q, %v", b, err)
	}
	if g.writes != 2 {
		t.Fatalf("%d writes to the socket, want 2: the first packet, then the three queued behind it", g.writes)
	}
}

// TestAsyncWriterReportsAFailedWrite: a write the socket refused fails the
// next Write.
func TestAsyncWriterReportsAFailedWrite(t *testing.T) {
	c, _ := testutil.TCPPair(t)
	w := newAsyncWriter(c)
	_ = c.Close() // the socket goes away under the writer
	_, _ = w.Write([]byte("lost"))
	testutil.Eventually(t, "the failed write reported", func() bool {
		_, err := w.Write([]byte("x"))
		return err != nil
	})
}

// TestAsyncWriterShutdownSendsQueueThenEOF: shutdown sends what is queued,
// then the end of the stream, at once, with the socket still open (a drop
// tells the user before the teardown); later writes fail.
func TestAsyncWriterShutdownSendsQueueThenEOF(t *testing.T) {
	c, s := testutil.TCPPair(t)
	w := newAsyncWriter(c)
	defer w.Close()
	for _, p := range []string{"wsgate: ", "access revoked\r\n"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	w.shutdown()
	got, err := io.ReadAll(s) // returns at the FIN, not at a close
	if err != nil || string(got) != "wsgate: access revoked\r\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	if _, err := w.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after shutdown: %v", err)
	}
	// The socket itself is still open: the peer's bytes still arrive.
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read after shutdown: %v", err)
	}
	// The teardown's Close, then gliderlabs' second one: the socket is
	// closed once, and both report that close's result.
	if err := w.Close(); err != nil {
		t.Fatalf("close after shutdown: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on the closed socket: %v", err)
	}
}

// TestHaltedReadsDeliverNothing: once halted, what the user sends is never
// returned, and the reader ends only when the connection is closed.
func TestHaltedReadsDeliverNothing(t *testing.T) {
	c, s := testutil.TCPPair(t)
	cs := newConnState(s)
	type result struct {
		b   []byte
		err error
	}
	reads := make(chan result, 1)
	go func() {
		buf := make([]byte, 16)
		n, err := cs.Read(buf) // blocked in the socket when the halt comes
		reads <- result{buf[:n], err}
	}()
	time.Sleep(20 * time.Millisecond) // let the read block in the socket
	cs.haltReads()
	if _, err := c.Write([]byte("after the drop")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reads:
		t.Fatalf("halted read returned %q, %v before the close", r.b, r.err)
	case <-cs.UserClosed():
		t.Fatal("UserClosed before the user closed")
	case <-time.After(50 * time.Millisecond):
	}
	// The user's close is seen (the bytes before it were read and
	// dropped); the read still waits for the gateway's own Close.
	_ = c.Close()
	select {
	case <-cs.UserClosed():
	case <-time.After(5 * time.Second):
		t.Fatal("UserClosed not closed after the user closed")
	}
	select {
	case r := <-reads:
		t.Fatalf("halted read returned %q, %v before the close", r.b, r.err)
	case <-time.After(20 * time.Millisecond):
	}
	_ = cs.Close()
	r := <-reads
	if len(r.b) != 0 || !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("halted read returned %q, %v; want nothing and net.ErrClosed", r.b, r.err)
	}
	if n, err := cs.Read(make([]byte, 16)); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after the halt: %d, %v", n, err)
	}
}

// TestHaltWaitsForTheUserOnlyWhenItCan: after a halt, the user's close is
// waited for only when the end of the stream went out; a connection that
// cannot half-close leaves the user nothing to react to.
func TestHaltWaitsForTheUserOnlyWhenItCan(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
		wait bool
	}{
		{"tcp", func(c net.Conn) net.Conn { return c }, true},
		{"no half-close", func(c net.Conn) net.Conn { return struct{ net.Conn }{c} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := testutil.TCPPair(t)
			cs := newConnState(tc.wrap(s))
			fc := newFrontConn(cs, nil)
			defer fc.Close()
			fc.halt()
			select {
			case <-cs.UserClosed():
				if tc.wait {
					t.Fatal("UserClosed before the user closed")
				}
			case <-time.After(50 * time.Millisecond):
				if !tc.wait {
					t.Fatal("UserClosed still open although the end of the stream could not be sent")
				}
			}
		})
	}
}
