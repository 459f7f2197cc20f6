package acl

import "time"

// Reason explains a Decision, for logs and metrics. Callers must not show
// ReasonNoWorkspace and ReasonNoRole differently to users: a workspace you
// may not see and one that does not exist look the same.
type Reason uint8

const (
	ReasonAllowed     Reason = iota // the role suffices
	ReasonNoUser                    // unknown subject
	ReasonSuspended                 // the subject is suspended
	ReasonNoWorkspace               // unknown workspace
	ReasonNoRole                    // no grant, or sharing disabled and no other role
	ReasonRoleTooLow                // a role, but not enough for the action
)

var reasonNames = [...]string{"allowed", "no_user", "suspended", "no_workspace", "no_role", "role_too_low"}

// String names the reason for metrics labels.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Decision is the answer of Authorize.
type Decision struct {
	Allow bool
	// Role is the subject's effective role on the workspace (RoleOwner for
	// owners and site admins), whether or not the action was allowed.
	Role   Role
	Reason Reason
}

// Visible reports whether the subject may know the workspace exists.
func (d Decision) Visible() bool { return d.Role > RoleNone }

// Authorize decides whether subject may do action on workspace ws, from the
// facts in s alone: no I/O, no allocation. It denies by default.
func Authorize(s *Snapshot, subject string, action Action, ws WorkspaceID) Decision {
	if s == nil {
		return Decision{Reason: ReasonNoUser}
	}
	// Hot path: the role was computed when the snapshot was built.
	if role, ok := s.roles[pairKey{user: subject, ws: ws}]; ok {
		switch {
		case role == RoleNone:
			return Decision{Reason: ReasonNoRole}
		case role < MinRole(action):
			return Decision{Role: role, Reason: ReasonRoleTooLow}
		}
		return Decision{Allow: true, Role: role, Reason: ReasonAllowed}
	}
	// Only pairs of a known, active user and a known workspace have a role;
	// say which part is missing.
	u, ok := s.users[subject]
	switch {
	case !ok:
		return Decision{Reason: ReasonNoUser}
	case u.Suspended:
		return Decision{Reason: ReasonSuspended}
	}
	if _, ok := s.workspaces[ws]; !ok {
		return Decision{Reason: ReasonNoWorkspace}
	}
	return Decision{Reason: ReasonNoRole} // deny by default
}

// effectiveRole is the subject's role on the workspace: owner for the owner
// and for site admins, otherwise the highest of the user's direct grant and
// the grants of every group they are in, and none while sharing is disabled
// for the deployment or the workspace's org.
func effectiveRole(s *Snapshot, u *snapUser, w *snapWorkspace) Role {
	if u.SiteAdmin || w.Owner == u.Name {
		return RoleOwner
	}
	if s.sharingDisabled || w.orgSharingDisabled {
		return RoleNone
	}
	role := RoleNone
	for i := range w.grants {
		g := &w.grants[i]
		if g.Role <= role {
			continue
		}
		switch g.Kind {
		case SubjectUser:
			if g.Subject == u.Name {
				role = g.Role
			}
		case SubjectGroup:
			if u.inGroup(g.Subject) {
				role = g.Role
			}
		}
	}
	return role
}

// Snapshot is an immutable set of facts Authorize decides from: users with
// their groups, workspaces with their grants and org setting, and the
// deployment setting. Build it with SnapshotBuilder; share it freely.
type Snapshot struct {
	// roles holds the effective role of every active user on every
	// workspace of the snapshot, so Authorize is one map lookup. Build pays
	// users×workspaces for it, which suits the small snapshots wsgate
	// builds: one user and one workspace, or one user's listing.
	roles           map[pairKey]Role
	sharingDisabled bool
	users           map[string]*snapUser
	workspaces      map[WorkspaceID]*snapWorkspace
	// validUntil is the earliest grant expiry in the snapshot (zero: none).
	validUntil time.Time
}

type snapUser struct {
	Name      string
	SiteAdmin bool
	Suspended bool
	groups    []string
}

func (u *snapUser) inGroup(g string) bool {
	for _, x := range u.groups {
		if x == g {
			return true
		}
	}
	return false
}

type snapWorkspace struct {
	Owner              string
	uid                string
	orgSharingDisabled bool
	grants             []Grant
}

// WorkspaceUID is the UID of the workspace the snapshot holds under id, ""
// when it holds none. A caller that authorized on id checks it against the
// UID it holds a session or tunnel for: a workspace deleted and created
// again under the same name has another UID.
func (s *Snapshot) WorkspaceUID(id WorkspaceID) string {
	if s == nil {
		return ""
	}
	if w, ok := s.workspaces[id]; ok {
		return w.uid
	}
	return ""
}

// ValidUntil is when the snapshot's earliest grant expires; a cache must
// rebuild the snapshot by then. Zero means no grant in it expires.
func (s *Snapshot) ValidUntil() time.Time { return s.validUntil }

// SnapshotBuilder collects facts into a Snapshot.
type SnapshotBuilder struct {
	now  time.Time
	snap *Snapshot
	orgs map[string]bool // org name -> sharing disabled
}

// NewSnapshotBuilder starts a snapshot as of now: grants that have expired
// by now are left out.
func NewSnapshotBuilder(now time.Time, settings Settings) *SnapshotBuilder {
	return &SnapshotBuilder{
		now: now,
		snap: &Snapshot{
			sharingDisabled: settings.SharingDisabled,
			users:           map[string]*snapUser{},
			workspaces:      map[WorkspaceID]*snapWorkspace{},
		},
		orgs: map[string]bool{},
	}
}

// AddOrg records an org's sharing setting; add orgs before their workspaces.
func (b *SnapshotBuilder) AddOrg(o Org) { b.orgs[o.Name] = o.SharingDisabled }

// AddUser records a user with the groups in u.Groups.
func (b *SnapshotBuilder) AddUser(u User) {
	b.snap.users[u.Name] = &snapUser{
		Name:      u.Name,
		SiteAdmin: u.SiteAdmin,
		Suspended: u.Suspended,
		groups:    append([]string(nil), u.Groups...),
	}
}

// AddWorkspace records a workspace and its grants.
func (b *SnapshotBuilder) AddWorkspace(w Workspace, grants []Grant) {
	sw := &snapWorkspace{Owner: w.Owner, uid: w.UID, orgSharingDisabled: w.Org != "" && b.orgs[w.Org]}
	for _, g := range grants {
		if !g.ExpiresAt.IsZero() {
			if !g.ExpiresAt.After(b.now) {
				continue
			}
			if b.snap.validUntil.IsZero() || g.ExpiresAt.Before(b.snap.validUntil) {
				b.snap.validUntil = g.ExpiresAt
			}
		}
		if g.Role.Grantable() {
			sw.grants = append(sw.grants, g)
		}
	}
	b.snap.workspaces[w.ID()] = sw
}

// Build returns the snapshot; the builder must not be used afterwards.
func (b *SnapshotBuilder) Build() *Snapshot {
	s := b.snap
	b.snap = nil
	s.roles = make(map[pairKey]Role, len(s.users)*len(s.workspaces))
	for _, u := range s.users {
		if u.Suspended {
			continue
		}
		for id, w := range s.workspaces {
			s.roles[pairKey{user: u.Name, ws: id}] = effectiveRole(s, u, w)
		}
	}
	return s
}

// pairKey names one user on one workspace.
type pairKey struct {
	user string
	ws   WorkspaceID
}
