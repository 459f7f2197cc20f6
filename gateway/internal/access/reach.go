package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Reach is what the SSH front door weighs before it forwards a user's
// ssh-agent into a workspace: the workspace's settings, and how many other
// users can connect to it (and so reach the forwarded socket).
type Reach struct {
	Settings acl.WorkspaceSettings
	// Others counts the users other than the asking one who can connect.
	Others int
}

// Settings reads the settings of workspace ws, uncached (a setting
// narrowed a moment ago applies to the next request). uid is the
// workspace the caller holds a session on: a workspace of the same name
// with another UID is *acl.NotFoundError.
func (a *Authorizer) Settings(ctx context.Context, ws acl.WorkspaceID, uid string) (acl.WorkspaceSettings, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	defer cancel()
	w, err := a.workspace(ctx, ws, uid)
	if err != nil {
		return acl.WorkspaceSettings{}, err
	}
	return w.Settings, nil
}

// Reach reads, uncached, the workspace's settings and counts who besides
// user can connect to it (OthersWhoCanConnect).
func (a *Authorizer) Reach(ctx context.Context, user string, ws acl.WorkspaceID, uid string) (Reach, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.StoreTimeout)
	defer cancel()
	f, err := acl.LoadWorkspaceFacts(ctx, a.cfg.Store, ws, a.cfg.DisableSharing)
	if err != nil {
		return Reach{}, a.failed(ctx, err)
	}
	a.contact()
	w, ok := f.Workspace()
	if !ok || (uid != "" && w.UID != uid) {
		return Reach{}, acl.NotFound("workspace", ws.String())
	}
	st, grants, sharingOff := a.cfg.Store, f.Grants(), f.SharingDisabled()
	members := map[string][]string{}
	for _, g := range grants {
		if g.Kind != acl.SubjectGroup || sharingOff {
			continue
		}
		if _, done := members[g.Subject]; done {
			continue
		}
		grp, err := st.GetGroup(ctx, g.Subject)
		switch {
		case err == nil:
			members[g.Subject] = grp.Members
		case errors.Is(err, acl.ErrNotFound):
			members[g.Subject] = nil
		default:
			return Reach{}, a.failed(ctx, fmt.Errorf("load group %q: %w", g.Subject, err))
		}
	}
	return Reach{Settings: w.Settings, Others: OthersWhoCanConnect(w, grants, members, user, sharingOff, a.cfg.Now())}, nil
}

func (a *Authorizer) workspace(ctx context.Context, ws acl.WorkspaceID, uid string) (acl.Workspace, error) {
	w, err := a.cfg.Store.GetWorkspace(ctx, ws)
	if err != nil {
		return acl.Workspace{}, a.failed(ctx, fmt.Errorf("load workspace %s: %w", ws, err))
	}
	if uid != "" && w.UID != uid {
		return acl.Workspace{}, acl.NotFound("workspace", ws.String())
	}
	return w, nil
}

// OthersWhoCanConnect counts the distinct users other than user who can
// connect to w by the facts given: its owner, the subjects of its user
// grants and the members of its granted groups (members: group name →
// members), grants expired by now left out, and no grant at all while
// sharing is disabled (sharingOff). Every grant role allows connect.
//
// Site admins are not counted: they may reach every workspace, but they
// also run the gateway, which sees every forwarded agent's traffic anyway;
// counting them would refuse forwarding everywhere. Suspended grantees are
// counted: a suspension can be lifted while the socket exists.
func OthersWhoCanConnect(w acl.Workspace, grants []acl.Grant, members map[string][]string, user string, sharingOff bool, now time.Time) int {
	seen := map[string]bool{user: true}
	n := 0
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			n++
		}
	}
	add(w.Owner)
	if sharingOff {
		return n
	}
	for _, g := range grants {
		if !g.ExpiresAt.IsZero() && !g.ExpiresAt.After(now) {
			continue
		}
		if g.Role < acl.MinRole(acl.ActionConnect) {
			continue
		}
		switch g.Kind {
		case acl.SubjectUser:
			add(g.Subject)
		case acl.SubjectGroup:
			for _, m := range members[g.Subject] {
				add(m)
			}
		}
	}
	return n
}
