package gateway

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// bannerRecorder keeps the authentication banners a client was sent.
type bannerRecorder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (r *bannerRecorder) callback(msg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b.WriteString(msg)
	return nil
}

func (r *bannerRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.String()
}

// refusedEarly dials as user to login, expects authentication itself to
// fail (no connection is let in), and returns the banner sent.
func (e *testEnv) refusedEarly(user, login string) string {
	e.t.Helper()
	var rec bannerRecorder
	c, err := ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
		User: login, Auth: []ssh.AuthMethod{ssh.PublicKeys(e.keys[user])},
		HostKeyCallback: ssh.FixedHostKey(e.hostKey), BannerCallback: rec.callback,
	})
	if err == nil {
		_ = c.Close()
		e.t.Fatalf("%s to %q: authentication succeeded, want a refusal", user, login)
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		e.t.Fatalf("%s to %q: %v, want an authentication failure", user, login, err)
	}
	return rec.String()
}

// refusedWith checks that user is refused login during authentication
// with msg as the banner.
func (e *testEnv) refusedWith(user, login, msg string) {
	e.t.Helper()
	if got := e.refusedEarly(user, login); got != msg+"\n" {
		e.t.Fatalf("%s to %s: banner %q, want %q", user, login, got, msg+"\n")
	}
}

// refusedEarlyHTTPS is refusedEarly over the HTTPS upgrade with token.
func (e *testEnv) refusedEarlyHTTPS(hs *httptest.Server, token, login string, auth ...ssh.AuthMethod) string {
	e.t.Helper()
	var rec bannerRecorder
	c, err := e.dialHTTPSConfig(hs, token, &ssh.ClientConfig{
		User: login, Auth: auth, HostKeyCallback: ssh.FixedHostKey(e.hostKey), BannerCallback: rec.callback,
	})
	if err == nil {
		e.t.Fatalf("over https to %q: authentication succeeded, want a refusal", login)
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		e.t.Fatalf("over https to %q: %v, want an authentication failure", login, err)
	}
	_ = c
	return rec.String()
}

// TestRefusedDuringAuthentication: a user who may not reach the target is
// refused while authenticating, by key, by certificate-less retries with
// several keys (the banner comes once) and before any channel can open.
func TestRefusedDuringAuthentication(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	want := `wsgate: workspace "alice-ws" not found or access denied` + "\n"
	if got := e.refusedEarly("bob", "alice-ws"); got != want {
		t.Fatalf("banner %q, want %q", got, want)
	}
	// A client offering more keys after the refusal gets no second banner
	// and no way in.
	var rec bannerRecorder
	_, err := ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
		User: "alice-ws", Auth: []ssh.AuthMethod{ssh.PublicKeys(e.keys["bob"], e.keys["carol"], e.keys["alice"])},
		HostKeyCallback: ssh.FixedHostKey(e.hostKey), BannerCallback: rec.callback,
	})
	if err == nil || rec.String() != want {
		t.Fatalf("bob, carol then alice's key: err %v banner %q", err, rec.String())
	}
	// Missing and forbidden read the same.
	if a, b := e.refusedEarly("bob", "alice/alice-ws"), e.refusedEarly("bob", "alice/nope-ws"); strings.ReplaceAll(a, "alice-ws", "X") != strings.ReplaceAll(b, "nope-ws", "X") {
		t.Fatalf("forbidden %q and missing %q differ", a, b)
	}
	e.share(acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}, acl.SubjectUser, "bob", acl.RoleUse)
	if r := run(t, e.mustDial("bob", "alice-ws"), "echo $WSGATE_USER", nil); r.stdout != "bob\n" {
		t.Fatalf("bob after the share: %+v", r)
	}
}
