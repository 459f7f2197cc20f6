package sshfront

import (
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		login  string
		suffix string
		want   Target
		bad    bool
	}{
		{login: "alice-ws", suffix: "coder", want: Target{Name: "alice-ws"}},
		{login: "alice-ws.coder", suffix: "coder", want: Target{Name: "alice-ws"}},
		{login: "alice/alice-ws", suffix: "coder", want: Target{Owner: "alice", Name: "alice-ws"}},
		{login: "alice/alice-ws.coder", suffix: "coder", want: Target{Owner: "alice", Name: "alice-ws"}},
		{login: "alice--alice-ws", suffix: "coder", want: Target{Owner: "alice", Name: "alice-ws"}},
		{login: "alice--alice-ws.coder", suffix: "coder", want: Target{Owner: "alice", Name: "alice-ws"}},
		{login: "bob--ws2.ws.example", suffix: "ws.example", want: Target{Owner: "bob", Name: "ws2"}},
		{login: "a--b", suffix: "coder", want: Target{Owner: "a", Name: "b"}},
		// Only the configured suffix is tolerated.
		{login: "alice-ws.other", suffix: "coder", bad: true},
		{login: "alice-ws.coder", suffix: "other", bad: true},
		// Only once.
		{login: "alice-ws.coder.coder", suffix: "coder", bad: true},
		{login: "", suffix: "coder", bad: true},
		{login: ".coder", suffix: "coder", bad: true},
		{login: "/alice-ws", suffix: "coder", bad: true},
		{login: "alice/", suffix: "coder", bad: true},
		{login: "--alice-ws", suffix: "coder", bad: true},
		{login: "alice--", suffix: "coder", bad: true},
		{login: "alice---ws", suffix: "coder", bad: true},
		{login: "alice--bob--ws", suffix: "coder", bad: true},
		{login: "alice/bob/ws", suffix: "coder", bad: true},
		{login: "alice/bob--ws", suffix: "coder", bad: true},
		{login: "Alice-WS", suffix: "coder", bad: true},
		{login: "alice ws", suffix: "coder", bad: true},
		{login: "alice-ws\x1b[2J", suffix: "coder", bad: true},
		{login: "root", suffix: "coder", want: Target{Name: "root"}},
		{login: "abcdefghijklmnopqrstuvwxyz0123456", suffix: "coder", bad: true}, // 33 chars
	}
	for _, tt := range tests {
		t.Run(tt.login+"|"+tt.suffix, func(t *testing.T) {
			got, err := ParseTarget(tt.login, tt.suffix)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseTarget(%q) = %+v, want an error", tt.login, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.login, err)
			}
			if got != tt.want {
				t.Fatalf("ParseTarget(%q) = %+v, want %+v", tt.login, got, tt.want)
			}
		})
	}
}

func TestTargetString(t *testing.T) {
	if s := (Target{Name: "x"}).String(); s != "x" {
		t.Errorf("bare: %q", s)
	}
	if s := (Target{Owner: "o", Name: "x"}).String(); s != "o/x" {
		t.Errorf("qualified: %q", s)
	}
}

func TestValidSuffix(t *testing.T) {
	for _, s := range []string{"coder", "ws.example", "a1.b-c"} {
		if err := validSuffix(s); err != nil {
			t.Errorf("validSuffix(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", ".coder", "coder.", "a..b", "Coder", "a_b"} {
		if err := validSuffix(s); err == nil {
			t.Errorf("validSuffix(%q) accepted", s)
		}
	}
}
