package control_test

import (
	"net"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

const testTimeout = 15 * time.Second

// tcpPair returns both ends of a real loopback TCP connection: the
// gateway's (client) and the agent's (server). Both close at cleanup and
// carry a deadline so that a broken test fails instead of hanging.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	client, server = testutil.TCPPair(t)
	deadline := time.Now().Add(testTimeout)
	_ = client.SetDeadline(deadline)
	_ = server.SetDeadline(deadline)
	return client, server
}

// serve runs handle on the server end in the background and closes it
// afterwards, as the agent does; the test waits for it at cleanup.
func serve(t *testing.T, server net.Conn, handle func(net.Conn)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		handle(server)
	}()
	t.Cleanup(func() { <-done })
}
