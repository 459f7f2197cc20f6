package filestore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateGroup implements acl.Store. Members given at creation must exist.
func (s *Store) CreateGroup(ctx context.Context, g acl.Group) error {
	members, err := storekit.CheckNewGroup(g)
	if err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		groups := w.Bucket(bGroups)
		if groups.Get([]byte(g.Name)) != nil {
			return acl.Conflict("group", g.Name)
		}
		for _, m := range members {
			if w.Bucket(bUsers).Get([]byte(m)) == nil {
				return acl.NotFound("user", m)
			}
			if err := addMember(w, g.Name, m); err != nil {
				return err
			}
		}
		g.Members = nil
		if g.CreatedAt.IsZero() {
			g.CreatedAt = w.now
		}
		return putJSON(groups, g.Name, g)
	})
}

func addMember(w *wtx, group, user string) error {
	if err := w.Bucket(bMembers).Put([]byte(join(group, user)), []byte{}); err != nil {
		return err
	}
	return w.Bucket(bUserGroups).Put([]byte(join(user, group)), []byte{})
}

// GetGroup implements acl.Store.
func (s *Store) GetGroup(ctx context.Context, name string) (acl.Group, error) {
	if err := storekit.LookupName("group", name); err != nil {
		return acl.Group{}, err
	}
	var g acl.Group
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		g, err = readGroup(tx, name)
		return err
	})
	return g, err
}

func readGroup(tx *bolt.Tx, name string) (acl.Group, error) {
	var g acl.Group
	if err := getExisting(tx.Bucket(bGroups), "group", name, &g); err != nil {
		return acl.Group{}, err
	}
	g.Members = keysWithPrefix(tx.Bucket(bMembers), name+"\x00")
	if g.Members == nil {
		g.Members = []string{}
	}
	return g, nil
}

// ListGroups implements acl.Store.
func (s *Store) ListGroups(ctx context.Context) ([]acl.Group, error) {
	var out []acl.Group
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bGroups).ForEach(func(k, _ []byte) error {
			g, err := readGroup(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, g)
			return nil
		})
	})
	return out, err
}

// DeleteGroup implements acl.Store.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	if err := storekit.LookupName("group", name); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		if w.Bucket(bGroups).Get([]byte(name)) == nil {
			return acl.NotFound("group", name)
		}
		for _, u := range keysWithPrefix(w.Bucket(bMembers), name+"\x00") {
			if err := w.Bucket(bUserGroups).Delete([]byte(join(u, name))); err != nil {
				return err
			}
		}
		if err := deletePrefix(w.Bucket(bMembers), name+"\x00"); err != nil {
			return err
		}
		if err := deleteSubjectGrants(w, acl.SubjectGroup, name); err != nil {
			return err
		}
		if err := w.Bucket(bGroups).Delete([]byte(name)); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventGroupDeleted, Group: name})
		return nil
	})
}

// AddGroupMember implements acl.Store; adding a member twice is a conflict.
func (s *Store) AddGroupMember(ctx context.Context, group, user string) error {
	return s.onMembership(ctx, group, user, func(w *wtx, mk []byte) error {
		if w.Bucket(bMembers).Get(mk) != nil {
			return &acl.ConflictError{Kind: "member", Name: user, Detail: "already in group " + group}
		}
		return addMember(w, group, user)
	})
}

// RemoveGroupMember implements acl.Store.
func (s *Store) RemoveGroupMember(ctx context.Context, group, user string) error {
	return s.onMembership(ctx, group, user, func(w *wtx, mk []byte) error {
		if w.Bucket(bMembers).Get(mk) == nil {
			return acl.NotFound("member", user)
		}
		if err := w.Bucket(bMembers).Delete(mk); err != nil {
			return err
		}
		if err := w.Bucket(bUserGroups).Delete([]byte(join(user, group))); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventGroupMemberRemoved, Group: group, User: user})
		return nil
	})
}

// onMembership runs fn in one write once group and user both exist; mk is
// their key in the members bucket.
func (s *Store) onMembership(ctx context.Context, group, user string, fn func(w *wtx, mk []byte) error) error {
	if err := storekit.LookupMembership(group, user); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		if w.Bucket(bGroups).Get([]byte(group)) == nil {
			return acl.NotFound("group", group)
		}
		if w.Bucket(bUsers).Get([]byte(user)) == nil {
			return acl.NotFound("user", user)
		}
		return fn(w, []byte(join(group, user)))
	})
}
