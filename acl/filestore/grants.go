package filestore

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

func grantKey(ws string, kind acl.SubjectKind, subject string) string {
	return join(ws, kind.String(), subject)
}

func subjectKey(kind acl.SubjectKind, subject, ws string) string {
	return join(kind.String(), subject, ws)
}

// expiryKey orders grants by expiry: seconds with the sign bit flipped (so
// that byte order is time order), nanoseconds, then the grant's key.
func expiryKey(t time.Time, gk string) []byte {
	b := make([]byte, 12, 12+len(gk))
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return append(b, gk...)
}

func putGrant(w *wtx, g acl.Grant) error {
	ws := g.Workspace.String()
	gk := grantKey(ws, g.Kind, g.Subject)
	if err := putJSON(w.Bucket(bGrants), gk, g); err != nil {
		return err
	}
	if err := w.Bucket(bSubjectGrants).Put([]byte(subjectKey(g.Kind, g.Subject, ws)), []byte{}); err != nil {
		return err
	}
	if !g.ExpiresAt.IsZero() {
		return w.Bucket(bGrantExpiry).Put(expiryKey(g.ExpiresAt, gk), []byte{})
	}
	return nil
}

func deleteGrant(w *wtx, g acl.Grant) error {
	ws := g.Workspace.String()
	gk := grantKey(ws, g.Kind, g.Subject)
	if err := w.Bucket(bGrants).Delete([]byte(gk)); err != nil {
		return err
	}
	if err := w.Bucket(bSubjectGrants).Delete([]byte(subjectKey(g.Kind, g.Subject, ws))); err != nil {
		return err
	}
	if !g.ExpiresAt.IsZero() {
		return w.Bucket(bGrantExpiry).Delete(expiryKey(g.ExpiresAt, gk))
	}
	return nil
}

// workspaceGrants returns every stored grant of a workspace, expired or not.
func workspaceGrants(tx *bolt.Tx, ws string) ([]acl.Grant, error) {
	b := tx.Bucket(bGrants)
	prefix := ws + "\x00"
	var out []acl.Grant
	for _, rest := range keysWithPrefix(b, prefix) {
		var g acl.Grant
		if _, err := getJSON(b, prefix+rest, &g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// deleteWorkspaceGrants removes every stored grant of a workspace and
// returns them.
func deleteWorkspaceGrants(w *wtx, ws string) ([]acl.Grant, error) {
	grants, err := workspaceGrants(w.Tx, ws)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if err := deleteGrant(w, g); err != nil {
			return nil, err
		}
	}
	return grants, nil
}

// deleteSubjectGrants removes every grant that names a user or group.
func deleteSubjectGrants(w *wtx, kind acl.SubjectKind, subject string) error {
	prefix := join(kind.String(), subject) + "\x00"
	for _, ws := range keysWithPrefix(w.Bucket(bSubjectGrants), prefix) {
		var g acl.Grant
		ok, err := getJSON(w.Bucket(bGrants), grantKey(ws, kind, subject), &g)
		if err != nil {
			return err
		}
		if !ok { // index without grant: drop the index entry alone
			if err := w.Bucket(bSubjectGrants).Delete([]byte(prefix + ws)); err != nil {
				return err
			}
			continue
		}
		if err := deleteGrant(w, g); err != nil {
			return err
		}
	}
	return nil
}

// ListGrants implements acl.Store: live grants, users first, then groups,
// each by name.
func (s *Store) ListGrants(ctx context.Context, id acl.WorkspaceID) ([]acl.Grant, error) {
	if err := storekit.LookupID(id); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var out []acl.Grant
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bWorkspaces).Get([]byte(id.String())) == nil {
			return acl.NotFound("workspace", id.String())
		}
		all, err := workspaceGrants(tx, id.String())
		for _, g := range all {
			if !storekit.Expired(g.ExpiresAt, now) {
				out = append(out, g)
			}
		}
		return err
	})
	storekit.SortGrants(out)
	return out, err
}

// ApplyGrants implements acl.Store.
func (s *Store) ApplyGrants(ctx context.Context, id acl.WorkspaceID, changes []acl.GrantChange) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	if err := storekit.ValidChanges(id, changes); err != nil {
		return err
	}
	ws := id.String()
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		// Check every subject before writing anything.
		for _, c := range changes {
			if err := grantable(w, c); err != nil {
				return err
			}
		}
		for _, c := range changes {
			var old acl.Grant
			found, err := getJSON(w.Bucket(bGrants), grantKey(ws, c.Kind, c.Subject), &old)
			if err != nil {
				return err
			}
			live := found && !storekit.Expired(old.ExpiresAt, w.now)
			if found {
				if err := deleteGrant(w, old); err != nil {
					return err
				}
			}
			if c.Role == acl.RoleNone {
				if found {
					w.emit(grantEvent(acl.EventGrantRemoved, id, r.UID, c.Kind, c.Subject, acl.RoleNone))
				}
				continue
			}
			g := acl.Grant{Workspace: id, Kind: c.Kind, Subject: c.Subject, Role: c.Role, ExpiresAt: c.ExpiresAt, CreatedAt: w.now}
			if live {
				g.CreatedAt = old.CreatedAt
				if c.Role < old.Role {
					w.emit(grantEvent(acl.EventGrantLowered, id, r.UID, c.Kind, c.Subject, c.Role))
				}
			}
			if err := putGrant(w, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// grantable checks that a change's subject exists and, when it is given a
// role, that a user is not suspended.
func grantable(w *wtx, c acl.GrantChange) error {
	if c.Kind == acl.SubjectGroup {
		if w.Bucket(bGroups).Get([]byte(c.Subject)) == nil {
			return acl.NotFound("group", c.Subject)
		}
		return nil
	}
	var u acl.User
	if err := getExisting(w.Bucket(bUsers), "user", c.Subject, &u); err != nil {
		return err
	}
	if u.Suspended && c.Role != acl.RoleNone {
		return acl.Invalid("subject", "user %q is suspended", c.Subject)
	}
	return nil
}

func grantEvent(kind acl.EventKind, id acl.WorkspaceID, uid string, sk acl.SubjectKind, subject string, role acl.Role) acl.Event {
	ev := acl.Event{Kind: kind, Workspace: id, WorkspaceUID: uid, Role: role}
	if sk == acl.SubjectGroup {
		ev.Group = subject
	} else {
		ev.User = subject
	}
	return ev
}

// ClearGrants implements acl.Store.
func (s *Store) ClearGrants(ctx context.Context, id acl.WorkspaceID) error {
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		grants, err := deleteWorkspaceGrants(w, id.String())
		for _, g := range grants {
			w.emit(grantEvent(acl.EventGrantRemoved, id, r.UID, g.Kind, g.Subject, acl.RoleNone))
		}
		return err
	})
}

// DeleteExpiredGrants implements acl.Store; it walks the expiry index only
// as far as now.
func (s *Store) DeleteExpiredGrants(ctx context.Context, now time.Time) (int, error) {
	// Gateways sweep every second; a read transaction first keeps an idle
	// sweep from committing (and syncing) an empty write each time.
	due := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bGrantExpiry).Cursor().First()
		due = k != nil && string(k) <= string(expiryKey(now, "\xff"))
		return nil
	})
	if err != nil || !due {
		return 0, err
	}
	n := 0
	err = s.update(ctx, func(w *wtx) error {
		n = 0
		limit := expiryKey(now, "\xff")
		var gks []string
		c := w.Bucket(bGrantExpiry).Cursor()
		for k, _ := c.First(); k != nil && string(k) <= string(limit); k, _ = c.Next() {
			gks = append(gks, string(k[12:]))
		}
		for _, gk := range gks {
			var g acl.Grant
			ok, err := getJSON(w.Bucket(bGrants), gk, &g)
			if err != nil {
				return err
			}
			if !ok || !storekit.Expired(g.ExpiresAt, now) {
				continue
			}
			if err := deleteGrant(w, g); err != nil {
				return err
			}
			var ws storekit.WorkspaceRecord
			if _, err := getJSON(w.Bucket(bWorkspaces), g.Workspace.String(), &ws); err != nil {
				return err
			}
			w.emit(grantEvent(acl.EventGrantExpired, g.Workspace, ws.UID, g.Kind, g.Subject, acl.RoleNone))
			n++
		}
		return nil
	})
	return n, err
}

// WorkspacesSharedWithUser implements acl.Store.
func (s *Store) WorkspacesSharedWithUser(ctx context.Context, user string) ([]acl.SharedWorkspace, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var out []acl.SharedWorkspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bUsers).Get([]byte(user)) == nil {
			return acl.NotFound("user", user)
		}
		byWS := map[string]*acl.SharedWorkspace{}
		add := func(kind acl.SubjectKind, subject string) error {
			grants, err := subjectGrants(tx, kind, subject, now)
			if err != nil {
				return err
			}
			for _, g := range grants {
				ws := g.Workspace.String()
				sw := byWS[ws]
				if sw == nil {
					w, err := readWorkspace(tx, ws)
					if err != nil {
						return err
					}
					sw = &acl.SharedWorkspace{Workspace: w}
					byWS[ws] = sw
				}
				sw.Role = max(sw.Role, g.Role)
				if kind == acl.SubjectUser {
					sw.Direct = true
				} else {
					sw.ViaGroups = append(sw.ViaGroups, subject)
				}
			}
			return nil
		}
		if err := add(acl.SubjectUser, user); err != nil {
			return err
		}
		// keysWithPrefix yields groups in name order, so ViaGroups is sorted.
		for _, g := range keysWithPrefix(tx.Bucket(bUserGroups), user+"\x00") {
			if err := add(acl.SubjectGroup, g); err != nil {
				return err
			}
		}
		for _, sw := range byWS {
			out = append(out, *sw)
		}
		return nil
	})
	storekit.SortShared(out)
	return out, err
}

// WorkspacesSharedWithGroup implements acl.Store. The group holds each
// grant in its own name, so Direct is true and ViaGroups empty.
func (s *Store) WorkspacesSharedWithGroup(ctx context.Context, group string) ([]acl.SharedWorkspace, error) {
	if err := storekit.LookupName("group", group); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var out []acl.SharedWorkspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bGroups).Get([]byte(group)) == nil {
			return acl.NotFound("group", group)
		}
		grants, err := subjectGrants(tx, acl.SubjectGroup, group, now)
		if err != nil {
			return err
		}
		for _, g := range grants {
			w, err := readWorkspace(tx, g.Workspace.String())
			if err != nil {
				return err
			}
			out = append(out, acl.SharedWorkspace{Workspace: w, Role: g.Role, Direct: true})
		}
		return nil
	})
	storekit.SortShared(out)
	return out, err
}

// subjectGrants returns the live grants naming a user or group.
func subjectGrants(tx *bolt.Tx, kind acl.SubjectKind, subject string, now time.Time) ([]acl.Grant, error) {
	prefix := join(kind.String(), subject) + "\x00"
	var out []acl.Grant
	for _, ws := range keysWithPrefix(tx.Bucket(bSubjectGrants), prefix) {
		var g acl.Grant
		ok, err := getJSON(tx.Bucket(bGrants), grantKey(ws, kind, subject), &g)
		if err != nil {
			return nil, err
		}
		if ok && !storekit.Expired(g.ExpiresAt, now) {
			out = append(out, g)
		}
	}
	return out, nil
}
