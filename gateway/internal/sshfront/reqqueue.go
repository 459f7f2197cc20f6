package sshfront

import (
	"sync"

	"golang.org/x/crypto/ssh"
)

// maxQueuedRequests bounds the requests waiting to be forwarded on one
// channel (or one connection, for global requests). Past it, a reader that
// pushes blocks, except for window-change, which is coalesced instead.
const maxQueuedRequests = 64

// reqQueue decouples reading requests from handling them. SSH replies must
// come in request order, so requests are handled one at a time, in order;
// the queue lets the reading side keep draining x/crypto's request channel
// (which would otherwise stall the whole connection) while a request waits
// for the peer's reply. Requests go to work on a goroutine that runs only
// while some wait: an idle connection or channel keeps none for them.
type reqQueue struct {
	work func(*ssh.Request)

	mu      sync.Mutex
	cond    sync.Cond
	items   []*ssh.Request
	working bool
}

// newWorkQueue returns a queue whose requests go to work, in order, one at
// a time; closeWait ends it.
func newWorkQueue(work func(*ssh.Request)) *reqQueue {
	q := &reqQueue{work: work}
	q.cond.L = &q.mu
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
		for len(q.items) >= maxQueuedRequests {
			q.cond.Wait()
		}
	}
	q.items = append(q.items, r)
	if !q.working {
		q.working = true
		go q.drain()
	}
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

// closeWait waits until the worker handed on every request pushed before.
// The pushing side calls it once it pushes no more.
func (q *reqQueue) closeWait() {
	q.mu.Lock()
	for q.working {
		q.cond.Wait()
	}
	q.mu.Unlock()
}

func isWindowChange(r *ssh.Request) bool { return r.Type == "window-change" && !r.WantReply }
