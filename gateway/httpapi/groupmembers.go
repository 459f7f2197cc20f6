package httpapi

import (
	"context"

	"github.com/wsgate/wsgate/acl"
)

// Who is in a group is for those who decide what the group may reach:
// site admins, and the owners and admins of a workspace the group holds a
// grant on. Anyone else (a `use` grantee, a user with no share) sees the
// group's name and org without its members: a member list is a list of
// people, and using a workspace does not entitle you to it.

// memberViewer answers, for one caller, whose group members they may see.
type memberViewer struct {
	a      *api
	caller acl.User
	// managed holds the workspaces the caller owns or administers, made on
	// first use.
	managed map[acl.WorkspaceID]bool
}

func (a *api) memberViewer(caller acl.User) *memberViewer {
	return &memberViewer{a: a, caller: caller}
}

// mayList reports whether the caller may see the members of group.
func (v *memberViewer) mayList(ctx context.Context, group string) (bool, error) {
	if v.caller.SiteAdmin {
		return true, nil
	}
	if v.managed == nil {
		if err := v.load(ctx); err != nil {
			return false, err
		}
	}
	if len(v.managed) == 0 {
		return false, nil
	}
	shared, err := v.a.store.WorkspacesSharedWithGroup(ctx, group)
	if err != nil {
		return false, err
	}
	for _, sw := range shared {
		if v.managed[sw.Workspace.ID()] {
			return true, nil
		}
	}
	return false, nil
}

// load finds the workspaces the caller owns, and those they hold an admin
// grant on while sharing is on for them (a disabled grant gives nothing).
func (v *memberViewer) load(ctx context.Context) error {
	v.managed = map[acl.WorkspaceID]bool{}
	owned, err := v.a.store.WorkspacesOwnedBy(ctx, v.caller.Name)
	if err != nil {
		return err
	}
	for _, w := range owned {
		v.managed[w.ID()] = true
	}
	shared, err := v.a.store.WorkspacesSharedWithUser(ctx, v.caller.Name)
	if err != nil {
		return err
	}
	for _, sw := range shared {
		if sw.Role < acl.RoleAdmin {
			continue
		}
		if off := v.a.sharingOff(ctx, sw.Workspace); off != nil {
			if _, isHTTP := off.(*httpError); isHTTP {
				continue
			}
			return off
		}
		v.managed[sw.Workspace.ID()] = true
	}
	return nil
}

// redact empties g's members unless the caller may see them.
func (v *memberViewer) redact(ctx context.Context, g acl.Group) (acl.Group, error) {
	ok, err := v.mayList(ctx, g.Name)
	if err != nil {
		return g, err
	}
	if !ok {
		g.Members = []string{}
	}
	return g, nil
}
