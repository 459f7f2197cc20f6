package upgrade

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// switchingProtocols is the whole 101 answer; written by hand because the
// connection is hijacked first (net/http cannot send a 101 and keep going).
func switchingProtocols(proto string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\n" +
		"Connection: Upgrade\r\n" +
		"Upgrade: " + proto + "\r\n\r\n")
}

// validProtocol keeps proto from breaking the header line it goes in.
func validProtocol(proto string) error {
	if proto == "" || strings.ContainsAny(proto, " \t\r\n,") {
		return fmt.Errorf("invalid upgrade protocol %q", proto)
	}
	return nil
}

// Accept hijacks the connection of an upgrade request for proto (check it
// with Requested first). The 101 is not written yet: it goes out in front
// of the first Write or with Commit, so that the server can make the
// connection usable before the client learns it is connected. The HTTP
// server's deadlines are cleared: they must not cut a long-lived
// connection. When hijacking fails (http.ErrNotSupported, say), w can
// still answer.
func Accept(w http.ResponseWriter, proto string) (*Conn, error) {
	if err := validProtocol(proto); err != nil {
		return nil, err
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack: %w", err)
	}
	_ = conn.SetDeadline(time.Time{}) // Hijack does too, today; said here, not assumed
	return newConn(conn, brw.Reader, switchingProtocols(proto)), nil
}
