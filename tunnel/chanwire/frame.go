package chanwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Version is the protocol version hello carries (the tunnel's v2).
const Version = 2

// Window is what each side of a channel may send of data and stderr before
// the peer grants more with a window frame (spec.md). It bounds what a
// receiver buffers, and keeps requests from waiting behind unread data.
const Window = 1 << 20

// Frame size limits (spec.md).
const (
	MaxFrame  = 256 << 10 // largest payload a reader accepts
	MaxData   = 64 << 10  // largest data or stderr payload a writer sends
	headerLen = 5
)

type frameType uint8

const (
	frameHello       frameType = 1
	frameOpen        frameType = 2
	frameAccept      frameType = 3
	frameOpenConfirm frameType = 4
	frameOpenFailure frameType = 5
	frameOpenRequest frameType = 6
	frameData        frameType = 7
	frameStderr      frameType = 8
	frameEOF         frameType = 9
	frameRequest     frameType = 10
	frameReply       frameType = 11
	frameWindow      frameType = 12
)

var frameNames = [...]string{"", "hello", "open", "accept", "open-confirm", "open-failure",
	"open-request", "data", "stderr", "eof", "request", "reply", "window"}

func (t frameType) String() string {
	if int(t) < len(frameNames) && t != 0 {
		return frameNames[t]
	}
	return fmt.Sprintf("frame(%d)", uint8(t))
}

// ErrBadFrame is returned (wrapped) for a malformed, oversize, unknown or
// misplaced frame. It ends the stream it came on, never the tunnel.
var ErrBadFrame = errors.New("bad frame")

func badFrame(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadFrame, fmt.Sprintf(format, args...))
}

// dataBufs holds payload buffers only while data moves: a reader takes one
// for a data frame and gives it back once the consumer has copied it out.
var dataBufs = sync.Pool{New: func() any { b := make([]byte, MaxData); return &b }}

// frameBufs holds whole frames (header + payload) being written; small
// ones (EOF, requests, replies, window updates: most frames of a quiet
// session, and every frame of a teardown) take a small buffer, not 64 KiB.
var (
	frameBufs      = sync.Pool{New: func() any { b := make([]byte, 0, headerLen+MaxData); return &b }}
	smallFrameBufs = sync.Pool{New: func() any { b := make([]byte, 0, smallFrame); return &b }}
)

// smallFrame is the size of the small frame buffers.
const smallFrame = 512

// readHeader reads one frame header.
func readHeader(r io.Reader, hdr *[headerLen]byte) (frameType, int, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, err
	}
	t := frameType(hdr[0])
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, 0, badFrame("%v payload of %d bytes exceeds %d", t, n, MaxFrame)
	}
	if (t == frameData || t == frameStderr) && n > MaxData {
		return 0, 0, badFrame("%v payload of %d bytes exceeds %d", t, n, MaxData)
	}
	if t == 0 || int(t) >= len(frameNames) {
		return 0, 0, badFrame("unknown frame type %d", uint8(t))
	}
	return t, int(n), nil
}

// readFrame reads one whole frame, its payload into a fresh slice (for
// frames other than a channel's data, which has a path of its own). A clean
// end before the frame is io.EOF; an end inside it, io.ErrUnexpectedEOF.
func readFrame(r io.Reader) (frameType, []byte, error) {
	var hdr [headerLen]byte
	t, n, err := readHeader(r, &hdr)
	if err != nil {
		return 0, nil, err
	}
	p, err := readPayload(r, n)
	return t, p, err
}

// readPayload reads a non-data payload into a fresh slice.
func readPayload(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, unexpected(err)
	}
	return b, nil
}

// unexpected turns a clean EOF inside a frame into ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// frameWriter writes whole frames, each in one Write, so that frames from
// several goroutines never interleave and yamux sends each as one data frame.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// write sends one frame whose payload is the concatenation of parts,
// copied into a pooled buffer after room for the header (writeFramed).
func (fw *frameWriter) write(t frameType, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxFrame {
		// Before taking a buffer: an oversized frame is not built.
		return frameTooLarge(t, n)
	}
	pool := &frameBufs
	if headerLen+n <= smallFrame {
		pool = &smallFrameBufs
	}
	bp := pool.Get().(*[]byte)
	var room [headerLen]byte
	b := append((*bp)[:0], room[:]...)
	for _, p := range parts {
		b = append(b, p...)
	}
	err := fw.writeFramed(t, b)
	if cap(b) <= headerLen+MaxData { // keep only buffers of the usual sizes
		*bp = b[:0]
		pool.Put(bp)
	}
	return err
}

// writeFramed sends b as one frame of type t whose payload is
// b[headerLen:], writing the header into b[:headerLen].
func (fw *frameWriter) writeFramed(t frameType, b []byte) error {
	if n := len(b) - headerLen; n > MaxFrame {
		return frameTooLarge(t, n)
	}
	b[0] = byte(t)
	binary.BigEndian.PutUint32(b[1:headerLen], uint32(len(b)-headerLen))
	fw.mu.Lock()
	_, err := fw.w.Write(b)
	fw.mu.Unlock()
	return err
}

func frameTooLarge(t frameType, n int) error {
	return fmt.Errorf("%v frame of %d bytes exceeds %d", t, n, MaxFrame)
}

// Payload encoding helpers (spec.md: str8, uint32, flag bytes).

func appendStr8(b []byte, s string) ([]byte, error) {
	if len(s) > 255 {
		return nil, fmt.Errorf("name %.20q… longer than 255 bytes", s)
	}
	b = append(b, byte(len(s)))
	return append(b, s...), nil
}

func cutStr8(b []byte) (string, []byte, bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}

func cutUint32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func cutBool(b []byte) (bool, []byte, bool) {
	if len(b) < 1 || b[0] > 1 {
		return false, nil, false
	}
	return b[0] == 1, b[1:], true
}

func uint32Bytes(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// request frames: uint8 want-reply | str8 name | payload.
func encodeRequest(name string, wantReply bool, payload []byte) ([]byte, error) {
	b, err := appendStr8([]byte{boolByte(wantReply)}, name)
	if err != nil {
		return nil, err
	}
	return append(b, payload...), nil
}

func decodeRequest(p []byte) (name string, wantReply bool, payload []byte, err error) {
	wantReply, rest, ok := cutBool(p)
	if !ok {
		return "", false, nil, badFrame("request: bad want-reply")
	}
	name, rest, ok = cutStr8(rest)
	if !ok || name == "" {
		return "", false, nil, badFrame("request: bad name")
	}
	return name, wantReply, rest, nil
}

func decodeReply(p []byte) (bool, []byte, error) {
	ok, rest, good := cutBool(p)
	if !good {
		return false, nil, badFrame("reply: bad success flag")
	}
	return ok, rest, nil
}

// open frames: str8 channel type | extra data.
func decodeOpen(p []byte) (string, []byte, error) {
	typ, extra, ok := cutStr8(p)
	if !ok || typ == "" {
		return "", nil, badFrame("open: bad channel type")
	}
	return typ, extra, nil
}

// open-failure on a channel stream: uint32 reason | message.
func decodeFailure(p []byte) (*OpenChannelError, error) {
	reason, rest, ok := cutUint32(p)
	if !ok {
		return nil, badFrame("open-failure: truncated")
	}
	return &OpenChannelError{Reason: RejectionReason(reason), Message: string(rest)}, nil
}
