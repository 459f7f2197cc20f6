package tunnel

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// Agent identity on the upgrade. The agent token is an enrolment secret:
// the agent presents it once, with a public key of its own
// (AgentKeyHeader), and the gateway's 101 names the workspace's UID
// (WorkspaceUIDHeader). From then on the agent proves who it is by
// signing: it asks with
//
//	Authorization: WsgateAgent workspace="<uid>", url="<gateway URL>"
//
// is answered 401 with
//
//	WWW-Authenticate: WsgateAgent nonce="<nonce>"
//
// and dials again with
//
//	Authorization: WsgateAgent workspace="<uid>", url="<gateway URL>", nonce="<nonce>", sig="<signature>"
//
// where the signature (SSH wire format, base64url) is the agent key's
// over SignedData(nonce, uid, url). What a nonce is, which keys are pinned
// and which URLs count are the gateway's business (its Authenticator);
// this package only carries and checks the signature.

// Headers and the authorization scheme of the agent's upgrade.
const (
	AgentKeyHeader     = "Wsgate-Agent-Key"     // enrolment: the agent's public key, authorized_keys format
	WorkspaceUIDHeader = "Wsgate-Workspace-Uid" // 101 of an enrolment: the workspace's UID
	AgentAuthScheme    = "WsgateAgent"
)

// signedMagic separates these signatures from any other use of the key.
const signedMagic = "wsgate-agent-auth-v1"

// Credentials is what an agent presented in its upgrade request.
type Credentials struct {
	// Token is the bearer token: an enrolment with Key, or a plain token.
	Token string
	// Key is the public key an enrolling agent presents with Token.
	Key ssh.PublicKey
	// Workspace and URL are what a signing agent claims: the workspace's
	// UID and the gateway URL it dialled.
	Workspace, URL string
	// Nonce and Signature are empty when the agent asks for a nonce.
	Nonce     string
	Signature *ssh.Signature
	// Host is the request's Host header.
	Host string
}

// Signed reports whether c is a signed upgrade (or a request for a nonce).
func (c Credentials) Signed() bool { return c.Workspace != "" }

// Identity is who an authenticated agent is.
type Identity struct {
	Key string // the registry key: the workspace's UID
	// Tag names the credential (see RegistryConfig.CredentialTag).
	Tag string
	// Header is added to the 101 (WorkspaceUIDHeader for an enrolment).
	Header http.Header
	// Commit, when set, runs once the tunnel is admitted and before the
	// 101: an enrolment consumes its token only when it will get a tunnel.
	// An error answers 401.
	Commit func(context.Context) error
}

// Authenticator decides who an agent is. Any error answers 401 with the
// same body; a *Challenge error adds its nonce to WWW-Authenticate.
type Authenticator func(ctx context.Context, c Credentials) (Identity, error)

// Challenge is the error an Authenticator returns to ask a signing agent
// to sign Nonce.
type Challenge struct{ Nonce string }

func (c *Challenge) Error() string { return "signature required" }

// SignedData is what an agent signs: the nonce, the workspace's UID and
// the gateway URL it dialled, length-prefixed (SSH wire strings).
func SignedData(nonce, workspace, url string) []byte {
	return ssh.Marshal(struct{ Magic, Nonce, Workspace, URL string }{signedMagic, nonce, workspace, url})
}

// VerifySignature checks that c's signature is key's over c's nonce,
// workspace and URL.
func VerifySignature(key ssh.PublicKey, c Credentials) error {
	if c.Signature == nil || c.Nonce == "" {
		return errors.New("no signature")
	}
	if err := key.Verify(SignedData(c.Nonce, c.Workspace, c.URL), c.Signature); err != nil {
		return fmt.Errorf("agent signature: %w", err)
	}
	return nil
}

var b64 = base64.RawURLEncoding

// parseCredentials reads an upgrade request's credentials; false when it
// carries none that parse.
func parseCredentials(req *http.Request) (Credentials, bool) {
	c := Credentials{Host: req.Host}
	authz := req.Header.Get("Authorization")
	if token, ok := upgrade.BearerToken(authz); ok {
		c.Token = token
		if k := req.Header.Get(AgentKeyHeader); k != "" {
			key, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(k))
			if err != nil || len(rest) != 0 {
				return c, false
			}
			c.Key = key
		}
		return c, true
	}
	params, ok := authParams(authz)
	if !ok || params["workspace"] == "" || params["url"] == "" {
		return c, false
	}
	c.Workspace, c.URL, c.Nonce = params["workspace"], params["url"], params["nonce"]
	if s := params["sig"]; s != "" {
		raw, err := b64.DecodeString(s)
		if err != nil {
			return c, false
		}
		sig := new(ssh.Signature)
		if err := ssh.Unmarshal(raw, sig); err != nil {
			return c, false
		}
		c.Signature = sig
	}
	return c, true
}

// authParams parses `WsgateAgent k="v", k="v"`; values hold no quote or
// backslash (a URL's are percent-encoded).
func authParams(h string) (map[string]string, bool) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, AgentAuthScheme) {
		return nil, false
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, false
		}
		v = v[1 : len(v)-1]
		if strings.ContainsAny(v, `"\`) {
			return nil, false
		}
		if _, dup := out[k]; dup {
			return nil, false
		}
		out[k] = v
	}
	return out, true
}

// formatAuth builds the Authorization value of a signed upgrade; empty
// nonce and sig ask for a nonce.
func formatAuth(workspace, url, nonce string, sig *ssh.Signature) string {
	s := fmt.Sprintf(`%s workspace=%q, url=%q`, AgentAuthScheme, workspace, url)
	if nonce != "" {
		s += fmt.Sprintf(`, nonce=%q, sig=%q`, nonce, b64.EncodeToString(ssh.Marshal(sig)))
	}
	return s
}

// challengeNonce reads the nonce of a WWW-Authenticate challenge.
func challengeNonce(h http.Header) (string, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		if p, ok := authParams(v); ok && p["nonce"] != "" {
			return p["nonce"], true
		}
	}
	return "", false
}

// tokenAuthenticator adapts a plain token callback: credentials other
// than a bearer token fail.
func (r *Registry) tokenAuthenticator(auth Authenticate) Authenticator {
	return func(ctx context.Context, c Credentials) (Identity, error) {
		if c.Token == "" {
			return Identity{}, errors.New("no bearer token")
		}
		key, err := auth(ctx, c.Token)
		if err != nil {
			return Identity{}, err
		}
		return Identity{Key: key, Tag: r.cfg.CredentialTag(c.Token)}, nil
	}
}

// Tag is the credential tag of key's live tunnel, "" when it has none.
func (r *Registry) Tag(key string) string {
	t := r.lookup(key)
	if t == nil || t.sess.IsClosed() {
		return ""
	}
	return t.tag
}
