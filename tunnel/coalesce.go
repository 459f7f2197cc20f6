package tunnel

import (
	"encoding/binary"
	"net"
	"sync"
)

// yamux v0.1.2 frames (const.go): a 12-byte header — version (0), type,
// flags (2), stream ID (4), length (4) — and, for DATA frames only, a body
// of length bytes. Its send loop (session.go sendLoop) writes the header
// with one Write and then the body, copied into a bytes.Buffer, with a
// second Write. Window updates, pings and go-aways carry no body (their
// length field is a window delta, a ping ID or an error code), nor does a
// DATA frame of length 0 (flags only: SYN/ACK/FIN/RST).
const (
	yamuxHeaderSize  = 12
	yamuxVersion     = 0
	yamuxTypeData    = 0
	yamuxLengthIndex = 8
)

// maxPooledBuf bounds the buffers kept in framePool. A DATA body is at most
// the stream window (256 KiB by default, and this package does not raise
// it); bigger ones are allocated once and left to the GC.
const maxPooledBuf = yamuxHeaderSize + 1<<20

var framePool = sync.Pool{New: func() any { return new([]byte) }}

// frameConn sits under a yamux session and writes each DATA frame's header
// and body in one Write to the underlying conn: one syscall on TCP and no
// TLS record that holds only a header. Where the conn is a plain socket
// that can take both buffers at once (buffersWriter), that is one writev
// and the body is not copied. It holds a DATA header whose length is > 0
// until the next Write; if that Write is exactly the body, both go out
// together (one writev, or one Write from a pooled buffer). Anything else
// (a body of another length, another header) first flushes the held header
// and is then handled as usual, so the byte stream is always exactly what yamux wrote, in
// order; only the write boundaries change. Every other header is written at
// once. While a header is held, a Write of exactly the announced length is
// its body even if it looks like a header: yamux writes the body next, and
// the bytes on the wire are the same either way.
//
// yamux's send loop is the only writer of its conn; the mutex only makes a
// second writer safe, it does not make writes from two goroutines
// interleave sensibly. Reads, deadlines and Close pass through. Close does
// not flush a held header: yamux only closes the conn to end the session,
// a header without its body is no frame the peer could use, and a Write
// blocked on a full socket holds the mutex Close would need. yamux never
// half-closes its conn, so neither does frameConn.
type frameConn struct {
	net.Conn

	mu      sync.Mutex
	held    [yamuxHeaderSize]byte
	holding bool

	// vec and bufs send a frame with one writev when the conn can
	// (buffersWriter): fields, so that sending allocates nothing.
	vec  [2][]byte
	bufs net.Buffers
}

// buffersWriter is a conn that can send buffers with one system call,
// uncopied, or says it cannot (upgrade.Conn: only on a TCP socket).
type buffersWriter interface {
	WriteBuffers(*net.Buffers) (n int64, handled bool, err error)
}

func newFrameConn(c net.Conn) *frameConn { return &frameConn{Conn: c} }

// heldLength is the body length a header p announces when p is a DATA
// header worth holding, else 0.
func heldLength(p []byte) int {
	if len(p) != yamuxHeaderSize || p[0] != yamuxVersion || p[1] != yamuxTypeData {
		return 0
	}
	return int(binary.BigEndian.Uint32(p[yamuxLengthIndex:]))
}

func (c *frameConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.holding = false
		if len(p) > 0 && len(p) == heldLength(c.held[:]) {
			return c.writeFrame(p)
		}
		// Not the body we expected: what was held goes first, as it came.
		if _, err := c.Conn.Write(c.held[:]); err != nil {
			return 0, err
		}
	}
	if heldLength(p) > 0 {
		copy(c.held[:], p)
		c.holding = true
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// writeFrame writes the held header and body in one Write and returns how
// much of body went out.
func (c *frameConn) writeFrame(body []byte) (int, error) {
	if bw, ok := c.Conn.(buffersWriter); ok {
		c.vec = [2][]byte{c.held[:], body}
		c.bufs = c.vec[:]
		n, handled, err := bw.WriteBuffers(&c.bufs)
		c.vec, c.bufs = [2][]byte{}, nil // keep no reference to body
		if handled {
			return max(int(n)-yamuxHeaderSize, 0), err
		}
	}
	bp := framePool.Get().(*[]byte)
	buf := append(append((*bp)[:0], c.held[:]...), body...)
	n, err := c.Conn.Write(buf)
	if cap(buf) <= maxPooledBuf {
		*bp = buf
		framePool.Put(bp)
	}
	return max(n-yamuxHeaderSize, 0), err
}
