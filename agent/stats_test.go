package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/control"
)

func TestStatsCountLiveConnectionsSessionsAndBytes(t *testing.T) {
	a := newTestAgent(t)
	if s := a.Stats(); s.Connections != 0 || len(s.Users) != 0 || s.BytesIn != 0 {
		t.Fatalf("fresh agent: %+v", s)
	}
	client := dialConn(t, a) // bob's connection: a conn stream and a session channel stream
	sess := newSession(t, client)
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("cat"); err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("x", 64<<10)
	go func() { _, _ = io.WriteString(stdin, payload) }()
	if _, err := io.ReadFull(out, make([]byte, len(payload))); err != nil {
		t.Fatalf("echo through cat: %v", err)
	}

	// A tcp stream of carol to a local port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp := streamPair(t, a, tunnel.Header{Kind: tunnel.KindTCP, User: "carol", Port: uint16(ln.Addr().(*net.TCPAddr).Port)})
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()

	s := a.Stats()
	want := []control.UserStats{{Name: "bob", Connections: 1, Sessions: 1}, {Name: "carol", TCPStreams: 1}}
	if !reflect.DeepEqual(s.Users, want) || s.Connections != 1 || s.Sessions != 1 || s.TCPStreams != 1 {
		t.Fatalf("live stats: %+v, want users %+v", s, want)
	}
	// The 64 KiB went both ways through bob's channel stream (plus framing).
	// A write is counted once it returned, which can be after the reader
	// here already has the bytes.
	testutil.Eventually(t, "64 KiB counted each way", func() bool {
		s = a.Stats()
		return s.BytesIn >= uint64(len(payload)) && s.BytesOut >= uint64(len(payload))
	})
	if s.UptimeSeconds <= 0 || s.StartedAt.IsZero() || s.StartedAt.After(time.Now()) {
		t.Fatalf("uptime %v started %v", s.UptimeSeconds, s.StartedAt)
	}

	// Ending the session, then the connections, empties the table.
	_ = stdin.Close()
	if err := sess.Wait(); err != nil {
		t.Fatalf("cat: %v", err)
	}
	testutil.Eventually(t, "session count back to 0", func() bool { return a.Stats().Sessions == 0 })
	client.Close()
	tcp.Close()
	accepted.Close()
	testutil.Eventually(t, "no one connected", func() bool { s := a.Stats(); return len(s.Users) == 0 && s.Connections == 0 && s.TCPStreams == 0 })
	if after := a.Stats(); after.BytesIn < s.BytesIn || after.BytesOut < s.BytesOut {
		t.Fatalf("byte counters went down: %+v then %+v", s, after)
	}
}

func TestParseLoadAvg(t *testing.T) {
	for in, want := range map[string][]float64{
		"0.52 0.58 0.59 2/1234 5678\n": {0.52, 0.58, 0.59},
		"1 2 3":                        {1, 2, 3},
		"":                             nil,
		"0.1 0.2":                      nil,
		"a b c":                        nil,
		"-1 0 0":                       nil,
	} {
		if got := parseLoadAvg(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseLoadAvg(%q) = %v, want %v", in, got, want)
		}
	}
}

// ask sends one control request on a fresh control stream and decodes the
// answer; the agent closes the stream after it.
func ask(t *testing.T, a *Agent, req string) control.Response {
	t.Helper()
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindControl})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	var resp control.Response
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return resp
}

func TestControlStream(t *testing.T) {
	a := newTestAgent(t)
	client := dialConn(t, a)
	testutil.Eventually(t, "bob connected", func() bool { return a.Stats().Connections == 1 })

	resp := ask(t, a, `{"op":"stats"}`)
	if resp.Error != "" || resp.Stats == nil || resp.Stats.Connections != 1 || len(resp.Stats.Users) != 1 || resp.Stats.Users[0].Name != "bob" {
		t.Fatalf("stats answer: %+v (stats %+v)", resp, resp.Stats)
	}
	// Control streams are not connections of anyone.
	if s := a.Stats(); s.Connections != 1 || len(s.Users) != 1 {
		t.Fatalf("control stream counted: %+v", s)
	}

	client.Close()
	testutil.Eventually(t, "bob's connection logged as closed", func() bool {
		return strings.Contains(strings.Join(a.Logs(logRingLines), "\n"), `msg="ssh connection closed"`)
	})
	resp = ask(t, a, `{"op":"logs","lines":1000}`)
	all := strings.Join(resp.Lines, "\n")
	if resp.Error != "" || !strings.Contains(all, `msg="ssh connection open"`) || !strings.Contains(all, "user=bob") {
		t.Fatalf("logs answer: %+v", resp)
	}
	if resp := ask(t, a, `{"op":"logs","lines":1}`); len(resp.Lines) != 1 {
		t.Fatalf("logs lines=1: %q", resp.Lines)
	}

	for req, want := range map[string]string{
		`{"op":"reboot"}`:         `unknown control op "reboot"`,
		`{"op":"logs","lines":0}`: "lines must be positive",
		`{"op":"stats","x":1}`:    "bad control request",
		`not json`:                "bad control request",
	} {
		if resp := ask(t, a, req); !strings.Contains(resp.Error, want) {
			t.Errorf("request %.20q: answer %+v, want error containing %q", req, resp, want)
		}
	}

	// An endless request is cut off at the limit: the agent answers and
	// closes (on TCP the unread rest may turn that into a reset) instead of
	// reading on.
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindControl})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	go func() { _, _ = c.Write([]byte(strings.Repeat(" ", 1<<20))) }()
	if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("oversize request: %v", err)
	}
}

// A fresh agent with no log line yet answers an empty list, not an error.
func TestControlLogsEmpty(t *testing.T) {
	a := newTestAgent(t)
	resp := a.control(control.Request{Op: control.OpLogs, Lines: 10})
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"lines":[]}` && !strings.HasPrefix(got, `{"lines":["`) {
		t.Fatalf("logs answer %s", got)
	}
}
