package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// query is a parsed ?q= of GET /api/v1/workspaces. Terms are ANDed.
type query struct {
	owner           string
	shared          *bool
	sharedWithUser  string
	sharedWithGroup string
	names           []string
}

// parseQuery reads space-separated key:value terms; a bare word is a name
// term. "me" stands for the caller.
func parseQuery(q, caller string) (query, error) {
	var out query
	me := func(v string) string {
		if v == "me" {
			return caller
		}
		return v
	}
	for _, term := range strings.Fields(q) {
		key, val, ok := strings.Cut(term, ":")
		if !ok {
			out.names = append(out.names, term)
			continue
		}
		if val == "" {
			return query{}, invalidField("q", "search term %q has no value", term)
		}
		switch key {
		case "owner":
			out.owner = me(val)
		case "shared":
			var b bool
			switch val {
			case "true":
				b = true
			case "false":
			default:
				return query{}, invalidField("q", "invalid search term %q: expected shared:true or shared:false", term)
			}
			out.shared = &b
		case "shared_with_user":
			out.sharedWithUser = me(val)
		case "shared_with_group":
			out.sharedWithGroup = val
		case "name":
			out.names = append(out.names, val)
		default:
			return query{}, invalidField("q", "unknown search term %q: expected owner, shared, shared_with_user, shared_with_group or name", term)
		}
	}
	return out, nil
}

func (a *api) listWorkspaces(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	q, err := parseQuery(r.URL.Query().Get("q"), caller.Name)
	if err != nil {
		return err
	}
	ctx := r.Context()
	candidates, err := a.visibleCandidates(r, caller)
	if err != nil {
		return err
	}
	settings, err := a.store.GetSettings(ctx)
	if err != nil {
		return err
	}
	settings.SharingDisabled = settings.SharingDisabled || a.cfg.DisableSharing
	now := a.now()
	b := acl.NewSnapshotBuilder(now, settings)
	b.AddUser(caller)
	seenOrg := map[string]bool{}
	for _, ws := range candidates {
		if ws.Org == "" || seenOrg[ws.Org] {
			continue
		}
		seenOrg[ws.Org] = true
		o, err := a.store.GetOrg(ctx, ws.Org)
		if errors.Is(err, acl.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		b.AddOrg(o)
	}
	grants := make(map[acl.WorkspaceID][]acl.Grant, len(candidates))
	for _, ws := range candidates {
		gs, err := a.store.ListGrants(ctx, ws.ID())
		if err != nil && !errors.Is(err, acl.ErrNotFound) {
			return err
		}
		gs = liveGrants(gs, now)
		grants[ws.ID()] = gs
		b.AddWorkspace(ws, gs)
	}
	snap := b.Build()

	var userGroups map[string]bool
	if q.sharedWithUser != "" {
		u, err := a.store.GetUser(ctx, q.sharedWithUser)
		switch {
		case errors.Is(err, acl.ErrNotFound):
			// Nobody unknown holds a grant: the answer is empty.
			writeJSON(w, http.StatusOK, []apitypes.Workspace{})
			return nil
		case err != nil:
			return err
		}
		userGroups = map[string]bool{}
		for _, g := range u.Groups {
			userGroups[g] = true
		}
	}

	out := []apitypes.Workspace{}
	for _, ws := range candidates {
		d := acl.Authorize(snap, caller.Name, acl.ActionView, ws.ID())
		if !d.Allow {
			continue
		}
		gs := grants[ws.ID()]
		if !q.matches(ws, gs, userGroups) {
			continue
		}
		v := workspaceView(ws, d.Role, gs, now)
		callerView(&v, ws, caller.Name, d.Role, gs)
		v.AgentRefusal = a.agentRefusal(ws)
		v.AllowedActions = allowedActions(snap, caller.Name, ws.ID())
		if err := a.markInactive(ctx, &v, ws); err != nil {
			return err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Owner != out[j].Owner {
			return out[i].Owner < out[j].Owner
		}
		return out[i].Name < out[j].Name
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}

// visibleCandidates returns the workspaces the caller might see: all for a
// site admin, else their own and those shared with them. Authorize still
// decides each one (sharing may be disabled, grants may have expired).
func (a *api) visibleCandidates(r *http.Request, caller acl.User) ([]acl.Workspace, error) {
	ctx := r.Context()
	if caller.SiteAdmin {
		ws, err := a.store.ListWorkspaces(ctx)
		if err != nil {
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		return ws, nil
	}
	owned, err := a.store.WorkspacesOwnedBy(ctx, caller.Name)
	if err != nil {
		return nil, fmt.Errorf("list workspaces owned by %s: %w", caller.Name, err)
	}
	shared, err := a.store.WorkspacesSharedWithUser(ctx, caller.Name)
	if err != nil {
		return nil, fmt.Errorf("list workspaces shared with %s: %w", caller.Name, err)
	}
	seen := map[acl.WorkspaceID]bool{}
	out := make([]acl.Workspace, 0, len(owned)+len(shared))
	for _, ws := range owned {
		seen[ws.ID()] = true
		out = append(out, ws)
	}
	for _, sw := range shared {
		if !seen[sw.Workspace.ID()] {
			seen[sw.Workspace.ID()] = true
			out = append(out, sw.Workspace)
		}
	}
	return out, nil
}

// matches applies the filters to one workspace and its live grants;
// userGroups are the groups of q.sharedWithUser.
func (q query) matches(ws acl.Workspace, grants []acl.Grant, userGroups map[string]bool) bool {
	if q.owner != "" && ws.Owner != q.owner {
		return false
	}
	if q.shared != nil && (len(grants) > 0) != *q.shared {
		return false
	}
	for _, n := range q.names {
		if !strings.Contains(ws.Name, n) {
			return false
		}
	}
	if q.sharedWithUser != "" && !hasGrant(grants, func(g acl.Grant) bool {
		return (g.Kind == acl.SubjectUser && g.Subject == q.sharedWithUser) ||
			(g.Kind == acl.SubjectGroup && userGroups[g.Subject])
	}) {
		return false
	}
	if q.sharedWithGroup != "" && !hasGrant(grants, func(g acl.Grant) bool {
		return g.Kind == acl.SubjectGroup && g.Subject == q.sharedWithGroup
	}) {
		return false
	}
	return true
}

func hasGrant(grants []acl.Grant, f func(acl.Grant) bool) bool {
	for _, g := range grants {
		if f(g) {
			return true
		}
	}
	return false
}
