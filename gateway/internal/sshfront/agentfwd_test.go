package sshfront

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
)

func TestAgentForwardVerdict(t *testing.T) {
	ws := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	on := acl.WorkspaceSettings{AgentForwarding: true}
	for _, tc := range []struct {
		name      string
		reach     access.Reach
		err       error
		allow     bool
		msgHas    []string // "" msg when nil
		msgAbsent bool
	}{
		{name: "no one else", reach: access.Reach{}, allow: true, msgAbsent: true},
		{name: "no one else, setting on", reach: access.Reach{Settings: on}, allow: true, msgAbsent: true},
		{name: "others, default", reach: access.Reach{Others: 1}, allow: false,
			msgHas: []string{"refused", "1 other user can reach", "wsgate workspaces settings set alice/ws agent-forwarding=on"}},
		{name: "others, allowed", reach: access.Reach{Settings: on, Others: 3}, allow: true,
			msgHas: []string{"forwarded into alice/ws", "3 other users can reach"}},
		{name: "store error", err: errors.New("down"), allow: false, msgHas: []string{"refused", "cannot check"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allow, msg := agentForwardVerdict(ws, tc.reach, tc.err)
			if allow != tc.allow {
				t.Fatalf("allow = %v, want %v (msg %q)", allow, tc.allow, msg)
			}
			if tc.msgAbsent != (msg == "") {
				t.Fatalf("msg = %q", msg)
			}
			for _, s := range tc.msgHas {
				if !strings.Contains(msg, s) {
					t.Fatalf("msg %q lacks %q", msg, s)
				}
			}
		})
	}
}

func TestNarrowBind(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
		narrowed   bool
	}{
		{"localhost", "localhost", false},
		{"127.0.0.1", "127.0.0.1", false},
		{"127.0.0.2", "127.0.0.2", false},
		{"::1", "::1", false},
		{"", "127.0.0.1", true},
		{"*", "127.0.0.1", true},
		{"0.0.0.0", "127.0.0.1", true},
		{"::", "127.0.0.1", true},
		{"192.168.1.5", "127.0.0.1", true},
		{"example.com", "127.0.0.1", true},
	} {
		got, narrowed := narrowBind(tc.addr)
		if got != tc.want || narrowed != tc.narrowed {
			t.Errorf("narrowBind(%q) = %q, %v; want %q, %v", tc.addr, got, narrowed, tc.want, tc.narrowed)
		}
	}
}
