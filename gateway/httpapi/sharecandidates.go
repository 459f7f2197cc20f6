package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// Who the share picker may show (docs/design.md, "Share picker"). Listing
// users is for site admins; a picker must not become a way around that. So
// only a caller who may share this workspace now (share-use, sharing on)
// may search, with a prefix of at least ShareCandidatesMinPrefix
// characters, and gets at most ShareCandidatesLimit names, drawn only from
// the workspace's own organization: active users of the workspace's org
// (other than the owner and the caller) and groups of that org or of no
// org. Site admins, who may list everyone anyway, search every user and
// group. A name outside that can still be typed in full and shared.

func (a *api) getShareCandidates(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	prefix := r.URL.Query().Get("prefix")
	if len(prefix) < apitypes.ShareCandidatesMinPrefix || len(prefix) > acl.MaxNameLen || !namePrefix(prefix) {
		return invalidField("prefix", "prefix must be %d to %d lowercase letters, digits or hyphens, not %q",
			apitypes.ShareCandidatesMinPrefix, acl.MaxNameLen, prefix)
	}
	c, err := a.loadShareAccess(r, caller, false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	groups, err := a.store.ListGroups(ctx)
	if err != nil {
		return err
	}
	out := apitypes.ShareCandidates{Users: []apitypes.ShareCandidate{}, Groups: []apitypes.ShareCandidate{}}
	var names []apitypes.ShareCandidate // users then groups, each sorted
	var kinds []acl.SubjectKind
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	for _, u := range users {
		if !strings.HasPrefix(u.Name, prefix) || u.Suspended || u.Name == c.ws.Owner || u.Name == caller.Name {
			continue
		}
		if !caller.SiteAdmin && u.Org != c.ws.Org {
			continue
		}
		names = append(names, apitypes.ShareCandidate{Name: u.Name, DisplayName: u.DisplayName})
		kinds = append(kinds, acl.SubjectUser)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	for _, g := range groups {
		if !strings.HasPrefix(g.Name, prefix) {
			continue
		}
		if !caller.SiteAdmin && g.Org != "" && g.Org != c.ws.Org {
			continue
		}
		names = append(names, apitypes.ShareCandidate{Name: g.Name})
		kinds = append(kinds, acl.SubjectGroup)
	}
	if len(names) > apitypes.ShareCandidatesLimit {
		names, kinds, out.Truncated = names[:apitypes.ShareCandidatesLimit], kinds[:apitypes.ShareCandidatesLimit], true
	}
	for i, n := range names {
		if kinds[i] == acl.SubjectUser {
			out.Users = append(out.Users, n)
		} else {
			out.Groups = append(out.Groups, n)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// namePrefix reports whether s may begin a name (acl.ValidateName's
// alphabet; a trailing hyphen is fine in a prefix).
func namePrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return s[0] != '-' && !strings.Contains(s, "--")
}
