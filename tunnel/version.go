package tunnel

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ProtocolVersion is the version of the tunnel protocol (the upgrade, the
// stream headers and what streams carry) that this package speaks. Agent
// and gateway must speak the same one.
const ProtocolVersion = 2

// VersionHeader carries ProtocolVersion on the agent's upgrade request and
// on every answer of the gateway's Handler. An agent that sends none is a
// v1 agent (v1 had no header).
const VersionHeader = "Wsgate-Tunnel-Version"

// ErrVersionMismatch is returned (wrapped) by the agent's dial when the
// gateway speaks another tunnel protocol version.
var ErrVersionMismatch = errors.New("tunnel protocol version mismatch")

// unversioned is the version of a peer that sends no VersionHeader.
const unversioned = 1

// peerVersion reads VersionHeader from h: unversioned when absent, ok false
// when present but not a positive number.
func peerVersion(h http.Header) (v int, ok bool) {
	vals := h.Values(VersionHeader)
	if len(vals) == 0 {
		return unversioned, true
	}
	v, err := strconv.Atoi(strings.TrimSpace(vals[0]))
	if len(vals) > 1 || err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// versionText names the version an answer or request carried, for
// messages: "v3", or the raw header value (quoted, cut short) when it is
// not a version.
func versionText(h http.Header) string {
	if v, ok := peerVersion(h); ok {
		return "v" + strconv.Itoa(v)
	}
	raw := strings.Join(h.Values(VersionHeader), ",")
	if len(raw) > 16 {
		raw = raw[:16] + "…"
	}
	return strconv.Quote(raw)
}

// agentRefusal is what the gateway tells an agent of another version: the
// short reason it records for `wsgate workspaces show`, and the body of
// its HTTP answer, which older agents print as it is.
func agentRefusal(agent string) (reason, body string) {
	reason = fmt.Sprintf("tunnel protocol %s; upgrade the agent to v%d", agent, ProtocolVersion)
	body = fmt.Sprintf("wsgate agent speaks tunnel protocol %s; this gateway needs v%d: upgrade the agent to v%d",
		agent, ProtocolVersion, ProtocolVersion)
	return reason, body
}

// gatewayMismatch is the agent's error for a gateway of another version.
// An older gateway is the one to upgrade; a newer one (or a version that
// makes no sense) means this agent is behind.
func gatewayMismatch(h http.Header) error {
	fix := "upgrade the agent"
	if v, ok := peerVersion(h); ok && v < ProtocolVersion {
		fix = fmt.Sprintf("upgrade the gateway (or run a v%d agent)", v)
	}
	return fmt.Errorf("%w: gateway speaks tunnel protocol %s; this agent speaks v%d: %s",
		ErrVersionMismatch, versionText(h), ProtocolVersion, fix)
}
