package redisstore

import (
	"context"
	"slices"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateUser implements acl.Store.
func (s *Store) CreateUser(ctx context.Context, u acl.User) error {
	if err := storekit.CheckNewUser(u); err != nil {
		return err
	}
	o := s.newOp()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = o.now
	}
	keys := u.Keys
	u.Keys, u.Groups = nil, nil
	o.args = append(o.args, u.Name, mustJSON(u))
	for _, k := range keys {
		if k.AddedAt.IsZero() {
			k.AddedAt = o.now
		}
		o.args = append(o.args, k.Fingerprint, mustJSON(k))
	}
	_, err := s.run(ctx, "create_user", o)
	return err
}

// GetUser implements acl.Store.
func (s *Store) GetUser(ctx context.Context, name string) (acl.User, error) {
	if err := storekit.LookupName("user", name); err != nil {
		return acl.User{}, err
	}
	return s.getUser(ctx, name, "")
}

// UserByKeyFingerprint implements acl.Store; one round trip.
func (s *Store) UserByKeyFingerprint(ctx context.Context, fingerprint string) (acl.User, error) {
	if fingerprint == "" {
		return acl.User{}, acl.NotFound("key", fingerprint)
	}
	return s.getUser(ctx, "", fingerprint)
}

func (s *Store) getUser(ctx context.Context, name, fingerprint string) (acl.User, error) {
	res, err := s.run(ctx, "get_user", s.newOp(name, fingerprint))
	if err != nil {
		return acl.User{}, err
	}
	return decodeUser(res)
}

// GetUsers implements acl.Store: one round trip for all.
func (s *Store) GetUsers(ctx context.Context, names []string) (map[string]acl.User, error) {
	args := make([]any, 0, len(names))
	for _, n := range names {
		if storekit.LookupName("user", n) == nil {
			args = append(args, n)
		}
	}
	out := make(map[string]acl.User, len(args))
	if len(args) == 0 {
		return out, nil
	}
	res, err := s.run(ctx, "get_users", s.newOp(args...))
	if err != nil {
		return nil, err
	}
	for _, item := range res {
		parts, _ := item.([]any)
		u, err := decodeUser(parts)
		if err != nil {
			return nil, err
		}
		out[u.Name] = u
	}
	return out, nil
}

// decodeUser reads a {user JSON, key JSONs, group names} reply.
func decodeUser(res []any) (acl.User, error) {
	var u acl.User
	if len(res) != 3 {
		return u, errReply("user", res)
	}
	raw, _ := res[0].(string)
	if err := decode(raw, &u); err != nil {
		return acl.User{}, err
	}
	for _, kraw := range strs(res[1]) {
		var k acl.PublicKey
		if err := decode(kraw, &k); err != nil {
			return acl.User{}, err
		}
		u.Keys = append(u.Keys, k)
	}
	storekit.SortKeys(u.Keys)
	u.Groups = strs(res[2])
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	slices.Sort(u.Groups)
	return u, nil
}

// ListUsers implements acl.Store.
func (s *Store) ListUsers(ctx context.Context) ([]acl.User, error) {
	res, err := s.run(ctx, "list_users", s.newOp())
	if err != nil {
		return nil, err
	}
	out := make([]acl.User, 0, len(res))
	for _, item := range res {
		parts, _ := item.([]any)
		u, err := decodeUser(parts)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b acl.User) int { return compareStrings(a.Name, b.Name) })
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SetUserSuspended implements acl.Store.
func (s *Store) SetUserSuspended(ctx context.Context, name string, suspended bool) error {
	if err := storekit.LookupName("user", name); err != nil {
		return err
	}
	ev := ""
	if suspended {
		ev = string(acl.EventUserSuspended)
	}
	return s.write(ctx, "set_user_flag", name, "suspended", flag(suspended), ev)
}

// SetUserSiteAdmin implements acl.Store.
func (s *Store) SetUserSiteAdmin(ctx context.Context, name string, siteAdmin bool) error {
	if err := storekit.LookupName("user", name); err != nil {
		return err
	}
	ev := ""
	if !siteAdmin {
		ev = string(acl.EventSiteAdminRevoked)
	}
	return s.write(ctx, "set_user_flag", name, "site_admin", flag(siteAdmin), ev)
}

// DeleteUser implements acl.Store.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	if err := storekit.LookupName("user", name); err != nil {
		return err
	}
	return s.write(ctx, "delete_user", name)
}

// AddUserKey implements acl.Store.
func (s *Store) AddUserKey(ctx context.Context, user string, key acl.PublicKey) error {
	if err := storekit.ValidKey(key); err != nil {
		return err
	}
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	o := s.newOp()
	if key.AddedAt.IsZero() {
		key.AddedAt = o.now
	}
	o.args = append(o.args, user, key.Fingerprint, mustJSON(key))
	_, err := s.run(ctx, "add_user_key", o)
	return err
}

// RemoveUserKey implements acl.Store.
func (s *Store) RemoveUserKey(ctx context.Context, user, fingerprint string) error {
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.write(ctx, "remove_user_key", user, fingerprint)
}
