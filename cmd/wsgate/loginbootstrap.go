package main

import (
	"context"
	"fmt"
	"os"

	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// replaceBootstrapToken: when the site admin signs in while the bootstrap
// token (admin.token, written at the first start) still exists, the CLI
// makes a token of its own and revokes the bootstrap one, so that the file
// on the server stops being a credential. It returns the new secret, ""
// when there was nothing to replace.
func replaceBootstrapToken(ctx context.Context, c *apiclient.Client, me apitypes.User) (string, error) {
	if me.Name != bootstrapUser || !me.SiteAdmin {
		return "", nil
	}
	toks, err := c.ListTokens(ctx, "me")
	if err != nil {
		return "", fmt.Errorf("list tokens: %w", err)
	}
	var old []apitypes.Token
	for _, t := range toks {
		if t.Name == bootstrapTokenName {
			old = append(old, t)
		}
	}
	if len(old) == 0 {
		return "", nil
	}
	host, _ := os.Hostname()
	name := "cli@" + host
	if len(name) > 64 {
		name = name[:64]
	}
	res, err := c.CreateToken(ctx, "me", apitypes.CreateTokenRequest{Name: name})
	if err != nil {
		return "", fmt.Errorf("replace the bootstrap token: %w", err)
	}
	for _, t := range old {
		if err := c.RevokeToken(ctx, "me", t.ID); err != nil {
			return "", fmt.Errorf("revoke the bootstrap token: %w", err)
		}
	}
	return res.Secret, nil
}
