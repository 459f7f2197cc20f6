package chanwire

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"
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
