package acltest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/wsgate/wsgate/acl"
)

// agentPub is a made-up authorized_keys line; the store does not parse keys.
func agentPub(n int) string { return fmt.Sprintf("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%043d", n) }

// enrolled makes alice/ws with agent token hash "h1" and enrols key 1.
func (e *env) enrolled() acl.Workspace {
	e.t.Helper()
	e.user("alice")
	e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "h1"}))
	ws, err := e.st.EnrolAgent(e.ctx, "h1", agentPub(1))
	e.must(err)
	return ws
}

func (e *env) agentKey(uid string) acl.AgentKey {
	e.t.Helper()
	k, err := e.st.GetAgentKey(e.ctx, uid)
	e.must(err)
	return k
}

func agentKeyCases() []testCase {
	return []testCase{
		{"agentkeys/enrol_consumes_token_and_pins", func(e *env) {
			ws := e.enrolled()
			wantEqual(e.t, "workspace", ws.ID().String(), "alice/ws")
			wantEqual(e.t, "token hash after enrolment", ws.AgentTokenHash, "")
			_, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "h1")
			wantNotFound(e.t, err, "agent token", err.(*acl.NotFoundError).Name)
			_, err = e.st.EnrolAgent(e.ctx, "h1", agentPub(2))
			if !errors.Is(err, acl.ErrNotFound) {
				e.t.Fatalf("second enrolment with a consumed token: %v, want not found", err)
			}
			k := e.agentKey(ws.UID)
			wantEqual(e.t, "pinned", k.PublicKey, agentPub(1))
			wantEqual(e.t, "revoked", k.Revoked, false)
			if k.PinnedAt.IsZero() {
				e.t.Fatal("PinnedAt not set")
			}
		}},
		{"agentkeys/never_enrolled_is_zero", func(e *env) {
			id := e.workspace(func() string { e.user("bob"); return "bob" }(), "ws")
			w, err := e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			k := e.agentKey(w.UID)
			wantEqual(e.t, "key", k, acl.AgentKey{WorkspaceUID: w.UID})
			_, err = e.st.GetAgentKey(e.ctx, acl.NewID())
			if !errors.Is(err, acl.ErrNotFound) {
				e.t.Fatalf("unknown uid: %v, want not found", err)
			}
		}},
		{"agentkeys/enrol_refuses_bad_key", func(e *env) {
			e.user("alice")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "h1"}))
			for _, bad := range []string{"", "ssh-ed25519", "ssh-ed25519 AAAA comment", "ssh-ed25519 AA\nAA"} {
				_, err := e.st.EnrolAgent(e.ctx, "h1", bad)
				wantInvalid(e.t, err, "public key")
			}
			if _, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "h1"); err != nil {
				e.t.Fatalf("a refused enrolment consumed the token: %v", err)
			}
		}},
		{"agentkeys/exposure_set", func(e *env) {
			ws := e.enrolled()
			e.users("bob", "carol")
			for _, u := range []string{"carol", "bob", "carol"} {
				e.must(e.st.NoteAgentExposure(e.ctx, ws.UID, u))
			}
			wantEqual(e.t, "exposed", e.agentKey(ws.UID).Exposed, []string{"bob", "carol"})
			list, err := e.st.ListAgentKeys(e.ctx)
			e.must(err)
			wantEqual(e.t, "listed", len(list), 1)
			wantEqual(e.t, "listed exposed", list[0].Exposed, []string{"bob", "carol"})
			if err := e.st.NoteAgentExposure(e.ctx, acl.NewID(), "bob"); !errors.Is(err, acl.ErrNotFound) {
				e.t.Fatalf("exposure on an unknown workspace: %v", err)
			}
		}},
		{"agentkeys/exposure_concurrent", func(e *env) {
			ws := e.enrolled()
			var users []string
			for i := range 8 {
				u := fmt.Sprintf("u%d", i)
				e.user(u)
				users = append(users, u)
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(users))
			for _, u := range users {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- e.st.NoteAgentExposure(e.ctx, ws.UID, u) }()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				e.must(err)
			}
			wantEqual(e.t, "exposed", e.agentKey(ws.UID).Exposed, users)
		}},
		{"agentkeys/replace_is_compare_and_swap", func(e *env) {
			ws := e.enrolled()
			e.user("bob")
			e.must(e.st.NoteAgentExposure(e.ctx, ws.UID, "bob"))
			wantConflict(e.t, e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(9), agentPub(2), nil), "agent key")
			wantEqual(e.t, "after a lost swap", e.agentKey(ws.UID).PublicKey, agentPub(1))
			wantEqual(e.t, "exposure kept after a lost swap", e.agentKey(ws.UID).Exposed, []string{"bob"})
			e.must(e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(1), agentPub(2), nil))
			k := e.agentKey(ws.UID)
			wantEqual(e.t, "replaced", k.PublicKey, agentPub(2))
			wantEqual(e.t, "exposure cleared", len(k.Exposed), 0)
			wantInvalid(e.t, e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(2), "bad", nil), "public key")
		}},
		{"agentkeys/replace_keeps_given_exposure", func(e *env) {
			ws := e.enrolled()
			e.users("bob", "carol")
			e.must(e.st.NoteAgentExposure(e.ctx, ws.UID, "bob"))
			e.must(e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(1), agentPub(2), []string{"carol", "bob", "carol"}))
			wantEqual(e.t, "exposed", e.agentKey(ws.UID).Exposed, []string{"bob", "carol"})
		}},
		{"agentkeys/revoke_then_reenrol", func(e *env) {
			ws := e.enrolled()
			e.must(e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(1), "", nil))
			k := e.agentKey(ws.UID)
			wantEqual(e.t, "revoked", k.Revoked, true)
			wantEqual(e.t, "key", k.PublicKey, "")
			list, err := e.st.ListAgentKeys(e.ctx)
			e.must(err)
			wantEqual(e.t, "a revoked key is listed", len(list), 1)
			// The owner hands out a new token: the revocation is over, and
			// the new agent enrols.
			e.must(e.st.SetAgentTokenHash(e.ctx, ws.ID(), "h2"))
			wantEqual(e.t, "after a new token", e.agentKey(ws.UID), acl.AgentKey{WorkspaceUID: ws.UID})
			_, err = e.st.EnrolAgent(e.ctx, "h2", agentPub(3))
			e.must(err)
			k = e.agentKey(ws.UID)
			wantEqual(e.t, "re-enrolled", k.PublicKey, agentPub(3))
			wantEqual(e.t, "not revoked", k.Revoked, false)
		}},
		{"agentkeys/new_token_unpins", func(e *env) {
			ws := e.enrolled()
			e.user("bob")
			e.must(e.st.NoteAgentExposure(e.ctx, ws.UID, "bob"))
			e.must(e.st.SetAgentTokenHash(e.ctx, ws.ID(), "h2"))
			wantEqual(e.t, "after a new token", e.agentKey(ws.UID), acl.AgentKey{WorkspaceUID: ws.UID})
			wantConflict(e.t, e.st.ReplaceAgentKey(e.ctx, ws.UID, agentPub(1), agentPub(2), nil), "agent key")
		}},
		{"agentkeys/delete_workspace_forgets", func(e *env) {
			ws := e.enrolled()
			e.must(e.st.DeleteWorkspace(e.ctx, ws.ID()))
			if _, err := e.st.GetAgentKey(e.ctx, ws.UID); !errors.Is(err, acl.ErrNotFound) {
				e.t.Fatalf("key of a deleted workspace: %v", err)
			}
			list, err := e.st.ListAgentKeys(e.ctx)
			e.must(err)
			wantEqual(e.t, "listed", len(list), 0)
		}},
		{"agentkeys/survive_reopen", func(e *env) {
			ws := e.enrolled()
			e.user("bob")
			e.must(e.st.NoteAgentExposure(e.ctx, ws.UID, "bob"))
			e.st = e.h.Reopen(e.t, e.st, e.clock.Now)
			k := e.agentKey(ws.UID)
			wantEqual(e.t, "key", k.PublicKey, agentPub(1))
			wantEqual(e.t, "exposed", k.Exposed, []string{"bob"})
		}},
	}
}
