package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apiclient"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// upgradeServer serves the SSH front door's upgrade handler on a real HTTP
// (or HTTPS) server on loopback, as Server mounts it.
func (e *testEnv) upgradeServer(useTLS bool) *httptest.Server {
	e.t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST "+apitypes.SSHUpgradePath, e.srv.UpgradeHandler())
	var hs *httptest.Server
	if useTLS {
		hs = httptest.NewTLSServer(mux)
	} else {
		hs = httptest.NewServer(mux)
	}
	e.t.Cleanup(hs.Close)
	return hs
}

// apiToken creates an API token for user; mod may change it.
func (e *testEnv) apiToken(user string, mod ...func(*acl.Token)) (secret, id string) {
	e.t.Helper()
	secret = acl.NewSecret(acl.APITokenPrefix)
	tok := acl.Token{ID: acl.NewID(), User: user, Name: "t", Hash: acl.HashToken(secret), CreatedAt: time.Now()}
	for _, m := range mod {
		m(&tok)
	}
	must(e.t, e.store.CreateToken(context.Background(), tok))
	return secret, tok.ID
}

// dialHTTPS opens an SSH client to login over the upgrade with token; auth
// are offered after "none" (which the gateway accepts first).
func (e *testEnv) dialHTTPS(hs *httptest.Server, token, login string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	e.t.Helper()
	return e.dialHTTPSConfig(hs, token, &ssh.ClientConfig{
		User: login, Auth: auth, HostKeyCallback: ssh.FixedHostKey(e.hostKey), Timeout: 5 * time.Second,
	})
}

// dialHTTPSConfig is dialHTTPS with the client's whole config.
func (e *testEnv) dialHTTPSConfig(hs *httptest.Server, token string, conf *ssh.ClientConfig) (*ssh.Client, error) {
	e.t.Helper()
	c, err := apiclient.New(hs.URL, token, apiclient.WithHTTPClient(hs.Client()))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := c.DialSSH(ctx)
	if err != nil {
		return nil, err
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, "gateway", conf)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	client := ssh.NewClient(sc, chans, reqs)
	e.t.Cleanup(func() { _ = client.Close() })
	return client, nil
}

func (e *testEnv) mustDialHTTPS(hs *httptest.Server, token, login string, auth ...ssh.AuthMethod) *ssh.Client {
	e.t.Helper()
	c, err := e.dialHTTPS(hs, token, login, auth...)
	if err != nil {
		e.t.Fatalf("ssh over https to %q: %v", login, err)
	}
	return c
}

func TestSSHOverHTTPSIsTheTokensUser(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[useTLS]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.startAgent("alice/alice-ws")
			hs := e.upgradeServer(useTLS)
			token, tokenID := e.apiToken("alice")

			c := e.mustDialHTTPS(hs, token, "alice-ws")
			if r := run(t, c, `echo "$WSGATE_USER in $WSGATE_WORKSPACE"`, nil); r.exit != 0 || r.stdout != "alice in alice/alice-ws\n" {
				t.Fatalf("echo: %+v", r)
			}
			if r := run(t, c, "exit 7", nil); r.exit != 7 {
				t.Fatalf("exit 7: %+v", r)
			}
			// stdin reaches the program and its EOF ends it.
			if r := run(t, c, "wc -c", strings.NewReader("twelve bytes")); r.exit != 0 || strings.TrimSpace(r.stdout) != "12" {
				t.Fatalf("wc -c: %+v", r)
			}
			// The session carries the token that opened it.
			var found bool
			for _, s := range e.sessions.Connections("") {
				if s.User == "alice" && s.TokenID == tokenID && s.KeyFingerprint == "" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no session with token id %s: %+v", tokenID, e.sessions.Connections(""))
			}
		})
	}
}

// A key of another user, offered and proven, does not make the connection
// theirs: the token decides who you are.
func TestSSHOverHTTPSForeignKeyDoesNotChangeIdentity(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	e.startAgent("bob/bob-ws")
	hs := e.upgradeServer(false)
	token, _ := e.apiToken("alice")

	c := e.mustDialHTTPS(hs, token, "alice-ws", ssh.PublicKeys(e.keys["bob"]))
	if r := run(t, c, "echo $WSGATE_USER", nil); r.stdout != "alice\n" {
		t.Fatalf("with bob's key: %+v", r)
	}
	// bob's own workspace stays closed to alice, bob's key or not.
	if b := e.refusedEarlyHTTPS(hs, token, "bob/bob-ws", ssh.PublicKeys(e.keys["bob"])); !strings.Contains(b, "not found or access denied") {
		t.Fatalf("alice's token with bob's key into bob-ws: banner %q", b)
	}
}

// Over HTTPS, a refusal reads exactly as on the SSH front door.
func TestSSHOverHTTPSRefusalMatchesFrontDoor(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	hs := e.upgradeServer(false)
	token, _ := e.apiToken("bob")
	for _, login := range []string{"alice-ws", "alice/alice-ws", "nope-ws"} {
		viaHTTPS := e.refusedEarlyHTTPS(hs, token, login)
		viaSSH := e.refusedEarly("bob", login)
		if viaHTTPS == "" || viaHTTPS != viaSSH {
			t.Fatalf("%s: over https %q, over ssh %q", login, viaHTTPS, viaSSH)
		}
	}
	// After a share the same token gets in.
	e.share(acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}, acl.SubjectUser, "bob", acl.RoleUse)
	if r := run(t, e.mustDialHTTPS(hs, token, "alice-ws"), "echo $WSGATE_USER", nil); r.stdout != "bob\n" {
		t.Fatalf("bob after share: %+v", r)
	}
}

func TestSSHUpgradeRefusesBadTokens(t *testing.T) {
	e := newEnv(t)
	hs := e.upgradeServer(false)
	expired, _ := e.apiToken("alice", func(tk *acl.Token) { tk.ExpiresAt = time.Now().Add(-time.Minute) })
	suspended, _ := e.apiToken("dave") // dave is suspended
	ghost, _ := e.apiToken("carol")
	must(t, e.store.DeleteUser(context.Background(), "carol"))

	post := func(authz string, upgrade bool) (int, string) {
		req, err := http.NewRequest(http.MethodPost, hs.URL+apitypes.SSHUpgradePath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if upgrade {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", apitypes.SSHUpgradeProtocol)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	var bodies []string
	for name, authz := range map[string]string{
		"none":       "",
		"not bearer": "Basic " + expired,
		"empty":      "Bearer ",
		"unknown":    "Bearer " + acl.NewSecret(acl.APITokenPrefix),
		"expired":    "Bearer " + expired,
		"suspended":  "Bearer " + suspended,
		"deleted":    "Bearer " + ghost,
	} {
		status, body := post(authz, true)
		if status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d %s", name, status, body)
		}
		bodies = append(bodies, body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("401 bodies differ: %q vs %q", b, bodies[0])
		}
	}
	var apiErr apitypes.Error
	if err := json.Unmarshal([]byte(bodies[0]), &apiErr); err != nil || !strings.Contains(apiErr.Message, "unauthorized") {
		t.Fatalf("401 body %q: %v", bodies[0], err)
	}
	if status, _ := post("Bearer "+expired, false); status != http.StatusUpgradeRequired {
		t.Fatalf("without Upgrade: status %d", status)
	}

	// The client reports the gateway's message and status.
	_, err := e.dialHTTPS(hs, expired, "alice-ws")
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || ae.Message != apiErr.Message {
		t.Fatalf("dial with an expired token: %v", err)
	}
}

// Shutdown ends upgraded connections like any other.
func TestSSHOverHTTPSShutdown(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	hs := e.upgradeServer(false)
	token, _ := e.apiToken("alice")
	c := e.mustDialHTTPS(hs, token, "alice-ws")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait() // returns once the gateway closed the connection
	if _, err := e.dialHTTPS(hs, token, "alice-ws"); err == nil {
		t.Fatal("upgrade accepted after shutdown")
	}
}
