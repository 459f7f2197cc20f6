// Package agent is the process that runs inside a workspace. It dials the
// gateway through the tunnel and serves every stream the gateway opens:
// an SSH server (github.com/gliderlabs/ssh, never listening on TCP) for ssh
// streams, and a plain TCP relay to a loopback port for tcp streams.
//
// The stream is already authenticated by the tunnel, so the SSH server
// accepts "none" auth and takes the connecting wsgate user from the stream
// header. Every command runs as the agent's own OS user: the owner and the
// collaborators share files, tmux sockets and forwarded agent sockets.
//
// Port forwarding follows sshd's "AllowTcpForwarding yes": direct-tcpip
// (ssh -L) may reach any address the agent host can reach, and tcpip-forward
// (ssh -R) binds where the client asks (loopback when it asks for "" or
// "localhost"). Whoever may connect to the workspace may do this; the
// gateway's connect check is the only gate.
package agent
