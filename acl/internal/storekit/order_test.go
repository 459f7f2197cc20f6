package storekit_test

import (
	"slices"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

func TestSortWorkspacesByOwnerThenName(t *testing.T) {
	// As text "a-b/y" < "a/b" ('-' < '/'); by owner then name it is after.
	ws := []acl.Workspace{{Owner: "a-b", Name: "y"}, {Owner: "a", Name: "x"}, {Owner: "a", Name: "b"}}
	storekit.SortWorkspaces(ws)
	wantEqual(t, "workspaces", ids(ws), []string{"a/b", "a/x", "a-b/y"})

	sw := []acl.SharedWorkspace{{Workspace: ws[2]}, {Workspace: ws[1]}, {Workspace: ws[0]}}
	storekit.SortShared(sw)
	got := make([]string, len(sw))
	for i, s := range sw {
		got[i] = s.Workspace.ID().String()
	}
	wantEqual(t, "shared", got, []string{"a/b", "a/x", "a-b/y"})
}

func ids(ws []acl.Workspace) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID().String()
	}
	return out
}

func TestSortGrantsUsersBeforeGroups(t *testing.T) {
	a := acl.WorkspaceID{Owner: "a", Name: "w"}
	b := acl.WorkspaceID{Owner: "a-b", Name: "w"}
	gs := []acl.Grant{
		{Workspace: b, Kind: acl.SubjectUser, Subject: "amy"},
		{Workspace: a, Kind: acl.SubjectGroup, Subject: "devs"},
		{Workspace: a, Kind: acl.SubjectUser, Subject: "zoe"},
		{Workspace: a, Kind: acl.SubjectUser, Subject: "bob"},
	}
	storekit.SortGrants(gs)
	got := make([]string, len(gs))
	for i, g := range gs {
		got[i] = g.Workspace.String() + " " + g.Kind.String() + ":" + g.Subject
	}
	wantEqual(t, "grants", got, []string{"a/w user:bob", "a/w user:zoe", "a/w group:devs", "a-b/w user:amy"})
}

func TestSortKeysByAddedThenFingerprint(t *testing.T) {
	ks := []acl.PublicKey{
		{Fingerprint: "c", AddedAt: t0.Add(time.Second)},
		{Fingerprint: "b", AddedAt: t0},
		{Fingerprint: "a", AddedAt: t0},
	}
	storekit.SortKeys(ks)
	got := []string{ks[0].Fingerprint, ks[1].Fingerprint, ks[2].Fingerprint}
	wantEqual(t, "keys", got, []string{"a", "b", "c"})
}

func TestSortTokensOldestFirstThenID(t *testing.T) {
	ts := []acl.Token{{ID: "t3", CreatedAt: t0}, {ID: "t1", CreatedAt: t0.Add(time.Second)}, {ID: "t2", CreatedAt: t0}}
	storekit.SortTokens(ts)
	got := []string{ts[0].ID, ts[1].ID, ts[2].ID}
	wantEqual(t, "tokens", got, []string{"t2", "t3", "t1"})
}

func wantEqual(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %q, want %q", what, got, want)
	}
}
