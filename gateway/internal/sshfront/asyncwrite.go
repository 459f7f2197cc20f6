package sshfront

import (
	"net"
	"sync"
	"time"

	"github.com/wsgate/wsgate/gateway/internal/edge"
)

// maxQueuedWrite bounds what asyncWriter holds for the socket; a writer
// past it waits, which is the backpressure x/crypto expects of a conn.
const maxQueuedWrite = 256 << 10

// closeFlushTimeout bounds how long Close waits for queued bytes (the last
// thing written is often why the connection closes: a drop's message).
const closeFlushTimeout = 2 * time.Second

// asyncWriter hands the SSH transport's writes to a goroutine that exists
// only while bytes wait, so that encrypting the next packet (x/crypto does
// it on the writing goroutine, under its lock) overlaps the system call
// sending the last one. Packets queued meanwhile are sent together, in one
// system call: x/crypto writes each packet on its own. A write error is
// returned by the next Write.
type asyncWriter struct {
	net.Conn

	mu      sync.Mutex
	cond    sync.Cond
	queue   *[]byte // bytes waiting, in order; nil while none wait
	sending int     // bytes a Conn.Write under way is sending
	writing bool    // a drain goroutine exists
	inWrite bool    // a Conn.Write is under way (the drain's or shutdown's)
	err     error
	flushed chan struct{} // made when shutdown began, closed when it ended

	closeOnce sync.Once
	closeErr  error
}

func newAsyncWriter(c net.Conn) *asyncWriter {
	w := &asyncWriter{Conn: c}
	w.cond.L = &w.mu
	return w
}

// writeBufs holds the buffers of queued bytes while none are queued
// (pointers, so that putting one back allocates nothing): a connection
// holds one only while data moves.
var writeBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledWrite is the largest buffer writeBufs keeps.
const maxPooledWrite = 2 * maxQueuedWrite

// queued is what waits or is being sent; w.mu is held.
func (w *asyncWriter) queued() int {
	n := w.sending
	if w.queue != nil {
		n += len(*w.queue)
	}
	return n
}

func (w *asyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.queued() >= maxQueuedWrite && w.err == nil {
		w.cond.Wait()
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.queue == nil {
		w.queue = writeBufs.Get().(*[]byte)
	}
	*w.queue = append(*w.queue, p...)
	if !w.writing {
		w.writing = true
		go w.drain()
	}
	return len(p), nil
}

// drain writes the queue, in order, until it is empty, then ends.
func (w *asyncWriter) drain() {
	w.mu.Lock()
	for w.next() {
		w.writeNext()
	}
	w.writing = false
	w.cond.Broadcast()
	w.mu.Unlock()
}

// next waits for a write under way (shutdown may be writing) and reports
// whether bytes wait to be written; w.mu is held.
func (w *asyncWriter) next() bool {
	for w.inWrite {
		w.cond.Wait()
	}
	return w.queue != nil && w.err == nil
}

// writeNext writes everything queued, in one call; w.mu is held, released
// during the write, and no other write is under way. Writes that come
// meanwhile start a new queue.
func (w *asyncWriter) writeNext() {
	b := w.queue
	w.queue = nil
	w.sending = len(*b)
	w.inWrite = true
	w.mu.Unlock()
	_, err := w.Conn.Write(*b)
	w.mu.Lock()
	w.inWrite = false
	w.sending = 0
	if cap(*b) <= maxPooledWrite {
		*b = (*b)[:0]
		writeBufs.Put(b)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	w.cond.Broadcast()
}

// shutdown sends what is queued (at most closeFlushTimeout), then the end
// of the stream; later writes fail. It writes the queue itself rather
// than waiting for the drain goroutine to be scheduled, and the
// half-close sends the FIN at once, where a close does so only once the
// socket's reader has run: after a drop, the user sees the message and
// the end of the connection without either wait, however busy the
// gateway is.
//
// It reports whether the queue and the end of the stream went out (only
// the first call knows; later ones report false).
func (w *asyncWriter) shutdown() (ended bool) {
	w.mu.Lock()
	if w.flushed != nil {
		// Shut down already (a drop, then the teardown's Close): wait
		// for that flush, within its deadline, without setting another.
		flushed := w.flushed
		w.mu.Unlock()
		<-flushed
		return false
	}
	w.flushed = make(chan struct{})
	defer close(w.flushed)
	w.mu.Unlock()
	_ = w.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
	w.mu.Lock()
	for w.next() {
		w.writeNext()
	}
	sent := w.err == nil
	if w.err == nil {
		w.err = net.ErrClosed
	}
	w.cond.Broadcast()
	w.mu.Unlock()
	return sent && edge.CloseWrite(w.Conn) == nil
}

// Close shuts down (sending what is queued) and closes, once: x/crypto and
// gliderlabs each close the connection.
func (w *asyncWriter) Close() error {
	w.closeOnce.Do(func() {
		w.shutdown()
		w.closeErr = w.Conn.Close()
	})
	return w.closeErr
}
