package control_test

import (
	"net"
	"testing"
	"time"
)

const testTimeout = 15 * time.Second

// tcpPair returns both ends of a real loopback TCP connection: the
// gateway's (client) and the agent's (server). Both close at cleanup and
// carry a deadline so that a broken test fails instead of hanging.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		client.Close()
		t.Fatal(r.err)
	}
	server = r.c
	t.Cleanup(func() { client.Close(); server.Close() })
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
