package tunnel

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/yamux"
)

const (
	defaultKeepAlive = 15 * time.Second
	// A write to the tunnel connection that stalls this long means the
	// connection is dead; yamux then closes the session.
	connectionWriteTimeout = 10 * time.Second
	// A stream the peer does not acknowledge in this time closes the session
	// (the agent acknowledges on accept, which never waits for a handler).
	streamOpenTimeout = 30 * time.Second
	// A stream closed on one end only is reset after this. It bounds what a
	// peer that never closes can pin, and also how long a half-closed stream
	// may keep carrying data the other way.
	streamCloseTimeout = 5 * time.Minute
	// streamWindow is what a stream may have in flight: at 256 KiB (yamux's
	// default) a download waits for window updates on loopback; a stream's
	// receive buffer only grows this far while data arrives faster than it
	// is read.
	streamWindow = 1 << 20
	// headerTimeout bounds reading and writing a stream header.
	headerTimeout = 10 * time.Second
)

func yamuxConfig(keepAlive time.Duration, log *slog.Logger) *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = true
	c.KeepAliveInterval = keepAlive
	c.ConnectionWriteTimeout = connectionWriteTimeout
	c.StreamOpenTimeout = streamOpenTimeout
	c.StreamCloseTimeout = streamCloseTimeout
	c.MaxStreamWindowSize = streamWindow
	c.LogOutput = nil
	c.Logger = yamuxLogger{log: log}
	return c
}

// tunnelConn is what a yamux session runs on: conn under a frameConn, so
// that each DATA frame goes out in one write, unless split (benchmarks
// compare the two).
func tunnelConn(conn net.Conn, split bool) net.Conn {
	if split {
		return conn
	}
	return newFrameConn(conn)
}

// yamuxLogger routes yamux's printf logging to slog: its [ERR] and [WARN]
// lines at warn level (a peer went away, usually), the rest at debug.
type yamuxLogger struct{ log *slog.Logger }

func (l yamuxLogger) Print(v ...any)                 { l.emit(fmt.Sprint(v...)) }
func (l yamuxLogger) Printf(format string, v ...any) { l.emit(fmt.Sprintf(format, v...)) }
func (l yamuxLogger) Println(v ...any)               { l.emit(fmt.Sprintln(v...)) }

func (l yamuxLogger) emit(msg string) {
	msg = strings.TrimSpace(msg)
	level := slog.LevelDebug
	if strings.HasPrefix(msg, "[ERR]") || strings.HasPrefix(msg, "[WARN]") {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, msg, "component", "yamux")
}
