package tunnel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
)

// recordingConn records every Write that reaches it, then passes it on to
// the embedded conn if there is one (a real socket in the yamux tests).
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	failAt int // > 0: the write that takes the stream past failAt bytes fails there
	total  int
}

var errRecordingFail = errors.New("recording conn: injected failure")

func (r *recordingConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	if r.failAt > 0 && r.total+len(p) > r.failAt {
		n := r.failAt - r.total
		r.writes = append(r.writes, bytes.Clone(p[:n]))
		r.total += n
		r.mu.Unlock()
		return n, errRecordingFail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	r.total += len(p)
	r.mu.Unlock()
	if r.Conn == nil {
		return len(p), nil
	}
	return r.Conn.Write(p)
}

// count is how many writes reached r.
func (r *recordingConn) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

// since returns the writes after the first n.
func (r *recordingConn) since(n int) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.writes[n:]...)
}

func (r *recordingConn) stream() []byte {
	return bytes.Join(r.since(0), nil)
}

func yamuxHeader(typ uint8, flags uint16, id, length uint32) []byte {
	h := make([]byte, yamuxHeaderSize)
	h[0] = yamuxVersion
	h[1] = typ
	binary.BigEndian.PutUint16(h[2:], flags)
	binary.BigEndian.PutUint32(h[4:], id)
	binary.BigEndian.PutUint32(h[8:], length)
	return h
}

const (
	typeWindowUpdate = 1
	typePing         = 2
	typeGoAway       = 3
	flagSYN          = 1
	flagFIN          = 4
)

// mustWrite writes p to c and checks that all of it was taken.
func mustWrite(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	n, err := c.Write(p)
	if err != nil || n != len(p) {
		t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
	}
}

func TestFrameConnDataFrameInOneWrite(t *testing.T) {
	rec := &recordingConn{}
	c := newFrameConn(rec)
	hdr := yamuxHeader(yamuxTypeData, 0, 3, 5)
	mustWrite(t, c, hdr)
	if n := rec.count(); n != 0 {
		t.Fatalf("DATA header written alone (%d writes); it should wait for its body", n)
	}
	mustWrite(t, c, []byte("hello"))
	got := rec.since(0)
	if want := append(bytes.Clone(hdr), "hello"...); len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("writes = %q, want one write %q", got, want)
	}
}

// vectorConn is a recordingConn that takes both buffers of a frame at once
// (as upgrade.Conn does on a TCP socket), or declines when refuse is set.
type vectorConn struct {
	recordingConn
	refuse  bool
	vectors [][][]byte
}

func (v *vectorConn) WriteBuffers(bufs *net.Buffers) (int64, bool, error) {
	if v.refuse {
		return 0, false, nil
	}
	var got [][]byte
	var n int64
	for _, b := range *bufs {
		got = append(got, bytes.Clone(b))
		n += int64(len(b))
	}
	v.vectors = append(v.vectors, got)
	*bufs = nil
	return n, true, nil
}

// TestFrameConnDataFrameInOneWritev: on a conn that takes buffers at once,
// a DATA frame's header and body go out in one call, the body uncopied;
// where it declines, they go out in one Write as before.
func TestFrameConnDataFrameInOneWritev(t *testing.T) {
	hdr := yamuxHeader(yamuxTypeData, 0, 3, 5)
	vc := &vectorConn{}
	c := newFrameConn(vc)
	mustWrite(t, c, hdr)
	mustWrite(t, c, []byte("hello"))
	if len(vc.vectors) != 1 || vc.count() != 0 ||
		!bytes.Equal(vc.vectors[0][0], hdr) || string(vc.vectors[0][1]) != "hello" {
		t.Fatalf("writev calls %q, writes %d; want one call with the header and the body", vc.vectors, vc.count())
	}
	if c.vec[1] != nil || c.bufs != nil {
		t.Fatal("frameConn still refers to the body after sending it")
	}

	declining := &vectorConn{refuse: true}
	c = newFrameConn(declining)
	mustWrite(t, c, hdr)
	mustWrite(t, c, []byte("hello"))
	if got := declining.since(0); len(got) != 1 || !bytes.Equal(got[0], append(bytes.Clone(hdr), "hello"...)) {
		t.Fatalf("writes = %q, want one write of the whole frame", got)
	}
}

func TestFrameConnOtherHeadersAtOnce(t *testing.T) {
	rec := &recordingConn{}
	c := newFrameConn(rec)
	for i, h := range [][]byte{
		yamuxHeader(typeWindowUpdate, flagSYN, 1, 256<<10), // length is a delta, no body
		yamuxHeader(typePing, flagSYN, 0, 7),               // length is the ping ID
		yamuxHeader(typeGoAway, 0, 0, 1),                   // length is an error code
		yamuxHeader(yamuxTypeData, flagFIN, 1, 0),          // flags only
	} {
		mustWrite(t, c, h)
		got := rec.since(i)
		if len(got) != 1 || !bytes.Equal(got[0], h) {
			t.Fatalf("header %d: writes = %x, want %x at once", i, got, h)
		}
	}
}

func TestFrameConnPassesUnexpectedThrough(t *testing.T) {
	data5 := yamuxHeader(yamuxTypeData, 0, 1, 5)
	data3 := yamuxHeader(yamuxTypeData, 0, 1, 3)
	badVersion := yamuxHeader(yamuxTypeData, 0, 1, 5)
	badVersion[0] = 1
	badType := yamuxHeader(9, 0, 1, 5)
	for _, tc := range []struct {
		name   string
		in     [][]byte
		writes [][]byte // what reaches the conn, write by write
	}{
		{"short body", [][]byte{data5, []byte("abc")}, [][]byte{data5, []byte("abc")}},
		{"long body", [][]byte{data5, []byte("abcdef")}, [][]byte{data5, []byte("abcdef")}},
		{"header after header", [][]byte{data5, data3, []byte("xyz")},
			[][]byte{data5, append(bytes.Clone(data3), "xyz"...)}},
		{"window update after header", [][]byte{data5, yamuxHeader(typeWindowUpdate, 0, 1, 9)},
			[][]byte{data5, yamuxHeader(typeWindowUpdate, 0, 1, 9)}},
		{"empty write", [][]byte{data5, {}, []byte("hello")},
			[][]byte{data5, {}, []byte("hello")}},
		{"bad version", [][]byte{badVersion, []byte("hello")}, [][]byte{badVersion, []byte("hello")}},
		{"bad type", [][]byte{badType, []byte("hello")}, [][]byte{badType, []byte("hello")}},
		{"header split", [][]byte{data5[:6], data5[6:], []byte("hello")},
			[][]byte{data5[:6], data5[6:], []byte("hello")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingConn{}
			c := newFrameConn(rec)
			for _, p := range tc.in {
				mustWrite(t, c, p)
			}
			got := rec.since(0)
			if len(got) != len(tc.writes) {
				t.Fatalf("writes = %x, want %x", got, tc.writes)
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.writes[i]) {
					t.Fatalf("write %d = %x, want %x", i, got[i], tc.writes[i])
				}
			}
		})
	}
}

func TestFrameConnWriteErrors(t *testing.T) {
	hdr := yamuxHeader(yamuxTypeData, 0, 1, 5)
	for _, tc := range []struct {
		name   string
		failAt int
		want   int // what the body Write reports
	}{
		{"inside the header", 4, 0},
		{"inside the body", 12 + 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFrameConn(&recordingConn{failAt: tc.failAt})
			mustWrite(t, c, hdr)
			n, err := c.Write([]byte("hello"))
			if n != tc.want || !errors.Is(err, errRecordingFail) {
				t.Fatalf("body Write = %d, %v; want %d, %v", n, err, tc.want, errRecordingFail)
			}
		})
	}
	// A held header that cannot be flushed fails the write that flushes it.
	c := newFrameConn(&recordingConn{failAt: 1})
	mustWrite(t, c, hdr)
	if n, err := c.Write([]byte("abc")); n != 0 || !errors.Is(err, errRecordingFail) {
		t.Fatalf("mismatched Write = %d, %v; want 0, %v", n, err, errRecordingFail)
	}
}

// FuzzFrameConn: whatever sequence of writes yamux or anything else makes,
// the bytes that reach the conn (plus a header still held) are the bytes
// written, in order, every Write takes all of p, and a DATA frame whose
// body follows its header goes out in one write.
func FuzzFrameConn(f *testing.F) {
	f.Add([]byte{0, 5, 1, 3, 2, 7, 3, 4, 9, 5, 0})
	f.Add([]byte{0, 0, 0, 200, 4, 12, 1, 1, 2, 0, 5, 3})
	f.Add([]byte{2, 2, 2, 1, 1, 1, 4, 12, 0, 64})
	f.Fuzz(func(t *testing.T, ops []byte) {
		rec := &recordingConn{}
		c := newFrameConn(rec)
		var want bytes.Buffer
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		write := func(p []byte) {
			want.Write(p)
			mustWrite(t, c, p)
		}
		for len(ops) > 0 {
			op, n := next()%6, int(next())
			switch op {
			case 0: // a DATA frame, as yamux writes it
				hdr, body := yamuxHeader(yamuxTypeData, 0, 1, uint32(n)), bytes.Repeat([]byte{'d'}, n)
				// A held header announcing 12 bytes takes this header as its
				// body: the next write of the announced length is the body.
				ambiguous := c.holding && heldLength(c.held[:]) == yamuxHeaderSize
				write(hdr)
				write(body)
				// A header held before is flushed first, then the frame goes out whole.
				last := rec.since(rec.count() - 1)[0]
				if n > 0 && !ambiguous && !bytes.Equal(last, append(hdr, body...)) {
					t.Fatalf("DATA frame of %d bytes: last write %x, want header and body", n, last)
				}
			case 1: // a DATA header and a body of another length
				write(yamuxHeader(yamuxTypeData, 0, 1, uint32(n)))
				write(bytes.Repeat([]byte{'m'}, n+1+int(next())%3))
			case 2: // a DATA header alone
				write(yamuxHeader(yamuxTypeData, 0, 1, uint32(n)))
			case 3: // a header of another type
				write(yamuxHeader(1+byte(n)%5, 0, 1, uint32(next())))
			case 4: // raw bytes
				write(bytes.Repeat([]byte{next()}, n%20))
			case 5: // a 12-byte write that is not a header
				p := bytes.Repeat([]byte{byte(n)}, yamuxHeaderSize)
				write(p)
			}
		}
		got := rec.stream()
		if c.holding {
			got = append(got, c.held[:]...)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("byte stream differs:\n got %x\nwant %x", got, want.Bytes())
		}
	})
}
