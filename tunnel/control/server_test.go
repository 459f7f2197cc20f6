package control_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/tunnel/control"
)

func TestReadRequest(t *testing.T) {
	for in, want := range map[string]control.Request{
		`{"op":"stats"}` + "\n":              {Op: control.OpStats},
		`{"op":"logs","lines":7}`:            {Op: control.OpLogs, Lines: 7},
		`{"op":"reboot"}` + "\n":             {Op: "reboot"}, // the op is the server's to judge
		`{"op":"end-users","users":["bob"]}`: {Op: control.OpEndUsers, Users: []string{"bob"}},
		`  {"op":"stats"} trailing junk`:     {Op: control.OpStats},
	} {
		client, server := tcpPair(t)
		if _, err := io.WriteString(client, in); err != nil {
			t.Fatal(err)
		}
		got, err := control.ReadRequest(server)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ReadRequest(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestReadRequestRefuses(t *testing.T) {
	for _, in := range []string{
		`{"op":"stats","x":1}`,
		`not json`,
		`{"op":"logs","lines":"many"}`,
		"", // closed without a request
	} {
		client, server := tcpPair(t)
		if _, err := io.WriteString(client, in); err != nil {
			t.Fatal(err)
		}
		client.Close()
		if got, err := control.ReadRequest(server); err == nil || !strings.Contains(err.Error(), "bad control request") {
			t.Errorf("ReadRequest(%q) = %+v, %v; want a bad control request", in, got, err)
		}
	}
}

// An endless request is cut off at MaxRequestBytes: ReadRequest fails
// instead of reading on (the client never closes).
func TestReadRequestBounded(t *testing.T) {
	client, server := tcpPair(t)
	go func() {
		// Whitespace is valid JSON padding, so only the bound ends it.
		_, _ = io.Copy(client, io.LimitReader(neverEnding(' '), 1<<20))
	}()
	_, err := control.ReadRequest(server)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadRequest of an endless request: %v", err)
	}
	server.Close()
	client.Close() // ends the writer
}

func TestWriteResponse(t *testing.T) {
	client, server := tcpPair(t)
	serve(t, server, func(c net.Conn) {
		if err := control.WriteResponse(c, control.Response{Lines: []string{}}); err != nil {
			t.Errorf("WriteResponse: %v", err)
		}
	})
	b, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"lines":[]}`+"\n" {
		t.Fatalf("answer %q", got)
	}

	// A conn that is gone makes WriteResponse fail, so the agent can abort.
	_, server = tcpPair(t)
	server.Close()
	if err := control.WriteResponse(server, control.Response{Lines: []string{"x"}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteResponse to a closed conn: %v", err)
	}
}

// The stats JSON is the body of GET .../stats: its names are an API.
func TestStatsJSON(t *testing.T) {
	s := control.Stats{
		StartedAt:     time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		UptimeSeconds: 1.5,
		LoadAverage:   []float64{0.5, 0.25, 0},
		Connections:   1,
		Sessions:      2,
		TCPStreams:    3,
		Users:         []control.UserStats{{Name: "bob", Connections: 1, Sessions: 2, TCPStreams: 3}},
		BytesIn:       4,
		BytesOut:      5,
	}
	b, err := json.Marshal(control.Response{Stats: &s})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stats":{"started_at":"2024-05-01T12:00:00Z","uptime_seconds":1.5,"load_average":[0.5,0.25,0],` +
		`"connections":1,"sessions":2,"tcp_streams":3,` +
		`"users":[{"name":"bob","connections":1,"sessions":2,"tcp_streams":3}],"bytes_in":4,"bytes_out":5}}`
	if string(b) != want {
		t.Fatalf("stats JSON\n got %s\nwant %s", b, want)
	}
	b, err = json.Marshal(control.Request{Op: control.OpLogs, Lines: 3})
	if err != nil || string(b) != `{"op":"logs","lines":3}` {
		t.Fatalf("request JSON %s, %v", b, err)
	}
}
