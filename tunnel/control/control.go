// Package control is the agent's control protocol, carried on a control
// stream (tunnel.KindControl): after the stream header the gateway sends one
// JSON request line, the agent answers one JSON response line and closes.
//
//	{"op":"stats"}          → {"stats":{...Stats}}
//	{"op":"logs","lines":N} → {"lines":["...", ...]}   (oldest first)
//	{"op":"users"}          → {"users":["bob", ...]}   (users with live processes)
//	{"op":"end-users","users":["bob"]} → {"ended":[{"user":"bob","pid":N,"command":"..."}, ...]}
//	{"op":"rotate-key"}     → {"public_key":"ssh-ed25519 ..."}  (a new key; the old one is kept until the new one authenticated)
//	anything else           → {"error":"..."}
//
// Ask is the gateway's half, ReadRequest and WriteResponse the agent's. The
// package imports only the standard library, so both sides share it without
// sharing anything else.
package control

// Ops.
const (
	OpStats = "stats"
	OpLogs  = "logs"
	// OpUsers asks which wsgate users have live processes in the
	// workspace (started by their sessions, detached or not).
	OpUsers = "users"
	// OpEndUsers ends every process of Request.Users (SIGTERM, then
	// SIGKILL after a short grace) and answers what it ended; an agent
	// run with --on-revoke keep-processes ends nothing.
	OpEndUsers = "end-users"
	// OpRotateKey asks the agent for a new key pair (its identity on the
	// tunnel upgrade): it answers the new public key and keeps the old key
	// until the new one has opened a tunnel once.
	OpRotateKey = "rotate-key"
)

// Size limits of one exchange.
const (
	// MaxRequestBytes bounds what the agent reads of a request.
	MaxRequestBytes = 4 << 10
	// MaxResponseBytes bounds what the gateway reads of an answer: 1000 log
	// lines of at most 2 KiB each, with room for JSON escapes.
	MaxResponseBytes = 8 << 20
)

// Request is one request on a control stream.
type Request struct {
	Op    string `json:"op"`              // OpStats or OpLogs
	Lines int    `json:"lines,omitempty"` // OpLogs: how many of the newest lines
	// Users names the users whose processes OpEndUsers ends.
	Users []string `json:"users,omitempty"`
}

// MaxEndUsers bounds Request.Users, so a request stays within
// MaxRequestBytes; ask again for more.
const MaxEndUsers = 64

// EndedProcess is one process OpEndUsers ended.
type EndedProcess struct {
	User    string `json:"user"`
	PID     int    `json:"pid"`
	Command string `json:"command"`
}

// Response is the answer; exactly one field is set.
type Response struct {
	Stats *Stats   `json:"stats,omitempty"`
	Lines []string `json:"lines,omitzero"`
	Error string   `json:"error,omitempty"`
	// Users answers OpUsers; Ended answers OpEndUsers.
	Users []string       `json:"users,omitzero"`
	Ended []EndedProcess `json:"ended,omitzero"`
	// PublicKey answers OpRotateKey: authorized_keys format, no comment.
	PublicKey string `json:"public_key,omitempty"`
}
