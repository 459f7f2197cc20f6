package apiclient

import (
	"context"
	"net/http"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// RevokeCert revokes an SSH certificate by serial, or a key (site admins).
func (c *Client) RevokeCert(ctx context.Context, req apitypes.RevokeCertRequest) (apitypes.RevokedCert, error) {
	var rc apitypes.RevokedCert
	err := c.do(ctx, http.MethodPost, apitypes.RevokedCertsPath, nil, req, &rc)
	return rc, err
}

// ListRevokedCerts lists the revoked certificates and keys (site admins).
func (c *Client) ListRevokedCerts(ctx context.Context) ([]apitypes.RevokedCert, error) {
	var out []apitypes.RevokedCert
	err := c.do(ctx, http.MethodGet, apitypes.RevokedCertsPath, nil, nil, &out)
	return out, err
}
