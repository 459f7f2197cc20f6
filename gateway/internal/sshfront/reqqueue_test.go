package sshfront

import (
	"fmt"
	"testing"

	"golang.org/x/crypto/ssh"
)

func req(typ string, wantReply bool, payload string) *ssh.Request {
	return &ssh.Request{Type: typ, WantReply: wantReply, Payload: []byte(payload)}
}

func TestReqQueueCoalescesWindowChanges(t *testing.T) {
	q := newReqQueue()
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
	q.close()
	var got []string
	for {
		r, ok := q.pop()
		if !ok {
			break
		}
		got = append(got, r.Type+":"+string(r.Payload))
	}
	want := []string{"pty-req:", "window-change:2", "shell:", "window-change:3", "window-change:4", "window-change:6"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReqQueueFullNeverBlocksWindowChange(t *testing.T) {
	q := newReqQueue()
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
	// The window-change took the queue past its cap: room again after two.
	for i := range 2 {
		r, _ := q.pop()
		if string(r.Payload) != fmt.Sprint(i) {
			t.Fatalf("pop %d: %q", i, r.Payload)
		}
	}
	<-pushed
	q.close()
	var tail []string
	for {
		r, ok := q.pop()
		if !ok {
			break
		}
		tail = append(tail, r.Type+":"+string(r.Payload))
	}
	if n := len(tail); n != maxQueuedRequests || tail[n-2] != "window-change:b" || tail[n-1] != "exec:" {
		t.Fatalf("tail %v", tail[max(0, len(tail)-3):])
	}
}

func TestReqQueueCloseWakesBlockedPush(t *testing.T) {
	q := newReqQueue()
	for range maxQueuedRequests {
		q.push(req("env", false, ""))
	}
	done := make(chan struct{})
	go func() {
		q.push(req("exec", true, ""))
		close(done)
	}()
	q.close()
	<-done
}
