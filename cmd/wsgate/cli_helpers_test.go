package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

// cliEnv is a real API server (httpapi on a filestore) on 127.0.0.1 and a
// home directory per user for the wsgate binary.
type cliEnv struct {
	t      *testing.T
	store  *filestore.Store
	url    string
	dir    string
	tokens map[string]string
}

// testHostKey is the gateway host key the test API serves.
const testHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIMlTPbMWr3Q9dG8/V3n4Yx5l0wV9u5l9S3Cjq5Yq1pC"

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	return newCLIEnvServing(t, httptest.NewServer)
}

// newCLIEnvServing is newCLIEnv with the API served by serve (TLS, say).
func newCLIEnvServing(t *testing.T, serve func(http.Handler) *httptest.Server) *cliEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Store: st, SSHAddr: ":2222", SSHHostKeys: []string{testHostKey}})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(h)
	t.Cleanup(func() {
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &cliEnv{t: t, store: st, url: srv.URL, dir: dir, tokens: map[string]string{}}
}

func (c *cliEnv) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cliEnv) user(name string, siteAdmin bool) {
	c.t.Helper()
	ctx := c.t.Context()
	c.must(c.store.CreateUser(ctx, acl.User{Name: name, SiteAdmin: siteAdmin, CreatedAt: time.Now()}))
	secret := acl.NewSecret(acl.APITokenPrefix)
	c.must(c.store.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: name, Name: "test", Hash: acl.HashToken(secret), CreatedAt: time.Now()}))
	c.tokens[name] = secret
}

func (c *cliEnv) workspace(owner, name string) acl.WorkspaceID {
	c.t.Helper()
	ws := acl.Workspace{Owner: owner, Name: name, State: acl.StateStopped, AgentTokenHash: acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix)),
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	c.must(c.store.CreateWorkspace(c.t.Context(), ws))
	return ws.ID()
}

func (c *cliEnv) grant(id acl.WorkspaceID, kind acl.SubjectKind, subject string, role acl.Role) {
	c.t.Helper()
	c.must(c.store.ApplyGrants(c.t.Context(), id, []acl.GrantChange{{Kind: kind, Subject: subject, Role: role}}))
}

// home is the user's own home and config directory.
func (c *cliEnv) home(user string) string {
	return filepath.Join(c.dir, "home", user)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs wsgate as user, logged in through WSGATE_URL and WSGATE_TOKEN
// (user "" runs with neither).
func (c *cliEnv) run(user string, args ...string) result {
	c.t.Helper()
	return c.runEnv(user, nil, "", args...)
}

func (c *cliEnv) runEnv(user string, extraEnv []string, stdin string, args ...string) result {
	c.t.Helper()
	home := c.home(user)
	if err := os.MkdirAll(home, 0o700); err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.CommandContext(c.t.Context(), wsgateBin, args...)
	cmd.Env = []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PATH=" + os.Getenv("PATH"),
	}
	if user != "" {
		cmd.Env = append(cmd.Env, "WSGATE_URL="+c.url, "WSGATE_TOKEN="+c.tokens[user])
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("run wsgate %v: %v", args, err)
	}
	return res
}

// ok runs wsgate and fails the test unless it exits 0.
func (c *cliEnv) ok(user string, args ...string) string {
	c.t.Helper()
	r := c.run(user, args...)
	if r.code != 0 {
		c.t.Fatalf("wsgate %s as %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs wsgate and checks it exits non-zero naming want on stderr.
func (c *cliEnv) fails(user, want string, args ...string) {
	c.t.Helper()
	r := c.run(user, args...)
	if r.code == 0 {
		c.t.Fatalf("wsgate %s as %s succeeded, want failure naming %q\nstdout: %s", strings.Join(args, " "), user, want, r.stdout)
	}
	if !strings.Contains(r.stderr, want) {
		c.t.Errorf("wsgate %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, want)
	}
}

func (c *cliEnv) grantsOf(id acl.WorkspaceID) string {
	c.t.Helper()
	gs, err := c.store.ListGrants(c.t.Context(), id)
	c.must(err)
	var parts []string
	for _, g := range gs {
		parts = append(parts, g.Kind.String()+":"+g.Subject+":"+g.Role.String())
	}
	return strings.Join(parts, " ")
}

// norm normalises a table for comparison: lines trimmed on the right.
func norm(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
