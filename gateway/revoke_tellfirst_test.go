package gateway

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/internal/testutil"
)

// TestDropTellsBeforeTeardown: a dropped user sees the reason and the end
// of the connection while the gateway still holds it (a mass drop is
// still telling others: held here by the test); the teardown follows, and
// the workspace has what the user typed before the drop only.
func TestDropTellsBeforeTeardown(t *testing.T) {
	e := newEnv(t)
	ra := e.startAgent("alice/alice-ws")
	rv := e.startRevoker(revoke.Config{})
	w := e.watchEvents(rv)
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	w.sync()

	c := e.mustDial("bob", "alice/alice-ws")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	s.Stderr = stderr
	stdin, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	typed := filepath.Join(ra.dir, "typed")
	if err := s.Start("cat > " + typed); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, "before\n"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "typed before the drop", func() bool {
		b, _ := os.ReadFile(typed)
		return string(b) == "before\n"
	})

	release := e.sessions.HoldTeardown()
	defer release()
	ended := make(chan error, 1)
	go func() { ended <- s.Wait() }() // after stdout and stderr are copied
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's connection outlived the drop")
	}
	if !strings.Contains(stderr.String(), "wsgate: access to alice/alice-ws was revoked") {
		t.Fatalf("stderr %q lacks the reason", stderr.String())
	}
	time.Sleep(100 * time.Millisecond) // a teardown not held would be over by now
	if n := e.sessions.Len(); n != 1 {
		t.Fatalf("%d sessions tracked after the user saw the end; want 1: the teardown waits for the others to be told", n)
	}
	// Never released: the teardown goes ahead after MaxTeardownDelay.
	e.waitNoSessions()
	testutil.Eventually(t, "the workspace's cat ended", func() bool {
		out, _ := os.ReadFile(typed)
		return string(out) == "before\n" && !strings.Contains(e.logs.String(), "panic")
	})
}
