package sshfront

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

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
