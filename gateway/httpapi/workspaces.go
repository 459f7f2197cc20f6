package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// workspaceView is ws as a caller with role sees it; grants expired by now
// are left out.
func workspaceView(ws acl.Workspace, role acl.Role, grants []acl.Grant, now time.Time) apitypes.Workspace {
	v := apitypes.Workspace{
		Owner:      ws.Owner,
		Name:       ws.Name,
		Org:        ws.Org,
		State:      ws.State,
		CreatedAt:  ws.CreatedAt,
		UpdatedAt:  ws.UpdatedAt,
		Role:       role.String(),
		SharedWith: apitypes.SharedWith{Users: []apitypes.Share{}, Groups: []apitypes.Share{}},
		Settings:   ws.Settings.Map(),
	}
	for _, g := range liveGrants(grants, now) {
		switch g.Kind {
		case acl.SubjectUser:
			v.SharedWith.Users = append(v.SharedWith.Users, shareOf(g))
		case acl.SubjectGroup:
			v.SharedWith.Groups = append(v.SharedWith.Groups, shareOf(g))
		}
	}
	return v
}

func shareOf(g acl.Grant) apitypes.Share {
	return apitypes.Share{Name: g.Subject, Role: g.Role.String(), ExpiresAt: g.ExpiresAt}
}

// liveGrants returns the grants not expired by now, sorted by kind and name.
func liveGrants(grants []acl.Grant, now time.Time) []acl.Grant {
	out := make([]acl.Grant, 0, len(grants))
	for _, g := range grants {
		if g.ExpiresAt.IsZero() || g.ExpiresAt.After(now) {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Subject < out[j].Subject
	})
	return out
}

// writeWorkspace answers with the workspace as the caller sees it now.
func (a *api) writeWorkspace(w http.ResponseWriter, r *http.Request, status int, c *access) error {
	ws, err := a.store.GetWorkspace(r.Context(), c.ws.ID())
	if err != nil {
		return err
	}
	grants, err := a.store.ListGrants(r.Context(), ws.ID())
	if err != nil {
		return err
	}
	v := workspaceView(ws, c.role, grants, a.now())
	callerView(&v, ws, c.caller, c.role, grants)
	v.AgentRefusal = a.agentRefusal(ws)
	if err := a.markInactive(r.Context(), &v, ws); err != nil {
		return err
	}
	if a.cfg.AgentInfo != nil {
		v.AgentTakeover = a.cfg.AgentInfo.LastTakeover(ws)
	}
	v.AgentKey = a.agentKeyState(r.Context(), ws, c.role)
	v.AllowedActions = allowedActions(c.snap, c.caller, ws.ID())
	if a.cfg.AgentInfo != nil {
		connected := a.cfg.AgentInfo.Connected(ws)
		v.AgentConnected = &connected
	}
	writeJSON(w, status, v)
	return nil
}

// agentRefusal is why this gateway last refused ws's agent, if it did.
func (a *api) agentRefusal(ws acl.Workspace) *apitypes.AgentRefusal {
	if a.cfg.AgentInfo == nil {
		return nil
	}
	return a.cfg.AgentInfo.LastRefusal(ws)
}

func (a *api) createWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	var req apitypes.CreateWorkspaceRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Owner == "" || req.Owner == "me" {
		req.Owner = caller.Name
	}
	if req.Owner != caller.Name && !caller.SiteAdmin {
		return errorf(http.StatusForbidden, "only site admins may create workspaces for other users")
	}
	var vs []apitypes.Validation
	if err := acl.ValidateName("workspace", req.Name); err != nil {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: err.Error()})
	}
	owner, err := a.store.GetUser(r.Context(), req.Owner)
	switch {
	case errors.Is(err, acl.ErrNotFound):
		vs = append(vs, apitypes.Validation{Field: "owner", Detail: fmt.Sprintf("user %q not found", req.Owner)})
	case err != nil:
		return err
	case owner.Suspended:
		vs = append(vs, apitypes.Validation{Field: "owner", Detail: fmt.Sprintf("user %q is suspended", req.Owner)})
	}
	org := req.Org
	if org == "" {
		org = owner.Org
	} else {
		if org != owner.Org && !caller.SiteAdmin {
			return errorf(http.StatusForbidden, "only site admins may create workspaces outside the owner's organization")
		}
		v, err := a.checkOrg(r, "org", org)
		if err != nil {
			return err
		}
		vs = append(vs, v...)
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}
	secret := acl.NewSecret(acl.AgentTokenPrefix)
	now := a.now()
	ws := acl.Workspace{
		Owner:          req.Owner,
		Name:           req.Name,
		Org:            org,
		State:          acl.StateStopped,
		AgentTokenHash: acl.HashToken(secret),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := a.store.CreateWorkspace(r.Context(), ws); err != nil {
		return err
	}
	created, err := a.store.GetWorkspace(r.Context(), ws.ID())
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "workspace created", "workspace", ws.ID().String(), "by", caller.Name)
	writeJSON(w, http.StatusCreated, apitypes.CreateWorkspaceResponse{
		Workspace:  workspaceView(created, acl.RoleOwner, nil, now),
		AgentToken: secret,
	})
	return nil
}

func (a *api) getWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	return a.writeWorkspace(w, r, http.StatusOK, c)
}

func (a *api) renameWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	var req apitypes.UpdateWorkspaceRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.loadAccess(r, caller, acl.ActionRename)
	if err != nil {
		return err
	}
	if err := acl.ValidateName("workspace", req.Name); err != nil {
		return invalidField("name", "%v", err)
	}
	unlock := a.locks.lock(c.ws.ID())
	defer unlock()
	if err := a.store.RenameWorkspace(r.Context(), c.ws.ID(), req.Name); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "workspace renamed", "workspace", c.ws.ID().String(), "name", req.Name, "by", caller.Name)
	// The snapshot knew the old name: load the caller's standing anew.
	if c, err = a.loadAccessID(r, caller, acl.WorkspaceID{Owner: c.ws.Owner, Name: req.Name}, acl.ActionView); err != nil {
		return err
	}
	return a.writeWorkspace(w, r, http.StatusOK, c)
}

func (a *api) deleteWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	_, ws, unlock, err := a.loadLocked(r, caller, acl.ActionDelete)
	if err != nil {
		return err
	}
	defer unlock()
	id := ws.ID()
	// A running workspace is stopped first so that nothing keeps running
	// that nobody can manage any more.
	if ws.State != acl.StateStopped && ws.State != acl.StateFailed {
		if err := a.runTransition(r, ws, opStop, caller.Name); err != nil {
			return err
		}
	}
	if err := a.store.DeleteWorkspace(r.Context(), id); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "workspace deleted", "workspace", id.String(), "by", caller.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateAgentToken replaces the agent token; the old one stops working at
// once, and the revoker disconnects the agent still on it. Only the owner
// (or a site admin) may: the answer is a credential that lets its holder
// run the workspace's agent.
func (a *api) rotateAgentToken(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionManageAgent)
	if err != nil {
		return err
	}
	secret := acl.NewSecret(acl.AgentTokenPrefix)
	if err := a.store.SetAgentTokenHash(r.Context(), c.ws.ID(), acl.HashToken(secret)); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "agent token rotated", "workspace", c.ws.ID().String(), "by", caller.Name)
	writeJSON(w, http.StatusOK, apitypes.AgentTokenResponse{AgentToken: secret})
	return nil
}
