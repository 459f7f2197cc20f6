package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// The control stream (tunnel.KindControl): after the header the gateway
// sends one JSON request, the agent answers one JSON response and closes.
//
//	{"op":"stats"}          → {"stats":{...Stats}}
//	{"op":"logs","lines":N} → {"lines":["...", ...]}   (oldest first)
//	anything else           → {"error":"..."}
const (
	controlTimeout    = 10 * time.Second
	maxControlRequest = 4 << 10
)

// ControlRequest is one request on a control stream.
type ControlRequest struct {
	Op    string `json:"op"`              // "stats" or "logs"
	Lines int    `json:"lines,omitempty"` // logs: how many of the newest lines
}

// ControlResponse is the answer; exactly one field is set.
type ControlResponse struct {
	Stats *Stats   `json:"stats,omitempty"`
	Lines []string `json:"lines,omitzero"`
	Error string   `json:"error,omitempty"`
}

// serveControl answers one control request. A slow or silent gateway is cut
// off after controlTimeout.
func (a *Agent) serveControl(conn net.Conn, log *slog.Logger) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(controlTimeout))
	var req ControlRequest
	dec := json.NewDecoder(io.LimitReader(conn, maxControlRequest))
	dec.DisallowUnknownFields()
	var resp ControlResponse
	if err := dec.Decode(&req); err != nil {
		resp.Error = fmt.Sprintf("bad control request: %v", err)
	} else {
		resp = a.control(req)
	}
	if resp.Error != "" {
		log.Debug("control request refused", "op", req.Op, "err", resp.Error)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		abortConn(conn)
		return
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		log.Debug("control answer not sent", "err", err)
		abortConn(conn)
	}
}

func (a *Agent) control(req ControlRequest) ControlResponse {
	switch req.Op {
	case "stats":
		s := a.Stats()
		return ControlResponse{Stats: &s}
	case "logs":
		if req.Lines <= 0 {
			return ControlResponse{Error: "logs: lines must be positive"}
		}
		// A non-nil slice, so that "no lines yet" is not read as an error.
		lines := a.Logs(req.Lines)
		if lines == nil {
			lines = []string{}
		}
		return ControlResponse{Lines: lines}
	}
	return ControlResponse{Error: fmt.Sprintf("unknown control op %q", req.Op)}
}
