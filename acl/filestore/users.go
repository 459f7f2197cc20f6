package filestore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateUser implements acl.Store.
func (s *Store) CreateUser(ctx context.Context, u acl.User) error {
	if err := storekit.CheckNewUser(u); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		users, keys := w.Bucket(bUsers), w.Bucket(bKeys)
		if users.Get([]byte(u.Name)) != nil {
			return acl.Conflict("user", u.Name)
		}
		for _, k := range u.Keys {
			if keys.Get([]byte(k.Fingerprint)) != nil {
				// The user is new, so whoever holds it is someone else.
				return acl.KeyInUse(k.Fingerprint)
			}
		}
		u.Groups = nil
		u.Keys = slices.Clone(u.Keys)
		for i := range u.Keys {
			if u.Keys[i].AddedAt.IsZero() {
				u.Keys[i].AddedAt = w.now
			}
			if err := keys.Put([]byte(u.Keys[i].Fingerprint), []byte(u.Name)); err != nil {
				return err
			}
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = w.now
		}
		return putJSON(users, u.Name, u)
	})
}

// keyTaken is a key the user already has; another user's is acl.KeyInUse.
func keyTaken(fp string) error {
	return &acl.ConflictError{Kind: "key", Name: fp, Detail: "fingerprint is already registered"}
}

// GetUser implements acl.Store.
func (s *Store) GetUser(ctx context.Context, name string) (acl.User, error) {
	if err := storekit.LookupName("user", name); err != nil {
		return acl.User{}, err
	}
	var u acl.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		u, err = readUser(tx, name)
		return err
	})
	return u, err
}

// GetUsers implements acl.Store: one read transaction for all.
func (s *Store) GetUsers(ctx context.Context, names []string) (map[string]acl.User, error) {
	out := make(map[string]acl.User, len(names))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for _, n := range names {
			if storekit.LookupName("user", n) != nil {
				continue
			}
			u, err := readUser(tx, n)
			switch {
			case err == nil:
				out[n] = u
			case !errors.Is(err, acl.ErrNotFound):
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readUser loads a user and fills in their groups, sorted.
func readUser(tx *bolt.Tx, name string) (acl.User, error) {
	var u acl.User
	if err := getExisting(tx.Bucket(bUsers), "user", name, &u); err != nil {
		return acl.User{}, err
	}
	u.Groups = keysWithPrefix(tx.Bucket(bUserGroups), name+"\x00")
	storekit.SortKeys(u.Keys)
	return u, nil
}

// ListUsers implements acl.Store.
func (s *Store) ListUsers(ctx context.Context) ([]acl.User, error) {
	var out []acl.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bUsers).ForEach(func(k, _ []byte) error {
			u, err := readUser(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// SetUserSuspended implements acl.Store.
func (s *Store) SetUserSuspended(ctx context.Context, name string, suspended bool) error {
	return s.updateUser(ctx, name, func(w *wtx, u *acl.User) {
		u.Suspended = suspended
		if suspended {
			w.emit(acl.Event{Kind: acl.EventUserSuspended, User: name})
		}
	})
}

// SetUserSiteAdmin implements acl.Store.
func (s *Store) SetUserSiteAdmin(ctx context.Context, name string, siteAdmin bool) error {
	return s.updateUser(ctx, name, func(w *wtx, u *acl.User) {
		u.SiteAdmin = siteAdmin
		if !siteAdmin {
			w.emit(acl.Event{Kind: acl.EventSiteAdminRevoked, User: name})
		}
	})
}

func (s *Store) updateUser(ctx context.Context, name string, fn func(w *wtx, u *acl.User)) error {
	return s.updateUserErr(ctx, name, func(w *wtx, u *acl.User) error {
		fn(w, u)
		return nil
	})
}

// DeleteUser implements acl.Store.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.onUser(ctx, name, func(w *wtx, u *acl.User) error {
		if owned := keysWithPrefix(w.Bucket(bWorkspaces), name+"/"); len(owned) > 0 {
			return &acl.ConflictError{Kind: "user", Name: name,
				Detail: fmt.Sprintf("still owns %d workspace(s); delete them first", len(owned))}
		}
		for _, k := range u.Keys {
			if err := w.Bucket(bKeys).Delete([]byte(k.Fingerprint)); err != nil {
				return err
			}
		}
		userTokens := w.Bucket(bUserTokens)
		for _, id := range keysWithPrefix(userTokens, name+"\x00") {
			hash := userTokens.Get([]byte(name + "\x00" + id))
			if err := w.Bucket(bTokens).Delete(hash); err != nil {
				return err
			}
		}
		if err := deletePrefix(userTokens, name+"\x00"); err != nil {
			return err
		}
		for _, g := range keysWithPrefix(w.Bucket(bUserGroups), name+"\x00") {
			if err := w.Bucket(bMembers).Delete([]byte(join(g, name))); err != nil {
				return err
			}
		}
		if err := deletePrefix(w.Bucket(bUserGroups), name+"\x00"); err != nil {
			return err
		}
		if err := deleteSubjectGrants(w, acl.SubjectUser, name); err != nil {
			return err
		}
		if err := w.Bucket(bUsers).Delete([]byte(name)); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventUserDeleted, User: name})
		return nil
	})
}

// AddUserKey implements acl.Store.
func (s *Store) AddUserKey(ctx context.Context, user string, key acl.PublicKey) error {
	if err := storekit.ValidKey(key); err != nil {
		return err
	}
	return s.updateUserErr(ctx, user, func(w *wtx, u *acl.User) error {
		keys := w.Bucket(bKeys)
		if holder := keys.Get([]byte(key.Fingerprint)); holder != nil {
			if string(holder) != user {
				return acl.KeyInUse(key.Fingerprint)
			}
			return keyTaken(key.Fingerprint)
		}
		if key.AddedAt.IsZero() {
			key.AddedAt = w.now
		}
		u.Keys = append(u.Keys, key)
		return keys.Put([]byte(key.Fingerprint), []byte(user))
	})
}

// RemoveUserKey implements acl.Store.
func (s *Store) RemoveUserKey(ctx context.Context, user, fingerprint string) error {
	return s.updateUserErr(ctx, user, func(w *wtx, u *acl.User) error {
		i := slices.IndexFunc(u.Keys, func(k acl.PublicKey) bool { return k.Fingerprint == fingerprint })
		if i < 0 {
			return acl.NotFound("key", fingerprint)
		}
		u.Keys = slices.Delete(u.Keys, i, i+1)
		if len(u.Keys) == 0 {
			u.Keys = nil
		}
		if err := w.Bucket(bKeys).Delete([]byte(fingerprint)); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventKeyRemoved, User: user, Fingerprint: fingerprint})
		return nil
	})
}

// onUser runs fn in one write on the stored user name, who must exist.
func (s *Store) onUser(ctx context.Context, name string, fn func(w *wtx, u *acl.User) error) error {
	if err := storekit.LookupName("user", name); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		var u acl.User
		if err := getExisting(w.Bucket(bUsers), "user", name, &u); err != nil {
			return err
		}
		return fn(w, &u)
	})
}

// updateUserErr is onUser for changes that keep the user: it stores the
// user fn changed.
func (s *Store) updateUserErr(ctx context.Context, name string, fn func(w *wtx, u *acl.User) error) error {
	return s.onUser(ctx, name, func(w *wtx, u *acl.User) error {
		if err := fn(w, u); err != nil {
			return err
		}
		return putJSON(w.Bucket(bUsers), name, *u)
	})
}

// UserByKeyFingerprint implements acl.Store.
func (s *Store) UserByKeyFingerprint(ctx context.Context, fingerprint string) (acl.User, error) {
	var u acl.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		name := tx.Bucket(bKeys).Get([]byte(fingerprint))
		if name == nil {
			return acl.NotFound("key", fingerprint)
		}
		var err error
		u, err = readUser(tx, string(name))
		return err
	})
	return u, err
}
