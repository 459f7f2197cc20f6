package acl

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseShareSpecs(t *testing.T) {
	cases := []struct {
		kind    SubjectKind
		in      []string
		want    []ShareSpec
		wantErr string
	}{
		{SubjectUser, []string{"alice:admin,bob"}, []ShareSpec{{SubjectUser, "alice", RoleAdmin}, {SubjectUser, "bob", RoleUse}}, ""},
		{SubjectUser, []string{"alice:admin", "bob:use"}, []ShareSpec{{SubjectUser, "alice", RoleAdmin}, {SubjectUser, "bob", RoleUse}}, ""},
		{SubjectGroup, []string{"contractor"}, []ShareSpec{{SubjectGroup, "contractor", RoleUse}}, ""},
		{SubjectUser, []string{" alice , bob:admin "}, []ShareSpec{{SubjectUser, "alice", RoleUse}, {SubjectUser, "bob", RoleAdmin}}, ""},
		{SubjectUser, nil, nil, ""},
		{SubjectUser, []string{"alice:owner"}, nil, `invalid role "owner" for user "alice": expected use or admin`},
		{SubjectUser, []string{":use"}, nil, `invalid user ":use": the name before the colon is empty`},
		{SubjectUser, []string{"alice:"}, nil, `invalid user "alice:": the role after the colon is empty`},
		{SubjectUser, []string{"alice:admin:use"}, nil, `invalid role "admin:use" for user "alice"`},
		{SubjectUser, []string{"alice,,bob"}, nil, `empty user in share list`},
		{SubjectUser, []string{""}, nil, `empty user in share list`},
		{SubjectGroup, []string{"Contractor"}, nil, `invalid group "Contractor"`},
		{SubjectUser, []string{"alice", "alice:admin"}, nil, `user "alice" is named more than once`},
		{SubjectUser, []string{"al ice"}, nil, `invalid user "al ice"`},
	}
	for _, c := range cases {
		got, err := ParseShareSpecs(c.kind, c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseShareSpecs(%q) error = %v, want it to contain %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseShareSpecs(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseShareSpecs(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseShareNames(t *testing.T) {
	got, err := ParseShareNames(SubjectUser, []string{"alice,bob", "carol"})
	if err != nil || !reflect.DeepEqual(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"alice:use", "", "a--b"} {
		if _, err := ParseShareNames(SubjectGroup, []string{bad}); err == nil {
			t.Errorf("ParseShareNames(%q) succeeded", bad)
		}
	}
}

// FuzzParseShareSpecs checks that the parser never panics and that whatever
// it accepts is well formed and round-trips through its canonical text.
func FuzzParseShareSpecs(f *testing.F) {
	for _, s := range []string{"alice:admin,bob", ":use", "a:b:c", "x,,y", "bob:use", " a ", "a-b:admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ParseShareSpecs(SubjectUser, []string{in})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		var parts []string
		for _, s := range specs {
			if ValidateName("user", s.Name) != nil || !s.Role.Grantable() || s.Kind != SubjectUser {
				t.Fatalf("accepted a bad spec %+v from %q", s, in)
			}
			parts = append(parts, s.Name+":"+s.Role.String())
		}
		again, err := ParseShareSpecs(SubjectUser, []string{strings.Join(parts, ",")})
		if err != nil || !reflect.DeepEqual(again, specs) {
			t.Fatalf("round trip of %q: %+v, %v", in, again, err)
		}
	})
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "alice", "alice-ws", "a1-b2-c3", strings.Repeat("x", MaxNameLen)} {
		if err := ValidateName("user", ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "a--b", "A", "a/b", "a.b", "a_b", "é", strings.Repeat("x", MaxNameLen+1)} {
		if err := ValidateName("user", bad); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}

func TestParseWorkspaceID(t *testing.T) {
	id, err := ParseWorkspaceID("alice/alice-ws")
	if err != nil || id != (WorkspaceID{"alice", "alice-ws"}) || id.String() != "alice/alice-ws" {
		t.Fatalf("got %v, %v", id, err)
	}
	for _, bad := range []string{"alice", "/ws", "alice/", "a/b/c", "A/b"} {
		if _, err := ParseWorkspaceID(bad); err == nil {
			t.Errorf("ParseWorkspaceID(%q) accepted", bad)
		}
	}
}

func TestTokenHash(t *testing.T) {
	a, b := NewSecret(APITokenPrefix), NewSecret(APITokenPrefix)
	if a == b || !strings.HasPrefix(a, APITokenPrefix) || len(a) < 40 {
		t.Fatalf("weak secrets %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || HashToken(a) != HashToken(a) || strings.Contains(HashToken(a), a) {
		t.Fatal("hash must be deterministic, distinct and not contain the secret")
	}
}
