package chanwire

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/testutil"
)

type onlyReader struct{ io.Reader }

// TestCopyBothWays: io.Copy into a channel goes through ReadFrom (small
// buffer while idle, pooled one while data flows) and out of it through
// WriteTo; the bytes arrive whole and in order, stderr apart.
func TestCopyBothWays(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)
	go func() {
		for range agReqs {
		}
	}()
	data := make([]byte, 3<<20+123)
	_, _ = rand.Read(data)
	go func() {
		if n, err := io.Copy(gw, onlyReader{bytes.NewReader(data)}); err != nil || n != int64(len(data)) {
			t.Errorf("copy in: %d %v", n, err)
		}
		_ = gw.CloseWrite()
	}()
	var got bytes.Buffer
	if _, err := io.Copy(&got, ag); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("got %d bytes, want %d (or content differs)", got.Len(), len(data))
	}
	go func() {
		_, _ = io.Copy(ag.Stderr(), onlyReader{bytes.NewReader([]byte("err"))})
		_ = ag.Close()
	}()
	var errOut bytes.Buffer
	if _, err := io.Copy(&errOut, gw.Stderr()); err != nil || errOut.String() != "err" {
		t.Fatalf("stderr %q %v", errOut.String(), err)
	}
	gw.Close()
}

// TestSendFramedSplitsInPlace: a payload sent with its headers written in
// place goes out as frames no larger than the window each time allowed,
// whole and in order, although each header overwrote payload already sent.
func TestSendFramedSplitsInPlace(t *testing.T) {
	var out testutil.Buffer
	ch := &Channel{fw: frameWriter{w: &out}, sendWin: 7}
	ch.wcond.L = &ch.mu
	payload := []byte("the quick brown fox jumps over the lazy dog")
	b := append(make([]byte, headerLen), payload...)
	done := make(chan error, 1)
	go func() {
		n, err := ch.sendFramed(frameStderr, b)
		if err == nil && n != len(payload) {
			err = fmt.Errorf("sent %d of %d", n, len(payload))
		}
		done <- err
	}()
	for granted := 7; granted < len(payload); granted += 5 {
		testutil.Eventually(t, "the window used up", func() bool {
			ch.mu.Lock()
			defer ch.mu.Unlock()
			return ch.sendWin == 0
		})
		ch.grant(5)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []byte
	frames := 0
	for r := strings.NewReader(out.String()); r.Len() > 0; frames++ {
		typ, p, err := readFrame(r)
		if err != nil || typ != frameStderr || len(p) > 7 {
			t.Fatalf("frame %d: %v %q %v", frames, typ, p, err)
		}
		got = append(got, p...)
	}
	if string(got) != string(payload) || frames != 1+(len(payload)-7+4)/5 {
		t.Fatalf("%d frames carried %q", frames, got)
	}
}
