package acltest

import (
	"context"
	"time"

	"github.com/wsgate/wsgate/acl"
)

func eventCases() []testCase {
	return []testCase{
		{"events/actor_from_context", func(e *env) {
			// A write made with acl.WithActor names its actor; one without
			// leaves Actor empty.
			e.users("alice", "bob")
			id := e.workspace("alice", "ws")
			e.apply(id, acl.GrantChange{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse})
			w := e.watch()
			as := acl.WithActor(e.ctx, "alice")
			e.must(e.st.ApplyGrants(as, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleNone}}))
			w.expect(acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), User: "bob", Actor: "alice"})
			e.must(e.st.SetWorkspaceState(as, id, acl.StateStopped))
			w.expect(acl.Event{Kind: acl.EventWorkspaceStopped, Workspace: id, WorkspaceUID: e.uid(id), Actor: "alice"})
			e.must(e.st.SetUserSuspended(e.ctx, "bob", true))
			w.expect(acl.Event{Kind: acl.EventUserSuspended, User: "bob"})
		}},
		{"events/channel_closes_with_ctx", func(e *env) {
			ctx, cancel := context.WithCancel(e.ctx)
			ch, err := e.st.Subscribe(ctx)
			e.must(err)
			cancel()
			deadline := time.After(eventWait)
			for {
				select {
				case _, ok := <-ch:
					if !ok {
						return
					}
				case <-deadline:
					e.t.Fatal("channel still open after ctx ended")
				}
			}
		}},
		{"events/every_subscriber_sees_every_write", func(e *env) {
			e.user("bob")
			a, b := e.watch(), e.watch()
			e.must(e.st.SetUserSuspended(e.ctx, "bob", true))
			want := acl.Event{Kind: acl.EventUserSuspended, User: "bob"}
			a.expect(want)
			b.expect(want)
		}},
		{"events/slow_subscriber_gets_resync", func(e *env) {
			e.user("bob")
			slow := e.watch()
			// fast reads all along, so it sees the marker written last.
			fast := e.watch()
			sawMarker := make(chan struct{})
			go func() {
				for ev := range fast.ch {
					if ev.Kind == acl.EventSharingDisabled {
						close(sawMarker)
						return
					}
				}
			}()
			n := e.h.EventBuffer + 10
			done := make(chan error, 1)
			go func() {
				for i := 0; i < n; i++ {
					if err := e.st.SetUserSuspended(e.ctx, "bob", true); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			select {
			case err := <-done:
				e.must(err)
			case <-time.After(eventWait):
				e.t.Fatal("writers blocked by a subscriber that does not read")
			}
			// The marker is the last write. Once the reading subscriber has
			// it and slow's buffer is full, slow's reader is dropping.
			e.must(e.st.SetSettings(e.ctx, acl.Settings{SharingDisabled: true}))
			select {
			case <-sawMarker:
			case <-time.After(eventWait):
				e.t.Fatal("marker event never reached the reading subscriber")
			}
			deadline := time.Now().Add(eventWait)
			for len(slow.ch) < cap(slow.ch) {
				if time.Now().After(deadline) {
					e.t.Fatalf("slow subscriber's buffer holds %d of %d", len(slow.ch), cap(slow.ch))
				}
				time.Sleep(time.Millisecond) // polling a buffer with a deadline
			}
			// Reading now, slow gets either every event up to the marker or,
			// having lost some, a resync: never a silent gap. (A backend
			// whose feed is asynchronous may still be catching up, so
			// more than the buffer may arrive before the resync.)
			got := 0
			for settled := false; !settled; {
				switch ev := slow.next(); ev.Kind {
				case acl.EventResync:
					settled = true // events were lost, and slow was told
				case acl.EventSharingDisabled:
					settled = got == n // else events were lost: the resync is owed
				default:
					got++
				}
			}
			// Back in step: the next write reaches it.
			e.must(e.st.SetUserSiteAdmin(e.ctx, "bob", false))
			slow.skipTo(acl.EventSiteAdminRevoked)
		}},
	}
}

// skipTo reads until an event of kind arrives, skipping events of the
// test's earlier writes (suspensions, the marker) that were still in flight
// and resyncs.
func (w *watcher) skipTo(kind acl.EventKind) {
	w.e.t.Helper()
	for {
		ev := w.next()
		if ev.Kind == kind {
			return
		}
		switch ev.Kind {
		case acl.EventResync, acl.EventUserSuspended, acl.EventSharingDisabled:
		default:
			w.e.t.Fatalf("unexpected event %+v while waiting for %s", ev, kind)
		}
	}
}
