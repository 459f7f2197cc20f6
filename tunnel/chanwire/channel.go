package chanwire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Channel is one SSH channel on its own stream. Its methods are those of
// x/crypto's ssh.Channel, so the code serving a channel reads the same on
// both sides of the gateway.
type Channel struct {
	s  net.Conn
	fw frameWriter

	stdout, stderr *buffer
	reqs           chan *Request

	rq requester

	mu      sync.Mutex
	wcond   sync.Cond // signalled when sendWin grows or writing ends
	sendWin int       // what we may still send of data and stderr
	recvWin int       // what the peer may still send before our next grant
	unacked int       // consumed here, not yet granted back
	eofSent bool
	closed  bool  // no more writes: closed here or by the peer
	err     error // why readLoop ended, when not a clean close

	readDone   chan struct{} // closed when readLoop has ended
	closing    chan struct{} // closed by Close
	closeOnce  sync.Once
	finishOnce sync.Once
	onClose    func() // tells the connection the channel is gone
}

// ErrChannelClosed is returned by writes and requests on a closed channel.
var ErrChannelClosed = errors.New("channel closed")

// Handler takes a channel's frames in order on the goroutine that calls
// Serve, so that what it writes onward keeps their order (data, then the
// exit status) without buffers or goroutines of the channel's own.
type Handler interface {
	// Data and Stderr get a payload valid only during the call; an error
	// ends the channel.
	Data(p []byte) error
	Stderr(p []byte) error
	// EOF: the peer sends no more data; requests may follow.
	EOF()
	// Request must not wait for this channel (its replies come through
	// the same reader).
	Request(r *Request)
}

// newChannel returns a channel on s whose reader is not running yet: call
// start (buffered reads and Requests) or Serve (a Handler).
func newChannel(s net.Conn, onClose func()) *Channel {
	ch := &Channel{
		s:        s,
		fw:       frameWriter{w: s},
		sendWin:  Window,
		recvWin:  Window,
		reqs:     make(chan *Request, 16),
		readDone: make(chan struct{}),
		closing:  make(chan struct{}),
		onClose:  onClose,
	}
	ch.rq.fw = &ch.fw
	ch.wcond.L = &ch.mu
	ch.stdout = newBuffer(ch.consumed)
	ch.stderr = newBuffer(ch.consumed)
	return ch
}

// sendData sends p as data or stderr frames, each within the peer's window
// and MaxData, waiting for window as needed.
func (ch *Channel) sendData(t frameType, p []byte) (int, error) {
	sent := 0
	for len(p) > 0 {
		n, err := ch.reserve(min(len(p), MaxData))
		if err != nil {
			return sent, err
		}
		if err := ch.fw.write(t, p[:n]); err != nil {
			return sent, err
		}
		sent += n
		p = p[n:]
	}
	return sent, nil
}

// sendFramed sends b[headerLen:] as sendData does, writing each frame's
// header in place before its payload: b[:headerLen] is room for the first,
// and each frame sent leaves room for the next one's (its payload's last
// bytes, already written). b's payload is not copied.
func (ch *Channel) sendFramed(t frameType, b []byte) (int, error) {
	sent := 0
	for at := 0; at+headerLen < len(b); {
		n, err := ch.reserve(min(len(b)-at-headerLen, MaxData))
		if err != nil {
			return sent, err
		}
		if err := ch.fw.writeFramed(t, b[at:at+headerLen+n]); err != nil {
			return sent, err
		}
		sent += n
		at += n
	}
	return sent, nil
}

// reserve takes up to n bytes of the peer's window, waiting for some.
func (ch *Channel) reserve(n int) (int, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for ch.sendWin == 0 && !ch.closed && !ch.eofSent {
		ch.wcond.Wait()
	}
	switch {
	case ch.closed:
		return 0, ErrChannelClosed
	case ch.eofSent:
		return 0, io.EOF
	}
	n = min(n, ch.sendWin)
	ch.sendWin -= n
	return n, nil
}

// received takes n bytes of data from our window; false when the peer
// sent more than it was granted.
func (ch *Channel) received(n int) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if n > ch.recvWin {
		return false
	}
	ch.recvWin -= n
	return true
}

// consumed grants n bytes back to the peer once enough has gathered that a
// window frame is worth its bytes.
func (ch *Channel) consumed(n int) {
	ch.mu.Lock()
	ch.unacked += n
	if ch.unacked < Window/4 || ch.closed {
		ch.mu.Unlock()
		return
	}
	grant := ch.unacked
	ch.unacked = 0
	ch.recvWin += grant
	ch.mu.Unlock()
	_ = ch.fw.write(frameWindow, uint32Bytes(uint32(grant)))
}

func (ch *Channel) start() { go ch.readLoop(nil) }

// Serve runs the channel's reader on the calling goroutine, handing each
// frame to h, until the channel ends; it returns Err. Only for channels
// from OpenChannelHandler or AcceptHandler, and only once.
func (ch *Channel) Serve(h Handler) error {
	close(ch.reqs) // requests go to h
	ch.readLoop(h)
	return ch.Err()
}

// Requests are the peer's channel requests; the consumer must drain it.
// It is closed when the channel closes.
func (ch *Channel) Requests() <-chan *Request { return ch.reqs }

// Read reads data (not stderr); io.EOF after the peer's eof or close.
func (ch *Channel) Read(p []byte) (int, error) { return ch.stdout.Read(p) }

// Write sends data; the peer's yamux window is the flow control.
func (ch *Channel) Write(p []byte) (int, error) {
	if err := ch.writable(); err != nil {
		return 0, err
	}
	return ch.sendData(frameData, p)
}

func (ch *Channel) writable() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	switch {
	case ch.closed:
		return ErrChannelClosed
	case ch.eofSent:
		return io.EOF
	}
	return nil
}

// Stderr reads and writes extended data (stderr) of the channel.
func (ch *Channel) Stderr() io.ReadWriter { return stderrRW{ch} }

type stderrRW struct{ ch *Channel }

func (e stderrRW) Read(p []byte) (int, error) { return e.ch.stderr.Read(p) }

func (e stderrRW) Write(p []byte) (int, error) {
	if err := e.ch.writable(); err != nil {
		return 0, err
	}
	return e.ch.sendData(frameStderr, p)
}

// CloseWrite sends eof: no more data from this side; requests still go.
func (ch *Channel) CloseWrite() error {
	ch.mu.Lock()
	if ch.closed || ch.eofSent {
		ch.mu.Unlock()
		return nil
	}
	ch.eofSent = true
	ch.wcond.Broadcast()
	ch.mu.Unlock()
	if err := ch.fw.write(frameEOF); err != nil {
		return fmt.Errorf("send eof: %w", err)
	}
	return nil
}

// Close ends the channel: the peer reads the close after every frame sent
// before it; local reads end and what the peer sends later is dropped.
func (ch *Channel) Close() error {
	ch.closeOnce.Do(func() {
		close(ch.closing)
		ch.finish()
		ch.stdout.close()
		ch.stderr.close()
	})
	return nil
}

// finish closes the stream once, whichever side closed first: yamux frees a
// stream when both sides have.
func (ch *Channel) finish() {
	ch.finishOnce.Do(func() {
		ch.mu.Lock()
		ch.closed = true
		ch.wcond.Broadcast()
		ch.mu.Unlock()
		_ = ch.s.Close()
		if ch.onClose != nil {
			ch.onClose()
		}
	})
}

// Done is closed once the peer's side has ended (its close, a broken
// stream or a bad frame) and every frame before it was handed on.
func (ch *Channel) Done() <-chan struct{} { return ch.readDone }

// Err is why the channel ended when that was not a close: a bad frame from
// the peer or a broken stream. Valid after Done.
func (ch *Channel) Err() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.err
}

// SendRequest sends a channel request; with wantReply it waits for the
// peer's answer (false, ErrChannelClosed when the channel ends first).
func (ch *Channel) SendRequest(name string, wantReply bool, payload []byte) (bool, error) {
	ok, _, err := ch.rq.send(name, wantReply, payload)
	return ok, err
}

// SendRequestFunc sends a channel request without waiting: with wantReply,
// done receives the answer on the channel's reader, in request order.
func (ch *Channel) SendRequestFunc(name string, wantReply bool, payload []byte, done ReplyFunc) error {
	return ch.rq.sendAsync(name, wantReply, payload, done)
}

// readLoop reads the peer's frames until its close, a read error or a bad
// frame; then the channel is closed.
func (ch *Channel) readLoop(h Handler) {
	err := ch.readFrames(h)
	if err != nil && !ch.isClosing() {
		ch.mu.Lock()
		ch.err = err
		ch.mu.Unlock()
	}
	// What was queued stays readable; the owner's Close drops the rest.
	ch.stdout.end(io.EOF)
	ch.stderr.end(io.EOF)
	if h == nil {
		close(ch.reqs)
	}
	// A close from the peer is answered with ours; a bad frame or a broken
	// stream ends the channel the same way.
	ch.finish()
	ch.rq.end()
	close(ch.readDone)
}

// grant adds the peer's window grant; false if it would overflow.
func (ch *Channel) grant(n int) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if n <= 0 || ch.sendWin+n > 1<<31-1 {
		return false
	}
	ch.sendWin += n
	ch.wcond.Broadcast()
	return true
}

func (ch *Channel) isClosing() bool {
	select {
	case <-ch.closing:
		return true
	default:
		return false
	}
}

func (ch *Channel) readFrames(h Handler) error {
	var hdr [headerLen]byte
	eof := false
	for {
		t, n, err := readHeader(ch.s, &hdr)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch t {
		case frameData, frameStderr:
			if eof {
				return badFrame("%v after eof", t)
			}
			if !ch.received(n) {
				return badFrame("%v of %d bytes beyond the window", t, n)
			}
			bp := dataBufs.Get().(*[]byte)
			if _, err := io.ReadFull(ch.s, (*bp)[:n]); err != nil {
				dataBufs.Put(bp)
				return unexpected(err)
			}
			if h != nil {
				var err error
				if t == frameData {
					err = h.Data((*bp)[:n])
				} else {
					err = h.Stderr((*bp)[:n])
				}
				dataBufs.Put(bp)
				if err != nil {
					return err
				}
				ch.consumed(n)
				continue
			}
			dst := ch.stdout
			if t == frameStderr {
				dst = ch.stderr
			}
			dst.push(bp, n)
		case frameEOF:
			if n != 0 {
				return badFrame("eof with payload")
			}
			eof = true
			if h != nil {
				h.EOF()
				continue
			}
			ch.stdout.end(io.EOF)
			ch.stderr.end(io.EOF)
		case frameRequest:
			p, err := readPayload(ch.s, n)
			if err != nil {
				return err
			}
			name, want, payload, err := decodeRequest(p)
			if err != nil {
				return err
			}
			req := &Request{Type: name, WantReply: want, Payload: payload, fw: &ch.fw}
			if h != nil {
				h.Request(req)
				continue
			}
			select {
			case ch.reqs <- req:
			case <-ch.closing:
				return nil
			}
		case frameWindow:
			p, err := readPayload(ch.s, n)
			if err != nil {
				return err
			}
			grant, rest, ok := cutUint32(p)
			if !ok || len(rest) != 0 || !ch.grant(int(grant)) {
				return badFrame("bad window grant")
			}
		case frameReply:
			p, err := readPayload(ch.s, n)
			if err != nil {
				return err
			}
			if err := ch.rq.deliver(p); err != nil {
				return err
			}
		default:
			return badFrame("%v on an open channel", t)
		}
	}
}

// Request is a channel or global request from the peer.
type Request struct {
	Type      string
	WantReply bool
	Payload   []byte

	fw      *frameWriter
	replied bool
}

// Reply answers a request that wants one; it does nothing otherwise. Each
// request that wants a reply must get exactly one, in order.
func (r *Request) Reply(ok bool, payload []byte) error {
	if !r.WantReply || r.replied {
		return nil
	}
	r.replied = true
	if err := r.fw.write(frameReply, []byte{boolByte(ok)}, payload); err != nil {
		return fmt.Errorf("send reply: %w", err)
	}
	return nil
}
