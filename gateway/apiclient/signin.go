package apiclient

import (
	"context"
	"net/http"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// SignInCode makes a one-time code and the link that signs a browser in
// with it (`wsgate web`).
func (c *Client) SignInCode(ctx context.Context) (apitypes.SignInCode, error) {
	var out apitypes.SignInCode
	err := c.do(ctx, http.MethodPost, apitypes.SignInCodesPath, nil, nil, &out)
	return out, err
}
