package gateway

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/internal/testutil"
)

// openChannel is one session channel held open without a command; its
// stderr is read until the channel closes.
type openChannel struct {
	user   string
	client *ssh.Client
	stderr []byte
	done   chan struct{}
}

func holdSession(t *testing.T, user string, c *ssh.Client) *openChannel {
	t.Helper()
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatalf("open session as %s: %v", user, err)
	}
	go ssh.DiscardRequests(reqs)
	oc := &openChannel{user: user, client: c, done: make(chan struct{})}
	go func() {
		defer close(oc.done)
		oc.stderr, _ = io.ReadAll(ch.Stderr())
		_, _ = io.Copy(io.Discard, ch)
	}()
	return oc
}

// TestRevokeAmongMany: with 200 live connections from 20 users, revoking
// one user drops exactly that user's 10 connections.
func TestRevokeAmongMany(t *testing.T) {
	const users, perUser = 20, 10
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	rv := e.startRevoker(revoke.Config{})
	w := e.watchEvents(rv)
	for i := range users {
		name := fmt.Sprintf("u%02d", i)
		e.addUser(name)
		e.share(aliceWS, acl.SubjectUser, name, acl.RoleUse)
	}

	var (
		mu    sync.Mutex
		held  []*openChannel
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 8) // below MaxUnauthenticated
		fails = make(chan error, users*perUser)
	)
	for i := range users * perUser {
		name := fmt.Sprintf("u%02d", i%users)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := e.dial(name, "alice/alice-ws")
			if err != nil {
				fails <- err
				return
			}
			oc := holdSession(t, name, c)
			mu.Lock()
			held = append(held, oc)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(fails)
	for err := range fails {
		t.Fatal(err)
	}
	testutil.Eventually(t, "all sessions registered", func() bool { return e.sessions.Len() == users*perUser })

	victim := "u07"
	start := time.Now()
	e.share(aliceWS, acl.SubjectUser, victim, acl.RoleNone)
	w.sync()
	for _, oc := range held {
		if oc.user != victim {
			continue
		}
		select {
		case <-oc.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("a session of %s survived", victim)
		}
		if got, want := string(oc.stderr), "wsgate: access to alice/alice-ws was revoked\r\n"; got != want {
			t.Fatalf("%s stderr %q, want %q", victim, got, want)
		}
	}
	t.Logf("%d sessions of %s dropped %v after the write", perUser, victim, time.Since(start))
	for _, oc := range held {
		if oc.user == victim {
			continue
		}
		select {
		case <-oc.done:
			t.Fatalf("a session of %s was dropped: %q", oc.user, oc.stderr)
		default:
		}
		if _, _, err := oc.client.SendRequest("keepalive@openssh.com", true, nil); err != nil {
			t.Fatalf("connection of %s: %v", oc.user, err)
		}
	}
	// The gateway unregisters a dropped connection once its proxy is done,
	// just after the client saw it close.
	testutil.Eventually(t, "dropped sessions unregistered", func() bool { return e.sessions.Len() == (users-1)*perUser })
	m := scrape(t, e.metrics)
	for series, want := range map[string]string{
		"wsgate_sessions_active":                        fmt.Sprint((users - 1) * perUser),
		`wsgate_revocations_total{reason="revoked"}`:    fmt.Sprint(perUser),
		"wsgate_revoke_drop_seconds_count":              fmt.Sprint(perUser),
		`wsgate_auth_decisions_total{result="allowed"}`: fmt.Sprint(users * perUser),
		`wsgate_auth_decisions_total{result="denied"}`:  "0",
	} {
		if got := m[series]; got != want {
			t.Errorf("%s = %q, want %q", series, got, want)
		}
	}
}

// scrape reads the metrics as /metrics serves them: series -> value.
func scrape(t *testing.T, g prometheus.Gatherer) map[string]string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]string{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}
