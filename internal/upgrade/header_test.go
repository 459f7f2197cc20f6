package upgrade

import (
	"net/http"
	"testing"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		in, token string
		ok        bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer a b", "a b", true},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"Bearer", "", false},
		{"", "", false},
		{"Basic YWJj", "", false},
		{"Bearerabc", "", false},
		{" Bearer abc", "", false},
	} {
		token, ok := BearerToken(tc.in)
		if token != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.in, token, ok, tc.token, tc.ok)
		}
	}
}

func TestRequested(t *testing.T) {
	for _, tc := range []struct {
		name       string
		connection []string
		upgrade    []string
		want       bool
	}{
		{"plain", []string{"Upgrade"}, []string{"p"}, true},
		{"lists and case", []string{"keep-alive, UPGRADE"}, []string{"h2c", " P "}, true},
		{"second value", []string{"keep-alive", "upgrade"}, []string{"x, p"}, true},
		{"no connection", nil, []string{"p"}, false},
		{"connection close", []string{"close"}, []string{"p"}, false},
		{"other protocol", []string{"upgrade"}, []string{"websocket"}, false},
		{"prefix only", []string{"upgrade"}, []string{"p2"}, false},
	} {
		r := &http.Request{Header: http.Header{}}
		for _, v := range tc.connection {
			r.Header.Add("Connection", v)
		}
		for _, v := range tc.upgrade {
			r.Header.Add("Upgrade", v)
		}
		if got := Requested(r, "p"); got != tc.want {
			t.Errorf("%s: Requested = %v, want %v", tc.name, got, tc.want)
		}
	}
}
