package chanwire

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// byteConn feeds a fixed input to a reader; writes go nowhere.
type byteConn struct {
	net.Conn
	r *bytes.Reader
}

func (c byteConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c byteConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c byteConn) Close() error                       { return nil }
func (c byteConn) SetReadDeadline(time.Time) error    { return nil }
func (c byteConn) SetDeadline(time.Time) error        { return nil }
func (c byteConn) SetWriteDeadline(t time.Time) error { return nil }

func frame(t frameType, payload ...byte) []byte {
	b := []byte{byte(t), 0, 0, 0, 0}
	b[1], b[2], b[3], b[4] = byte(len(payload)>>24), byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	return append(b, payload...)
}

// FuzzChannelFrames: whatever a peer sends, a channel's reader ends without
// panicking, never hands on more than it read, and replies nothing it was
// not asked for.
func FuzzChannelFrames(f *testing.F) {
	f.Add(frame(frameData, 'h', 'i'))
	f.Add(append(frame(frameEOF), frame(frameRequest, 0, 4, 'e', 'x', 'i', 't', 0, 0, 0, 1)...))
	f.Add(frame(frameReply, 1))
	f.Add([]byte{byte(frameData), 0xff, 0xff, 0xff, 0xff})
	f.Add(frame(frameRequest, 2, 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		ch := newChannel(byteConn{r: bytes.NewReader(in)}, nil)
		ch.start()
		go func() {
			for req := range ch.Requests() {
				_ = req.Reply(false, nil)
			}
		}()
		var got bytes.Buffer
		_, _ = got.ReadFrom(ch)
		<-ch.Done()
		if got.Len() > len(in) {
			t.Fatalf("read %d bytes from %d of input", got.Len(), len(in))
		}
		ch.Close()
	})
}

// FuzzConnFrames: the same for a connection's conn stream on both sides.
func FuzzConnFrames(f *testing.F) {
	f.Add(frame(frameRequest, 1, 13, 't', 'c', 'p', 'i', 'p', '-', 'f', 'o', 'r', 'w', 'a', 'r', 'd'))
	f.Add(frame(frameOpenRequest, 0, 0, 0, 1, 7, 's', 'e', 's', 's', 'i', 'o', 'n'))
	f.Add(frame(frameOpenFailure, 0, 0, 0, 1, 0, 0, 0, 1, 'n', 'o'))
	f.Add(frame(frameAccept, 0, 0, 0, 9))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, gateway := range []bool{true, false} {
			var dial DialFunc
			if gateway {
				dial = func(context.Context) (net.Conn, error) { return nil, net.ErrClosed }
			}
			c := newConn(byteConn{r: bytes.NewReader(in)}, dial)
			go c.readLoop()
			go func() {
				for nc := range c.chans {
					_ = nc.Reject(Prohibited, "")
				}
			}()
			for req := range c.reqs {
				_ = req.Reply(false, nil)
			}
			<-c.Done()
			// A channel stream with the same bytes as its first frames.
			if !gateway {
				_ = c.HandleStream(byteConn{r: bytes.NewReader(in)})
			}
		}
	})
}
