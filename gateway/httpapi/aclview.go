package httpapi

import (
	"context"
	"errors"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// inactiveReason says why the workspace's grants give nothing now (sharing
// disabled for the deployment or its org), "" when they are in force.
func (a *api) inactiveReason(ctx context.Context, ws acl.Workspace) (string, error) {
	err := a.sharingOff(ctx, ws)
	var he *httpError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &he):
		return he.body.Message, nil
	}
	return "", err
}

// onlyRemovals reports whether a PATCH only removes grants (every role "").
func onlyRemovals(req apitypes.ACLUpdate) bool {
	for _, m := range []map[string]string{req.Users, req.Groups} {
		for _, role := range m {
			if role != "" {
				return false
			}
		}
	}
	return true
}

// markInactive sets v.SharingInactive when v lists grants that give
// nothing now.
func (a *api) markInactive(ctx context.Context, v *apitypes.Workspace, ws acl.Workspace) error {
	if len(v.SharedWith.Users)+len(v.SharedWith.Groups) == 0 {
		return nil
	}
	reason, err := a.inactiveReason(ctx, ws)
	v.SharingInactive = reason
	return err
}
