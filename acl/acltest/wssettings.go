package acltest

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

func workspaceSettingsCases() []testCase {
	return []testCase{
		{"workspaces/settings_default_set_get", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			got, err := e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "default settings", got.Settings.Normalized(), acl.WorkspaceSettings{RemoteForwardBind: acl.BindLoopback})
			before := got.UpdatedAt

			w := e.watch()
			e.clock.Advance(time.Minute)
			wide := acl.WorkspaceSettings{AgentForwarding: true, RemoteForwardBind: acl.BindAny}
			e.must(e.st.SetWorkspaceSettings(e.ctx, id, wide))
			w.quiet() // widening emits nothing
			got, err = e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "settings", got.Settings, wide)
			if !got.UpdatedAt.After(before) {
				e.t.Fatalf("updated_at not advanced: %v", got.UpdatedAt)
			}
			byUID, err := e.st.GetWorkspaceByUID(e.ctx, e.uid(id))
			e.must(err)
			wantEqual(e.t, "settings by uid", byUID.Settings, wide)

			// Bad input changes nothing.
			wantInvalid(e.t, e.st.SetWorkspaceSettings(e.ctx, id, acl.WorkspaceSettings{RemoteForwardBind: "everywhere"}), "everywhere")
			wantNotFound(e.t, e.st.SetWorkspaceSettings(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"}, wide), "workspace", "alice/nope")
			got, err = e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "settings after refusals", got.Settings, wide)
			w.quiet()
		}},
		{"workspaces/settings_narrowing_events", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			e.must(e.st.SetWorkspaceSettings(e.ctx, id, acl.WorkspaceSettings{AgentForwarding: true, RemoteForwardBind: acl.BindAny}))
			w := e.watch()
			want := acl.Event{Kind: acl.EventWorkspaceSettingsChanged, Workspace: id, WorkspaceUID: e.uid(id)}
			e.clock.Advance(time.Second)
			e.must(e.st.SetWorkspaceSettings(e.ctx, id, acl.WorkspaceSettings{RemoteForwardBind: acl.BindAny}))
			w.expect(want) // agent forwarding off
			e.clock.Advance(time.Second)
			e.must(e.st.SetWorkspaceSettings(e.ctx, id, acl.WorkspaceSettings{RemoteForwardBind: acl.BindLoopback}))
			w.expect(want) // -R back to loopback
			e.must(e.st.SetWorkspaceSettings(e.ctx, id, acl.WorkspaceSettings{}))
			w.quiet() // "" is loopback: nothing narrowed
			got, err := e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "settings", got.Settings.Normalized(), acl.WorkspaceSettings{RemoteForwardBind: acl.BindLoopback})
		}},
		{"workspaces/settings_kept_on_rename_and_create", func(e *env) {
			e.user("alice")
			in := acl.Workspace{Owner: "alice", Name: "ws", Settings: acl.WorkspaceSettings{AgentForwarding: true}}
			e.must(e.st.CreateWorkspace(e.ctx, in))
			wantInvalid(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "bad", Settings: acl.WorkspaceSettings{RemoteForwardBind: "x"}}), "remote-forward-bind")
			e.must(e.st.RenameWorkspace(e.ctx, in.ID(), "ws2"))
			got, err := e.st.GetWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "ws2"})
			e.must(err)
			wantEqual(e.t, "settings after rename", got.Settings, in.Settings)
		}},
	}
}
