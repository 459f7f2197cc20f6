package agent

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/wsgate/wsgate/tunnel/control"
)

// controlTimeout cuts off a slow or silent gateway on a control stream.
const controlTimeout = 10 * time.Second

// serveControl answers one control request (package control has the
// protocol).
func (a *Agent) serveControl(conn net.Conn, log *slog.Logger) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(controlTimeout))
	var resp control.Response
	req, err := control.ReadRequest(conn)
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp = a.control(req)
	}
	if resp.Error != "" {
		log.Debug("control request refused", "op", req.Op, "err", resp.Error)
	}
	if err := control.WriteResponse(conn, resp); err != nil {
		log.Debug("control answer not sent", "err", err)
		abortConn(conn)
	}
}

func (a *Agent) control(req control.Request) control.Response {
	switch req.Op {
	case control.OpStats:
		s := a.Stats()
		return control.Response{Stats: &s}
	case control.OpLogs:
		if req.Lines <= 0 {
			return control.Response{Error: "logs: lines must be positive"}
		}
		// A non-nil slice, so that "no lines yet" is not read as an error.
		lines := a.Logs(req.Lines)
		if lines == nil {
			lines = []string{}
		}
		return control.Response{Lines: lines}
	case control.OpUsers, control.OpEndUsers:
		return a.procControl(req)
	case control.OpRotateKey:
		return a.rotateKey()
	}
	return control.Response{Error: fmt.Sprintf("unknown control op %q", req.Op)}
}
