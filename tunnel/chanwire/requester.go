package chanwire

import (
	"fmt"
	"sync"
)

// requester sends requests on one stream and matches the peer's replies,
// which come in the order of the requests that wanted one.
type requester struct {
	fw     *frameWriter
	sendMu sync.Mutex // keeps frame order equal to pending order

	mu      sync.Mutex
	pending []ReplyFunc
	ended   bool
}

// ReplyFunc receives the answer to a request: ok and payload from the
// peer, or ok false and closed true when the stream ended first. It runs on
// the stream's reader, so it must not wait for that stream.
type ReplyFunc func(ok bool, payload []byte, closed bool)

// sendAsync writes one request frame; with wantReply, done is called with
// the answer later. It never waits for the peer, only for the stream's
// window, so requests can be pipelined.
func (r *requester) sendAsync(name string, wantReply bool, payload []byte, done ReplyFunc) error {
	frame, err := encodeRequest(name, wantReply, payload)
	if err != nil {
		return err
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return ErrChannelClosed
	}
	if wantReply {
		r.pending = append(r.pending, done)
	}
	r.mu.Unlock()
	// Not under mu: a write blocked on the window must not stop the reader
	// from delivering replies.
	if err := r.fw.write(frameRequest, frame); err != nil {
		return fmt.Errorf("send request %s: %w", name, err)
	}
	return nil
}

// send writes one request and, with wantReply, waits for the answer.
func (r *requester) send(name string, wantReply bool, payload []byte) (bool, []byte, error) {
	type answer struct {
		ok      bool
		payload []byte
		closed  bool
	}
	got := make(chan answer, 1)
	err := r.sendAsync(name, wantReply, payload, func(ok bool, p []byte, closed bool) {
		got <- answer{ok, p, closed}
	})
	if err != nil {
		return false, nil, err
	}
	if !wantReply {
		return true, nil, nil
	}
	a := <-got
	if a.closed {
		return false, nil, ErrChannelClosed
	}
	return a.ok, a.payload, nil
}

// deliver hands a reply frame to the oldest waiting request.
func (r *requester) deliver(p []byte) error {
	ok, payload, err := decodeReply(p)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return badFrame("reply without a request")
	}
	done := r.pending[0]
	r.pending[0] = nil
	r.pending = r.pending[1:]
	r.mu.Unlock()
	done(ok, payload, false)
	return nil
}

// end answers every waiting request as closed and refuses new ones.
func (r *requester) end() {
	r.mu.Lock()
	r.ended = true
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	for _, done := range pending {
		done(false, nil, true)
	}
}
