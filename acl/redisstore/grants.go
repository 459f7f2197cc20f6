package redisstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

func decodeGrant(raw string) (acl.Grant, error) {
	var g acl.Grant
	err := decode(raw, &g)
	return g, err
}

// ListGrants implements acl.Store: live grants, users first, then groups,
// each by name.
func (s *Store) ListGrants(ctx context.Context, id acl.WorkspaceID) ([]acl.Grant, error) {
	if err := storekit.LookupID(id); err != nil {
		return nil, err
	}
	o := s.newOp(id.String())
	res, err := s.run(ctx, "list_grants", o)
	if err != nil {
		return nil, err
	}
	var out []acl.Grant
	for _, raw := range strs(res) {
		g, err := decodeGrant(raw)
		if err != nil {
			return nil, err
		}
		if !storekit.Expired(g.ExpiresAt, o.now) {
			out = append(out, g)
		}
	}
	storekit.SortGrants(out)
	return out, nil
}

// ApplyGrants implements acl.Store.
func (s *Store) ApplyGrants(ctx context.Context, id acl.WorkspaceID, changes []acl.GrantChange) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	if err := storekit.ValidChanges(id, changes); err != nil {
		return err
	}
	o := s.newOp(id.String())
	for _, c := range changes {
		g := acl.Grant{Workspace: id, Kind: c.Kind, Subject: c.Subject, Role: c.Role, ExpiresAt: c.ExpiresAt, CreatedAt: o.now}
		o.args = append(o.args, c.Kind.String(), c.Subject, int(c.Role), mustJSON(toGrantRecord(g)))
	}
	_, err := s.run(ctx, "apply_grants", o)
	return err
}

// ClearGrants implements acl.Store.
func (s *Store) ClearGrants(ctx context.Context, id acl.WorkspaceID) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.write(ctx, "clear_grants", id.String())
}

// DeleteExpiredGrants implements acl.Store; it reads the expiry index only
// as far as now.
func (s *Store) DeleteExpiredGrants(ctx context.Context, now time.Time) (int, error) {
	if now.Before(storekit.MinExpiry) {
		return 0, nil
	}
	bound := storekit.MaxExpiry
	if now.Before(storekit.MaxExpiry) {
		bound = now.Add(time.Nanosecond)
	}
	res, err := s.run(ctx, "delete_expired_grants", s.newOp(nsKey(bound)))
	if err != nil {
		return 0, err
	}
	if len(res) != 1 {
		return 0, errReply("count", res)
	}
	n, ok := res[0].(int64)
	if !ok {
		return 0, errReply("count", res)
	}
	return int(n), nil
}

// WorkspacesSharedWithUser implements acl.Store.
func (s *Store) WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	return s.sharedWith(ctx, acl.SubjectUser, user)
}

// WorkspacesSharedWithGroup implements acl.Store. The group holds each
// grant in its own name, so Direct is true and ViaGroups empty.
func (s *Store) WorkspacesSharedWithGroup(ctx context.Context, group string) ([]acl.SharedWorkspace, error) {
	if err := storekit.LookupName("group", group); err != nil {
		return nil, err
	}
	return s.sharedWith(ctx, acl.SubjectGroup, group)
}

func (s *Store) sharedWith(ctx context.Context, kind acl.SubjectKind, name string) ([]acl.SharedWorkspace, error) {
	o := s.newOp(kind.String(), name)
	res, err := s.run(ctx, "shared_with", o)
	if err != nil {
		return nil, err
	}
	pairs := strs(res)
	if len(pairs)%2 != 0 {
		return nil, errors.New("redisstore: malformed shared_with reply")
	}
	byWS := map[string]*acl.SharedWorkspace{}
	for i := 0; i < len(pairs); i += 2 {
		var r storekit.WorkspaceRecord
		if err := decode(pairs[i], &r); err != nil {
			return nil, err
		}
		g, err := decodeGrant(pairs[i+1])
		if err != nil {
			return nil, err
		}
		if storekit.Expired(g.ExpiresAt, o.now) {
			continue
		}
		key := g.Workspace.String()
		sw := byWS[key]
		if sw == nil {
			sw = &acl.SharedWorkspace{Workspace: r.Workspace()}
			byWS[key] = sw
		}
		sw.Role = max(sw.Role, g.Role)
		if g.Kind == kind {
			sw.Direct = true
		} else {
			sw.ViaGroups = append(sw.ViaGroups, g.Subject)
		}
	}
	var out []acl.SharedWorkspace
	for _, sw := range byWS {
		slices.Sort(sw.ViaGroups)
		out = append(out, *sw)
	}
	storekit.SortShared(out)
	return out, nil
}
