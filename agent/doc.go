// Package agent is the process that runs inside a workspace. It dials the
// gateway through the tunnel and serves every stream the gateway opens:
// user SSH connections as tunnel protocol v2 (package tunnel/chanwire: one
// conn stream per connection, one stream per channel; the gateway has
// terminated the user's SSH, so there is no second SSH transport here),
// and a plain TCP relay to a loopback port for tcp streams.
//
// The streams are already authenticated by the tunnel; the connecting
// wsgate user comes from the stream header. Every command runs as one OS
// user — Config.RunAs (a root agent switching to the developer), else the
// agent's own: the owner and the collaborators share files, tmux sockets
// and forwarded agent sockets. With RunAs, SFTP, Unix-socket dials and
// every listener run as that user too (see asUser).
//
// Port forwarding follows sshd's "AllowTcpForwarding yes" and
// "AllowStreamLocalForwarding yes": direct-tcpip (ssh -L) may reach any
// address the agent host can reach, and tcpip-forward (ssh -R) binds where
// the client asks (loopback when it asks for "" or "localhost");
// direct-streamlocal and streamlocal-forward do the same for unix sockets
// the agent's OS user may reach or create (relative paths start in the
// workspace directory). Whoever may connect to the workspace may do this;
// the gateway's connect check is the only gate.
package agent
