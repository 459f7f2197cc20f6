package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// Target is the workspace an SSH login name asks for.
type Target struct {
	// Owner is empty for a bare name: the caller's own workspace, or the
	// only one shared with the caller under that name.
	Owner string
	Name  string
}

// String returns "owner/name", or the bare name.
func (t Target) String() string {
	if t.Owner == "" {
		return t.Name
	}
	return t.Owner + "/" + t.Name
}

// ParseTarget reads the SSH login name: "alice-ws", "alice/alice-ws" or
// "alice--alice-ws", each optionally followed by "."+suffix. It does no I/O.
func ParseTarget(login, suffix string) (Target, error) {
	s := login
	if suffix != "" {
		s = strings.TrimSuffix(s, "."+suffix)
	}
	t, qualified := Target{Name: s}, false
	if owner, name, ok := strings.Cut(s, "/"); ok {
		t, qualified = Target{Owner: owner, Name: name}, true
	} else if owner, name, ok := strings.Cut(s, "--"); ok {
		// Names never contain "--", so the first one is the separator.
		t, qualified = Target{Owner: owner, Name: name}, true
	}
	if qualified {
		if err := acl.ValidateName("user", t.Owner); err != nil {
			return Target{}, fmt.Errorf("invalid target %q: %w", login, err)
		}
	}
	if err := acl.ValidateName("workspace", t.Name); err != nil {
		return Target{}, fmt.Errorf("invalid target %q: %w", login, err)
	}
	return t, nil
}

// validSuffix checks a hostname suffix: dot-separated labels that are each
// valid names ("coder", "ws.example").
func validSuffix(s string) error {
	for label := range strings.SplitSeq(s, ".") {
		if err := acl.ValidateName("hostname suffix label", label); err != nil {
			return err
		}
	}
	return nil
}

// errAmbiguous is returned when a bare name matches several workspaces
// shared with the caller.
type errAmbiguous struct {
	Name       string
	Candidates []acl.WorkspaceID
}

func (e *errAmbiguous) Error() string {
	forms := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		forms[i] = c.Owner + "--" + c.Name
	}
	return fmt.Sprintf("workspace %q is ambiguous; use one of: %s", e.Name, strings.Join(forms, ", "))
}

// resolveTarget turns a parsed target into a workspace ID for user. A bare
// name is the user's own workspace of that name, else the only one shared
// with them under it. It returns an error wrapping acl.ErrNotFound when
// nothing matches, and *errAmbiguous when several do. allowed filters
// shared candidates when there are several, so that a stale grant (sharing
// disabled, grant expired) does not make a name ambiguous.
func resolveTarget(ctx context.Context, st acl.Store, user string, t Target, allowed func(acl.WorkspaceID) (bool, error)) (acl.WorkspaceID, error) {
	if t.Owner != "" {
		return acl.WorkspaceID{Owner: t.Owner, Name: t.Name}, nil
	}
	own := acl.WorkspaceID{Owner: user, Name: t.Name}
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
		if sw.Workspace.Name == t.Name {
			cands = append(cands, sw.Workspace.ID())
		}
	}
	if len(cands) > 1 && allowed != nil {
		var ok []acl.WorkspaceID
		for _, c := range cands {
			yes, err := allowed(c)
			if err != nil {
				return acl.WorkspaceID{}, err
			}
			if yes {
				ok = append(ok, c)
			}
		}
		cands = ok
	}
	switch len(cands) {
	case 0:
		return acl.WorkspaceID{}, acl.NotFound("workspace", t.Name)
	case 1:
		return cands[0], nil
	}
	slices.SortFunc(cands, func(a, b acl.WorkspaceID) int { return strings.Compare(a.String(), b.String()) })
	return acl.WorkspaceID{}, &errAmbiguous{Name: t.Name, Candidates: cands}
}
