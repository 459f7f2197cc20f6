package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// AmbiguousError is returned by Resolve when a bare name matches several workspaces
// shared with the caller.
type AmbiguousError struct {
	Name       string
	Candidates []acl.WorkspaceID
}

func (e *AmbiguousError) Error() string {
	forms := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		forms[i] = c.Owner + "--" + c.Name
	}
	return fmt.Sprintf("workspace %q is ambiguous; use one of: %s", e.Name, strings.Join(forms, ", "))
}

// Resolve turns a workspace name as a user typed it into a workspace ID.
// A name with an owner is taken as it is; a bare name is the user's own
// workspace of that name, else the only one shared with them under it. It
// returns an error wrapping acl.ErrNotFound when nothing matches, and
// *AmbiguousError when several do. Shared candidates are filtered by
// connect when there are several, so that a stale grant (sharing disabled,
// grant expired) does not make a name ambiguous.
func (a *Authorizer) Resolve(ctx context.Context, user, owner, name string) (acl.WorkspaceID, error) {
	if owner != "" {
		return acl.WorkspaceID{Owner: owner, Name: name}, nil
	}
	st := a.Lookups(nil)
	own := acl.WorkspaceID{Owner: user, Name: name}
	_, err := st.GetWorkspace(ctx, own)
	switch {
	case err == nil:
		return own, nil
	case errors.Is(err, acl.ErrNotFound):
	default:
		return acl.WorkspaceID{}, fmt.Errorf("look up workspace %s: %w", own, err)
	}
	shared, err := st.WorkspacesSharedWithUser(ctx, user)
	if err != nil && !errors.Is(err, acl.ErrNotFound) {
		return acl.WorkspaceID{}, fmt.Errorf("list workspaces shared with %q: %w", user, err)
	}
	var cands []acl.WorkspaceID
	for _, sw := range shared {
		if sw.Workspace.Name == name {
			cands = append(cands, sw.Workspace.ID())
		}
	}
	if len(cands) > 1 {
		var ok []acl.WorkspaceID
		for _, c := range cands {
			d, err := a.Decide(ctx, user, c, acl.ActionConnect)
			if err != nil {
				return acl.WorkspaceID{}, err
			}
			if d.Allow {
				ok = append(ok, c)
			}
		}
		cands = ok
	}
	switch len(cands) {
	case 0:
		return acl.WorkspaceID{}, acl.NotFound("workspace", name)
	case 1:
		return cands[0], nil
	}
	slices.SortFunc(cands, func(a, b acl.WorkspaceID) int { return strings.Compare(a.String(), b.String()) })
	return acl.WorkspaceID{}, &AmbiguousError{Name: name, Candidates: cands}
}
