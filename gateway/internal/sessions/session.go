// Package sessions is a gateway's live-session registry: every proxied SSH
// connection and app request, indexed by everything a revocation can name,
// each with a context that dropping cancels with the reason.
package sessions

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Info describes one live connection proxied to a workspace.
type Info struct {
	ID string
	acl.Identity
	// Workspace is the workspace's name as it was when the session opened,
	// for messages and logs.
	Workspace acl.WorkspaceID
	// WorkspaceUID is the workspace's immutable ID: what the session is
	// indexed by, so that a rename keeps it and a re-created workspace of
	// the same name is another.
	WorkspaceUID string
	RemoteAddr   string
	Started      time.Time
	// AppPort is the workspace port of an app request; zero for SSH.
	AppPort uint16
}

// Dropped is the cause a dropped session's context is cancelled with: the
// line its user is shown, without the "wsgate: " prefix.
type Dropped struct{ Message string }

func (d *Dropped) Error() string { return d.Message }

// DropMessage returns the message of a session dropped through Drop, from
// its context; false when ctx was not cancelled by a drop.
func DropMessage(ctx context.Context) (string, bool) {
	var d *Dropped
	if errors.As(context.Cause(ctx), &d) {
		return d.Message, true
	}
	return "", false
}

// Session is one live connection and what revocation needs to know of it.
// Its owner (the SSH proxy, the app proxy) watches Context and ends the
// connection when it is cancelled, then calls End.
type Session struct {
	Info Info

	ctx    context.Context
	cancel context.CancelCauseFunc
	// gen is the access invalidation count the session was authorized
	// under: a later count means an event may have passed it by.
	gen        uint64
	validUntil atomic.Int64 // unix nanoseconds, 0 for never
	dropping   atomic.Bool
	ended      chan struct{}
	endOnce    atomic.Bool
	reg        atomic.Pointer[Registry] // set by Track

	// mu guards the drop's hold on teardowns and the AfterEnd callbacks.
	mu       sync.Mutex
	told     func()   // set by Cut: releases its hold on teardowns
	toldDone bool     // Told or End came: Cut holds nothing
	onEnd    []func() // AfterEnd's, run by End
	endRan   bool     // End ran them: later ones run at once
}

// New returns a session authorized under invalidation count gen, whose
// access expires at validUntil (zero: never). Its context is a child of
// parent.
func New(parent context.Context, info Info, gen uint64, validUntil time.Time) *Session {
	ctx, cancel := context.WithCancelCause(parent)
	s := &Session{Info: info, ctx: ctx, cancel: cancel, gen: gen, ended: make(chan struct{})}
	s.SetValidUntil(validUntil)
	return s
}

// Context is cancelled when the session is dropped (cause *Dropped) or
// ended.
func (s *Session) Context() context.Context { return s.ctx }

// SetValidUntil records when the access the session rests on expires.
func (s *Session) SetValidUntil(t time.Time) {
	if t.IsZero() {
		s.validUntil.Store(0)
		return
	}
	s.validUntil.Store(t.UnixNano())
}

// ValidUntil is when the session's access expires, zero for never.
func (s *Session) ValidUntil() time.Time {
	n := s.validUntil.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Dropping reports whether the session was Cut (or Dropped).
func (s *Session) Dropping() bool { return s.dropping.Load() }

// Drop ends the session with msg for its user (Cut), and waits, at most
// wait, for the owner to End it; it reports whether it was the first.
func (s *Session) Drop(msg string, wait time.Duration) bool {
	if !s.Cut(msg) {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.ended:
	case <-t.C:
	}
	return true
}

// Cut starts ending the session with msg for its user, without waiting:
// only the first call does anything, and reports true. It cancels the
// context with *Dropped{msg}; until the owner says it Told the user (or
// Ends), the teardown of other dropped sessions waits (AwaitTeardown).
func (s *Session) Cut(msg string) bool {
	if !s.dropping.CompareAndSwap(false, true) {
		return false
	}
	if reg := s.reg.Load(); reg != nil {
		s.mu.Lock()
		if !s.toldDone {
			s.told = reg.HoldTeardown()
		}
		s.mu.Unlock()
	}
	s.cancel(&Dropped{Message: msg})
	return true
}

// Told says the owner of a dropped session is done with its user: told
// why and, within the bound, seen the user close (Registry.AwaitUserClose).
// The teardown of other dropped sessions need not wait for it any longer.
func (s *Session) Told() {
	s.mu.Lock()
	release := s.told
	s.told, s.toldDone = nil, true
	s.mu.Unlock()
	if release != nil {
		release()
	}
}

// Done is closed once the owner has ended the session.
func (s *Session) Done() <-chan struct{} { return s.ended }

// End says the owner has finished with the connection.
func (s *Session) End() {
	if s.endOnce.CompareAndSwap(false, true) {
		s.cancel(context.Canceled)
		close(s.ended)
		s.Told()
		s.mu.Lock()
		fs := s.onEnd
		s.onEnd, s.endRan = nil, true
		s.mu.Unlock()
		for _, f := range fs {
			f()
		}
	}
}

// AfterEnd runs f on the owner's goroutine once it has ended the session,
// or here at once when it has: a wait for hundreds of drops at once costs
// no goroutine and no timer each. f must not block.
func (s *Session) AfterEnd(f func()) {
	s.mu.Lock()
	if !s.endRan {
		s.onEnd = append(s.onEnd, f)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	f()
}
