package tunnel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kind is what a stream carries.
type Kind uint8

const (
	KindSSH Kind = 1 // an SSH connection, gateway (client) to agent (server)
	KindTCP Kind = 2 // raw TCP to a port on the agent's loopback (app proxy)
	// KindControl carries one request from the gateway and the agent's
	// answer (stats, logs). What the bytes after the header mean is the
	// gateway's and the agent's business, not this package's. An agent
	// older than this kind refuses the stream (closes it), never the tunnel.
	KindControl Kind = 3
	// KindConn is the conn stream of one user SSH connection (chanwire):
	// hello, global requests, the agent's requests to open channels.
	KindConn Kind = 4
	// KindChannel is one SSH channel of the connection named by SessionID
	// (chanwire frames).
	KindChannel Kind = 5
)

// String returns "ssh", "tcp" or "control".
func (k Kind) String() string {
	switch k {
	case KindSSH:
		return "ssh"
	case KindTCP:
		return "tcp"
	case KindControl:
		return "control"
	case KindConn:
		return "conn"
	case KindChannel:
		return "channel"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// HeaderVersion is the only header version this build speaks. Adding a
// kind does not change the encoding, so it keeps the version.
const HeaderVersion = 1

// Field limits keep a header small and its parsing bounded.
const (
	MaxUserLen      = 64
	MaxSessionIDLen = 64
	maxHeaderBody   = 1 + 1 + 2 + 1 + MaxUserLen + 1 + MaxSessionIDLen
)

// ErrBadHeader is returned (wrapped) for any malformed stream header.
var ErrBadHeader = errors.New("bad stream header")

// Header opens every stream:
//
//	uint16 body length | version | kind | uint16 port | uint8 len | user | uint8 len | session id
//
// all integers big-endian. The length prefix lets a reader refuse an
// oversize header before reading it.
type Header struct {
	Kind      Kind
	User      string // the wsgate user who connects; optional for KindControl
	SessionID string // the gateway's id for the session, for logs and stats
	Port      uint16 // KindTCP only: the port on the agent's loopback
}

// Validate checks the header's fields.
func (h Header) Validate() error {
	switch h.Kind {
	case KindSSH:
		if h.Port != 0 {
			return fmt.Errorf("%w: port set on an ssh stream", ErrBadHeader)
		}
	case KindTCP:
		if h.Port == 0 {
			return fmt.Errorf("%w: tcp stream without a port", ErrBadHeader)
		}
	case KindControl:
		if h.Port != 0 {
			return fmt.Errorf("%w: port set on a control stream", ErrBadHeader)
		}
	case KindConn, KindChannel:
		if h.Port != 0 {
			return fmt.Errorf("%w: port set on a %v stream", ErrBadHeader, h.Kind)
		}
		// The session id ties a channel to its connection.
		if h.SessionID == "" {
			return fmt.Errorf("%w: %v stream without a session id", ErrBadHeader, h.Kind)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrBadHeader, uint8(h.Kind))
	}
	// A control stream acts for no user in particular (the gateway asks).
	userOptional := h.Kind == KindControl && h.User == ""
	if !userOptional && (h.User == "" || len(h.User) > MaxUserLen || !printable(h.User)) {
		return fmt.Errorf("%w: invalid user name", ErrBadHeader)
	}
	if len(h.SessionID) > MaxSessionIDLen || !printable(h.SessionID) {
		return fmt.Errorf("%w: invalid session id", ErrBadHeader)
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// MarshalBinary encodes a valid header.
func (h Header) MarshalBinary() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	body := 1 + 1 + 2 + 1 + len(h.User) + 1 + len(h.SessionID)
	b := make([]byte, 0, 2+body)
	b = binary.BigEndian.AppendUint16(b, uint16(body))
	b = append(b, HeaderVersion, byte(h.Kind))
	b = binary.BigEndian.AppendUint16(b, h.Port)
	b = append(b, byte(len(h.User)))
	b = append(b, h.User...)
	b = append(b, byte(len(h.SessionID)))
	b = append(b, h.SessionID...)
	return b, nil
}

// WriteHeader writes h to w in one write.
func WriteHeader(w io.Writer, h Header) error {
	b, err := h.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write stream header: %w", err)
	}
	return nil
}

// ReadHeader reads and validates one header from r. It never reads past the
// header, so the rest of the stream is untouched.
func ReadHeader(r io.Reader) (Header, error) {
	var lenBuf [2]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return Header{}, fmt.Errorf("%w: read length: %v", ErrBadHeader, err)
	}
	n := int(binary.BigEndian.Uint16(lenBuf[:]))
	if n < 6 || n > maxHeaderBody {
		return Header{}, fmt.Errorf("%w: length %d out of range", ErrBadHeader, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Header{}, fmt.Errorf("%w: read body: %v", ErrBadHeader, err)
	}
	return parseHeaderBody(body)
}

func parseHeaderBody(b []byte) (Header, error) {
	if b[0] != HeaderVersion {
		return Header{}, fmt.Errorf("%w: unsupported version %d", ErrBadHeader, b[0])
	}
	h := Header{Kind: Kind(b[1]), Port: binary.BigEndian.Uint16(b[2:4])}
	rest := b[4:]
	user, rest, ok := cutField(rest)
	if !ok {
		return Header{}, fmt.Errorf("%w: truncated user", ErrBadHeader)
	}
	sid, rest, ok := cutField(rest)
	if !ok {
		return Header{}, fmt.Errorf("%w: truncated session id", ErrBadHeader)
	}
	if len(rest) != 0 {
		return Header{}, fmt.Errorf("%w: %d trailing bytes", ErrBadHeader, len(rest))
	}
	h.User, h.SessionID = string(user), string(sid)
	if err := h.Validate(); err != nil {
		return Header{}, err
	}
	return h, nil
}

func cutField(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 1 {
		return nil, nil, false
	}
	n := int(b[0])
	if len(b) < 1+n {
		return nil, nil, false
	}
	return b[1 : 1+n], b[1+n:], true
}
