package agent

import (
	"context"
	"net"
)

// listenAsUser opens an ssh -R listener (tcp or unix) as the session user:
// a socket file is theirs and only where they may create one, and a TCP
// port below the unprivileged range stays refused as it would be for them.
func (c *userConn) listenAsUser(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := asUser(c.a.user, func() error {
		var lc net.ListenConfig
		var err error
		ln, err = lc.Listen(c.ctx, network, addr)
		return err
	})
	return ln, err
}

// dial connects for direct-tcpip and direct-streamlocal. A Unix socket is
// dialled as the session user (its file permissions apply to them); a TCP
// dial stays in the agent, as no permission of the user's is involved.
func (c *userConn) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	if network != "unix" {
		return d.DialContext(ctx, network, addr)
	}
	var conn net.Conn
	err := asUser(c.a.user, func() error {
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}
