package sshfront

import (
	"fmt"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

func req(typ string, wantReply bool, payload string) *ssh.Request {
	return &ssh.Request{Type: typ, WantReply: wantReply, Payload: []byte(payload)}
}

// recorder is a work function that notes requests in order; while hold is
// open the first request it gets waits, so that the rest queue up.
type recorder struct {
	mu   sync.Mutex
	got  []string
	hold chan struct{}
	took chan struct{} // closed once the held request is being handled
	once sync.Once
}

func newRecorder() *recorder {
	return &recorder{hold: make(chan struct{}), took: make(chan struct{})}
}

func (r *recorder) work(q *ssh.Request) {
	r.once.Do(func() {
		close(r.took)
		<-r.hold
	})
	r.mu.Lock()
	r.got = append(r.got, q.Type+":"+string(q.Payload))
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func TestReqQueueCoalescesWindowChanges(t *testing.T) {
	rec := newRecorder()
	q := newWorkQueue(rec.work)
	q.push(req("first", true, "")) // held by the worker: the rest queue
	<-rec.took
	for _, r := range []*ssh.Request{
		req("pty-req", true, ""),
		req("window-change", false, "1"),
		req("window-change", false, "2"),
		req("shell", true, ""),
		req("window-change", false, "3"),
		req("window-change", true, "4"), // wants a reply: never merged
		req("window-change", false, "5"),
		req("window-change", false, "6"),
	} {
		q.push(r)
	}
	close(rec.hold)
	q.closeWait()
	want := []string{"first:", "pty-req:", "window-change:2", "shell:", "window-change:3", "window-change:4", "window-change:6"}
	if got := rec.list(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReqQueueFullNeverBlocksWindowChange(t *testing.T) {
	rec := newRecorder()
	q := newWorkQueue(rec.work)
	q.push(req("first", true, ""))
	<-rec.took
	for i := range maxQueuedRequests {
		q.push(req("env", false, fmt.Sprint(i)))
	}
	// The queue is full: window-changes still go in (and merge), right away.
	q.push(req("window-change", false, "a"))
	q.push(req("window-change", false, "b"))

	// Another request waits for room, then keeps its place.
	pushed := make(chan struct{})
	go func() {
		q.push(req("exec", true, ""))
		close(pushed)
	}()
	close(rec.hold)
	<-pushed
	q.closeWait()
	got := rec.list()
	if n := len(got); n != maxQueuedRequests+3 || got[n-2] != "window-change:b" || got[n-1] != "exec:" {
		t.Fatalf("tail %v", got[max(0, len(got)-3):])
	}
	for i := range maxQueuedRequests {
		if got[1+i] != fmt.Sprintf("env:%d", i) {
			t.Fatalf("request %d: %q", i, got[1+i])
		}
	}
}

// TestReqQueueIdleHoldsNoWorker: the worker exists only while requests
// wait, and a queue used again after going idle starts one again.
func TestReqQueueIdleHoldsNoWorker(t *testing.T) {
	var mu sync.Mutex
	var got []string
	q := newWorkQueue(func(r *ssh.Request) {
		mu.Lock()
		got = append(got, r.Type)
		mu.Unlock()
	})
	q.push(req("a", false, ""))
	q.closeWait()
	q.mu.Lock()
	idle := !q.working
	q.mu.Unlock()
	if !idle {
		t.Fatal("worker still running with nothing queued")
	}
	q.push(req("b", false, ""))
	q.closeWait()
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[a b]" {
		t.Fatalf("got %v", got)
	}
}
