package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func (a *api) getACL(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	return a.writeACL(w, r, c, caller)
}

// writeACL answers the workspace's grants as caller sees them: group
// members only for those who may share the workspace (and site admins),
// and marked inactive while sharing is disabled for it (aclview.go).
func (a *api) writeACL(w http.ResponseWriter, r *http.Request, c *access, caller acl.User) error {
	ctx := r.Context()
	id := c.ws.ID()
	grants, err := a.store.ListGrants(ctx, id)
	if err != nil {
		return err
	}
	out := apitypes.ACL{Users: []apitypes.ACLUser{}, Groups: []apitypes.ACLGroup{}}
	if out.Inactive, err = a.inactiveReason(ctx, c.ws); err != nil {
		return err
	}
	showMembers := caller.SiteAdmin || c.allows(acl.ActionShareUse)
	for _, g := range liveGrants(grants, a.now()) {
		switch g.Kind {
		case acl.SubjectUser:
			out.Users = append(out.Users, shareOf(g))
		case acl.SubjectGroup:
			members := []string{}
			grp, err := a.store.GetGroup(ctx, g.Subject)
			switch {
			case err == nil && !showMembers:
			case err == nil:
				members = nonNil(grp.Members)
			case !errors.Is(err, acl.ErrNotFound):
				return err
			}
			out.Groups = append(out.Groups, apitypes.ACLGroup{Name: g.Subject, Role: g.Role.String(), Members: members, ExpiresAt: g.ExpiresAt})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sharingOff answers 403 when sharing is disabled for the deployment or the
// workspace's org.
func (a *api) sharingOff(ctx context.Context, ws acl.Workspace) error {
	s, err := a.store.GetSettings(ctx)
	if err != nil {
		return err
	}
	if s.SharingDisabled || a.cfg.DisableSharing {
		return errorf(http.StatusForbidden, "workspace sharing is disabled for this deployment")
	}
	if ws.Org == "" {
		return nil
	}
	o, err := a.store.GetOrg(ctx, ws.Org)
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return nil
	case err != nil:
		return err
	case o.SharingDisabled:
		return errorf(http.StatusForbidden, "workspace sharing is disabled for organization %q", ws.Org)
	}
	return nil
}

// loadShareAccess does the checks every share call starts with: visible
// (404), sharing on (403) unless the call only removes grants, and allowed
// to share at all (403). Removing stays possible while sharing is
// disabled, so that stale grants do not come back when it is enabled again.
func (a *api) loadShareAccess(r *http.Request, caller acl.User, removalOnly bool) (*access, error) {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return nil, err
	}
	if err := a.sharingOff(r.Context(), c.ws); err != nil && !removalOnly {
		if he, ok := err.(*httpError); ok {
			he.body.Message += " (grants can still be removed)"
		}
		return nil, err
	}
	if err := c.require(acl.ActionShareUse); err != nil {
		return nil, err
	}
	return c, nil
}

type subjectKey struct {
	kind acl.SubjectKind
	name string
}

func (a *api) patchACL(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	var req apitypes.ACLUpdate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.loadShareAccess(r, caller, onlyRemovals(req))
	if err != nil {
		return err
	}
	if len(req.Users)+len(req.Groups) == 0 {
		return errorf(http.StatusBadRequest, "nothing to change: name at least one user or group")
	}
	ctx := r.Context()
	var (
		vs      []apitypes.Validation
		expires time.Time
	)
	if req.ExpiresAt != "" {
		t, v := a.parseFuture("expires_at", req.ExpiresAt)
		if v != nil {
			vs = append(vs, *v)
		}
		expires = t
	}
	changes := make([]acl.GrantChange, 0, len(req.Users)+len(req.Groups))
	for _, kind := range []acl.SubjectKind{acl.SubjectUser, acl.SubjectGroup} {
		entries := req.Users
		if kind == acl.SubjectGroup {
			entries = req.Groups
		}
		for _, name := range sortedKeys(entries) {
			ch, v, err := a.checkShareEntry(ctx, c.ws, kind, name, entries[name])
			if err != nil {
				return err
			}
			if v != nil {
				vs = append(vs, *v)
				continue
			}
			if ch.Role != acl.RoleNone {
				ch.ExpiresAt = expires
			}
			changes = append(changes, ch)
		}
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}

	// Admins may add and remove use grants only: a change that sets, lowers
	// or removes an admin grant needs the owner's right.
	grants, err := a.store.ListGrants(ctx, c.ws.ID())
	if err != nil {
		return err
	}
	current := map[subjectKey]acl.Role{}
	for _, g := range liveGrants(grants, a.now()) {
		current[subjectKey{g.Kind, g.Subject}] = g.Role
	}
	if !c.allows(acl.ActionShareAdmin) {
		for _, ch := range changes {
			if ch.Role == acl.RoleAdmin || current[subjectKey{ch.Kind, ch.Subject}] == acl.RoleAdmin {
				return errorf(http.StatusForbidden,
					"only the workspace owner or a site admin may grant or remove the admin role (%s %q on %s)",
					ch.Kind, ch.Subject, c.ws.ID())
			}
		}
	}
	if err := a.store.ApplyGrants(ctx, c.ws.ID(), changes); err != nil {
		return shareStoreError(err)
	}
	a.log.InfoContext(ctx, "workspace sharing changed", "workspace", c.ws.ID().String(), "by", caller.Name, "changes", len(changes))
	return a.writeACL(w, r, c, caller)
}

// checkShareEntry validates one entry of a PATCH: a grantable role or ""
// to remove, a subject that exists (and for users is not suspended when
// given a role), and not the owner.
func (a *api) checkShareEntry(ctx context.Context, ws acl.Workspace, kind acl.SubjectKind, name, roleText string) (acl.GrantChange, *apitypes.Validation, error) {
	field := "users." + name
	if kind == acl.SubjectGroup {
		field = "groups." + name
	}
	bad := func(format string, args ...any) (acl.GrantChange, *apitypes.Validation, error) {
		return acl.GrantChange{}, &apitypes.Validation{Field: field, Detail: fmt.Sprintf(format, args...)}, nil
	}
	if err := acl.ValidateName(kind.String(), name); err != nil {
		return bad("invalid %s %q: %v", kind, name, err)
	}
	role := acl.RoleNone
	if roleText != "" {
		r, err := acl.ParseGrantRole(roleText)
		if err != nil {
			return bad("invalid role %q for %s %q: expected use or admin (or \"\" to remove)", roleText, kind, name)
		}
		role = r
	}
	switch kind {
	case acl.SubjectUser:
		if name == ws.Owner {
			return bad("user %q owns workspace %s and cannot be given a role on it", name, ws.ID())
		}
		u, err := a.store.GetUser(ctx, name)
		switch {
		case errors.Is(err, acl.ErrNotFound):
			return bad("user %q not found", name)
		case err != nil:
			return acl.GrantChange{}, nil, err
		case u.Suspended && role != acl.RoleNone:
			return bad("user %q is suspended", name)
		}
	case acl.SubjectGroup:
		_, err := a.store.GetGroup(ctx, name)
		switch {
		case errors.Is(err, acl.ErrNotFound):
			return bad("group %q not found", name)
		case err != nil:
			return acl.GrantChange{}, nil, err
		}
	}
	return acl.GrantChange{Kind: kind, Subject: name, Role: role}, nil, nil
}

// shareStoreError turns a store's refusal of a subject (which may have
// changed since it was checked) into a 400 naming it.
func shareStoreError(err error) error {
	var nf *acl.NotFoundError
	if errors.As(err, &nf) && (nf.Kind == "user" || nf.Kind == "group") {
		return invalidField(nf.Kind+"s."+nf.Name, "%s", nf.Error())
	}
	return err
}

func (a *api) deleteACL(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadShareAccess(r, caller, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if !c.allows(acl.ActionShareAdmin) {
		grants, err := a.store.ListGrants(ctx, c.ws.ID())
		if err != nil {
			return err
		}
		for _, g := range liveGrants(grants, a.now()) {
			if g.Role == acl.RoleAdmin {
				return errorf(http.StatusForbidden,
					"only the workspace owner or a site admin may remove the admin role (%s %q on %s)",
					g.Kind, g.Subject, c.ws.ID())
			}
		}
	}
	if err := a.store.ClearGrants(ctx, c.ws.ID()); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "workspace sharing cleared", "workspace", c.ws.ID().String(), "by", caller.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
