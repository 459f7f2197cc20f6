package chanwire

import (
	"fmt"
	"net"
)

// RejectionReason is why a channel open failed; the values are SSH's
// (RFC 4254), so converting to x/crypto's ssh.RejectionReason is a cast.
type RejectionReason uint32

const (
	Prohibited         RejectionReason = 1
	ConnectionFailed   RejectionReason = 2
	UnknownChannelType RejectionReason = 3
	ResourceShortage   RejectionReason = 4
)

func (r RejectionReason) String() string {
	switch r {
	case Prohibited:
		return "administratively prohibited"
	case ConnectionFailed:
		return "connect failed"
	case UnknownChannelType:
		return "unknown channel type"
	case ResourceShortage:
		return "resource shortage"
	}
	return fmt.Sprintf("unknown reason %d", uint32(r))
}

// OpenChannelError is the peer's refusal to open a channel.
type OpenChannelError struct {
	Reason  RejectionReason
	Message string
}

func (e *OpenChannelError) Error() string {
	return fmt.Sprintf("channel open refused: %v (%s)", e.Reason, e.Message)
}

// NewChannel is a channel the peer wants to open; Accept or Reject it.
type NewChannel struct {
	typ   string
	extra []byte
	c     *Conn

	s         net.Conn // agent's side: the stream carrying the open
	id        uint32   // gateway's side: the agent's open-request id
	fromAgent bool
	answered  bool
}

// ChannelType is the SSH channel type ("session", "direct-tcpip", ...).
func (n *NewChannel) ChannelType() string { return n.typ }

// ExtraData is the channel type's open payload, encoded as in SSH.
func (n *NewChannel) ExtraData() []byte { return n.extra }

// Accept opens the channel.
func (n *NewChannel) Accept() (*Channel, <-chan *Request, error) {
	ch, err := n.AcceptHandler()
	if err != nil {
		return nil, nil, err
	}
	ch.start()
	return ch, ch.Requests(), nil
}

// AcceptHandler opens the channel as Accept does, but its frames go to the
// Handler the caller passes to Serve.
func (n *NewChannel) AcceptHandler() (*Channel, error) {
	if n.answered {
		return nil, fmt.Errorf("channel %s already answered", n.typ)
	}
	n.answered = true
	var s net.Conn
	if n.fromAgent {
		var err error
		if s, err = n.c.dial(n.c.ctx); err != nil {
			_ = n.rejectOnConn(ConnectionFailed, "gateway could not open the stream")
			return nil, fmt.Errorf("accept %s: %w", n.typ, err)
		}
		fw := frameWriter{w: s}
		if err := fw.write(frameAccept, uint32Bytes(n.id)); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("accept %s: %w", n.typ, err)
		}
	} else {
		s = n.s
		fw := frameWriter{w: s}
		if err := fw.write(frameOpenConfirm); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("accept %s: %w", n.typ, err)
		}
	}
	return n.c.addChannel(s)
}

// Reject refuses the channel with an SSH reason and a message.
func (n *NewChannel) Reject(reason RejectionReason, message string) error {
	if n.answered {
		return nil
	}
	n.answered = true
	if n.fromAgent {
		return n.rejectOnConn(reason, message)
	}
	fw := frameWriter{w: n.s}
	err := fw.write(frameOpenFailure, uint32Bytes(uint32(reason)), []byte(message))
	_ = n.s.Close()
	return err
}

func (n *NewChannel) rejectOnConn(reason RejectionReason, message string) error {
	return n.c.fw.write(frameOpenFailure, uint32Bytes(n.id), uint32Bytes(uint32(reason)), []byte(message))
}
