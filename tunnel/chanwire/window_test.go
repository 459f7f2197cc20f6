package chanwire

import (
	"bytes"
	"io"
	"testing"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestRequestPassesUnreadData: a request sent after more data than the
// window, while nothing reads the data yet (an exec whose program is not
// started), still arrives; then the data flows as the consumer reads.
func TestRequestPassesUnreadData(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)
	data := bytes.Repeat([]byte("x"), 3*Window)
	wrote := make(chan error, 1)
	go func() {
		_, err := gw.Write(data)
		wrote <- err
	}()
	// The request goes only once the writer has used up the window.
	testutil.Eventually(t, "the window used up", func() bool {
		gw.mu.Lock()
		defer gw.mu.Unlock()
		return gw.sendWin == 0
	})
	if _, err := gw.SendRequest("exec", false, []byte("cmd")); err != nil {
		t.Fatal(err)
	}
	req := recvTimeout(t, agReqs, "exec behind unread data")
	if req.Type != "exec" {
		t.Fatalf("got %q", req.Type)
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(ag, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data: %v", err)
	}
	if err := recvTimeout(t, wrote, "write"); err != nil {
		t.Fatal(err)
	}
	gw.Close()
	ag.Close()
}

// TestWindowOverrunIsABadFrame: a peer sending past its window ends the
// channel (and only it).
func TestWindowOverrunIsABadFrame(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)
	go func() {
		for range agReqs {
		}
	}()
	chunk := bytes.Repeat([]byte("y"), MaxData)
	for range Window/MaxData + 1 { // bypass sendData's window
		if err := gw.fw.write(frameData, chunk); err != nil {
			break
		}
	}
	recvTimeoutClosed(t, ag.Done())
	if err := ag.Err(); err == nil {
		t.Fatal("no error for a window overrun")
	}
	gw.Close()
	ag.Close()
}
