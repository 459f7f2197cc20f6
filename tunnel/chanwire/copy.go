package chanwire

import (
	"errors"
	"io"
)

// smallRead is the buffer a copy waits with: a channel that sits idle holds
// this much, not a full data buffer (most idle sessions wait forever).
const smallRead = 2 << 10

// ReadFrom copies r to the channel as data until r's EOF (it does not send
// eof). It waits for input with a small buffer and moves to a pooled
// MaxData buffer only while reads fill it.
func (ch *Channel) ReadFrom(r io.Reader) (int64, error) {
	return copyFrames(ch, frameData, r)
}

// ReadFrom copies r to the channel as stderr, as Channel.ReadFrom does.
func (e stderrRW) ReadFrom(r io.Reader) (int64, error) {
	return copyFrames(e.ch, frameStderr, r)
}

// copyFrames reads into its buffer after room for a frame header, so that
// what it read leaves as frames without being copied again (sendFramed).
func copyFrames(ch *Channel, t frameType, r io.Reader) (int64, error) {
	var total int64
	small := make([]byte, headerLen+smallRead)
	var big *[]byte
	defer func() {
		if big != nil {
			frameBufs.Put(big)
		}
	}()
	for {
		buf := small
		if big != nil {
			buf = (*big)[:headerLen+MaxData]
		}
		n, rerr := r.Read(buf[headerLen:])
		if n > 0 {
			if _, err := ch.sendFramed(t, buf[:headerLen+n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		switch {
		case n == len(buf)-headerLen && big == nil:
			big = frameBufs.Get().(*[]byte) // data is flowing
		case n < (len(buf)-headerLen)/2 && big != nil:
			frameBufs.Put(big) // it has calmed down
			big = nil
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return total, nil
			}
			return total, rerr
		}
	}
}

// WriteTo copies the channel's data to w until the peer's eof or close,
// straight from the received frames (no buffer of its own).
func (ch *Channel) WriteTo(w io.Writer) (int64, error) {
	return ch.stdout.writeTo(w)
}

// WriteTo copies the channel's stderr to w, as Channel.WriteTo does.
func (e stderrRW) WriteTo(w io.Writer) (int64, error) {
	return e.ch.stderr.writeTo(w)
}
