package filestore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

const settingsKey = "settings"

// CreateOrg implements acl.Store.
func (s *Store) CreateOrg(ctx context.Context, o acl.Org) error {
	if err := storekit.ValidName("org", o.Name); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		orgs := w.Bucket(bOrgs)
		if orgs.Get([]byte(o.Name)) != nil {
			return acl.Conflict("org", o.Name)
		}
		if o.CreatedAt.IsZero() {
			o.CreatedAt = w.now
		}
		if o.SharingDisabled {
			// A new org can only narrow the access of workspaces that
			// already name it.
			w.emit(acl.Event{Kind: acl.EventSharingDisabled, Org: o.Name})
		}
		return putJSON(orgs, o.Name, o)
	})
}

// GetOrg implements acl.Store.
func (s *Store) GetOrg(ctx context.Context, name string) (acl.Org, error) {
	if err := storekit.LookupName("org", name); err != nil {
		return acl.Org{}, err
	}
	var o acl.Org
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return getExisting(tx.Bucket(bOrgs), "org", name, &o)
	})
	return o, err
}

// ListOrgs implements acl.Store.
func (s *Store) ListOrgs(ctx context.Context) ([]acl.Org, error) {
	var out []acl.Org
	err := s.view(ctx, func(tx *bolt.Tx) error {
		orgs := tx.Bucket(bOrgs)
		return orgs.ForEach(func(k, _ []byte) error {
			var o acl.Org
			if _, err := getJSON(orgs, string(k), &o); err != nil {
				return err
			}
			out = append(out, o)
			return nil
		})
	})
	return out, err
}

// SetOrgSharingDisabled implements acl.Store.
func (s *Store) SetOrgSharingDisabled(ctx context.Context, org string, disabled bool) error {
	if err := storekit.LookupName("org", org); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		orgs := w.Bucket(bOrgs)
		var o acl.Org
		if err := getExisting(orgs, "org", org, &o); err != nil {
			return err
		}
		o.SharingDisabled = disabled
		if disabled {
			w.emit(acl.Event{Kind: acl.EventSharingDisabled, Org: org})
		}
		return putJSON(orgs, org, o)
	})
}

// GetSettings implements acl.Store; a new store has zero settings.
func (s *Store) GetSettings(ctx context.Context) (acl.Settings, error) {
	var st acl.Settings
	err := s.view(ctx, func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bSettings), settingsKey, &st)
		return err
	})
	return st, err
}

// SetSettings implements acl.Store.
func (s *Store) SetSettings(ctx context.Context, st acl.Settings) error {
	return s.update(ctx, func(w *wtx) error {
		if st.SharingDisabled {
			w.emit(acl.Event{Kind: acl.EventSharingDisabled})
		}
		return putJSON(w.Bucket(bSettings), settingsKey, st)
	})
}
