package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/internal/testutil"
)

// env is a real filestore in a temp dir behind a real HTTP server on
// 127.0.0.1.
type env struct {
	t      *testing.T
	path   string // the store's file
	store  *filestore.Store
	clock  *testutil.Clock
	url    string
	tokens map[string]string // user → API token secret
	close  func()
}

type envOptions struct {
	cfg  httpapi.Config
	path string // an existing store file to open
}

type envOption func(*envOptions)

func withDisableSharing() envOption { return func(o *envOptions) { o.cfg.DisableSharing = true } }

func withProvisioner(p httpapi.Provisioner) envOption {
	return func(o *envOptions) { o.cfg.Provisioner = p }
}

// withStoreFile opens a copy of a seeded store file.
func withStoreFile(data []byte) envOption {
	return func(o *envOptions) {
		if err := os.WriteFile(o.path, data, 0o600); err != nil {
			panic(err)
		}
	}
}

var epoch = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	clk := testutil.NewClock(epoch)
	o := envOptions{path: filepath.Join(t.TempDir(), "wsgate.db")}
	o.cfg = httpapi.Config{Now: clk.Now, SSHAddr: "gw.example:2222", AccessURL: "https://gw.example"}
	for _, opt := range opts {
		opt(&o)
	}
	st, err := filestore.New(filestore.Config{Path: o.path, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	o.cfg.Store = st
	h, err := httpapi.New(o.cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			srv.Close()
			http.DefaultTransport.(*http.Transport).CloseIdleConnections()
			if err := st.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
	}
	t.Cleanup(closeAll)
	return &env{t: t, path: o.path, store: st, clock: clk, url: srv.URL, tokens: map[string]string{}, close: closeAll}
}

// snapshot closes the env and returns its store file, to seed other envs.
func (e *env) snapshot() []byte {
	e.t.Helper()
	e.close()
	data, err := os.ReadFile(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}

func (e *env) ctx() context.Context { return e.t.Context() }

// must fails the test on a store error.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// user creates a user with an API token through the store.
func (e *env) user(name string, mod ...func(*acl.User)) {
	e.t.Helper()
	u := acl.User{Name: name, CreatedAt: e.clock.Now()}
	for _, m := range mod {
		m(&u)
	}
	e.must(e.store.CreateUser(e.ctx(), u))
	secret := acl.NewSecret(acl.APITokenPrefix)
	e.must(e.store.CreateToken(e.ctx(), acl.Token{ID: acl.NewID(), User: name, Name: "test", Hash: acl.HashToken(secret), CreatedAt: e.clock.Now()}))
	e.tokens[name] = secret
}

func siteAdmin(u *acl.User) { u.SiteAdmin = true }

func inOrg(org string) func(*acl.User) { return func(u *acl.User) { u.Org = org } }

func (e *env) group(name string, members ...string) {
	e.t.Helper()
	e.must(e.store.CreateGroup(e.ctx(), acl.Group{Name: name, CreatedAt: e.clock.Now()}))
	for _, m := range members {
		e.must(e.store.AddGroupMember(e.ctx(), name, m))
	}
}

func (e *env) workspace(owner, name, org string) acl.WorkspaceID {
	e.t.Helper()
	ws := acl.Workspace{Owner: owner, Name: name, Org: org, State: acl.StateStopped,
		AgentTokenHash: acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix)), CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	e.must(e.store.CreateWorkspace(e.ctx(), ws))
	return ws.ID()
}

func (e *env) grant(id acl.WorkspaceID, kind acl.SubjectKind, subject string, role acl.Role) {
	e.t.Helper()
	e.must(e.store.ApplyGrants(e.ctx(), id, []acl.GrantChange{{Kind: kind, Subject: subject, Role: role}}))
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) apiError(t *testing.T) apitypes.Error {
	t.Helper()
	var e apitypes.Error
	r.json(t, &e)
	if e.Message == "" {
		t.Fatalf("error body without message: %s", r.body)
	}
	return e
}

// do sends a request as user ("" for no token); body is JSON-encoded
// unless it is a string or []byte, which are sent as they are.
func (e *env) do(user, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		tok, ok := e.tokens[user]
		if !ok {
			tok = user // a raw token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return e.send(req)
}

// send sends a prepared request.
func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// expect checks the status and returns the response.
func (e *env) expect(status int, user, method, path string, body any) response {
	e.t.Helper()
	r := e.do(user, method, path, body)
	if r.status != status {
		e.t.Fatalf("%s %s as %q: status %d, want %d; body %s", method, path, user, r.status, status, r.body)
	}
	return r
}

func (e *env) grants(id acl.WorkspaceID) []acl.Grant {
	e.t.Helper()
	gs, err := e.store.ListGrants(e.ctx(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return gs
}

func (e *env) ws(id acl.WorkspaceID) acl.Workspace {
	e.t.Helper()
	w, err := e.store.GetWorkspace(e.ctx(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}
