package chanwire

import (
	"io"
	"sync"
)

// buffer queues received data frames for a consumer's Read. It holds pooled
// payload buffers only while data waits; an idle channel holds none.
type buffer struct {
	mu     sync.Mutex
	cond   sync.Cond
	chunks []chunk
	size   int
	err    error // io.EOF after eof or close; set once
	closed bool  // the consumer side is gone: drop what arrives
	// consumed is told what the consumer took, to grant the peer window.
	consumed func(n int)
}

type chunk struct {
	buf *[]byte
	b   []byte // unread part of *buf
}

func newBuffer(consumed func(int)) *buffer {
	b := &buffer{consumed: consumed}
	b.cond.L = &b.mu
	return b
}

// push queues p (a pooled buffer). It never waits: the window bounds what
// the peer may send. Once the consumer is gone the data is dropped, and
// its window granted back at once.
func (b *buffer) push(buf *[]byte, n int) {
	b.mu.Lock()
	if b.closed || b.err != nil {
		b.mu.Unlock()
		dataBufs.Put(buf)
		b.consumed(n)
		return
	}
	b.chunks = append(b.chunks, chunk{buf: buf, b: (*buf)[:n]})
	b.size += n
	b.cond.Broadcast()
	b.mu.Unlock()
}

// Read copies queued data into p, waiting for some; io.EOF after end.
func (b *buffer) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.chunks) == 0 && b.err == nil && !b.closed {
		b.cond.Wait()
	}
	if len(b.chunks) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && len(b.chunks) > 0 {
		c := &b.chunks[0]
		m := copy(p[n:], c.b)
		n += m
		c.b = c.b[m:]
		if len(c.b) == 0 {
			dataBufs.Put(c.buf)
			b.chunks[0] = chunk{}
			b.chunks = b.chunks[1:]
		}
	}
	if len(b.chunks) == 0 {
		b.chunks = nil // let an idle channel hold no slice either
	}
	b.size -= n
	b.mu.Unlock()
	b.consumed(n)
	b.mu.Lock()
	return n, nil
}

// end marks the end of data (eof frame, or the stream closed); what is
// queued can still be read.
func (b *buffer) end(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// close drops the queue: the consumer will read no more.
func (b *buffer) close() {
	b.mu.Lock()
	b.closed = true
	for _, c := range b.chunks {
		dataBufs.Put(c.buf)
	}
	b.chunks, b.size = nil, 0
	if b.err == nil {
		b.err = io.EOF
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

// writeTo hands queued chunks to w until the end; a chunk is given back to
// the pool once written.
func (b *buffer) writeTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b.mu.Lock()
		for len(b.chunks) == 0 && b.err == nil && !b.closed {
			b.cond.Wait()
		}
		if len(b.chunks) == 0 {
			b.mu.Unlock()
			return total, nil
		}
		c := b.chunks[0]
		b.chunks[0] = chunk{}
		b.chunks = b.chunks[1:]
		if len(b.chunks) == 0 {
			b.chunks = nil
		}
		b.size -= len(c.b)
		b.mu.Unlock()
		n, err := w.Write(c.b)
		dataBufs.Put(c.buf)
		b.consumed(len(c.b))
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}
