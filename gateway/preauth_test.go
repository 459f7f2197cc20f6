package gateway

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/internal/testutil"
)

// TestPreauthPoolsApart: connections holding every pre-auth slot of the
// SSH port do not keep SSH over HTTPS out (it has a pool of its own), and
// the banner deadline frees the slots of clients that never speak.
func TestPreauthPoolsApart(t *testing.T) {
	const perSource = 3
	e := newEnv(t, withSSH(func(c *sshfront.Config) {
		c.Startups = &edge.Limits{PerSource: perSource}
		c.BannerTimeout = 500 * time.Millisecond
	}))
	e.startAgent("alice/alice-ws")
	hs := e.upgradeServer(false)
	token, _ := e.apiToken("alice")

	// Silent clients take the port's slots for 127.0.0.1...
	var silent []net.Conn
	for range perSource {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		silent = append(silent, c)
	}
	testutil.Eventually(t, "slots held", func() bool { return e.srv.Unauthenticated() == perSource })
	// ...so a key login from there is refused before its handshake...
	if _, err := e.dial("alice", "alice-ws"); err == nil {
		t.Fatal("a login beyond the per-source cap got in")
	}
	// ...while SSH over HTTPS, another pool, gets in.
	if r := run(t, e.mustDialHTTPS(hs, token, "alice-ws"), "echo $WSGATE_USER", nil); r.stdout != "alice\n" {
		t.Fatalf("ssh over https while the port is full: %+v", r)
	}
	// The silent clients are cut at the banner deadline, and the port
	// takes logins again.
	start := time.Now()
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 256)
		var err error
		for err == nil {
			_, err = c.Read(b)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("a silent client was not cut within 5s")
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("silent clients cut after %v, want about the 500ms banner timeout", took)
	}
	if r := run(t, e.mustDial("alice", "alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("after the silent clients left: %+v", r)
	}
	if !strings.Contains(e.logs.String(), "refused before authentication") {
		t.Error("the refusal was not logged once")
	}
}
