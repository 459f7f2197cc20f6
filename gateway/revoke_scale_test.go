package gateway

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
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
	rv := e.startRevoker(RevokerConfig{})
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
	eventually(t, "all sessions registered", func() bool { return e.srv.reg.len() == users*perUser })

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
	if n := e.srv.reg.len(); n != (users-1)*perUser {
		t.Fatalf("%d sessions registered, want %d", n, (users-1)*perUser)
	}
}
