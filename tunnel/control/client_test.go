package control_test

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/tunnel/control"
)

// agentAnswering is a server that reads one request with ReadRequest and
// answers what answer makes of it.
func agentAnswering(t *testing.T, got *control.Request, answer func(control.Request) control.Response) func(net.Conn) {
	return func(c net.Conn) {
		req, err := control.ReadRequest(c)
		if err != nil {
			t.Errorf("ReadRequest: %v", err)
			return
		}
		*got = req
		if err := control.WriteResponse(c, answer(req)); err != nil {
			t.Errorf("WriteResponse: %v", err)
		}
	}
}

func TestAskRoundTrip(t *testing.T) {
	stats := &control.Stats{
		StartedAt:   time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		Connections: 1,
		Users:       []control.UserStats{{Name: "bob", Connections: 1}},
		BytesIn:     42,
	}
	for _, tc := range []struct {
		req  control.Request
		resp control.Response
	}{
		{control.Request{Op: control.OpStats}, control.Response{Stats: stats}},
		{control.Request{Op: control.OpLogs, Lines: 2}, control.Response{Lines: []string{"one", "two"}}},
		// "No lines yet" is an answer, not a missing one.
		{control.Request{Op: control.OpLogs, Lines: 5}, control.Response{Lines: []string{}}},
		{control.Request{Op: control.OpUsers}, control.Response{Users: []string{"bob"}}},
		// "No users" is an answer too.
		{control.Request{Op: control.OpUsers}, control.Response{Users: []string{}}},
		{
			control.Request{Op: control.OpEndUsers, Users: []string{"bob", "carol"}},
			control.Response{Ended: []control.EndedProcess{{User: "bob", PID: 42, Command: "sleep 321"}}},
		},
		{control.Request{Op: control.OpEndUsers, Users: []string{"bob"}}, control.Response{Ended: []control.EndedProcess{}}},
	} {
		client, server := tcpPair(t)
		var got control.Request
		serve(t, server, agentAnswering(t, &got, func(control.Request) control.Response { return tc.resp }))
		resp, err := control.Ask(context.Background(), client, tc.req)
		if err != nil {
			t.Fatalf("Ask %+v: %v", tc.req, err)
		}
		if !reflect.DeepEqual(resp, tc.resp) {
			t.Errorf("Ask %+v = %+v, want %+v", tc.req, resp, tc.resp)
		}
		if !reflect.DeepEqual(got, tc.req) {
			t.Errorf("the agent read %+v, want %+v", got, tc.req)
		}
	}
}

func TestAskBadAnswers(t *testing.T) {
	readThen := func(answer func(net.Conn)) func(net.Conn) {
		return func(c net.Conn) {
			if _, err := control.ReadRequest(c); err != nil {
				t.Errorf("ReadRequest: %v", err)
				return
			}
			answer(c)
		}
	}
	for name, tc := range map[string]struct {
		agent func(net.Conn)
		check func(error) bool
	}{
		"closed unanswered": {
			readThen(func(net.Conn) {}),
			func(err error) bool { return errors.Is(err, control.ErrNoAnswer) },
		},
		"oversize": {
			readThen(func(c net.Conn) {
				_, _ = io.Copy(c, io.LimitReader(neverEnding('x'), control.MaxResponseBytes+1))
			}),
			func(err error) bool { return errors.Is(err, control.ErrAnswerTooLarge) },
		},
		"undecodable": {
			readThen(func(c net.Conn) { _, _ = io.WriteString(c, "not json\n") }),
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "decode stats answer") },
		},
		"refused": {
			readThen(func(c net.Conn) { _ = control.WriteResponse(c, control.Response{Error: "no stats today"}) }),
			func(err error) bool {
				var re *control.RefusedError
				return errors.As(err, &re) && re.Op == control.OpStats && re.Reason == "no stats today"
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			client, server := tcpPair(t)
			serve(t, server, tc.agent)
			resp, err := control.Ask(context.Background(), client, control.Request{Op: control.OpStats})
			if !tc.check(err) {
				t.Fatalf("Ask = %+v, %v", resp, err)
			}
		})
	}
}

// A silent agent is given up on when ctx ends, well before the conn's own
// deadline.
func TestAskCanceled(t *testing.T) {
	client, server := tcpPair(t)
	serve(t, server, func(c net.Conn) {
		// Read the request, then wait for the gateway to give up.
		_, _ = io.Copy(io.Discard, c)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := control.Ask(ctx, client, control.Request{Op: control.OpStats})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ask: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > testTimeout/2 {
		t.Fatalf("Ask returned after %v", d)
	}
	client.Close() // ends the agent's read

	// Already done: nothing is sent.
	client, server = tcpPair(t)
	serve(t, server, func(c net.Conn) {
		if n, _ := io.Copy(io.Discard, c); n != 0 {
			t.Errorf("the agent got %d bytes from a canceled Ask", n)
		}
	})
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := control.Ask(ctx, client, control.Request{Op: control.OpStats}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ask with a done ctx: %v", err)
	}
	client.Close()
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
