package apps

import (
	"context"
	"encoding/binary"
	"io"
	"sync"

	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// wsClose is the app side of an upgraded WebSocket. It follows the app's
// frames to the browser, and when the session is dropped (the proxy closes
// it) at a frame boundary, it ends the stream with a close frame, 1008
// (policy violation) and the drop's message, before EOF: the page learns
// why instead of seeing 1006. Mid-frame, the stream is cut as before.
type wsClose struct {
	io.ReadWriteCloser
	ctx context.Context

	mu      sync.Mutex
	closing bool
	sent    bool
	frames  frameTracker
	pending []byte
}

func (c *wsClose) Close() error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	return c.ReadWriteCloser.Close()
}

func (c *wsClose) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.sent {
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			c.mu.Unlock()
			return n, nil
		}
		c.mu.Unlock()
		return 0, io.EOF
	}
	c.mu.Unlock()
	n, err := c.ReadWriteCloser.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames.consume(p[:n])
	if err != nil && c.closing && c.frames.atBoundary() {
		if msg, ok := sessions.DropMessage(c.ctx); ok {
			c.sent, c.pending = true, closeFrame(1008, "wsgate: "+msg)
			if n > 0 {
				return n, nil
			}
			m := copy(p, c.pending)
			c.pending = c.pending[m:]
			return m, nil
		}
	}
	return n, err
}

// closeFrame is an unmasked (server) close frame; the reason is cut to
// the 123 bytes a control frame allows.
func closeFrame(code uint16, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	f := []byte{0x88, byte(2 + len(reason)), byte(code >> 8), byte(code)}
	return append(f, reason...)
}

// frameTracker follows WebSocket frame boundaries in a byte stream.
type frameTracker struct {
	hdr     []byte // header bytes of the frame being read
	payload uint64 // payload bytes left in the current frame
}

func (t *frameTracker) atBoundary() bool { return len(t.hdr) == 0 && t.payload == 0 }

func (t *frameTracker) consume(b []byte) {
	for len(b) > 0 {
		if t.payload > 0 {
			n := uint64(len(b))
			if n > t.payload {
				n = t.payload
			}
			t.payload -= n
			b = b[n:]
			continue
		}
		t.hdr = append(t.hdr, b[0])
		b = b[1:]
		if need := headerLen(t.hdr); need > 0 && len(t.hdr) == need {
			t.payload = payloadLen(t.hdr)
			t.hdr = t.hdr[:0]
		}
	}
}

// headerLen is the full header length once known (0 before byte 2).
func headerLen(h []byte) int {
	if len(h) < 2 {
		return 0
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4
	}
	return n
}

func payloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return binary.BigEndian.Uint64(h[2:10])
	default:
		return uint64(l)
	}
}
