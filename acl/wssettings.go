package acl

import (
	"sort"
	"strings"
)

// WorkspaceSettings are a workspace's own settings. The zero value is the
// default, and the narrowest: no agent forwarding into a workspace others
// can reach, ssh -R listeners on loopback only.
type WorkspaceSettings struct {
	// AgentForwarding lets users forward their ssh-agent into the
	// workspace even while other users can reach it (and so the socket).
	AgentForwarding bool `json:"agent_forwarding,omitempty"`
	// RemoteForwardBind is where ssh -R listeners bind, like sshd's
	// GatewayPorts: loopback ("" too) or any (the address the client asks
	// for, like GatewayPorts clientspecified).
	RemoteForwardBind RemoteForwardBind `json:"remote_forward_bind,omitempty"`
	// AppAllowedOrigins are origins (scheme://host[:port], comma-separated)
	// besides an app's own whose pages may send signed-in requests to the
	// workspace's apps (wssettings_origins.go). A string, so that settings
	// stay comparable.
	AppAllowedOrigins string `json:"app_allowed_origins,omitempty"`
}

// RemoteForwardBind is the value of WorkspaceSettings.RemoteForwardBind.
type RemoteForwardBind string

const (
	BindLoopback RemoteForwardBind = "loopback"
	BindAny      RemoteForwardBind = "any"
)

// Setting keys as users write them (CLI KEY=VALUE, API bodies).
const (
	SettingAgentForwarding   = "agent-forwarding"
	SettingRemoteForwardBind = "remote-forward-bind"
	SettingAppAllowedOrigins = "app-allowed-origins"
)

// WorkspaceSettingKeys lists the keys, sorted.
var WorkspaceSettingKeys = []string{SettingAgentForwarding, SettingAppAllowedOrigins, SettingRemoteForwardBind}

// BindsAny reports whether ssh -R may bind the address the client asks for.
func (s WorkspaceSettings) BindsAny() bool { return s.RemoteForwardBind == BindAny }

// Normalized spells defaults out ("" becomes loopback), as stored and shown.
func (s WorkspaceSettings) Normalized() WorkspaceSettings {
	if s.RemoteForwardBind == "" {
		s.RemoteForwardBind = BindLoopback
	}
	return s
}

// Validate reports a bad value as an *InvalidError.
func (s WorkspaceSettings) Validate() error {
	if err := validateOrigins(s.AppAllowedOrigins); err != nil {
		return err
	}
	switch s.RemoteForwardBind {
	case "", BindLoopback, BindAny:
		return nil
	}
	return Invalid(SettingRemoteForwardBind, "invalid %s %q: expected loopback or any", SettingRemoteForwardBind, s.RemoteForwardBind)
}

// Narrows reports whether going from s to next takes something away, which
// is when a store emits EventWorkspaceSettingsChanged.
func (s WorkspaceSettings) Narrows(next WorkspaceSettings) bool {
	return (s.AgentForwarding && !next.AgentForwarding) || (s.BindsAny() && !next.BindsAny())
}

// Map is the settings as KEY=VALUE pairs, every key present but
// app-allowed-origins, which is there only when set.
func (s WorkspaceSettings) Map() map[string]string {
	s = s.Normalized()
	m := map[string]string{
		SettingAgentForwarding:   onOff(s.AgentForwarding),
		SettingRemoteForwardBind: string(s.RemoteForwardBind),
	}
	if s.AppAllowedOrigins != "" {
		m[SettingAppAllowedOrigins] = s.AppAllowedOrigins
	}
	return m
}

// String is "key=value key=value", keys sorted.
func (s WorkspaceSettings) String() string {
	m := s.Map()
	parts := make([]string, 0, len(m))
	for _, k := range WorkspaceSettingKeys {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// With returns s with key set to value, or an *InvalidError naming what
// is wrong (unknown key, bad value).
func (s WorkspaceSettings) With(key, value string) (WorkspaceSettings, error) {
	switch key {
	case SettingAgentForwarding:
		switch value {
		case "on", "true", "yes":
			s.AgentForwarding = true
		case "off", "false", "no":
			s.AgentForwarding = false
		default:
			return s, Invalid(key, "invalid %s %q: expected on or off", key, value)
		}
	case SettingRemoteForwardBind:
		s.RemoteForwardBind = RemoteForwardBind(value)
		if err := s.Validate(); err != nil {
			return s, err
		}
	case SettingAppAllowedOrigins:
		s.AppAllowedOrigins = strings.Join(splitOrigins(value), ",")
		if err := validateOrigins(s.AppAllowedOrigins); err != nil {
			return s, err
		}
	default:
		return s, Invalid("key", "unknown workspace setting %q (known: %s)", key, strings.Join(WorkspaceSettingKeys, ", "))
	}
	return s, nil
}

// Apply applies pairs to s in key order, all or none.
func (s WorkspaceSettings) Apply(pairs map[string]string) (WorkspaceSettings, error) {
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := s
	for _, k := range keys {
		var err error
		if out, err = out.With(k, pairs[k]); err != nil {
			return s, err
		}
	}
	return out.Normalized(), nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
