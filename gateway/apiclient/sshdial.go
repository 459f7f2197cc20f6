package apiclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/tlsconf"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// DialSSH opens an SSH connection to the gateway's front door through an
// HTTP Upgrade on the API port (apitypes.SSHUpgradePath), authenticated by
// the client's API token; TLS when the URL is https, with the HTTP client's
// TLS settings (WithTLSConfig); certificate mistakes are explained
// (tlsconf.Explain). The returned conn carries the SSH protocol and can
// CloseWrite; the gateway binds it to the token's user, so the SSH client
// may authenticate with "none". ctx bounds the dial and the upgrade, not
// the connection. A refusal is an *Error with the gateway's status and
// message.
func (c *Client) DialSSH(ctx context.Context) (net.Conn, error) {
	u := c.URL()
	u.Path = strings.TrimRight(u.Path, "/") + apitypes.SSHUpgradePath
	u.RawPath = ""
	var tlsConfig *tls.Config
	if t, ok := c.http.Transport.(*http.Transport); ok {
		tlsConfig = t.TLSClientConfig
	}
	conn, err := upgrade.Dial(ctx, upgrade.DialConfig{
		URL:       u.String(),
		Protocol:  apitypes.SSHUpgradeProtocol,
		Token:     c.token,
		UserAgent: "wsgate-cli",
		TLS:       tlsConfig,
	})
	var refused *upgrade.ResponseError
	if errors.As(err, &refused) && tlsconf.IsHTTPToTLSAnswer(refused.StatusCode, refused.Body) {
		return nil, tlsconf.Explain(fmt.Errorf("ssh upgrade: %w", tlsconf.ErrHTTPToTLS))
	}
	if errors.As(err, &refused) {
		e := &Error{StatusCode: refused.StatusCode}
		var body apitypes.Error
		if json.Unmarshal(refused.Body, &body) == nil {
			e.Message, e.Validations = body.Message, body.Validations
		}
		return nil, e
	}
	if err != nil {
		return nil, tlsconf.Explain(err)
	}
	return conn, nil
}
