package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func (a *api) createGroup(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "create groups"); err != nil {
		return err
	}
	var req apitypes.CreateGroupRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var vs []apitypes.Validation
	if err := acl.ValidateName("group", req.Name); err != nil {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: err.Error()})
	}
	if req.Org != "" {
		v, err := a.checkOrg(r, "org", req.Org)
		if err != nil {
			return err
		}
		vs = append(vs, v...)
	}
	for i, m := range req.Members {
		field := fmt.Sprintf("members[%d]", i)
		if err := acl.ValidateName("user", m); err != nil {
			vs = append(vs, apitypes.Validation{Field: field, Detail: err.Error()})
			continue
		}
		if _, err := a.store.GetUser(r.Context(), m); errors.Is(err, acl.ErrNotFound) {
			vs = append(vs, apitypes.Validation{Field: field, Detail: fmt.Sprintf("user %q not found", m)})
		} else if err != nil {
			return err
		}
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}
	g := acl.Group{Name: req.Name, Org: req.Org, Members: req.Members, CreatedAt: a.now()}
	if err := a.store.CreateGroup(r.Context(), g); err != nil {
		return err
	}
	created, err := a.store.GetGroup(r.Context(), g.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// Any signed-in user may read groups: owners need their names to share.
// Members only for those who may see them (groupmembers.go).
func (a *api) listGroups(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	gs, err := a.store.ListGroups(r.Context())
	if err != nil {
		return err
	}
	v := a.memberViewer(caller)
	for i := range gs {
		if gs[i], err = v.redact(r.Context(), gs[i]); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, nonNil(gs))
	return nil
}

func (a *api) getGroup(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	g, err := a.store.GetGroup(r.Context(), r.PathValue("group"))
	if err != nil {
		return err
	}
	if g, err = a.memberViewer(caller).redact(r.Context(), g); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *api) deleteGroup(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "delete groups"); err != nil {
		return err
	}
	if err := a.store.DeleteGroup(r.Context(), r.PathValue("group")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) addMember(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "change groups"); err != nil {
		return err
	}
	var req apitypes.AddMemberRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	group := r.PathValue("group")
	if err := acl.ValidateName("user", req.User); err != nil {
		return invalidField("user", "%v", err)
	}
	if _, err := a.store.GetGroup(r.Context(), group); err != nil {
		return err
	}
	if _, err := a.store.GetUser(r.Context(), req.User); errors.Is(err, acl.ErrNotFound) {
		return invalidField("user", "user %q not found", req.User)
	} else if err != nil {
		return err
	}
	if err := a.store.AddGroupMember(r.Context(), group, req.User); err != nil {
		return err
	}
	return a.writeGroup(w, r, group)
}

func (a *api) removeMember(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "change groups"); err != nil {
		return err
	}
	group := r.PathValue("group")
	if err := a.store.RemoveGroupMember(r.Context(), group, r.PathValue("user")); err != nil {
		return err
	}
	return a.writeGroup(w, r, group)
}

func (a *api) writeGroup(w http.ResponseWriter, r *http.Request, name string) error {
	g, err := a.store.GetGroup(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}
