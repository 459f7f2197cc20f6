package sshfront

import (
	"sync"

	"golang.org/x/crypto/ssh"
)

// maxQueuedRequests bounds the requests waiting to be forwarded on one
// channel (or one connection, for global requests). Past it, a reader that
// pushes blocks, except for window-change, which is coalesced instead.
const maxQueuedRequests = 64

// reqQueue decouples reading requests from forwarding them. SSH replies
// must come in request order, so requests are forwarded one at a time; the
// queue lets the reading side keep draining x/crypto's request channel
// (which would otherwise stall the whole connection) while a forwarded
// request waits for the peer's reply.
type reqQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*ssh.Request
	closed bool

	// With work set (newWorkQueue), requests are handed to work on a
	// goroutine that runs only while some wait: an idle connection or
	// channel keeps no goroutine for them.
	work    func(*ssh.Request)
	working bool
}

// newWorkQueue returns a queue whose requests go to work, in order, one at
// a time; closeWait ends it.
func newWorkQueue(work func(*ssh.Request)) *reqQueue {
	q := newReqQueue()
	q.work = work
	return q
}

// drain runs work on queued requests until the queue is empty.
func (q *reqQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.working = false
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		}
		r := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.cond.Broadcast()
		q.mu.Unlock()
		q.work(r)
	}
}

// closeWait closes the queue and waits until its worker handed on every
// request pushed before.
func (q *reqQueue) closeWait() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	for q.working {
		q.cond.Wait()
	}
	q.mu.Unlock()
}

func newReqQueue() *reqQueue {
	q := &reqQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues r. A window-change that wants no reply replaces a queued one
// right before it (only the latest size matters) and never waits; other
// requests wait while the queue is full.
func (q *reqQueue) push(r *ssh.Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if isWindowChange(r) {
		if n := len(q.items); n > 0 && isWindowChange(q.items[n-1]) {
			q.items[n-1] = r
			return
		}
	} else {
		for len(q.items) >= maxQueuedRequests && !q.closed {
			q.cond.Wait()
		}
	}
	q.items = append(q.items, r)
	q.cond.Broadcast()
	if q.work != nil && !q.working {
		q.working = true
		go q.drain()
	}
}

// close ends the queue: pop returns what is left, then false.
func (q *reqQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// pop waits for the next request; false once the queue is closed and empty.
func (q *reqQueue) pop() (*ssh.Request, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil, false
	}
	r := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	q.cond.Broadcast()
	return r, true
}

func isWindowChange(r *ssh.Request) bool { return r.Type == "window-change" && !r.WantReply }
