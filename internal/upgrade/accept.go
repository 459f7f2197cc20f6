package upgrade

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// switchingProtocols is the whole 101 answer; written by hand because the
// connection is hijacked first (net/http cannot send a 101 and keep going).
// extra goes out too, except what would override the upgrade itself;
// Header.Write turns CR and LF in values into spaces.
func switchingProtocols(proto string, extra http.Header) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n" +
		"Connection: Upgrade\r\n" +
		"Upgrade: " + proto + "\r\n")
	_ = extra.WriteSubset(&b, map[string]bool{"Connection": true, "Upgrade": true})
	b.WriteString("\r\n")
	return b.Bytes()
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
	return AcceptHeader(w, proto, nil)
}

// AcceptHeader is Accept with more header fields in the 101 (a protocol
// version, say). w.Header() is not used: a 101 is not a normal answer, and
// what middleware set there was meant for those.
func AcceptHeader(w http.ResponseWriter, proto string, header http.Header) (*Conn, error) {
	if err := validProtocol(proto); err != nil {
		return nil, err
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack: %w", err)
	}
	_ = conn.SetDeadline(time.Time{}) // Hijack does too, today; said here, not assumed
	return newConn(conn, brw.Reader, switchingProtocols(proto, header)), nil
}
