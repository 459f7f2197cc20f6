package httpapi

import (
	"fmt"
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func sharingWord(disabled bool) string {
	if disabled {
		return apitypes.SharingDisabled
	}
	return apitypes.SharingEnabled
}

// parseSharing reads "enabled" or "disabled" into a disabled flag.
func parseSharing(field, s string) (disabled bool, v *apitypes.Validation) {
	switch s {
	case apitypes.SharingEnabled:
		return false, nil
	case apitypes.SharingDisabled:
		return true, nil
	}
	return false, &apitypes.Validation{Field: field, Detail: fmt.Sprintf("invalid %s %q: expected %s or %s", field, s, apitypes.SharingEnabled, apitypes.SharingDisabled)}
}

// decodeSharing reads a SharingSetting body into a disabled flag.
func decodeSharing(w http.ResponseWriter, r *http.Request) (disabled bool, err error) {
	var req apitypes.SharingSetting
	if err := decode(w, r, &req); err != nil {
		return false, err
	}
	disabled, v := parseSharing("sharing", req.Sharing)
	if v != nil {
		return false, invalid(*v)
	}
	return disabled, nil
}

func orgView(o acl.Org) apitypes.Org {
	return apitypes.Org{Name: o.Name, Sharing: sharingWord(o.SharingDisabled), CreatedAt: o.CreatedAt}
}

func (a *api) createOrg(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "create organizations"); err != nil {
		return err
	}
	var req apitypes.CreateOrgRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var vs []apitypes.Validation
	if err := acl.ValidateName("org", req.Name); err != nil {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: err.Error()})
	}
	disabled := false
	if req.Sharing != "" {
		d, v := parseSharing("sharing", req.Sharing)
		if v != nil {
			vs = append(vs, *v)
		}
		disabled = d
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}
	o := acl.Org{Name: req.Name, SharingDisabled: disabled, CreatedAt: a.now()}
	if err := a.store.CreateOrg(r.Context(), o); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, orgView(o))
	return nil
}

// Any signed-in user may read orgs and their sharing setting.
func (a *api) listOrgs(w http.ResponseWriter, r *http.Request, _ acl.User) error {
	orgs, err := a.store.ListOrgs(r.Context())
	if err != nil {
		return err
	}
	out := make([]apitypes.Org, len(orgs))
	for i, o := range orgs {
		out[i] = orgView(o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) getOrg(w http.ResponseWriter, r *http.Request, _ acl.User) error {
	o, err := a.store.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgView(o))
	return nil
}

func (a *api) getOrgSettings(w http.ResponseWriter, r *http.Request, _ acl.User) error {
	o, err := a.store.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.SharingSetting{Sharing: sharingWord(o.SharingDisabled)})
	return nil
}

func (a *api) setOrgSettings(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "change organization settings"); err != nil {
		return err
	}
	disabled, err := decodeSharing(w, r)
	if err != nil {
		return err
	}
	org := r.PathValue("org")
	if err := a.store.SetOrgSharingDisabled(r.Context(), org, disabled); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "organization sharing changed", "org", org, "sharing", sharingWord(disabled), "by", caller.Name)
	writeJSON(w, http.StatusOK, apitypes.SharingSetting{Sharing: sharingWord(disabled)})
	return nil
}

func (a *api) settingsView(s acl.Settings) apitypes.Settings {
	return apitypes.Settings{
		Sharing:          sharingWord(s.SharingDisabled || a.cfg.DisableSharing),
		DisabledByServer: a.cfg.DisableSharing,
	}
}

func (a *api) getSettings(w http.ResponseWriter, r *http.Request, _ acl.User) error {
	s, err := a.store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.settingsView(s))
	return nil
}

func (a *api) setSettings(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "change deployment settings"); err != nil {
		return err
	}
	disabled, err := decodeSharing(w, r)
	if err != nil {
		return err
	}
	s, err := a.store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	s.SharingDisabled = disabled
	if err := a.store.SetSettings(r.Context(), s); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	a.log.InfoContext(r.Context(), "deployment sharing changed", "sharing", sharingWord(disabled), "by", caller.Name)
	writeJSON(w, http.StatusOK, a.settingsView(s))
	return nil
}

func (a *api) getDeployment(w http.ResponseWriter, _ *http.Request, _ acl.User) error {
	writeJSON(w, http.StatusOK, apitypes.Deployment{SSHAddr: a.cfg.SSHAddr, HostnameSuffix: a.cfg.HostnameSuffix, AccessURL: a.cfg.AccessURL,
		SSHHostKeys: a.cfg.SSHHostKeys})
	return nil
}

// getInfo serves GET /api/v1/info without sign-in: only what any client
// needs to find the gateway's entry points.
func (a *api) getInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, apitypes.Info{AccessURL: a.cfg.AccessURL, SSHAddr: a.cfg.SSHAddr, HostnameSuffix: a.cfg.HostnameSuffix, AppsURL: a.cfg.AppsURL})
}
