package acl

import (
	"errors"
	"testing"
)

func TestWorkspaceSettingsApply(t *testing.T) {
	base := WorkspaceSettings{}
	for _, tc := range []struct {
		pairs   map[string]string
		want    string // String() of the result
		wantErr bool
	}{
		{nil, "agent-forwarding=off remote-forward-bind=loopback", false},
		{map[string]string{"agent-forwarding": "on"}, "agent-forwarding=on remote-forward-bind=loopback", false},
		{map[string]string{"agent-forwarding": "on", "remote-forward-bind": "any"}, "agent-forwarding=on remote-forward-bind=any", false},
		{map[string]string{"agent-forwarding": "maybe"}, "", true},
		{map[string]string{"remote-forward-bind": "0.0.0.0"}, "", true},
		{map[string]string{"agent-forwarding": "on", "gateway-ports": "yes"}, "", true},
		{map[string]string{"app-allowed-origins": "https://tools.example.com, http://a.test:8080/"},
			"agent-forwarding=off app-allowed-origins=https://tools.example.com,http://a.test:8080 remote-forward-bind=loopback", false},
		{map[string]string{"app-allowed-origins": ""}, "agent-forwarding=off remote-forward-bind=loopback", false},
		{map[string]string{"app-allowed-origins": "https://x.test/path"}, "", true},
		{map[string]string{"app-allowed-origins": "ftp://x.test"}, "", true},
		{map[string]string{"app-allowed-origins": "https://X.test"}, "", true},
		{map[string]string{"app-allowed-origins": "*"}, "", true},
	} {
		got, err := base.Apply(tc.pairs)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Apply(%v) err = %v, want invalid", tc.pairs, err)
			}
			if got != base {
				t.Errorf("Apply(%v) changed settings on error: %+v", tc.pairs, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("Apply(%v) = %q, %v; want %q", tc.pairs, got.String(), err, tc.want)
		}
	}
}

func TestWorkspaceSettingsNarrows(t *testing.T) {
	on := WorkspaceSettings{AgentForwarding: true}
	anyBind := WorkspaceSettings{RemoteForwardBind: BindAny}
	for _, tc := range []struct {
		from, to WorkspaceSettings
		want     bool
	}{
		{WorkspaceSettings{}, on, false},
		{on, WorkspaceSettings{}, true},
		{anyBind, WorkspaceSettings{RemoteForwardBind: BindLoopback}, true},
		{anyBind, WorkspaceSettings{}, true},
		{WorkspaceSettings{}, WorkspaceSettings{RemoteForwardBind: BindLoopback}, false},
		{on, on, false},
	} {
		if got := tc.from.Narrows(tc.to); got != tc.want {
			t.Errorf("%+v.Narrows(%+v) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}
