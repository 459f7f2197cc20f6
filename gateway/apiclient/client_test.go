package apiclient_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hiddeco/sshsig"
	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server runs httpapi on a real filestore on 127.0.0.1, with users alice,
// bob and carol.
func server(t *testing.T) (st *filestore.Store, url string, tokens map[string]string) {
	t.Helper()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	tokens = map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := st.CreateUser(t.Context(), acl.User{Name: u, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		secret := acl.NewSecret(acl.APITokenPrefix)
		if err := st.CreateToken(t.Context(), acl.Token{ID: acl.NewID(), User: u, Name: "t", Hash: acl.HashToken(secret), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		tokens[u] = secret
	}
	return st, srv.URL, tokens
}

func client(t *testing.T, url, token string) *apiclient.Client {
	t.Helper()
	// A client of its own, so no idle connection outlives the test.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := apiclient.New(url, token, apiclient.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorsCarryStatusAndValidations(t *testing.T) {
	_, url, tokens := server(t)
	c := client(t, url, tokens["alice"])
	_, err := c.CreateWorkspace(t.Context(), apitypes.CreateWorkspaceRequest{Name: "Bad_Name"})
	var apiErr *apiclient.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(apiErr.Validations) != 1 || apiErr.Validations[0].Field != "name" {
		t.Fatalf("err %#v", err)
	}
	bad := client(t, url, "wsg_wrong")
	if _, err := bad.Me(t.Context()); apiclient.StatusCode(err) != 401 {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := apiclient.New("ftp://x", ""); err == nil {
		t.Error("ftp URL accepted")
	}
}

func TestKeyFingerprintsWithSlashes(t *testing.T) {
	_, url, tokens := server(t)
	c := client(t, url, tokens["alice"])
	// Find keys whose fingerprints hold "/" and "+", which must survive the
	// path.
	for _, want := range []string{"/", "+"} {
		for {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := ssh.NewSignerFromKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			sp := signer.PublicKey()
			if !strings.Contains(ssh.FingerprintSHA256(sp), want) {
				continue
			}
			line := string(ssh.MarshalAuthorizedKey(sp))
			ch, err := c.KeyChallenge(t.Context(), "me", line)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := sshsig.Sign(strings.NewReader(ch.Challenge), signer, sshsig.HashSHA512, ch.Namespace)
			if err != nil {
				t.Fatal(err)
			}
			k, err := c.AddKeyWithProof(t.Context(), "me", apitypes.AddKeyRequest{
				AuthorizedKey: line, Challenge: ch.Challenge, Signature: string(sshsig.Armor(sig))})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveKey(t.Context(), "me", k.Fingerprint); err != nil {
				t.Fatalf("remove %s: %v", k.Fingerprint, err)
			}
			ks, err := c.ListKeys(t.Context(), "me")
			if err != nil || len(ks) != 0 {
				t.Fatalf("keys after removal: %v %v", ks, err)
			}
			break
		}
	}
}

func TestResolveWorkspace(t *testing.T) {
	st, url, tokens := server(t)
	mk := func(owner, name string, grantees ...string) {
		id := acl.WorkspaceID{Owner: owner, Name: name}
		if err := st.CreateWorkspace(t.Context(), acl.Workspace{Owner: owner, Name: name, State: acl.StateStopped, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, g := range grantees {
			if err := st.ApplyGrants(t.Context(), id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: g, Role: acl.RoleUse}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("alice", "proj", "carol")
	mk("bob", "proj", "carol", "alice")
	mk("bob", "solo", "alice")
	alice := client(t, url, tokens["alice"])
	carol := client(t, url, tokens["carol"])
	for _, tc := range []struct {
		c       *apiclient.Client
		ref     string
		want    string
		wantErr string
	}{
		{alice, "proj", "alice/proj", ""}, // own wins
		{alice, "solo", "bob/solo", ""},   // the only shared one
		{alice, "bob/proj", "bob/proj", ""},
		{carol, "proj", "", "alice/proj, bob/proj"},
		{carol, "solo", "", `workspace "solo" not found`},
		{carol, "bob/solo", "", `workspace "bob/solo" not found`},
		{carol, "Bad", "", "invalid workspace"},
	} {
		w, err := tc.c.ResolveWorkspace(t.Context(), tc.ref)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.ref, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.ref, err)
		case w.Owner+"/"+w.Name != tc.want:
			t.Errorf("%s resolved to %s/%s, want %s", tc.ref, w.Owner, w.Name, tc.want)
		}
	}
}
