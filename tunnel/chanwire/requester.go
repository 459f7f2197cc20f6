package chanwire

import (
	"fmt"
	"sync"
)

// requester sends requests on one stream and matches the peer's replies,
// which come in the order of the requests that wanted one.
type requester struct {
	fw     *frameWriter
	sendMu sync.Mutex // keeps frame order equal to slot order

	mu      sync.Mutex
	pending []chan reply
	ended   bool
}

type reply struct {
	ok      bool
	payload []byte
}

// send writes one request frame and, with wantReply, waits for its reply
// or for done (the stream's reader ended).
func (r *requester) send(name string, wantReply bool, payload []byte, done <-chan struct{}) (bool, []byte, error) {
	frame, err := encodeRequest(name, wantReply, payload)
	if err != nil {
		return false, nil, err
	}
	var slot chan reply
	r.sendMu.Lock()
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		r.sendMu.Unlock()
		return false, nil, ErrChannelClosed
	}
	if wantReply {
		slot = make(chan reply, 1)
		r.pending = append(r.pending, slot)
	}
	r.mu.Unlock()
	// Not under mu: a write blocked on the window must not stop the reader
	// from taking replies.
	err = r.fw.write(frameRequest, frame)
	r.sendMu.Unlock()
	if err != nil {
		return false, nil, fmt.Errorf("send request %s: %w", name, err)
	}
	if !wantReply {
		return true, nil, nil
	}
	select {
	case rep, ok := <-slot:
		if !ok {
			return false, nil, ErrChannelClosed
		}
		return rep.ok, rep.payload, nil
	case <-done:
		select { // the reply may have landed just before the end
		case rep, ok := <-slot:
			if ok {
				return rep.ok, rep.payload, nil
			}
		default:
		}
		return false, nil, ErrChannelClosed
	}
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
	slot := r.pending[0]
	r.pending[0] = nil
	r.pending = r.pending[1:]
	r.mu.Unlock()
	slot <- reply{ok: ok, payload: payload}
	return nil
}

// end fails every waiting request and refuses new ones.
func (r *requester) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	for _, slot := range r.pending {
		close(slot)
	}
	r.pending = nil
}
