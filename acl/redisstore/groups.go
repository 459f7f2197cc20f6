package redisstore

import (
	"context"
	"slices"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateGroup implements acl.Store. Members given at creation must exist.
func (s *Store) CreateGroup(ctx context.Context, g acl.Group) error {
	members, err := storekit.CheckNewGroup(g)
	if err != nil {
		return err
	}
	for _, m := range members {
		if err := storekit.LookupName("user", m); err != nil {
			return err
		}
	}
	o := s.newOp()
	if g.CreatedAt.IsZero() {
		g.CreatedAt = o.now
	}
	g.Members = nil
	o.args = append(o.args, g.Name, mustJSON(g))
	for _, m := range members {
		o.args = append(o.args, m)
	}
	_, err = s.run(ctx, "create_group", o)
	return err
}

// GetGroup implements acl.Store.
func (s *Store) GetGroup(ctx context.Context, name string) (acl.Group, error) {
	if err := storekit.LookupName("group", name); err != nil {
		return acl.Group{}, err
	}
	res, err := s.run(ctx, "get_group", s.newOp(name))
	if err != nil {
		return acl.Group{}, err
	}
	return decodeGroup(res)
}

// decodeGroup reads a {group JSON, member names} reply.
func decodeGroup(res []any) (acl.Group, error) {
	var g acl.Group
	if len(res) != 2 {
		return g, errReply("group", res)
	}
	raw, _ := res[0].(string)
	if err := decode(raw, &g); err != nil {
		return acl.Group{}, err
	}
	g.Members = strs(res[1])
	slices.Sort(g.Members)
	return g, nil
}

// ListGroups implements acl.Store.
func (s *Store) ListGroups(ctx context.Context) ([]acl.Group, error) {
	res, err := s.run(ctx, "list_groups", s.newOp())
	if err != nil {
		return nil, err
	}
	var out []acl.Group
	for _, item := range res {
		parts, _ := item.([]any)
		g, err := decodeGroup(parts)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b acl.Group) int { return compareStrings(a.Name, b.Name) })
	return out, nil
}

// DeleteGroup implements acl.Store.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	if err := storekit.LookupName("group", name); err != nil {
		return err
	}
	return s.write(ctx, "delete_group", name)
}

// AddGroupMember implements acl.Store; adding a member twice is a conflict.
func (s *Store) AddGroupMember(ctx context.Context, group, user string) error {
	if err := storekit.LookupMembership(group, user); err != nil {
		return err
	}
	return s.write(ctx, "add_group_member", group, user)
}

// RemoveGroupMember implements acl.Store.
func (s *Store) RemoveGroupMember(ctx context.Context, group, user string) error {
	if err := storekit.LookupMembership(group, user); err != nil {
		return err
	}
	return s.write(ctx, "remove_group_member", group, user)
}
