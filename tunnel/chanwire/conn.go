package chanwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// DialFunc opens a new channel stream to the agent, its tunnel stream
// header already written (the gateway's side only).
type DialFunc func(ctx context.Context) (net.Conn, error)

// FirstFrameTimeout bounds how long a new stream may take to send its
// first frame (hello, open or accept).
var FirstFrameTimeout = 30 * time.Second

// Conn is one user SSH connection between the gateway and the agent: the
// conn stream and the channel streams that belong to it.
type Conn struct {
	ctrl net.Conn
	fw   frameWriter
	rq   requester
	dial DialFunc // nil on the agent's side

	ctx    context.Context // ends with the connection
	cancel context.CancelFunc

	chans chan *NewChannel
	reqs  chan *Request
	done  chan struct{} // the conn stream's reader has ended

	mu       sync.Mutex
	channels map[*Channel]struct{}
	opens    map[uint32]chan net.Conn // agent: open-requests waiting; nil value slot closed on failure
	failures map[uint32]*OpenChannelError
	nextID   uint32
	ended    bool
	err      error
	sending  sync.WaitGroup // HandleStream calls handing a channel to chans
}

func newConn(ctrl net.Conn, dial DialFunc) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		ctrl:     ctrl,
		fw:       frameWriter{w: ctrl},
		dial:     dial,
		ctx:      ctx,
		cancel:   cancel,
		chans:    make(chan *NewChannel, 16),
		reqs:     make(chan *Request, 16),
		done:     make(chan struct{}),
		channels: make(map[*Channel]struct{}),
		opens:    make(map[uint32]chan net.Conn),
		failures: make(map[uint32]*OpenChannelError),
	}
	c.rq.fw = &c.fw
	return c
}

// Client is the gateway's side: it says hello on ctrl (a new conn stream)
// and waits for the agent's. dial opens the connection's channel streams.
func Client(ctx context.Context, ctrl net.Conn, dial DialFunc) (*Conn, <-chan *NewChannel, <-chan *Request, error) {
	c := newConn(ctrl, dial)
	stop := context.AfterFunc(ctx, func() { _ = ctrl.SetDeadline(time.Unix(1, 0)) })
	err := c.fw.write(frameHello, []byte{Version})
	if err == nil {
		err = readHello(ctrl)
	}
	if !stop() || err != nil {
		_ = ctrl.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, nil, fmt.Errorf("chanwire hello: %w", err)
	}
	go c.readLoop()
	return c, c.chans, c.reqs, nil
}

// Server is the agent's side of a new conn stream: it waits for the
// gateway's hello, calls ready (where the agent makes the connection
// findable for its channel streams), then answers hello. An error from
// ready refuses the connection: the stream closes without a hello.
func Server(ctrl net.Conn, ready func(*Conn) error) (*Conn, <-chan *NewChannel, <-chan *Request, error) {
	c := newConn(ctrl, nil)
	_ = ctrl.SetReadDeadline(time.Now().Add(FirstFrameTimeout))
	if err := readHello(ctrl); err != nil {
		_ = ctrl.Close()
		return nil, nil, nil, fmt.Errorf("chanwire hello: %w", err)
	}
	_ = ctrl.SetReadDeadline(time.Time{})
	if ready != nil {
		if err := ready(c); err != nil {
			_ = ctrl.Close()
			return nil, nil, nil, fmt.Errorf("chanwire hello: %w", err)
		}
	}
	if err := c.fw.write(frameHello, []byte{Version}); err != nil {
		_ = ctrl.Close()
		return nil, nil, nil, fmt.Errorf("chanwire hello: %w", err)
	}
	go c.readLoop()
	return c, c.chans, c.reqs, nil
}

func readHello(r io.Reader) error {
	t, p, err := readFrame(r)
	if err != nil {
		return unexpected(err)
	}
	if t != frameHello || len(p) != 1 {
		return badFrame("%v where hello was expected", t)
	}
	if p[0] != Version {
		return fmt.Errorf("%w: peer speaks chanwire v%d, this side v%d", ErrVersion, p[0], Version)
	}
	return nil
}

// ErrVersion is returned when the peer speaks another protocol version.
var ErrVersion = errors.New("protocol version mismatch")

// SendRequest sends a global request (tcpip-forward and the like).
func (c *Conn) SendRequest(name string, wantReply bool, payload []byte) (bool, []byte, error) {
	return c.rq.send(name, wantReply, payload)
}

// Close ends the connection and every channel of it.
func (c *Conn) Close() error {
	c.cancel()
	return c.ctrl.Close()
}

// Wait returns when the connection has ended, with the reason when it was
// not a close.
func (c *Conn) Wait() error {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// track adds ch to the connection; false when the connection has ended.
func (c *Conn) track(ch *Channel) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.channels[ch] = struct{}{}
	return true
}

func (c *Conn) untrack(ch *Channel) {
	c.mu.Lock()
	delete(c.channels, ch)
	c.mu.Unlock()
}

// addChannel makes s a channel of this connection, its reader not yet
// running.
func (c *Conn) addChannel(s net.Conn) (*Channel, error) {
	var ch *Channel
	ch = newChannel(s, func() { c.untrack(ch) })
	if !c.track(ch) {
		ch.Close()
		return nil, ErrChannelClosed
	}
	return ch, nil
}

// readLoop serves the conn stream; when it ends, so does the connection.
func (c *Conn) readLoop() {
	err := c.readFrames()
	c.mu.Lock()
	if err != nil && c.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		c.err = err
	}
	c.ended = true
	channels := c.channels
	c.channels = map[*Channel]struct{}{}
	opens := c.opens
	c.opens = map[uint32]chan net.Conn{}
	c.mu.Unlock()
	c.cancel()
	_ = c.ctrl.Close()
	c.sending.Wait() // they see ctx and give up; then chans may close
	for ch := range channels {
		ch.Close()
	}
	for _, w := range opens {
		close(w)
	}
	c.rq.end()
	close(c.chans)
	close(c.reqs)
	close(c.done)
}

func (c *Conn) readFrames() error {
	for {
		t, p, err := readFrame(c.ctrl)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case t == frameRequest:
			name, want, payload, err := decodeRequest(p)
			if err != nil {
				return err
			}
			select {
			case c.reqs <- &Request{Type: name, WantReply: want, Payload: payload, fw: &c.fw}:
			case <-c.ctx.Done():
				return nil
			}
		case t == frameReply:
			if err := c.rq.deliver(p); err != nil {
				return err
			}
		case t == frameOpenRequest && c.dial != nil:
			nc, err := c.decodeOpenRequest(p)
			if err != nil {
				return err
			}
			select {
			case c.chans <- nc:
			case <-c.ctx.Done():
				return nil
			}
		case t == frameOpenFailure && c.dial == nil:
			id, rest, ok := cutUint32(p)
			if !ok {
				return badFrame("open-failure: truncated")
			}
			oe, err := decodeFailure(rest)
			if err != nil {
				return err
			}
			c.mu.Lock()
			w, found := c.opens[id]
			if found {
				delete(c.opens, id)
				c.failures[id] = oe
			}
			c.mu.Unlock()
			if found {
				close(w)
			}
		default:
			return badFrame("%v on a conn stream", t)
		}
	}
}

// OpenChannel opens a channel toward the peer: on the gateway's side a new
// stream with an open frame, answered by the agent; on the agent's side an
// open-request, answered by the gateway with an accepted stream or a
// failure. A refusal is an *OpenChannelError.
func (c *Conn) OpenChannel(typ string, extra []byte) (*Channel, <-chan *Request, error) {
	ch, err := c.OpenChannelHandler(typ, extra)
	if err != nil {
		return nil, nil, err
	}
	ch.start()
	return ch, ch.Requests(), nil
}

// OpenChannelHandler opens a channel as OpenChannel does, but its frames go
// to the Handler the caller passes to Serve.
func (c *Conn) OpenChannelHandler(typ string, extra []byte) (*Channel, error) {
	var (
		s   net.Conn
		err error
	)
	if c.dial != nil {
		s, err = c.openStream(typ, extra)
	} else {
		s, err = c.requestOpen(typ, extra)
	}
	if err != nil {
		return nil, err
	}
	return c.addChannel(s)
}

// openStream (gateway) dials a channel stream and waits for the answer.
func (c *Conn) openStream(typ string, extra []byte) (net.Conn, error) {
	payload, err := appendStr8(nil, typ)
	if err != nil {
		return nil, err
	}
	s, err := c.dial(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("open %s stream: %w", typ, err)
	}
	// The answer waits for the agent's handler; the connection's end
	// must still end the wait.
	stop := context.AfterFunc(c.ctx, func() { _ = s.Close() })
	defer stop()
	fw := frameWriter{w: s}
	if err := fw.write(frameOpen, payload, extra); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open %s: %w", typ, err)
	}
	t, p, err := readFrame(s)
	if err != nil {
		_ = s.Close()
		if c.ctx.Err() != nil {
			return nil, ErrChannelClosed
		}
		return nil, fmt.Errorf("open %s: %w", typ, unexpected(err))
	}
	switch t {
	case frameOpenConfirm:
		return s, nil
	case frameOpenFailure:
		_ = s.Close()
		oe, err := decodeFailure(p)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", typ, err)
		}
		return nil, oe
	}
	_ = s.Close()
	return nil, fmt.Errorf("open %s: %w", typ, badFrame("%v as the answer to open", t))
}

// requestOpen (agent) asks the gateway to open a channel and waits.
func (c *Conn) requestOpen(typ string, extra []byte) (net.Conn, error) {
	payload, err := appendStr8(nil, typ)
	if err != nil {
		return nil, err
	}
	w := make(chan net.Conn, 1)
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return nil, ErrChannelClosed
	}
	c.nextID++
	id := c.nextID
	c.opens[id] = w
	c.mu.Unlock()
	if err := c.fw.write(frameOpenRequest, uint32Bytes(id), payload, extra); err != nil {
		c.mu.Lock()
		delete(c.opens, id)
		c.mu.Unlock()
		return nil, fmt.Errorf("request open %s: %w", typ, err)
	}
	s, ok := <-w
	if ok {
		return s, nil
	}
	c.mu.Lock()
	oe := c.failures[id]
	delete(c.failures, id)
	c.mu.Unlock()
	if oe != nil {
		return nil, oe
	}
	return nil, ErrChannelClosed
}

// HandleStream (agent) serves a channel stream of this connection: a new
// channel from the user (open) or the answer to an open-request (accept).
// It returns once the stream is handed on.
func (c *Conn) HandleStream(s net.Conn) error {
	_ = s.SetReadDeadline(time.Now().Add(FirstFrameTimeout))
	t, p, err := readFrame(s)
	_ = s.SetReadDeadline(time.Time{})
	if err != nil {
		_ = s.Close()
		return fmt.Errorf("channel stream: %w", unexpected(err))
	}
	switch t {
	case frameOpen:
		typ, extra, err := decodeOpen(p)
		if err != nil {
			_ = s.Close()
			return err
		}
		nc := &NewChannel{typ: typ, extra: extra, c: c, s: s}
		c.mu.Lock()
		if c.ended {
			c.mu.Unlock()
			_ = nc.Reject(ResourceShortage, "connection closed")
			return ErrChannelClosed
		}
		c.sending.Add(1)
		c.mu.Unlock()
		defer c.sending.Done()
		select {
		case c.chans <- nc:
			return nil
		case <-c.ctx.Done():
			_ = s.Close()
			return ErrChannelClosed
		}
	case frameAccept:
		id, rest, ok := cutUint32(p)
		if !ok || len(rest) != 0 {
			_ = s.Close()
			return badFrame("accept: bad id")
		}
		c.mu.Lock()
		w, found := c.opens[id]
		delete(c.opens, id)
		c.mu.Unlock()
		if !found {
			_ = s.Close()
			return badFrame("accept for unknown open %d", id)
		}
		w <- s
		return nil
	}
	_ = s.Close()
	return badFrame("%v as the first frame of a channel stream", t)
}

func (c *Conn) decodeOpenRequest(p []byte) (*NewChannel, error) {
	id, rest, ok := cutUint32(p)
	if !ok {
		return nil, badFrame("open-request: truncated")
	}
	typ, extra, err := decodeOpen(rest)
	if err != nil {
		return nil, err
	}
	return &NewChannel{typ: typ, extra: extra, c: c, id: id, fromAgent: true}, nil
}
