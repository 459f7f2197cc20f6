package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// halfCloser is a byte stream whose write side can be shut down alone:
// ssh.Channel, *net.TCPConn, *net.UnixConn.
type halfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// asHalfCloser keeps c's CloseWrite when it has one. Otherwise a half-close
// cannot be expressed, and the EOF is passed on only when the whole
// connection closes.
func asHalfCloser(c net.Conn) halfCloser {
	if hc, ok := c.(halfCloser); ok {
		return hc
	}
	return noHalfClose{c}
}

type noHalfClose struct{ net.Conn }

func (noHalfClose) CloseWrite() error { return nil }

// join copies a↔b until both directions have ended, then closes both. A
// clean EOF on one side becomes a half-close (CloseWrite) of the other, so
// request/response protocols that shut down their write side first (HTTP/1.0
// clients, `nc -N`, rsync) still get their answer. An error in either
// direction, or ctx ending, aborts both.
func join(ctx context.Context, a, b halfCloser) {
	var once sync.Once
	abort := func() {
		once.Do(func() {
			_ = a.Close()
			_ = b.Close()
		})
	}
	stop := context.AfterFunc(ctx, abort)
	defer stop()

	var wg sync.WaitGroup
	pass := func(dst, src halfCloser) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil && !errors.Is(err, io.EOF) {
			abort()
			return
		}
		if err := dst.CloseWrite(); err != nil {
			abort()
		}
	}
	wg.Add(2)
	go pass(a, b)
	go pass(b, a)
	wg.Wait()
	abort()
}

// abortConn ends c and unblocks its pending reads and writes even when its
// Close is only a half-close (a yamux stream's is).
func abortConn(c net.Conn) {
	_ = c.SetDeadline(time.Unix(1, 0))
	_ = c.Close()
}
