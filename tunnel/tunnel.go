// Package tunnel is the transport between a workspace agent and a gateway.
//
// The agent dials the gateway's HTTP port (POST ConnectPath with a bearer
// token, an HTTP Upgrade to UpgradeProtocol and VersionHeader); after "101
// Switching Protocols" both ends run a yamux session over the connection.
// Agent and gateway must speak the same ProtocolVersion (see version.go). The gateway
// is the yamux server and opens one stream per user connection; every stream
// starts with a Header that says what it carries. The agent reconnects with
// jittered exponential backoff.
//
// Streams handed out by this package (Registry.Open on the gateway, the
// Handler's conn on the agent) are net.Conns with TCP-like closing:
//
//   - CloseWrite (see HalfCloser and CloseWrite) sends EOF to the peer and
//     keeps reading until the peer's EOF;
//   - Close ends both directions at once: the peer reads EOF, and local
//     Reads (even blocked ones) return net.ErrClosed.
//
// yamux v0.1.2 has no stream reset, so a stream is freed only once both ends
// have closed it; an end that closed while its peer never does is reset
// after streamCloseTimeout. A peer that reads EOF and is done must therefore
// Close its side.
package tunnel

import "errors"

// ConnectPath is the gateway's endpoint for agent tunnels.
const ConnectPath = "/api/v1/agent/connect"

// UpgradeProtocol is the value of the Upgrade header of a tunnel request.
const UpgradeProtocol = "wsgate-tunnel"

// ErrAgentNotConnected is returned (wrapped) by Registry.Open when the
// workspace has no live tunnel.
var ErrAgentNotConnected = errors.New("agent not connected")
