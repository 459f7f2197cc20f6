package redisstore

import (
	"context"
	"slices"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateOrg implements acl.Store.
func (s *Store) CreateOrg(ctx context.Context, org acl.Org) error {
	if err := storekit.ValidName("org", org.Name); err != nil {
		return err
	}
	o := s.newOp()
	if org.CreatedAt.IsZero() {
		org.CreatedAt = o.now
	}
	// A new org created with sharing disabled narrows the access of
	// workspaces that already name it, hence the event.
	o.args = append(o.args, org.Name, mustJSON(org), flag(org.SharingDisabled))
	_, err := s.run(ctx, "create_org", o)
	return err
}

// GetOrg implements acl.Store.
func (s *Store) GetOrg(ctx context.Context, name string) (acl.Org, error) {
	if err := storekit.LookupName("org", name); err != nil {
		return acl.Org{}, err
	}
	var o acl.Org
	ok, err := s.getJSON(ctx, "org:"+name, &o)
	if err == nil && !ok {
		err = acl.NotFound("org", name)
	}
	return o, err
}

// ListOrgs implements acl.Store.
func (s *Store) ListOrgs(ctx context.Context) ([]acl.Org, error) {
	res, err := s.run(ctx, "list_json", s.newOp("orgs", "org"))
	if err != nil {
		return nil, err
	}
	var out []acl.Org
	for _, raw := range strs(res) {
		var o acl.Org
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b acl.Org) int { return compareStrings(a.Name, b.Name) })
	return out, nil
}

// SetOrgSharingDisabled implements acl.Store.
func (s *Store) SetOrgSharingDisabled(ctx context.Context, org string, disabled bool) error {
	if err := storekit.LookupName("org", org); err != nil {
		return err
	}
	return s.write(ctx, "set_org_sharing", org, flag(disabled))
}

// GetSettings implements acl.Store; a new store has zero settings.
func (s *Store) GetSettings(ctx context.Context) (acl.Settings, error) {
	var st acl.Settings
	_, err := s.getJSON(ctx, "settings", &st)
	return st, err
}

// SetSettings implements acl.Store.
func (s *Store) SetSettings(ctx context.Context, st acl.Settings) error {
	return s.write(ctx, "set_settings", mustJSON(st), flag(st.SharingDisabled))
}
