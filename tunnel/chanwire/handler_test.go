package chanwire

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is a Handler that notes frames in the order they came.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) Data(p []byte) error   { r.add("data:" + string(p)); return nil }
func (r *recorder) Stderr(p []byte) error { r.add("stderr:" + string(p)); return nil }
func (r *recorder) EOF()                  { r.add("eof") }
func (r *recorder) Request(req *Request) {
	r.add("request:" + req.Type)
	_ = req.Reply(true, nil)
}

// TestServeHandlerOrder: a Handler sees the agent's frames in the order they
// were sent, and pipelined requests get their replies in request order.
func TestServeHandlerOrder(t *testing.T) {
	cs := newConns(t, newPair(t))
	got := make(chan *Channel, 1)
	go func() {
		ch, err := cs.gw.OpenChannelHandler("session", nil)
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- ch
	}()
	nc := recvTimeout(t, cs.agChans, "new channel")
	ag, agReqs, err := nc.Accept()
	if err != nil {
		t.Fatal(err)
	}
	gw := recvTimeout(t, got, "open")

	// Pipelined: all sent before any reply is read; replies in order.
	var replies []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		err := gw.SendRequestFunc(fmt.Sprintf("req%d", i), true, nil, func(ok bool, p []byte, closed bool) {
			mu.Lock()
			replies = append(replies, fmt.Sprintf("%s:%v", p, ok))
			mu.Unlock()
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	serveDone := make(chan error, 1)
	rec := &recorder{}
	go func() { serveDone <- gw.Serve(rec) }()
	n := 0
	for req := range agReqs {
		_ = req.Reply(n%2 == 0, []byte(req.Type))
		n++
		if n == 5 {
			break
		}
	}
	wg.Wait()
	if want := "req0:true req1:false req2:true req3:false req4:true"; strings.Join(replies, " ") != want {
		t.Fatalf("replies %v, want %s", replies, want)
	}
	_, _ = ag.Write([]byte("out"))
	_, _ = ag.Stderr().Write([]byte("err"))
	_ = ag.CloseWrite()
	_, _ = ag.SendRequest("exit-status", false, []byte{0, 0, 0, 0})
	_ = ag.Close()
	if err := recvTimeout(t, serveDone, "serve"); err != nil {
		t.Fatalf("serve: %v", err)
	}
	want := "data:out stderr:err eof request:exit-status"
	if got := strings.Join(rec.events, " "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	gw.Close()
	go func() {
		for range agReqs {
		}
	}()
}
