package agent

import (
	"log/slog"
	"net"
	"strconv"
	"time"
)

const dialTimeout = 10 * time.Second

// serveTCP relays a tcp stream (the gateway's app proxy) to a port on the
// agent's loopback.
func (a *Agent) serveTCP(stream net.Conn, port uint16, log *slog.Logger) {
	defer abortConn(stream)
	d := net.Dialer{Timeout: dialTimeout}
	target, err := d.DialContext(a.ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		log.Info("tcp stream: dial failed", "port", port, "err", err)
		return
	}
	log.Debug("tcp stream open", "port", port)
	join(a.ctx, asHalfCloser(stream), target.(*net.TCPConn))
	log.Debug("tcp stream closed", "port", port)
}
